"""Per-version protocol handlers: OCPP messages in, model updates out, commands out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
import re
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from ocpp.exceptions import SecurityError, TypeConstraintViolationError

from ..connection import OcppConnection, Payload
from ..id_tags import AuthResult
from ..limits import ChargingLimit, charging_schedule

if TYPE_CHECKING:
    from ..central import CentralSystem
    from ..model import Charger


def parse_time(value: Any) -> datetime:
    """Parse an OCPP timestamp; a missing or broken one means now."""
    if isinstance(value, str) and (parsed := dt_util.parse_datetime(value)) is not None:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt_util.UTC)
        return parsed
    return dt_util.utcnow()


def now_iso() -> str:
    """Current time as OCPP wants it."""
    return dt_util.utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")


def snake(value: str) -> str:
    """CamelCase OCPP enum value to the snake_case our entities use."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


def profile_id(connector_id: int, in_transaction: bool) -> int:
    """Stable charging profile id per connector and purpose, so a new limit replaces ours."""
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


def composite_periods(periods: list[Payload]) -> list[Payload]:
    """chargingSchedulePeriod entries as plain data (same shape in 1.6 and 2.x)."""
    return [
        {
            "start": period["startPeriod"],
            "limit": float(period["limit"]),
            **({"phases": period["numberPhases"]} if "numberPhases" in period else {}),
        }
        for period in periods
    ]


class ChargerProtocol(ABC):
    """What the rest of the integration may ask of a connected charger, in any version."""

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Bind to a connection; subclasses register their handlers."""
        self.central = central
        self.connection = connection
        self.charger_id = connection.charger_id
        self._ready = False

    # --- shared by every version (same messages and payloads) ----------------------------

    def _call_handled(self, action: str, response: Payload) -> None:
        """The first message an accepted charger gets answered makes it ready for commands."""
        if self._ready or self.charger_id not in self.central.chargers:
            return
        if action == "BootNotification" and response.get("status") != "Accepted":
            return
        self._ready = True
        self.central.charger_ready(self.charger_id)

    def _data_transfer(self, payload: Payload) -> Payload:
        self._charger()
        self.connection.log_once.once(
            f"datatransfer-{payload.get('vendorId')}",
            "DataTransfer from vendor %s is not handled",
            payload.get("vendorId"),
        )
        return {"status": "UnknownVendorId"}

    def _security_event(self, payload: Payload) -> Payload:
        """SecurityEventNotification (2.x, and the 1.6 security extension, which the ocpp
        library has no schema for: hence the checks here)."""
        charger = self._charger()
        event_type, tech_info = payload.get("type"), payload.get("techInfo")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 50:
            raise TypeConstraintViolationError(description="type must be a string of 1-50")
        if tech_info is not None and not isinstance(tech_info, str):
            raise TypeConstraintViolationError(description="techInfo must be a string")
        timestamp = payload.get("timestamp")
        self.central.fire_security_event(
            charger, event_type, tech_info, timestamp if isinstance(timestamp, str) else None
        )
        return {}

    def _firmware_status(self, payload: Payload) -> Payload:
        charger = self._charger()
        charger.firmware_status = snake(payload["status"])
        self.central.save_soon()
        charger.notify()
        return {}

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

    def _profile_core(self, limit: ChargingLimit, in_transaction: bool) -> Payload:
        """What a charging profile says, the same in every version (only its envelope differs).

        One stack level (the charger's maximum if it is 0) and a fixed id per connector and
        purpose: a new limit replaces the previous one instead of piling up on the charger.
        """
        raw = self.central.configuration(self.charger_id).get(self.stack_level_key)
        try:
            stack_level = min(1, int(raw)) if raw is not None else 1
        except ValueError:
            stack_level = 1
        core: Payload = {
            "stackLevel": stack_level,
            "chargingProfilePurpose": "TxProfile" if in_transaction else "TxDefaultProfile",
            "chargingProfileKind": "Recurring" if limit.schedule else "Absolute",
        }
        if limit.schedule:
            core["recurrencyKind"] = "Daily"
        return core

    def _schedule(self, limit: ChargingLimit) -> Payload:
        """The ChargingSchedule of a limit, in the unit the charger takes."""
        return charging_schedule(
            limit,
            self._rate_unit(),
            self.central.electrical_settings(self.charger_id),
            dt_util.utcnow().replace(microsecond=0),
            dt_util.start_of_local_day().astimezone(dt_util.UTC),
        )

    @property
    def ready(self) -> bool:
        """Whether the charger was accepted on this connection and takes commands."""
        return self._ready

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
        """ClearChargingProfile for both of our profiles on the connector."""
        accepted = False
        for in_transaction in (True, False):
            answer = await self.connection.call(
                "ClearChargingProfile",
                {self.profile_id_field: profile_id(connector_id, in_transaction)},
            )
            accepted |= answer.get("status") == "Accepted"
        return accepted

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
    ) -> bool:
        """Send a limit (bound to the running transaction, if any); return whether accepted."""

    @abstractmethod
    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """The schedule the charger will apply: status, schedule_start, periods ..."""

    @abstractmethod
    async def change_availability(self, connector_id: int, available: bool) -> str:
        """accepted, scheduled or rejected."""

    @abstractmethod
    async def reset(self, hard: bool) -> bool:
        """Reset; return whether accepted."""

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
        self, upload_url: str, start: datetime | None, stop: datetime | None
    ) -> str | None:
        """Start a log upload; return the file name."""

    @abstractmethod
    async def get_configuration(self, keys: list[str] | None) -> Payload:
        """{"keys": [{"key", "value", "readonly"}], "unknown_keys": [...]}."""

    @abstractmethod
    async def set_configuration(self, key: str, value: str) -> str:
        """accepted, reboot_required, rejected or not_supported."""

    @abstractmethod
    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """accepted, rejected or not_implemented."""

    @abstractmethod
    async def reserve_now(
        self, connector_id: int, id_tag: str, expiry: datetime, reservation_id: int
    ) -> str:
        """accepted, faulted, occupied, rejected or unavailable."""

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
