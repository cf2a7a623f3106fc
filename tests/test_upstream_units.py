"""Upstream's pure parts: settings, backoff, the queue, the id map, refusals (table tests)."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.ocpp_central.upstream import (
    Backoff,
    ReplayQueue,
    TransactionMap,
    UpstreamMode,
    UpstreamSettings,
    is_protected,
    is_transactional,
)
from custom_components.ocpp_central.upstream.commands import COMMANDS, refusal
from custom_components.ocpp_central.upstream.frames import is_answer
from custom_components.ocpp_central.upstream.queue import Item
from custom_components.ocpp_central.upstream.retry import bounded
from custom_components.ocpp_central.upstream.state import UpstreamState
from custom_components.ocpp_central.upstream.transactions import to_backend, to_charger


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Upstream is free of Home Assistant: these tests need no hass instance."""


def _settings(url: str = "wss://backend.example/ocpp", **kw: Any) -> UpstreamSettings:
    return UpstreamSettings(
        url=url,
        upstream_id=kw.pop("upstream_id", "CP1"),
        ocpp_version=kw.pop("ocpp_version", "1.6"),
        **kw,
    )


@pytest.mark.parametrize(
    ("url", "upstream_id", "endpoint"),
    [
        ("ws://h/ocpp", "CP1", "ws://h/ocpp/CP1"),
        ("ws://h/ocpp/", "CP1", "ws://h/ocpp/CP1"),
        ("ws://h", "CP1", "ws://h/CP1"),
        ("ws://h/ocpp/CP1", "CP1", "ws://h/ocpp/CP1"),
        ("ws://h/ocpp/CP1/", "CP1", "ws://h/ocpp/CP1/"),
        ("wss://h:8443/ocpp?x=1", "CP1", "wss://h:8443/ocpp/CP1?x=1"),
        ("ws://h/ocpp", "a b/c", "ws://h/ocpp/a%20b%2Fc"),
        ("ws://h/ocpp/a%20b", "a b", "ws://h/ocpp/a%20b"),
        ("ws://h/CP10", "CP1", "ws://h/CP10/CP1"),
    ],
)
def test_endpoint(url: str, upstream_id: str, endpoint: str) -> None:
    assert _settings(url, upstream_id=upstream_id).endpoint == endpoint


@pytest.mark.parametrize(
    ("url", "ocpp_version", "upstream_id"),
    [
        ("http://h/ocpp", "1.6", "CP1"),
        ("ws:///ocpp", "1.6", "CP1"),
        ("ws://user:secret@h/ocpp", "1.6", "CP1"),
        ("ws://h/ocpp", "2.0", "CP1"),
        ("ws://h/ocpp", "1.6", ""),
        ("ws://h/ocpp", "1.6", "x" * 49),
        ("not a url", "1.6", "CP1"),
    ],
)
def test_invalid_settings(url: str, ocpp_version: str, upstream_id: str) -> None:
    with pytest.raises(ValueError) as err:
        UpstreamSettings(url, upstream_id, ocpp_version, password="secret")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("version", "subprotocol"), [("1.6", "ocpp1.6"), ("2.0.1", "ocpp2.0.1"), ("2.1", "ocpp2.1")]
)
def test_subprotocol(version: str, subprotocol: str) -> None:
    assert _settings(ocpp_version=version).subprotocol == subprotocol


def test_auth_header_and_redaction() -> None:
    settings = _settings("wss://h/ocpp?token=abc", password="s3cret", mode="billing")
    assert settings.mode is UpstreamMode.BILLING
    assert settings.headers() == {"Authorization": "Basic Q1AxOnMzY3JldA=="}  # CP1:s3cret
    for text in (repr(settings), str(settings), str(settings.redacted())):
        assert "s3cret" not in text
        assert "abc" not in text
    assert settings.redacted() == {
        "url": "wss://h/ocpp?**REDACTED**",
        "upstream_id": "CP1",
        "ocpp_version": "1.6",
        "mode": "billing",
        "password": "**REDACTED**",
    }
    no_password = _settings(password="")
    assert no_password.headers() == {}
    assert no_password.redacted()["password"] is None
    assert no_password.mode is UpstreamMode.SHARED


@pytest.mark.parametrize(
    ("rand", "delays"),
    [
        (0.0, [0.5, 1, 2, 4, 8, 16, 32, 50, 50]),  # the lower half of each window
        (1.0, [1, 2, 4, 8, 16, 32, 64, 100, 100]),  # the upper end, capped
    ],
)
def test_backoff(rand: float, delays: list[float]) -> None:
    backoff = Backoff(1, 100, rand=lambda: rand)
    assert [backoff.next() for _ in delays] == delays
    backoff.reset()
    assert backoff.next() == delays[0]


def test_backoff_never_overflows() -> None:
    backoff = Backoff(1, 300)
    for _ in range(2000):
        delay = backoff.next()
    assert 150 <= delay <= 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (300, 300),
        (0, 60),
        (-5, 60),
        (1, 5),
        (10**9, 3600),
        ("300", 60),
        (None, 60),
        (True, 60),
        (2.5, 60),
    ],
)
def test_bounded_interval(value: Any, expected: int) -> None:
    assert bounded(value, 60, (5, 3600)) == expected


@pytest.mark.parametrize(
    ("action", "payload", "transactional"),
    [
        ("StartTransaction", {}, True),
        ("StopTransaction", {}, True),
        ("TransactionEvent", {}, True),
        ("MeterValues", {"connectorId": 1, "transactionId": 5}, True),
        ("MeterValues", {"connectorId": 1}, False),
        ("StatusNotification", {}, False),
        ("Authorize", {}, False),
    ],
)
def test_transactional(action: str, payload: dict[str, Any], transactional: bool) -> None:
    assert is_transactional(action, payload) is transactional


def test_queue_drops_other_messages_before_transaction_ones() -> None:
    queue = ReplayQueue(max_items=3)
    start, status, meter = (
        Item("StartTransaction", {"n": 1}),
        Item("StatusNotification", {"n": 2}),
        Item("MeterValues", {"transactionId": 1, "n": 3}),
    )
    for item in (start, status, meter):
        assert queue.append(item) == []
    stop = Item("StopTransaction", {"n": 4})
    assert queue.append(stop) == [status]
    assert list(queue) == [start, meter, stop]
    # Only transaction messages left: the oldest goes.
    status2 = Item("StatusNotification", {"n": 5})
    assert queue.append(status2) == [status2]
    assert [i.payload["n"] for i in queue] == [1, 3, 4]
    assert queue.append(Item("StopTransaction", {"n": 6})) == [start]
    assert [i.payload["n"] for i in queue] == [3, 4, 6]
    assert queue.dropped == 3


def test_queue_bytes_bound() -> None:
    queue = ReplayQueue(max_bytes=200)
    big = Item("DataTransfer", {"data": "x" * 120})
    queue.append(big)
    queue.append(Item("StopTransaction", {"data": "y" * 60}))
    assert queue.bytes <= 200
    assert [i.action for i in queue] == ["StopTransaction"]
    # An item bigger than the whole bound never stays.
    assert queue.append(Item("DataTransfer", {"data": "z" * 500}))[-1].action == "DataTransfer"
    assert queue.bytes == sum(i.size for i in queue) <= 200


def test_state_round_trip_and_malformed_data() -> None:
    state = UpstreamState()
    state.boot = {"chargePointVendor": "Acme", "chargePointModel": "X"}
    state.queue.append(Item("StartTransaction", {"connectorId": 1}, local_tx=7))
    state.queue.append(Item("StatusNotification", {"connectorId": 1}))
    state.ids.bind(3, 1003)
    data = state.as_json()
    restored = UpstreamState()
    restored.load(data)
    assert restored.as_json() == data
    assert restored.queue.head() is not None and restored.queue.head().local_tx == 7  # type: ignore[union-attr]

    garbage: object
    for garbage in (
        None,
        [],
        "x",
        {"version": 99},
        {"version": 1, "queue": "x", "transactions": 5},
    ):
        fresh = UpstreamState()
        fresh.load(garbage)
        assert len(fresh.queue) == 0 and len(fresh.ids) == 0 and fresh.boot is None
    partly = UpstreamState()
    partly.load(
        {
            "version": 1,
            "boot": "no",
            "queue": [
                {"action": "A", "payload": {}},
                {"action": 1},
                "x",
                {"action": "B", "payload": {}, "local_tx": True},
            ],
            "transactions": [[1, 2], [3], ["a", "b"], [True, 4]],
        }
    )
    assert [i.action for i in partly.queue] == ["A"]
    assert partly.ids.as_json() == [[1, 2]]


def test_transaction_map() -> None:
    ids = TransactionMap(max_mapped=2)
    ids.bind(1, 101)
    ids.bind(2, 102)
    assert (ids.upstream_of(1), ids.local_of(102)) == (101, 2)
    ids.bind(1, 111)  # a newer binding of our id replaces the older one
    assert (ids.upstream_of(1), ids.local_of(101)) == (111, None)
    ids.bind(3, 102)  # ... and of the backend's
    assert (ids.upstream_of(2), ids.local_of(102)) == (None, 3)
    ids.bind(4, 104)  # bounded: the oldest goes
    assert ids.upstream_of(1) is None and len(ids) == 2
    assert ids.upstream_of("3") is None and ids.local_of(True) is None


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        (
            "StopTransaction",
            {"transactionId": 1, "meterStop": 5},
            {"transactionId": 101, "meterStop": 5},
        ),
        ("StopTransaction", {"transactionId": 9, "meterStop": 5}, None),
        (
            "MeterValues",
            {"connectorId": 1, "transactionId": 1},
            {"connectorId": 1, "transactionId": 101},
        ),
        ("MeterValues", {"connectorId": 1, "transactionId": 9}, {"connectorId": 1}),
        ("MeterValues", {"connectorId": 1}, {"connectorId": 1}),
        ("StatusNotification", {"transactionId": 1}, {"transactionId": 1}),
    ],
)
def test_to_backend(action: str, payload: dict[str, Any], expected: Any) -> None:
    ids = TransactionMap()
    ids.bind(1, 101)
    assert to_backend(action, payload, ids) == expected


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ("RemoteStopTransaction", {"transactionId": 101}, {"transactionId": 1}),
        ("RemoteStopTransaction", {"transactionId": 1}, None),
        ("RemoteStopTransaction", {"transactionId": "101"}, None),
        (
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": {"transactionId": 101, "stackLevel": 2}},
            {"connectorId": 1, "csChargingProfiles": {"transactionId": 1, "stackLevel": 2}},
        ),
        (
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": {"transactionId": 5}},
            None,
        ),
        (
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": {"stackLevel": 2}},
            {"connectorId": 1, "csChargingProfiles": {"stackLevel": 2}},
        ),
        (
            "GetCompositeSchedule",
            {"connectorId": 1, "duration": 60},
            {"connectorId": 1, "duration": 60},
        ),
    ],
)
def test_to_charger(action: str, payload: dict[str, Any], expected: Any) -> None:
    ids = TransactionMap()
    ids.bind(1, 101)
    assert to_charger(action, payload, ids) == expected


@pytest.mark.parametrize(
    ("version", "action", "answer"),
    [
        ("1.6", "RemoteStartTransaction", {"status": "Rejected"}),
        ("1.6", "ChangeConfiguration", {"status": "Rejected"}),
        ("1.6", "UnlockConnector", {"status": "NotSupported"}),
        ("1.6", "ClearChargingProfile", {"status": "Unknown"}),
        ("1.6", "SendLocalList", {"status": "NotSupported"}),
        ("1.6", "DeleteCertificate", {"status": "Failed"}),
        ("1.6", "GetConfiguration", None),
        ("1.6", "UpdateFirmware", None),  # {} would mean "accepted"
        ("1.6", "GetDiagnostics", None),
        ("1.6", "GetLocalListVersion", None),
        ("2.0.1", "RequestStartTransaction", {"status": "Rejected"}),
        ("2.0.1", "SetChargingProfile", {"status": "Rejected"}),
        ("2.0.1", "ClearChargingProfile", {"status": "Unknown"}),
        ("2.0.1", "SendLocalList", {"status": "Failed"}),
        ("2.0.1", "UnlockConnector", None),
        ("2.0.1", "GetVariables", None),
        ("2.0.1", "GetChargingProfiles", None),
        ("2.1", "RequestStartTransaction", {"status": "Rejected"}),
    ],
)
def test_refusal(version: str, action: str, answer: Any) -> None:
    assert action in COMMANDS[version]
    if answer is None:
        with pytest.raises(Exception) as err:
            refusal(version, action, {})
        assert err.value.code == "NotSupported"  # type: ignore[attr-defined]
    else:
        assert refusal(version, action, {}) == answer


def test_refused_set_variables_answers_each_variable() -> None:
    payload = {
        "setVariableData": [
            {
                "attributeValue": "x",
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            },
            {
                "attributeType": "Actual",
                "attributeValue": "1",
                "component": {"name": "SampledDataCtrlr"},
                "variable": {"name": "TxUpdatedInterval"},
            },
        ]
    }
    assert refusal("2.0.1", "SetVariables", payload) == {
        "setVariableResult": [
            {
                "attributeStatus": "Rejected",
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
            },
            {
                "attributeStatus": "Rejected",
                "attributeType": "Actual",
                "component": {"name": "SampledDataCtrlr"},
                "variable": {"name": "TxUpdatedInterval"},
            },
        ]
    }


def _variable(component: str, variable: str) -> dict[str, Any]:
    return {
        "setVariableData": [
            {
                "attributeValue": "x",
                "component": {"name": component},
                "variable": {"name": variable},
            }
        ]
    }


@pytest.mark.parametrize(
    ("version", "action", "payload", "protected"),
    [
        ("1.6", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "x"}, True),
        ("1.6", "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"}, True),
        ("1.6", "ChangeConfiguration", {"key": "BackOffice-URL-wired", "value": "ws://evil"}, True),
        ("1.6", "ChangeConfiguration", {"key": "OcppServerUrl", "value": "ws://evil"}, True),
        ("1.6", "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}, False),
        ("1.6", "ChangeConfiguration", {"key": 5}, False),
        ("1.6", "InstallCertificate", {}, True),
        ("1.6", "DeleteCertificate", {}, True),
        ("1.6", "CertificateSigned", {}, True),
        ("1.6", "RemoteStartTransaction", {}, False),
        ("2.0.1", "SetNetworkProfile", {}, True),
        ("2.0.1", "SetVariables", _variable("SecurityCtrlr", "BasicAuthPassword"), True),
        ("2.0.1", "SetVariables", _variable("OCPPCommCtrlr", "NetworkConfigurationPriority"), True),
        ("2.0.1", "SetVariables", _variable("OCPPCommCtrlr", "HeartbeatInterval"), False),
        ("2.0.1", "SetVariables", {"setVariableData": ["x", {"component": "y"}]}, False),
        ("2.0.1", "InstallCertificate", {}, True),
        ("2.0.1", "RequestStopTransaction", {}, False),
    ],
)
def test_protected(version: str, action: str, payload: dict[str, Any], protected: bool) -> None:
    assert is_protected(version, action, payload) is protected


@pytest.mark.parametrize(
    ("frame", "answer"),
    [
        ('[3,"1",{}]', True),
        ('[4,"1","GenericError","",{}]', True),
        ('[2,"1","Reset",{}]', False),
        ("[]", False),
        ("{}", False),
        ("not json", False),
        (b"\xff\xfe", False),
        ('["3","1",{}]', False),
    ],
)
def test_is_answer(frame: str | bytes, answer: bool) -> None:
    assert is_answer(frame) is answer


def test_commands_exclude_what_the_charger_sends() -> None:
    for version in ("1.6", "2.0.1", "2.1"):
        assert "DataTransfer" in COMMANDS[version]
        assert (
            not {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"}
            & COMMANDS[version]
        )
    assert {"RemoteStartTransaction", "GetConfiguration", "ExtendedTriggerMessage"} <= COMMANDS[
        "1.6"
    ]
    assert {"RequestStartTransaction", "GetVariables", "SetNetworkProfile"} <= COMMANDS["2.0.1"]
    assert "TransactionEvent" not in COMMANDS["2.1"] and "SetDefaultTariff" in COMMANDS["2.1"]
