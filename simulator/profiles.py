"""Charging profiles as a charger keeps them: store, clear, and work out the current limit.

Both OCPP versions are reduced to one shape (`Profile`); the limit that applies to a
connector is the lowest of the charger's own maximum, a ChargePointMaxProfile /
ChargingStationMaxProfile, and the session's TxProfile (else a TxDefaultProfile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

NOMINAL_VOLTAGE = 230.0


def parse_time(value: str | None) -> datetime | None:
    """An OCPP timestamp, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(slots=True)
class Period:
    """From `start` seconds into the schedule: at most `limit` (A or W)."""

    start: int
    limit: float
    phases: int | None = None


@dataclass(slots=True)
class Profile:
    """One installed charging profile (either OCPP version)."""

    profile_id: int
    connector: int  # 0: the whole charger
    stack_level: int
    purpose: str  # ChargePointMaxProfile / ChargingStationMaxProfile, TxDefaultProfile, TxProfile
    kind: str  # Absolute, Recurring, Relative
    unit: str  # A or W
    periods: list[Period]
    recurrency: str | None = None
    start_schedule: datetime | None = None
    duration: int | None = None
    transaction_id: Any = None
    valid_to: datetime | None = None
    received: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_16(cls, connector: int, data: dict[str, Any]) -> Profile:
        """From a 1.6 csChargingProfiles object."""
        return cls._from_ocpp(data["chargingProfileId"], connector, data, data["chargingSchedule"])

    @classmethod
    def from_201(cls, evse: int, data: dict[str, Any]) -> Profile:
        """From a 2.0.1 chargingProfile object (its first schedule)."""
        return cls._from_ocpp(data["id"], evse, data, data["chargingSchedule"][0])

    @classmethod
    def _from_ocpp(
        cls, profile_id: int, connector: int, data: dict[str, Any], schedule: dict[str, Any]
    ) -> Profile:
        # Apart from the id and how the schedule is nested, both versions name fields alike.
        return cls(
            profile_id=profile_id,
            connector=connector,
            stack_level=data.get("stackLevel", 0),
            purpose=data["chargingProfilePurpose"],
            kind=data["chargingProfileKind"],
            unit=schedule["chargingRateUnit"],
            periods=[
                Period(p["startPeriod"], float(p["limit"]), p.get("numberPhases"))
                for p in schedule["chargingSchedulePeriod"]
            ],
            recurrency=data.get("recurrencyKind"),
            start_schedule=parse_time(schedule.get("startSchedule")),
            duration=schedule.get("duration"),
            transaction_id=data.get("transactionId"),
            valid_to=parse_time(data.get("validTo")),
        )

    def limit_amps(
        self, now: datetime, session_start: datetime | None, phases: int
    ) -> float | None:
        """The limit in A per phase this profile sets now, or None when it sets none."""
        if self.valid_to is not None and now >= self.valid_to:
            return None
        if self.kind == "Relative":
            start = session_start or now
        elif self.kind == "Recurring":
            anchor = self.start_schedule or self.received
            cycle = timedelta(days=7 if self.recurrency == "Weekly" else 1)
            start = anchor + ((now - anchor) // cycle) * cycle if now >= anchor else anchor
        else:
            start = self.start_schedule or session_start or self.received
        elapsed = (now - start).total_seconds()
        if elapsed < 0 or (self.duration is not None and elapsed >= self.duration):
            return None
        active = None
        for period in sorted(self.periods, key=lambda p: p.start):
            if period.start <= elapsed:
                active = period
        if active is None:
            return None
        if self.unit == "W":
            return active.limit / (NOMINAL_VOLTAGE * (active.phases or phases))
        return active.limit


class ProfileStore:
    """The profiles one charger has installed."""

    def __init__(self) -> None:
        """Start empty."""
        self.profiles: list[Profile] = []

    def install(self, profile: Profile) -> None:
        """Add a profile, replacing one with the same id (or the same purpose and level)."""
        self.profiles = [
            p
            for p in self.profiles
            if p.profile_id != profile.profile_id
            and not (
                p.connector == profile.connector
                and p.purpose == profile.purpose
                and p.stack_level == profile.stack_level
            )
        ]
        self.profiles.append(profile)

    def clear(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """Remove matching profiles; return whether any was removed."""

        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.profile_id == profile_id
            return (
                (connector is None or p.connector == connector)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not matches(p)]
        return len(self.profiles) != before

    def drop_transaction(self, connector: int) -> None:
        """A session ended: its TxProfiles go with it."""
        self.profiles = [
            p for p in self.profiles if not (p.purpose == "TxProfile" and p.connector == connector)
        ]

    def limit(
        self,
        connector: int,
        max_current: float,
        *,
        transaction_id: Any = None,
        session_start: datetime | None = None,
        phases: int = 3,
    ) -> float:
        """The current (A per phase) a connector may draw now."""
        now = datetime.now(UTC)
        limit = max_current

        def best(candidates: list[Profile]) -> float | None:
            for profile in sorted(candidates, key=lambda p: -p.stack_level):
                if (amps := profile.limit_amps(now, session_start, phases)) is not None:
                    return amps
            return None

        station_max = best(
            [
                p
                for p in self.profiles
                if p.purpose in ("ChargePointMaxProfile", "ChargingStationMaxProfile")
            ]
        )
        if station_max is not None:
            limit = min(limit, station_max)
        tx = None
        if transaction_id is not None:
            tx = best(
                [
                    p
                    for p in self.profiles
                    if p.purpose == "TxProfile"
                    and p.connector in (connector, 0)
                    and (p.transaction_id is None or str(p.transaction_id) == str(transaction_id))
                ]
            )
        if tx is None:
            tx = best(
                [
                    p
                    for p in self.profiles
                    if p.purpose == "TxDefaultProfile" and p.connector == connector
                ]
            )
        if tx is None:
            tx = best(
                [p for p in self.profiles if p.purpose == "TxDefaultProfile" and p.connector == 0]
            )
        if tx is not None:
            limit = min(limit, tx)
        return max(0.0, limit)
