"""What every version's handler shares: the messages both versions send alike, the session
rules, and the commands every charger takes; each version adds its own (v16.py, v201.py)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import SecurityError, TypeConstraintViolationError

from ..const import HEARTBEAT_INTERVAL, PENDING_RETRY_INTERVAL
from ..core import bounds
from ..core.events import SecurityEventReported
from ..core.id_tags import AuthResult
from ..core.model import ChargerInfo
from ..core.sessions import end_session, start_session
from ..core.status import FIRMWARE_STATUSES, snake
from ..wire.connection import Apply, Handlers, OcppConnection, Payload
from .port import BootDecision, CentralPort
from .profiles import ChargingProfiles
from .values import now_iso

if TYPE_CHECKING:
    from ..core.model import Charger, Connector, Transaction


# The BootNotification status for each decision (the same words in 1.6 and 2.x).
_BOOT = {
    BootDecision.ACCEPTED: "Accepted",
    BootDecision.PENDING: "Pending",
    BootDecision.REJECTED: "Rejected",
}


class ChargerProtocol(ChargingProfiles):
    """What the rest of the integration may ask of a connected charger, in any version."""

    def __init__(
        self, port: CentralPort, open_connection: Callable[[Handlers], OcppConnection]
    ) -> None:
        """Bind to the outside, and open the connection with this version's handlers."""
        self.port = port
        self._ready = False
        self.connection = open_connection(self._handlers())
        self.charger_id = self.connection.charger_id

    @abstractmethod
    def _handlers(self) -> Handlers:
        """What this version answers to the messages a charger sends."""

    @property
    def ready(self) -> bool:
        """Whether the charger was accepted on this connection and takes commands."""
        return self._ready

    # --- shared by every version (same messages and payloads) ----------------------------

    def _call_handled(self, action: str, response: Payload) -> None:
        """The first message an accepted charger gets answered makes it ready for commands."""
        if self._ready or self.port.charger is None:
            return
        if action == "BootNotification" and response.get("status") != "Accepted":
            return
        self._ready = True
        self.port.charger_ready()

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
        self._charger()
        event_type, tech_info = payload.get("type"), payload.get("techInfo")
        if not isinstance(event_type, str) or not 0 < len(event_type) <= 50:
            raise TypeConstraintViolationError(description="type must be a string of 1-50")
        if tech_info is not None and not isinstance(tech_info, str):
            raise TypeConstraintViolationError(description="techInfo must be a string")
        timestamp = payload.get("timestamp")

        def apply() -> Payload:
            self.port.publish(
                SecurityEventReported(
                    event_type, tech_info, timestamp if isinstance(timestamp, str) else None
                )
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
            self.port.save_soon()
            charger.notify()
            return {}

        return apply

    def _boot(self, info: ChargerInfo) -> Apply:
        """The BootNotification answer for what a charger told about itself."""

        def apply() -> Payload:
            decision = self.port.boot(info)
            pending = decision is BootDecision.PENDING
            interval = PENDING_RETRY_INTERVAL if pending else HEARTBEAT_INTERVAL
            return {"currentTime": now_iso(), "interval": interval, "status": _BOOT[decision]}

        return apply

    def _start_session(
        self, charger: Charger, conn: Connector, tx: Transaction, *, meter_start: bool = True
    ) -> None:
        """A session becomes its connector's session (core/sessions.py has the rules)."""
        start_session(charger, conn, tx, self.port.publish, meter_start=meter_start)

    def _end_session(
        self,
        charger: Charger,
        tx: Transaction,
        stop: datetime,
        reason: str | None,
        *,
        meter_stop_wh: float | None = None,
    ) -> None:
        """A session ends (`reason` in OCPP spelling, None when it is not known)."""
        end_session(charger, tx, stop, reason, self.port.publish, meter_stop_wh=meter_stop_wh)

    def _apply_samples(
        self,
        charger: Charger,
        connector_id: int,
        parsed: list[tuple[datetime, dict[str, float]]],
        transaction_id: int | str | None = None,
    ) -> Apply:
        """The step applying a MeterValues message: readings onto the model, saved soon."""

        def apply() -> Payload:
            conn = charger.apply_samples(connector_id, parsed, transaction_id)
            self.port.save_soon()
            charger.notify((conn.connector_id,))
            return {}

        return apply

    def _apply_diagnostics_status(self, charger: Charger, status: str) -> Apply:
        """The step applying a log upload's progress (1.6 DiagnosticsStatusNotification, 2.x
        LogStatusNotification)."""

        def apply() -> Payload:
            charger.diagnostics_status = status
            charger.notify()
            return {}

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

    def _transaction_ref(self, transaction_id: int | str) -> int | str:
        """A transaction id as this version sends it."""
        return transaction_id

    async def remote_stop(self, transaction_id: int | str) -> bool:
        """Ask the charger to stop a session; return whether it accepted."""
        answer = await self.connection.call(
            self.remote_stop_action, {"transactionId": self._transaction_ref(transaction_id)}
        )
        return bool(answer.get("status") == "Accepted")

    def _trigger_target(self, connector_id: int) -> Payload:
        """TriggerMessage's field naming the connector (EVSE) it is for."""
        return {self.connector_field: connector_id}

    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """TriggerMessage (`message` by its 1.6 name); accepted, rejected or not_implemented."""
        payload: Payload = {"requestedMessage": self.trigger_names.get(message, message)}
        if connector_id is not None:
            payload.update(self._trigger_target(connector_id))
        answer = await self.connection.call("TriggerMessage", payload)
        return snake(answer.get("status", "Rejected"))

    async def get_local_list_version(self) -> int:
        """GetLocalListVersion: the version of the charger's local list."""
        answer = await self.connection.call("GetLocalListVersion", {})
        return int(answer.get(self.local_list_version_field, -1))

    def _charger(self) -> Charger:
        """The approved charger; a charger not (yet) accepted may only boot."""
        if (charger := self.port.charger) is None:
            raise SecurityError(description="Charger is not accepted; send BootNotification")
        return charger

    # The configuration key of the periodic meter sample interval in this version.
    meter_interval_key: str
    # The action stopping a session, and the field of GetLocalListVersion's answer.
    remote_stop_action: str
    local_list_version_field: str
    # Messages TriggerMessage names otherwise in this version than in 1.6.
    trigger_names: Mapping[str, str] = MappingProxyType({})
    # The configuration key holding the charger's HTTP Basic password, and the longest
    # password it takes (in UTF-8 bytes).
    password_key: str
    password_max_bytes = 40

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
    async def send_local_list(
        self, version: int, entries: dict[str, AuthResult | None], *, full: bool
    ) -> str:
        """SendLocalList; None removes a tag (differential). accepted, failed, version_mismatch ..."""
