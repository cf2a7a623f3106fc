"""Event-loop lag probe for the benchmark (`scripts/bench`); never shipped with the integration.

Loaded as a custom integration only by the bench's temporary Home Assistant config
(`ocpp_bench_probe: {file: ...}`). The bare central system of the benchmark uses the same
`LagProbe`, so both sides are measured the same way: a task sleeps `interval` seconds over
and over, and how much later than asked it wakes up is the loop's lag. Once a second the
lags are appended to a JSON-lines file by a writer thread (the loop never touches the disk),
with (in Home Assistant) the running count of state writes, so the bench can tell how many
states one message wrote, the time spent in the garbage collector, how many full
collections ran and how many unreachable objects (reference cycles) they freed. When the bench
creates `<file>.collect`, the probe runs a full collection and writes the number of objects
the collector tracks to `<file>.collect.done` (memory is then read without the garbage
that happened to be waiting for the next collection). Started with `PYTHONTRACEMALLOC=<n>`,
it also dumps a tracemalloc snapshot next to the file at each such request, to find where the
memory is (`tracemalloc.Snapshot.load(...).compare_to(...)`).

For the smart charging benchmark it also plays the grid meter: `POST /api/ocpp_bench_probe/states`
with `{"states": {entity_id: [state, attributes]}}` sets those states (as a meter integration
would) and answers the wall-clock time just before the first one was set, so the bench can
time the reaction from the state change to the profile at the charger. No authentication:
the bench's Home Assistant listens on 127.0.0.1 only and is thrown away after the run.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import gc
import json
import logging
import os
import sys
import threading
import time
import traceback
import tracemalloc
from typing import Any

import voluptuous as vol

DOMAIN = "ocpp_bench_probe"
TICK = 0.05  # s


class LagProbe:
    """Measure how late a periodic sleep wakes up; append the lags to a file."""

    def __init__(self, path: str, interval: float = TICK, *, watchdog: bool = False) -> None:
        """Write to `path` (one JSON line a second: wall time and the lags in ms).

        `watchdog`: also record the loop thread's stack whenever it stalls (a diagnostic
        for finding what blocks the loop; the bench turns it on with --stalls).
        """
        self.path = path
        self.interval = interval
        self.watchdog = watchdog
        self._beat = 0.0
        self._gc_start = 0.0
        self._gc_ms = 0.0  # time spent in the cyclic garbage collector since the last line
        self._gc_max_ms = 0.0
        self._gc_full = 0  # full (generation 2) collections since the last line
        self._gc_collected = 0  # unreachable objects the collector freed since the last line
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lag-probe")
        self.state_writes = 0  # counted by Home Assistant's state_changed listener

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start:
            spent = (time.perf_counter() - self._gc_start) * 1000
            self._gc_ms += spent
            self._gc_max_ms = max(self._gc_max_ms, spent)
            self._gc_collected += info["collected"]
            self._gc_full += info["generation"] == 2

    def _collect(self, request: str) -> None:
        """Collect garbage (on purpose in the loop: memory is read right after), count
        the objects the collector tracks, and acknowledge by removing the request."""
        started = time.perf_counter()
        unreachable = gc.collect()
        objects = len(gc.get_objects())
        if tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(f"{request}.{int(time.time())}.snapshot")
        line = json.dumps(
            {
                "t": time.time(),
                "collected": unreachable,
                "tracked_objects": objects,
                "collect_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )
        self._writer.submit(self._append, line)
        self._writer.submit(self._acknowledge, request, objects)

    @staticmethod
    def _acknowledge(request: str, objects: int) -> None:
        with open(request + ".done", "w", encoding="utf-8") as file:
            file.write(str(objects))
        os.remove(request)

    def _append(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")

    def _watchdog(self, loop_thread: int, stop: threading.Event) -> None:
        """From a thread: when the loop has not ticked for 4 intervals, record what it runs."""
        reported = 0.0
        while not stop.wait(0.02):
            stalled = time.monotonic() - self._beat
            if stalled > 4 * self.interval and self._beat != reported:
                frame = sys._current_frames().get(loop_thread)
                if frame is None:
                    continue
                reported = self._beat
                stack = "".join(traceback.format_stack(frame)[-12:])
                others = {
                    str(ident): "".join(traceback.format_stack(other)[-4:])
                    for ident, other in sys._current_frames().items()
                    if ident not in (loop_thread, threading.get_ident())
                    and other.f_code.co_name not in ("wait", "_worker", "select", "poll", "get")
                }
                self._append(
                    json.dumps(
                        {
                            "t": time.time(),
                            "stall_ms": round(stalled * 1000),
                            "gc_ms": round(self._gc_ms, 1),
                            "stack": stack,
                            "threads": others,
                        }
                    )
                )

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        self._beat = time.monotonic()
        stop = threading.Event()
        gc.callbacks.append(self._gc)
        if self.watchdog:
            threading.Thread(
                target=self._watchdog, args=(threading.get_ident(), stop), daemon=True
            ).start()
        lags: list[float] = []
        flush_at = time.monotonic() + 1.0
        # The bench asks for a full collection (then reads RSS) by creating this file.
        request = self.path + ".collect"
        collect: asyncio.Future[bool] | None = None
        try:
            while True:
                start = loop.time()
                await asyncio.sleep(self.interval)
                lags.append(round(max(loop.time() - start - self.interval, 0.0) * 1000, 2))
                self._beat = time.monotonic()
                if time.monotonic() >= flush_at:
                    flush_at += 1.0
                    line = json.dumps(
                        {
                            "t": time.time(),
                            "lags_ms": lags,
                            "state_writes": self.state_writes,
                            "gc_ms": round(self._gc_ms, 1),
                            "gc_max_ms": round(self._gc_max_ms, 1),
                            "gc_full": self._gc_full,
                            "gc_collected": self._gc_collected,
                        }
                    )
                    lags = []
                    self._gc_ms = self._gc_max_ms = 0.0
                    self._gc_full = self._gc_collected = 0
                    loop.run_in_executor(self._writer, self._append, line)
                    if collect is None:
                        collect = loop.run_in_executor(self._writer, os.path.exists, request)
                    elif collect.done():
                        if collect.result():
                            self._collect(request)
                        collect = None
        finally:
            gc.callbacks.remove(self._gc)
            stop.set()
            self._writer.shutdown(wait=False)


CONFIG_SCHEMA = vol.Schema(
    {DOMAIN: vol.Schema({vol.Required("file"): str, vol.Optional("stalls", default=False): bool})},
    extra=vol.ALLOW_EXTRA,
)


async def async_setup(hass: Any, config: dict[str, Any]) -> bool:
    """Start the probe for as long as Home Assistant runs."""
    from homeassistant.const import EVENT_STATE_CHANGED
    from homeassistant.core import callback

    probe = LagProbe(config[DOMAIN]["file"], watchdog=config[DOMAIN].get("stalls", False))
    # OCPP_BENCH_DEBUG=logger1,logger2 in the bench's environment: those log at debug level.
    for name in filter(None, os.environ.get("OCPP_BENCH_DEBUG", "").split(",")):
        logging.getLogger(name).setLevel(logging.DEBUG)

    @callback
    def _count(event: Any) -> None:
        probe.state_writes += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, _count)
    hass.async_create_background_task(probe.run(), f"{DOMAIN} lag probe")
    hass.http.register_view(_states_view())
    return True


def _states_view() -> Any:
    """The view that plays the grid meter (HA is imported here: the bare central system
    imports this module for its lag probe only)."""
    from aiohttp import web
    from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

    class StatesView(HomeAssistantView):
        """Set sensor states as a meter integration would; answer when (wall clock)."""

        url = "/api/ocpp_bench_probe/states"
        name = "api:ocpp_bench_probe:states"
        requires_auth = False

        async def post(self, request: Any) -> Any:
            """{"states": {entity_id: [state, attributes]}} -> {"t": before the first set}."""
            body = await request.json()
            hass = request.app[KEY_HASS]
            started = time.time()
            for entity_id, (state, attributes) in body["states"].items():
                hass.states.async_set(entity_id, state, attributes)
            return web.json_response({"t": started})

    return StatesView()
