"""The grid meter: units, signs, solar surplus with its delays, and a meter that fails.

A meter that is unavailable, stale, removed or reports nonsense makes every smart-charged
connector (manual ones too) drop to the safe current until it reports sensibly again.
"""

from __future__ import annotations

from collections.abc import Callable

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from .smart_helpers import (
    GRID,
    GRID_POWER,
    boot,
    charger,
    draw,
    follow,
    limits,
    set_grid,
    set_mode,
    set_power,
    settle,
    shown,
    smart_site,
    start,
    tick,
    wait_until,
)


def unavailable(hass: HomeAssistant) -> None:
    hass.states.async_set(GRID[1], "unavailable", {"unit_of_measurement": "A"})


def removed(hass: HomeAssistant) -> None:
    hass.states.async_remove(GRID[1])


def not_a_number(hass: HomeAssistant) -> None:
    set_grid(hass, 2, "lots", 2)


def absurd(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 1e9, 2)


def infinite(hass: HomeAssistant) -> None:
    set_grid(hass, 2, "inf", 2)


def wrong_unit(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 2, 2, unit="V")


@pytest.mark.parametrize("fail", [unavailable, removed, not_a_number, absurd, infinite, wrong_unit])
async def test_a_failing_meter_puts_everyone_at_the_safe_current(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, fail: Callable[[HomeAssistant], None]
) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=25, safe_current=8)
    port = entry.runtime_data.server.port
    async with charger(port, "CP1") as cp1, charger(port, "CP2") as cp2:
        await boot(hass, cp1)
        await boot(hass, cp2)
        await set_mode(hass, "fast", "CP1")  # CP2 stays manual: blind, it is protected too
        await start(hass, cp1)
        await wait_until(cp1, lambda: limits(cp1) == [23])
        await follow(hass, 2, cp1)
        await start(hass, cp2)
        await wait_until(cp1, lambda: limits(cp1) == [23, 11])
        await wait_until(cp2, lambda: limits(cp2) == [11])
        await follow(hass, 2, cp1, cp2)

        fail(hass)
        await wait_until(cp1, lambda: limits(cp1) == [23, 11, 8])
        await wait_until(cp2, lambda: limits(cp2) == [11, 8])
        assert shown(hass) == ("8.0", "safe")
        assert shown(hass, "CP2") == ("8.0", "safe")

        # Back: the limits go up again once the room has lasted.
        await follow(hass, 2, cp1, cp2)
        await tick(hass, freezer, 31)
        await wait_until(cp1, lambda: limits(cp1) == [23, 11, 8, 11])
        await wait_until(cp2, lambda: limits(cp2) == [11, 8, 11])
        assert shown(hass) == ("11.0", "fuse")


async def test_a_meter_that_stops_reporting_is_stale_after_60_s(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=25)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [23])
        await tick(hass, freezer, 45)
        set_grid(hass, 2, 2, 2)  # the same values again: it is alive
        await tick(hass, freezer, 45)
        assert limits(cp) == [23]
        await tick(hass, freezer, 20)  # 65 s since it last reported
        await wait_until(cp, lambda: limits(cp) == [23, 6])
        assert shown(hass) == ("6.0", "safe")


@pytest.mark.parametrize(("value", "unit"), [(16000, "mA"), (16, None)])
async def test_current_units(hass: HomeAssistant, value: float, unit: str | None) -> None:
    for entity_id in GRID:
        attributes = {"unit_of_measurement": unit} if unit else {}
        hass.states.async_set(entity_id, str(value), attributes)
    entry = await smart_site(hass, main_fuse=25)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [9])


@pytest.mark.parametrize(
    ("watts", "unit", "export_positive", "expected"),
    [
        (6900, "W", False, 15),  # importing 10 A per phase: 25 - 10
        (6.9, "kW", False, 15),
        (-6900, "W", True, 15),  # the same import, shown as negative by an inverter
        (6900, "W", True, 25),  # exporting: more than the fuse, up to the fuse
    ],
)
async def test_one_power_sensor(
    hass: HomeAssistant, watts: float, unit: str, export_positive: bool, expected: float
) -> None:
    set_power(hass, watts, unit)
    entry = await smart_site(
        hass,
        main_fuse=25,
        grid_current_sensors=None,
        grid_power_sensor=GRID_POWER,
        grid_export_positive=export_positive,
    )
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        update_max(hass, entry)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [expected])


def update_max(hass: HomeAssistant, entry: object) -> None:
    from .smart_helpers import update_charger

    update_charger(hass, entry, "CP1", max_current=25)


async def test_solar_starts_after_2_minutes_and_stops_after_5(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Three-phase 6 A takes 4.1 kW of surplus; passing clouds don't toggle the session."""
    set_power(hass, -2000)  # exporting 2 kW: not enough to start
    entry = await smart_site(
        hass, main_fuse=25, grid_current_sensors=None, grid_power_sensor=GRID_POWER
    )
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "solar")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [0])
        assert shown(hass) == ("0.0", "solar")

        set_power(hass, -5000)  # 5 kW: 7 A on three phases
        await settle(hass)
        await tick(hass, freezer, 60)
        set_power(hass, -5010)
        await tick(hass, freezer, 50)
        set_power(hass, -5000)
        await settle(hass)
        assert limits(cp) == [0]  # not yet: the surplus must last 2 minutes
        assert shown(hass) == ("0.0", "solar")
        await tick(hass, freezer, 11)
        await wait_until(cp, lambda: limits(cp) == [0, 6])  # it starts at the minimum
        await tick(hass, freezer, 2)  # the car follows within a few seconds
        await draw(hass, cp, 6, 6, 6)
        set_power(hass, -5000 + 4140)  # the car's 4.1 kW now come from the surplus
        await tick(hass, freezer, 4)
        set_power(hass, -5000 + 4141)
        await tick(hass, freezer, 31)
        await wait_until(cp, lambda: limits(cp) == [0, 6, 7])
        assert shown(hass) == ("7.0", "solar")
        await tick(hass, freezer, 2)
        await draw(hass, cp, 7, 7, 7)
        await tick(hass, freezer, 4)

        # A cloud: importing 1 kW while the car draws 4.8 kW. It charges on at the minimum
        # for the stop delay before it pauses.
        set_power(hass, 1000)
        await wait_until(cp, lambda: limits(cp) == [0, 6, 7, 6])
        await draw(hass, cp, 6, 6, 6)
        for _ in range(5):
            await tick(hass, freezer, 55)
            set_power(hass, 1000)
            await settle(hass)
        assert limits(cp) == [0, 6, 7, 6]  # 275 s
        await tick(hass, freezer, 30)
        await wait_until(cp, lambda: limits(cp) == [0, 6, 7, 6, 0])
        assert shown(hass) == ("0.0", "solar")


async def test_min_solar_charges_the_minimum_without_sun(hass: HomeAssistant) -> None:
    set_power(hass, 500)  # importing
    entry = await smart_site(
        hass, main_fuse=25, grid_current_sensors=None, grid_power_sensor=GRID_POWER
    )
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "min_solar")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [6])
        assert shown(hass) == ("6.0", "solar")
