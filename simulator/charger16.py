"""A simulated OCPP 1.6J charge point."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import ChargePoint

from .base import After, Link, Outlet, Payload, SimCharger
from .ev import MEASURANDS, now_iso
from .profiles import Profile


class Link16(Link, ChargePoint):
    """1.6 ChargePoint of one connection."""


class Charger16(SimCharger):
    """Connectors 1..N; connector 0 is the charge point as a whole."""

    subprotocol = "ocpp1.6"
    link_class = Link16
    outlet_name = "connector"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Configuration keys as a typical wallbox reports them."""
        super().__init__(*args, **kwargs)
        self.local_list_version = 0
        self.local_list: dict[str, Payload] = {}
        # key -> (value, readonly)
        self.configuration: dict[str, tuple[str, bool]] = {
            "AuthorizeRemoteTxRequests": ("false", False),
            "ChargeProfileMaxStackLevel": ("8", True),
            "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
            "ChargingScheduleMaxPeriods": ("24", True),
            "ClockAlignedDataInterval": ("0", False),
            "ConnectionTimeOut": ("60", False),
            "GetConfigurationMaxKeys": ("64", True),
            "HeartbeatInterval": ("300", False),
            "LocalAuthListEnabled": ("true", False),
            "LocalAuthListMaxLength": ("100", True),
            "LocalAuthorizeOffline": ("true", False),
            "LocalPreAuthorize": ("false", False),
            "MaxChargingProfilesInstalled": ("16", True),
            "MeterValueSampleInterval": (str(self.options.interval), False),
            "MeterValuesAlignedData": ("Energy.Active.Import.Register", False),
            "MeterValuesSampledData": (MEASURANDS, False),
            "NumberOfConnectors": (str(self.options.connectors), True),
            "ResetRetries": ("1", False),
            "SendLocalListMaxLength": ("50", True),
            "StopTransactionOnEVSideDisconnect": ("true", False),
            "StopTransactionOnInvalidId": ("true", False),
            "SupportedFeatureProfiles": (
                "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                "RemoteTrigger",
                True,
            ),
            "UnlockConnectorOnEVSideDisconnect": ("true", False),
        }

    @property
    def interval(self) -> int:
        """MeterValueSampleInterval (the central system may change it)."""
        try:
            return max(1, int(self.configuration["MeterValueSampleInterval"][0]))
        except ValueError:
            return self.options.interval

    def boot_payload(self, reason: str) -> Payload:
        """1.6 BootNotification (it has no reason field)."""
        return {
            "chargePointVendor": self.options.vendor[:20],
            "chargePointModel": f"Sim {self.options.connectors}x11kW"[:20],
            "chargePointSerialNumber": self.charger_id[:25],
            "chargeBoxSerialNumber": self.charger_id[:25],
            "firmwareVersion": self.firmware,
            "meterType": "Simulated 3-phase",
        }

    async def after_boot(self) -> None:
        """Status of the charge point itself; each connector's follows in its loop."""
        self.heartbeat = self.heartbeat or 300
        self.configuration["HeartbeatInterval"] = (str(self.heartbeat), False)
        await self.send(
            "StatusNotification",
            {
                "connectorId": 0,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": now_iso(),
            },
        )

    async def send_status(self, outlet: Outlet, status: str) -> None:
        """StatusNotification for one connector."""
        outlet.status = status
        await self.send(
            "StatusNotification",
            {
                "connectorId": outlet.number,
                "errorCode": "NoError",
                "status": status,
                "timestamp": now_iso(),
            },
        )

    # --- the session -------------------------------------------------------------------

    async def session(self, outlet: Outlet) -> None:
        """Plug in, authorize, start, charge, stop, unplug."""
        remote, tag = self.plug_in(outlet)
        await self.send_status(outlet, "Preparing")
        if not remote or self.configuration["AuthorizeRemoteTxRequests"][0] == "true":
            answer = await self.send("Authorize", {"idTag": tag})
            status = answer["idTagInfo"]["status"]
            if status != "Accepted":
                self.warn_once(
                    f"auth-{tag}",
                    "id tag %s was answered %s: no session. Add the tag in Home Assistant "
                    "(ocpp_central.add_id_tag), set the id-tag policy to accept every tag, or "
                    "start a session from Home Assistant (the connector's charging switch)",
                    tag,
                    status,
                )
                await self.sleep(None, 3)
                outlet.car = None
                await self.send_status(outlet, self.idle_status(outlet))
                return
        payload: Payload = {
            "connectorId": outlet.number,
            "idTag": tag,
            "meterStart": round(outlet.meter.energy_wh),
            "timestamp": now_iso(),
        }
        if outlet.reservation is not None:
            payload["reservationId"] = outlet.reservation[0]
            outlet.reservation = None
        answer = await self.send("StartTransaction", payload)
        outlet.transaction_id = answer["transactionId"]
        outlet.session_start = datetime.now(UTC)
        outlet.id_tag = tag
        self.log.info(
            "connector %s: transaction %s started (id tag %s)",
            outlet.number,
            outlet.transaction_id,
            tag,
        )
        if answer["idTagInfo"]["status"] != "Accepted":
            outlet.stop_reason = "DeAuthorized"
        await self.charge(outlet)

    async def send_charging_state(self, outlet: Outlet, state: str) -> None:
        """In 1.6 the charging state is the connector status."""
        await self.send_status(outlet, state)

    async def send_sample(self, outlet: Outlet) -> None:
        """A periodic MeterValues."""
        await self.send_meter_values(outlet)

    async def send_meter_values(self, outlet: Outlet, context: str = "Sample.Periodic") -> None:
        """MeterValues with the connector's current readings."""
        payload: Payload = {
            "connectorId": outlet.number,
            "meterValue": [outlet.meter.meter_value_16(outlet.car, context)],
        }
        if outlet.transaction_id is not None:
            payload["transactionId"] = outlet.transaction_id
        await self.send("MeterValues", payload)

    async def send_stop(self, outlet: Outlet, reason: str) -> None:
        """StopTransaction."""
        payload: Payload = {
            "transactionId": outlet.transaction_id,
            "meterStop": round(outlet.meter.energy_wh),
            "timestamp": now_iso(),
            "reason": reason,
            "transactionData": [outlet.meter.register_16("Transaction.End")],
        }
        if reason in ("Local", "DeAuthorized") and outlet.id_tag:
            payload["idTag"] = outlet.id_tag
        await self.send("StopTransaction", payload)
        self.log.info(
            "connector %s: transaction %s stopped (%s)",
            outlet.number,
            outlet.transaction_id,
            reason,
        )

    async def unplug(self, outlet: Outlet) -> None:
        """Finishing until the cable is unplugged."""
        await self.send_status(outlet, "Finishing")
        await super().unplug(outlet)

    # --- calls from the central system ---------------------------------------------------

    def on_RemoteStartTransaction(self, payload: Payload) -> tuple[Payload, After]:
        outlet = self.remote_start_outlet(payload.get("connectorId"), payload["idTag"])
        if outlet is None:
            return {"status": "Rejected"}, None
        if (profile := payload.get("chargingProfile")) is not None:
            if profile.get("chargingProfilePurpose") != "TxProfile":
                return {"status": "Rejected"}, None
            self.profiles.install(Profile.from_16(outlet.number, profile))
        outlet.remote_tag = payload["idTag"]
        self.poke(outlet)
        self.log.info("connector %s: remote start for %s", outlet.number, payload["idTag"])
        return {"status": "Accepted"}, None

    def on_RemoteStopTransaction(self, payload: Payload) -> tuple[Payload, After]:
        return self.remote_stop(payload["transactionId"])

    def on_UnlockConnector(self, payload: Payload) -> tuple[Payload, After]:
        outlet = self.outlets.get(payload["connectorId"])
        if outlet is None:
            return {"status": "NotSupported"}, None
        if outlet.in_session:
            outlet.stop_reason = "UnlockCommand"
            self.poke(outlet)
        return {"status": "Unlocked"}, None

    def on_SetChargingProfile(self, payload: Payload) -> tuple[Payload, After]:
        connector = payload["connectorId"]
        data = payload["csChargingProfiles"]
        purpose = data["chargingProfilePurpose"]
        if connector != 0 and connector not in self.outlets:
            return {"status": "Rejected"}, None
        if purpose == "ChargePointMaxProfile" and connector != 0:
            return {"status": "Rejected"}, None
        return self.install_profile(Profile.from_16(connector, data))

    def on_ClearChargingProfile(self, payload: Payload) -> tuple[Payload, After]:
        return self.clear_profiles(
            payload.get("id"),
            payload.get("connectorId"),
            payload.get("chargingProfilePurpose"),
            payload.get("stackLevel"),
        )

    def on_GetCompositeSchedule(self, payload: Payload) -> tuple[Payload, After]:
        connector = payload["connectorId"]
        if connector != 0 and connector not in self.outlets:
            return {"status": "Rejected"}, None
        unit = payload.get("chargingRateUnit", "A")
        limit = self.schedule_limit(self.outlets_at(connector), unit)
        return {
            "status": "Accepted",
            "connectorId": connector,
            "scheduleStart": now_iso(),
            "chargingSchedule": {
                "duration": payload["duration"],
                "startSchedule": now_iso(),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        }, None

    def on_ChangeAvailability(self, payload: Payload) -> tuple[Payload, After]:
        connector = payload["connectorId"]
        if connector != 0 and connector not in self.outlets:
            return {"status": "Rejected"}, None
        return self.change_availability(self.outlets_at(connector), payload["type"] == "Operative")

    def on_Reset(self, payload: Payload) -> tuple[Payload, After]:
        hard = payload["type"] == "Hard"
        return {"status": "Accepted"}, lambda: self.reboot(
            "HardReset" if hard else "SoftReset", hard
        )

    def on_TriggerMessage(self, payload: Payload) -> tuple[Payload, After]:
        message = payload["requestedMessage"]
        connector = payload.get("connectorId")
        if connector is not None and connector != 0 and connector not in self.outlets:
            return {"status": "Rejected"}, None
        outlets = self.outlets_at(connector)
        if message == "BootNotification":
            return {"status": "Accepted"}, self.run_after(self.trigger_boot)
        if not self.accepted:
            return {"status": "Rejected"}, None

        async def send() -> None:
            if message == "Heartbeat":
                await self.send("Heartbeat", {})
            elif message == "StatusNotification":
                for outlet in outlets:
                    await self.send_status(outlet, outlet.status or self.idle_status(outlet))
            elif message == "MeterValues":
                for outlet in outlets:
                    await self.send_meter_values(outlet, "Trigger")
            elif message == "FirmwareStatusNotification":
                await self.send("FirmwareStatusNotification", {"status": "Idle"})
            elif message == "DiagnosticsStatusNotification":
                await self.send("DiagnosticsStatusNotification", {"status": "Idle"})

        return {"status": "Accepted"}, send

    def on_GetConfiguration(self, payload: Payload) -> tuple[Payload, After]:
        keys = payload.get("key") or list(self.configuration)
        known = [k for k in keys if k in self.configuration]
        answer: Payload = {
            "configurationKey": [
                {"key": k, "readonly": self.configuration[k][1], "value": self.configuration[k][0]}
                for k in known
            ]
        }
        if unknown := [k for k in keys if k not in self.configuration]:
            answer["unknownKey"] = unknown
        return answer, None

    def on_ChangeConfiguration(self, payload: Payload) -> tuple[Payload, After]:
        key, value = payload["key"], payload["value"]
        if key not in self.configuration:
            return {"status": "NotSupported"}, None
        if self.configuration[key][1]:
            return {"status": "Rejected"}, None
        if key in ("MeterValueSampleInterval", "HeartbeatInterval", "ConnectionTimeOut"):
            if not value.isdigit():
                return {"status": "Rejected"}, None
            if key == "HeartbeatInterval":
                self.heartbeat = max(int(value), 10)
        self.configuration[key] = (value, False)
        self.log.info("configuration %s = %s", key, value)
        return {"status": "Accepted"}, None

    def on_UpdateFirmware(self, payload: Payload) -> tuple[Payload, After]:
        return {}, self.firmware_update(payload["retrieveDate"], {})

    def on_GetDiagnostics(self, payload: Payload) -> tuple[Payload, After]:
        name, upload = self.log_upload("diagnostics", "DiagnosticsStatusNotification", {})
        return {"fileName": name}, upload

    def on_ReserveNow(self, payload: Payload) -> tuple[Payload, After]:
        # connector 0 (or an unknown one): any free connector
        outlet = self.outlets.get(payload["connectorId"]) or self.outlet_for(None)
        return self.reserve(
            outlet, payload["reservationId"], payload["idTag"], payload["expiryDate"]
        )

    def on_GetLocalListVersion(self, payload: Payload) -> tuple[Payload, After]:
        return {"listVersion": self.local_list_version}, None

    def on_SendLocalList(self, payload: Payload) -> tuple[Payload, After]:
        if payload["updateType"] == "Full":
            self.local_list = {}
        for item in payload.get("localAuthorizationList") or ():
            if "idTagInfo" in item:
                self.local_list[item["idTag"]] = item["idTagInfo"]
            else:
                self.local_list.pop(item["idTag"], None)
        self.local_list_version = payload["listVersion"]
        return {"status": "Accepted"}, None
