"""Bad input over a real websocket: the right CallError, nothing lost, the connection lives on."""

from __future__ import annotations

import asyncio
import json
import logging
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from ocpp.messages import CallError, CallResult
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.protocol import State as WsState

from custom_components.ocpp_central.const import (
    CONF_NEW_CHARGERS,
    DOMAIN,
    EVENT_ERROR,
    EVENT_ID_TAG,
    EVENT_TRANSACTION_STARTED,
    MAX_FRAME_BYTES,
    NEW_CHARGERS_ASK,
)

from .charger import SimCharger, connected_charger
from .helpers import (
    capture_events,
    device_id,
    diagnostics,
    entity_state,
    make_entry,
    service,
    setup_entry,
    update_charger,
    wait_for_state,
)

ENERGY_WH = 1500
SERIAL = "SN-1"

PROTOCOL_ERRORS = {"ProtocolError", "OccurenceConstraintViolation", "OccurrenceConstraintViolation"}
ENUM_ERRORS = {"FormatViolation", "PropertyConstraintViolation"}


# --- helpers -----------------------------------------------------------------------------


def meter_values(
    energy_wh: float, *extra: dict[str, Any], timestamp: str = "2026-01-01T00:00:00Z"
) -> dict[str, Any]:
    """A MeterValues payload (camelCase, as on the wire)."""
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": timestamp,
                "sampledValue": [
                    {
                        "value": str(energy_wh),
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    *extra,
                ],
            }
        ],
    }


async def prepare(hass: HomeAssistant, cp: SimCharger) -> None:
    """Boot, report a status and a meter reading: state that bad input must not touch."""
    assert (await cp.boot(charge_point_serial_number=SERIAL)).status == "Accepted"
    await cp.status(1, "Charging")
    answer = await cp.raw_call(
        "MeterValues",
        meter_values(ENERGY_WH, {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}),
    )
    assert isinstance(answer, CallResult)
    await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "1.5")


async def assert_unchanged(hass: HomeAssistant, cp: SimCharger) -> None:
    """The connection still works and what was recorded is still there."""
    result = await cp.call(call.Heartbeat())
    assert result is not None and result.current_time
    await hass.async_block_till_done()
    assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON
    assert entity_state(hass, "sensor", "CP1_1_energy") == "1.5"
    assert entity_state(hass, "sensor", "CP1_1_power") == "7200.0"
    assert entity_state(hass, "sensor", "CP1_1_connector_status") == "charging"
    assert entity_state(hass, "sensor", "CP1_error_code") == "no_error"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None and device.serial_number == SERIAL


def answers(cp: SimCharger) -> list[list[Any]]:
    """Every CallResult/CallError the charger received (calls from the central system aside)."""
    return [frame for frame in map(json.loads, cp.frames) if frame[0] in (3, 4)]


async def reply_to(cp: SimCharger, unique_id: str) -> CallResult | CallError:
    """The central system's answer to a frame sent with `send_raw`."""
    answer: CallResult | CallError = await cp._get_specific_response(unique_id, 5)
    return answer


async def start_charging(hass: HomeAssistant) -> None:
    """The start_charging action on CP1: the charger gets a RemoteStartTransaction."""
    await service(hass, "start_charging", {"device_id": device_id(hass)})


async def start_charging_unanswered(
    hass: HomeAssistant, cp: SimCharger
) -> tuple[asyncio.Task[None], str]:
    """Start charging in a task the charger holds back its answer to.

    Returns the task and the unique id of the (only) unanswered RemoteStartTransaction.
    """
    cp.silent.add("RemoteStartTransaction")
    task = asyncio.create_task(start_charging(hass))
    await cp.wait_for_call("RemoteStartTransaction")
    ((action, unique_id, _),) = cp.unanswered
    assert action == "RemoteStartTransaction"
    return task, unique_id


# --- frames that get a CallError, or no answer at all ------------------------------------


BAD_CALLS: list[Any] = [
    # (action, payload, error codes accepted)
    pytest.param("FooBar", {}, {"NotImplemented"}, id="unknown_action"),
    pytest.param("Reset", {"type": "Soft"}, {"NotSupported"}, id="cs_only_action"),
    pytest.param(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError"},
        PROTOCOL_ERRORS,
        id="missing_required_field",
    ),
    pytest.param(
        "StatusNotification",
        {"connectorId": "one", "errorCode": "NoError", "status": "Available"},
        {"TypeConstraintViolation"},
        id="wrong_type",
    ),
    pytest.param(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "Error", "status": "Faulted"},
        ENUM_ERRORS,
        id="error_code_not_in_enum",
    ),
    pytest.param(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Exploded"},
        ENUM_ERRORS,
        id="status_not_in_enum",
    ),
    pytest.param(
        "StatusNotification",
        {"connectorId": -1, "errorCode": "GroundFailure", "status": "Faulted"},
        {"FormatViolation", "PropertyConstraintViolation"},
        id="negative_connector_id",
    ),
    pytest.param(
        "MeterValues",
        {**meter_values(9_999_000), "connectorId": -2},
        {"FormatViolation", "PropertyConstraintViolation"},
        id="negative_connector_id_meter_values",
    ),
    pytest.param("Heartbeat", {"extra": 1}, {"FormatViolation"}, id="additional_property"),
    pytest.param("Heartbeat", [], {"FormatViolation"}, id="payload_not_an_object"),
    pytest.param(
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Wallbox 11",
            "chargePointSerialNumber": "S" * 26,
        },
        {"TypeConstraintViolation"},
        id="serial_too_long",
    ),
    pytest.param(
        "MeterValues",
        meter_values(9_999_000, {"value": "50", "measurand": "Frequency", "unit": "Hz"}),
        ENUM_ERRORS,
        id="unit_not_in_enum",
    ),
    pytest.param(
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"sampledValue": [{"value": "9999000"}]}]},
        PROTOCOL_ERRORS,
        id="meter_value_without_timestamp",
    ),
    pytest.param(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "X" * 21,
            "meterStart": 0,
            "timestamp": "2026-01-01T00:00:00Z",
        },
        {"TypeConstraintViolation"},
        id="id_tag_too_long",
    ),
]


@pytest.mark.parametrize(("action", "payload", "codes"), BAD_CALLS)
async def test_bad_call_gets_call_error(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    action: str,
    payload: Any,
    codes: set[str],
) -> None:
    events = capture_events(hass, EVENT_ERROR) + capture_events(hass, EVENT_TRANSACTION_STARTED)
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        before = len(answers(cp))
        answer = await cp.raw_call(action, payload)
        assert isinstance(answer, CallError), answer
        assert answer.error_code in codes
        await assert_unchanged(hass, cp)
        # One answer to the bad call, one to the Heartbeat: nothing else.
        assert len(answers(cp)) == before + 2
        assert events == []
        connectors = (await diagnostics(hass, entry))["chargers"]["CP1"]["connectors"]
        assert sorted(connectors) == ["0", "1"]
        assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_OFF


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('[2, "u1", "Heartbeat", {', id="truncated_json"),
        pytest.param("hello", id="not_json"),
        pytest.param('{"a": 1}', id="json_object"),
        pytest.param("[]", id="empty_array"),
        pytest.param('[3, "nobody-asked", {"status": "Accepted"}]', id="call_result_for_no_call"),
        pytest.param('[4, "nobody-asked", "GenericError", "", {}]', id="call_error_for_no_call"),
        pytest.param('[7, "u1", "Heartbeat", {}]', id="unknown_message_type"),
        pytest.param('[3, ["x"], {}]', id="call_result_unique_id_a_list"),
        pytest.param('[4, {"a": 1}, "GenericError", "", {}]', id="call_error_unique_id_an_object"),
        pytest.param('[2, ["x"], ["y"], {}]', id="call_nothing_hashable"),
        pytest.param(b"\xff\xfe\x00", id="binary_not_utf8"),
    ],
)
async def test_unanswerable_frame_ignored(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, frame: str | bytes
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        before = answers(cp)
        await cp.send_raw(frame)  # type: ignore[arg-type]
        await assert_unchanged(hass, cp)
        # No answer is possible (no unique id to answer to): only the Heartbeat's came back.
        after = answers(cp)
        assert len(after) == len(before) + 1
        assert after[-1][0] == 3 and "currentTime" in after[-1][2]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param('[2, "u1", "Heartbeat"]', id="missing_payload"),
        pytest.param('[2, "u1", 42, {}]', id="action_not_a_string"),
        pytest.param('[2, "u1", ["Heartbeat"], {}]', id="action_a_list"),
        pytest.param('[2, "u1", "Heartbeat", {}, "extra"]', id="extra_element"),
    ],
)
async def test_malformed_call_with_unique_id_answered(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, frame: str
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        await cp.send_raw(frame)
        answer = await reply_to(cp, "u1")
        assert isinstance(answer, CallError)
        assert answer.error_code in {"FormatViolation", "ProtocolError"}
        await assert_unchanged(hass, cp)


async def test_bad_messages_in_a_row_then_good_ones(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A burst of bad input does not wedge the connection; good messages still apply."""
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        for frame in (
            "garbage",
            '[2, "a", "FooBar", {}]',
            '[3, "b", {}]',
            '[2, "c", "Heartbeat", 1]',
        ):
            await cp.send_raw(frame)
        await assert_unchanged(hass, cp)
        answer = await cp.raw_call("MeterValues", meter_values(2500))
        assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "2.5")


# --- lenient chargers --------------------------------------------------------------------


async def test_lenient_accepts_real_world_quirks(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        long_serial = "EVB1A22P4KI3N1234567890123"  # 26 characters, as some EVlink units send
        # Strict: refused, and nothing changes.
        answer = await cp.raw_call(
            "BootNotification",
            {
                "chargePointVendor": "Schneider",
                "chargePointModel": "EVlink",
                "chargePointSerialNumber": long_serial,
            },
        )
        assert isinstance(answer, CallError) and answer.error_code == "TypeConstraintViolation"
        await assert_unchanged(hass, cp)

        # The user marks the charger lenient: applies to the live connection (the same
        # boot is accepted below, without a reconnect).
        update_charger(hass, entry, "CP1", lenient=True)
        await hass.async_block_till_done()

        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                answer = await cp.raw_call(
                    "BootNotification",
                    {
                        "chargePointVendor": "Schneider",
                        "chargePointModel": "EVlink",
                        "chargePointSerialNumber": long_serial,
                    },
                )
                assert isinstance(answer, CallResult)
                assert answer.payload["status"] == "Accepted"
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
        assert device is not None and device.serial_number == long_serial
        logged = [r for r in caplog.records if "BootNotification" in r.getMessage()]
        assert len(logged) == 1, [r.getMessage() for r in logged]

        # errorCode "Error": an error all the same.
        answer = await cp.raw_call(
            "StatusNotification", {"connectorId": 1, "errorCode": "Error", "status": "Faulted"}
        )
        assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_error_code", lambda s: s.state == "other_error")
        assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_ON
        assert entity_state(hass, "sensor", "CP1_1_connector_status") == "faulted"

        # "Hz" for Frequency: the rest of the message applies.
        answer = await cp.raw_call(
            "MeterValues",
            meter_values(
                3000,
                {"value": "50", "measurand": "Frequency", "unit": "Hz"},
                timestamp="2026-01-01T00:01:00Z",
            ),
        )
        assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "3.0")


async def test_lenient_from_the_start(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A charger added lenient before it ever connected is accepted with its long serial."""
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType({"charger_id": "CP9", "lenient": True}),
            subentry_type="charger",
            title="CP9",
            unique_id="CP9",
        ),
    )
    await hass.async_block_till_done()
    async with connected_charger(port, "CP9") as cp:
        answer = await cp.raw_call(
            "BootNotification",
            {
                "chargePointVendor": "Acme",
                "chargePointModel": "M",
                "chargeBoxSerialNumber": "B" * 30,
            },
        )
        assert isinstance(answer, CallResult) and answer.payload["status"] == "Accepted"
        await hass.async_block_till_done()
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP9")})
        assert device is not None and device.serial_number == "B" * 30


# --- chargers that are not accepted ------------------------------------------------------


NOT_ACCEPTED_CALLS = [
    ("StatusNotification", {"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted"}),
    ("MeterValues", meter_values(1000)),
    ("Authorize", {"idTag": "CARD1"}),
    (
        "StartTransaction",
        {"connectorId": 1, "idTag": "CARD1", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"},
    ),
    ("StopTransaction", {"transactionId": 1, "meterStop": 10, "timestamp": "2026-01-01T00:00:00Z"}),
    ("DataTransfer", {"vendorId": "com.acme"}),
    ("FirmwareStatusNotification", {"status": "Downloading"}),
    ("DiagnosticsStatusNotification", {"status": "Uploading"}),
]


async def test_not_accepted_charger_may_only_boot(hass: HomeAssistant) -> None:
    entry = make_entry(**{CONF_NEW_CHARGERS: NEW_CHARGERS_ASK})
    port = await setup_entry(hass, entry)
    events = [
        *capture_events(hass, EVENT_ERROR),
        *capture_events(hass, EVENT_ID_TAG),
        *capture_events(hass, EVENT_TRANSACTION_STARTED),
    ]
    async with connected_charger(port, "CP1") as cp:
        # Before any BootNotification, and after a Pending one.
        for booted in (False, True):
            if booted:
                assert (await cp.boot()).status == "Pending"
            for action, payload in NOT_ACCEPTED_CALLS:
                answer = await cp.raw_call(action, payload)
                assert isinstance(answer, CallError), (action, answer)
                assert answer.error_code == "SecurityError", action
            result = await cp.call(call.Heartbeat())
            assert result is not None and result.current_time
        await hass.async_block_till_done()
        assert dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id) == []
        assert er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id) == []
        assert (await diagnostics(hass, entry))["chargers"] == {}
        assert events == []
        assert len(hass.config_entries.flow.async_progress_by_handler(DOMAIN)) == 1

        # Once approved, the same messages are taken.
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        await cp.wait_for_call("TriggerMessage")
        assert (await cp.boot()).status == "Accepted"
        answer = await cp.raw_call(*NOT_ACCEPTED_CALLS[0])
        assert isinstance(answer, CallResult)
        await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "ground_failure"
        )


# --- oversized frames --------------------------------------------------------------------


async def test_oversized_frame_closes_only_that_connection(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp1, connected_charger(port, "CP2") as cp2:
        await prepare(hass, cp1)
        assert (await cp2.boot()).status == "Accepted"
        await cp2.status(1, "Available")

        big = json.dumps(
            [2, "big", "DataTransfer", {"vendorId": "x", "data": "A" * MAX_FRAME_BYTES}]
        )
        assert len(big) > MAX_FRAME_BYTES
        await cp1.send_raw(big)
        async with asyncio.timeout(5):
            await cp1._connection.wait_closed()
        assert cp1._connection.close_code == 1009

        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
        # The meter register of the closed charger is kept.
        assert entity_state(hass, "sensor", "CP1_1_energy") == "1.5"
        # The other charger did not notice.
        assert cp2._connection.state is WsState.OPEN
        result = await cp2.call(call.Heartbeat())
        assert result is not None
        assert entity_state(hass, "binary_sensor", "CP2_connected") == STATE_ON
        assert entity_state(hass, "sensor", "CP2_1_connector_status") == "available"

    # The charger that sent it may come back.
    async with connected_charger(port, "CP1") as cp1:
        await cp1.boot(charge_point_serial_number=SERIAL)
        await cp1.status(1, "Charging")
        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_ON)
        assert entity_state(hass, "sensor", "CP1_1_energy") == "1.5"


async def test_frame_just_under_the_limit_is_fine(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        data = "A" * (MAX_FRAME_BYTES - 200)
        answer = await cp.raw_call("DataTransfer", {"vendorId": "x", "data": data})
        assert isinstance(answer, CallResult)
        assert answer.payload["status"] == "UnknownVendorId"
        await assert_unchanged(hass, cp)


# --- a charger that does not answer ------------------------------------------------------


@pytest.mark.charger(call_timeout=0.5)
async def test_unanswered_call_times_out_and_next_call_works(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, call_timeout: float
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)

        cp.silent.add("RemoteStartTransaction")
        with pytest.raises(HomeAssistantError) as err:
            await start_charging(hass)
        assert not isinstance(err.value, ServiceValidationError)
        assert err.value.translation_key == "charger_timeout"
        ((action, first_id, _),) = cp.unanswered
        assert action == "RemoteStartTransaction"

        # The next call: the charger first answers the old call late (Rejected), then
        # this one (Accepted). Each answer must go to its own call.
        task = asyncio.create_task(start_charging(hass))
        async with asyncio.timeout(5):
            while len(cp.unanswered) < 2:
                cp.call_received.clear()
                await cp.call_received.wait()
        second_id = cp.unanswered[1][1]
        assert second_id != first_id
        await cp.answer(first_id, {"status": "Rejected"})
        await cp.answer(second_id, {"status": "Accepted"})
        await task  # no error: the late "Rejected" was not taken for this call's answer

        # And the connection is fine for the charger's own messages too.
        await assert_unchanged(hass, cp)


@pytest.mark.charger(call_timeout=5)
async def test_unanswered_call_does_not_block_charger_messages(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, call_timeout: float
) -> None:
    """While the central system waits for an answer, the charger's own calls are served."""
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        task, unique_id = await start_charging_unanswered(hass, cp)
        answer = await cp.raw_call(
            "MeterValues", meter_values(2000, timestamp="2026-01-01T00:02:00Z")
        )
        assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "2.0")
        assert not task.done()
        assert len(cp.unanswered) == 1
        await cp.answer(unique_id, {"status": "Accepted"})
        await task


async def test_call_error_answer_is_a_clear_error(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A charger answering a command with a CallError: the action fails with that error."""
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        task, unique_id = await start_charging_unanswered(hass, cp)
        await cp.send_raw(json.dumps([4, unique_id, "InternalError", "boom", {}]))
        with pytest.raises(HomeAssistantError) as err:
            await task
        assert not isinstance(err.value, ServiceValidationError)
        assert "InternalError" in str(err.value.translation_placeholders)
        await assert_unchanged(hass, cp)


async def test_invalid_answer_payload_is_a_clear_error(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """An answer that breaks the schema fails the action instead of being trusted."""
    async with connected_charger(port, "CP1") as cp:
        await prepare(hass, cp)
        task, unique_id = await start_charging_unanswered(hass, cp)
        await cp.answer(unique_id, {"status": "Maybe"})
        with pytest.raises(HomeAssistantError) as err:
            await task
        assert not isinstance(err.value, ServiceValidationError)
        await assert_unchanged(hass, cp)
