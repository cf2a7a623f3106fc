"""OCPP 2.0.1 (and 2.1) commands to a station: controls, firmware and logs, reservations,
the local list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ..core.id_tags import AuthResult
from ..core.status import snake
from ..wire.connection import CallErrorReceived, Payload
from .v201_sessions import V201Sessions, id_token_info

_LOG_TYPES = {"diagnostics": "DiagnosticsLog", "security": "SecurityLog"}


class V201Commands(V201Sessions):
    """What the central system asks of a 2.x station beyond sessions, limits and reports."""

    _request_ids: Iterator[int]

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
