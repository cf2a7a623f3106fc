"""Planned mode's inputs and its edges: bad settings and prices, a read-back that differs,
delivery that drifts from the plan, the fuse cutting a slot short, the target reached, and a
SoC target; plus table tests of the pure helpers."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ocpp_central.core.planner import Plan, Slot
from custom_components.ocpp_central.core.smart import ChargingMode
from custom_components.ocpp_central.core.smart.state import SmartConnector
from custom_components.ocpp_central.smart_charging.inputs import plan_cap
from custom_components.ocpp_central.smart_charging.plan import expected_kwh
from custom_components.ocpp_central.smart_charging.plan_push import readback_seconds

from .charger import SimCharger
from .helpers import diagnostics, entity_state, state_of
from .plan_helpers import (
    EVENING,
    NIGHT,
    STOCKHOLM,
    charging_blocks,
    hourly,
    local,
    night_at,
    plan_profiles,
    plan_status,
    planned,
    planned_site,
    prepare,
    set_departure,
    set_number,
    shown_blocks,
    until,
)
from .smart_helpers import (
    charger,
    draw,
    limits,
    set_grid,
    set_mode,
    settle,
    smart_clears,
    smart_profiles,
    start,
    update_charger,
)

UTC = dt_util.UTC


async def energy(hass: HomeAssistant, cp: SimCharger, wh: float, **extra: str) -> None:
    """The charger reports its meter (and what else the test adds, e.g. the SoC)."""
    sampled = [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
    if "soc" in extra:
        sampled.append({"value": extra["soc"], "measurand": "SoC", "unit": "Percent"})
    await cp.meter_values(1, sampled, timestamp=dt_util.utcnow().isoformat())
    await settle(hass)


async def planned_charger(hass: HomeAssistant, entry: Any, cp: SimCharger, kwh: float) -> None:
    await prepare(hass, entry, cp)
    await set_mode(hass, "planned")
    await set_number(hass, "target_energy", kwh)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -5, 151, 1000])
async def test_a_target_out_of_range_is_refused(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, value: float
) -> None:
    """0 kWh (or more than any car holds) is not a target: refused, nothing changes."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 20)
        sent = len(smart_profiles(cp))
        with pytest.raises(ServiceValidationError):
            await set_number(hass, "target_energy", value)
        assert entity_state(hass, "number", "CP1_1_target_energy") == "20.0"
        assert len(smart_profiles(cp)) == sent


async def test_a_departure_earlier_than_now_is_tomorrows(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At 17:00 a departure of 16:00 is tomorrow's; prices end at 07:00, so the energy waits
    for tomorrow's (with a stand-in before 16:00)."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 20)
        await set_departure(hass, "16:00:00")
        assert entity_state(hass, "time", "CP1_1_departure") == "16:00:00"
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        profile = plan_profiles(cp)[-1]
        assert dt_util.parse_datetime(profile["valid_to"]) == local(15, 16)
        assert planned(hass)["deferred_energy"] == 20
        [(_, end, _)] = charging_blocks(profile)
        assert end == local(15, 16)


@pytest.mark.parametrize(
    ("garbage", "status"),
    [
        # Broken entries among good ones: the good ones are planned with.
        (
            [
                {"start": "soon", "price": 0.01},
                {"start": None, "end": 5, "price": "cheap"},
                {"start": local(15, 1).isoformat(), "price": float("nan")},
                "not an entry",
            ],
            "waiting",
        ),
        # Nothing usable at all: the energy waits for prices (with a stand-in at the end).
        (None, "no_prices"),
    ],
)
async def test_prices_with_garbage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    garbage: list[Any] | None,
    status: str,
) -> None:
    prices: list[Any] = (
        [*hourly(EVENING, NIGHT), *garbage]
        if garbage is not None
        else ["x", {"start": "y", "price": "z"}, {"price": 1e300}]
    )
    entry = await planned_site(hass, freezer, prices=prices)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 20)
        await until(hass, lambda: len(plan_profiles(cp)) == 1)
        assert plan_status(hass) == status
        blocks = charging_blocks(plan_profiles(cp)[0])
        if status == "waiting":
            assert blocks[0][0] == local(15, 2)
        else:
            [(_, end, limit)] = blocks
            assert end == local(15, 7) and limit == 16
            assert planned(hass)["deferred_energy"] == 20


# --- what the charger makes of the plan ----------------------------------------------------


async def test_a_read_back_that_differs_falls_back_to_live_limits(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The charger accepts the profile but its composite schedule says 32 A all night: the
    profile is cleared and the plan's limits go out live."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        cp.composite = {
            "status": "Accepted",
            "connector_id": 1,
            "schedule_start": dt_util.utcnow().isoformat(),
            "charging_schedule": {
                "duration": 86400,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 32}],
            },
        }
        await planned_charger(hass, entry, cp, 20)
        await until(hass, lambda: len(smart_clears(cp)) == 1)
        plan = (await diagnostics(hass, entry))["chargers"]["CP1"]["charging_plan"]
        assert plan["live_limits"].startswith("readback_differs: limit")
        assert plan["last_push"]["result"] == "readback_differs"
        await start(hass, cp)
        await until(hass, lambda: bool(limits(cp)))
        assert limits(cp)[-1] == 0  # live, between slots
        assert len(plan_profiles(cp)) == 1  # the plan is not pushed again


async def test_a_charger_without_read_back_is_trusted(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """GetCompositeSchedule rejected: the accepted profile stands."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        cp.echo_composite = False  # answers Rejected
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 20)
        await until(hass, lambda: len(plan_profiles(cp)) == 1)
        await settle(hass)
        plan = (await diagnostics(hass, entry))["chargers"]["CP1"]["charging_plan"]
        assert plan["live_limits"] is None
        assert plan["last_push"]["result"] == "unverified"
        assert not smart_clears(cp)


# --- while it charges ----------------------------------------------------------------------


async def test_delivery_behind_the_plan_remakes_it(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """An hour into the slot the car has taken half of what was planned: the plan is remade
    for what is still needed (it reaches further) and pushed again."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 20)
        await start(hass, cp)  # meter at 1000 Wh
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        end_before = shown_blocks(hass)[-1][1]
        await night_at(hass, freezer, local(15, 2, 30))
        await energy(hass, cp, 1000 + 2500)  # on plan: 5.5 kWh by now
        await until(hass, lambda: len(plan_profiles(cp)) == 3)
        assert shown_blocks(hass)[-1][1] > end_before
        assert 17.4 <= planned(hass)["energy"] <= 17.7  # 20 - 2.5 kWh
        await energy(hass, cp, 1000 + 2600)  # a new plan: nothing expected yet
        assert len(plan_profiles(cp)) == 3


async def test_the_target_reached_stops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 5)
        await start(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        await night_at(hass, freezer, local(15, 2, 20))
        await energy(hass, cp, 1000 + 5000)
        # Stopped: 0 A for the rest of the session (clearing would let it charge on).
        await until(hass, lambda: bool(limits(cp)) and limits(cp)[-1] == 0)
        assert plan_status(hass) == "complete"
        assert state_of(hass, "sensor", "CP1_1_planned_start").state == "unknown"  # type: ignore[union-attr]


async def test_the_fuse_rules_during_a_slot(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """The oven goes on at 02:10: a live limit replaces the plan's 16 A at once; when it is
    off again the plan is remade (over what was lost) and pushed whole again."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await planned_charger(hass, entry, cp, 20)
        await start(hass, cp)
        await until(hass, lambda: len(plan_profiles(cp)) == 2)
        await night_at(hass, freezer, local(15, 2, 10))
        await draw(hass, cp, 16, 16, 16)
        set_grid(hass, 2 + 16 + 14, 2 + 16 + 14, 2 + 16 + 14)  # 14 A more: 7 A too much
        await settle(hass)
        await until(hass, lambda: bool(limits(cp)))
        assert limits(cp)[-1] == 9
        assert state_of(hass, "sensor", "CP1_1_limit_source").state == "fuse"  # type: ignore[union-attr]
        freezer.move_to(local(15, 2, 20))
        set_grid(hass, 2 + 9, 2 + 9, 2 + 9)
        await settle(hass)
        await night_at(hass, freezer, local(15, 2, 21))
        await until(hass, lambda: len(plan_profiles(cp)) == 3)
        assert (
            plan_profiles(cp)[-1]["charging_schedule"]["start_schedule"]
            > (plan_profiles(cp)[-2]["charging_schedule"]["start_schedule"])
        )


async def test_a_soc_target(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """With the battery capacity set and the car reporting 40 %, 80 % is 24 kWh of 60."""
    entry = await planned_site(hass, freezer)
    async with charger(entry.runtime_data.server.port) as cp:
        await prepare(hass, entry, cp)
        update_charger(hass, entry, "CP1", battery_capacity=60)
        await set_mode(hass, "planned")
        await set_number(hass, "target_energy", 10)
        await set_number(hass, "target_soc", 80)
        await start(hass, cp)
        await energy(hass, cp, 1000, soc="40")
        await until(hass, lambda: 24 <= planned(hass)["energy"] < 24.2)
        assert entity_state(hass, "number", "CP1_1_target_soc") == "80.0"
        # Setting the energy again makes it the target.
        await set_number(hass, "target_energy", 10)
        assert 10 <= planned(hass)["energy"] < 10.2


# --- pure helpers --------------------------------------------------------------------------


def _plan(*slots: tuple[datetime, datetime], deferred: float = 0.0) -> Plan:
    created = datetime(2026, 1, 14, 16, tzinfo=UTC)
    return Plan(
        "waiting",
        created,
        datetime(2026, 1, 15, 6, tzinfo=UTC),
        tuple(
            Slot(s, e, 11.04, 16.0, 11.04 * (e - s).total_seconds() / 3600, 0.2, 0.0)
            for s, e in slots
        ),
        deferred_kwh=deferred,
        power_kw=11.04,
        current_a=16.0,
    )


T1 = datetime(2026, 1, 15, 1, tzinfo=UTC)
T2 = datetime(2026, 1, 15, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "plan", "at", "cap"),
    [
        (ChargingMode.FAST, _plan((T1, T2)), T1, None),
        (ChargingMode.PLANNED, None, T1, 0.0),
        (ChargingMode.PLANNED, _plan((T1, T2)), T1 - timedelta(seconds=1), 0.0),
        (ChargingMode.PLANNED, _plan((T1, T2)), T1, 16.0),
        (ChargingMode.PLANNED, _plan((T1, T2)), T2, 0.0),
        # The stand-in for energy waiting for prices: full power at the end of the night.
        (ChargingMode.PLANNED, _plan(deferred=11.04), datetime(2026, 1, 15, 5, 30, tzinfo=UTC), 16),
        (ChargingMode.PLANNED, _plan(deferred=11.04), datetime(2026, 1, 15, 4, 30, tzinfo=UTC), 0),
        (ChargingMode.PLANNED, _plan((T1, T2)), datetime(2026, 1, 15, 6, tzinfo=UTC), 0.0),
    ],
)
def test_plan_cap(mode: ChargingMode, plan: Plan | None, at: datetime, cap: float | None) -> None:
    assert plan_cap(SmartConnector(mode=mode, plan=plan), at) == cap


@pytest.mark.parametrize(
    ("until", "kwh"),
    [
        (T1, 0.0),
        (T1 + timedelta(minutes=30), 5.52),
        (T2 + timedelta(hours=3), 11.04),
    ],
)
def test_expected_kwh(until: datetime, kwh: float) -> None:
    assert expected_kwh(_plan((T1, T2)), until) == pytest.approx(kwh)


@pytest.mark.parametrize(
    ("seconds", "asked"),
    [(-100, 60), (10, 60), (3600, 3600), (10 * 86400, 2 * 86400)],
)
def test_readback_seconds(seconds: int, asked: int) -> None:
    assert readback_seconds(T1, T1 + timedelta(seconds=seconds)) == asked


@pytest.mark.parametrize(
    ("now", "departure", "expected"),
    [
        # Evening: tomorrow morning.
        (datetime(2026, 1, 14, 17, tzinfo=STOCKHOLM), time(7), datetime(2026, 1, 15, 7)),
        # That very minute: tomorrow's.
        (datetime(2026, 1, 15, 7, tzinfo=STOCKHOLM), time(7), datetime(2026, 1, 16, 7)),
        # The spring DST night (02:00 -> 03:00 on 29 March): still 07:00 local.
        (datetime(2026, 3, 28, 22, tzinfo=STOCKHOLM), time(7), datetime(2026, 3, 29, 7)),
        # A departure in the hour that does not exist that night.
        (datetime(2026, 3, 28, 22, tzinfo=STOCKHOLM), time(2, 30), datetime(2026, 3, 29, 3, 30)),
        # The autumn night (03:00 -> 02:00 on 25 October).
        (datetime(2026, 10, 24, 22, tzinfo=STOCKHOLM), time(7), datetime(2026, 10, 25, 7)),
    ],
)
async def test_next_departure(
    hass: HomeAssistant, now: datetime, departure: time, expected: datetime
) -> None:
    from custom_components.ocpp_central.smart_charging.plan_inputs import next_departure

    await hass.config.async_set_time_zone("Europe/Stockholm")
    got = next_departure(departure, now)
    assert got.tzinfo is not None
    assert dt_util.as_local(got).replace(tzinfo=None) == expected


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "garbage",
        {"mode": "planned", "target_energy": 0, "target_soc": 500, "departure": "25:99"},
        {"mode": "planned", "target_energy": "many", "plan": {"status": "charging"}},
        {"mode": "planned", "target_kind": "both", "plan_base_kwh": -3, "departure": 7},
    ],
)
def test_stored_settings_that_make_no_sense_are_the_defaults(stored: Any) -> None:
    smart = SmartConnector.from_dict(stored)
    assert smart.target_energy is None
    assert smart.target_soc is None
    assert smart.departure == time(7)
    assert smart.plan is None
    assert smart.target_kind == "energy"
    assert smart.plan_base_kwh == 0.0
    assert SmartConnector.from_dict(smart.as_dict()) == smart
