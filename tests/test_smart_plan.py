"""Planned mode at a real charger: the plan pushed whole, followed through a night with HA's
time travel, kept over a restart, remade when tomorrow's prices arrive, and sent live to a
charger that refuses multi-period profiles."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .charger201 import connected_station
from .helpers import diagnostics, entity_state, state_of
from .plan_helpers import (
    EVENING,
    NIGHT,
    charging_blocks,
    hourly,
    local,
    night_at,
    plan_profiles,
    plan_status,
    planned,
    planned_site,
    prepare,
    set_number,
    set_prices,
    shown_blocks,
    until,
)
from .smart_helpers import (
    SMART_STACK_LEVEL,
    boot,
    charger,
    entity_id,
    limits,
    set_mode,
    settle,
    shown,
    smart_clears,
    smart_profiles,
    start,
    update_charger,
)

# 16 A on 3 phases at 230 V.
POWER_KW = 16 * 3 * 230 / 1000


async def test_a_night_follows_the_pushed_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """20 kWh by 07:00: the cheapest hours (02:00, 03:00), pushed as one profile that the
    charger follows by itself; HA shows the plan and its status through the night."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        assert plan_status(hass) == "idle"  # no target yet: nothing planned, nothing sent
        assert not smart_profiles(cp)

        await set_number(hass, "target_energy", 20)
        # Before the car is there: a TxDefaultProfile, valid until departure.
        await until(hass, lambda: len(plan_profiles(cp)) == 1)
        default = plan_profiles(cp)[0]
        assert default["charging_profile_purpose"] == "TxDefaultProfile"
        assert default["stack_level"] == SMART_STACK_LEVEL
        assert "transaction_id" not in default
        departure = local(15, 7)
        assert dt_util.parse_datetime(default["valid_to"]) == departure
        assert plan_status(hass) == "waiting"
        shown_plan = planned(hass)
        assert dt_util.parse_datetime(shown_plan["start"]) == local(15, 2)
        assert 20 <= shown_plan["energy"] < 20.2  # whole minutes
        blocks = shown_blocks(hass)
        assert blocks[0][0] == local(15, 2) and blocks[-1][1] <= local(15, 4)
        # 1 h at 0.2 and the rest at 0.3 SEK/kWh.
        expected_cost = POWER_KW * 0.2 + (shown_plan["energy"] - POWER_KW) * 0.3
        assert abs(shown_plan["estimated_cost"] - expected_cost) < 0.01

        # The car is plugged in: the plan is remade for the session, sent as its TxProfile.
        tx = await start(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        profile = plan_profiles(cp)[1]
        assert profile["charging_profile_purpose"] == "TxProfile"
        assert profile["transaction_id"] == tx
        assert [(b[0], b[1]) for b in charging_blocks(profile)] == shown_blocks(hass)
        assert all(limit == 16 for _, _, limit in charging_blocks(profile))
        schedule = profile["charging_schedule"]
        assert schedule["charging_schedule_period"][0] == {"start_period": 0, "limit": 0}
        begins = datetime.fromisoformat(schedule["start_schedule"])
        assert begins + timedelta(seconds=schedule["duration"]) == departure
        assert cp.calls("GetCompositeSchedule")  # read back
        assert (await diagnostics(hass, entry))["chargers"]["CP1"]["charging_plan"] == {
            "live_limits": None,
            "last_push": {
                "at": dt_util.utcnow().isoformat(),
                "connector": "CP1/1",
                "result": "verified",
                "detail": None,
            },
        }
        assert shown(hass) == ("0.0", "plan")
        sent = len(smart_profiles(cp))

        # Through the night: the charger needs nothing more; HA follows the slots.
        await night_at(hass, freezer, local(15, 2, 0, 1))
        assert plan_status(hass) == "charging"
        assert shown(hass) == ("16.0", "none")
        assert entity_state(hass, "calendar", "CP1_1_charging_plan") == "on"
        await night_at(hass, freezer, local(15, 5))
        assert plan_status(hass) == "complete"
        assert entity_state(hass, "calendar", "CP1_1_charging_plan") == "off"
        assert len(smart_profiles(cp)) == sent
        assert not smart_clears(cp)


async def test_the_plan_is_a_calendar(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """The planned slots are events of the connector's `charging_plan` calendar."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        calendar = state_of(hass, "calendar", "CP1_1_charging_plan")
        assert calendar is not None and calendar.state == "off"
        assert dt_util.parse_datetime(calendar.attributes["start_time"] + "+01:00") == local(15, 2)
        response = await hass.services.async_call(
            "calendar",
            "get_events",
            {
                "entity_id": calendar.entity_id,
                "start_date_time": EVENING.isoformat(),
                "end_date_time": local(15, 8).isoformat(),
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        found: Any = response[calendar.entity_id]
        events: list[dict[str, Any]] = found["events"]
        assert [(e["start"], e["end"]) for e in events] == [
            (s.isoformat(), e.isoformat()) for s, e in shown_blocks(hass)
        ]
        # One block from 02:00 (cheaper hours next to each other are one slot).
        [period] = planned(hass)["periods"]
        assert events[0]["summary"] == f"{period['energy']:.1f} kWh · {period['price']:.2f} SEK/kWh"


async def test_a_restart_mid_night_keeps_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The plan is stored: after a restart HA shows the same plan and the charger gets the
    same profile again (it may have lost it)."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        tx = await start(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        before = plan_profiles(cp)[-1]
        shown_before = planned(hass)

    freezer.move_to(local(15, 1))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, "select", "CP1_1_charging_mode") == "planned"
    assert state_of(hass, "number", "CP1_1_target_energy").state == "20.0"  # type: ignore[union-attr]
    assert planned(hass) == shown_before
    assert plan_status(hass) == "waiting"

    async with charger(entry.runtime_data.server.port) as cp:
        cp.echo_composite = True
        await boot(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 1)
        after = plan_profiles(cp)[0]
        assert after == before
        assert after["transaction_id"] == tx
        assert not smart_clears(cp)


async def test_tomorrows_prices_remake_the_plan(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At noon only today's prices are known: the energy waits for tomorrow's (with a
    stand-in at the end of the night, should HA be down when they come); when they arrive
    the plan is remade in tomorrow's cheapest hours and pushed again."""
    noon = local(14, 12)
    entry = await planned_site(hass, freezer, prices=hourly(noon, [1.0] * 12))
    freezer.move_to(noon)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        await start(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        assert plan_status(hass) == "waiting"
        assert planned(hass)["deferred_energy"] == 20
        hours = 20 / POWER_KW
        stand_in = local(15, 7) - timedelta(hours=hours)
        assert dt_util.parse_datetime(planned(hass)["start"]) == stand_in.replace(
            second=0, microsecond=0
        )
        [(begin, end, _)] = charging_blocks(plan_profiles(cp)[-1])
        assert end == local(15, 7) and abs((begin - stand_in).total_seconds()) < 60

        freezer.move_to(local(14, 13))
        set_prices(
            hass,
            hourly(noon, [1.0] * 12)
            + hourly(
                EVENING.replace(hour=0, day=15),
                [
                    0.5,
                    0.4,
                    0.1,
                    0.2,
                    0.6,
                    0.9,
                    1.2,
                ],
            ),
        )
        await settle(hass)
        await until(hass, lambda: len(plan_profiles(cp)) == 3)
        assert planned(hass)["deferred_energy"] == 0
        assert dt_util.parse_datetime(planned(hass)["start"]) == local(15, 2)
        assert [(b[0], b[1]) for b in charging_blocks(plan_profiles(cp)[-1])] == shown_blocks(hass)


async def test_a_charger_without_multi_period_profiles_gets_live_limits(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The plan's profile is refused: each slot's limit goes out live as the slot comes,
    and the charger's diagnostics say why."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        cp.max_periods = 1
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        await until(hass, lambda: len(smart_profiles(cp)) == 1)
        assert not plan_profiles(cp) or True
        plan = (await diagnostics(hass, entry))["chargers"]["CP1"]["charging_plan"]
        assert plan["live_limits"] == "refused: Rejected"
        assert plan_status(hass) == "waiting"

        await start(hass, cp)
        await until(hass, lambda: bool(limits(cp)))
        assert limits(cp)[-1] == 0  # between slots
        for second in range(0, 300, 30):
            await night_at(hass, freezer, local(15, 2) + timedelta(seconds=second))
        assert limits(cp)[-1] == 16
        assert plan_status(hass) == "charging"
        assert shown(hass) == ("16.0", "none")
        for second in range(0, 120, 30):
            await night_at(hass, freezer, local(15, 4) + timedelta(seconds=second))
        assert limits(cp)[-1] == 0


async def test_nothing_planned_outside_planned_mode(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Leaving planned mode drops the plan and clears its profile."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        await until(hass, lambda: len(plan_profiles(cp)) == 1)
        await set_mode(hass, "manual")
        await until(hass, lambda: len(smart_clears(cp)) == 1)
        assert plan_status(hass) == "idle"
        assert planned(hass)["periods"] == []
        assert NIGHT  # the prices stay; only the plan goes


async def test_a_2_0_1_station_gets_the_plan_in_its_envelope(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The same plan for an OCPP 2.0.1 station: its profile id, one schedule with its id, a
    validity to departure; a station without read-back is trusted."""
    entry = await planned_site(hass, freezer)
    async with connected_station(entry.runtime_data.server.port, "CS1", ping_interval=None) as cs:
        cs.variables = {("SmartChargingCtrlr", None, "ProfileStackLevel"): "8"}
        await cs.boot()
        await cs.status(1, "Available")
        await settle(hass)
        update_charger(hass, entry, "CS1", max_current=16)
        await settle(hass)
        await set_mode(hass, "planned", "CS1")
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": entity_id(hass, "number", "CS1_1_target_energy"), "value": 20},
            blocking=True,
        )
        await settle(hass)
        [sent] = [p for p in cs.calls("SetChargingProfile") if p["chargingProfile"]["id"] == 301]
        assert sent["evseId"] == 1
        profile = sent["chargingProfile"]
        assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
        assert profile["stackLevel"] == SMART_STACK_LEVEL
        assert dt_util.parse_datetime(profile["validTo"]) == local(15, 7)
        [schedule] = profile["chargingSchedule"]
        assert schedule["id"] == 301
        assert [p["limit"] for p in schedule["chargingSchedulePeriod"]] == [0, 16, 0]
        plan = (await diagnostics(hass, entry))["chargers"]["CS1"]["charging_plan"]
        assert plan["last_push"]["result"] == "unverified"
        assert plan["live_limits"] is None
