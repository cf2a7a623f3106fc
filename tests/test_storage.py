"""Readings are saved on time, within the durability window, even while a charger keeps reporting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .charger import SimCharger, connected_charger
from .helpers import meter_values

AT = "2026-01-01T00:00:00Z"


def stored_energy_kwh(hass_storage: dict[str, Any], entry: MockConfigEntry) -> float | None:
    """CP1's connector 1 energy register as the store holds it."""
    data = hass_storage.get(f"ocpp_central.{entry.entry_id}", {}).get("data", {})
    connector = data.get("chargers", {}).get("CP1", {}).get("connectors", {}).get("1", {})
    energy = connector.get("energy_kwh")
    return None if energy is None else float(energy)


async def booted(hass: HomeAssistant, cp: SimCharger) -> datetime:
    """Boot, and let the saves of the boot itself happen; return the time then."""
    await cp.boot()
    await hass.async_block_till_done(wait_background_tasks=True)
    start = dt_util.utcnow()
    async_fire_time_changed(hass, start + timedelta(seconds=1))
    await hass.async_block_till_done()
    return start


async def test_frequent_readings_do_not_postpone_the_save(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_storage: dict[str, Any]
) -> None:
    async with connected_charger(port, "CP1") as cp:
        start = await booted(hass, cp)
        await cp.call(meter_values(AT, energy=1000))
        # A reading every 0.5 s, for longer than the 2 s save delay.
        for step, wh in enumerate((2000, 3000, 4000, 5000), start=1):
            async_fire_time_changed(hass, start + timedelta(seconds=1 + 0.5 * step))
            await hass.async_block_till_done()
            await cp.call(meter_values(AT, energy=wh))
            await hass.async_block_till_done()
        async_fire_time_changed(hass, start + timedelta(seconds=3.1))
        await hass.async_block_till_done()
        # Saved within the 2 s of the first unsaved reading, with what was known then.
        stored = stored_energy_kwh(hass_storage, entry)
        assert stored is not None and stored >= 4.0


async def test_acknowledged_reading_is_stored_within_seconds(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_storage: dict[str, Any]
) -> None:
    """A power cut right after a CallResult loses at most the last couple of seconds."""
    async with connected_charger(port, "CP1") as cp:
        start = await booted(hass, cp)
        for step, wh in enumerate((1000, 1100, 1200)):
            assert await cp.call(meter_values(AT, energy=wh), suppress=False) is not None
            async_fire_time_changed(hass, start + timedelta(seconds=1 + 3 * (step + 1)))
            await hass.async_block_till_done()
            # Stored within the durability window (docs/security.md), every time.
            assert stored_energy_kwh(hass_storage, entry) == wh / 1000
