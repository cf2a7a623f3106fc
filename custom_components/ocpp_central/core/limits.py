"""Charging limits: what the user asked for, and turning it into what the charger accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

DEFAULT_MAX_CURRENT = 32.0
DEFAULT_PHASES = 3
DEFAULT_VOLTAGE = 230.0


@dataclass(slots=True, frozen=True)
class ElectricalSettings:
    """Per-charger settings the user gives: the limit range and how to convert W and A."""

    max_current: float = DEFAULT_MAX_CURRENT
    phases: int = DEFAULT_PHASES
    voltage: float = DEFAULT_VOLTAGE

    def watts_to_amps(self, watts: float) -> float:
        """Per-phase current for a total power."""
        return watts / (self.voltage * self.phases)

    def amps_to_watts(self, amps: float) -> float:
        """Total power for a per-phase current."""
        return amps * self.voltage * self.phases


@dataclass(slots=True, frozen=True)
class SchedulePeriod:
    """From `start` (time of day) on, charge with at most `limit_amps`."""

    start: time
    limit_amps: float


@dataclass(slots=True, frozen=True)
class ChargingLimit:
    """A limit in amps: constant (optionally for `duration` seconds) or a daily schedule."""

    limit_amps: float
    duration: int | None = None
    schedule: tuple[SchedulePeriod, ...] = field(default_factory=tuple)
    # When a limit with a duration was set: it ends `duration` seconds later, also when it
    # is re-applied after a reconnect or restart.
    start: datetime | None = None
    # The charger's overall maximum (ChargePointMaxProfile / ChargingStationMaxProfile):
    # sent only when the user asks for it, never stored nor re-sent by automatic logic.
    station_max: bool = False

    @property
    def end(self) -> datetime | None:
        """When a limit with a duration ends."""
        if self.duration is None or self.start is None:
            return None
        return self.start + timedelta(seconds=self.duration)

    def expired(self, now: datetime) -> bool:
        """Whether a limit with a duration is over."""
        return (end := self.end) is not None and now >= end

    def as_dict(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "limit_amps": self.limit_amps,
            "duration": self.duration,
            "schedule": [
                {"start": p.start.isoformat(), "limit_amps": p.limit_amps} for p in self.schedule
            ],
            "start": self.start.isoformat() if self.start else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargingLimit:
        """Restore from storage."""
        return cls(
            limit_amps=float(data["limit_amps"]),
            duration=data.get("duration"),
            schedule=tuple(
                SchedulePeriod(time.fromisoformat(p["start"]), float(p["limit_amps"]))
                for p in data.get("schedule", [])
            ),
            start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
        )


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def schedule_periods(
    limit: ChargingLimit, unit: str, settings: ElectricalSettings
) -> list[dict[str, Any]]:
    """OCPP chargingSchedulePeriod list (startPeriod seconds, limit in A or W, 0.1 steps)."""

    def value(amps: float) -> float:
        return round(amps if unit == "A" else settings.amps_to_watts(amps), 1)

    if not limit.schedule:
        return [{"startPeriod": 0, "limit": value(limit.limit_amps)}]
    periods = sorted(limit.schedule, key=lambda p: _seconds(p.start))
    result = [{"startPeriod": _seconds(p.start), "limit": value(p.limit_amps)} for p in periods]
    if result[0]["startPeriod"] != 0:
        # The day starts with the limit that was in force at midnight: the last period's.
        result.insert(0, {"startPeriod": 0, "limit": result[-1]["limit"]})
    return result


def charging_schedule(
    limit: ChargingLimit, unit: str, settings: ElectricalSettings, now: datetime, midnight: datetime
) -> dict[str, Any]:
    """An OCPP ChargingSchedule (same shape in 1.6 and 2.0.1, camelCase) and its kind."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": schedule_periods(limit, unit, settings),
    }
    if limit.schedule:
        schedule["duration"] = 86400
        schedule["startSchedule"] = midnight.isoformat()
    else:
        schedule["startSchedule"] = (limit.start if limit.start and limit.end else now).isoformat()
        if limit.duration:
            schedule["duration"] = limit.duration
    return schedule


def limit_now(limit: ChargingLimit, now: time) -> float:
    """The limit in force at a time of day (the schedule's period, else the constant limit)."""
    if not limit.schedule:
        return limit.limit_amps
    periods = sorted(limit.schedule, key=lambda p: _seconds(p.start))
    current = periods[-1].limit_amps  # before the first start, yesterday's last period holds
    for period in periods:
        if _seconds(period.start) <= _seconds(now):
            current = period.limit_amps
    return current


def next_change(limit: ChargingLimit, now: datetime) -> datetime | None:
    """When the limit in force next changes (a period starts, a duration ends); `now` is local."""
    candidates = []
    if (end := limit.end) is not None and end > now:
        candidates.append(end)
    for period in limit.schedule:
        start = period.start
        at = now.replace(hour=start.hour, minute=start.minute, second=start.second, microsecond=0)
        if at <= now:
            at = (now + timedelta(days=1)).replace(
                hour=start.hour, minute=start.minute, second=start.second, microsecond=0
            )
        candidates.append(at)
    return min(candidates, default=None)
