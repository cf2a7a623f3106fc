"""Benchmark the integration inside a real Home Assistant against a bare `ocpp` central system
and a framework-free one.

    python -m simulator.bench [--quick]        (or scripts/bench)

Three kinds of process, never sharing one:

- the server under test: `hass -c <temporary config>` with ocpp_central (symlinked from this
  repo, a pre-written config entry that accepts new chargers and every id tag) and the
  `ocpp_bench_probe` helper integration measuring event-loop lag; or the bare central system
  (`python -m simulator.bench bare`): an `ocpp.v16.ChargePoint` per connection with handlers
  for BootNotification, Heartbeat, StatusNotification, MeterValues (and Authorize/Start/Stop
  so the same client can run against both), with the library's default settings, and the same
  lag probe; or the framework-free central system (`python -m simulator.bench free`,
  bench_free.py: websockets + json + schema checks compiled once), the floor of the product's
  budget on server CPU per message (bench_cpu.py reports it), with the same lag probe;
- the load client (`python -m simulator.bench client`): OCPP 1.6 chargers over loopback. Each
  boots, reports Charging, starts a transaction and then sends MeterValues with 10 sampled
  values (rising energy, power, current and voltage per phase, SoC, offered current), framed
  with the `ocpp` library's message classes. It connects 10, then 50, 100 and 200 chargers,
  each sending one MeterValues a second (fixed rate, random phase), and finally runs a
  closed loop (every charger sends its next message as soon as the previous one is answered)
  for the maximum throughput;
- this orchestrator, which starts and stops the others, reads RSS from /proc/<pid>/status
  and writes the report.

Everything talks to 127.0.0.1 only, and every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import math
import os
from pathlib import Path
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any
import uuid

from .bench_cpu import cpu_lines, cpu_summary

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PHASES = (10, 50, 100, 200)
BENCH_ENTRY_ID = "01BENCHOCPPCENTRAL000000000"
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"

# --------------------------------------------------------------------------------------
# /proc helpers
# --------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident set size of a process, KiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def collected_rss(pid: int, probe_file: str | None) -> tuple[int, int | None]:
    """RSS (KiB) of the server after asking its probe for a full garbage collection, and
    the number of objects its collector tracks (None when the probe did not answer).

    The few file operations here are tiny and the client is idle while it waits.
    """
    objects = None
    if probe_file:
        request = Path(probe_file + ".collect")
        done = Path(probe_file + ".collect.done")
        done.unlink(missing_ok=True)  # noqa: ASYNC240
        request.write_text("")  # noqa: ASYNC240
        for _ in range(100):  # bounded: 20 s
            await asyncio.sleep(0.2)
            if done.exists() and not request.exists():  # noqa: ASYNC240
                with contextlib.suppress(ValueError):
                    objects = int(done.read_text())  # noqa: ASYNC240
                break
        request.unlink(missing_ok=True)  # noqa: ASYNC240
    return rss_kib(pid), objects


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (values need not be sorted)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    """Whether a socket listens on the TCP port (read from /proc: no connection is made,
    so the server under test does not log a failed handshake)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float) -> None:
    """Wait until the server listens on the port (or its process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        if listening(port):
            return
        time.sleep(0.5)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


# --------------------------------------------------------------------------------------
# The load client (its own process)
# --------------------------------------------------------------------------------------

# What the client answers when the central system calls it (HA reads the configuration).
_ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {
        "configurationKey": [
            {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "1"},
            {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core,SmartCharging"},
        ]
    },
    "GetLocalListVersion": {"listVersion": 0},
    "GetDiagnostics": {},
    "UpdateFirmware": {},
}


class LoadCharger:
    """One lightweight charger: raw websocket, ocpp message classes, one call at a time."""

    def __init__(self, charger_id: str, seed: int) -> None:
        """Meter and car state for realistic, changing readings."""
        from .ev import Car, Meter

        rng = random.Random(seed)
        self.charger_id = charger_id
        self.meter = Meter(rng, energy_wh=round(rng.uniform(100_000, 2_000_000)))
        # A big battery that never fills during the run: readings keep moving.
        self.car = Car(
            capacity_kwh=1000.0, soc=rng.uniform(20, 40), target_soc=100.0, max_current=16.0
        )
        self.transaction_id: int | None = None
        self.websocket: Any = None
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, url: str) -> None:
        """Open the websocket and start reading."""
        from websockets.asyncio.client import connect

        self.websocket = await connect(
            f"{url}/{self.charger_id}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            compression=None,  # as (almost) every real charger
            ping_interval=None,
            open_timeout=60,
            close_timeout=2,
            max_queue=None,
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Close the websocket."""
        if self.websocket is not None:
            await self.websocket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read(self) -> None:
        from ocpp.messages import Call, MessageType, unpack
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in self.websocket:
                msg = unpack(frame)
                if msg.message_type_id == MessageType.Call:
                    assert isinstance(msg, Call)
                    answer = _ANSWERS.get(msg.action, {"status": "Accepted"})
                    await self.websocket.send(msg.create_call_result(answer).to_json())
                elif (
                    future := self._pending.pop(msg.unique_id, None)
                ) is not None and not future.done():
                    future.set_result(msg)
        except ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))

    async def call(
        self, action: str, payload: dict[str, Any], timeout: float = 30
    ) -> dict[str, Any]:
        """Send a Call; return the CallResult payload (raise on CallError or timeout)."""
        from ocpp.messages import Call, MessageType

        msg = Call(uuid.uuid4().hex, action, payload)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg.unique_id] = future
        try:
            await self.websocket.send(msg.to_json())
            async with asyncio.timeout(timeout):
                answer = await future
        finally:
            self._pending.pop(msg.unique_id, None)
        if answer.message_type_id != MessageType.CallResult:
            raise RuntimeError(f"{action}: {answer.error_code} {answer.error_description}")
        return answer.payload  # type: ignore[no-any-return]

    async def setup(self) -> None:
        """Boot (until Accepted), plug in, start a transaction."""
        from .ev import now_iso

        for _ in range(30):
            answer = await self.call(
                "BootNotification",
                {
                    "chargePointVendor": "Bench",
                    "chargePointModel": "Load 11kW",
                    "chargePointSerialNumber": self.charger_id,
                    "firmwareVersion": "1.0",
                },
            )
            if answer["status"] == "Accepted":
                break
            await asyncio.sleep(1)
        else:
            raise RuntimeError(f"{self.charger_id}: boot not accepted")
        for status in ("Preparing", "Charging"):
            await self.call(
                "StatusNotification",
                {
                    "connectorId": 1,
                    "errorCode": "NoError",
                    "status": status,
                    "timestamp": now_iso(),
                },
            )
        answer = await self.call(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "BENCH0001",
                "meterStart": round(self.meter.energy_wh),
                "timestamp": now_iso(),
            },
        )
        self.transaction_id = answer["transactionId"]

    def meter_values(self) -> dict[str, Any]:
        """The next MeterValues payload: one second of charging later."""
        self.meter.charge(self.car, 16.0, 1.0)
        return {
            "connectorId": 1,
            "transactionId": self.transaction_id,
            "meterValue": [self.meter.meter_value_16(self.car)],
        }


@dataclass(slots=True)
class Window:
    """A measurement window, on the monotonic clock and on the wall clock."""

    start: float
    end: float

    @property
    def wall(self) -> tuple[float, float]:
        """The window in wall-clock time (for the lag files)."""
        offset = time.time() - time.monotonic()
        return (self.start + offset, self.end + offset)


class Recorder:
    """Latencies of calls answered inside a window, and CPU/RSS of the server over it."""

    def __init__(self, window: Window, server_pid: int) -> None:
        """Measure the server process `server_pid` during `window`."""
        self.window = window
        self.server_pid = server_pid
        self.latencies: list[float] = []
        self.errors = 0
        self.usage: dict[str, float] = {}

    def record(self, sent: float, received: float) -> None:
        """A call answered at `received` (monotonic) that was sent at `sent`."""
        if self.window.start <= received < self.window.end:
            self.latencies.append(received - sent)

    async def watch(self) -> None:
        """Read CPU use of server and client at the window's edges."""
        await asyncio.sleep(max(0.0, self.window.start - time.monotonic()))
        server0, client0, t0 = cpu_seconds(self.server_pid), time.process_time(), time.monotonic()
        await asyncio.sleep(max(0.0, self.window.end - time.monotonic()))
        elapsed = time.monotonic() - t0
        server_cpu = cpu_seconds(self.server_pid) - server0
        self.usage = {
            "server_cpu_s": server_cpu,
            "server_cpu_pct": 100 * server_cpu / elapsed,
            "client_cpu_pct": 100 * (time.process_time() - client0) / elapsed,
            "server_rss_kib": rss_kib(self.server_pid),
        }

    def result(self, name: str, chargers: int) -> dict[str, Any]:
        """Summary of the window."""
        wall_start, wall_end = self.window.wall
        lat_ms = [x * 1000 for x in self.latencies]
        duration = self.window.end - self.window.start
        return {
            "name": name,
            "chargers": chargers,
            "window": [wall_start, wall_end],
            "messages": len(lat_ms),
            "errors": self.errors,
            "msgs_per_s": len(lat_ms) / duration,
            "p50_ms": percentile(lat_ms, 50),
            "p99_ms": percentile(lat_ms, 99),
            "max_ms": max(lat_ms) if lat_ms else float("nan"),
            "mean_ms": statistics.fmean(lat_ms) if lat_ms else float("nan"),
            **self.usage,
        }


async def _rate_load(
    chargers: list[LoadCharger], recorder: Recorder, period: float, stop_at: float
) -> None:
    """Every charger sends one MeterValues per `period`, at its own random phase."""

    async def one(charger: LoadCharger, offset: float) -> None:
        next_send = time.monotonic() + offset
        while next_send < stop_at:
            await asyncio.sleep(max(0.0, next_send - time.monotonic()))
            sent = time.monotonic()
            try:
                await charger.call("MeterValues", charger.meter_values())
            except Exception:
                recorder.errors += 1
            else:
                recorder.record(sent, time.monotonic())
            next_send += period
            # A late answer does not make the charger burst to catch up.
            next_send = max(next_send, time.monotonic())

    rng = random.Random(1)
    await asyncio.gather(*(one(c, rng.uniform(0, period)) for c in chargers))


async def _closed_load(chargers: list[LoadCharger], recorder: Recorder, stop_at: float) -> None:
    """Every charger sends its next MeterValues as soon as the last one is answered."""

    async def one(charger: LoadCharger) -> None:
        while time.monotonic() < stop_at:
            sent = time.monotonic()
            try:
                await charger.call("MeterValues", charger.meter_values())
            except Exception:
                recorder.errors += 1
                await asyncio.sleep(0.1)
            else:
                recorder.record(sent, time.monotonic())

    await asyncio.gather(*(one(c) for c in chargers))


async def client_main(args: argparse.Namespace) -> dict[str, Any]:
    """Run the load plan against a server; return the measurements."""
    url = f"ws://127.0.0.1:{args.port}"
    pid = args.server_pid
    phases = [int(n) for n in args.phases.split(",")]
    rss, objects = await collected_rss(pid, args.probe_file)
    out: dict[str, Any] = {
        "rss_baseline_kib": rss,
        "objects_baseline": objects,
        "phases": [],
        "connect_s": {},
    }
    chargers: list[LoadCharger] = []
    try:
        for count in phases:
            started = time.monotonic()
            new = [LoadCharger(f"BENCH{n:04d}", n) for n in range(len(chargers) + 1, count + 1)]
            for i in range(0, len(new), 20):  # 20 handshakes at a time
                batch = new[i : i + 20]
                await asyncio.gather(*(c.connect(url) for c in batch))
                await asyncio.gather(*(c.setup() for c in batch))
                chargers.extend(batch)
            out["connect_s"][count] = round(time.monotonic() - started, 2)
            print(f"  {count} chargers connected ({out['connect_s'][count]} s)", file=sys.stderr)
            await asyncio.sleep(args.settle)
            now = time.monotonic()
            window = Window(now + args.warmup, now + args.warmup + args.measure)
            recorder = Recorder(window, pid)
            await asyncio.gather(
                recorder.watch(), _rate_load(chargers[:count], recorder, 1.0, window.end)
            )
            result = recorder.result(f"{count} chargers x 1/s", count)
            out["phases"].append(result)
            print(
                f"  {result['name']}: {result['msgs_per_s']:.0f} msg/s, p50 {result['p50_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu_pct']:.0f}%",
                file=sys.stderr,
            )
        out["rss_connected_kib"], out["objects_connected"] = await collected_rss(
            pid, args.probe_file
        )
        out["connected"] = len(chargers)
        if args.max_chargers:
            active = chargers[: args.max_chargers]
            await asyncio.sleep(args.settle)
            now = time.monotonic()
            window = Window(now + args.warmup, now + args.warmup + args.max_measure)
            recorder = Recorder(window, pid)
            await asyncio.gather(recorder.watch(), _closed_load(active, recorder, window.end))
            result = recorder.result(
                f"max throughput ({len(active)} chargers, closed loop)", len(active)
            )
            out["phases"].append(result)
            print(
                f"  {result['name']}: {result['msgs_per_s']:.0f} msg/s, p50 {result['p50_ms']:.1f} ms, "
                f"p99 {result['p99_ms']:.1f} ms, server CPU {result['server_cpu_pct']:.0f}%, "
                f"client CPU {result['client_cpu_pct']:.0f}%",
                file=sys.stderr,
            )
            out["rss_end_kib"], _ = await collected_rss(pid, args.probe_file)
    finally:
        await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return out


# --------------------------------------------------------------------------------------
# The bare central system (its own process)
# --------------------------------------------------------------------------------------


async def bare_main(args: argparse.Namespace) -> None:
    """An `ocpp`-library central system with library defaults, until SIGTERM."""
    import itertools

    import ocpp.messages
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    from .ocpp_bench_probe import LagProbe

    if args.sync_validation:
        ocpp.messages.ASYNC_VALIDATION = False
    transaction_ids = itertools.count(1)

    def now() -> str:
        return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    class BareChargePoint(ChargePoint):
        @on(Action.boot_notification)
        def on_boot(self, **kwargs: Any) -> Any:
            return call_result.BootNotification(
                current_time=now(), interval=300, status=RegistrationStatus.accepted
            )

        @on(Action.heartbeat)
        def on_heartbeat(self, **kwargs: Any) -> Any:
            return call_result.Heartbeat(current_time=now())

        @on(Action.status_notification)
        def on_status(self, **kwargs: Any) -> Any:
            return call_result.StatusNotification()

        @on(Action.meter_values)
        def on_meter_values(self, **kwargs: Any) -> Any:
            return call_result.MeterValues()

        @on(Action.authorize)
        def on_authorize(self, **kwargs: Any) -> Any:
            return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

        @on(Action.start_transaction)
        def on_start(self, **kwargs: Any) -> Any:
            return call_result.StartTransaction(
                transaction_id=next(transaction_ids),
                id_tag_info={"status": AuthorizationStatus.accepted},
            )

        @on(Action.stop_transaction)
        def on_stop(self, **kwargs: Any) -> Any:
            return call_result.StopTransaction()

    async def handler(websocket: Any) -> None:
        charge_point = BareChargePoint(websocket.request.path.strip("/"), websocket)
        with contextlib.suppress(ConnectionClosed):
            await charge_point.start()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    probe = asyncio.create_task(LagProbe(args.lag_file).run())
    async with serve(handler, "127.0.0.1", args.port, subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
        await stop.wait()
    probe.cancel()


# --------------------------------------------------------------------------------------
# Home Assistant under test
# --------------------------------------------------------------------------------------


def write_ha_config(
    config: Path,
    ocpp_port: int,
    http_port: int,
    lag_file: Path,
    stalls: bool = False,
    integration: Path = REPO / "custom_components" / "ocpp_central",
    options: dict[str, Any] | None = None,
) -> None:
    """A minimal HA config: the integration (accepting every charger and tag) and the probe;
    `options` are added to the entry's (the smart charging scenario's site settings)."""
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "ocpp_central").symlink_to(integration)
    (config / "custom_components" / "ocpp_bench_probe").symlink_to(
        REPO / "simulator" / "ocpp_bench_probe"
    )
    (config / "configuration.yaml").write_text(
        "homeassistant:\n"
        "  name: OCPP bench\n"
        "  time_zone: UTC\n"
        "  unit_system: metric\n"
        "  latitude: 59.33\n"
        "  longitude: 18.07\n"
        "  elevation: 0\n"
        "  currency: EUR\n"
        "  country: SE\n"
        "http:\n"
        "  server_host: 127.0.0.1\n"
        f"  server_port: {http_port}\n"
        "logger:\n"
        "  default: warning\n"
        "ocpp_bench_probe:\n"
        f"  file: {lag_file}\n"
        f"  stalls: {'true' if stalls else 'false'}\n"
    )
    now = datetime.now(UTC).isoformat()
    entry: dict[str, Any] = {
        "created_at": now,
        "data": {"host": "127.0.0.1", "port": ocpp_port},
        "discovery_keys": {},
        "disabled_by": None,
        "domain": "ocpp_central",
        "entry_id": BENCH_ENTRY_ID,
        "minor_version": 1,
        "modified_at": now,
        "options": {"new_chargers": "accept", "id_tag_policy": "accept_all", **(options or {})},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": "OCPP Central System",
        "unique_id": None,
        "version": 1,
    }
    storage = config / ".storage"
    storage.mkdir()
    (storage / "core.config_entries").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 5,
                "key": "core.config_entries",
                "data": {"entries": [entry]},
            },
            indent=2,
        )
    )


@dataclass
class Server:
    """A running server under test."""

    name: str
    proc: subprocess.Popen[Any]
    port: int
    lag_file: Path
    log: Path
    http_port: int = 0

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a minute."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_ha(
    workdir: Path,
    stalls: bool = False,
    integration: Path | None = None,
    options: dict[str, Any] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> Server:
    """Start `hass` on a fresh config (`options` go into the entry, `prepare` may add to the
    config); return when the OCPP port listens."""
    config = workdir / "ha-config"
    port, http_port = free_port(), free_port()
    lag_file = workdir / "lag-ha.jsonl"
    write_ha_config(
        config,
        port,
        http_port,
        lag_file,
        stalls,
        integration or REPO / "custom_components" / "ocpp_central",
        options,
    )
    if prepare is not None:
        prepare(config)
    log = workdir / "ha.out"
    proc = subprocess.Popen(
        [str(VENV_BIN / "hass"), "-c", str(config), "--skip-pip"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
        start_new_session=True,
    )
    server = Server("Home Assistant + ocpp_central", proc, port, lag_file, log, http_port)
    try:
        wait_port(port, proc, 240)
    except Exception:
        server.stop()
        raise
    return server


# The central systems without Home Assistant, each run as `python -m simulator.bench <mode>`.
REFERENCE_TARGETS = {
    "bare": "bare ocpp",
    "bare-sync": "bare ocpp (in-thread validation)",
    "free": "framework-free (websockets + json + fastjsonschema)",
}


def start_reference(workdir: Path, target: str) -> Server:
    """Start one of the REFERENCE_TARGETS (the bare central systems or the framework-free one)."""
    port = free_port()
    lag_file = workdir / f"lag-{target}.jsonl"
    log = workdir / f"{target}.out"
    mode = "free" if target == "free" else "bare"
    cmd = [
        sys.executable,
        "-m",
        "simulator.bench",
        mode,
        "--port",
        str(port),
        "--lag-file",
        str(lag_file),
    ]
    if target == "bare-sync":
        cmd.append("--sync-validation")
    proc = subprocess.Popen(
        cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
    )
    server = Server(REFERENCE_TARGETS[target], proc, port, lag_file, log)
    try:
        wait_port(port, proc, 60)
    except Exception:
        server.stop()
        raise
    return server


def lag_stats(lag_file: Path, window: tuple[float, float]) -> dict[str, float]:
    """Event-loop lag p50/p99/max (ms) of the ticks inside a wall-clock window, the
    garbage collector's longest pause, full collections and freed cyclic garbage in it, and
    the state writes per second over it (Home Assistant only)."""
    lags: list[float] = []
    writes: list[tuple[float, int]] = []
    gc_max = 0.0
    gc_full = gc_collected = 0
    if lag_file.exists():
        for line in lag_file.read_text().splitlines():
            with contextlib.suppress(ValueError, KeyError):
                item = json.loads(line)
                # Each line holds the ticks of the second that ended at t: take every
                # line whose second overlaps the window.
                if window[0] < item["t"] < window[1] + 1:
                    lags.extend(item["lags_ms"])
                    if "state_writes" in item:
                        writes.append((item["t"], item["state_writes"]))
                    gc_max = max(gc_max, item.get("gc_max_ms", 0.0))
                    gc_full += item.get("gc_full", 0)
                    gc_collected += item.get("gc_collected", 0)
    nan = float("nan")
    stats = {
        "lag_p50_ms": percentile(lags, 50) if lags else nan,
        "lag_p99_ms": percentile(lags, 99) if lags else nan,
        "lag_max_ms": max(lags) if lags else nan,
        "state_writes_per_s": nan,
        "gc_max_ms": gc_max,
        "gc_full": gc_full,
        "gc_collected": gc_collected,
    }
    if len(writes) >= 2 and writes[-1][0] > writes[0][0]:
        stats["state_writes_per_s"] = (writes[-1][1] - writes[0][1]) / (
            writes[-1][0] - writes[0][0]
        )
    return stats


def run_client(server: Server, plan: argparse.Namespace, timeout: float) -> dict[str, Any]:
    """Run the load client process against a server; return its measurements."""
    cmd = [
        sys.executable,
        "-m",
        "simulator.bench",
        "client",
        "--port",
        str(server.port),
        "--server-pid",
        str(server.proc.pid),
        "--phases",
        ",".join(str(n) for n in plan.phases),
        "--warmup",
        str(plan.warmup),
        "--measure",
        str(plan.measure),
        "--max-measure",
        str(plan.max_measure),
        "--max-chargers",
        str(plan.max_chargers),
        "--settle",
        str(plan.settle),
        "--probe-file",
        str(server.lag_file),
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, stdout=subprocess.PIPE, timeout=timeout, check=False, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load client failed ({proc.returncode}) against {server.name}")
    result: dict[str, Any] = json.loads(proc.stdout)
    for phase in result["phases"]:
        phase.update(lag_stats(server.lag_file, tuple(phase["window"])))
    return result


def profile_start(server: Server, out: Path, seconds: int) -> subprocess.Popen[Any] | None:
    """Sample the server with py-spy (installed into the venv on first use)."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        subprocess.run(
            [
                str(VENV_BIN / "uv"),
                "pip",
                "install",
                "-q",
                "--python",
                sys.executable,
                "py-spy==0.4.3",
            ],
            check=True,
        )
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "-p",
            str(server.proc.pid),
            "-o",
            str(out),
            "-f",
            "raw",
            "-d",
            str(seconds),
            "-r",
            "200",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarize_profile(raw: Path, top: int = 30) -> str:
    """Top functions by inclusive and by own samples from py-spy's collapsed stacks."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    lines = [f"{total} samples", "", "inclusive:"]
    lines += [
        f"{100 * n / total:5.1f}%  {f}"
        for f, n in sorted(inclusive.items(), key=lambda x: -x[1])[:top]
    ]
    lines += ["", "own:"]
    lines += [
        f"{100 * n / total:5.1f}%  {f}" for f, n in sorted(own.items(), key=lambda x: -x[1])[:top]
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("homeassistant", "ocpp", "websockets"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "load": load,
    }


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def report(
    results: dict[str, dict[str, Any]], info: dict[str, str], plan: argparse.Namespace, label: str
) -> str:
    """The markdown block written into docs/performance.md."""
    ha = results.get("ha")
    bare = results.get("bare")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        BEGIN,
        f"### {label}" if label else "### Latest run",
        "",
        f"Run {when}{' (--quick)' if plan.quick else ''}: `{info['cpu']}`, {info['cores']} cores, "
        f"Python {info['python']}, {info['os']}; {info['versions']}. Load average at the start: "
        f"{info['load']} (the machine is shared: other processes ran at the same time, so compare "
        "the two columns of one run rather than runs with each other).",
        "",
        f"Each rate row: {plan.warmup} s warm-up, then {plan.measure} s measured; max throughput: "
        f"{plan.max_chargers} chargers in a closed loop, {plan.max_measure} s measured. Latency is "
        "from sending MeterValues (10 sampled values) to receiving its CallResult, at the client. "
        "Loop lag: how late a 50 ms timer inside the server fires (p99 / max), and the longest "
        "pause of Python's garbage collector in the window. Full GCs: full collections in the "
        "window; cyclic garbage: objects only the collector could free (reference cycles), per "
        "message; they decide how often full collections run. States written: "
        "state_changed events per MeterValues (the probe counts them; last_seen and "
        "session_duration change at most once a minute, so nearly all of them are readings).",
        "",
        "| load | HA msg/s | HA p50 ms | HA p99 ms | HA loop lag p99 / max / GC pause max ms | HA CPU % "
        "| HA full GCs / cyclic garbage per msg | HA states written / msg | bare msg/s | bare p50 ms | bare p99 ms | bare CPU % "
        "| p99 HA/bare | msg/s HA/bare |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    phases_ha = ha["phases"] if ha else []
    phases_bare = bare["phases"] if bare else []
    for i in range(max(len(phases_ha), len(phases_bare))):
        h = phases_ha[i] if i < len(phases_ha) else None
        b = phases_bare[i] if i < len(phases_bare) else None
        name = (h or b or {}).get("name", "?")
        cells = [name]
        if h:
            cells += [
                _fmt(h["msgs_per_s"], 0),
                _fmt(h["p50_ms"]),
                _fmt(h["p99_ms"]),
                f"{_fmt(h['lag_p99_ms'])} / {_fmt(h['lag_max_ms'])} / {_fmt(h['gc_max_ms'], 0)}",
                _fmt(h["server_cpu_pct"], 0),
                f"{h['gc_full']} / "
                + (_fmt(h["gc_collected"] / h["messages"]) if h["messages"] else "–"),
                _fmt(h["state_writes_per_s"] / h["msgs_per_s"]) if h["msgs_per_s"] else "–",
            ]
        else:
            cells += ["–"] * 7
        if b:
            cells += [
                _fmt(b["msgs_per_s"], 0),
                _fmt(b["p50_ms"]),
                _fmt(b["p99_ms"]),
                _fmt(b["server_cpu_pct"], 0),
            ]
        else:
            cells += ["–"] * 4
        if h and b:
            cells += [
                f"{h['p99_ms'] / b['p99_ms']:.2f}" if b["p99_ms"] else "–",
                f"{h['msgs_per_s'] / b['msgs_per_s']:.2f}" if b["msgs_per_s"] else "–",
            ]
        else:
            cells += ["–", "–"]
        if (h and h["errors"]) or (b and b["errors"]):
            cells[0] += f" ({(h or {}).get('errors', 0)}/{(b or {}).get('errors', 0)} errors)"
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    if cpu := cpu_lines(results):
        out += [*cpu, ""]
    for key, result in (("HA", ha), ("bare", bare), ("free", results.get("free"))):
        if result and result.get("connected"):
            delta = result["rss_connected_kib"] - result["rss_baseline_kib"]
            objects = ""
            if result.get("objects_baseline") and result.get("objects_connected"):
                per = (result["objects_connected"] - result["objects_baseline"]) / result[
                    "connected"
                ]
                objects = (
                    f" The garbage collector tracks {result['objects_baseline'] / 1e6:.2f} M objects "
                    f"before, {result['objects_connected'] / 1e6:.2f} M after ({per:.0f} per charger)."
                )
            end = ""
            if result.get("rss_end_kib"):
                end_delta = result["rss_end_kib"] - result["rss_baseline_kib"]
                end = (
                    f" At the end of the run (after the max-throughput step): "
                    f"{result['rss_end_kib'] / 1024:.0f} MiB, "
                    f"{end_delta / result['connected']:.0f} KiB per charger."
                )
            out.append(
                f"- {key}: RSS {result['rss_baseline_kib'] / 1024:.0f} MiB before any charger, "
                f"{result['rss_connected_kib'] / 1024:.0f} MiB with {result['connected']} connected "
                f"(each read right after a full garbage collection): "
                f"**{delta / result['connected']:.0f} KiB per charger**.{end}{objects}"
            )
    if ha:
        out.append(
            "- HA: connecting (and, on first sight, adding) the chargers took "
            + ", ".join(f"{n}: {s} s" for n, s in ha["connect_s"].items())
            + " (cumulative steps)."
        )
    for extra in results.get("extra", []):
        out.append(f"- {extra}")
    out.append("")
    out.append(END)
    return "\n".join(out)


def write_report(block: str, path: Path, markers: tuple[str, str] = (BEGIN, END)) -> None:
    """Replace the block between the markers in `path` (append it if there is none)."""
    begin, end = markers
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def orchestrate(args: argparse.Namespace) -> int:
    """Run the plan against HA and the central systems without it; report."""
    if args.quick:
        args.warmup, args.measure, args.max_measure, args.settle = 1.5, 5, 6, 0.5
    info = machine()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, load {info['load']}"
    )
    plan_seconds = (
        len(args.phases) * (args.settle + args.warmup + args.measure)
        + args.max_measure
        + args.warmup
    )
    client_timeout = plan_seconds + 600
    results: dict[str, Any] = {"extra": []}
    workdir = Path(tempfile.mkdtemp(prefix="ocpp-bench-"))
    targets = [t for t in ("ha", *REFERENCE_TARGETS) if t in args.targets]
    try:
        for target in targets:
            print(f"{target}: starting")
            started = time.monotonic()
            if target == "ha":
                server = start_ha(workdir, args.stalls, args.integration)
                time.sleep(3 if args.quick else 5)  # HA keeps loading after the port is bound
            else:
                server = start_reference(workdir, target)
                time.sleep(1)
            print(
                f"{target}: listening after {time.monotonic() - started:.1f} s (pid {server.proc.pid})"
            )
            spy = None
            if args.profile and target == "ha":
                spy = profile_start(server, workdir / "ha-profile.txt", int(plan_seconds + 120))
            try:
                result = run_client(server, args, client_timeout)
            finally:
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        spy.wait(30)
                server.stop()
            if target == "bare-sync":
                best = max(result["phases"], key=lambda p: p["msgs_per_s"])
                results["extra"].append(
                    f"bare ocpp with in-thread validation (ASYNC_VALIDATION off): "
                    f"{best['msgs_per_s']:.0f} msg/s at max throughput, p99 {best['p99_ms']:.0f} ms."
                )
            results[target] = result
            if spy is not None and (workdir / "ha-profile.txt").exists():
                summary = summarize_profile(workdir / "ha-profile.txt")
                Path(args.profile).write_text(summary)
                print(f"profile summary: {args.profile}")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    block = report(results, info, args, args.label)
    print()
    print(block)
    if not args.no_write:
        write_report(block, REPO / args.output)
        print(f"\nwritten to {args.output}")
    ha = results.get("ha")
    bare = results.get("bare")
    if ha and bare:
        h, b = ha["phases"][-1], bare["phases"][-1]
        print(f"max throughput HA/bare: {h['msgs_per_s'] / b['msgs_per_s']:.2f}")
    for line in cpu_summary(results):
        print(line)
    return 0


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """Command line (orchestrator, or one of the `client` / `bare` subprocesses)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "client":
        parser = argparse.ArgumentParser(prog="simulator.bench client")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--server-pid", type=int, required=True)
        parser.add_argument("--phases", default=",".join(map(str, PHASES)))
        parser.add_argument("--warmup", type=float, default=5)
        parser.add_argument("--measure", type=float, default=30)
        parser.add_argument("--max-measure", type=float, default=20)
        parser.add_argument("--max-chargers", type=int, default=100)
        parser.add_argument("--settle", type=float, default=2)
        parser.add_argument("--probe-file", help="the server's lag probe file (for collections)")
        args = parser.parse_args(argv[1:])
        args.mode = "client"
        return args
    if argv and argv[0] in ("bare", "free"):
        parser = argparse.ArgumentParser(prog=f"simulator.bench {argv[0]}")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--lag-file", required=True)
        if argv[0] == "bare":
            parser.add_argument("--sync-validation", action="store_true")
        args = parser.parse_args(argv[1:])
        args.mode = argv[0]
        return args
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark ocpp_central in a real Home Assistant against central systems without it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="short windows: done in under two minutes"
    )
    parser.add_argument(
        "--smart",
        action="store_true",
        help="the smart charging scenario instead (10 chargers, a grid meter, overloads)",
    )
    parser.add_argument(
        "--phases", default=",".join(map(str, PHASES)), help="charger counts at 1 msg/s each"
    )
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds before each measured window"
    )
    parser.add_argument("--measure", type=float, default=30, help="measured seconds per rate step")
    parser.add_argument(
        "--max-measure", type=float, default=20, help="measured seconds of the max-throughput run"
    )
    parser.add_argument(
        "--max-chargers", type=int, default=100, help="chargers in the max-throughput run (0: skip)"
    )
    parser.add_argument("--settle", type=float, default=2, help="pause after connecting chargers")
    parser.add_argument(
        "--targets",
        default="ha,bare,free",
        help="comma-separated: ha, bare, bare-sync (bare with the library's in-thread "
        "validation), free (websockets + json + fastjsonschema, no framework)",
    )
    parser.add_argument(
        "--integration",
        type=Path,
        help="another copy of custom_components/ocpp_central to run (A/B comparisons)",
    )
    parser.add_argument("--output", default="docs/performance.md", help="markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="only print the table")
    parser.add_argument("--label", default="", help="heading of the written block")
    parser.add_argument(
        "--profile", help="sample HA with py-spy during the run; write a summary here"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (logs, lag files)"
    )
    parser.add_argument(
        "--ledger",
        type=int,
        default=0,
        metavar="N",
        help="instead: what a stored history of N sessions costs at HA's start (bench_ledger)",
    )
    parser.add_argument(
        "--ledger-rounds", type=int, default=3, help="starts of HA per variant with --ledger"
    )
    parser.add_argument(
        "--stalls",
        action="store_true",
        help="record HA's stack whenever its loop stalls (in the lag file; use --keep)",
    )
    args = parser.parse_args(argv)
    args.phases = [int(n) for n in args.phases.split(",")]
    args.targets = args.targets.split(",")
    if unknown := set(args.targets) - {"ha", *REFERENCE_TARGETS}:
        parser.error(f"--targets: unknown {', '.join(sorted(unknown))}")
    if not all(1 <= n <= 1000 for n in args.phases) or args.phases != sorted(args.phases):
        parser.error("--phases: increasing charger counts, 1..1000")
    args.mode = "orchestrate"
    return args


def main(argv: Iterable[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if getattr(args, "smart", False):
        from .bench_smart import orchestrate_smart

        return orchestrate_smart(args)
    if args.mode == "client":
        result = asyncio.run(client_main(args))
        print(json.dumps(result))
        return 0
    if args.mode == "bare":
        asyncio.run(bare_main(args))
        return 0
    if args.mode == "free":
        from .bench_free import free_main  # only this process needs fastjsonschema

        asyncio.run(free_main(args))
        return 0
    if args.ledger:
        from .bench_ledger import run  # only this mode needs the core: imported here

        return run(args.ledger, args.ledger_rounds, None if args.no_write else Path(args.output))
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
