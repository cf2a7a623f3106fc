"""OCPP 1.6J: charger messages to model updates, and commands to the charger."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import TypeConstraintViolationError

from ..core import bounds
from ..core.events import ErrorRaised, IdTagSeen
from ..core.limits import ChargingLimit
from ..core.model import (
    Charger,
    ChargerInfo,
    ConnectorStatus,
    ErrorInfo,
    Transaction,
)
from ..core.status import DIAGNOSTICS_STATUSES, NO_ERROR, snake
from ..wire.connection import Apply, CallHandler, Handlers, Payload
from . import (
    parse_time,
    profile_id,
    samples,
    smart_profile_id,
)
from .charging_profiles import PURPOSE_16
from .v16_commands import V16Commands, id_tag_info

# Actions a 1.6 charger may send; anything else known to 1.6 is NotSupported, not unknown.
KNOWN_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "Heartbeat",
        "MeterValues",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Preparing": ConnectorStatus.PREPARING,
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "Finishing": ConnectorStatus.FINISHING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}

_ERROR_CODES = {
    "NoError": NO_ERROR,
    "ConnectorLockFailure": "connector_lock_failure",
    "EVCommunicationError": "ev_communication_error",
    "GroundFailure": "ground_failure",
    "HighTemperature": "high_temperature",
    "InternalError": "internal_error",
    "LocalListConflict": "local_list_conflict",
    "OtherError": "other_error",
    "OverCurrentFailure": "over_current_failure",
    "OverVoltage": "over_voltage",
    "PowerMeterFailure": "power_meter_failure",
    "PowerSwitchFailure": "power_switch_failure",
    "ReaderFailure": "reader_failure",
    "ResetFailure": "reset_failure",
    "UnderVoltage": "under_voltage",
    "WeakSignal": "weak_signal",
}


def sample_fields(sampled: Payload) -> tuple[Any, Any, Any] | None:
    """A 1.6 sampledValue: its value (text) and unit; signed data is not a number."""
    if sampled.get("format") == "SignedData":
        return None
    return sampled.get("value"), 0, sampled.get("unit")


def _text(value: Any) -> str | None:
    """Optional free text (info, vendor fields): kept only when it is text."""
    return value if isinstance(value, str) else None


class V16Protocol(V16Commands):
    """One OCPP 1.6J charger."""

    def _handlers(self) -> Handlers:
        """The charger-initiated messages and their handlers."""
        calls: dict[str, CallHandler] = {
            "Authorize": self._authorize,
            "BootNotification": self._boot_notification,
            "DataTransfer": self._data_transfer,
            "DiagnosticsStatusNotification": self._diagnostics_status,
            "FirmwareStatusNotification": self._firmware_status,
            "Heartbeat": self._heartbeat,
            "MeterValues": self._meter_values,
            "StartTransaction": self._start_transaction,
            "StatusNotification": self._status_notification,
            "StopTransaction": self._stop_transaction,
            # OCPP 1.6 security extension
            "SecurityEventNotification": self._security_event,
        }
        return Handlers(
            calls,
            KNOWN_ACTIONS,
            without_schema=frozenset({"SecurityEventNotification"}),
            on_call_handled=self._call_handled,
        )

    # --- charger-initiated -------------------------------------------------------------

    def _boot_notification(self, payload: Payload) -> Apply:
        info = ChargerInfo.reported(
            vendor=payload.get("chargePointVendor"),
            model=payload.get("chargePointModel"),
            serial=payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber"),
            firmware=payload.get("firmwareVersion"),
        )
        return self._boot(info)

    def _status_notification(self, payload: Payload) -> Apply:
        charger = self._charger()
        connector_id = bounds.connector_id(payload["connectorId"])
        status = _STATUS.get(payload.get("status", ""))
        error = ErrorInfo(
            code=_ERROR_CODES.get(payload.get("errorCode", "NoError"), "other_error"),
            info=_text(payload.get("info")),
            vendor_id=_text(payload.get("vendorId")),
            vendor_error_code=_text(payload.get("vendorErrorCode")),
        )

        def apply() -> Payload:
            conn = charger.connector(connector_id)
            if status is not None:
                conn.status = status
            if error.active and error.code != conn.error.code:
                self.port.publish(ErrorRaised(connector_id, error))
            conn.error = error
            charger.notify((connector_id,))
            return {}

        return apply

    def _transaction_id(self, value: Any) -> int | None:
        return None if value is None else bounds.int32(value, "transactionId")

    def _meter_values(self, payload: Payload) -> Apply:
        charger = self._charger()
        connector_id = bounds.connector_id(payload["connectorId"])
        transaction_id = self._transaction_id(payload.get("transactionId"))
        parsed = samples(payload.get("meterValue"), self._read_sample, sample_fields)

        return self._apply_samples(charger, connector_id, parsed, transaction_id)

    def _authorize(self, payload: Payload) -> Apply:
        self._charger()
        id_tag = bounds.text_id(payload["idTag"], "idTag")

        def apply() -> Payload:
            info = self._decided("idTagInfo") or id_tag_info(self.port.authorize(id_tag))
            self.port.publish(IdTagSeen(id_tag, info["status"]))
            return {"idTagInfo": info}

        return apply

    def _start_transaction(self, payload: Payload) -> Apply:
        charger = self._charger()
        connector_id = bounds.connector_id(payload["connectorId"], minimum=1)
        id_tag = bounds.text_id(payload["idTag"], "idTag")
        meter_start = bounds.meter_wh(payload["meterStart"], "meterStart")
        start = parse_time(payload.get("timestamp"))

        def apply() -> Payload:
            info = self._decided("idTagInfo") or id_tag_info(
                self.port.authorize_start(id_tag, connector_id)
            )
            conn = charger.connector(connector_id)
            tx = Transaction(
                transaction_id=self.port.next_transaction_id(),
                connector_id=connector_id,
                id_tag=id_tag,
                start=start,
                meter_start_wh=meter_start,
                meter_last_wh=meter_start,
            )
            self._start_session(charger, conn, tx)
            # After the session is known: a meter counting each session from 0 restarts here.
            charger.update_energy(conn, meter_start / 1000, live=True)
            charger.notify((connector_id,))
            return {"transactionId": tx.transaction_id, "idTagInfo": info}

        return apply

    def _stop_transaction(self, payload: Payload) -> Apply:
        charger = self._charger()
        transaction_id = bounds.int32(payload["transactionId"], "transactionId")
        meter_stop = bounds.meter_wh(payload["meterStop"], "meterStop")
        stop = parse_time(payload.get("timestamp"))
        id_tag = payload.get("idTag")
        if id_tag is not None:
            id_tag = bounds.text_id(id_tag, "idTag")
        reason = payload.get("reason", "Local")
        if not isinstance(reason, str):
            raise TypeConstraintViolationError(description="reason must be a string")
        parsed = samples(payload.get("transactionData"), self._read_sample, sample_fields)

        def apply() -> Payload:
            response: Payload = {}
            if id_tag is not None:
                response["idTagInfo"] = self._decided("idTagInfo") or id_tag_info(
                    self.port.authorize(id_tag)
                )
            tx = charger.find_transaction(transaction_id)
            if tx is None or tx.stop is not None:
                # Unknown (or already closed): acknowledge so the charger drops it from its queue.
                self.connection.log_once.once(
                    "unknown-tx", "StopTransaction for unknown transaction %s", transaction_id
                )
                return response
            conn = charger.apply_samples(tx.connector_id, parsed, tx.transaction_id)
            tx.add_meter_reading(meter_stop)
            live = conn.reading_time is None or stop >= conn.reading_time
            charger.update_energy(conn, meter_stop / 1000, live=live)
            self._end_session(charger, tx, stop, reason, meter_stop_wh=meter_stop)
            charger.notify((tx.connector_id,))
            return response

        return apply

    def _diagnostics_status(self, payload: Payload) -> Apply:
        charger = self._charger()
        status = snake(payload["status"])
        if status not in DIAGNOSTICS_STATUSES:
            return lambda: {}  # from a lenient charger: nothing we can show
        return self._apply_diagnostics_status(charger, status)

    # --- central-system-initiated ------------------------------------------------------

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """RemoteStartTransaction."""
        answer = await self.connection.call(
            "RemoteStartTransaction", {"connectorId": connector_id, "idTag": id_tag}
        )
        return bool(answer.get("status") == "Accepted")

    # --- charging limits ---------------------------------------------------------------

    def _rate_unit(self) -> str:
        """A unless the charger only takes W (ChargingScheduleAllowedChargingRateUnit)."""
        allowed = self.port.configuration.get(self.rate_unit_key, "")
        return "W" if "Power" in allowed and "Current" not in allowed else "A"

    async def set_charging_limit(
        self, connector_id: int, limit: ChargingLimit, transaction_id: int | str | None
    ) -> str:
        """SetChargingProfile: TxProfile for a running session, else TxDefaultProfile (or
        the ChargePointMaxProfile the user asked for).

        Profile ids are fixed per connector and purpose, so a new limit replaces the
        previous one instead of piling up on the charger.
        """
        in_tx = transaction_id is not None
        profile: Payload = {
            "chargingProfileId": profile_id(connector_id, in_tx, limit.station_max),
            **self._profile_core(limit, in_tx),
            "chargingSchedule": self._schedule(limit),
        }
        if in_tx:
            profile["transactionId"] = transaction_id
        answer = await self.connection.call(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )
        return snake(answer.get("status", "Rejected"))

    def _clear_criteria(
        self, connector_id: int | None, purpose: str | None, stack_level: int | None
    ) -> Payload:
        criteria: Payload = {}
        if connector_id is not None:
            criteria["connectorId"] = connector_id
        if purpose is not None:
            criteria["chargingProfilePurpose"] = PURPOSE_16[purpose]
        if stack_level is not None:
            criteria["stackLevel"] = stack_level
        return criteria

    async def _send_smart_profile(
        self, connector_id: int, core: Payload, schedule: Payload, transaction_id: int | str | None
    ) -> bool:
        """SetChargingProfile with smart charging's profile id, in 1.6's envelope."""
        profile: Payload = {
            "chargingProfileId": smart_profile_id(connector_id),
            **core,
            "chargingSchedule": schedule,
        }
        if transaction_id is not None:
            profile["transactionId"] = transaction_id
        answer = await self.connection.call(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )
        return bool(answer.get("status") == "Accepted")

    def _composite_schedule(self, answer: Payload, connector_id: int) -> tuple[Payload, Any, Any]:
        schedule = answer.get("chargingSchedule") or {}
        start = answer.get("scheduleStart") or schedule.get("startSchedule")
        return schedule, answer.get("connectorId", connector_id), start

    async def confirm_open_sessions(self, charger: Charger) -> None:
        """Nothing to ask: a 1.6 charger sends the StopTransaction it queued."""

    connector_field = "connectorId"
    remote_stop_action = "RemoteStopTransaction"
    local_list_version_field = "listVersion"
    meter_interval_key = "MeterValueSampleInterval"
    stack_level_key = "ChargeProfileMaxStackLevel"
    password_key = "AuthorizationKey"
    password_max_bytes = 20  # 16-20 bytes, sent as at most 40 hex digits
    profile_id_field = "id"  # of ClearChargingProfile  # OCPP 1.6 security extension
    station_max_purpose = "ChargePointMaxProfile"
    rate_unit_key = "ChargingScheduleAllowedChargingRateUnit"
