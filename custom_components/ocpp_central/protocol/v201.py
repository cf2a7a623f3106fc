"""OCPP 2.0.1 (and 2.1): charger messages to model updates, and commands to the charger.

EVSEs are the model's connectors (one outlet each); EVSE 0 is the charger as a whole.
"""

from __future__ import annotations

from datetime import datetime
import itertools
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from ocpp.exceptions import FormatViolationError

from ..connection import CallErrorReceived, OcppConnection, Payload
from ..const import HEARTBEAT_INTERVAL, PENDING_RETRY_INTERVAL
from ..id_tags import AuthResult, AuthStatus
from ..limits import ChargingLimit
from ..measurands import merge, normalize
from ..model import (
    Charger,
    ChargerInfo,
    Connector,
    ConnectorStatus,
    ErrorInfo,
    Transaction,
)
from . import (
    composite_periods,
    now_iso,
    parse_time,
    profile_id,
    snake,
)
from .v201_reports import V201Reports

if TYPE_CHECKING:
    from ..central import CentralSystem

# Charging-station-initiated actions of 2.0.1; those without a handler are NotSupported.
KNOWN_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

# Notifications we acknowledge without acting on them.
_ACKNOWLEDGED = (
    "ClearedChargingLimit",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyMonitoringReport",
    "PublishFirmwareStatusNotification",
    "ReservationStatusUpdate",
)

_CHARGING_STATES = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,
}

_CONNECTOR_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}

_LOG_STATUS = {
    "Idle": "idle",
    "Uploading": "uploading",
    "Uploaded": "uploaded",
    "AcceptedCanceled": "idle",
}

# Components whose problems have an OCPP 1.6-style error code.
_COMPONENT_ERRORS = {
    "ConnectorPlugRetentionLock": "connector_lock_failure",
    "OverCurrentProtection": "over_current_failure",
    "ElectricalFeed": "under_voltage",
    "RCD": "ground_failure",
    "PowerContactor": "power_switch_failure",
    "TokenReader": "reader_failure",
    "Meter": "power_meter_failure",
    "TemperatureSensor": "high_temperature",
    "Controller": "internal_error",
}

# idTokenInfo status for each of our authorization results.
_AUTH = {
    AuthStatus.ACCEPTED: "Accepted",
    AuthStatus.BLOCKED: "Blocked",
    AuthStatus.EXPIRED: "Expired",
    AuthStatus.INVALID: "Invalid",
    AuthStatus.CONCURRENT_TX: "ConcurrentTx",
}

# 1.6 trigger names the actions use, mapped where 2.0.1 renamed them.
_TRIGGERS = {"DiagnosticsStatusNotification": "LogStatusNotification"}

METER_INTERVAL_KEY = "SampledDataCtrlr/TxUpdatedInterval"
RATE_UNIT_KEY = "SmartChargingCtrlr/RateUnit"
STACK_LEVEL_KEY = "SmartChargingCtrlr/ProfileStackLevel"


def id_token_info(result: AuthResult) -> Payload:
    """IdTokenInfo for an authorization result."""
    info: Payload = {"status": _AUTH[result.status]}
    if result.expiry is not None:
        info["cacheExpiryDateTime"] = result.expiry.isoformat()
    if result.parent is not None:
        info["groupIdToken"] = {"idToken": result.parent, "type": "Central"}
    return info


def samples(meter_values: Any) -> list[tuple[datetime, dict[str, float]]]:
    """MeterValue list (2.0.1 shape) to (timestamp, {key: value}) samples."""
    result = []
    for meter_value in meter_values or ():
        readings = []
        for sampled in meter_value.get("sampledValue") or ():
            unit = sampled.get("unitOfMeasure") or {}
            reading = normalize(
                sampled.get("measurand"),
                sampled.get("value"),
                unit=unit.get("unit"),
                multiplier=int(unit.get("multiplier", 0) or 0),
                phase=sampled.get("phase"),
                location=sampled.get("location"),
            )
            if reading is not None:
                readings.append(reading)
        result.append((parse_time(meter_value.get("timestamp")), merge(readings)))
    return result


_LOG_TYPES = {"diagnostics": "DiagnosticsLog", "security": "SecurityLog"}


class V201Protocol(V201Reports):
    """One OCPP 2.0.1 (or 2.1) charging station."""

    meter_interval_key = METER_INTERVAL_KEY
    stack_level_key = STACK_LEVEL_KEY
    password_key = "SecurityCtrlr/BasicAuthPassword"
    profile_id_field = "chargingProfileId"  # of ClearChargingProfile
    station_max_purpose = "ChargingStationMaxProfile"
    rate_unit_key = RATE_UNIT_KEY

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Register the charging-station-initiated message handlers."""
        super().__init__(central, connection)
        connection.known_actions = KNOWN_ACTIONS
        connection.handlers = {
            "Authorize": self._authorize,
            "BootNotification": self._boot_notification,
            "DataTransfer": self._data_transfer,
            "FirmwareStatusNotification": self._firmware_status,
            "Heartbeat": self._heartbeat,
            "LogStatusNotification": self._log_status,
            "MeterValues": self._meter_values,
            "NotifyEvent": self._notify_event,
            "NotifyReport": self._report_part,
            "ReportChargingProfiles": self._report_part,
            "SecurityEventNotification": self._security_event,
            "StatusNotification": self._status_notification,
            "TransactionEvent": self._transaction_event,
            **{action: self._acknowledge for action in _ACKNOWLEDGED},
        }
        connection.on_call_handled = self._call_handled
        # Live connector state the model derives status from (Occupied needs the session's state).
        self._occupied: dict[int, bool] = {}
        self._charging_state: dict[int, str] = {}
        self._request_ids = itertools.count(1)
        self._reports = {}

    # --- charging-station-initiated ----------------------------------------------------

    def _boot_notification(self, payload: Payload) -> Payload:
        station = payload["chargingStation"]
        info = ChargerInfo.reported(
            vendor=station.get("vendorName"),
            model=station.get("model"),
            serial=station.get("serialNumber"),
            firmware=station.get("firmwareVersion"),
        )
        status = self.central.boot(self.charger_id, info)
        interval = HEARTBEAT_INTERVAL if status != "Pending" else PENDING_RETRY_INTERVAL
        return {"currentTime": now_iso(), "interval": interval, "status": status}

    def _heartbeat(self, payload: Payload) -> Payload:
        return {"currentTime": now_iso()}

    def _acknowledge(self, payload: Payload) -> Payload:
        self._charger()
        return {}

    def _refresh_status(self, conn: Connector) -> None:
        """Occupied resolves through the session's charging state."""
        evse = conn.connector_id
        if not self._occupied.get(evse):
            return
        if conn.transaction is not None:
            state = self._charging_state.get(evse, "EVConnected")
            conn.status = _CHARGING_STATES.get(state, ConnectorStatus.PREPARING)
        elif conn.last_session is not None and conn.status in (
            ConnectorStatus.CHARGING,
            ConnectorStatus.SUSPENDED_EV,
            ConnectorStatus.SUSPENDED_EVSE,
            ConnectorStatus.FINISHING,
        ):
            conn.status = ConnectorStatus.FINISHING
        else:
            conn.status = ConnectorStatus.PREPARING

    def _status_notification(self, payload: Payload) -> Payload:
        charger = self._charger()
        evse = int(payload["evseId"])
        conn = charger.connector(evse)
        status = payload["connectorStatus"]
        self._occupied[evse] = status == "Occupied"
        if status == "Occupied":
            self._refresh_status(conn)
        else:
            conn.status = _CONNECTOR_STATUS.get(status, conn.status)
        charger.notify((evse,))
        return {}

    def _meter_values(self, payload: Payload) -> Payload:
        charger = self._charger()
        conn = charger.apply_samples(int(payload["evseId"]), samples(payload.get("meterValue")))
        self.central.save_soon()
        charger.notify((conn.connector_id,))
        return {}

    def _authorize(self, payload: Payload) -> Payload:
        charger = self._charger()
        token = payload["idToken"]["idToken"]
        if "certificate" in payload or "iso15118CertificateHashData" in payload:
            # Plug & Charge: we hold no root certificates and do no OCSP, so the contract
            # certificate cannot be verified; an unverified chain is an invalid token.
            self.connection.log_once.once(
                "plug-and-charge",
                "Authorize with an ISO 15118 contract certificate refused: Plug & Charge "
                "is not supported",
            )
            self.central.fire_id_tag(charger, token, AuthStatus.INVALID)
            return {"idTokenInfo": {"status": "Invalid"}, "certificateStatus": "CertChainError"}
        result = self.central.authorization.authorize(token)
        self.central.fire_id_tag(charger, token, result.status)
        return {"idTokenInfo": id_token_info(result)}

    def _transaction_event(self, payload: Payload) -> Payload:
        charger = self._charger()
        info = payload["transactionInfo"]
        transaction_id: str = info["transactionId"]
        timestamp = parse_time(payload.get("timestamp"))
        token = (payload.get("idToken") or {}).get("idToken")
        tx = charger.find_transaction(transaction_id)
        if tx is not None:
            evse = tx.connector_id
        elif (evse_info := payload.get("evse")) is not None:
            evse = int(evse_info["id"])
        else:
            raise FormatViolationError(description="evse is required for a new transaction")
        conn = charger.connector(evse)
        response: Payload = {}
        if token is not None:
            result = (
                self.central.authorization.authorize_start(token, charger, evse)
                if tx is None
                else self.central.authorization.authorize(token)
            )
            response["idTokenInfo"] = id_token_info(result)
        event = payload["eventType"]
        if tx is None:
            if event == "Ended" and not payload.get("meterValue"):
                # A session we never saw start, with nothing to record: just acknowledge.
                self.connection.log_once.once(
                    "unknown-tx",
                    "TransactionEvent Ended for unknown transaction %s",
                    transaction_id,
                )
                return response
            tx = Transaction(
                transaction_id=transaction_id, connector_id=evse, id_tag=token, start=timestamp
            )
            if conn.transaction is not None:
                self.central.close_transaction(charger, conn.transaction, timestamp, None)
            conn.transaction = tx
            start_samples = samples(payload.get("meterValue"))
            energy = next((v["energy"] for _, v in start_samples if "energy" in v), None)
            if energy is not None:
                tx.meter_start_wh = energy * 1000
                tx.meter_last_wh = tx.meter_start_wh
            else:
                tx.meter_start_wh = conn.energy_kwh * 1000 if conn.energy_kwh is not None else None
                tx.meter_last_wh = tx.meter_start_wh
            self.central.transaction_started(charger, tx, meter_start=energy is not None)
        elif token is not None and tx.id_tag is None:
            tx.id_tag = token  # authorized after the session started
        charger.apply_samples(evse, samples(payload.get("meterValue")), tx.transaction_id)
        if (state := info.get("chargingState")) is not None:
            self._charging_state[evse] = state
        if event == "Ended" and tx.stop is None:
            self.central.close_transaction(
                charger, tx, timestamp, info.get("stoppedReason", "Local")
            )
            self._charging_state.pop(evse, None)
        self._refresh_status(conn)
        charger.notify((evse,))
        return response

    def _notify_event(self, payload: Payload) -> Payload:
        charger = self._charger()
        touched = set()
        for event in payload.get("eventData") or ():
            component = event.get("component") or {}
            variable = (event.get("variable") or {}).get("name")
            if variable not in ("Problem", "Fault", "Tripped"):
                continue
            evse = int((component.get("evse") or {}).get("id", 0))
            conn = charger.connector(evse)
            active = str(event.get("actualValue")).lower() == "true" and not event.get("cleared")
            if not active:
                conn.error = ErrorInfo()
            else:
                error = ErrorInfo(
                    code=_COMPONENT_ERRORS.get(component.get("name", ""), "other_error"),
                    info=event.get("techInfo") or f"{component.get('name')} {variable}",
                    vendor_id=None,
                    vendor_error_code=event.get("techCode"),
                )
                if error.code != conn.error.code or not conn.error.active:
                    self.central.fire_error(charger, evse, error)
                conn.error = error
            touched.add(evse)
        charger.notify(touched)
        return {}

    def _log_status(self, payload: Payload) -> Payload:
        charger = self._charger()
        charger.diagnostics_status = _LOG_STATUS.get(payload["status"], "upload_failed")
        charger.notify()
        return {}

    # --- central-system-initiated ------------------------------------------------------

    async def confirm_open_sessions(self, charger: Charger) -> None:
        """GetTransactionStatus for each session still open here.

        A session the station says is over, with no message about it left in its queue,
        ended while we were apart and its Ended event will never come: close it. While
        messages are queued, the queued Ended closes it when it arrives.
        """
        for conn in list(charger.connectors.values()):
            tx = conn.transaction
            if tx is None:
                continue
            answer = await self.connection.call(
                "GetTransactionStatus", {"transactionId": str(tx.transaction_id)}
            )
            if answer.get("messagesInQueue") or answer.get("ongoingIndicator") is not False:
                continue
            if conn.transaction is tx:  # not closed by an event meanwhile
                last = conn.reading_time
                stop = last if last is not None and last > tx.start else dt_util.utcnow()
                self.central.close_transaction(charger, tx, stop, None)
                self._charging_state.pop(conn.connector_id, None)
                self._refresh_status(conn)
                charger.notify((conn.connector_id,))

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """RequestStartTransaction."""
        answer = await self.connection.call(
            "RequestStartTransaction",
            {
                "idToken": {"idToken": id_tag, "type": "Central"},
                "remoteStartId": next(self._request_ids),
                "evseId": connector_id,
            },
        )
        return bool(answer.get("status") == "Accepted")

    async def remote_stop(self, transaction_id: int | str) -> bool:
        """RequestStopTransaction."""
        answer = await self.connection.call(
            "RequestStopTransaction", {"transactionId": str(transaction_id)}
        )
        return bool(answer.get("status") == "Accepted")

    def _rate_unit(self) -> str:
        units = self.central.configuration(self.charger_id).get(RATE_UNIT_KEY, "")
        return "W" if "W" in units and "A" not in units else "A"

    async def set_charging_limit(
        self, connector_id: int, limit: ChargingLimit, transaction_id: int | str | None
    ) -> str:
        """SetChargingProfile: TxProfile for a running session, else TxDefaultProfile (or
        the ChargingStationMaxProfile the user asked for); accepted or rejected."""
        in_tx = transaction_id is not None
        ours = profile_id(connector_id, in_tx, limit.station_max)
        profile: Payload = {
            "id": ours,
            **self._profile_core(limit, in_tx),
            "chargingSchedule": [{"id": ours, **self._schedule(limit)}],
        }
        if in_tx:
            profile["transactionId"] = str(transaction_id)
        answer = await self.connection.call(
            "SetChargingProfile", {"evseId": connector_id, "chargingProfile": profile}
        )
        return snake(answer.get("status", "Rejected"))

    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """GetCompositeSchedule, as plain data."""
        answer = await self.connection.call(
            "GetCompositeSchedule",
            {"evseId": connector_id, "duration": duration, **self._composite_unit()},
        )
        schedule = answer.get("schedule") or {}
        return {
            "status": snake(answer.get("status", "Rejected")),
            "connector_id": schedule.get("evseId", connector_id),
            "schedule_start": schedule.get("scheduleStart"),
            "duration": schedule.get("duration"),
            "charging_rate_unit": schedule.get("chargingRateUnit"),
            "periods": composite_periods(schedule.get("chargingSchedulePeriod", [])),
        }

    async def change_availability(
        self, connector_id: int, available: bool, evse_connector: int | None = None
    ) -> str:
        """ChangeAvailability of the station (0), an EVSE, or one connector of an EVSE."""
        payload: Payload = {"operationalStatus": "Operative" if available else "Inoperative"}
        if connector_id:
            payload["evse"] = {"id": connector_id}
            if evse_connector is not None:
                payload["evse"]["connectorId"] = evse_connector
        answer = await self.connection.call("ChangeAvailability", payload)
        return snake(answer.get("status", "Rejected"))

    async def reset(self, hard: bool, connector_id: int | None = None) -> bool:
        """Reset of the station or one EVSE: Immediate (hard) or OnIdle (soft); Scheduled
        counts as accepted."""
        payload: Payload = {"type": "Immediate" if hard else "OnIdle"}
        if connector_id is not None:
            payload["evseId"] = connector_id
        answer = await self.connection.call("Reset", payload)
        return answer.get("status") in ("Accepted", "Scheduled")

    async def unlock(self, connector_id: int) -> str:
        """UnlockConnector of the EVSE's (first) connector."""
        answer = await self.connection.call(
            "UnlockConnector", {"evseId": connector_id, "connectorId": 1}
        )
        status = answer.get("status", "UnlockFailed")
        return "not_supported" if status == "UnknownConnector" else snake(status)

    async def update_firmware(
        self, location: str, retrieve_at: datetime, retries: int | None, retry_interval: int | None
    ) -> None:
        """UpdateFirmware."""
        payload: Payload = {
            "requestId": next(self._request_ids),
            "firmware": {"location": location, "retrieveDateTime": retrieve_at.isoformat()},
        }
        if retries is not None:
            payload["retries"] = retries
        if retry_interval is not None:
            payload["retryInterval"] = retry_interval
        answer = await self.connection.call("UpdateFirmware", payload)
        if answer.get("status") not in ("Accepted", "AcceptedCanceled"):
            raise CallErrorReceived(str(answer.get("status")), "firmware update refused")

    async def get_diagnostics(
        self,
        upload_url: str,
        start: datetime | None,
        stop: datetime | None,
        log_type: str = "diagnostics",
    ) -> str | None:
        """GetLog of the diagnostics (or security) log; returns the file name."""
        log: Payload = {"remoteLocation": upload_url}
        if start is not None:
            log["oldestTimestamp"] = start.isoformat()
        if stop is not None:
            log["latestTimestamp"] = stop.isoformat()
        answer = await self.connection.call(
            "GetLog",
            {"logType": _LOG_TYPES[log_type], "requestId": next(self._request_ids), "log": log},
        )
        if answer.get("status") not in ("Accepted", "AcceptedCanceled"):
            raise CallErrorReceived(str(answer.get("status")), "log upload refused")
        return answer.get("filename")

    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """TriggerMessage."""
        payload: Payload = {"requestedMessage": _TRIGGERS.get(message, message)}
        if connector_id is not None:
            payload["evse"] = {"id": connector_id}
        answer = await self.connection.call("TriggerMessage", payload)
        return snake(answer.get("status", "Rejected"))

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
        """ReserveNow (of an EVSE, optionally of one plug type; a group may use it)."""
        payload: Payload = {
            "id": reservation_id,
            "expiryDateTime": expiry.isoformat(),
            "idToken": {"idToken": id_tag, "type": "Central"},
            "evseId": connector_id,
        }
        if connector_type is not None:
            payload["connectorType"] = connector_type
        if parent is not None:
            payload["groupIdToken"] = {"idToken": parent, "type": "Central"}
        answer = await self.connection.call("ReserveNow", payload)
        return snake(answer.get("status", "Rejected"))

    def supports_local_list(self, configuration: dict[str, str]) -> bool:
        """LocalAuthListCtrlr enabled in the device model."""
        return configuration.get("LocalAuthListCtrlr/Enabled", "").lower() == "true"

    async def get_local_list_version(self) -> int:
        """GetLocalListVersion."""
        answer = await self.connection.call("GetLocalListVersion", {})
        return int(answer.get("versionNumber", -1))

    async def send_local_list(
        self, version: int, entries: dict[str, AuthResult | None], *, full: bool
    ) -> str:
        """SendLocalList, Full or Differential (no idTokenInfo removes a token)."""
        items = []
        for token, result in entries.items():
            item: Payload = {"idToken": {"idToken": token, "type": "ISO14443"}}
            if result is not None:
                item["idTokenInfo"] = id_token_info(result)
            items.append(item)
        answer = await self.connection.call(
            "SendLocalList",
            {
                "versionNumber": version,
                "updateType": "Full" if full else "Differential",
                "localAuthorizationList": items,
            },
        )
        return snake(answer.get("status", "Failed"))
