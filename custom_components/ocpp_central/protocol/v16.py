"""OCPP 1.6J: charger messages to model updates, and commands to the charger."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import SecurityError

from ..connection import OcppConnection, Payload
from ..const import HEARTBEAT_INTERVAL, PENDING_RETRY_INTERVAL
from ..id_tags import AuthResult
from ..measurands import merge, normalize
from ..model import NO_ERROR, Charger, ChargerInfo, ConnectorStatus, ErrorInfo, Transaction
from . import ChargerProtocol, now_iso, parse_time

if TYPE_CHECKING:
    from ..central import CentralSystem

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


def snake(value: str) -> str:
    """CamelCase OCPP enum value to the snake_case our entities use."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()


def id_tag_info(result: AuthResult) -> Payload:
    """IdTagInfo for an authorization result."""
    info: Payload = {"status": result.status.value}
    if result.expiry is not None:
        info["expiryDate"] = result.expiry.isoformat()
    if result.parent is not None:
        info["parentIdTag"] = result.parent
    return info


def samples(meter_values: Any) -> list[tuple[Any, dict[str, float]]]:
    """MeterValue list to (timestamp, {key: value}) samples."""
    result = []
    for meter_value in meter_values or ():
        readings = []
        for sampled in meter_value.get("sampledValue") or ():
            reading = normalize(
                sampled.get("measurand"),
                sampled.get("value"),
                unit=sampled.get("unit"),
                phase=sampled.get("phase"),
                location=sampled.get("location"),
            )
            if reading is not None:
                readings.append(reading)
        result.append((parse_time(meter_value.get("timestamp")), merge(readings)))
    return result


class V16Protocol(ChargerProtocol):
    """One OCPP 1.6J charger."""

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Register the charger-initiated message handlers."""
        super().__init__(central, connection)
        connection.known_actions = KNOWN_ACTIONS
        connection.handlers = {
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
        }
        connection.after = {"BootNotification": self._after_boot}

    def _charger(self) -> Charger:
        """The approved charger; a charger not (yet) accepted may only boot."""
        if (charger := self.central.chargers.get(self.charger_id)) is None:
            raise SecurityError(description="Charger is not accepted; send BootNotification")
        return charger

    # --- charger-initiated -------------------------------------------------------------

    def _boot_notification(self, payload: Payload) -> Payload:
        info = ChargerInfo(
            vendor=payload.get("chargePointVendor"),
            model=payload.get("chargePointModel"),
            serial=payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber"),
            firmware=payload.get("firmwareVersion"),
        )
        status = self.central.boot(self.charger_id, info)
        interval = HEARTBEAT_INTERVAL if status != "Pending" else PENDING_RETRY_INTERVAL
        return {"currentTime": now_iso(), "interval": interval, "status": status}

    def _after_boot(self, request: Payload, response: Payload) -> None:
        if response["status"] == "Accepted":
            self.central.boot_accepted(self.charger_id)

    def _heartbeat(self, payload: Payload) -> Payload:
        return {"currentTime": now_iso()}

    def _status_notification(self, payload: Payload) -> Payload:
        charger = self._charger()
        connector_id = int(payload["connectorId"])
        conn = charger.connector(connector_id)
        conn.status = _STATUS.get(payload.get("status", ""), conn.status)
        code = payload.get("errorCode", "NoError")
        error = ErrorInfo(
            code=_ERROR_CODES.get(code, "other_error"),
            info=payload.get("info"),
            vendor_id=payload.get("vendorId"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        if error.active and error.code != conn.error.code:
            self.central.fire_error(charger, connector_id, error)
        conn.error = error
        charger.notify((connector_id,))
        return {}

    def _meter_values(self, payload: Payload) -> Payload:
        charger = self._charger()
        conn = charger.apply_samples(
            int(payload["connectorId"]),
            samples(payload.get("meterValue")),
            payload.get("transactionId"),
        )
        self.central.save_soon()
        charger.notify((conn.connector_id,))
        return {}

    def _authorize(self, payload: Payload) -> Payload:
        charger = self._charger()
        id_tag = payload["idTag"]
        result = self.central.authorize(id_tag)
        self.central.fire_id_tag(charger, id_tag, result.status)
        return {"idTagInfo": id_tag_info(result)}

    def _start_transaction(self, payload: Payload) -> Payload:
        charger = self._charger()
        connector_id = int(payload["connectorId"])
        id_tag = payload["idTag"]
        result = self.central.authorize(id_tag, remote_ok=True)
        conn = charger.connector(connector_id)
        meter_start = float(payload["meterStart"])
        tx = Transaction(
            transaction_id=self.central.next_transaction_id(),
            connector_id=connector_id,
            id_tag=id_tag,
            start=parse_time(payload.get("timestamp")),
            meter_start_wh=meter_start,
            meter_last_wh=meter_start,
        )
        if conn.transaction is not None:
            # Its StopTransaction was lost: close it so the new session starts clean.
            self.central.close_transaction(charger, conn.transaction, tx.start, None)
        conn.transaction = tx
        charger.update_energy(conn, meter_start / 1000, live=True)
        self.central.transaction_started(charger, tx)
        charger.notify((connector_id,))
        return {"transactionId": tx.transaction_id, "idTagInfo": id_tag_info(result)}

    def _stop_transaction(self, payload: Payload) -> Payload:
        charger = self._charger()
        response: Payload = {}
        if (id_tag := payload.get("idTag")) is not None:
            response["idTagInfo"] = id_tag_info(self.central.authorize(id_tag, remote_ok=True))
        tx = charger.find_transaction(payload["transactionId"])
        if tx is None or tx.stop is not None:
            # Unknown (or already closed): acknowledge so the charger drops it from its queue.
            self.connection.log_once.warning(
                "unknown-tx", "StopTransaction for unknown transaction %s", payload["transactionId"]
            )
            return response
        stop = parse_time(payload.get("timestamp"))
        conn = charger.apply_samples(
            tx.connector_id, samples(payload.get("transactionData")), tx.transaction_id
        )
        meter_stop = float(payload["meterStop"])
        tx.add_meter_reading(meter_stop)
        charger.update_energy(
            conn, meter_stop / 1000, live=conn.reading_time is None or stop >= conn.reading_time
        )
        self.central.close_transaction(charger, tx, stop, payload.get("reason", "Local"))
        charger.notify((tx.connector_id,))
        return response

    def _data_transfer(self, payload: Payload) -> Payload:
        self._charger()
        self.connection.log_once.warning(
            f"datatransfer-{payload.get('vendorId')}",
            "DataTransfer from vendor %s is not handled",
            payload.get("vendorId"),
        )
        return {"status": "UnknownVendorId"}

    def _firmware_status(self, payload: Payload) -> Payload:
        charger = self._charger()
        charger.firmware_status = snake(payload["status"])
        self.central.save_soon()
        charger.notify()
        return {}

    def _diagnostics_status(self, payload: Payload) -> Payload:
        charger = self._charger()
        charger.diagnostics_status = snake(payload["status"])
        charger.notify()
        return {}

    # --- central-system-initiated ------------------------------------------------------

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """RemoteStartTransaction."""
        answer = await self.connection.call(
            "RemoteStartTransaction", {"connectorId": connector_id, "idTag": id_tag}
        )
        return bool(answer.get("status") == "Accepted")

    async def remote_stop(self, transaction_id: int | str) -> bool:
        """RemoteStopTransaction."""
        answer = await self.connection.call(
            "RemoteStopTransaction", {"transactionId": transaction_id}
        )
        return bool(answer.get("status") == "Accepted")

    async def trigger_boot(self) -> None:
        """TriggerMessage(BootNotification)."""
        await self.connection.call("TriggerMessage", {"requestedMessage": "BootNotification"})
