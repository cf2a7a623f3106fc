"""OCPP 2.0.1 (and 2.1): charger messages to model updates, and commands to the charger.

EVSEs are the model's connectors (one outlet each); EVSE 0 is the charger as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
import itertools
from types import MappingProxyType
from typing import Any

from ..core import bounds
from ..core.clock import utcnow
from ..core.events import ErrorRaised, IdTagSeen
from ..core.id_tags import AuthStatus
from ..core.limits import ChargingLimit
from ..core.model import Charger, ChargerInfo, ConnectorStatus, ErrorInfo
from ..core.status import snake
from ..wire.actions import CHARGER_ACTIONS_201
from ..wire.connection import Apply, CallHandler, Handlers, OcppConnection, Payload
from . import profile_id, samples, smart_profile_id
from .port import CentralPort
from .v201_commands import V201Commands
from .v201_reports import V201Reports
from .v201_sessions import id_token_info, sample_fields

# Charging-station-initiated actions of 2.0.1; those without a handler are NotSupported.
KNOWN_ACTIONS = CHARGER_ACTIONS_201

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

# 1.6 trigger names the actions use, mapped where 2.0.1 renamed them.
_TRIGGERS = MappingProxyType({"DiagnosticsStatusNotification": "LogStatusNotification"})

METER_INTERVAL_KEY = "SampledDataCtrlr/TxUpdatedInterval"
RATE_UNIT_KEY = "SmartChargingCtrlr/RateUnit"
STACK_LEVEL_KEY = "SmartChargingCtrlr/ProfileStackLevel"


class V201Protocol(V201Commands, V201Reports):
    """One OCPP 2.0.1 (or 2.1) charging station."""

    connector_field = "evseId"
    remote_stop_action = "RequestStopTransaction"
    local_list_version_field = "versionNumber"
    trigger_names = _TRIGGERS
    meter_interval_key = METER_INTERVAL_KEY
    stack_level_key = STACK_LEVEL_KEY
    password_key = "SecurityCtrlr/BasicAuthPassword"
    profile_id_field = "chargingProfileId"  # of ClearChargingProfile
    station_max_purpose = "ChargingStationMaxProfile"
    rate_unit_key = RATE_UNIT_KEY

    def __init__(
        self, port: CentralPort, open_connection: Callable[[Handlers], OcppConnection]
    ) -> None:
        """No request sent yet, no report coming."""
        super().__init__(port, open_connection)
        self._request_ids = itertools.count(1)
        self._reports = {}

    def _handlers(self) -> Handlers:
        """The charging-station-initiated messages and their handlers."""
        calls: dict[str, CallHandler] = {
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
        return Handlers(calls, KNOWN_ACTIONS, on_call_handled=self._call_handled)

    # --- charging-station-initiated ----------------------------------------------------

    def _boot_notification(self, payload: Payload) -> Apply:
        station = payload["chargingStation"]
        info = ChargerInfo.reported(
            vendor=station.get("vendorName"),
            model=station.get("model"),
            serial=station.get("serialNumber"),
            firmware=station.get("firmwareVersion"),
        )
        return self._boot(info)

    def _acknowledge(self, payload: Payload) -> Apply:
        self._charger()
        return lambda: {}

    def _status_notification(self, payload: Payload) -> Apply:
        charger = self._charger()
        evse = bounds.connector_id(payload["evseId"])
        status = payload["connectorStatus"]
        occupied = status == "Occupied"
        new_status = None if occupied else _CONNECTOR_STATUS.get(status)

        def apply() -> Payload:
            conn = charger.connector(evse)
            conn.occupied = occupied
            if occupied:
                conn.refresh_occupied_status()
            elif new_status is not None:
                conn.status = new_status
            charger.notify((evse,))
            return {}

        return apply

    def _meter_values(self, payload: Payload) -> Apply:
        charger = self._charger()
        evse = bounds.connector_id(payload["evseId"])
        parsed = samples(payload.get("meterValue"), self._read_sample, sample_fields)

        return self._apply_samples(charger, evse, parsed)

    def _authorize(self, payload: Payload) -> Apply:
        self._charger()
        token = bounds.text_id(payload["idToken"]["idToken"], "idToken")
        plug_and_charge = "certificate" in payload or "iso15118CertificateHashData" in payload

        def apply() -> Payload:
            if (decided := self._decided("idTokenInfo")) is not None:
                # Billing mode: the backend's answer (it may hold the certificates to check).
                self.port.publish(IdTagSeen(token, decided["status"]))
                response: Payload = {"idTokenInfo": decided}
                if plug_and_charge and self.connection.decision is not None:
                    status = self.connection.decision.get("certificateStatus", "CertChainError")
                    response["certificateStatus"] = status
                return response
            if plug_and_charge:
                # Plug & Charge: we hold no root certificates and do no OCSP, so the contract
                # certificate cannot be verified; an unverified chain is an invalid token.
                self.connection.log_once.once(
                    "plug-and-charge",
                    "Authorize with an ISO 15118 contract certificate refused: Plug & Charge "
                    "is not supported",
                )
                self.port.publish(IdTagSeen(token, AuthStatus.INVALID))
                return {"idTokenInfo": {"status": "Invalid"}, "certificateStatus": "CertChainError"}
            result = self.port.authorize(token)
            self.port.publish(IdTagSeen(token, result.status))
            return {"idTokenInfo": id_token_info(result)}

        return apply

    def _notify_event(self, payload: Payload) -> Apply:
        charger = self._charger()
        # (evse, the error now, or None when it cleared)
        changes: list[tuple[int, ErrorInfo | None]] = []
        for event in payload.get("eventData") or ():
            component = event.get("component") or {}
            variable = (event.get("variable") or {}).get("name")
            if variable not in ("Problem", "Fault", "Tripped"):
                continue
            evse = bounds.connector_id((component.get("evse") or {}).get("id", 0))
            active = str(event.get("actualValue")).lower() == "true" and not event.get("cleared")
            name = component.get("name", "")
            tech_info = event.get("techInfo")
            tech_code = event.get("techCode")
            error = ErrorInfo(
                code=_COMPONENT_ERRORS.get(name, "other_error")
                if isinstance(name, str)
                else "other_error",
                info=tech_info
                if isinstance(tech_info, str) and tech_info
                else f"{name} {variable}",
                vendor_id=None,
                vendor_error_code=tech_code if isinstance(tech_code, str) else None,
            )
            changes.append((evse, error if active else None))

        def apply() -> Payload:
            for evse, error in changes:
                conn = charger.connector(evse)
                if error is None:
                    conn.error = ErrorInfo()
                    continue
                if error.code != conn.error.code or not conn.error.active:
                    self.port.publish(ErrorRaised(evse, error))
                conn.error = error
            charger.notify({evse for evse, _ in changes})
            return {}

        return apply

    def _log_status(self, payload: Payload) -> Apply:
        charger = self._charger()
        status = _LOG_STATUS.get(payload["status"], "upload_failed")
        return self._apply_diagnostics_status(charger, status)

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
                stop = last if last is not None and last > tx.start else utcnow()
                self._end_session(charger, tx, stop, None)
                conn.charging_status = None
                conn.refresh_occupied_status()
                charger.notify((conn.connector_id,))

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """RequestStartTransaction."""
        remote_start_id = next(self._request_ids)
        self.remember_remote_start(remote_start_id, id_tag)
        answer = await self.connection.call(
            "RequestStartTransaction",
            {
                "idToken": {"idToken": id_tag, "type": "Central"},
                "remoteStartId": remote_start_id,
                "evseId": connector_id,
            },
        )
        return bool(answer.get("status") == "Accepted")

    def _rate_unit(self) -> str:
        units = self.port.configuration.get(RATE_UNIT_KEY, "")
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

    async def _send_smart_profile(
        self, connector_id: int, core: Payload, schedule: Payload, transaction_id: int | str | None
    ) -> bool:
        """SetChargingProfile with smart charging's profile id, in 2.x's envelope."""
        profile_id_ = smart_profile_id(connector_id)
        profile: Payload = {
            "id": profile_id_,
            **core,
            "chargingSchedule": [{"id": profile_id_, **schedule}],
        }
        if transaction_id is not None:
            profile["transactionId"] = str(transaction_id)
        answer = await self.connection.call(
            "SetChargingProfile", {"evseId": connector_id, "chargingProfile": profile}
        )
        return bool(answer.get("status") == "Accepted")

    def _composite_schedule(self, answer: Payload, connector_id: int) -> tuple[Payload, Any, Any]:
        schedule = answer.get("schedule") or {}
        return schedule, schedule.get("evseId", connector_id), schedule.get("scheduleStart")

    def _transaction_ref(self, transaction_id: int | str) -> str:
        return str(transaction_id)

    def _trigger_target(self, connector_id: int) -> Payload:
        return {"evse": {"id": connector_id}}
