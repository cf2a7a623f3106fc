"""The benchmark's framework-free central system (simulator/bench_free.py) over a real
websocket on 127.0.0.1, driven by the benchmark's own load charger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from simulator.bench import LoadCharger
from simulator.bench_free import FreeCentralSystem, serving


@pytest.fixture
async def charger() -> AsyncIterator[LoadCharger]:
    """A load charger connected to a framework-free central system on a free port."""
    async with serving(FreeCentralSystem(), "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        charger = LoadCharger("FREE0001", 1)
        await charger.connect(f"ws://127.0.0.1:{port}")
        try:
            yield charger
        finally:
            await charger.close()


BOOT = {"chargePointVendor": "Bench", "chargePointModel": "Load 11kW"}


async def test_answers_what_the_load_charger_expects(charger: LoadCharger) -> None:
    boot = await charger.call("BootNotification", BOOT)
    assert boot["status"] == "Accepted"
    assert boot["interval"] == 300
    assert datetime.fromisoformat(boot["currentTime"]).utcoffset() is not None
    assert set(await charger.call("Heartbeat", {})) == {"currentTime"}
    await charger.setup()  # boot, two StatusNotifications, StartTransaction
    assert charger.transaction_id == 1
    assert await charger.call("MeterValues", charger.meter_values()) == {}
    stop = {"meterStop": 1, "timestamp": "2026-01-01T00:00:00Z", "transactionId": 1}
    assert await charger.call("StopTransaction", stop) == {}
    authorize = await charger.call("Authorize", {"idTag": "BENCH0001"})
    assert authorize == {"idTagInfo": {"status": "Accepted"}}


def _sampled(value: Any) -> dict[str, Any]:
    sample = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": value}]}
    return {"connectorId": 1, "meterValue": [sample]}


@pytest.mark.parametrize(
    ("action", "payload", "error"),
    [
        ("MeterValues", _sampled(230.1), "FormatViolation"),  # a number, not a string
        ("MeterValues", {"connectorId": 1}, "FormatViolation"),  # no meterValue
        ("MeterValues", {**_sampled("1"), "extra": 1}, "FormatViolation"),
        ("MeterValues", [], "FormatViolation"),  # payload not an object
        (
            "BootNotification",
            {"chargePointVendor": "x" * 21, "chargePointModel": "m"},
            "FormatViolation",
        ),
        ("FlyToTheMoon", {}, "NotImplemented"),
        ("DataTransfer", {"vendorId": "x"}, "NotImplemented"),  # valid 1.6, not answered here
    ],
)
async def test_refuses_with_a_call_error(
    charger: LoadCharger, action: str, payload: Any, error: str
) -> None:
    with pytest.raises(RuntimeError, match=f"^{action}: {error}"):
        await charger.call(action, payload)
    # The connection stays usable.
    assert (await charger.call("BootNotification", BOOT))["status"] == "Accepted"


@pytest.mark.parametrize(
    ("frame", "answer"),
    [
        ("not json", None),
        ("[2]", None),
        ('{"a": 1}', None),
        ('[3, "id", {}]', None),  # a CallResult: this central system never calls
        ('[4, "id", "GenericError", "", {}]', None),
        ('[2, 7, "Heartbeat", {}]', None),  # no string id to answer to
        ("[" * 100_000, None),  # nested too deep for the parser
        (
            '[2, "id", "Heartbeat"]',
            '[4,"id","FormatViolation","a CALL is [2, id, action, payload]",{}]',
        ),
        (
            '[2, "id", ["Heartbeat"], {}]',
            '[4,"id","FormatViolation","a CALL is [2, id, action, payload]",{}]',
        ),
        (
            '[2, "id", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}]',
            '[3,"id",{}]',
        ),
    ],
)
def test_frames(frame: str, answer: str | None) -> None:
    assert FreeCentralSystem().reply(frame) == answer
