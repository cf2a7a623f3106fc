"""OCPP 2.0.1 / 2.1 stations: the same entities, services and events as 1.6."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import DOMAIN

from .charger201 import SimStation, connected_station
from .helpers import (
    capture_events,
    device_id,
    diagnostics,
    entity_state,
    make_entry,
    meter_value_201,
    prepare_station,
    service,
    setup_entry,
    state_of,
)

pytestmark = pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])


def _tx_event(event: str, seq: int, ts: str, tx_id: str = "TX1", **extra: Any) -> dict[str, Any]:
    return {
        "eventType": event,
        "timestamp": ts,
        "triggerReason": {
            "Started": "CablePluggedIn",
            "Updated": "MeterValuePeriodic",
            "Ended": "EVCommunicationLost",
        }[event],
        "seqNo": seq,
        "transactionInfo": {"transactionId": tx_id, **extra.pop("info", {})},
        **extra,
    }


async def _booted(hass: HomeAssistant, station: SimStation) -> None:
    await prepare_station(hass, station, serialNumber="S-1", firmwareVersion="3.1")


def _device_id(hass: HomeAssistant) -> str:
    return device_id(hass, "CS1")


async def test_boot_creates_device_and_entities(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CS1")})
        assert device is not None
        assert (device.manufacturer, device.model, device.serial_number, device.sw_version) == (
            "Acme",
            "Station 22",
            "S-1",
            "3.1",
        )
        assert entity_state(hass, "sensor", "CS1_1_connector_status") == "available"
        assert entity_state(hass, "binary_sensor", "CS1_connected") == "on"
        version = (await diagnostics(hass, entry))["chargers"]["CS1"]["ocpp_version"]
        assert version == subprotocol.removeprefix("ocpp")


async def test_transaction_lifecycle(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    started = capture_events(hass, f"{DOMAIN}_transaction_started")
    stopped = capture_events(hass, f"{DOMAIN}_transaction_stopped")
    await service(hass, "add_id_tag", {"id_tag": "TAG1"})
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        await station.status(1, "Occupied")
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_connector_status") == "preparing"
        answer = await station.send(
            "TransactionEvent",
            _tx_event(
                "Started",
                0,
                "2026-01-01T00:00:00Z",
                evse={"id": 1, "connectorId": 1},
                idToken={"idToken": "TAG1", "type": "ISO14443"},
                meterValue=meter_value_201(
                    "2026-01-01T00:00:00Z", "Transaction.Begin", energy_wh=10000, power_w=0
                ),
                info={"chargingState": "EVConnected"},
            ),
        )
        assert answer["idTokenInfo"]["status"] == "Accepted"
        await hass.async_block_till_done()
        assert started[0].data["transaction_id"] == "TX1"
        assert started[0].data["meter_start_kwh"] == 10.0
        assert entity_state(hass, "switch", "CS1_1_charging") == "on"
        await station.send(
            "TransactionEvent",
            _tx_event(
                "Updated",
                1,
                "2026-01-01T00:10:00Z",
                meterValue=meter_value_201("2026-01-01T00:10:00Z", energy_wh=11500, power_w=7200),
                info={"chargingState": "Charging"},
            ),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_connector_status") == "charging"
        assert entity_state(hass, "sensor", "CS1_1_power") == "7200.0"
        assert entity_state(hass, "sensor", "CS1_1_session_energy") == "1.5"
        await station.send(
            "TransactionEvent",
            _tx_event(
                "Ended",
                2,
                "2026-01-01T00:20:00Z",
                meterValue=meter_value_201(
                    "2026-01-01T00:20:00Z", "Transaction.End", energy_wh=12000, power_w=0
                ),
                info={"stoppedReason": "EVDisconnected", "chargingState": "Idle"},
            ),
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "switch", "CS1_1_charging") == "off"
        assert stopped[0].data["energy_kwh"] == 2.0
        assert stopped[0].data["duration_s"] == 1200
        assert stopped[0].data["reason"] == "ev_disconnected"
        assert entity_state(hass, "sensor", "CS1_1_stop_reason") == "ev_disconnected"
        assert entity_state(hass, "sensor", "CS1_1_energy") == "12.0"


async def test_offline_events_apply_in_order(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    """Queued events (offline flag) of a session started while offline close it correctly."""
    stopped = capture_events(hass, f"{DOMAIN}_transaction_stopped")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        await station.send(
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": meter_value_201("2026-01-01T02:00:00Z", energy_wh=5000, power_w=100),
            },
        )
        for seq, (event, ts, wh) in enumerate(
            [
                ("Started", "2026-01-01T00:00:00Z", 1000),
                ("Updated", "2026-01-01T00:30:00Z", 2000),
                ("Ended", "2026-01-01T01:00:00Z", 3000),
            ]
        ):
            extra: dict[str, Any] = {
                "offline": True,
                "meterValue": meter_value_201(ts, energy_wh=wh, power_w=0),
            }
            if event == "Started":
                extra["evse"] = {"id": 1}
            await station.send("TransactionEvent", _tx_event(event, seq, ts, "OFF1", **extra))
        await hass.async_block_till_done()
        assert stopped[0].data["energy_kwh"] == 2.0
        assert stopped[0].data["duration_s"] == 3600
        # Old samples do not overwrite the newer live reading or the register.
        assert entity_state(hass, "sensor", "CS1_1_power") == "100.0"
        assert entity_state(hass, "sensor", "CS1_1_energy") == "5.0"


async def test_notify_event_fault(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    errors = capture_events(hass, f"{DOMAIN}_error")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        event = {
            "eventId": 1,
            "timestamp": "2026-01-01T00:00:00Z",
            "trigger": "Delta",
            "actualValue": "true",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1}},
            "variable": {"name": "Problem"},
            "techCode": "E42",
        }
        await station.send(
            "NotifyEvent", {"generatedAt": "2026-01-01T00:00:00Z", "seqNo": 0, "eventData": [event]}
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "binary_sensor", "CS1_problem") == "on"
        error = state_of(hass, "sensor", "CS1_error_code")
        assert error is not None
        assert error.state == "connector_lock_failure"
        assert error.attributes["vendor_error_code"] == "E42"
        assert errors[0].data["error_code"] == "connector_lock_failure"
        cleared = {**event, "eventId": 2, "actualValue": "false", "cleared": True}
        await station.send(
            "NotifyEvent",
            {"generatedAt": "2026-01-01T00:01:00Z", "seqNo": 1, "eventData": [cleared]},
        )
        await hass.async_block_till_done()
        assert entity_state(hass, "binary_sensor", "CS1_problem") == "off"
        assert len(errors) == 1


async def test_remote_start_stop_and_limits(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        device_id = _device_id(hass)
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": device_id}, blocking=True
        )
        start = await station.wait_for_call("RequestStartTransaction")
        assert start["idToken"] == {"idToken": "HomeAssistant", "type": "Central"}
        assert start["evseId"] == 1
        await station.send(
            "TransactionEvent",
            _tx_event(
                "Started",
                0,
                "2026-01-01T00:00:00Z",
                "R1",
                evse={"id": 1},
                idToken={"idToken": "HomeAssistant", "type": "Central"},
                triggerReason="RemoteStart",
            ),
        )
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": device_id, "limit_amps": 10}, blocking=True
        )
        profile = await station.wait_for_call("SetChargingProfile")
        assert profile["evseId"] == 1
        assert profile["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
        assert profile["chargingProfile"]["transactionId"] == "R1"
        assert profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 10.0}
        ]
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id}, blocking=True
        )
        assert (await station.wait_for_call("RequestStopTransaction")) == {"transactionId": "R1"}
        station.answers["Reset"] = {"status": "Rejected"}
        with pytest.raises(HomeAssistantError):
            await hass.services.async_call(
                DOMAIN, "reset", {"device_id": device_id, "type": "hard"}, blocking=True
            )
        assert station.calls("Reset") == [{"type": "Immediate"}]


async def test_variables(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        station.variables = {
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
            ("EVSE", 1, "AvailabilityState"): "Available",
            ("EVSE", 2, "AvailabilityState"): "Available",
        }
        await _booted(hass, station)
        await hass.async_block_till_done()
        # The device model told us about two EVSEs: both get connector entities.
        assert state_of(hass, "sensor", "CS1_2_connector_status") is not None
        device_id = _device_id(hass)
        result = await hass.services.async_call(
            DOMAIN,
            "get_configuration",
            {
                "device_id": device_id,
                "keys": ["SampledDataCtrlr/TxUpdatedInterval", "Nope/Missing"],
            },
            blocking=True,
            return_response=True,
        )
        assert result == {
            "keys": [
                {"key": "SampledDataCtrlr/TxUpdatedInterval", "value": "60", "readonly": False}
            ],
            "unknown_keys": ["Nope/Missing"],
        }
        result = await hass.services.async_call(
            DOMAIN,
            "set_configuration",
            {"device_id": device_id, "key": "SampledDataCtrlr/TxUpdatedInterval", "value": "30"},
            blocking=True,
            return_response=True,
        )
        assert result == {"status": "accepted"}
        assert station.variables[("SampledDataCtrlr", None, "TxUpdatedInterval")] == "30"
        full = await hass.services.async_call(
            DOMAIN,
            "get_configuration",
            {"device_id": device_id},
            blocking=True,
            return_response=True,
        )
        assert full is not None and isinstance(full["keys"], list)
        assert {
            "key": "SampledDataCtrlr/TxUpdatedInterval",
            "value": "30",
            "readonly": False,
        } in full["keys"]


async def test_security_event_and_firmware(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    security = capture_events(hass, f"{DOMAIN}_security_event")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        await station.send(
            "SecurityEventNotification",
            {"type": "FirmwareUpdated", "timestamp": "2026-01-01T00:00:00Z"},
        )
        await station.send("FirmwareStatusNotification", {"status": "Installed"})
        await station.send("LogStatusNotification", {"status": "Uploaded", "requestId": 1})
        await hass.async_block_till_done()
        assert security[0].data["type"] == "FirmwareUpdated"
        assert entity_state(hass, "sensor", "CS1_firmware_status") == "installed"
        assert entity_state(hass, "sensor", "CS1_diagnostics_status") == "uploaded"


async def test_unaccepted_station_is_refused(hass: HomeAssistant, subprotocol: str) -> None:
    """With policy ask, a station is Pending and may not send anything but boot and heartbeats."""
    from ocpp.exceptions import SecurityError

    port = await setup_entry(hass, make_entry(new_chargers="ask"))
    async with connected_station(port, "CS9", subprotocol=subprotocol) as station:
        assert (await station.boot())["status"] == "Pending"
        assert "currentTime" in await station.send("Heartbeat", {})
        with pytest.raises(SecurityError):
            await station.status(1, "Available")
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CS9")}) is None


async def test_set_charger_password(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        station.variables = {("SecurityCtrlr", None, "BasicAuthPassword"): "old-password-123456"}
        await _booted(hass, station)
        result = await hass.services.async_call(
            DOMAIN,
            "set_charger_password",
            {"device_id": _device_id(hass), "password": "new-password-1234567"},
            blocking=True,
            return_response=True,
        )
        assert result == {"status": "accepted"}
        assert station.calls("SetVariables")[-1] == {
            "setVariableData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                    "attributeValue": "new-password-1234567",
                }
            ]
        }
    sub = next(iter(entry.subentries.values()))
    assert sub.data["password"] == "new-password-1234567"


async def test_concurrent_tx_and_refused_log(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    async with connected_station(port, subprotocol=subprotocol) as station:
        await _booted(hass, station)
        token = {"idToken": "CARD", "type": "ISO14443"}
        first = await station.send(
            "TransactionEvent",
            _tx_event("Started", 0, "2026-01-01T00:00:00Z", "A", evse={"id": 1}, idToken=token),
        )
        assert first["idTokenInfo"]["status"] == "Accepted"
        second = await station.send(
            "TransactionEvent",
            _tx_event("Started", 0, "2026-01-01T00:00:01Z", "B", evse={"id": 2}, idToken=token),
        )
        assert second["idTokenInfo"]["status"] == "ConcurrentTx"
        station.answers["GetLog"] = {"status": "Rejected"}
        with pytest.raises(HomeAssistantError):
            await hass.services.async_call(
                DOMAIN,
                "get_diagnostics",
                {"device_id": _device_id(hass), "upload_url": "ftp://192.0.2.1/logs"},
                blocking=True,
                return_response=True,
            )
