"""A simulated OCPP 2.0.1 charging station: EVSEs 1..N with one connector each."""

from __future__ import annotations

from datetime import UTC, datetime
import itertools
from typing import Any
import uuid

from ocpp.v201 import ChargePoint

from .base import After, Link, Outlet, Payload, SimCharger
from .ev import MEASURANDS, now_iso
from .profiles import Profile

# 1.6-style stop reasons the shared code uses -> (triggerReason, stoppedReason)
_STOPS = {
    "Local": ("StopAuthorized", "Local"),
    "EVDisconnected": ("EVCommunicationLost", "EVDisconnected"),
    "Remote": ("RemoteStop", "Remote"),
    "UnlockCommand": ("UnlockCommand", "Other"),
    "DeAuthorized": ("Deauthorized", "DeAuthorized"),
    "SoftReset": ("ResetCommand", "Reboot"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "Reboot": ("ResetCommand", "Reboot"),
}


class Link201(Link, ChargePoint):
    """2.0.1 ChargePoint of one connection."""


class Charger201(SimCharger):
    """A charging station with a small device model."""

    subprotocol = "ocpp2.0.1"
    link_class = Link201
    outlet_name = "EVSE"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Device model variables: (component, evse id, variable) -> (value, read-only)."""
        super().__init__(*args, **kwargs)
        self._ids = itertools.count(1)
        self.local_list_version = 0
        power = round(self.options.max_current * 230 * 3)
        self.variables: dict[tuple[str, int | None, str], tuple[str, bool]] = {
            ("ChargingStation", None, "Model"): ("Sim 2.0.1", True),
            ("ChargingStation", None, "VendorName"): (self.options.vendor, True),
            ("OCPPCommCtrlr", None, "HeartbeatInterval"): ("300", False),
            ("OCPPCommCtrlr", None, "NetworkProfileConnectionAttempts"): ("3", False),
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): (str(self.options.interval), False),
            ("SampledDataCtrlr", None, "TxUpdatedMeasurands"): (MEASURANDS, False),
            ("SampledDataCtrlr", None, "TxEndedMeasurands"): (
                "Energy.Active.Import.Register",
                False,
            ),
            ("AlignedDataCtrlr", None, "Interval"): ("0", False),
            ("AuthCtrlr", None, "AuthorizeRemoteStart"): ("false", False),
            ("AuthCtrlr", None, "LocalPreAuthorize"): ("false", False),
            ("LocalAuthListCtrlr", None, "Enabled"): ("true", False),
            ("SmartChargingCtrlr", None, "Enabled"): ("true", False),
            ("SmartChargingCtrlr", None, "RateUnit"): ("A,W", True),
            ("SmartChargingCtrlr", None, "ProfileStackLevel"): ("8", True),
            ("SmartChargingCtrlr", None, "PeriodsPerSchedule"): ("24", True),
            ("TxCtrlr", None, "StopTxOnEVSideDisconnect"): ("true", True),
        }
        for n in self.outlets:
            self.variables[("EVSE", n, "Power")] = (str(power), True)
            self.variables[("EVSE", n, "AvailabilityState")] = ("Available", True)
            self.variables[("EVSE", n, "SupplyPhases")] = ("3", True)

    @property
    def interval(self) -> int:
        """TxUpdatedInterval (the CSMS may change it)."""
        try:
            return max(1, int(self.variables[("SampledDataCtrlr", None, "TxUpdatedInterval")][0]))
        except ValueError:
            return self.options.interval

    def boot_payload(self, reason: str) -> Payload:
        """2.0.1 BootNotification."""
        return {
            "chargingStation": {
                "vendorName": self.options.vendor[:50],
                "model": f"Sim {self.options.connectors}x11kW",
                "serialNumber": self.charger_id[:25],
                "firmwareVersion": self.firmware,
            },
            "reason": reason,
        }

    async def after_boot(self) -> None:
        """Nothing station-wide to report; each EVSE reports in its loop."""
        self.variables[("OCPPCommCtrlr", None, "HeartbeatInterval")] = (str(self.heartbeat), False)

    async def send_status(self, outlet: Outlet, status: str) -> None:
        """StatusNotification of the EVSE's connector (Preparing/Charging... are Occupied)."""
        outlet.status = status
        connector_status = {
            "Available": "Available",
            "Reserved": "Reserved",
            "Unavailable": "Unavailable",
            "Faulted": "Faulted",
        }.get(status, "Occupied")
        self.variables[("EVSE", outlet.number, "AvailabilityState")] = (connector_status, True)
        await self.send(
            "StatusNotification",
            {
                "timestamp": now_iso(),
                "connectorStatus": connector_status,
                "evseId": outlet.number,
                "connectorId": 1,
            },
        )

    # --- the session -------------------------------------------------------------------

    async def _event(
        self,
        outlet: Outlet,
        event: str,
        trigger: str,
        charging_state: str | None = None,
        *,
        meter_value: Payload | None = None,
        id_tag: str | None = None,
        stopped_reason: str | None = None,
    ) -> Payload:
        info: Payload = {"transactionId": outlet.transaction_id}
        if charging_state is not None:
            info["chargingState"] = charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if outlet.remote_start_id is not None and event == "Started":
            info["remoteStartId"] = outlet.remote_start_id
        payload: Payload = {
            "eventType": event,
            "timestamp": now_iso(),
            "triggerReason": trigger,
            "seqNo": outlet.seq_no,
            "transactionInfo": info,
        }
        outlet.seq_no += 1
        if event == "Started":
            payload["evse"] = {"id": outlet.number, "connectorId": 1}
        if meter_value is not None:
            payload["meterValue"] = [meter_value]
        if id_tag is not None:
            payload["idToken"] = {
                "idToken": id_tag,
                "type": "Central" if outlet.remote_start_id else "ISO14443",
            }
        return await self.send("TransactionEvent", payload)

    async def session(self, outlet: Outlet) -> None:
        """Plug in (transaction starts), authorize, charge, stop, unplug."""
        remote, tag = self.plug_in(outlet)
        outlet.transaction_id = uuid.uuid4().hex[:20]
        outlet.session_start = datetime.now(UTC)
        outlet.seq_no = 0
        outlet.id_tag = None
        await self.send_status(outlet, "Preparing")
        await self._event(
            outlet,
            "Started",
            "RemoteStart" if remote else "CablePluggedIn",
            "EVConnected",
            meter_value=outlet.meter.register_201("Transaction.Begin"),
            id_tag=tag if remote else None,
        )
        outlet.reservation = None
        self.log.info("EVSE %s: transaction %s started", outlet.number, outlet.transaction_id)
        if remote and self.variables[("AuthCtrlr", None, "AuthorizeRemoteStart")][0] != "true":
            outlet.id_tag = tag
        else:
            answer = await self.send("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})
            status = answer["idTokenInfo"]["status"]
            if status != "Accepted":
                self.warn_once(
                    f"auth-{tag}",
                    "id token %s was answered %s: no charging. Add the tag in Home Assistant "
                    "(ocpp_central.add_id_tag), set the id-tag policy to accept every tag, or "
                    "start a session from Home Assistant (the charging switch)",
                    tag,
                    status,
                )
                outlet.stop_reason = "DeAuthorized"
                await self.stop(outlet)
                return
            outlet.id_tag = tag
            await self._event(outlet, "Updated", "Authorized", "Charging", id_tag=tag)
        outlet.status = "Charging"
        await self.charge(outlet)

    async def send_charging_state(self, outlet: Outlet, state: str) -> None:
        """TransactionEvent ChargingStateChanged (the connector stays Occupied)."""
        outlet.status = state
        await self._event(outlet, "Updated", "ChargingStateChanged", state)

    async def send_sample(self, outlet: Outlet) -> None:
        """TransactionEvent Updated with the periodic meter value."""
        await self._event(
            outlet,
            "Updated",
            "MeterValuePeriodic",
            meter_value=outlet.meter.meter_value_201(outlet.car),
        )

    async def send_stop(self, outlet: Outlet, reason: str) -> None:
        """TransactionEvent Ended (2.0.1 has no Finishing: the connector stays Occupied)."""
        trigger, stopped = _STOPS.get(reason, ("StopAuthorized", "Other"))
        await self._event(
            outlet,
            "Ended",
            trigger,
            "EVConnected" if reason != "EVDisconnected" else "Idle",
            meter_value=outlet.meter.register_201("Transaction.End"),
            stopped_reason=stopped,
        )
        self.log.info(
            "EVSE %s: transaction %s ended (%s)", outlet.number, outlet.transaction_id, stopped
        )

    # --- calls from the CSMS ------------------------------------------------------------

    def on_RequestStartTransaction(self, payload: Payload) -> tuple[Payload, After]:
        token = payload["idToken"]["idToken"]
        outlet = self.remote_start_outlet(payload.get("evseId"), token)
        if outlet is None:
            return {"status": "Rejected"}, None
        if (profile := payload.get("chargingProfile")) is not None:
            self.profiles.install(Profile.from_201(outlet.number, profile))
        outlet.remote_tag = token
        outlet.remote_start_id = payload["remoteStartId"]
        self.poke(outlet)
        self.log.info("EVSE %s: remote start for %s", outlet.number, token)
        return {"status": "Accepted"}, None

    def on_RequestStopTransaction(self, payload: Payload) -> tuple[Payload, After]:
        return self.remote_stop(payload["transactionId"])

    def on_UnlockConnector(self, payload: Payload) -> tuple[Payload, After]:
        outlet = self.outlets.get(payload["evseId"])
        if outlet is None or payload["connectorId"] != 1:
            return {"status": "UnknownConnector"}, None
        if outlet.in_session:
            return {"status": "OngoingAuthorizedTransaction"}, None
        return {"status": "Unlocked"}, None

    def on_SetChargingProfile(self, payload: Payload) -> tuple[Payload, After]:
        evse = payload["evseId"]
        data = payload["chargingProfile"]
        if evse != 0 and evse not in self.outlets:
            return {"status": "Rejected"}, None
        return self.install_profile(Profile.from_201(evse, data))

    def on_ClearChargingProfile(self, payload: Payload) -> tuple[Payload, After]:
        criteria = payload.get("chargingProfileCriteria") or {}
        return self.clear_profiles(
            payload.get("chargingProfileId"),
            criteria.get("evseId"),
            criteria.get("chargingProfilePurpose"),
            criteria.get("stackLevel"),
        )

    def on_GetCompositeSchedule(self, payload: Payload) -> tuple[Payload, After]:
        evse = payload["evseId"]
        outlets = self.outlets_at(evse)
        if not outlets:
            return {"status": "Rejected"}, None
        unit = payload.get("chargingRateUnit", "A")
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": evse,
                "duration": payload["duration"],
                "scheduleStart": now_iso(),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": self.schedule_limit(outlets, unit)}
                ],
            },
        }, None

    def on_ChangeAvailability(self, payload: Payload) -> tuple[Payload, After]:
        evse = (payload.get("evse") or {}).get("id")
        outlets = self.outlets_at(evse)
        if not outlets:
            return {"status": "Rejected"}, None
        return self.change_availability(outlets, payload["operationalStatus"] == "Operative")

    def on_Reset(self, payload: Payload) -> tuple[Payload, After]:
        hard = payload["type"] == "Immediate"
        if not hard and any(o.in_session for o in self.outlets.values()):
            # OnIdle: a real station waits for the sessions; we stop them first.
            return {"status": "Scheduled"}, lambda: self.reboot("SoftReset", False)
        return {"status": "Accepted"}, lambda: self.reboot(
            "HardReset" if hard else "SoftReset", hard
        )

    def on_TriggerMessage(self, payload: Payload) -> tuple[Payload, After]:
        message = payload["requestedMessage"]
        evse = (payload.get("evse") or {}).get("id")
        outlets = self.outlets_at(evse)
        if message == "BootNotification":
            return {"status": "Accepted"}, self.run_after(self.trigger_boot)
        if not self.accepted or not outlets:
            return {"status": "Rejected"}, None
        if message not in (
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "FirmwareStatusNotification",
            "LogStatusNotification",
            "TransactionEvent",
        ):
            return {"status": "NotImplemented"}, None

        async def send() -> None:
            if message == "Heartbeat":
                await self.send("Heartbeat", {})
            elif message == "StatusNotification":
                for outlet in outlets:
                    await self.send_status(outlet, outlet.status or self.idle_status(outlet))
            elif message == "MeterValues":
                for outlet in outlets:
                    await self.send(
                        "MeterValues",
                        {
                            "evseId": outlet.number,
                            "meterValue": [outlet.meter.meter_value_201(outlet.car, "Trigger")],
                        },
                    )
            elif message == "TransactionEvent":
                for outlet in outlets:
                    if outlet.in_session:
                        await self._event(
                            outlet,
                            "Updated",
                            "Trigger",
                            meter_value=outlet.meter.meter_value_201(outlet.car, "Trigger"),
                        )
            elif message == "FirmwareStatusNotification":
                await self.send("FirmwareStatusNotification", {"status": "Idle"})
            elif message == "LogStatusNotification":
                await self.send("LogStatusNotification", {"status": "Idle"})

        return {"status": "Accepted"}, send

    # --- device model --------------------------------------------------------------------

    def _key(self, item: Payload) -> tuple[str, int | None, str]:
        evse = (item["component"].get("evse") or {}).get("id")
        return (item["component"]["name"], evse, item["variable"]["name"])

    def on_GetBaseReport(self, payload: Payload) -> tuple[Payload, After]:
        request_id = payload["requestId"]
        items = sorted(self.variables.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2]))

        async def report() -> None:
            chunks = [items[i : i + 10] for i in range(0, len(items), 10)]
            for seq, chunk in enumerate(chunks):
                data = []
                for (component, evse, variable), (value, readonly) in chunk:
                    comp: Payload = {"name": component}
                    if evse is not None:
                        comp["evse"] = {"id": evse}
                    data.append(
                        {
                            "component": comp,
                            "variable": {"name": variable},
                            "variableAttribute": [
                                {
                                    "type": "Actual",
                                    "value": value,
                                    "mutability": "ReadOnly" if readonly else "ReadWrite",
                                }
                            ],
                            "variableCharacteristics": {
                                "dataType": "integer" if value.isdigit() else "string",
                                "supportsMonitoring": False,
                            },
                        }
                    )
                await self.send(
                    "NotifyReport",
                    {
                        "requestId": request_id,
                        "generatedAt": now_iso(),
                        "seqNo": seq,
                        "tbc": seq < len(chunks) - 1,
                        "reportData": data,
                    },
                )

        return {"status": "Accepted"}, report

    def on_GetVariables(self, payload: Payload) -> tuple[Payload, After]:
        results = []
        for item in payload["getVariableData"]:
            key = self._key(item)
            result: Payload = {"component": item["component"], "variable": item["variable"]}
            if key in self.variables:
                result |= {"attributeStatus": "Accepted", "attributeValue": self.variables[key][0]}
            elif not any(k[0] == key[0] for k in self.variables):
                result["attributeStatus"] = "UnknownComponent"
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}, None

    def on_SetVariables(self, payload: Payload) -> tuple[Payload, After]:
        results = []
        for item in payload["setVariableData"]:
            key = self._key(item)
            result: Payload = {"component": item["component"], "variable": item["variable"]}
            if key not in self.variables:
                result["attributeStatus"] = (
                    "UnknownComponent"
                    if not any(k[0] == key[0] for k in self.variables)
                    else "UnknownVariable"
                )
            elif self.variables[key][1]:
                result["attributeStatus"] = "Rejected"
            else:
                value = item["attributeValue"]
                if key[2] in ("HeartbeatInterval", "TxUpdatedInterval") and not value.isdigit():
                    result["attributeStatus"] = "Rejected"
                else:
                    self.variables[key] = (value, False)
                    if key[2] == "HeartbeatInterval":
                        self.heartbeat = max(int(value), 10)
                    self.log.info("variable %s/%s = %s", key[0], key[2], value)
                    result["attributeStatus"] = "Accepted"
            results.append(result)
        return {"setVariableResult": results}, None

    def on_UpdateFirmware(self, payload: Payload) -> tuple[Payload, After]:
        extra = {"requestId": payload["requestId"]}
        update = self.firmware_update(payload["firmware"]["retrieveDateTime"], extra)
        return {"status": "Accepted"}, update

    def on_GetLog(self, payload: Payload) -> tuple[Payload, After]:
        extra = {"requestId": payload["requestId"]}
        kind = payload["logType"].lower()
        name, upload = self.log_upload(kind, "LogStatusNotification", extra)
        return {"status": "Accepted", "filename": name}, upload

    def on_ReserveNow(self, payload: Payload) -> tuple[Payload, After]:
        outlet = self.outlet_for(payload.get("evseId"))
        tag = payload["idToken"]["idToken"]
        return self.reserve(outlet, payload["id"], tag, payload["expiryDateTime"])

    async def reservation_expired(self, reservation_id: int) -> None:
        """ReservationStatusUpdate Expired."""
        await self.send(
            "ReservationStatusUpdate",
            {"reservationId": reservation_id, "reservationUpdateStatus": "Expired"},
        )

    def on_GetLocalListVersion(self, payload: Payload) -> tuple[Payload, After]:
        return {"versionNumber": self.local_list_version}, None

    def on_SendLocalList(self, payload: Payload) -> tuple[Payload, After]:
        self.local_list_version = payload["versionNumber"]
        return {"status": "Accepted"}, None
