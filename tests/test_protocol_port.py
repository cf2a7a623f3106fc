"""Protocol handlers on their own: a fake CentralPort, no Home Assistant, no server.

A handler gets its connection's frames (the connection's run loop over a websocket that
replays them) and may ask the outside only through its port; these tests are the outside.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
from typing import Any

import pytest

from custom_components.ocpp_central.const import HEARTBEAT_INTERVAL, PENDING_RETRY_INTERVAL
from custom_components.ocpp_central.core.events import (
    ChargerEvent,
    ErrorRaised,
    IdTagSeen,
    SessionEnded,
    SessionStarted,
)
from custom_components.ocpp_central.core.id_tags import AuthResult, AuthStatus
from custom_components.ocpp_central.core.limits import ElectricalSettings
from custom_components.ocpp_central.core.model import (
    Charger,
    ChargerInfo,
    ConnectorStatus,
    Transaction,
)
from custom_components.ocpp_central.protocol import ChargerProtocol
from custom_components.ocpp_central.protocol.port import BootDecision, CentralPort
from custom_components.ocpp_central.protocol.v16 import V16Protocol
from custom_components.ocpp_central.protocol.v201 import V201Protocol
from custom_components.ocpp_central.wire.connection import Handlers, OcppConnection

NOW = "2026-01-15T10:00:00Z"


@dataclass
class FakePort:
    """The outside as a handler sees it: what it decides is set here, what it hears is kept."""

    charger: Charger | None = None
    decision: BootDecision = BootDecision.ACCEPTED
    blocked: set[str] = field(default_factory=set)
    configuration: dict[str, str] = field(default_factory=dict)
    booted: list[ChargerInfo] = field(default_factory=list)
    events: list[ChargerEvent] = field(default_factory=list)
    # For each session event: the session its connector held when the event was published.
    on_connector: list[Transaction | None] = field(default_factory=list)
    ready: int = 0
    saves: int = 0
    _next_tx: int = 1

    def electrical_settings(self) -> ElectricalSettings:
        return ElectricalSettings(max_current=16, phases=3, voltage=230)

    def boot(self, info: ChargerInfo) -> BootDecision:
        self.booted.append(info)
        if self.decision is BootDecision.ACCEPTED and self.charger is None:
            self.charger = Charger("CP1")  # accepted by policy: the hub adds it
        return self.decision

    def charger_ready(self) -> None:
        self.ready += 1

    def authorize(self, id_tag: str) -> AuthResult:
        return AuthResult(AuthStatus.BLOCKED if id_tag in self.blocked else AuthStatus.ACCEPTED)

    def authorize_start(self, id_tag: str, connector_id: int) -> AuthResult:
        return self.authorize(id_tag)

    def next_transaction_id(self) -> int:
        self._next_tx += 1
        return self._next_tx - 1

    def publish(self, event: ChargerEvent) -> None:
        self.events.append(event)
        if isinstance(event, SessionStarted | SessionEnded) and self.charger is not None:
            self.on_connector.append(self.charger.connector(event.tx.connector_id).transaction)

    def save_soon(self) -> None:
        self.saves += 1

    def start_of_local_day(self) -> datetime:
        return datetime(2026, 1, 15, tzinfo=UTC)


class ReplayedSocket:
    """A websocket whose charger sends `frames`, one after the other, then hangs up."""

    def __init__(self, frames: list[list[Any]]) -> None:
        self._frames = [json.dumps(frame) for frame in frames]
        self.sent: list[list[Any]] = []

    def __aiter__(self) -> AsyncIterator[str]:
        return self._replay()

    async def _replay(self) -> AsyncIterator[str]:
        for frame in self._frames:
            yield frame

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self) -> None:
        """Nothing to close."""


async def exchange(
    port: CentralPort, frames: list[list[Any]], version: str = "1.6"
) -> tuple[ChargerProtocol, list[list[Any]]]:
    """Run a handler over `frames`; return it and what it answered, frame by frame."""
    socket = ReplayedSocket(frames)

    def open_connection(handlers: Handlers) -> OcppConnection:
        return OcppConnection(
            socket,  # type: ignore[arg-type]
            "CP1",
            version,
            call_timeout=1,
            handlers=handlers,
        )

    handler: ChargerProtocol = (
        V16Protocol(port, open_connection)
        if version == "1.6"
        else V201Protocol(port, open_connection)
    )
    await handler.connection.run()
    return handler, socket.sent


def call(unique_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
    return [2, unique_id, action, payload]


BOOT_16 = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"}


@pytest.mark.parametrize(
    ("decision", "status", "interval", "ready"),
    [
        (BootDecision.ACCEPTED, "Accepted", HEARTBEAT_INTERVAL, 1),
        (BootDecision.PENDING, "Pending", PENDING_RETRY_INTERVAL, 0),
        (BootDecision.REJECTED, "Rejected", HEARTBEAT_INTERVAL, 0),
    ],
)
async def test_boot_decision(
    decision: BootDecision, status: str, interval: int, ready: int
) -> None:
    """The port's decision becomes the answer's status; only an accepted charger is ready."""
    port = FakePort(decision=decision)
    _, answers = await exchange(port, [call("1", "BootNotification", BOOT_16)])
    assert answers[0][0] == 3
    assert answers[0][2]["status"] == status
    assert answers[0][2]["interval"] == interval
    assert port.booted == [ChargerInfo(vendor="Acme", model="Wallbox")]
    assert port.ready == ready


async def test_not_accepted_may_only_boot() -> None:
    """Before the port has a charger, every message but a boot is refused, and nothing is
    asked of the outside."""
    port = FakePort()
    sampled = [{"value": "1", "measurand": "Energy.Active.Import.Register"}]
    meter = {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": sampled}]}
    _, answers = await exchange(
        port, [call("1", "MeterValues", meter), call("2", "Authorize", {"idTag": "A"})]
    )
    assert [answer[2] for answer in answers] == ["SecurityError", "SecurityError"]
    assert port.events == [] and port.ready == 0


async def test_meter_values_reach_the_model() -> None:
    """A MeterValues frame's readings land on the connector, and a save is asked for."""
    port = FakePort(charger=Charger("CP1"))
    sampled = [
        {"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
    ]
    payload = {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": sampled}]}
    _, answers = await exchange(port, [call("1", "MeterValues", payload)])
    assert answers == [[3, "1", {}]]
    assert port.charger is not None
    conn = port.charger.connectors[1]
    assert conn.energy_kwh == pytest.approx(1.2345)
    assert conn.readings["power"] == pytest.approx(7200)
    assert port.saves == 1


async def test_start_and_stop_transaction() -> None:
    """A session starts with the port's id, is published, and ends with its reading."""
    charger = Charger("CP1")
    port = FakePort(charger=charger)
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 1000, "timestamp": NOW}
    stop = {"transactionId": 1, "meterStop": 3500, "timestamp": "2026-01-15T11:00:00Z"}
    _, answers = await exchange(
        port, [call("1", "StartTransaction", start), call("2", "StopTransaction", stop)]
    )
    assert answers[0][2] == {"transactionId": 1, "idTagInfo": {"status": "Accepted"}}
    assert answers[1] == [3, "2", {}]
    started, ended = port.events
    assert isinstance(started, SessionStarted) and started.tx.id_tag == "TAG"
    assert isinstance(ended, SessionEnded) and ended.meter_stop_wh == 3500
    conn = charger.connectors[1]
    assert conn.transaction is None
    assert conn.last_session is started.tx
    assert started.tx.energy_kwh == pytest.approx(2.5)
    assert started.tx.reason == "local"


async def test_a_lost_stop_closes_the_stale_session() -> None:
    """A second start on a busy connector ends the first session before the new one."""
    charger = Charger("CP1")
    port = FakePort(charger=charger)
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": NOW}
    await exchange(
        port, [call("1", "StartTransaction", start), call("2", "StartTransaction", start)]
    )
    kinds = [type(event).__name__ for event in port.events]
    assert kinds == ["SessionStarted", "SessionEnded", "SessionStarted"]
    first, _, second = port.events
    assert isinstance(first, SessionStarted) and isinstance(second, SessionStarted)
    assert charger.connectors[1].transaction is second.tx
    # The hub hears of the stale end while the connector is free: a limit bound to that
    # session is re-sent as the connector's default, not bound to the new session before
    # the charger has its id.
    assert port.on_connector == [first.tx, None, second.tx]


async def test_authorize_publishes_the_tag() -> None:
    """Authorize answers the port's decision and tells the port which tag was seen."""
    port = FakePort(charger=Charger("CP1"), blocked={"BAD"})
    _, answers = await exchange(port, [call("1", "Authorize", {"idTag": "BAD"})])
    assert answers[0][2] == {"idTagInfo": {"status": "Blocked"}}
    assert port.events == [IdTagSeen("BAD", "Blocked")]


async def test_error_published_once() -> None:
    """A connector error is published when it starts, not again while it lasts."""
    port = FakePort(charger=Charger("CP1"))
    fault = {"connectorId": 1, "status": "Faulted", "errorCode": "GroundFailure"}
    await exchange(
        port, [call("1", "StatusNotification", fault), call("2", "StatusNotification", fault)]
    )
    assert len(port.events) == 1
    assert isinstance(port.events[0], ErrorRaised)
    assert port.events[0].error.code == "ground_failure"
    assert port.charger is not None
    assert port.charger.connectors[1].status is ConnectorStatus.FAULTED


@pytest.mark.parametrize(
    "payload",
    [
        {"connectorId": 0, "idTag": "TAG", "meterStart": 0, "timestamp": NOW},
        {"connectorId": 99999, "idTag": "TAG", "meterStart": 0, "timestamp": NOW},
        {"connectorId": 1, "idTag": "X" * 21, "meterStart": 0, "timestamp": NOW},
        {"connectorId": 1, "idTag": "TAG", "meterStart": 10**15, "timestamp": NOW},
    ],
)
async def test_refused_message_changes_nothing(payload: dict[str, Any]) -> None:
    """A StartTransaction refused for what it carries gets a CallError, takes no id, opens
    no session, publishes and saves nothing."""
    charger = Charger("CP1")
    port = FakePort(charger=charger)
    before = repr(charger.connectors)
    _, answers = await exchange(port, [call("1", "StartTransaction", payload)])
    assert answers[0][0] == 4
    assert repr(charger.connectors) == before
    assert port.events == [] and port.saves == 0 and port._next_tx == 1


async def test_v201_session_events() -> None:
    """2.0.1: TransactionEvent Started/Ended open and close a session through the port."""
    charger = Charger("CP1")
    port = FakePort(charger=charger)
    info = {"transactionId": "T1"}
    started = {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {**info, "chargingState": "Charging"},
        "evse": {"id": 1},
        "idToken": {"idToken": "TAG", "type": "ISO14443"},
    }
    ended = {
        **started,
        "eventType": "Ended",
        "seqNo": 1,
        "triggerReason": "StopAuthorized",
        "transactionInfo": {**info, "stoppedReason": "EVDisconnected"},
    }
    del ended["idToken"]
    _, answers = await exchange(
        port,
        [call("1", "TransactionEvent", started), call("2", "TransactionEvent", ended)],
        version="2.0.1",
    )
    assert [answer[0] for answer in answers] == [3, 3]
    kinds = [type(event).__name__ for event in port.events]
    assert kinds == ["SessionStarted", "SessionEnded"]
    conn = charger.connectors[1]
    assert conn.transaction is None
    assert conn.last_session is not None and conn.last_session.reason == "ev_disconnected"
