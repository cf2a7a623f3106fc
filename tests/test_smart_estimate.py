"""What a session drew when the grid meter reported: readings, limits and reports in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_central.core.smart import Phase
from custom_components.ocpp_central.smart_charging.estimate import DrawEstimate

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALL = frozenset(Phase)
KEY = "CP1/1"


def amps(value: float) -> dict[Phase, float]:
    return dict.fromkeys(Phase, value)


# Events: ("read", A) a charger reading, ("limit", A) a limit sent, ("report",) the grid
# meter, ("wait", s) time passing.
Event = tuple[str, float] | tuple[str]

CASES: dict[str, tuple[list[Event], dict[Phase, float] | None]] = {
    "nothing known": ([("report",)], None),
    "a reading before the report": ([("read", 9), ("report",)], amps(9)),
    "nothing of ours sent: the latest reading the report saw": (
        [("read", 9), ("report",), ("read", 12)],
        amps(9),
    ),
    "a limit the report saw, nothing read yet: the limit": (
        [("limit", 10), ("wait", 6), ("report",)],
        amps(10),
    ),
    "read under the limit the report saw, also after the report": (
        [("limit", 10), ("read", 9.5), ("wait", 6), ("report",), ("read", 9.8)],
        amps(9.8),
    ),
    "a decrease the report saw, not read yet: the car follows it": (
        [("limit", 16), ("read", 16), ("limit", 10), ("wait", 6), ("report",)],
        amps(10),
    ),
    "a decrease the car may not have followed yet: the draw before it": (
        [("limit", 16), ("read", 16), ("wait", 6), ("limit", 10), ("wait", 1), ("report",)],
        amps(16),
    ),
    "a reading under a newer limit is not what the report measured": (
        [("limit", 16), ("read", 16), ("wait", 6), ("report",), ("limit", 10), ("read", 10)],
        amps(16),
    ),
    "a raise the car may not have followed yet: already the new limit": (
        [("limit", 10), ("read", 9.8), ("wait", 6), ("limit", 16), ("wait", 1), ("report",)],
        amps(16),
    ),
    "a raise for a car that used all of its limit: the new limit": (
        [("limit", 10), ("read", 9.6), ("limit", 16), ("wait", 6), ("report",)],
        amps(16),
    ),
    "a raise for a car limited by itself: what it drew": (
        [("limit", 16), ("read", 8), ("limit", 22), ("wait", 6), ("report",)],
        amps(8),
    ),
}


@pytest.mark.parametrize(("events", "expected"), CASES.values(), ids=CASES.keys())
def test_what_the_report_saw(events: list[Event], expected: dict[Phase, float] | None) -> None:
    estimate = DrawEstimate()
    now = T0
    for event in events:
        match event:
            case ("read", value):
                estimate.reading(KEY, amps(value))
            case ("limit", value):
                estimate.limit(KEY, value, now)
            case ("report",):
                estimate.grid_report(now)
            case ("wait", seconds):
                now += timedelta(seconds=seconds)
    assert estimate.at_report(KEY, ALL) == expected


def test_a_raise_keeps_phases_the_car_does_not_use() -> None:
    estimate = DrawEstimate()
    estimate.limit(KEY, 10, T0)
    estimate.reading(KEY, {Phase.L1: 9.8, Phase.L2: 0.0, Phase.L3: 0.0})
    estimate.limit(KEY, 16, T0)
    estimate.grid_report(T0 + timedelta(seconds=6))
    assert estimate.at_report(KEY, ALL) == {Phase.L1: 16, Phase.L2: 0.0, Phase.L3: 0.0}


def test_a_forgotten_session_is_unknown() -> None:
    estimate = DrawEstimate()
    estimate.reading(KEY, amps(9))
    estimate.grid_report(T0)
    estimate.forget(KEY)
    assert estimate.at_report(KEY, ALL) is None
