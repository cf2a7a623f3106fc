"""Event-loop lag probe for the benchmark (`scripts/bench`); never shipped with the integration.

Loaded as a custom integration only by the bench's temporary Home Assistant config
(`ocpp_bench_probe: {file: ...}`). The bare central system of the benchmark uses the same
`LagProbe`, so both sides are measured the same way: a task sleeps `interval` seconds over
and over, and how much later than asked it wakes up is the loop's lag. Once a second the
lags are appended to a JSON-lines file by a writer thread (the loop never touches the disk),
with (in Home Assistant) the running count of state writes, so the bench can tell how many
states one message wrote.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
import time
from typing import Any

import voluptuous as vol

DOMAIN = "ocpp_bench_probe"
TICK = 0.05  # s


class LagProbe:
    """Measure how late a periodic sleep wakes up; append the lags to a file."""

    def __init__(self, path: str, interval: float = TICK) -> None:
        """Write to `path` (one JSON line a second: wall time and the lags in ms)."""
        self.path = path
        self.interval = interval
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lag-probe")
        self.state_writes = 0  # counted by Home Assistant's state_changed listener

    def _append(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")

    async def run(self) -> None:
        """Measure until cancelled."""
        loop = asyncio.get_running_loop()
        lags: list[float] = []
        flush_at = time.monotonic() + 1.0
        try:
            while True:
                start = loop.time()
                await asyncio.sleep(self.interval)
                lags.append(round(max(loop.time() - start - self.interval, 0.0) * 1000, 2))
                if time.monotonic() >= flush_at:
                    flush_at += 1.0
                    line = json.dumps(
                        {"t": time.time(), "lags_ms": lags, "state_writes": self.state_writes}
                    )
                    lags = []
                    loop.run_in_executor(self._writer, self._append, line)
        finally:
            self._writer.shutdown(wait=False)


CONFIG_SCHEMA = vol.Schema({DOMAIN: vol.Schema({vol.Required("file"): str})}, extra=vol.ALLOW_EXTRA)


async def async_setup(hass: Any, config: dict[str, Any]) -> bool:
    """Start the probe for as long as Home Assistant runs."""
    from homeassistant.const import EVENT_STATE_CHANGED  # noqa: PLC0415
    from homeassistant.core import callback  # noqa: PLC0415

    probe = LagProbe(config[DOMAIN]["file"])

    @callback
    def _count(event: Any) -> None:
        probe.state_writes += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, _count)
    hass.async_create_background_task(probe.run(), f"{DOMAIN} lag probe")
    return True
