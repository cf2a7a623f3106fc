"""A plan as an OCPP charging schedule, the charger's read-back of it, and the stored plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.ocpp_central.core.plan_schedule import compare_readback, plan_schedule
from custom_components.ocpp_central.core.plan_store import plan_from_dict, plan_to_dict
from custom_components.ocpp_central.core.planner import Plan, plan
from custom_components.ocpp_central.core.prices import PricePeriod
from tests.core_helpers import (  # noqa: F401 (fixtures)
    auto_enable_custom_integrations,
    local,
    loopback_sockets,
)


def hourly(start: datetime, values: list[float]) -> list[PricePeriod]:
    first = start.astimezone(UTC)
    return [
        PricePeriod(first + timedelta(hours=i), first + timedelta(hours=i + 1), value)
        for i, value in enumerate(values)
    ]


NOW = local(2026, 1, 14, 21, 30, 12)
DEPARTURE = local(2026, 1, 15, 7)
PRICES = hourly(local(2026, 1, 14, 21), [9, 5, 4, 9, 1, 2, 9, 9, 1, 9])  # two valleys


def two_slot_plan(**kwargs: Any) -> Plan:
    """2.5 hours at 11 kW: 01:00-02:30 (the cheap hour and half the next) and 05:00-06:00."""
    return plan(PRICES, NOW, DEPARTURE, 27.5, 11, phases=3, voltage=230, **kwargs)


def test_schedule_has_one_period_per_slot_and_zero_between() -> None:
    """Absolute start at planning time, validity to departure, 0 A around each slot."""
    result = two_slot_plan()
    assert [(s.start, s.end) for s in result.slots] == [
        (local(2026, 1, 15, 1), local(2026, 1, 15, 2, 30)),
        (local(2026, 1, 15, 5), local(2026, 1, 15, 6)),
    ]
    schedule = plan_schedule(result)
    assert schedule == {
        "startSchedule": "2026-01-14T20:30:12+00:00",
        "duration": 34188,  # 21:30:12 -> 07:00:00
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 0.0},
            {"startPeriod": 12588, "limit": 15.9},  # 15.94 A, rounded down
            {"startPeriod": 17988, "limit": 0.0},
            {"startPeriod": 26988, "limit": 15.9},
            {"startPeriod": 30588, "limit": 0.0},
        ],
    }


def test_schedule_in_watts_starting_now_until_departure() -> None:
    """A slot at once starts the schedule; one reaching departure needs no trailing 0."""
    result = plan(hourly(local(2026, 1, 15, 5), [1, 2]), local(2026, 1, 15, 5), DEPARTURE, 22, 7.4)
    schedule = plan_schedule(result, unit="W", number_phases=1)
    assert schedule is not None
    assert schedule["duration"] == 7200
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 7400.0, "numberPhases": 1}
    ]


def test_schedule_without_slots() -> None:
    """A plan with nothing to charge is a schedule of 0 until departure."""
    schedule = plan_schedule(plan(PRICES, NOW, DEPARTURE, 0, 11), unit="W")
    assert schedule is not None
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 0.0}]


def test_deferred_energy_has_a_stand_in_at_the_end() -> None:
    """Energy waiting for prices is charged at the end of the unknown time unless a replan
    replaces the schedule: the charger finishes the job even if HA is down."""
    waiting = plan([], NOW, DEPARTURE, 10, 11)
    assert waiting.status == "no_prices"
    schedule = plan_schedule(waiting, unit="W")
    assert schedule is not None
    # 10 kWh at 11 kW is 54.5 min: from 06:05 (rounded down to the minute) to 07:00.
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0.0},
        {"startPeriod": 30888, "limit": 11000.0},
    ]
    bare = plan_schedule(waiting, unit="W", deferred_fallback=False)
    assert bare is not None
    assert bare["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 0.0}]
    # Known prices until midnight: 8 of 85 kWh in the cheaper known hour, 77 kWh (all of the
    # 7 unknown hours) stand in from midnight.
    partly = plan(PRICES[:3], NOW, DEPARTURE, 85, 11)
    assert [(s.start, s.end) for s in partly.slots] == [
        (local(2026, 1, 14, 23), local(2026, 1, 14, 23, 44))
    ]
    schedule = plan_schedule(partly, unit="W")
    assert schedule is not None
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0.0},
        {"startPeriod": 5388, "limit": 11000.0},  # 23:00
        {"startPeriod": 8028, "limit": 0.0},  # 23:44
        {"startPeriod": 8988, "limit": 11000.0},  # midnight, to departure
    ]
    # 90 kWh: the stand-in needs all 7 unknown hours and joins the last slot.
    joined = plan_schedule(plan(PRICES[:3], NOW, DEPARTURE, 90, 11), unit="W")
    assert joined is not None
    assert joined["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0.0},
        {"startPeriod": 4728, "limit": 11000.0},  # 22:49 to departure
    ]


def test_schedule_after_departure_and_without_currents() -> None:
    """No schedule for a departure that passed; amps need the phases and voltage."""
    assert plan_schedule(plan(PRICES, DEPARTURE, DEPARTURE, 10, 11)) is None
    with pytest.raises(ValueError, match="phases and voltage"):
        plan_schedule(plan(PRICES, NOW, DEPARTURE, 10, 11), unit="A")


def test_schedule_over_the_autumn_night_lasts_ten_hours() -> None:
    """The 25-hour day: 22:00 -> 07:00 is 36000 s of schedule."""
    result = plan(
        hourly(local(2025, 10, 25, 22), [1.0] * 10),
        local(2025, 10, 25, 22),
        local(2025, 10, 26, 7),
        110,
        11,
    )
    schedule = plan_schedule(result, unit="W")
    assert schedule is not None
    assert schedule["duration"] == 36000
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 11000.0}]


# --- the read-back -------------------------------------------------------------------------


def sent() -> dict[str, Any]:
    schedule = plan_schedule(two_slot_plan())
    assert schedule is not None
    return schedule


def shifted(schedule: dict[str, Any], seconds: int) -> list[dict[str, Any]]:
    """The same periods as a composite that starts `seconds` later (the charger's now)."""
    periods = [
        {"start": max(p["startPeriod"] - seconds, 0), "limit": p["limit"]}
        for p in schedule["chargingSchedulePeriod"]
    ]
    return [
        p for i, p in enumerate(periods) if i + 1 == len(periods) or periods[i + 1]["start"] > 0
    ]


def readback_variants() -> dict[str, tuple[dict[str, Any], str | None]]:
    ours = sent()
    start = datetime.fromisoformat(ours["startSchedule"])
    later = (start + timedelta(minutes=10)).isoformat()
    plain = {
        "status": "accepted",
        "schedule_start": later,
        "duration": ours["duration"] - 600,
        "charging_rate_unit": "A",
        "periods": shifted(ours, 600),
    }
    v16 = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": later,
        "chargingSchedule": {
            "duration": ours["duration"] - 600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": p["start"], "limit": p["limit"]} for p in shifted(ours, 600)
            ],
        },
    }
    v201 = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "scheduleStart": later,
            "duration": ours["duration"] - 600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": v16["chargingSchedule"]["chargingSchedulePeriod"],  # type: ignore[index]
        },
    }

    def edit(**changes: Any) -> dict[str, Any]:
        return {**plain, **changes}

    periods = shifted(ours, 600)
    return {
        "same schedule": (ours, None),
        "plain read-back from the charger's now": (plain, None),
        "OCPP 1.6 answer": (v16, None),
        "OCPP 2.0.1 answer": (v201, None),
        "rounded to 16.0 A": (
            edit(periods=[dict(p, limit=16.0 if p["limit"] else 0) for p in periods]),
            None,
        ),
        "a slot split in two equal periods": (
            edit(
                periods=[
                    *periods[:2],
                    {"start": periods[1]["start"] + 1800, "limit": 15.9},
                    *periods[2:],
                ]
            ),
            None,
        ),
        "boundaries 20 s late": (
            edit(periods=[dict(p, start=p["start"] + 20 if p["start"] else 0) for p in periods]),
            None,
        ),
        "no trailing zero (charger stops reporting after the last slot)": (
            edit(periods=periods[:-1], duration=periods[-1]["start"]),
            None,
        ),
        "boundaries 5 min late": (
            edit(periods=[dict(p, start=p["start"] + 300 if p["start"] else 0) for p in periods]),
            "limit",
        ),
        "capped at 10 A": (
            edit(periods=[dict(p, limit=10.0 if p["limit"] else 0) for p in periods]),
            "limit",
        ),
        "a slot missing": (edit(periods=periods[:3]), "limit"),
        "all zero": (edit(periods=[{"start": 0, "limit": 0}]), "limit"),
        "in watts": (edit(charging_rate_unit="W"), "unit"),
        "rejected": (edit(status="Rejected"), "rejected"),
        "no periods": (edit(periods=[]), "unreadable"),
        "schedule not a dict": ({"status": "Accepted", "chargingSchedule": "16 A"}, "unreadable"),
        "periods not a list": (edit(periods="0:16"), "unreadable"),
        "limit not a number": (edit(periods=[{"start": 0, "limit": "high"}]), "unreadable"),
        "negative offset": (edit(periods=[{"start": -5, "limit": 0}]), "unreadable"),
        "NaN limit": (edit(periods=[{"start": 0, "limit": float("nan")}]), "unreadable"),
        "absurd limit": (edit(periods=[{"start": 0, "limit": 1e12}]), "unreadable"),
        "a period that is not a dict": (edit(periods=[7]), "unreadable"),
        "too many periods": (
            edit(periods=[{"start": i, "limit": 0} for i in range(2000)]),
            "unreadable",
        ),
        "no start": (edit(schedule_start=None), "unreadable"),
        "start not a time": (edit(schedule_start="soon"), "unreadable"),
        "starts after our schedule ends": (
            edit(schedule_start=(start + timedelta(days=1)).isoformat()),
            "no_overlap",
        ),
    }


@pytest.mark.parametrize(
    ("readback", "reason"), readback_variants().values(), ids=readback_variants().keys()
)
def test_readback(readback: dict[str, Any], reason: str | None) -> None:
    """Tolerant of merging, rounding and shifted starts; strict about what would charge."""
    check = compare_readback(sent(), readback)
    assert check.reason == reason
    assert check.matches is (reason is None)


def test_readback_mismatch_says_where() -> None:
    """A mismatch names the moment and both limits, for the charger's diagnostics."""
    ours = sent()
    capped = json.loads(json.dumps(ours).replace("15.9", "10.0"))
    check = compare_readback(ours, capped)
    assert (check.at, check.expected, check.actual) == (local(2026, 1, 15, 1), 15.9, 10.0)


def test_readback_in_watts_tolerates_one_percent() -> None:
    """A charger converting W to A and back lands within 1%."""
    result = plan(PRICES, NOW, DEPARTURE, 22, 11)
    ours = plan_schedule(result, unit="W")
    assert ours is not None
    near = json.loads(json.dumps(ours).replace("11000.0", "10971.0"))
    far = json.loads(json.dumps(ours).replace("11000.0", "10500.0"))
    assert compare_readback(ours, near).matches
    assert compare_readback(ours, far).reason == "limit"
    assert compare_readback(ours, far, limit_tolerance=600).matches


# --- the stored plan -----------------------------------------------------------------------


def test_plan_survives_storage() -> None:
    """Through JSON and back, the plan is the same plan."""
    result = two_slot_plan()
    stored = json.loads(json.dumps(plan_to_dict(result)))
    assert plan_from_dict(stored) == result
    waiting = plan([], NOW, DEPARTURE, 10, 11)
    assert plan_from_dict(json.loads(json.dumps(plan_to_dict(waiting)))) == waiting


@pytest.mark.parametrize(
    "change",
    [
        {"status": "sleeping"},
        {"created": "yesterday"},
        {"slots": "many"},
        {"slots": [{"start": "2026-01-15T01:00:00+00:00"}]},
        {"slots": [None]},
        {
            "slots": [
                {
                    "start": "2026-01-15T01:00:00+00:00",
                    "end": "2026-01-15T02:00:00+00:00",
                    "power_kw": -1,
                    "energy_kwh": 1,
                    "cost": 1,
                }
            ]
        },
        {"energy_kwh": -1},
        {"estimated_cost": "cheap"},
        {"slots": [{}] * 501},
    ],
)
def test_stored_garbage_is_no_plan(change: dict[str, Any]) -> None:
    """Storage that is not a plan we wrote gives None (the caller replans)."""
    stored = {**plan_to_dict(two_slot_plan()), **change}
    assert plan_from_dict(stored) is None
    assert plan_from_dict("plan") is None
