"""OCPP 2.0.1 sessions the spec allows: no EVSE at first, unknown sessions ending, remote starts."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from ocpp.messages import CallResult
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.core.id_tags import IdTag

from .charger201 import SimStation, connected_station
from .helpers import capture_events, entity_state

STARTED = f"{DOMAIN}_transaction_started"
STOPPED = f"{DOMAIN}_transaction_stopped"


def now() -> str:
    return dt_util.utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z")


def event(kind: str, tx_id: str, seq: int, **extra: Any) -> dict[str, Any]:
    info = {"transactionId": tx_id, **extra.pop("info", {})}
    return {
        "eventType": kind,
        "timestamp": now(),
        "triggerReason": extra.pop("trigger", "Authorized"),
        "seqNo": seq,
        "transactionInfo": info,
        **extra,
    }


def energy(wh: float) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": now(),
            "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
        }
    ]


async def send(station: SimStation, payload: dict[str, Any]) -> dict[str, Any]:
    """A TransactionEvent the station sends; it must be acknowledged."""
    answer = await station.raw_call("TransactionEvent", payload)
    assert isinstance(answer, CallResult), answer
    return answer.payload  # type: ignore[no-any-return]


async def booted(hass: HomeAssistant, station: SimStation, evses: int = 1) -> None:
    assert (await station.boot())["status"] == "Accepted"
    for evse in range(1, evses + 1):
        await station.status(evse, "Available")
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
async def test_session_started_before_its_evse_is_known(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    """Started without evse (authorized before the cable is in) is accepted; the session
    appears on its EVSE once an event names it."""
    started = capture_events(hass, STARTED)
    entry.runtime_data.authorization.add(IdTag("TAG1"))
    async with connected_station(port, subprotocol=subprotocol) as station:
        await booted(hass, station, evses=2)
        answer = await send(
            station,
            event("Started", "TX1", 0, idToken={"idToken": "TAG1", "type": "ISO14443"}),
        )
        assert answer["idTokenInfo"]["status"] == "Accepted"
        await hass.async_block_till_done()
        assert started == []
        assert entity_state(hass, "switch", "CS1_1_charging") == "off"
        assert entity_state(hass, "switch", "CS1_2_charging") == "off"

        await send(
            station,
            event(
                "Updated",
                "TX1",
                1,
                trigger="CablePluggedIn",
                evse={"id": 2, "connectorId": 1},
                meterValue=energy(12000),
                info={"chargingState": "EVConnected"},
            ),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "switch", "CS1_2_charging") == "on"
        assert entity_state(hass, "switch", "CS1_1_charging") == "off"
        assert entity_state(hass, "sensor", "CS1_2_transaction_id") == "TX1"
        assert entity_state(hass, "sensor", "CS1_2_id_tag") == "TAG1"
        assert [e.data["connector_id"] for e in started] == [2]
        assert started[0].data["meter_start_kwh"] == 12.0

        # Later events need not name the EVSE again.
        await send(station, event("Ended", "TX1", 2, meterValue=energy(15000)))
        await hass.async_block_till_done()
        assert entity_state(hass, "switch", "CS1_2_charging") == "off"
        assert entity_state(hass, "sensor", "CS1_2_session_energy") == "3.0"


async def test_session_ended_before_its_evse_was_known(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Authorized, then the driver walked away: acknowledged, nothing to record."""
    stopped = capture_events(hass, STOPPED)
    async with connected_station(port) as station:
        await booted(hass, station)
        await send(station, event("Started", "TX1", 0))
        await send(station, event("Ended", "TX1", 1, info={"stoppedReason": "Timeout"}))
        await hass.async_block_till_done()
        assert stopped == []
        assert entity_state(hass, "sensor", "CS1_1_transaction_id") == "unknown"


async def test_ended_for_unknown_session_without_evse_is_acknowledged(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """After Home Assistant lost its storage, the station's queued Ended must not get stuck;
    what it carries is recorded."""
    async with connected_station(port) as station:
        await booted(hass, station)
        await send(station, event("Ended", "LOST-1", 7, trigger="EVDeparted"))
        await send(
            station,
            event("Ended", "LOST-2", 9, trigger="EVDeparted", meterValue=energy(42000)),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_energy") == "42.0"
        assert entity_state(hass, "switch", "CS1_1_charging") == "off"


async def test_remote_start_without_id_token_gets_our_tag(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """The station echoes the remoteStartId we sent; the session gets the tag we sent with it."""
    started = capture_events(hass, STARTED)
    async with connected_station(port) as station:
        await booted(hass, station)
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CS1")})
        assert device is not None
        await hass.services.async_call(
            DOMAIN,
            "start_charging",
            {"device_id": device.id, "id_tag": "APP-7"},
            blocking=True,
        )
        (request,) = station.calls("RequestStartTransaction")
        await send(
            station,
            event(
                "Started",
                "TX9",
                0,
                trigger="RemoteStart",
                evse={"id": 1},
                info={"remoteStartId": request["remoteStartId"], "chargingState": "Charging"},
            ),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_id_tag") == "APP-7"
        assert started[0].data["id_tag"] == "APP-7"


async def test_ended_for_unknown_session_with_evse_is_recorded(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """With its EVSE, an Ended nobody saw start is recorded as a session of that moment."""
    started, stopped = capture_events(hass, STARTED), capture_events(hass, STOPPED)
    async with connected_station(port) as station:
        await booted(hass, station)
        await send(
            station,
            event(
                "Ended",
                "LOST-3",
                4,
                trigger="EVDeparted",
                evse={"id": 1},
                meterValue=energy(42000),
                info={"stoppedReason": "EVDisconnected"},
            ),
        )
        await hass.async_block_till_done()
        assert [e.data["transaction_id"] for e in started] == ["LOST-3"]
        assert [e.data["reason"] for e in stopped] == ["ev_disconnected"]
        assert entity_state(hass, "sensor", "CS1_1_transaction_id") == "unknown"
        assert entity_state(hass, "sensor", "CS1_1_stop_reason") == "ev_disconnected"
        assert entity_state(hass, "sensor", "CS1_1_energy") == "42.0"


async def test_reconnect_mid_session_keeps_charging(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A station that reconnects while charging reports its EVSE Occupied again: the session's
    charging state is the model's, so it still shows charging, not preparing."""
    entry.runtime_data.authorization.add(IdTag("TAG1"))
    async with connected_station(port) as station:
        await booted(hass, station)
        await station.status(1, "Occupied")
        await send(
            station,
            event(
                "Started",
                "TX1",
                0,
                evse={"id": 1, "connectorId": 1},
                idToken={"idToken": "TAG1", "type": "ISO14443"},
                meterValue=energy(1000),
                info={"chargingState": "Charging"},
            ),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_connector_status") == "charging"
    await hass.async_block_till_done()

    async with connected_station(port) as station:
        station.answers["GetTransactionStatus"] = {
            "messagesInQueue": False,
            "ongoingIndicator": True,
        }
        assert (await station.boot())["status"] == "Accepted"
        await station.status(1, "Occupied")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert entity_state(hass, "switch", "CS1_1_charging") == "on"
        assert entity_state(hass, "sensor", "CS1_1_connector_status") == "charging"
