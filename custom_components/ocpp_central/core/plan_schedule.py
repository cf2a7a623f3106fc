"""A plan as one absolute OCPP charging schedule, and checking what the charger made of it.

The schedule dict is camelCase and the same in OCPP 1.6 and 2.0.1 (the caller wraps it in a
TxProfile or TxDefaultProfile): it starts when the plan was made, lasts until departure (after
that the charger falls back to whatever lies below, so nothing of the plan outlives it), and
has one period per slot with a 0 limit between slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any, Literal

from .planner import Plan
from .prices.values import read_number, read_time

# A read-back is charger input: bounded before use.
_MAX_PERIODS = 1024
_MAX_OFFSET = 14 * 86400
_MAX_LIMIT = 10_000_000.0  # W; far above any charger


def _floor_tenth(value: float) -> float:
    """Round down to the 0.1 OCPP allows, so a limit never exceeds what the plan was given."""
    return math.floor(value * 10 + 1e-6) / 10


def _limit(power_kw: float, current_a: float | None, unit: str) -> float:
    if unit == "W":
        return _floor_tenth(power_kw * 1000)
    if current_a is None:
        raise ValueError("a schedule in A needs a plan made with phases and voltage")
    return _floor_tenth(current_a)


def _blocks(
    plan: Plan, unit: str, deferred_fallback: bool
) -> list[tuple[datetime, datetime, float]]:
    """What to charge when: the slots, and (optionally) a stand-in for the deferred energy."""
    blocks = [(s.start, s.end, _limit(s.power_kw, s.current_a, unit)) for s in plan.slots]
    if deferred_fallback and (begin := plan.deferred_start) is not None:
        # Energy waiting for prices is charged at the very end of the unknown time, unless
        # a replan (prices arrived) replaces this schedule first: the car is charged by
        # departure even if Home Assistant is down when the prices come.
        blocks.append((begin, plan.departure, _limit(plan.power_kw, plan.current_a, unit)))
    return sorted(blocks)


def plan_schedule(
    plan: Plan,
    *,
    unit: Literal["A", "W"] = "A",
    number_phases: int | None = None,
    deferred_fallback: bool = True,
) -> dict[str, Any] | None:
    """The plan as a ChargingSchedule; None when the plan's departure has passed."""
    start = plan.created.replace(microsecond=0)
    duration = math.ceil((plan.departure - start).total_seconds())
    if duration <= 0:
        return None
    changes: list[tuple[int, float]] = [(0, 0.0)]
    charged_until = 0
    for begin_at, end_at, limit in _blocks(plan, unit, deferred_fallback):
        begin = max(charged_until, round((begin_at - start).total_seconds()))
        end = min(duration, round((end_at - start).total_seconds()))
        if end > begin:
            changes += [(begin, limit), (end, 0.0)]
            charged_until = end
    periods: list[dict[str, Any]] = []
    for offset, limit in changes:
        if offset >= duration:
            continue  # the schedule ends there anyway
        if periods and periods[-1]["startPeriod"] == offset:
            periods.pop()  # a later change at the same moment wins
        if periods and periods[-1]["limit"] == limit:
            continue  # same limit: the running period goes on
        period: dict[str, Any] = {"startPeriod": offset, "limit": limit}
        if number_phases is not None:
            period["numberPhases"] = number_phases
        periods.append(period)
    return {
        "startSchedule": start.isoformat(),
        "duration": duration,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": periods,
    }


@dataclass(frozen=True, slots=True)
class ReadbackCheck:
    """Whether a charger's composite schedule says what we sent, and if not, where."""

    matches: bool
    reason: str | None = None  # rejected, unreadable, unit, no_overlap, limit
    at: datetime | None = None
    expected: float | None = None
    actual: float | None = None


@dataclass(frozen=True, slots=True)
class _Steps:
    """A schedule as absolute change points: (from when, limit), and when it ends."""

    unit: str
    changes: list[tuple[datetime, float]]
    end: datetime | None

    def limit_at(self, moment: datetime) -> float | None:
        limit = None
        for when, value in self.changes:
            if when > moment:
                break
            limit = value
        return limit


def _steps(data: Mapping[str, Any]) -> _Steps | None:
    """Either our schedule, the protocol layer's plain read-back (schedule_start, periods,
    charging_rate_unit) or a raw OCPP answer (1.6 chargingSchedule, 2.0.1 schedule)."""
    inner = data.get("chargingSchedule") or data.get("schedule") or data
    if not isinstance(inner, Mapping):
        return None
    start = read_time(
        data.get("schedule_start")
        or data.get("scheduleStart")
        or inner.get("scheduleStart")
        or inner.get("startSchedule")
    )
    unit = data.get("charging_rate_unit") or inner.get("chargingRateUnit")
    raw_periods = data.get("periods") or inner.get("chargingSchedulePeriod")
    if start is None or not isinstance(unit, str) or not isinstance(raw_periods, list | tuple):
        return None
    if not 0 < len(raw_periods) <= _MAX_PERIODS:
        return None
    changes = []
    for period in raw_periods:
        if not isinstance(period, Mapping):
            return None
        offset = read_number(period.get("startPeriod", period.get("start")))
        limit = read_number(period.get("limit"))
        if offset is None or limit is None:
            return None
        if not (0 <= offset <= _MAX_OFFSET and 0 <= limit <= _MAX_LIMIT):
            return None
        changes.append((start + timedelta(seconds=offset), limit))
    changes.sort(key=lambda change: change[0])
    duration = read_number(data.get("duration", inner.get("duration")))
    end = None
    if duration is not None and 0 < duration <= _MAX_OFFSET:
        end = start + timedelta(seconds=duration)
    return _Steps(unit.upper(), changes, end)


def compare_readback(
    sent: Mapping[str, Any],
    readback: Mapping[str, Any],
    *,
    limit_tolerance: float | None = None,
    time_tolerance: timedelta = timedelta(seconds=60),
) -> ReadbackCheck:
    """Compare a GetCompositeSchedule read-back with the schedule we sent.

    Compared as limits over absolute time where both say something, so a charger may merge
    equal periods, start its composite at its own "now", round limits (default tolerance
    0.1 A, or 1% in W) and shift boundaries by up to `time_tolerance` (clocks, rounding).
    """
    status = readback.get("status")
    if isinstance(status, str) and status.lower() != "accepted":
        return ReadbackCheck(False, "rejected")
    ours, theirs = _steps(sent), _steps(readback)
    if ours is None or theirs is None:
        return ReadbackCheck(False, "unreadable")
    if ours.unit != theirs.unit:
        return ReadbackCheck(False, "unit")
    begin = max(ours.changes[0][0], theirs.changes[0][0])
    ends = [end for end in (ours.end, theirs.end) if end is not None]
    finish = min(ends) if ends else max(ours.changes[-1][0], theirs.changes[-1][0])
    if finish - begin <= time_tolerance:
        return ReadbackCheck(False, "no_overlap")
    points = sorted(
        {begin, finish}
        | {when for when, _ in ours.changes + theirs.changes if begin < when < finish}
    )
    for left, right in zip(points, points[1:], strict=False):
        if right - left <= time_tolerance:
            continue  # a boundary a few seconds off, not a different plan
        middle = left + (right - left) / 2
        expected, actual = ours.limit_at(middle), theirs.limit_at(middle)
        if expected is None or actual is None:
            continue
        tolerance = limit_tolerance
        if tolerance is None:
            tolerance = 0.1 if ours.unit == "A" else max(abs(expected) * 0.01, 0.1)
        if abs(expected - actual) > tolerance + 1e-6:
            return ReadbackCheck(False, "limit", left, expected, actual)
    return ReadbackCheck(True)
