"""Shared setup for the smart charging tests: a site with grid sensors, chargers that charge."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_central.const import DOMAIN, SUBENTRY_CHARGER

from .charger import SimCharger, connected_charger
from .helpers import make_entry, setup_entry, state_of

GRID = ["sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3"]
GRID_POWER = "sensor.grid_power"
SMART_ID = 301  # smart charging's TxProfile on connector 1
USER_STACK_LEVEL = 1
SMART_STACK_LEVEL = 2


def charger(port: int, charger_id: str = "CP1") -> Any:
    """A connected 1.6 charger without websocket keepalive pings (time travel in the tests
    would make a ping in flight look lost)."""
    return connected_charger(port, charger_id, ping_interval=None)


def set_grid(hass: HomeAssistant, *amps: float | str, unit: str = "A") -> None:
    """The grid meter reports per-phase currents (import positive)."""
    for entity_id, value in zip(GRID, amps, strict=False):
        hass.states.async_set(
            entity_id, str(value), {"unit_of_measurement": unit, "device_class": "current"}
        )


def set_power(hass: HomeAssistant, watts: float | str, unit: str = "W") -> None:
    """The grid meter reports one net power."""
    hass.states.async_set(
        GRID_POWER, str(watts), {"unit_of_measurement": unit, "device_class": "power"}
    )


async def smart_site(hass: HomeAssistant, **options: Any) -> MockConfigEntry:
    """A loaded central system with smart charging set up (per-phase sensors by default)."""
    settings: dict[str, Any] = {"main_fuse": 16.0, "supply_phases": 3, "grid_current_sensors": GRID}
    settings.update(options)
    entry = make_entry(**{k: v for k, v in settings.items() if v is not None})
    await setup_entry(hass, entry)
    return entry


async def boot(
    hass: HomeAssistant, cp: SimCharger, firmware: str = "1.0", **configuration: tuple[str, bool]
) -> None:
    """Boot a one-connector charger and let the central system prepare it."""
    cp.configuration = {
        "NumberOfConnectors": ("1", True),
        "ChargeProfileMaxStackLevel": ("8", True),
        **configuration,
    }
    await cp.boot(firmware_version=firmware)
    await cp.wait_for_call("GetConfiguration")
    await hass.async_block_till_done(wait_background_tasks=True)


async def start(hass: HomeAssistant, cp: SimCharger, connector_id: int = 1) -> int:
    """Start a session; return its transaction id."""
    result = await cp.call(
        call.StartTransaction(
            connector_id=connector_id,
            id_tag="HomeAssistant",
            meter_start=1000,
            timestamp=dt_util.utcnow().isoformat(),
        )
    )
    await settle(hass)
    return int(result.transaction_id)


async def stop(hass: HomeAssistant, cp: SimCharger, transaction_id: int) -> None:
    """End a session."""
    await cp.call(
        call.StopTransaction(
            meter_stop=5000, timestamp=dt_util.utcnow().isoformat(), transaction_id=transaction_id
        )
    )
    await settle(hass)


async def draw(hass: HomeAssistant, cp: SimCharger, *amps: float, phases: bool = True) -> None:
    """The charger reports the current it draws (per phase L1..L3, or one without a phase)."""
    sampled = [
        {"value": str(a), "measurand": "Current.Import", "unit": "A", "phase": f"L{n}"}
        for n, a in enumerate(amps, 1)
    ]
    if not phases:
        sampled = [{"value": str(amps[0]), "measurand": "Current.Import", "unit": "A"}]
    await cp.meter_values(1, sampled, timestamp=dt_util.utcnow().isoformat())
    await settle(hass)


async def follow(hass: HomeAssistant, house: float, *chargers: SimCharger) -> None:
    """The cars draw what their chargers were last allowed (3 phases), and the grid meter
    shows the house plus the cars."""
    total = 0.0
    for cp in chargers:
        amps = limits(cp)[-1] if limits(cp) else 0.0
        await draw(hass, cp, amps, amps, amps)
        total += amps
    set_grid(hass, house + total, house + total, house + total)
    await settle(hass)


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    """Let time pass; timers that are due fire."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await settle(hass)


async def settle(hass: HomeAssistant) -> None:
    """Let every run and every limit it sent finish (limits are background tasks)."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await asyncio.sleep(0)
    await hass.async_block_till_done(wait_background_tasks=True)


def smart_profiles(cp: SimCharger) -> list[dict[str, Any]]:
    """Smart charging's SetChargingProfile payloads the charger received, oldest first."""
    return [
        p
        for p in cp.calls("SetChargingProfile")
        if p["cs_charging_profiles"]["charging_profile_id"] == SMART_ID
    ]


def limits(cp: SimCharger) -> list[float]:
    """The limits of smart charging's profiles, in A, oldest first."""
    return [
        float(
            p["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"][0]["limit"]
        )
        for p in smart_profiles(cp)
    ]


def smart_clears(cp: SimCharger) -> list[dict[str, Any]]:
    """ClearChargingProfile calls for smart charging's profile."""
    return [p for p in cp.calls("ClearChargingProfile") if p.get("id") == SMART_ID]


async def wait_until(cp: Any, predicate: Callable[[], bool], timeout: float = 5) -> None:
    """Wait until the charger received what `predicate` looks for."""
    async with asyncio.timeout(timeout):
        while not predicate():
            cp.call_received.clear()
            await cp.call_received.wait()


def shown(hass: HomeAssistant, charger_id: str = "CP1") -> tuple[str | None, str | None]:
    """(allocated_current, limit_source) as the homeowner sees them."""
    allocated = state_of(hass, "sensor", f"{charger_id}_1_allocated_current")
    source = state_of(hass, "sensor", f"{charger_id}_1_limit_source")
    return (
        allocated.state if allocated is not None else None,
        source.state if source is not None else None,
    )


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """An entity id by unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, f"no {platform} {unique_id}"
    return found


async def set_mode(hass: HomeAssistant, mode: str, charger_id: str = "CP1") -> None:
    """Choose a connector's charging mode, as the homeowner does."""
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": entity_id(hass, "select", f"{charger_id}_1_charging_mode"), "option": mode},
        blocking=True,
    )
    await settle(hass)


def update_charger(
    hass: HomeAssistant, entry: MockConfigEntry, charger_id: str, **data: Any
) -> None:
    """Change a charger's settings (its subentry)."""
    sub = next(
        s
        for s in entry.subentries.values()
        if s.subentry_type == SUBENTRY_CHARGER and s.data["charger_id"] == charger_id
    )
    hass.config_entries.async_update_subentry(entry, sub, data={**sub.data, **data})
