"""What independent chargers and an OCPP 2.0.1 conformance suite found: the bugs.

Each test talks to the central system over real websockets, as the charger that found the
bug did: a station whose report never comes, a charger closing its socket while we answer,
refused limits, a boot logged again after every reconnect, sessions left open over a
reconnect, and Plug & Charge tokens.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.messages import CallResult
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect

from custom_components.ocpp_central import central as central_module
from custom_components.ocpp_central.const import DOMAIN

from .charger import connected_charger
from .charger201 import connected_station
from .helpers import (
    capture_events,
    device_id,
    entity_state,
    prepare_charger,
    prepare_station,
    service,
    update_charger,
    wait_for_state,
)

V2 = ["ocpp2.0.1", "ocpp2.1"]


async def set_limit(hass: HomeAssistant, charger_id: str, amps: float) -> None:
    await hass.services.async_call(
        DOMAIN,
        "set_charging_limit",
        {"device_id": device_id(hass, charger_id), "limit_amps": amps},
        blocking=True,
    )


async def refused_limit(hass: HomeAssistant, charger_id: str) -> HomeAssistantError:
    """The error a limit the charger refuses fails with (not a validation error)."""
    with pytest.raises(HomeAssistantError) as err:
        await set_limit(hass, charger_id, 6)
    assert not isinstance(err.value, ServiceValidationError)
    return err.value


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


# --- every step of preparing a charger survives the step before it ---------------------


@pytest.mark.parametrize("failure", ["no_report", "call_error", "no_answer"])
@pytest.mark.parametrize("subprotocol", V2)
async def test_station_setup_survives_a_failed_device_model_read(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    failure: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The device model read fails (NotifyReport never comes, a CallError, no answer at
    all): the meter interval, the stored limit and the local list still go out."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    async with connected_station(port, subprotocol=subprotocol) as station:
        station.variables = {
            ("LocalAuthListCtrlr", None, "Enabled"): "true",
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
        }
        await prepare_station(hass, station)
        await set_limit(hass, "CS1", 10)
    await wait_for_state(hass, "binary_sensor", "CS1_connected", lambda s: s.state == STATE_OFF)
    update_charger(hass, entry, "CS1", meter_interval=30)
    await hass.async_block_till_done()

    monkeypatch.setattr(central_module, "CALL_TIMEOUT", 0.3)
    caplog.clear()
    async with connected_station(port, subprotocol=subprotocol) as station:
        station.variables = {("SampledDataCtrlr", None, "TxUpdatedInterval"): "60"}
        if failure == "no_report":
            station.send_reports = False
        elif failure == "call_error":
            station.errors["GetBaseReport"] = "InternalError"
        else:
            station.silent.add("GetBaseReport")
        await station.boot()
        profile = await station.wait_for_call("SetChargingProfile")
        assert profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
            {"startPeriod": 0, "limit": 10.0}
        ]
        interval = await station.wait_for_call("SetVariables")
        assert interval["setVariableData"][0]["attributeValue"] == "30"
        await station.wait_for_call("SendLocalList")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not errors_logged(caplog)
    assert any("could not read the configuration" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("failure", ["call_error", "no_answer"])
async def test_charger_setup_survives_a_failed_configuration_read(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    failure: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OCPP 1.6: GetConfiguration fails; the stored limit and the local list still go out."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {
            "NumberOfConnectors": ("1", True),
            "SupportedFeatureProfiles": ("Core,SmartCharging,LocalAuthListManagement", True),
        }
        await prepare_charger(hass, cp, configuration=cp.configuration)
        await set_limit(hass, "CP1", 12)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    monkeypatch.setattr(central_module, "CALL_TIMEOUT", 0.3)
    caplog.clear()
    async with connected_charger(port, "CP1") as cp:
        if failure == "call_error":
            cp.errors["GetConfiguration"] = "InternalError"
        else:
            cp.silent.add("GetConfiguration")
        await cp.boot()
        profile = await cp.wait_for_call("SetChargingProfile")
        assert profile["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"] == [
            {"start_period": 0, "limit": 12}
        ]
        await cp.wait_for_call("SendLocalList")
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not errors_logged(caplog)


async def test_setup_goes_on_after_a_refused_step(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A CallError to the meter interval and to the limit: the local list still goes out."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    async with connected_station(port) as station:
        station.variables = {
            ("LocalAuthListCtrlr", None, "Enabled"): "true",
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
        }
        await prepare_station(hass, station)
        await set_limit(hass, "CS1", 10)
    await wait_for_state(hass, "binary_sensor", "CS1_connected", lambda s: s.state == STATE_OFF)
    update_charger(hass, entry, "CS1", meter_interval=30)
    await hass.async_block_till_done()
    caplog.clear()
    async with connected_station(port) as station:
        station.variables = {
            ("LocalAuthListCtrlr", None, "Enabled"): "true",
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
        }
        station.errors["SetVariables"] = "InternalError"
        station.errors["SetChargingProfile"] = "NotSupported"
        await prepare_station(hass, station)
        await station.wait_for_call("SendLocalList")
        assert station.calls("SetVariables") and station.calls("SetChargingProfile")
    assert not errors_logged(caplog)


# --- a charger closing its socket while we answer -------------------------------------


@pytest.mark.parametrize(
    ("subprotocol", "frame"),
    [
        ("ocpp1.6", [2, "1", "Heartbeat", {}]),
        ("ocpp2.0.1", [2, "1", "Heartbeat", {}]),
    ],
)
async def test_socket_closed_while_we_answer(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    frame: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The charger sends a call and closes at once: no traceback, and the next one works."""
    for _ in range(3):
        async with connect(f"ws://127.0.0.1:{port}/CP7", subprotocols=[subprotocol]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps(frame))
    # The next connection works (and by its answers, the closed ones are long done with).
    async with connected_charger(port, "CP7") as cp:
        assert (await cp.boot()).status == "Accepted"
        await hass.async_block_till_done()
    assert not [r for r in caplog.records if "connection handler failed" in r.getMessage()]
    assert not errors_logged(caplog)


# --- "logged once" is once per charger ------------------------------------------------

LONG_SERIAL = "EVB1A22P4KI3N1234567890123"  # 26 characters, as some EVlink units send


async def test_lenient_boot_logged_once_per_charger_16(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, configuration=cp.configuration)
    update_charger(hass, entry, "CP1", lenient=True)
    await hass.async_block_till_done()
    boot = {
        "chargePointVendor": "Schneider",
        "chargePointModel": "EVlink",
        "chargePointSerialNumber": LONG_SERIAL,
    }
    with caplog.at_level(logging.WARNING):
        for _ in range(3):  # three reconnects, each with the same non-compliant boot
            async with connected_charger(port, "CP1") as cp:
                answer = await cp.raw_call("BootNotification", boot)
                assert isinstance(answer, CallResult)
                assert answer.payload["status"] == "Accepted"
            await wait_for_state(
                hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF
            )
    logged = [r for r in caplog.records if "non-compliant BootNotification" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]


@pytest.mark.parametrize("subprotocol", V2)
async def test_lenient_boot_logged_once_per_charger_201(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        await prepare_station(hass, station)
    update_charger(hass, entry, "CS1", lenient=True)
    await hass.async_block_till_done()
    boot = {
        "chargingStation": {"vendorName": "Acme", "model": "M", "serialNumber": LONG_SERIAL},
        "reason": "PowerUp",
    }
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            async with connected_station(port, subprotocol=subprotocol) as station:
                answer = await station.raw_call("BootNotification", boot)
                assert isinstance(answer, CallResult)
                assert answer.payload["status"] == "Accepted"
            await wait_for_state(
                hass, "binary_sensor", "CS1_connected", lambda s: s.state == STATE_OFF
            )
    logged = [r for r in caplog.records if "non-compliant BootNotification" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in logged]


# --- a refused charging limit says what the charger answered --------------------------


@pytest.mark.parametrize(
    ("answer", "error", "key", "placeholders"),
    [
        ("Rejected", None, "limit_rejected", {"charger_id": "CP1"}),
        ("NotSupported", None, "limit_not_supported", {"charger_id": "CP1"}),
        (
            None,
            "NotImplemented",
            "limit_call_error",
            {"charger_id": "CP1", "code": "NotImplemented"},
        ),
        (
            None,
            "PropertyConstraintViolation",
            "limit_call_error",
            {"charger_id": "CP1", "code": "PropertyConstraintViolation"},
        ),
    ],
)
async def test_refused_limit_message_16(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    answer: str | None,
    error: str | None,
    key: str,
    placeholders: dict[str, str],
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, configuration=cp.configuration)
        if answer is not None:
            cp.answers["SetChargingProfile"] = answer
        if error is not None:
            cp.errors["SetChargingProfile"] = error
        error_raised = await refused_limit(hass, "CP1")
    assert error_raised.translation_key == key
    # Only what the charger answered: not its description, not our request.
    assert error_raised.translation_placeholders == placeholders


@pytest.mark.parametrize(
    ("answer", "error", "key", "placeholders"),
    [
        ({"status": "Rejected"}, None, "limit_rejected", {"charger_id": "CS1"}),
        (
            {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile"}},
            None,
            "limit_rejected",
            {"charger_id": "CS1"},
        ),
        (
            None,
            "FormatViolation",
            "limit_call_error",
            {"charger_id": "CS1", "code": "FormatViolation"},
        ),
    ],
)
@pytest.mark.parametrize("subprotocol", V2)
async def test_refused_limit_message_201(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    answer: dict[str, Any] | None,
    error: str | None,
    key: str,
    placeholders: dict[str, str],
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        await prepare_station(hass, station)
        if answer is not None:
            station.answers["SetChargingProfile"] = answer
        if error is not None:
            station.errors["SetChargingProfile"] = error
        error_raised = await refused_limit(hass, "CS1")
    assert error_raised.translation_key == key
    assert error_raised.translation_placeholders == placeholders


# --- a session left open over a reconnect (GetTransactionStatus) ----------------------


def _started(tx_id: str) -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": "2026-01-01T00:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": tx_id, "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "sampledValue": [{"value": 1000, "measurand": "Energy.Active.Import.Register"}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("status", "closed"),
    [
        ({"messagesInQueue": False, "ongoingIndicator": False}, True),
        ({"messagesInQueue": True, "ongoingIndicator": False}, False),
        ({"messagesInQueue": False, "ongoingIndicator": True}, False),
        ({"messagesInQueue": False}, False),  # the station does not say: keep it open
    ],
)
@pytest.mark.parametrize("subprotocol", V2)
async def test_open_session_confirmed_after_reconnect(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    status: dict[str, bool],
    closed: bool,
) -> None:
    stopped = capture_events(hass, f"{DOMAIN}_transaction_stopped")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await prepare_station(hass, station)
        await station.send("TransactionEvent", _started("T1"))
        await hass.async_block_till_done()
        # A station with no session open is not asked.
        assert not station.calls("GetTransactionStatus")
    await wait_for_state(hass, "binary_sensor", "CS1_connected", lambda s: s.state == STATE_OFF)

    async with connected_station(port, subprotocol=subprotocol) as station:
        station.answers["GetTransactionStatus"] = status
        await prepare_station(hass, station)
        assert await station.wait_for_call("GetTransactionStatus") == {"transactionId": "T1"}
        await hass.async_block_till_done(wait_background_tasks=True)
        assert bool(stopped) is closed
        assert entity_state(hass, "switch", "CS1_1_charging") == ("off" if closed else "on")
        if status.get("messagesInQueue"):
            # The queued Ended arrives and closes it, at its own time.
            await station.send(
                "TransactionEvent",
                {
                    "eventType": "Ended",
                    "timestamp": "2026-01-01T01:00:00Z",
                    "triggerReason": "EVDeparted",
                    "seqNo": 1,
                    "offline": True,
                    "transactionInfo": {"transactionId": "T1", "stoppedReason": "EVDisconnected"},
                },
            )
            await hass.async_block_till_done()
            assert stopped[0].data["duration_s"] == 3600
            assert stopped[0].data["reason"] == "ev_disconnected"


async def test_open_session_16_is_not_asked(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """1.6 has no GetTransactionStatus: its chargers send the queued StopTransaction."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, configuration=cp.configuration)
        await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="CARD", meter_start=0, timestamp="2026-01-01T00:00:00Z"
            )
        )
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, configuration=cp.configuration)
        assert not [frame for frame in cp.frames if "GetTransactionStatus" in frame]
        assert entity_state(hass, "switch", "CP1_1_charging") == "on"


# --- Plug & Charge: an Authorize with a contract certificate --------------------------

HASH_DATA = [
    {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "65df03257007316adf168dee995b98d582f871395b5d167754df7e8525efde2a",
        "issuerKeyHash": "d503a88e816fbff921dc104bf711d31f2288b40cc19d01ac8c787dd829e8a2db",
        "serialNumber": "12345",
        "responderURL": "http://ocsp.example.com",
    }
]


@pytest.mark.parametrize(
    "certificate_data",
    [
        {"iso15118CertificateHashData": HASH_DATA},
        {"certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
        {"certificate": "x", "iso15118CertificateHashData": HASH_DATA},
    ],
)
@pytest.mark.parametrize("subprotocol", V2)
async def test_authorize_with_contract_certificate_is_not_accepted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    certificate_data: dict[str, Any],
) -> None:
    """Nothing here can validate a contract certificate: the answer says so (the chain
    cannot be verified, the token is invalid), even for a known eMAID."""
    await service(hass, "add_id_tag", {"id_tag": "DEABCC123ABC56"})
    events = capture_events(hass, f"{DOMAIN}_id_tag")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await prepare_station(hass, station)
        token = {"idToken": "DEABCC123ABC56", "type": "eMAID"}
        answer = await station.send("Authorize", {"idToken": token, **certificate_data})
        assert answer["idTokenInfo"]["status"] == "Invalid"
        assert answer["certificateStatus"] == "CertChainError"
        # The same token without certificate data: an ordinary known tag.
        plain = await station.send("Authorize", {"idToken": token})
        assert plain["idTokenInfo"]["status"] == "Accepted"
        assert plain.get("certificateStatus") is None
    await hass.async_block_till_done()
    assert [event.data["status"] for event in events] == ["invalid", "accepted"]
