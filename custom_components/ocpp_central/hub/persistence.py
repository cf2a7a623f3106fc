"""Where a central system keeps sessions, registers, id tags and counters, and when it writes.

An acknowledged reading is on disk within SAVE_DELAY_READINGS seconds (the durability window
in docs/security.md): every reading in between joins one write, so the store is written at
most every 2 s however many chargers report. Transactions and approvals are written right away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, STORAGE_VERSION

SAVE_DELAY_READINGS = 2
SAVE_DELAY_TRANSACTIONS = 0


def central_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a central system keeps sessions, registers, id tags and counters."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


class Persistence:
    """One config entry's store: a snapshot of `data()`, written soon or now."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, data: Callable[[], dict[str, Any]]
    ) -> None:
        """Bind to the entry's store; `data` takes the snapshot (in the event loop)."""
        self._hass = hass
        self._entry = entry
        self._data = data
        self.store = central_store(hass, entry.entry_id)
        self._save_timer: asyncio.TimerHandle | None = None  # the next scheduled save

    async def async_load(self) -> dict[str, Any]:
        """What was stored (empty the first time)."""
        return await self.store.async_load() or {}

    @callback
    def save_soon(self, delay: float = SAVE_DELAY_READINGS) -> None:
        """Save within `delay` seconds, coalescing the saves asked for in between.

        One timer, for the earliest due time: Store.async_delay_save restarts its timer on
        every call, so a charger reporting more often than `delay` would postpone the save
        forever.
        """
        due = self._hass.loop.time() + delay
        if self._save_timer is not None:
            if self._save_timer.when() <= due:
                return
            self._save_timer.cancel()
        self._save_timer = self._hass.loop.call_at(due, self._save_now)

    @callback
    def _save_now(self) -> None:
        """Write a snapshot now. It is taken here, in the event loop (a data function given
        to the store would run in its writer thread, while the model may change)."""
        self._save_timer = None
        self._entry.async_create_task(
            self._hass, self.store.async_save(self._data()), f"{DOMAIN} save"
        )

    async def async_stop(self) -> None:
        """Write the last snapshot (a scheduled save is moot)."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        await self.store.async_save(self._data())
