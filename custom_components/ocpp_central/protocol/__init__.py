"""Per-version protocol handlers: OCPP messages in, model updates out, commands out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
import re
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from ocpp.exceptions import SecurityError, TypeConstraintViolationError

from .. import bounds
from ..connection import Apply, CallErrorReceived, OcppConnection, Payload
from ..const import HEARTBEAT_INTERVAL, PENDING_RETRY_INTERVAL
from ..id_tags import AuthResult
from ..limits import ChargingLimit, charging_schedule
from ..measurands import merge, normalize
from ..model import FIRMWARE_STATUSES, ChargerInfo

if TYPE_CHECKING:
    from ..central import CentralSystem
    from ..model import Charger


# Reads one sampled value (its number and multiplier): bounded, or None when not shown.
type ReadSample = Callable[[Any, Any], float | None]
# What one sampledValue says in its version's shape: (value, multiplier, unit), or None for
# one that is not a number at all (signed data).
type SampleFields = Callable[[Payload], tuple[Any, Any, Any] | None]


def samples(
    meter_values: Any, read: ReadSample, fields: SampleFields
) -> list[tuple[datetime, dict[str, float]]]:
    """MeterValue list to (timestamp, {key: value}) samples; `read` bounds each number."""
    result = []
    for meter_value in meter_values or ():
        readings = []
        for sampled in meter_value.get("sampledValue") or ():
            if (found := fields(sampled)) is None:
                continue
            value, multiplier, unit = found
            if (number := read(value, multiplier)) is None:
                continue
            reading = normalize(
                sampled.get("measurand"),
                number,
                unit=unit,
                phase=sampled.get("phase"),
                location=sampled.get("location"),
            )
            if reading is not None:
                readings.append(reading)
        result.append((parse_time(meter_value.get("timestamp")), merge(readings)))
    return result


def parse_time(value: Any) -> datetime:
    """Parse an OCPP timestamp; a missing or broken one means now, and so does one far ahead
    of Home Assistant's clock (bounds.FUTURE_TOLERANCE): a charger's clock that jumped years
    ahead must not make that time the newest, or every later reading would look old."""
    now = dt_util.utcnow()
    if isinstance(value, str) and (parsed := dt_util.parse_datetime(value)) is not None:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt_util.UTC)
        return bounds.not_ahead(parsed, now)
    return now


def now_iso() -> str:
    """Current time as OCPP wants it."""
    return dt_util.utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")


def snake(value: str) -> str:
    """CamelCase OCPP enum value to the snake_case our entities use."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


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


class NotInVersion(Exception):
    """A request uses a field (or an action) the charger's OCPP version does not have.

    Raised before anything is sent; the user gets a validation error naming it.
    """

    def __init__(self, name: str, *, action: bool = False) -> None:
        """Name the field (or action)."""
        super().__init__(name)
        self.name = name
        self.action = action


def composite_periods(periods: list[Payload]) -> list[Payload]:
    """chargingSchedulePeriod entries as plain data (same shape in 1.6 and 2.x); a limit
    out of range fails the command like any other broken answer."""
    try:
        limits = [bounds.limit(period["limit"]) for period in periods]
    except bounds.OutOfBounds as err:
        raise CallErrorReceived("PropertyConstraintViolation", str(err)) from err
    return [
        {
            "start": period["startPeriod"],
            "limit": limit,
            **({"phases": period["numberPhases"]} if "numberPhases" in period else {}),
        }
        for period, limit in zip(periods, limits, strict=True)
    ]


class ChargerProtocol(ABC):
    """What the rest of the integration may ask of a connected charger, in any version."""

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Bind to a connection; subclasses register their handlers."""
        self.central = central
        self.connection = connection
        self.charger_id = connection.charger_id
        self._ready = False

    @property
    def ready(self) -> bool:
        """Whether the charger was accepted on this connection and takes commands."""
        return self._ready

    # --- shared by every version (same messages and payloads) ----------------------------

    def _call_handled(self, action: str, response: Payload) -> None:
        """The first message an accepted charger gets answered makes it ready for commands."""
        if self._ready or self.charger_id not in self.central.chargers:
            return
        if action == "BootNotification" and response.get("status") != "Accepted":
            return
        self._ready = True
        self.central.charger_ready(self.charger_id)

    # Handlers parse and check a message, then return the step that applies it (see
    # connection.Apply): nothing before that step changes the model, stores or fires anything.

    def _decided(self, field: str) -> Payload | None:
        """Billing mode: the backend's idTagInfo (1.6) or idTokenInfo (2.x) for the message
        being applied; None when Home Assistant decides (see connection.Relay). The backend's
        answer was checked against the same version's schema when it arrived."""
        decision = self.connection.decision
        info = decision.get(field) if decision is not None else None
        return info if isinstance(info, dict) else None

    def _read_sample(self, value: Any, multiplier: Any = 0) -> float | None:
        """A sampled value, bounded (None: not a number, not shown). Out of range, it
        refuses the message; from a lenient charger the sample is dropped (logged once)."""
        try:
            return bounds.reading(value, 0 if multiplier is None else multiplier)
        except bounds.OutOfBounds as err:
            if not self.connection.lenient:
                raise
            self.connection.log_once.once(
                "out-of-range", "dropping a sampled value out of range (%s)", err
            )
            return None

    def _data_transfer(self, payload: Payload) -> Apply:
        self._charger()
        vendor_id = str(payload.get("vendorId"))[: bounds.MAX_ID_LENGTH]

        def apply() -> Payload:
            self.connection.log_once.once(
                f"datatransfer-{vendor_id}", "DataTransfer from vendor %s is not handled", vendor_id
            )
            return {"status": "UnknownVendorId"}

        return apply

    def _security_event(self, payload: Payload) -> Apply:
        """SecurityEventNotification (2.x, and the 1.6 security extension, which the ocpp
        library has no schema for: hence the checks here)."""
        charger = self._charger()
        event_type, tech_info = payload.get("type"), payload.get("techInfo")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 50:
            raise TypeConstraintViolationError(description="type must be a string of 1-50")
        if tech_info is not None and not isinstance(tech_info, str):
            raise TypeConstraintViolationError(description="techInfo must be a string")
        timestamp = payload.get("timestamp")

        def apply() -> Payload:
            self.central.fire_security_event(
                charger, event_type, tech_info, timestamp if isinstance(timestamp, str) else None
            )
            return {}

        return apply

    def _firmware_status(self, payload: Payload) -> Apply:
        charger = self._charger()
        status = snake(payload["status"])
        if status not in FIRMWARE_STATUSES:
            return lambda: {}  # from a lenient charger: nothing we can show

        def apply() -> Payload:
            charger.firmware_status = status
            self.central.save_soon()
            charger.notify()
            return {}

        return apply

    def _boot(self, info: ChargerInfo) -> Apply:
        """The BootNotification answer for what a charger told about itself."""

        def apply() -> Payload:
            status = self.central.boot(self.charger_id, info)
            interval = HEARTBEAT_INTERVAL if status != "Pending" else PENDING_RETRY_INTERVAL
            return {"currentTime": now_iso(), "interval": interval, "status": status}

        return apply

    def _heartbeat(self, payload: Payload) -> Apply:
        return lambda: {"currentTime": now_iso()}

    async def trigger_boot(self) -> None:
        """TriggerMessage(BootNotification)."""
        await self.connection.call("TriggerMessage", {"requestedMessage": "BootNotification"})

    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> Payload:
        """DataTransfer; returns {"status", "data"}."""
        payload: Payload = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        answer = await self.connection.call("DataTransfer", payload)
        return {"status": snake(answer.get("status", "Rejected")), "data": answer.get("data")}

    @abstractmethod
    def _rate_unit(self) -> str:
        """A, unless the charger only takes limits in W."""

    def stack_level(self) -> int:
        """The stack level of our profiles: 1, or the charger's maximum if that is 0."""
        raw = self.central.configuration(self.charger_id).get(self.stack_level_key)
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
        if self.rate_unit_key not in self.central.configuration(self.charger_id):
            return {}
        return {"chargingRateUnit": self._rate_unit()}

    def _schedule(self, limit: ChargingLimit) -> Payload:
        """The ChargingSchedule of a limit, in the unit the charger takes."""
        return charging_schedule(
            limit,
            self._rate_unit(),
            self.central.electrical_settings(self.charger_id),
            dt_util.utcnow().replace(microsecond=0),
            dt_util.start_of_local_day().astimezone(dt_util.UTC),
        )

    def smart_stack_level(self) -> tuple[int, bool]:
        """Smart charging's stack level, and whether it is the user's too (see stack_levels)."""
        user, smart = stack_levels(
            self.central.configuration(self.charger_id).get(self.stack_level_key)
        )
        return smart, smart == user

    def _smart_profile(self, amps: float, start: datetime) -> tuple[Payload, Payload]:
        """What smart charging's TxProfile says, and its schedule, the same in every version.

        Absolute from the session's start as the charger reported it (its own clock): the
        limit applies at once even when the charger's clock differs from ours.
        """
        settings = self.central.electrical_settings(self.charger_id)
        unit = self._rate_unit()
        limit = amps if unit == "A" else settings.amps_to_watts(amps)
        core: Payload = {
            "stackLevel": self.smart_stack_level()[0],
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
        }
        schedule: Payload = {
            "chargingRateUnit": unit,
            "startSchedule": start.astimezone(dt_util.UTC).isoformat(),
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
            "validTo": valid_to.astimezone(dt_util.UTC).isoformat(),
        }

    @abstractmethod
    async def set_smart_schedule(
        self,
        connector_id: int,
        schedule: Payload,
        transaction_id: int | str | None,
        valid_to: datetime,
    ) -> bool:
        """Send the charging plan as smart charging's profile (TxProfile for the running
        session, TxDefaultProfile before one); return whether accepted."""

    @abstractmethod
    async def set_smart_limit(
        self, connector_id: int, amps: float, transaction_id: int | str, start: datetime
    ) -> bool:
        """Send smart charging's TxProfile for the running session; return whether accepted."""

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

    async def set_configurations(self, values: dict[str, str]) -> dict[str, str]:
        """Change several keys: one after the other (a 2.x station takes them at once)."""
        return {key: await self.set_configuration(key, value) for key, value in values.items()}

    @abstractmethod
    async def confirm_open_sessions(self, charger: Charger) -> None:
        """After a reconnect: learn whether the sessions still open here are still on."""

    async def cancel_reservation(self, reservation_id: int) -> str:
        """CancelReservation; returns accepted or rejected."""
        answer = await self.connection.call("CancelReservation", {"reservationId": reservation_id})
        return snake(answer.get("status", "Rejected"))

    def _charger(self) -> Charger:
        """The approved charger; a charger not (yet) accepted may only boot."""
        if (charger := self.central.chargers.get(self.charger_id)) is None:
            raise SecurityError(description="Charger is not accepted; send BootNotification")
        return charger

    # The configuration key of the periodic meter sample interval in this version.
    meter_interval_key: str
    # The configuration key holding the charger's HTTP Basic password, and the longest
    # password it takes (in UTF-8 bytes).
    password_key: str
    password_max_bytes = 40
    # The field naming a profile id in ClearChargingProfile.
    profile_id_field: str
    # The purpose of the station maximum profile, and the configuration key naming the
    # rate units the charger takes.
    station_max_purpose: str
    rate_unit_key: str
    # The configuration key of the highest charging profile stack level.
    stack_level_key: str

    def password_setting(self, password: str) -> str:
        """The value of `password_key` that makes the charger use `password`."""
        return password

    @abstractmethod
    async def read_configuration(self) -> dict[str, str]:
        """Read every configuration key the charger has, as key -> value."""

    @abstractmethod
    def connector_ids(self, configuration: dict[str, str]) -> list[int]:
        """The connectors (EVSEs) the configuration describes."""

    @abstractmethod
    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the charger to start a session; return whether it accepted."""

    @abstractmethod
    async def remote_stop(self, transaction_id: int | str) -> bool:
        """Ask the charger to stop a session; return whether it accepted."""

    @abstractmethod
    async def set_charging_limit(
        self, connector_id: int, limit: ChargingLimit, transaction_id: int | str | None
    ) -> str:
        """Send a limit (bound to the running transaction, if any): accepted, rejected or
        not_supported."""

    @abstractmethod
    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """The schedule the charger will apply: status, schedule_start, periods ..."""

    @abstractmethod
    async def change_availability(
        self, connector_id: int, available: bool, evse_connector: int | None = None
    ) -> str:
        """accepted, scheduled or rejected; `evse_connector`: one plug of the EVSE (2.x)."""

    @abstractmethod
    async def reset(self, hard: bool, connector_id: int | None = None) -> bool:
        """Reset the charger (or one EVSE, 2.x); return whether accepted."""

    @abstractmethod
    async def unlock(self, connector_id: int) -> str:
        """unlocked, unlock_failed or not_supported."""

    @abstractmethod
    async def update_firmware(
        self, location: str, retrieve_at: datetime, retries: int | None, retry_interval: int | None
    ) -> None:
        """Start a firmware update."""

    @abstractmethod
    async def get_diagnostics(
        self,
        upload_url: str,
        start: datetime | None,
        stop: datetime | None,
        log_type: str = "diagnostics",
    ) -> str | None:
        """Start a log upload (diagnostics, or the security log in 2.x); return the file name."""

    @abstractmethod
    async def get_configuration(
        self, keys: list[str] | None, report_type: str | None = None
    ) -> Payload:
        """{"keys": [{"key", "value", "readonly"}], "unknown_keys": [...]}; `report_type`
        (2.x): configuration_inventory, summary_inventory or full_inventory."""

    @abstractmethod
    async def set_configuration(self, key: str, value: str) -> str:
        """accepted, reboot_required, rejected or not_supported."""

    @abstractmethod
    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """accepted, rejected or not_implemented."""

    @abstractmethod
    async def reserve_now(
        self,
        connector_id: int,
        id_tag: str,
        expiry: datetime,
        reservation_id: int,
        *,
        parent: str | None = None,
        connector_type: str | None = None,
    ) -> str:
        """accepted, faulted, occupied, rejected or unavailable; `parent`: a group tag
        that may use it too, `connector_type` (2.x): the plug type reserved."""

    @abstractmethod
    def supports_local_list(self, configuration: dict[str, str]) -> bool:
        """Whether the charger keeps a local authorization list we should fill."""

    @abstractmethod
    async def get_local_list_version(self) -> int:
        """The version of the charger's local list."""

    @abstractmethod
    async def send_local_list(
        self, version: int, entries: dict[str, AuthResult | None], *, full: bool
    ) -> str:
        """SendLocalList; None removes a tag (differential). accepted, failed, version_mismatch ..."""
