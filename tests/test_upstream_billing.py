"""Billing mode end to end: the backend decides who may charge and owns the transaction ids;
Home Assistant maps them both ways, and decides itself while the backend is unreachable."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
import pytest

from custom_components.ocpp_central.const import EVENT_ID_TAG

from .charger import connected_charger
from .charger201 import connected_station
from .helpers import (
    bound_port,
    capture_events,
    meter_values,
    prepare_charger,
    prepare_station,
    service,
)
from .upstream_backend import Backend, answer_of, free_port, running_backend
from .upstream_helpers import upstream_entry, wait_upstream

pytestmark = pytest.mark.usefixtures("fast_upstream")

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:05:00Z"
T2 = "2026-01-01T10:30:00Z"


async def test_billing_1_6(hass: HomeAssistant) -> None:
    """Authorize and StartTransaction are answered with the backend's decisions, the charger
    gets Home Assistant's transaction id, and the backend's RemoteStop with its own id stops
    the right session."""
    async with running_backend("1.6") as backend:
        backend.decisions["HA-CARD"] = "Blocked"
        entry = await upstream_entry(hass, backend.url, mode="billing")
        await service(hass, "add_id_tag", {"id_tag": "HA-CARD"})  # Home Assistant accepts it
        events = capture_events(hass, EVENT_ID_TAG)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            # Unknown to Home Assistant (it would say Invalid), accepted by the backend.
            authorized = await cp.call(call.Authorize(id_tag="APP-1"))
            assert authorized.id_tag_info == {"status": "Accepted"}
            blocked = await cp.call(call.Authorize(id_tag="HA-CARD"))
            assert blocked.id_tag_info == {"status": "Blocked"}
            assert [e.data["status"] for e in events] == ["accepted", "blocked"]

            started = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="APP-1", meter_start=100, timestamp=T0)
            )
            assert started.id_tag_info == {"status": "Accepted"}
            tx = started.transaction_id
            await cp.call(meter_values(T1, transaction_id=tx, energy=2500))
            [meter] = await backend.wait_for("MeterValues")
            upstream_tx = backend.next_tx
            assert tx != upstream_tx and meter["transactionId"] == upstream_tx

            stop = await backend.point.raw_call(
                "RemoteStopTransaction", {"transactionId": upstream_tx}
            )
            assert answer_of(stop) == {"status": "Accepted"}
            assert cp.calls("RemoteStopTransaction") == [{"transaction_id": tx}]
            # An id the backend never got from us names no session here.
            unknown = await backend.point.raw_call("RemoteStopTransaction", {"transactionId": tx})
            assert answer_of(unknown) == {"status": "Rejected"}
            assert len(cp.calls("RemoteStopTransaction")) == 1

            await cp.call(
                call.StopTransaction(
                    transaction_id=tx, meter_stop=9000, timestamp=T2, id_tag="APP-1"
                )
            )
            [stopped] = await backend.wait_for("StopTransaction")
        assert stopped["transactionId"] == upstream_tx
        assert [a for a, _ in backend.calls if a != "Heartbeat"] == [
            "BootNotification",
            "Authorize",
            "Authorize",
            "StartTransaction",
            "MeterValues",
            "StopTransaction",
        ]


def _event(kind: str, seq: int, when: str, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": when,
        "triggerReason": "Authorized" if kind == "Started" else "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-5"},
        **extra,
    }


async def test_billing_2_0_1(hass: HomeAssistant) -> None:
    """Authorize and the TransactionEvents that carry a token get the backend's idTokenInfo."""
    app = {"idToken": "APP-1", "type": "ISO14443"}
    ours = {"idToken": "HomeAssistant", "type": "Central"}  # Home Assistant accepts its own
    async with running_backend("2.0.1") as backend:
        backend.decisions["HomeAssistant"] = "Blocked"
        entry = await upstream_entry(hass, backend.url, mode="billing", charger_id="CS1")
        async with connected_station(bound_port(entry), "CS1") as station:
            await prepare_station(hass, station)
            await wait_upstream(hass, charger_id="CS1")
            assert (await station.send("Authorize", {"idToken": app}))["idTokenInfo"] == {
                "status": "Accepted"
            }
            assert (await station.send("Authorize", {"idToken": ours}))["idTokenInfo"] == {
                "status": "Blocked"
            }
            started = await station.send(
                "TransactionEvent", _event("Started", 0, T0, idToken=app, evse={"id": 1})
            )
            assert started["idTokenInfo"] == {"status": "Accepted"}
            updated = await station.send("TransactionEvent", _event("Updated", 1, T1))
            assert updated["idTokenInfo"] is None
            ended = await station.send("TransactionEvent", _event("Ended", 2, T2, idToken=ours))
            assert ended["idTokenInfo"] == {"status": "Blocked"}
            await backend.wait_for("TransactionEvent", 3)
        assert [a for a, _ in backend.calls[-5:]] == [
            "Authorize",
            "Authorize",
            "TransactionEvent",
            "TransactionEvent",
            "TransactionEvent",
        ]


async def test_billing_backend_unreachable_home_assistant_decides(hass: HomeAssistant) -> None:
    """While the backend is away Home Assistant answers from its own id-tag rules, at once;
    the backend gets every message in order when it comes, and still maps the session."""
    backend = Backend("1.6", port=free_port())
    entry = await upstream_entry(hass, backend.url, mode="billing")
    try:
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            authorized = await cp.call(call.Authorize(id_tag="APP-1"))
            assert authorized.id_tag_info == {"status": "Invalid"}  # policy `known`
            started = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="HomeAssistant", meter_start=100, timestamp=T0
                )
            )
            assert started.id_tag_info == {"status": "Accepted"}
            await backend.start()
            await wait_upstream(hass)
            await backend.wait_for("StartTransaction")
            await cp.call(
                call.StopTransaction(
                    transaction_id=started.transaction_id, meter_stop=900, timestamp=T2
                )
            )
            [stopped] = await backend.wait_for("StopTransaction")
        assert [a for a, _ in backend.calls if a != "Heartbeat"] == [
            "BootNotification",
            "Authorize",
            "StartTransaction",
            "StopTransaction",
        ]
        assert stopped["transactionId"] == backend.next_tx
    finally:
        await backend.stop()


async def test_billing_backend_silent_home_assistant_decides(hass: HomeAssistant) -> None:
    """A backend that is connected but does not answer an Authorize: the charger gets Home
    Assistant's own decision once the billing wait is over, and the backend got the
    Authorize all the same."""
    async with running_backend("1.6") as backend:
        backend.decisions["APP-1"] = "Accepted"
        entry = await upstream_entry(hass, backend.url, mode="billing")
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            backend.silent = {"Authorize"}
            authorized = await cp.call(call.Authorize(id_tag="APP-1"))
            # Home Assistant's answer (policy `known`), not the backend's Accepted.
            assert authorized.id_tag_info == {"status": "Invalid"}
            [request] = await backend.wait_for("Authorize")
            assert request == {"idTag": "APP-1"}


@pytest.mark.parametrize(("mode", "sends_list"), [("shared", True), ("billing", False)])
async def test_local_list_is_the_backends_in_billing_mode(
    hass: HomeAssistant, mode: str, sends_list: bool
) -> None:
    """In billing mode the backend decides who may charge: Home Assistant does not fill the
    charger's local list with its own tags (in shared mode it does, as without upstream)."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url, mode=mode)
        await service(hass, "add_id_tag", {"id_tag": "HA-CARD"})
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(
                hass,
                cp,
                SupportedFeatureProfiles=("Core,LocalAuthListManagement", True),
                LocalAuthListEnabled=("true", False),
            )
            await service(hass, "add_id_tag", {"id_tag": "HA-CARD-2"})
            await hass.async_block_till_done(wait_background_tasks=True)
            assert bool(cp.calls("SendLocalList")) is sends_list
