"""Charging profiles, the same in every version but for their envelope: our profile ids and
stack levels, the user's limits and smart charging's, clearing them, the composite schedule."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from ..core.clock import UTC, utcnow
from ..core.limits import ChargingLimit, charging_schedule
from ..core.status import snake
from ..wire.connection import OcppConnection, Payload
from .port import CentralPort
from .values import NotInVersion, composite_periods

# The id of our station maximum profile (connector 0 only).
STATION_MAX_PROFILE_ID = 300


def profile_id(connector_id: int, in_transaction: bool, station_max: bool = False) -> int:
    """Stable charging profile id per connector and purpose, so a new limit replaces ours."""
    if station_max:
        return STATION_MAX_PROFILE_ID
    return (200 if in_transaction else 100) + connector_id


# Smart charging's own TxProfile per connector: never one of the user's ids (100+, 200+).
SMART_PROFILE_BASE = 300


def smart_profile_id(connector_id: int) -> int:
    """The id of smart charging's TxProfile on a connector (one per connector: a new limit
    replaces the previous one, and clearing it leaves the user's own profiles alone)."""
    return SMART_PROFILE_BASE + connector_id


def stack_levels(raw: str | None) -> tuple[int, int]:
    """The user's stack level and smart charging's, from the charger's highest level.

    The user's limits use level 1 (0 on a charger that allows only 0). Smart charging goes one
    above, so its TxProfile wins while it exists and the user's comes back once it is cleared;
    on a charger without a higher level both share one (then ours replaces the user's).
    """
    try:
        highest = max(0, int(raw)) if raw is not None else None
    except ValueError:
        highest = None
    user = min(1, highest) if highest is not None else 1
    return user, user + 1 if highest is None or highest > user else user


class ChargingProfiles(ABC):
    """The charging-profile commands of a charger's handler (a part of ChargerProtocol)."""

    port: CentralPort
    connection: OcppConnection
    # The field naming a connector (1.6) or EVSE (2.x) in requests.
    connector_field: str
    # The field naming a profile id in ClearChargingProfile.
    profile_id_field: str
    # The purpose of the station maximum profile, and the configuration key naming the
    # rate units the charger takes.
    station_max_purpose: str
    rate_unit_key: str
    # The configuration key of the highest charging profile stack level.
    stack_level_key: str

    @abstractmethod
    def _rate_unit(self) -> str:
        """A, unless the charger only takes limits in W."""

    def stack_level(self) -> int:
        """The stack level of our profiles: 1, or the charger's maximum if that is 0."""
        raw = self.port.configuration.get(self.stack_level_key)
        try:
            return min(1, int(raw)) if raw is not None else 1
        except ValueError:
            return 1

    def _profile_core(self, limit: ChargingLimit, in_transaction: bool) -> Payload:
        """What a charging profile says, the same in every version (only its envelope differs).

        One stack level (the charger's maximum if it is 0) and a fixed id per connector and
        purpose: a new limit replaces the previous one instead of piling up on the charger.
        A limit for a while is valid only for that while.
        """
        if limit.station_max:
            purpose = self.station_max_purpose
        else:
            purpose = "TxProfile" if in_transaction else "TxDefaultProfile"
        core: Payload = {
            "stackLevel": self.stack_level(),
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Recurring" if limit.schedule else "Absolute",
        }
        if limit.schedule:
            core["recurrencyKind"] = "Daily"
        elif limit.start is not None and (end := limit.end) is not None:
            core["validFrom"] = limit.start.isoformat()
            core["validTo"] = end.isoformat()
        return core

    def _composite_unit(self) -> Payload:
        """GetCompositeSchedule's chargingRateUnit: the unit the charger takes, if it said."""
        if self.rate_unit_key not in self.port.configuration:
            return {}
        return {"chargingRateUnit": self._rate_unit()}

    def _schedule(self, limit: ChargingLimit) -> Payload:
        """The ChargingSchedule of a limit, in the unit the charger takes."""
        return charging_schedule(
            limit,
            self._rate_unit(),
            self.port.electrical_settings(),
            utcnow().replace(microsecond=0),
            self.port.start_of_local_day(),
        )

    def smart_stack_level(self) -> tuple[int, bool]:
        """Smart charging's stack level, and whether it is the user's too (see stack_levels)."""
        user, smart = stack_levels(self.port.configuration.get(self.stack_level_key))
        return smart, smart == user

    def _smart_profile(self, amps: float, start: datetime) -> tuple[Payload, Payload]:
        """What smart charging's TxProfile says, and its schedule, the same in every version.

        Absolute from the session's start as the charger reported it (its own clock): the
        limit applies at once even when the charger's clock differs from ours.
        """
        settings = self.port.electrical_settings()
        unit = self._rate_unit()
        limit = amps if unit == "A" else settings.amps_to_watts(amps)
        core: Payload = {
            "stackLevel": self.smart_stack_level()[0],
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
        }
        schedule: Payload = {
            "chargingRateUnit": unit,
            "startSchedule": start.astimezone(UTC).isoformat(),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit, 1)}],
        }
        return core, schedule

    def smart_rate_unit(self) -> str:
        """The unit smart charging's schedules are in on this charger (A unless it takes W only)."""
        return self._rate_unit()

    def _plan_core(self, in_transaction: bool, valid_to: datetime) -> Payload:
        """What the charging plan's profile says, the same in every version: smart charging's
        stack level, valid until departure (nothing of the plan outlives it)."""
        return {
            "stackLevel": self.smart_stack_level()[0],
            "chargingProfilePurpose": "TxProfile" if in_transaction else "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validTo": valid_to.astimezone(UTC).isoformat(),
        }

    async def set_smart_schedule(
        self,
        connector_id: int,
        schedule: Payload,
        transaction_id: int | str | None,
        valid_to: datetime,
    ) -> bool:
        """Send the charging plan as smart charging's profile (TxProfile for the running
        session, TxDefaultProfile before one); return whether accepted."""
        core = self._plan_core(transaction_id is not None, valid_to)
        return await self._send_smart_profile(connector_id, core, schedule, transaction_id)

    async def set_smart_limit(
        self, connector_id: int, amps: float, transaction_id: int | str, start: datetime
    ) -> bool:
        """Send smart charging's TxProfile for the running session; return whether accepted."""
        core, schedule = self._smart_profile(amps, start)
        return await self._send_smart_profile(connector_id, core, schedule, transaction_id)

    @abstractmethod
    async def _send_smart_profile(
        self, connector_id: int, core: Payload, schedule: Payload, transaction_id: int | str | None
    ) -> bool:
        """SetChargingProfile of smart charging's profile (its id, the version's envelope);
        bound to the session when `transaction_id` is given; whether accepted."""

    async def clear_smart_limit(self, connector_id: int) -> bool:
        """ClearChargingProfile for smart charging's profile; True once it is gone (also when
        the charger had none: it drops a TxProfile with its session)."""
        answer = await self.connection.call(
            "ClearChargingProfile", {self.profile_id_field: smart_profile_id(connector_id)}
        )
        return answer.get("status") in ("Accepted", "Unknown")

    async def clear_charging_limit(self, connector_id: int) -> bool:
        """ClearChargingProfile for our profiles on the connector (on 0: also the maximum)."""
        ids = [profile_id(connector_id, True), profile_id(connector_id, False)]
        if connector_id == 0:
            ids.append(STATION_MAX_PROFILE_ID)
        accepted = False
        for profile in ids:
            answer = await self.connection.call(
                "ClearChargingProfile", {self.profile_id_field: profile}
            )
            accepted |= answer.get("status") == "Accepted"
        return accepted

    async def clear_charging_profiles(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> str:
        """ClearChargingProfile by criteria (every connector when None); accepted or unknown."""
        answer = await self.connection.call(
            "ClearChargingProfile", self._clear_criteria(connector_id, purpose, stack_level)
        )
        return snake(answer.get("status", "Unknown"))

    @abstractmethod
    def _clear_criteria(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> Payload:
        """ClearChargingProfile's payload for these criteria."""

    async def get_charging_profiles(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> list[Payload]:
        """The charging profiles installed on the charger (OCPP 2.x only)."""
        raise NotInVersion("get_charging_profiles", action=True)

    @abstractmethod
    async def set_charging_limit(
        self, connector_id: int, limit: ChargingLimit, transaction_id: int | str | None
    ) -> str:
        """Send a limit (bound to the running transaction, if any): accepted, rejected or
        not_supported."""

    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """GetCompositeSchedule: the schedule the charger will apply, as plain data (status,
        connector_id, schedule_start, duration, charging_rate_unit, periods)."""
        answer = await self.connection.call(
            "GetCompositeSchedule",
            {self.connector_field: connector_id, "duration": duration, **self._composite_unit()},
        )
        schedule, connector, start = self._composite_schedule(answer, connector_id)
        return {
            "status": snake(answer.get("status", "Rejected")),
            "connector_id": connector,
            "schedule_start": start,
            "duration": schedule.get("duration"),
            "charging_rate_unit": schedule.get("chargingRateUnit"),
            "periods": composite_periods(schedule.get("chargingSchedulePeriod", [])),
        }

    @abstractmethod
    def _composite_schedule(self, answer: Payload, connector_id: int) -> tuple[Payload, Any, Any]:
        """Where this version's GetCompositeSchedule answer keeps the schedule, the connector
        (EVSE) it is for and its start."""
