"""What a full session history costs when Home Assistant starts: `scripts/bench --ledger N`.

Measured, never asserted by a timed test:
- in this process: decoding a stored ledger of N sessions and building it (core.ledger_bench);
- in a real Home Assistant, started on a fresh config whose ledger store holds N sessions,
  and on the same config with no sessions, alternately, `rounds` times each: the time from
  starting `hass` until the OCPP port listens (the ledger loads before the server starts),
  the integration's own load time (from its debug log line), the event loop's longest lag
  while starting, and memory once started (RSS after a full collection).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import json
from pathlib import Path
import re
import shutil
import statistics
import tempfile
import time
from typing import Any

from custom_components.ocpp_central.core.ledger_bench import bench_load, sample_ledger_data
from custom_components.ocpp_central.core.ledger_record import LEDGER_VERSION

from .bench import (
    BENCH_ENTRY_ID,
    REPO,
    collected_rss,
    lag_stats,
    machine,
    start_ha,
    write_report,
)

MARKERS = ("<!-- bench-ledger:begin -->", "<!-- bench-ledger:end -->")
LOADED = re.compile(r"Loaded (\d+) sessions \((\d+) skipped\) in ([0-9.]+) s")
SETTLE = 5.0  # s after the port listens: Home Assistant keeps loading its defaults


def _prepare(data: dict[str, Any] | None) -> Any:
    """Adds the ledger's debug log line and (with data) a ledger store to a fresh config."""

    def prepare(config: Path) -> None:
        yaml = config / "configuration.yaml"
        yaml.write_text(
            yaml.read_text().replace(
                "logger:\n  default: warning\n",
                "logger:\n  default: warning\n  logs:\n"
                "    custom_components.ocpp_central.session_ledger: debug\n",
            )
        )
        if data is not None:
            key = f"ocpp_central.{BENCH_ENTRY_ID}.sessions"
            stored = {"version": LEDGER_VERSION, "minor_version": 1, "key": key, "data": data}
            (config / ".storage" / key).write_text(json.dumps(stored))

    return prepare


def _one_start(workdir: Path, data: dict[str, Any] | None) -> dict[str, float]:
    began_wall, began = time.time(), time.monotonic()
    server = start_ha(workdir, prepare=_prepare(data))
    try:
        listening_s = time.monotonic() - began
        time.sleep(SETTLE)
        rss_kib, _ = asyncio.run(collected_rss(server.proc.pid, str(server.lag_file)))
        lag = lag_stats(server.lag_file, (began_wall, time.time()))
    finally:
        server.stop()
    match = LOADED.search(server.log.read_text())
    return {
        "listening_s": listening_s,
        "ledger_load_s": float(match.group(3)) if match else float("nan"),
        "sessions": float(match.group(1)) if match else float("nan"),
        "lag_max_ms": lag["lag_max_ms"],
        "rss_mib": rss_kib / 1024,
    }


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def run(sessions: int, rounds: int, output: Path | None) -> int:
    """Measure, print the block, and write it into `output` (unless None)."""
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, load {info['load']}")
    core = bench_load(sessions)
    print(f"core: {json.dumps(core)}")
    data = sample_ledger_data(sessions, datetime.now(UTC))  # all within the three years
    results: dict[str, list[dict[str, float]]] = {"empty": [], "full": []}
    workdir = Path(tempfile.mkdtemp(prefix="ocpp-bench-ledger-"))
    try:
        for number in range(rounds):
            for name, stored in (("empty", None), ("full", data)):
                run_dir = workdir / f"{name}-{number}"
                run_dir.mkdir()
                result = _one_start(run_dir, stored)
                print(f"{name} #{number + 1}: {json.dumps(result)}")
                results[name].append(result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    block = _report(sessions, rounds, core, results, info)
    print()
    print(block)
    if output is not None:
        write_report(block, REPO / output, MARKERS)
        print(f"\nwritten to {output}")
    return 0


def _report(
    sessions: int,
    rounds: int,
    core: dict[str, float],
    results: dict[str, list[dict[str, float]]],
    info: dict[str, str],
) -> str:
    empty, full = results["empty"], results["full"]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("time until the OCPP port listens", "listening_s", "s", 2),
        ("the ledger's own load (log line)", "ledger_load_s", "s", 3),
        ("longest event-loop lag while starting", "lag_max_ms", "ms", 0),
        ("memory once started (RSS after a full GC)", "rss_mib", "MiB", 1),
    ]
    out = [
        MARKERS[0],
        f"Run {when}: `{info['cpu']}`, {info['cores']} cores, load {info['load']} at the start. "
        f"{sessions:,} stored sessions (3 h each at 15-minute prices, "
        f"{core['json_bytes'] / 1e6:.1f} MB of JSON); medians of {rounds} starts each, "
        "alternating.",
        "",
        f"In one process: decoding {core['json_decode_s']:.3f} s, building the ledger "
        f"{core['from_dict_s']:.3f} s.",
        "",
        f"| Home Assistant start | no sessions | {sessions:,} sessions | cost |",
        "|---|---|---|---|",
    ]
    for label, key, unit, digits in rows:
        before, after = _median(empty, key), _median(full, key)
        out.append(
            f"| {label} | {before:.{digits}f} {unit} | {after:.{digits}f} {unit} "
            f"| {after - before:+.{digits}f} {unit} |"
        )
    out.append(MARKERS[1])
    return "\n".join(out)
