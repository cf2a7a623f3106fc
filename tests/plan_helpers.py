"""Shared setup for the planned-mode tests: a fake price sensor, a night in Stockholm."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .charger import SimCharger
from .helpers import state_of
from .smart_helpers import (
    boot,
    entity_id,
    set_grid,
    settle,
    smart_profiles,
    smart_site,
    update_charger,
)

PRICES = "sensor.spot_price"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The evening the tests start: 17:00 in Stockholm (16:00 UTC), departure at 07:00.
EVENING = datetime(2026, 1, 14, 17, 0, tzinfo=STOCKHOLM)


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in Stockholm in January 2026."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=STOCKHOLM)


def hourly(start: datetime, prices: list[float]) -> list[dict[str, Any]]:
    """A generic price list (as template sensors expose it): one entry an hour."""
    return [
        {
            "start": (start + timedelta(hours=n)).isoformat(),
            "end": (start + timedelta(hours=n + 1)).isoformat(),
            "price": price,
        }
        for n, price in enumerate(prices)
    ]


# 17:00 .. 07:00: expensive in the evening, cheapest at 02:00 and 03:00.
NIGHT = [2.0, 2.0, 1.8, 1.5, 1.2, 1.0, 0.9, 0.8, 0.6, 0.2, 0.3, 0.7, 0.9, 1.1]


def set_prices(hass: HomeAssistant, entries: list[Any]) -> None:
    """The price sensor reports its list (garbage included, if the test says so)."""
    hass.states.async_set(PRICES, "1.0", {"prices": entries, "unit_of_measurement": "SEK/kWh"})


async def planned_site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, prices: list[Any] | None = None
) -> MockConfigEntry:
    """Stockholm at 17:00, a price sensor, a 25 A fuse with a 2 A house."""
    await hass.config.async_set_time_zone("Europe/Stockholm")
    hass.config.currency = "SEK"
    freezer.move_to(EVENING)
    set_prices(hass, hourly(EVENING, NIGHT) if prices is None else prices)
    set_grid(hass, 2, 2, 2)
    return await smart_site(hass, main_fuse=25.0, price_sensor=PRICES)


async def prepare(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, max_current: float = 16
) -> None:
    """Boot a 16 A, 3-phase charger that keeps (and reads back) the profiles it accepts."""
    cp.echo_composite = True
    await boot(hass, cp)
    update_charger(hass, entry, "CP1", max_current=max_current)
    await settle(hass)


async def set_number(hass: HomeAssistant, key: str, value: float) -> None:
    """Set one of planned mode's numbers, as the homeowner does."""
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity_id(hass, "number", f"CP1_1_{key}"), "value": value},
        blocking=True,
    )
    await settle(hass)


async def set_departure(hass: HomeAssistant, value: str) -> None:
    """Set the daily departure."""
    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": entity_id(hass, "time", "CP1_1_departure"), "time": value},
        blocking=True,
    )
    await settle(hass)


async def night_at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Jump to `when`; the grid meter reports as it does every few seconds (the house's
    2 A), and the timers that are due fire."""
    freezer.move_to(when)
    set_grid(hass, 2, 2, 2)
    async_fire_time_changed(hass)
    await settle(hass)


async def until(hass: HomeAssistant, predicate: Callable[[], bool]) -> None:
    """Let what runs settle until `predicate` holds (bounded: frozen time never times out)."""
    for _ in range(20):
        if predicate():
            return
        await settle(hass)
    assert predicate()


def plan_status(hass: HomeAssistant) -> str | None:
    """The plan's status as the homeowner sees it."""
    state = state_of(hass, "sensor", "CP1_1_plan_status")
    return state.state if state is not None else None


def planned(hass: HomeAssistant) -> dict[str, Any]:
    """`planned_start` with its attributes."""
    state = state_of(hass, "sensor", "CP1_1_planned_start")
    assert state is not None
    return {"start": state.state, **state.attributes}


def plan_profiles(cp: SimCharger) -> list[dict[str, Any]]:
    """Smart charging's profiles with more than one period (the plan, pushed whole)."""
    return [
        p["cs_charging_profiles"]
        for p in smart_profiles(cp)
        if len(p["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"]) > 1
    ]


def charging_blocks(profile: dict[str, Any]) -> list[tuple[datetime, datetime, float]]:
    """A pushed profile's periods with a limit above 0, as absolute (start, end, limit)."""
    schedule = profile["charging_schedule"]
    start = datetime.fromisoformat(schedule["start_schedule"])
    periods = schedule["charging_schedule_period"]
    ends = [p["start_period"] for p in periods[1:]] + [schedule["duration"]]
    return [
        (
            start + timedelta(seconds=p["start_period"]),
            start + timedelta(seconds=end),
            float(p["limit"]),
        )
        for p, end in zip(periods, ends, strict=True)
        if p["limit"] > 0
    ]


def shown_blocks(hass: HomeAssistant) -> list[tuple[datetime, datetime]]:
    """The plan's periods as `planned_start` shows them."""
    return [
        (dt_util.parse_datetime(p["start"]), dt_util.parse_datetime(p["end"]))  # type: ignore[misc]
        for p in planned(hass)["periods"]
    ]
