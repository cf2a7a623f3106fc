"""Smart charging against real chargers: the fuse holds, phases count, sessions share.

Chargers are simulated 1.6 charge points over websockets; the grid meter is a set of sensor
states the test writes. Every test asserts the profiles the chargers received and what the
homeowner sees (`allocated_current`, `limit_source`).
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from .smart_helpers import (
    SMART_ID,
    SMART_STACK_LEVEL,
    boot,
    charger,
    draw,
    follow,
    limits,
    set_grid,
    set_mode,
    settle,
    shown,
    smart_profiles,
    smart_site,
    start,
    stop,
    tick,
    update_charger,
    wait_until,
)


async def test_two_chargers_share_a_16_a_fuse_and_the_oven_switches_on(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    set_grid(hass, 1, 1, 1)  # the house draws 1 A per phase
    entry = await smart_site(hass, main_fuse=16)
    port = entry.runtime_data.server.port
    async with charger(port, "CP1") as cp1, charger(port, "CP2") as cp2:
        await boot(hass, cp1)
        await boot(hass, cp2)
        await set_mode(hass, "fast", "CP1")
        await set_mode(hass, "fast", "CP2")
        assert shown(hass) == ("unknown", "unknown")  # no session yet

        tx1 = await start(hass, cp1)
        await wait_until(cp1, lambda: limits(cp1) == [15])
        (first,) = smart_profiles(cp1)
        assert first["connector_id"] == 1
        profile = first["cs_charging_profiles"]
        assert profile["charging_profile_id"] == SMART_ID
        assert profile["stack_level"] == SMART_STACK_LEVEL
        assert profile["charging_profile_purpose"] == "TxProfile"
        assert profile["charging_profile_kind"] == "Absolute"
        assert profile["transaction_id"] == tx1
        assert profile["charging_schedule"]["charging_rate_unit"] == "A"
        assert shown(hass) == ("15.0", "fuse")
        await draw(hass, cp1, 15, 15, 15)
        set_grid(hass, 16, 16, 16)
        await settle(hass)

        # The second session: both share what the house leaves (15 A), at once.
        await start(hass, cp2)
        await wait_until(cp1, lambda: limits(cp1) == [15, 7])
        await wait_until(cp2, lambda: limits(cp2) == [7])
        await draw(hass, cp1, 7, 7, 7)
        await draw(hass, cp2, 7, 7, 7)
        set_grid(hass, 15, 15, 15)
        await settle(hass)
        assert shown(hass, "CP2") == ("7.0", "fuse")

        # The oven: 3 A more per phase. 18 A on a 16 A fuse: both go down at once.
        set_grid(hass, 18, 18, 18)
        await wait_until(cp1, lambda: limits(cp1) == [15, 7, 6])
        await wait_until(cp2, lambda: limits(cp2) == [7, 6])
        assert shown(hass) == ("6.0", "fuse")
        await draw(hass, cp1, 6, 6, 6)
        await draw(hass, cp2, 6, 6, 6)

        # The oven is off: the room must last 30 s before the limits go up again.
        set_grid(hass, 13, 13, 13)
        await settle(hass)
        assert limits(cp1) == [15, 7, 6]
        await tick(hass, freezer, 15)
        set_grid(hass, 12.8, 13, 13)  # the meter keeps reporting
        await settle(hass)
        assert limits(cp1) == [15, 7, 6]
        await tick(hass, freezer, 16)
        await wait_until(cp1, lambda: limits(cp1) == [15, 7, 6, 7])
        await wait_until(cp2, lambda: limits(cp2) == [7, 6, 7])
        assert shown(hass) == ("7.0", "fuse")


async def test_unbalanced_phases_the_busiest_one_decides(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 9, 4)
    entry = await smart_site(hass, main_fuse=16)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [7])  # 16 - 9 on L2
        assert shown(hass) == ("7.0", "fuse")


@pytest.mark.parametrize(("phase", "expected"), [("L2", (0, "fuse")), ("L1", (14, "fuse"))])
async def test_single_phase_charger_loads_only_its_phase(
    hass: HomeAssistant, phase: str, expected: tuple[float, str]
) -> None:
    """A single-phase charger on L2 (busy) pauses; on L1 (free) it gets what L1 leaves."""
    set_grid(hass, 2, 12, 2)
    entry = await smart_site(hass, main_fuse=16)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        update_charger(hass, entry, "CP1", phases=1, phase=phase)
        await settle(hass)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: len(limits(cp)) == 1)
        assert limits(cp) == [expected[0]]
        assert shown(hass) == (f"{expected[0]:.1f}", expected[1])


async def test_single_phase_charger_current_counts_on_its_phase(hass: HomeAssistant) -> None:
    """Its current, reported as L1 (as such chargers do), is load on L2 where it is wired."""
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=16)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        update_charger(hass, entry, "CP1", phases=1, phase="L2")
        await settle(hass)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])
        await draw(hass, cp, 14, phases=False)
        # The house is at 2 A everywhere; the charger's 14 A are on L2 only. 6 A more on L2
        # (a kettle) is an overload there, even though L1 shows much less.
        set_grid(hass, 2, 22, 2)
        await wait_until(cp, lambda: limits(cp) == [14, 8])


async def test_not_enough_for_everyone_the_newest_pauses_and_resumes_in_order(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=16)
    port = entry.runtime_data.server.port
    async with (
        charger(port, "CP1") as cp1,
        charger(port, "CP2") as cp2,
        charger(port, "CP3") as cp3,
    ):
        for cp in (cp1, cp2, cp3):
            await boot(hass, cp)
            await set_mode(hass, "fast", cp.id)
        tx1 = await start(hass, cp1)
        await follow(hass, 2, cp1)
        await start(hass, cp2)
        await follow(hass, 2, cp1, cp2)
        await start(hass, cp3)
        # 14 A left: two sessions at 7 A; the third would take them below 6 A.
        await wait_until(cp3, lambda: limits(cp3) == [0])
        assert limits(cp1) == [14, 7]
        assert limits(cp2) == [7]
        assert shown(hass, "CP3") == ("0.0", "fuse")
        await follow(hass, 2, cp1, cp2, cp3)

        # The oldest session ends: the paused one resumes once the room lasted 30 s.
        await stop(hass, cp1, tx1)
        await follow(hass, 2, cp2, cp3)
        await tick(hass, freezer, 20)
        await follow(hass, 2, cp2, cp3)  # the meters keep reporting
        assert limits(cp3) == [0]
        await tick(hass, freezer, 11)
        await wait_until(cp3, lambda: limits(cp3) == [0, 6])
        assert shown(hass, "CP3") == ("6.0", "fuse")


async def service(hass: HomeAssistant, name: str, data: dict[str, object]) -> None:
    from homeassistant.helpers import device_registry as dr

    from custom_components.ocpp_central.const import DOMAIN

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None
    await hass.services.async_call(DOMAIN, name, {"device_id": device.id, **data}, blocking=True)
    await settle(hass)


async def test_the_users_limit_and_schedule_bound_a_smart_mode(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Fast within the user's own limits: below 6 A it pauses; a schedule period that starts
    lowers the limit when it starts (a timer, no event needed)."""
    from homeassistant.util import dt as dt_util

    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=21, minutes=59, seconds=50))
    set_grid(hass, 0, 0, 0)
    entry = await smart_site(hass, main_fuse=63)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await service(hass, "set_charging_limit", {"limit_amps": 4})
        user_profile = cp.calls("SetChargingProfile")[-1]["cs_charging_profiles"]
        assert user_profile["stack_level"] == 1  # the user's own, below ours
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [0])
        assert shown(hass) == ("0.0", "user")

        await service(
            hass,
            "set_charging_limit",
            {"schedule": [{"start": "07:00", "limit": 16}, {"start": "22:00", "limit": 10}]},
        )
        await wait_until(cp, lambda: limits(cp) == [0, 16])  # the user's own choice: at once
        assert shown(hass) == ("16.0", "schedule")
        set_grid(hass, 0, 0, 0.1)
        await tick(hass, freezer, 15)  # 22:00:05
        await wait_until(cp, lambda: limits(cp) == [0, 16, 10])
        assert shown(hass) == ("10.0", "schedule")


async def test_a_house_at_the_edge_of_an_ampere_costs_no_profiles(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A raise leaves 1 A of the fuse free: hovering at the edge doesn't lower and raise the
    limit every half minute."""
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=16)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])
        await follow(hass, 2.3, cp)  # 16.3 A: a fraction over the fuse
        await wait_until(cp, lambda: limits(cp) == [14, 13])
        for house in (2.0, 1.9, 2.1, 2.0, 1.95, 2.0):
            await tick(hass, freezer, 20)
            await follow(hass, house, cp)
        assert limits(cp) == [14, 13]
        assert shown(hass) == ("13.0", "fuse")
        await follow(hass, 0.9, cp)  # a whole ampere more room, for 30 s: up again
        await tick(hass, freezer, 20)
        await follow(hass, 0.9, cp)
        await tick(hass, freezer, 11)
        await wait_until(cp, lambda: limits(cp) == [14, 13, 14])
