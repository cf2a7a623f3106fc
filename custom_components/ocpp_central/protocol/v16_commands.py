"""OCPP 1.6J commands to a charger: controls, configuration, reservations, the local list."""

from __future__ import annotations

from datetime import datetime

from ..const import ID_TAG_MAX_LENGTH
from ..core.bounds import MAX_CONNECTORS
from ..core.id_tags import AuthResult
from ..core.status import snake
from ..wire.connection import Payload
from .base import ChargerProtocol
from .values import NotInVersion


def id_tag_info(result: AuthResult) -> Payload:
    """IdTagInfo for an authorization result."""
    info: Payload = {"status": result.status.value}
    if result.expiry is not None:
        info["expiryDate"] = result.expiry.isoformat()
    if result.parent is not None:
        info["parentIdTag"] = result.parent
    return info


class V16Commands(ChargerProtocol):
    """What the central system asks of a 1.6 charger beyond sessions and limits."""

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
