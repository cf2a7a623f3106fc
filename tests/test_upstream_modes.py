"""observe, shared and billing against a real backend (1.6 and 2.0.1): what reaches the backend,
in which order, what its commands do to the charger, who decides, and outages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.ocpp_central.wire.connection import (
    CallErrorReceived,
    CallTimeoutError,
    NotConnectedError,
)

from .upstream_backend import (
    LOCAL_TX,
    T0,
    Backend,
    ConnectedWatch,
    FakeCharger,
    MemoryStore,
    Payload,
    answer_of,
    eventually,
    running_backend,
    running_upstream,
    session,
    without_waiting,
)

VERSIONS = ["1.6", "2.0.1"]
SENT_AT = datetime(2026, 1, 1, 9, 59, 30, 250000, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Upstream is free of Home Assistant: these tests need no hass instance."""


def _expected(version: str, upstream_tx: int = 1001) -> list[tuple[str, dict[str, Any]]]:
    """The session as the backend must see it: in order, 1.6 with its own transaction id and
    the StatusNotification stamped with the time the charger sent it."""
    expected = []
    for action, request, _ in session(version):
        payload = dict(request)
        if version == "1.6":
            if action == "StatusNotification":
                payload["timestamp"] = "2026-01-01T09:59:30.250Z"
            if payload.get("transactionId") == LOCAL_TX:
                payload["transactionId"] = upstream_tx
        expected.append((action, payload))
    return expected


def _forward_session(up: Any, version: str) -> None:
    for action, request, response in session(version):
        up.forward(action, request, response, received_at=SENT_AT)


def _after_boot(backend: Backend, boots: int = 1) -> list[tuple[str, dict[str, Any]]]:
    """What the backend received after the `boots`-th BootNotification (Heartbeats aside)."""
    seen = 0
    for index, (action, _) in enumerate(backend.calls):
        seen += action == "BootNotification"
        if seen == boots:
            return [c for c in backend.calls[index + 1 :] if c[0] != "Heartbeat"]
    raise AssertionError("not booted")


@pytest.mark.parametrize("mode", ["observe", "shared"])
@pytest.mark.parametrize("version", VERSIONS)
async def test_every_message_arrives_in_order(version: str, mode: str) -> None:
    watch = ConnectedWatch()
    async with (
        running_backend(version) as backend,
        running_upstream(backend, mode=mode, watch=watch) as up,
    ):
        await watch.wait(True)
        _forward_session(up, version)
        await backend.wait_for(session(version)[-1][0], 3 if version == "2.0.1" else 1)
        assert _after_boot(backend) == _expected(version)
        # A charger that boots again is introduced again, in its place in line.
        up.forward("BootNotification", backend.calls[0][1], {"status": "Accepted"})
        up.forward(*session(version)[0])
        await backend.wait_for("StatusNotification", 2)
        assert backend.actions()[-2:] == ["BootNotification", "StatusNotification"]
        await _drained(up)


def _remote_start(version: str) -> tuple[str, dict[str, Any]]:
    if version == "1.6":
        return "RemoteStartTransaction", {"idTag": "TAG1", "connectorId": 1}
    return "RequestStartTransaction", {
        "idToken": {"idToken": "TAG1", "type": "ISO14443"},
        "remoteStartId": 5,
    }


@pytest.mark.parametrize("version", VERSIONS)
async def test_shared_passes_commands_to_the_charger(version: str) -> None:
    charger = FakeCharger()
    async with (
        running_backend(version) as backend,
        running_upstream(backend, charger=charger) as up,
    ):
        await _connected(up)
        point = backend.point
        action, payload = _remote_start(version)
        assert answer_of(await point.raw_call(action, payload)) == {"status": "Accepted"}
        assert charger.calls == [(action, payload)]
        # The charger's answers and errors are relayed as they are.
        relays: list[tuple[Payload | Exception, object]] = [
            ({"status": "Rejected"}, {"status": "Rejected"}),
            (CallErrorReceived("NotSupported", "no"), ("NotSupported", "no")),
            (CallErrorReceived("Bogus", "odd"), ("GenericError", "odd")),
            (CallTimeoutError(action), ("GenericError", "The charger did not answer in time")),
            (NotConnectedError(), ("GenericError", "The charger is not connected")),
            (RuntimeError("bug"), ("InternalError", "Internal error")),
        ]
        for answer, relayed in relays:
            charger.answers[action] = answer
            assert answer_of(await point.raw_call(action, payload)) == relayed
        assert up.connected


@pytest.mark.parametrize("version", VERSIONS)
async def test_observe_refuses_commands(version: str) -> None:
    charger = FakeCharger()
    async with (
        running_backend(version) as backend,
        running_upstream(backend, mode="observe", charger=charger) as up,
    ):
        await _connected(up)
        point = backend.point
        action, payload = _remote_start(version)
        assert answer_of(await point.raw_call(action, payload)) == {"status": "Rejected"}
        # Without a status to refuse with: NotSupported.
        read = (
            ("GetConfiguration", {})
            if version == "1.6"
            else (
                "GetVariables",
                {"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]},
            )
        )
        refused = answer_of(await point.raw_call(*read))
        assert isinstance(refused, tuple) and refused[0] == "NotSupported"
        assert charger.calls == []


@pytest.mark.parametrize(
    ("version", "action", "payload", "answer"),
    [
        (
            "1.6",
            "ChangeConfiguration",
            {"key": "AuthorizationKey", "value": "0123456789abcdef"},
            {"status": "Rejected"},
        ),
        (
            "1.6",
            "ChangeConfiguration",
            {"key": "CentralSystemUrl", "value": "ws://elsewhere"},
            {"status": "Rejected"},
        ),
        (
            "2.0.1",
            "SetNetworkProfile",
            {
                "configurationSlot": 1,
                "connectionData": {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "ws://elsewhere",
                    "messageTimeout": 30,
                    "securityProfile": 1,
                    "ocppInterface": "Wired0",
                },
            },
            {"status": "Rejected"},
        ),
        (
            "2.0.1",
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": "x" * 16,
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                    }
                ]
            },
            {
                "setVariableResult": [
                    {
                        "attributeStatus": "Rejected",
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                    }
                ]
            },
        ),
    ],
)
async def test_shared_keeps_the_charger_with_home_assistant(
    version: str, action: str, payload: dict[str, Any], answer: dict[str, Any]
) -> None:
    """Commands that would move the charger away or change its credentials are refused."""
    charger = FakeCharger()
    async with (
        running_backend(version) as backend,
        running_upstream(backend, charger=charger) as up,
    ):
        await _connected(up)
        assert answer_of(await backend.point.raw_call(action, payload)) == answer
        assert charger.calls == []


async def test_billing_1_6_decisions_and_transaction_ids() -> None:
    """Authorize and StartTransaction are answered by the backend; its transaction id is
    mapped to ours both ways, and nothing is sent twice."""
    charger = FakeCharger()
    watch = ConnectedWatch()
    async with (
        running_backend("1.6") as backend,
        running_upstream(backend, mode="billing", charger=charger, watch=watch) as up,
    ):
        backend.decisions["BLOCKED"] = "Blocked"
        await watch.wait(True)
        assert await up.decide("Authorize", {"idTag": "BLOCKED"}) == {
            "idTagInfo": {"status": "Blocked"}
        }
        up.forward("Authorize", {"idTag": "BLOCKED"}, {"idTagInfo": {"status": "Blocked"}})
        status, authorize, start, meter, stop = session("1.6")
        up.forward(*status, received_at=SENT_AT)
        assert await up.decide(*authorize[:2]) == {"idTagInfo": {"status": "Accepted"}}
        up.forward(*authorize)
        answer = await up.decide(*start[:2])
        assert answer == {"transactionId": 1001, "idTagInfo": {"status": "Accepted"}}
        up.forward(*start)  # Home Assistant answered the charger with its own id: 7
        up.forward(*meter)
        await backend.wait_for("MeterValues")
        # The backend stops its session: the charger hears of ours.
        stop_command = await backend.point.raw_call(
            "RemoteStopTransaction", {"transactionId": 1001}
        )
        assert answer_of(stop_command) == {"status": "Accepted"}
        assert charger.calls == [("RemoteStopTransaction", {"transactionId": LOCAL_TX})]
        profile = {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 9,
                "transactionId": 1001,
                "stackLevel": 3,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.5}],
                },
            },
        }
        assert answer_of(await backend.point.raw_call("SetChargingProfile", profile)) == {
            "status": "Accepted"
        }
        assert charger.calls[-1][1]["csChargingProfiles"]["transactionId"] == LOCAL_TX
        assert (
            charger.calls[-1][1]["csChargingProfiles"]["chargingSchedule"][
                "chargingSchedulePeriod"
            ][0]["limit"]
            == 10.5
        )
        # An id the backend never got from us names no session here.
        unknown = await backend.point.raw_call("RemoteStopTransaction", {"transactionId": 55})
        assert answer_of(unknown) == {"status": "Rejected"}
        assert len(charger.calls) == 2
        assert await up.decide(*stop[:2]) == {}
        up.forward(*stop)
        assert _after_boot(backend) == [("Authorize", {"idTag": "BLOCKED"}), *_expected("1.6")]
        assert up.diagnostics()["mapped_transactions"] == 1


async def test_billing_2_0_1_decisions() -> None:
    async with (
        running_backend("2.0.1") as backend,
        running_upstream(backend, mode="billing") as up,
    ):
        backend.decisions["BLOCKED"] = "Blocked"
        status, authorize, started, updated, ended = session("2.0.1")
        blocked = {"idToken": {"idToken": "BLOCKED", "type": "ISO14443"}}
        assert up.owns("Authorize", blocked)
        await _connected(up)
        assert await up.decide("Authorize", blocked) == {"idTokenInfo": {"status": "Blocked"}}
        up.forward("Authorize", blocked, {"idTokenInfo": {"status": "Blocked"}})
        up.forward(*status)
        assert await up.decide(*authorize[:2]) == {"idTokenInfo": {"status": "Accepted"}}
        up.forward(*authorize)
        assert up.owns(*started[:2])
        assert await up.decide(*started[:2]) == {"idTokenInfo": {"status": "Accepted"}}
        up.forward(*started)
        # Events without an idToken carry no decision: forwarded, not waited for.
        assert not up.owns(*updated[:2])
        assert without_waiting(up.decide(*updated[:2])) is None
        up.forward(*updated)
        up.forward(*ended)
        await backend.wait_for("TransactionEvent", 3)
        assert _after_boot(backend) == [("Authorize", blocked), *_expected("2.0.1")]


async def _connected(up: Any) -> None:
    await eventually(lambda: up.connected)


async def _drained(up: Any) -> None:
    """Everything queued was delivered and answered."""
    await eventually(lambda: len(up.state.queue) == 0)


@pytest.mark.parametrize("mode", ["observe", "shared"])
@pytest.mark.parametrize("version", VERSIONS)
async def test_nothing_waits_for_the_backend_outside_billing(version: str, mode: str) -> None:
    """A backend that never answers: forward() and decide() finish without waiting."""
    async with running_backend(version) as backend, running_upstream(backend, mode=mode) as up:
        backend.silent = {"Authorize", "StartTransaction", "TransactionEvent", "StatusNotification"}
        await _connected(up)
        for action, request, response in session(version):
            assert not up.owns(action, request)
            assert without_waiting(up.decide(action, request)) is None
            up.forward(action, request, response)
        await backend.wait_for(session(version)[0][0])


@pytest.mark.parametrize("version", VERSIONS)
async def test_billing_falls_back_when_the_backend_is_silent(version: str) -> None:
    """A connected backend that does not answer: decide() gives up after billing_wait."""
    async with running_backend(version) as backend, running_upstream(backend, mode="billing") as up:
        backend.silent = {"Authorize"}
        await _connected(up)
        _, authorize, *_ = session(version)
        async with asyncio.timeout(2):
            assert await up.decide(*authorize[:2]) is None
        up.forward(*authorize)  # already queued by decide(): not twice
        assert len(up.state.queue) == 1 and backend.actions() == ["BootNotification", "Authorize"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_billing_offline_decides_locally_and_replays(version: str) -> None:
    """Backend away: Home Assistant decides at once; when the backend returns it gets the
    whole session, in order, with the charger's timestamps (1.6: and its own ids)."""
    backend = Backend(version)
    async with running_upstream(backend, mode="billing") as up:
        for action, request, response in session(version):
            assert without_waiting(up.decide(action, request)) is None
            up.forward(action, request, response, received_at=SENT_AT)
        assert up.diagnostics()["queued"] == 5
        await backend.start()
        try:
            await backend.wait_for(session(version)[-1][0], 3 if version == "2.0.1" else 1)
            assert _after_boot(backend) == _expected(version)
            assert up.state.ids.as_json() == ([[LOCAL_TX, 1001]] if version == "1.6" else [])
        finally:
            await backend.stop()


@pytest.mark.parametrize("version", VERSIONS)
async def test_outage_during_a_session_is_replayed_in_order(version: str) -> None:
    watch = ConnectedWatch()
    messages = session(version)
    backend = Backend(version)
    await backend.start()
    async with running_upstream(backend, watch=watch) as up:
        await watch.wait(True)
        for message in messages[:3]:
            up.forward(*message, received_at=SENT_AT)
        await _drained(up)
        await backend.stop()
        await watch.wait(False)
        for message in messages[3:]:
            up.forward(*message, received_at=SENT_AT)
        assert up.diagnostics()["queued"] == 2
        await backend.start()
        try:
            await watch.wait(True)
            await backend.wait_for(messages[-1][0], 3 if version == "2.0.1" else 1)
            expected = _expected(version)
            before = _after_boot(backend)
            assert before[:3] == expected[:3] and before[3][0] == "BootNotification"
            assert _after_boot(backend, 2) == expected[3:]  # boot first, then the replay
            assert backend.requests[1].path == "/ocpp/CP1"
        finally:
            await backend.stop()
    assert watch.states == [True, False, True, False]


async def test_queue_keeps_transaction_messages_when_full() -> None:
    backend = Backend("1.6")
    async with running_upstream(backend) as up:
        up.state.queue.max_items = 4
        status, _, start, meter, stop = session("1.6")
        for n in range(3):
            up.forward(status[0], {**status[1], "info": f"s{n}"}, {}, received_at=SENT_AT)
        up.forward(*start)
        up.forward(*meter)
        up.forward(status[0], {**status[1], "info": "last"}, {}, received_at=SENT_AT)
        up.forward(*stop)
        assert up.diagnostics()["dropped"] == 3
        await backend.start()
        try:
            await backend.wait_for("StopTransaction")
            assert [(a, p.get("info")) for a, p in _after_boot(backend)] == [
                ("StartTransaction", None),
                ("MeterValues", None),
                ("StatusNotification", "last"),
                ("StopTransaction", None),
            ]
        finally:
            await backend.stop()


async def test_queue_and_ids_survive_a_restart() -> None:
    """What the backend missed is on disk: a new Upstream over the same store replays it, and
    the id map it built is kept for the backend's later commands."""
    store, charger = MemoryStore(), FakeCharger()
    backend = Backend("1.6")
    _, _, start, meter, _ = session("1.6")
    async with running_upstream(backend, store=store) as up:
        up.forward(*start)
        up.forward(*meter)
    assert [item["action"] for item in store.data["queue"]] == ["StartTransaction", "MeterValues"]
    assert store.data["queue"][0]["local_tx"] == LOCAL_TX
    await backend.start()
    try:
        async with running_upstream(backend, store=store, boot=False, charger=charger) as up:
            await _drained(up)
            assert backend.payloads("MeterValues")[0]["transactionId"] == 1001
        assert store.data["queue"] == [] and store.data["transactions"] == [[LOCAL_TX, 1001]]
        async with running_upstream(backend, store=store, boot=False, charger=charger) as up:
            await _connected(up)
            await backend.point.raw_call("RemoteStopTransaction", {"transactionId": 1001})
            assert charger.calls == [("RemoteStopTransaction", {"transactionId": LOCAL_TX})]
    finally:
        await backend.stop()
    assert backend.payloads("StartTransaction")[0]["timestamp"] == T0
