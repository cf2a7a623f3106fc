"""A real charger connected to Home Assistant, forwarded to a real upstream backend: what the
backend receives, what its commands do in each mode, and that it never slows the charger.

1.6 chargers are tests/charger.py's, 2.0.1 stations tests/charger201.py's; the backend is the
`ocpp` library's central system (tests/upstream_backend.py), all over loopback websockets.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
import pytest

from .charger import connected_charger
from .charger201 import connected_station
from .helpers import (
    bound_port,
    device_id,
    meter_values,
    prepare_charger,
    prepare_station,
    service,
    start_transaction,
)
from .upstream_backend import Backend, answer_of, running_backend
from .upstream_helpers import upstream_entry, wait_upstream

pytestmark = pytest.mark.usefixtures("fast_upstream")

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:05:00Z"
T2 = "2026-01-01T10:30:00Z"


def _after_boot(backend: Backend) -> list[tuple[str, dict[str, Any]]]:
    """What the backend received after its first BootNotification (Heartbeats aside)."""
    assert backend.calls[0][0] == "BootNotification", backend.calls
    return [c for c in backend.calls[1:] if c[0] != "Heartbeat"]


async def test_every_message_in_order_1_6(hass: HomeAssistant) -> None:
    """The backend gets the charger's messages as the charger sent them, in order; its own
    transaction id replaces Home Assistant's, which the charger keeps getting."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            boot = backend.calls[0][1]
            assert boot == {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 11"}
            await cp.status(1, "Preparing", timestamp=T0)
            assert (await cp.call(call.Authorize(id_tag="HomeAssistant"))).id_tag_info == {
                "status": "Accepted"
            }
            tx = await start_transaction(cp)
            await cp.call(meter_values(T1, transaction_id=tx, energy=2500))
            await cp.call(
                call.StopTransaction(
                    transaction_id=tx, meter_stop=9000, timestamp=T2, id_tag="HomeAssistant"
                )
            )
            await backend.wait_for("StopTransaction")
        received = _after_boot(backend)
        assert [action for action, _ in received] == [
            "StatusNotification",
            "Authorize",
            "StartTransaction",
            "MeterValues",
            "StopTransaction",
        ]
        status, authorize, start, meter, stop = (payload for _, payload in received)
        assert status == {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Preparing",
            "timestamp": T0,
        }
        assert authorize == {"idTag": "HomeAssistant"}
        assert start["idTag"] == "HomeAssistant" and start["meterStart"] == 1000
        upstream_tx = backend.next_tx  # the backend's id for the session
        assert upstream_tx != tx
        assert meter["transactionId"] == upstream_tx
        assert meter["meterValue"][0]["timestamp"] == T1
        assert stop == {
            "transactionId": upstream_tx,
            "meterStop": 9000,
            "timestamp": T2,
            "idTag": "HomeAssistant",
        }


async def test_every_message_in_order_2_0_1(hass: HomeAssistant) -> None:
    token = {"idToken": "HomeAssistant", "type": "Central"}
    async with running_backend("2.0.1") as backend:
        entry = await upstream_entry(hass, backend.url, charger_id="CS1")
        async with connected_station(bound_port(entry), "CS1") as station:
            await prepare_station(hass, station)
            await wait_upstream(hass, charger_id="CS1")
            assert (await station.send("Authorize", {"idToken": token}))["idTokenInfo"] == {
                "status": "Accepted"
            }
            events = [
                ("Started", 0, T0, {"idToken": token, "evse": {"id": 1}}),
                ("Updated", 1, T1, {}),
                ("Ended", 2, T2, {}),
            ]
            for kind, seq, when, extra in events:
                await station.send(
                    "TransactionEvent",
                    {
                        "eventType": kind,
                        "timestamp": when,
                        "triggerReason": "Authorized" if seq == 0 else "MeterValuePeriodic",
                        "seqNo": seq,
                        "transactionInfo": {"transactionId": "TX-9"},
                        **extra,
                    },
                )
            await backend.wait_for("TransactionEvent", 3)
        received = _after_boot(backend)
        assert [action for action, _ in received] == [
            "StatusNotification",
            "Authorize",
            "TransactionEvent",
            "TransactionEvent",
            "TransactionEvent",
        ]
        assert [p["eventType"] for a, p in received if a == "TransactionEvent"] == [
            "Started",
            "Updated",
            "Ended",
        ]
        assert all(p["transactionInfo"]["transactionId"] == "TX-9" for _, p in received[2:])
        assert [p["timestamp"] for _, p in received[2:]] == [T0, T1, T2]


@pytest.mark.parametrize("mode", ["shared", "billing"])
async def test_backend_remote_start_reaches_the_charger_1_6(hass: HomeAssistant, mode: str) -> None:
    """The backend's RemoteStart reaches the charger, and the session it starts is accepted
    although Home Assistant does not know the backend's tag (id-tag policy `known`); only at
    that charger."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url, mode=mode)
        port = bound_port(entry)
        async with (
            connected_charger(port, "CP1") as cp,
            connected_charger(port, "CP2") as other,
        ):
            await prepare_charger(hass, cp)
            await prepare_charger(hass, other)
            await wait_upstream(hass)
            answer = await backend.point.raw_call(
                "RemoteStartTransaction", {"idTag": "APP-7", "connectorId": 1}
            )
            assert answer_of(answer) == {"status": "Accepted"}
            assert cp.calls("RemoteStartTransaction") == [{"id_tag": "APP-7", "connector_id": 1}]
            started = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="APP-7", meter_start=0, timestamp=T0)
            )
            assert started.id_tag_info["status"] == "Accepted"
            elsewhere = await other.call(call.Authorize(id_tag="APP-7"))
            assert elsewhere.id_tag_info["status"] == "Invalid"


async def test_backend_remote_start_reaches_the_station_2_0_1(hass: HomeAssistant) -> None:
    token = {"idToken": "APP-7", "type": "Central"}
    async with running_backend("2.0.1") as backend:
        entry = await upstream_entry(hass, backend.url, charger_id="CS1")
        async with connected_station(bound_port(entry), "CS1") as station:
            await prepare_station(hass, station)
            await wait_upstream(hass, charger_id="CS1")
            request = {"idToken": token, "remoteStartId": 41, "evseId": 1}
            answer = await backend.point.raw_call("RequestStartTransaction", request)
            assert answer_of(answer) == {"status": "Accepted"}
            assert station.calls("RequestStartTransaction") == [request]
            started = await station.send(
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": T0,
                    "triggerReason": "RemoteStart",
                    "seqNo": 0,
                    "transactionInfo": {"transactionId": "TX-1", "remoteStartId": 41},
                    "idToken": token,
                    "evse": {"id": 1},
                },
            )
            assert started["idTokenInfo"]["status"] == "Accepted"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_observe_refuses_the_backend(hass: HomeAssistant, version: str) -> None:
    """In observe mode the backend watches: its RemoteStart is refused, the charger hears
    nothing of it, and Home Assistant still controls the charger."""
    async with running_backend(version) as backend:
        if version == "1.6":
            entry = await upstream_entry(hass, backend.url, mode="observe")
            async with connected_charger(bound_port(entry), "CP1") as cp:
                await prepare_charger(hass, cp)
                await wait_upstream(hass)
                answer = await backend.point.raw_call(
                    "RemoteStartTransaction", {"idTag": "APP-7", "connectorId": 1}
                )
                assert answer_of(answer) == {"status": "Rejected"}
                await service(hass, "reset", {"device_id": device_id(hass, "CP1"), "type": "soft"})
                assert [a for a, _ in cp.received if a != "GetConfiguration"] == ["Reset"]
        else:
            entry = await upstream_entry(hass, backend.url, mode="observe", charger_id="CS1")
            async with connected_station(bound_port(entry), "CS1") as station:
                await prepare_station(hass, station)
                await wait_upstream(hass, charger_id="CS1")
                answer = await backend.point.raw_call(
                    "RequestStartTransaction",
                    {"idToken": {"idToken": "APP-7", "type": "Central"}, "remoteStartId": 1},
                )
                assert answer_of(answer) == {"status": "Rejected"}
                assert station.calls("RequestStartTransaction") == []


@pytest.mark.parametrize("mode", ["observe", "shared"])
async def test_a_backend_that_never_answers_does_not_delay_the_charger(
    hass: HomeAssistant, mode: str
) -> None:
    """The backend accepts the boot and then answers nothing: every message of the charger
    is answered all the same, while the backend still holds the first unanswered."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url, mode=mode)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            backend.silent = {"StatusNotification", "Authorize", "MeterValues", "Heartbeat"}
            await cp.status(1, "Preparing", timestamp=T0)
            await backend.wait_for("StatusNotification")
            # The backend sits on that StatusNotification: everything after it is answered.
            authorized = await cp.call(call.Authorize(id_tag="HomeAssistant"))
            assert authorized.id_tag_info == {"status": "Accepted"}
            await cp.call(meter_values(T1, energy=2500))
            await cp.status(1, "Available", timestamp=T1)
            assert [a for a, _ in _after_boot(backend)] == ["StatusNotification"]
