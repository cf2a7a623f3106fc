"""A refused message changes nothing: the model, what is stored and what users see.

Handlers parse and check all of a message before applying it in one step. The property test
sends, for every handler of both OCPP versions, many payloads drawn by hypothesis (valid ones
with fields replaced by hostile values or removed), strictly and leniently, over a real
websocket: whenever the answer is a CallError, nothing may differ from before.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import json
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
from ocpp.messages import CallError, CallResult
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.core.id_tags import IdTag

from .charger import connected_charger
from .charger201 import connected_station
from .helpers import entity_state, state_of, update_charger

type Template = Callable[[], dict[str, Any]]
# A mutation is (the index of a field among a payload's fields, its new value or DELETE).
DELETE = object()


def now(seconds: int = 0) -> str:
    moment = dt_util.utcnow().replace(microsecond=0).timestamp() + seconds
    return dt_util.utc_from_timestamp(moment).isoformat().replace("+00:00", "Z")


# --- what must not change ----------------------------------------------------------------


def snapshot(hass: HomeAssistant, entry: MockConfigEntry, charger_id: str) -> dict[str, Any]:
    """The model (persisted and live parts), what would be stored, and every entity state
    (but last_seen: a refused message still shows the charger is there)."""
    central = entry.runtime_data
    charger = central.chargers[charger_id]
    session = central.sessions[charger_id]
    states = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.unique_id.endswith("_last_seen"):
            continue
        if (state := hass.states.get(entity.entity_id)) is not None:
            states[entity.entity_id] = (state.state, dict(state.attributes))
    protocol_state = {
        name: repr(getattr(session, name, None))
        for name in ("_occupied", "_charging_state", "_unplaced", "_remote_starts")
    }
    return {
        "charger": {
            "info": dataclasses.asdict(charger.info),
            "firmware_status": charger.firmware_status,
            "diagnostics_status": charger.diagnostics_status,
            "configuration": dict(charger.configuration),
        },
        "connectors": {cid: dataclasses.asdict(c) for cid, c in charger.connectors.items()},
        "protocol": protocol_state,
        "pending": dict(central.pending),
        "stored": stored(entry),
        "states": states,
    }


def stored(entry: MockConfigEntry) -> str:
    """What the central system stores (but when each charger was last seen)."""
    data = entry.runtime_data._data()
    data["chargers"] = {
        charger_id: {key: value for key, value in charger.items() if key != "last_seen"}
        for charger_id, charger in data["chargers"].items()
    }
    return json.dumps(data, sort_keys=True, default=str)


# --- payloads ------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.integers(min_value=-5, max_value=40),
    st.sampled_from([10**400, -(10**400), 2**63, 10**13, 10**7, -(10**9)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "1e400",
            "NaN",
            "9" * 400,
            "X" * 300,
            "2999-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-12:00",
            "Started",
            "Ended",
            "Occupied",
            "Faulted",
            "Charging",
        ]
    ),
    st.none(),
    st.booleans(),
    st.lists(st.integers(min_value=0, max_value=3), max_size=2),
    st.dictionaries(st.sampled_from(["id", "value", "x"]), st.integers(-1, 40), max_size=2),
)


def paths(value: Any, prefix: tuple[int | str, ...] = ()) -> list[tuple[int | str, ...]]:
    """Every field (and list item) of a payload, nested ones included."""
    found = []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        items = ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def mutate(payload: dict[str, Any], mutations: list[tuple[int, Any]]) -> dict[str, Any]:
    """Apply mutations, each naming a field by its index among the payload's fields."""
    payload = json.loads(json.dumps(payload))
    for index, value in mutations:
        fields = paths(payload)
        if not fields:
            break
        *parents, last = fields[index % len(fields)]
        parent: Any = payload
        for key in parents:
            parent = parent[key]
        if value is DELETE:
            del parent[last]
        else:
            parent[last] = value
    return payload


def draw_mutations(count: int) -> list[list[tuple[int, Any]]]:
    """Mutation lists drawn by hypothesis (deterministic, no shrinking: replayed over a socket)."""
    drawn: list[list[tuple[int, Any]]] = []
    mutation = st.tuples(st.integers(0, 200), st.one_of(HOSTILE, st.just(DELETE)))

    @settings(
        max_examples=count, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.lists(mutation, min_size=1, max_size=3))
    def collect(mutations: list[tuple[int, Any]]) -> None:
        drawn.append(mutations)

    collect()
    return drawn


def sampled16() -> list[dict[str, Any]]:
    return [
        {"value": "5000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "16", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
        {"value": "55", "measurand": "SoC", "unit": "Percent"},
    ]


def sampled201() -> list[dict[str, Any]]:
    return [
        {"value": 5000, "measurand": "Energy.Active.Import.Register"},
        {
            "value": 7.2,
            "measurand": "Power.Active.Import",
            "unitOfMeasure": {"unit": "W", "multiplier": 3},
        },
        {"value": 16, "measurand": "Current.Import", "phase": "L1"},
    ]


def templates16(tx_id: int) -> dict[str, list[Template]]:
    def meter_value() -> list[dict[str, Any]]:
        return [{"timestamp": now(), "sampledValue": sampled16()}]

    return {
        "Authorize": [lambda: {"idTag": "TAG1"}],
        "BootNotification": [
            lambda: {
                "chargePointVendor": "Acme",
                "chargePointModel": "Wallbox 11",
                "chargePointSerialNumber": "SN-1",
                "firmwareVersion": "1.0",
            }
        ],
        "DataTransfer": [lambda: {"vendorId": "com.acme", "messageId": "m", "data": "d"}],
        "DiagnosticsStatusNotification": [lambda: {"status": "Uploading"}],
        "FirmwareStatusNotification": [lambda: {"status": "Downloading"}],
        "Heartbeat": [lambda: {}],
        "MeterValues": [
            lambda: {"connectorId": 1, "transactionId": tx_id, "meterValue": meter_value()}
        ],
        "SecurityEventNotification": [
            lambda: {"type": "FirmwareUpdated", "timestamp": now(), "techInfo": "x"}
        ],
        "StartTransaction": [
            lambda: {"connectorId": 1, "idTag": "TAG1", "meterStart": 6000, "timestamp": now()}
        ],
        "StatusNotification": [
            lambda: {
                "connectorId": 1,
                "errorCode": "GroundFailure",
                "status": "Faulted",
                "info": "i",
                "vendorId": "v",
                "vendorErrorCode": "e",
            }
        ],
        "StopTransaction": [
            lambda: {
                "transactionId": tx_id,
                "meterStop": 9000,
                "timestamp": now(),
                "reason": "Local",
                "idTag": "TAG1",
                "transactionData": meter_value(),
            }
        ],
    }


def templates201(tx_id: str) -> dict[str, list[Template]]:
    def meter_value() -> list[dict[str, Any]]:
        return [{"timestamp": now(), "sampledValue": sampled201()}]

    def tx_event(event: str, tx_id: str, **extra: Any) -> Template:
        return lambda: {
            "eventType": event,
            "timestamp": now(),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 1,
            "transactionInfo": {"transactionId": tx_id, "chargingState": "Charging"},
            "idToken": {"idToken": "TAG1", "type": "ISO14443"},
            "meterValue": meter_value(),
            **extra,
        }

    return {
        "Authorize": [lambda: {"idToken": {"idToken": "TAG1", "type": "ISO14443"}}],
        "BootNotification": [
            lambda: {
                "chargingStation": {"vendorName": "Acme", "model": "S", "serialNumber": "S-1"},
                "reason": "PowerUp",
            }
        ],
        "DataTransfer": [lambda: {"vendorId": "com.acme", "data": {"a": 1}}],
        "FirmwareStatusNotification": [lambda: {"status": "Downloading"}],
        "Heartbeat": [lambda: {}],
        "LogStatusNotification": [lambda: {"status": "Uploading"}],
        "MeterValues": [lambda: {"evseId": 1, "meterValue": meter_value()}],
        "NotifyEvent": [
            lambda: {
                "generatedAt": now(),
                "seqNo": 0,
                "eventData": [
                    {
                        "eventId": 1,
                        "timestamp": now(),
                        "trigger": "Alerting",
                        "actualValue": "true",
                        "techCode": "E1",
                        "eventNotificationType": "HardWiredNotification",
                        "component": {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1}},
                        "variable": {"name": "Problem"},
                    }
                ],
            }
        ],
        "NotifyReport": [
            lambda: {"requestId": 1, "generatedAt": now(), "seqNo": 0, "reportData": []}
        ],
        "ReservationStatusUpdate": [
            lambda: {"reservationId": 1, "reservationUpdateStatus": "Expired"}
        ],
        "SecurityEventNotification": [lambda: {"type": "Tamper", "timestamp": now()}],
        "StatusNotification": [
            lambda: {
                "timestamp": now(),
                "connectorStatus": "Occupied",
                "evseId": 1,
                "connectorId": 1,
            }
        ],
        "TransactionEvent": [
            tx_event("Updated", tx_id),
            tx_event("Ended", tx_id, evse={"id": 1}),
            tx_event("Started", "TX2", evse={"id": 2, "connectorId": 1}),
            tx_event("Started", "TX3"),
        ],
    }


# --- the two cases that were found first ----------------------------------------------------


async def test_stop_transaction_refused_half_way_applies_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A StopTransaction whose meterStop cannot be used: its meter data is not applied either,
    and the session keeps running."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        answer = await cp.raw_call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG1", "meterStart": 5000, "timestamp": now(-60)},
        )
        assert isinstance(answer, CallResult)
        tx_id = answer.payload["transactionId"]
        await hass.async_block_till_done()
        before = snapshot(hass, entry, "CP1")
        answer = await cp.raw_call(
            "StopTransaction",
            {
                "transactionId": tx_id,
                "meterStop": 10**400,
                "timestamp": now(),
                "transactionData": [{"timestamp": now(), "sampledValue": sampled16()}],
            },
        )
        assert isinstance(answer, CallError)
        await hass.async_block_till_done()
        assert snapshot(hass, entry, "CP1") == before
        assert entity_state(hass, "switch", "CP1_1_charging") == "on"
        assert entity_state(hass, "sensor", "CP1_1_energy") == "5.0"


async def test_transaction_event_refused_leaves_no_session(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A lenient station's TransactionEvent that cannot be processed starts no session."""
    async with connected_station(port) as station:
        await station.boot()
        await station.status(1, "Occupied")
        update_charger(hass, entry, "CS1", lenient=True)
        await hass.async_block_till_done()
        before = snapshot(hass, entry, "CS1")
        answer = await station.raw_call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": now(),
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "TX1"},
                "evse": {"id": 1},
                "meterValue": [{"timestamp": now(), "sampledValue": "not a list"}],
            },
        )
        await hass.async_block_till_done()
        if isinstance(answer, CallError):
            assert snapshot(hass, entry, "CS1") == before
        else:
            assert entry.runtime_data.chargers["CS1"].connectors[1].transaction is not None


# --- the property --------------------------------------------------------------------------


async def check_refusals_change_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    charger_id: str,
    send: Callable[[str, dict[str, Any]], Any],
    templates: Callable[[], dict[str, list[Template]]],
    ensure_session: Callable[[], Any],
    per_action: int,
) -> tuple[int, int]:
    """Replay mutated payloads of every template; return (refused, accepted)."""
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        if str(event.event_type).startswith(f"{DOMAIN}_"):
            events.append(event)

    hass.bus.async_listen("*", record)
    refused = accepted = 0
    drawn = draw_mutations(per_action)
    for action in list(templates()):
        for number, mutations in enumerate(drawn):
            await ensure_session()
            await hass.async_block_till_done()
            options = templates()[action]  # made now: the current session's id, the time
            payload = mutate(options[number % len(options)](), mutations)
            before = snapshot(hass, entry, charger_id)
            fired = len(events)
            answer = await send(action, payload)
            await hass.async_block_till_done()
            if isinstance(answer, CallResult):
                accepted += 1
                continue
            assert isinstance(answer, CallError)
            refused += 1
            assert answer.error_code != "InternalError", (action, payload, answer)
            assert snapshot(hass, entry, charger_id) == before, (action, payload, answer)
            assert len(events) == fired, (action, payload, events[fired:])
    return refused, accepted


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
async def test_refused_16_message_changes_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, lenient: bool
) -> None:
    entry.runtime_data.authorization.add(IdTag("TAG1"))
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Charging")
        await hass.async_block_till_done(wait_background_tasks=True)
        if lenient:
            update_charger(hass, entry, "CP1", lenient=True)
        tx_id = 0

        async def ensure_session() -> None:
            nonlocal tx_id
            conn = entry.runtime_data.chargers["CP1"].connectors[1]
            if conn.transaction is None:
                answer = await cp.raw_call(
                    "StartTransaction",
                    {"connectorId": 1, "idTag": "TAG1", "meterStart": 5000, "timestamp": now()},
                )
                assert isinstance(answer, CallResult)
                tx_id = answer.payload["transactionId"]

        await ensure_session()
        refused, accepted = await check_refusals_change_nothing(
            hass,
            entry,
            "CP1",
            cp.raw_call,
            lambda: templates16(tx_id),
            ensure_session,
            per_action=60 if lenient else 15,
        )
    assert refused > 50
    assert state_of(hass, "binary_sensor", "CP1_connected") is not None


@pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])
async def test_refused_201_message_changes_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, lenient: bool
) -> None:
    entry.runtime_data.authorization.add(IdTag("TAG1"))
    async with connected_station(port) as station:
        await station.boot()
        await station.status(1, "Occupied")
        await station.status(2, "Available")
        await hass.async_block_till_done(wait_background_tasks=True)
        if lenient:
            update_charger(hass, entry, "CS1", lenient=True)

        sessions = 0

        async def ensure_session() -> None:
            nonlocal sessions
            if entry.runtime_data.chargers["CS1"].connectors[1].transaction is None:
                sessions += 1
                answer = await station.raw_call(
                    "TransactionEvent",
                    {
                        "eventType": "Started",
                        "timestamp": now(),
                        "triggerReason": "CablePluggedIn",
                        "seqNo": 0,
                        "transactionInfo": {"transactionId": f"S{sessions}"},
                        "evse": {"id": 1},
                        "meterValue": [{"timestamp": now(), "sampledValue": sampled201()}],
                    },
                )
                assert isinstance(answer, CallResult)

        await ensure_session()
        refused, accepted = await check_refusals_change_nothing(
            hass,
            entry,
            "CS1",
            station.raw_call,
            lambda: templates201(f"S{sessions}"),
            ensure_session,
            per_action=50 if lenient else 12,
        )
    assert refused > 50
