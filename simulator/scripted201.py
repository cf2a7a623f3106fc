"""A scripted OCPP 2.0.1/2.1 charging station: an `ocpp` library charge point over a real
websocket, answering every call generically and recording what it received (see scripted.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import json
from typing import Any

from ocpp.charge_point import camel_to_snake_case, serialize_as_dict, snake_to_camel_case
from ocpp.messages import MessageType, unpack
from ocpp.v201 import ChargePoint, call
from websockets.asyncio.client import ClientConnection

from .scripted import LOGGER, Payload, Recorder, serving

DEFAULT_ANSWERS: dict[str, Payload] = {
    "RequestStartTransaction": {"status": "Accepted"},
    "RequestStopTransaction": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "GetCompositeSchedule": {"status": "Rejected"},
    "ChangeAvailability": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {"status": "Accepted"},
    "GetLog": {"status": "Accepted", "filename": "diagnostics.log"},
    "DataTransfer": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "GetLocalListVersion": {"versionNumber": 0},
    "GetTransactionStatus": {"messagesInQueue": False},
}


class SimStation(Recorder, ChargePoint):
    """Answers calls from `answers` (or computed from `variables`), records them all."""

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection, response_timeout=5, logger=LOGGER)
        self.start_recording()
        self.answers: dict[str, Payload | Callable[[Payload], Payload]] = {}
        self.silent: set[str] = set()
        # Device model: (component, evse id or None, variable) -> value
        self.variables: dict[tuple[str, int | None, str], str] = {}
        self.report_tasks: list[asyncio.Task[None]] = []
        # Calls answered with a CallError of this code; whether GetBaseReport is followed by
        # its NotifyReport messages.
        self.errors: dict[str, str] = {}
        self.send_reports = True
        # Installed charging profiles, reported for GetChargingProfiles: (evse id, source,
        # ChargingProfile).
        self.profiles: list[tuple[int, str, Payload]] = []

    async def route_message(self, raw_msg: str) -> None:
        msg = unpack(raw_msg)
        if msg.message_type_id != MessageType.Call:
            await super().route_message(raw_msg)
            return
        self.record(msg.action, msg.payload)
        if msg.action in self.silent:
            return
        if (code := self.errors.get(msg.action)) is not None:
            await self._send(json.dumps([4, msg.unique_id, code, "refused by the test", {}]))
            return
        answer = self._answer(msg.action, msg.payload)
        await self._send(msg.create_call_result(answer).to_json())
        loop = asyncio.get_running_loop()
        accepted = answer.get("status") == "Accepted"
        if msg.action == "GetBaseReport" and accepted and self.send_reports:
            self.report_tasks.append(loop.create_task(self._send_report(msg.payload["requestId"])))
        if msg.action == "GetChargingProfiles" and accepted:
            self.report_tasks.append(loop.create_task(self._send_profiles(msg.payload)))

    def _answer(self, action: str, payload: Payload) -> Payload:
        if (answer := self.answers.get(action)) is not None:
            return answer(payload) if callable(answer) else answer
        if action == "GetVariables":
            return {"getVariableResult": [self._get(item) for item in payload["getVariableData"]]}
        if action == "SetVariables":
            return {"setVariableResult": [self._set(item) for item in payload["setVariableData"]]}
        if action == "GetBaseReport":
            return {"status": "Accepted" if self.variables else "EmptyResultSet"}
        if action == "GetChargingProfiles":
            return {"status": "Accepted" if self._matching(payload) else "NoProfiles"}
        return DEFAULT_ANSWERS.get(action, {"status": "Accepted"})

    def _lookup(self, item: Payload) -> tuple[str, int | None, str]:
        """The `variables` key of a component/variable pair ("Variable/instance" when the
        variable has an instance)."""
        evse = (item["component"].get("evse") or {}).get("id")
        variable = item["variable"]["name"]
        if instance := item["variable"].get("instance"):
            variable = f"{variable}/{instance}"
        return (item["component"]["name"], evse, variable)

    def _get(self, item: Payload) -> Payload:
        key = self._lookup(item)
        result = {"component": item["component"], "variable": item["variable"]}
        if key in self.variables:
            return {**result, "attributeStatus": "Accepted", "attributeValue": self.variables[key]}
        return {**result, "attributeStatus": "UnknownVariable"}

    def _set(self, item: Payload) -> Payload:
        key = self._lookup(item)
        result = {"component": item["component"], "variable": item["variable"]}
        status = self.answers.get("SetVariablesStatus", {"status": "Accepted"})["status"]  # type: ignore[index]
        if key not in self.variables:
            return {**result, "attributeStatus": "UnknownVariable"}
        if status in ("Accepted", "RebootRequired"):
            self.variables[key] = item["attributeValue"]
        return {**result, "attributeStatus": status}

    async def _send_report(self, request_id: int) -> None:
        items = list(self.variables.items())
        chunks = [items[i : i + 2] for i in range(0, len(items), 2)] or [[]]
        for seq, chunk in enumerate(chunks):
            report = [
                {
                    "component": {
                        "name": comp,
                        **({"evse": {"id": evse}} if evse is not None else {}),
                    },
                    "variable": dict(zip(("name", "instance"), var.split("/"), strict=False)),
                    "variableAttribute": [
                        {"type": "Actual", "value": value, "mutability": "ReadWrite"}
                    ],
                    "variableCharacteristics": {"dataType": "string", "supportsMonitoring": False},
                }
                for (comp, evse, var), value in chunk
            ]
            await self.send(
                "NotifyReport",
                {
                    "requestId": request_id,
                    "generatedAt": "2026-01-01T00:00:00Z",
                    "seqNo": seq,
                    "tbc": seq < len(chunks) - 1,
                    "reportData": report,
                },
            )

    def _matching(self, request: Payload) -> list[tuple[int, str, Payload]]:
        criteria = request.get("chargingProfile") or {}
        return [
            (evse, source, profile)
            for evse, source, profile in self.profiles
            if request.get("evseId") in (None, evse)
            and criteria.get("chargingProfilePurpose") in (None, profile["chargingProfilePurpose"])
            and criteria.get("stackLevel") in (None, profile["stackLevel"])
        ]

    async def _send_profiles(self, request: Payload) -> None:
        """ReportChargingProfiles: one message per profile, the last with tbc false."""
        matching = self._matching(request)
        for seq, (evse, source, profile) in enumerate(matching):
            await self.send(
                "ReportChargingProfiles",
                {
                    "requestId": request["requestId"],
                    "chargingLimitSource": source,
                    "tbc": seq < len(matching) - 1,
                    "evseId": evse,
                    "chargingProfile": [profile],
                },
            )

    async def send(self, action: str, payload: Payload) -> Payload:
        """Send a charger-initiated message (camelCase payload, schema-validated); return the answer."""
        request = getattr(call, action)(**camel_to_snake_case(payload))
        result = await self.call(request, suppress=False)
        return snake_to_camel_case(serialize_as_dict(result))  # type: ignore[no-any-return]

    async def boot(
        self, vendor: str = "Acme", model: str = "Station 22", **station: Any
    ) -> Payload:
        return await self.send(
            "BootNotification",
            {
                "chargingStation": {"vendorName": vendor, "model": model, **station},
                "reason": "PowerUp",
            },
        )

    async def status(self, evse: int, status: str, connector: int = 1) -> Payload:
        return await self.send(
            "StatusNotification",
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "connectorStatus": status,
                "evseId": evse,
                "connectorId": connector,
            },
        )


def _cancel_reports(station: SimStation) -> None:
    for report in station.report_tasks:
        report.cancel()


@contextlib.asynccontextmanager
async def connected_station(
    port: int, station_id: str = "CS1", *, subprotocol: str = "ocpp2.0.1", **kwargs: Any
) -> AsyncIterator[SimStation]:
    """Connect a scripted 2.x station and serve its incoming calls while in the block."""

    def make(websocket: ClientConnection) -> SimStation:
        station = SimStation(station_id, websocket)
        if subprotocol == "ocpp2.1":
            station._ocpp_version = "2.1"
        return station

    async with serving(
        f"ws://127.0.0.1:{port}/{station_id}", [subprotocol], make, _cancel_reports, **kwargs
    ) as station:
        yield station
