"""OCPP 1.6J: charger messages to model updates, and commands to the charger."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import TypeConstraintViolationError

from .. import bounds
from ..bounds import MAX_CONNECTORS
from ..connection import Apply, OcppConnection, Payload
from ..const import ID_TAG_MAX_LENGTH
from ..id_tags import AuthResult
from ..limits import ChargingLimit
from ..model import (
    DIAGNOSTICS_STATUSES,
    NO_ERROR,
    Charger,
    ChargerInfo,
    ConnectorStatus,
    ErrorInfo,
    Transaction,
)
from . import (
    ChargerProtocol,
    NotInVersion,
    composite_periods,
    parse_time,
    profile_id,
    samples,
    smart_profile_id,
    snake,
)
from .charging_profiles import PURPOSE_16

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


def id_tag_info(result: AuthResult) -> Payload:
    """IdTagInfo for an authorization result."""
    info: Payload = {"status": result.status.value}
    if result.expiry is not None:
        info["expiryDate"] = result.expiry.isoformat()
    if result.parent is not None:
        info["parentIdTag"] = result.parent
    return info


def sample_fields(sampled: Payload) -> tuple[Any, Any, Any] | None:
    """A 1.6 sampledValue: its value (text) and unit; signed data is not a number."""
    if sampled.get("format") == "SignedData":
        return None
    return sampled.get("value"), 0, sampled.get("unit")


def _text(value: Any) -> str | None:
    """Optional free text (info, vendor fields): kept only when it is text."""
    return value if isinstance(value, str) else None


class V16Protocol(ChargerProtocol):
    """One OCPP 1.6J charger."""

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Register the charger-initiated message handlers."""
        super().__init__(central, connection)
        connection.known_actions = KNOWN_ACTIONS
        connection.without_schema = frozenset({"SecurityEventNotification"})
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
            # OCPP 1.6 security extension
            "SecurityEventNotification": self._security_event,
        }
        connection.on_call_handled = self._call_handled

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
                self.central.fire_error(charger, connector_id, error)
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

        def apply() -> Payload:
            conn = charger.apply_samples(connector_id, parsed, transaction_id)
            self.central.save_soon()
            charger.notify((conn.connector_id,))
            return {}

        return apply

    def _authorize(self, payload: Payload) -> Apply:
        charger = self._charger()
        id_tag = bounds.text_id(payload["idTag"], "idTag")

        def apply() -> Payload:
            info = self._decided("idTagInfo") or id_tag_info(
                self.central.authorization.authorize(id_tag, self.charger_id)
            )
            self.central.fire_id_tag(charger, id_tag, info["status"])
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
                self.central.authorization.authorize_start(id_tag, charger, connector_id)
            )
            conn = charger.connector(connector_id)
            tx = Transaction(
                transaction_id=self.central.next_transaction_id(),
                connector_id=connector_id,
                id_tag=id_tag,
                start=start,
                meter_start_wh=meter_start,
                meter_last_wh=meter_start,
            )
            if conn.transaction is not None:
                # Its StopTransaction was lost: close it so the new session starts clean.
                self.central.close_transaction(charger, conn.transaction, tx.start, None)
            conn.transaction = tx
            self.central.transaction_started(charger, tx)
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
                    self.central.authorization.authorize(id_tag, self.charger_id)
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
            self.central.close_transaction(charger, tx, stop, reason, meter_stop_wh=meter_stop)
            charger.notify((tx.connector_id,))
            return response

        return apply

    def _diagnostics_status(self, payload: Payload) -> Apply:
        charger = self._charger()
        status = snake(payload["status"])
        if status not in DIAGNOSTICS_STATUSES:
            return lambda: {}  # from a lenient charger: nothing we can show

        def apply() -> Payload:
            charger.diagnostics_status = status
            charger.notify()
            return {}

        return apply

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

    # --- charging limits ---------------------------------------------------------------

    def _rate_unit(self) -> str:
        """A unless the charger only takes W (ChargingScheduleAllowedChargingRateUnit)."""
        allowed = self.central.configuration(self.charger_id).get(self.rate_unit_key, "")
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

    async def set_smart_limit(
        self, connector_id: int, amps: float, transaction_id: int | str, start: datetime
    ) -> bool:
        """SetChargingProfile: smart charging's TxProfile, bound to the session."""
        core, schedule = self._smart_profile(amps, start)
        profile: Payload = {
            "chargingProfileId": smart_profile_id(connector_id),
            "transactionId": transaction_id,
            **core,
            "chargingSchedule": schedule,
        }
        answer = await self.connection.call(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )
        return bool(answer.get("status") == "Accepted")

    async def set_smart_schedule(
        self,
        connector_id: int,
        schedule: Payload,
        transaction_id: int | str | None,
        valid_to: datetime,
    ) -> bool:
        """SetChargingProfile: the charging plan as smart charging's profile."""
        profile: Payload = {
            "chargingProfileId": smart_profile_id(connector_id),
            **self._plan_core(transaction_id is not None, valid_to),
            "chargingSchedule": schedule,
        }
        if transaction_id is not None:
            profile["transactionId"] = transaction_id
        answer = await self.connection.call(
            "SetChargingProfile", {"connectorId": connector_id, "csChargingProfiles": profile}
        )
        return bool(answer.get("status") == "Accepted")

    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """GetCompositeSchedule, as plain data."""
        answer = await self.connection.call(
            "GetCompositeSchedule",
            {"connectorId": connector_id, "duration": duration, **self._composite_unit()},
        )
        schedule = answer.get("chargingSchedule") or {}
        return {
            "status": snake(answer.get("status", "Rejected")),
            "connector_id": answer.get("connectorId", connector_id),
            "schedule_start": answer.get("scheduleStart") or schedule.get("startSchedule"),
            "duration": schedule.get("duration"),
            "charging_rate_unit": schedule.get("chargingRateUnit"),
            "periods": composite_periods(schedule.get("chargingSchedulePeriod", [])),
        }

    async def confirm_open_sessions(self, charger: Charger) -> None:
        """Nothing to ask: a 1.6 charger sends the StopTransaction it queued."""

    # --- other controls ----------------------------------------------------------------

    async def change_availability(
        self, connector_id: int, available: bool, evse_connector: int | None = None
    ) -> str:
        """ChangeAvailability; returns accepted, scheduled or rejected."""
        if evse_connector is not None:
            raise NotInVersion("evse_connector_id")
        answer = await self.connection.call(
            "ChangeAvailability",
            {"connectorId": connector_id, "type": "Operative" if available else "Inoperative"},
        )
        return snake(answer.get("status", "Rejected"))

    async def reset(self, hard: bool, connector_id: int | None = None) -> bool:
        """Reset Soft/Hard (of the whole charger: 1.6 resets nothing smaller)."""
        if connector_id is not None:
            raise NotInVersion("connector_id")
        answer = await self.connection.call("Reset", {"type": "Hard" if hard else "Soft"})
        return bool(answer.get("status") == "Accepted")

    async def unlock(self, connector_id: int) -> str:
        """UnlockConnector; returns unlocked, unlock_failed or not_supported."""
        answer = await self.connection.call("UnlockConnector", {"connectorId": connector_id})
        return snake(answer.get("status", "NotSupported"))

    async def update_firmware(
        self, location: str, retrieve_at: datetime, retries: int | None, retry_interval: int | None
    ) -> None:
        """UpdateFirmware (the charger reports progress with FirmwareStatusNotification)."""
        payload: Payload = {"location": location, "retrieveDate": retrieve_at.isoformat()}
        if retries is not None:
            payload["retries"] = retries
        if retry_interval is not None:
            payload["retryInterval"] = retry_interval
        await self.connection.call("UpdateFirmware", payload)

    async def get_diagnostics(
        self,
        upload_url: str,
        start: datetime | None,
        stop: datetime | None,
        log_type: str = "diagnostics",
    ) -> str | None:
        """GetDiagnostics; returns the file name the charger will upload."""
        if log_type != "diagnostics":
            raise NotInVersion("log_type")
        payload: Payload = {"location": upload_url}
        if start is not None:
            payload["startTime"] = start.isoformat()
        if stop is not None:
            payload["stopTime"] = stop.isoformat()
        answer = await self.connection.call("GetDiagnostics", payload)
        return answer.get("fileName")

    meter_interval_key = "MeterValueSampleInterval"
    stack_level_key = "ChargeProfileMaxStackLevel"
    password_key = "AuthorizationKey"
    password_max_bytes = 20  # 16-20 bytes, sent as at most 40 hex digits
    profile_id_field = "id"  # of ClearChargingProfile  # OCPP 1.6 security extension
    station_max_purpose = "ChargePointMaxProfile"
    rate_unit_key = "ChargingScheduleAllowedChargingRateUnit"

    def password_setting(self, password: str) -> str:
        """AuthorizationKey holds the password hex-encoded (1.6 security whitepaper)."""
        return password.encode().hex()

    async def read_configuration(self) -> dict[str, str]:
        """GetConfiguration of every key."""
        answer = await self.get_configuration(None)
        return {item["key"]: item["value"] for item in answer["keys"] if item["value"] is not None}

    def connector_ids(self, configuration: dict[str, str]) -> list[int]:
        """1 .. NumberOfConnectors."""
        try:
            count = int(configuration.get("NumberOfConnectors", 0))
        except ValueError:
            return []
        return list(range(1, min(count, MAX_CONNECTORS) + 1))

    async def get_configuration(
        self, keys: list[str] | None, report_type: str | None = None
    ) -> Payload:
        """GetConfiguration; returns {"keys": [{key, value, readonly}], "unknown_keys": [...]}."""
        if report_type is not None:
            raise NotInVersion("report_type")
        answer = await self.connection.call("GetConfiguration", {"key": keys} if keys else {})
        return {
            "keys": [
                {"key": item["key"], "value": item.get("value"), "readonly": item["readonly"]}
                for item in answer.get("configurationKey", [])
            ],
            "unknown_keys": list(answer.get("unknownKey", [])),
        }

    async def set_configuration(self, key: str, value: str) -> str:
        """ChangeConfiguration; returns accepted, reboot_required, rejected or not_supported."""
        answer = await self.connection.call("ChangeConfiguration", {"key": key, "value": value})
        return snake(answer.get("status", "Rejected"))

    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """TriggerMessage; returns accepted, rejected or not_implemented."""
        payload: Payload = {"requestedMessage": message}
        if connector_id is not None:
            payload["connectorId"] = connector_id
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
        """ReserveNow; returns accepted, faulted, occupied, rejected or unavailable."""
        if connector_type is not None:
            raise NotInVersion("connector_type")
        payload: Payload = {
            "connectorId": connector_id,
            "expiryDate": expiry.isoformat(),
            "idTag": id_tag,
            "reservationId": reservation_id,
        }
        if parent is not None:
            payload["parentIdTag"] = parent
        answer = await self.connection.call("ReserveNow", payload)
        return snake(answer.get("status", "Rejected"))

    # --- local authorization list ------------------------------------------------------

    def supports_local_list(self, configuration: dict[str, str]) -> bool:
        """LocalAuthListManagement profile, and the list not switched off."""
        profiles = configuration.get("SupportedFeatureProfiles", "")
        enabled = configuration.get("LocalAuthListEnabled", "true").lower() == "true"
        return "LocalAuthListManagement" in profiles and enabled

    async def get_local_list_version(self) -> int:
        """GetLocalListVersion."""
        answer = await self.connection.call("GetLocalListVersion", {})
        return int(answer.get("listVersion", -1))

    async def send_local_list(
        self, version: int, entries: dict[str, AuthResult | None], *, full: bool
    ) -> str:
        """SendLocalList, Full or Differential."""
        answer = await self.connection.call(
            "SendLocalList",
            {
                "listVersion": version,
                "updateType": "Full" if full else "Differential",
                "localAuthorizationList": [
                    _local_list_entry(tag, result)
                    for tag, result in entries.items()
                    if len(tag) <= ID_TAG_MAX_LENGTH  # longer ones cannot exist in 1.6
                ],
            },
        )
        return snake(answer.get("status", "Failed"))


def _local_list_entry(id_tag: str, result: AuthResult | None) -> Payload:
    entry: Payload = {"idTag": id_tag}
    if result is not None:
        entry["idTagInfo"] = id_tag_info(result)
    return entry
