"""Server CPU per message at the benchmark's max-throughput step, for every target that ran,
and the product budget on it: Home Assistant with the integration at most 2x the CPU per
message of the framework-free central system (simulator/bench_free.py) in the same run.

CPU per message is the server's CPU seconds (user + system, all threads, read from /proc at
the window's edges) over the messages answered inside the window.
"""

from __future__ import annotations

import math
from typing import Any

# Result keys of the orchestrator, in report order, and their labels.
TARGETS = {
    "ha": "HA + ocpp_central",
    "bare": "bare ocpp",
    "bare-sync": "bare ocpp (in-thread validation)",
    "free": "framework-free",
}
BUDGET = 2.0  # HA / framework-free, server CPU per message (docs/performance.md)


def max_step(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The max-throughput (closed loop) step of a target's result, if it ran."""
    steps = [p for p in (result or {}).get("phases", []) if p["name"].startswith("max throughput")]
    return steps[-1] if steps else None


def cpu_per_message_ms(step: dict[str, Any]) -> float:
    """Server CPU milliseconds per message answered in the step's window."""
    if not step["messages"]:
        return math.nan
    return 1000 * float(step["server_cpu_s"]) / int(step["messages"])


def cpu_ratio(results: dict[str, Any]) -> float | None:
    """HA's server CPU per message over the framework-free one's (None: either missing)."""
    ha, free = max_step(results.get("ha")), max_step(results.get("free"))
    if ha is None or free is None:
        return None
    ha_ms, free_ms = cpu_per_message_ms(ha), cpu_per_message_ms(free)
    if math.isnan(ha_ms) or math.isnan(free_ms) or free_ms <= 0:
        return None
    return ha_ms / free_ms


def _fmt(value: float, digits: int) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _verdict(ratio: float) -> str:
    return f"budget ≤ {BUDGET:.0f}×: {'met' if ratio <= BUDGET else 'MISSED'}"


def cpu_lines(results: dict[str, Any]) -> list[str]:
    """Markdown for the report: one row per target at max throughput, and the ratio."""
    steps = [
        (label, step) for key, label in TARGETS.items() if (step := max_step(results.get(key)))
    ]
    if not steps:
        return []
    out = [
        "Max throughput, every target: server CPU per message is the server's CPU seconds "
        "over the messages answered in the window.",
        "",
        "| target | msg/s | p99 ms | loop lag p99 ms | server CPU % | server CPU per msg ms |",
        "|---|---|---|---|---|---|",
    ]
    for label, step in steps:
        cells = [
            label,
            _fmt(step["msgs_per_s"], 0),
            _fmt(step["p99_ms"], 1),
            _fmt(step.get("lag_p99_ms", math.nan), 1),
            _fmt(step["server_cpu_pct"], 0),
            _fmt(cpu_per_message_ms(step), 3),
        ]
        out.append("| " + " | ".join(cells) + " |")
    if (ratio := cpu_ratio(results)) is not None:
        out += [
            "",
            f"Server CPU per message HA / framework-free: **{ratio:.2f}×** ({_verdict(ratio)}).",
        ]
    return out


def cpu_summary(results: dict[str, Any]) -> list[str]:
    """Plain lines for the end of the orchestrator's output."""
    out = []
    for key, label in TARGETS.items():
        if step := max_step(results.get(key)):
            out.append(
                f"max throughput {label}: {step['msgs_per_s']:.0f} msg/s, "
                f"server CPU {_fmt(cpu_per_message_ms(step), 3)} ms per message"
            )
    if (ratio := cpu_ratio(results)) is not None:
        out.append(f"server CPU per message HA/framework-free: {ratio:.2f} ({_verdict(ratio)})")
    return out
