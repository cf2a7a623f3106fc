"""Sessions (1.6 StartTransaction/StopTransaction), id tags and remote start/stop, as users see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger, connected_charger
from .helpers import (
    capture_events,
    device_id,
    entity_id,
    iso,
    make_entry,
    setup_entry,
    state_of,
    wait_for_state,
)

STARTED = "ocpp_central_transaction_started"
STOPPED = "ocpp_central_transaction_stopped"
ID_TAG_EVENT = "ocpp_central_id_tag"


pytestmark = pytest.mark.charger(boot="booted", status="Available")


def entity_state_of(hass: HomeAssistant, entity: str) -> str:
    """The state string of an entity (by entity id) that must exist."""
    found = hass.states.get(entity)
    assert found is not None, entity
    return found.state


def st(hass: HomeAssistant, key: str, connector_id: int = 1, platform: str = "sensor") -> str:
    state = state_of(hass, platform, f"CP1_{connector_id}_{key}")
    assert state is not None, key
    return state.state


async def start_tx(
    hass: HomeAssistant,
    cp: SimCharger,
    *,
    connector_id: int = 1,
    id_tag: str = "TAG1",
    meter_start: int = 10000,
    timestamp: str | None = None,
) -> Any:
    result = await cp.call(
        call.StartTransaction(
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=timestamp or iso(dt_util.utcnow()),
        ),
        suppress=False,
    )
    await hass.async_block_till_done()
    return result


async def stop_tx(
    hass: HomeAssistant,
    cp: SimCharger,
    transaction_id: int,
    *,
    meter_stop: int,
    timestamp: str | None = None,
    **kw: Any,
) -> Any:
    result = await cp.call(
        call.StopTransaction(
            meter_stop=meter_stop,
            timestamp=timestamp or iso(dt_util.utcnow()),
            transaction_id=transaction_id,
            **kw,
        ),
        suppress=False,
    )
    await hass.async_block_till_done()
    return result


async def send_meter_values(
    hass: HomeAssistant, cp: SimCharger, transaction_id: int, sampled: list[dict[str, str]]
) -> None:
    """One MeterValues of a session on connector 1, sampled now; return once processed."""
    await cp.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": iso(dt_util.utcnow()), "sampledValue": sampled}],
        ),
        suppress=False,
    )
    await hass.async_block_till_done()


async def add_tag(hass: HomeAssistant, id_tag: str, **kw: Any) -> None:
    await hass.services.async_call(DOMAIN, "add_id_tag", {"id_tag": id_tag, **kw}, blocking=True)


async def authorize(hass: HomeAssistant, cp: SimCharger, id_tag: str) -> dict[str, Any]:
    result = await cp.call(call.Authorize(id_tag=id_tag), suppress=False)
    await hass.async_block_till_done()
    info: dict[str, Any] = result.id_tag_info
    return info


# --- sessions ----------------------------------------------------------------------------


async def test_session_start_to_stop(hass: HomeAssistant, cp: SimCharger) -> None:
    started = capture_events(hass, STARTED)
    stopped = capture_events(hass, STOPPED)
    await add_tag(hass, "TAG1", name="Alice")
    assert st(hass, "charging", platform="switch") == "off"
    assert st(hass, "transaction_id") == "unknown"

    # Two hours ago (a charger's times are never ahead of Home Assistant's clock).
    start = dt_util.utcnow().replace(microsecond=0) - timedelta(hours=2)
    await cp.status(1, "Preparing")
    result = await start_tx(hass, cp, id_tag="TAG1", meter_start=10000, timestamp=iso(start))
    assert result.id_tag_info["status"] == "Accepted"
    tx_id = result.transaction_id
    assert isinstance(tx_id, int) and tx_id > 0

    assert len(started) == 1
    assert started[0].data == {
        "device_id": device_id(hass),
        "charge_point_id": "CP1",
        "connector_id": 1,
        "transaction_id": tx_id,
        "id_tag": "TAG1",
        "meter_start_kwh": 10.0,
        "timestamp": start.isoformat(),
    }
    assert st(hass, "charging", platform="switch") == "on"
    assert st(hass, "transaction_id") == str(tx_id)
    assert st(hass, "id_tag") == "TAG1"
    assert dt_util.parse_datetime(st(hass, "session_start")) == start
    assert float(st(hass, "session_energy")) == 0
    assert float(st(hass, "energy")) == 10
    # Two hours into the session (in minutes, as suggested).
    duration = state_of(hass, "sensor", "CP1_1_session_duration")
    assert duration is not None
    assert duration.attributes["unit_of_measurement"] == "min"
    assert 120 <= float(duration.state) < 122

    await cp.status(1, "Charging")
    await send_meter_values(
        hass,
        cp,
        tx_id,
        [
            {"value": "12500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
        ],
    )
    assert float(st(hass, "session_energy")) == 2.5
    assert float(st(hass, "energy")) == 12.5

    stop = start + timedelta(hours=1, minutes=30)
    result = await stop_tx(
        hass,
        cp,
        tx_id,
        meter_stop=15000,
        timestamp=iso(stop),
        reason="EVDisconnected",
        id_tag="TAG1",
    )
    assert result.id_tag_info["status"] == "Accepted"
    assert len(stopped) == 1
    assert stopped[0].data == {
        "device_id": device_id(hass),
        "charge_point_id": "CP1",
        "connector_id": 1,
        "transaction_id": tx_id,
        "id_tag": "TAG1",
        "energy_kwh": 5.0,
        "duration_s": 5400,
        "reason": "ev_disconnected",
    }
    assert st(hass, "charging", platform="switch") == "off"
    assert st(hass, "transaction_id") == "unknown"
    # The last session stays on show.
    assert float(st(hass, "session_energy")) == 5
    assert st(hass, "id_tag") == "TAG1"
    assert dt_util.parse_datetime(st(hass, "session_start")) == start
    assert float(st(hass, "session_duration")) == 90
    assert st(hass, "stop_reason") == "ev_disconnected"
    assert float(st(hass, "energy")) == 15


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (None, "local"),
        ("Local", "local"),
        ("Remote", "remote"),
        ("EmergencyStop", "emergency_stop"),
        ("EVDisconnected", "ev_disconnected"),
        ("DeAuthorized", "de_authorized"),
        ("SoftReset", "soft_reset"),
        ("HardReset", "hard_reset"),
        ("PowerLoss", "power_loss"),
        ("UnlockCommand", "unlock_command"),
        ("Other", "other"),
    ],
)
async def test_stop_reasons(
    hass: HomeAssistant, cp: SimCharger, reason: str | None, expected: str
) -> None:
    stopped = capture_events(hass, STOPPED)
    tx_id = (await start_tx(hass, cp)).transaction_id
    kw = {"reason": reason} if reason else {}
    await stop_tx(hass, cp, tx_id, meter_stop=10500, **kw)
    assert stopped[0].data["reason"] == expected
    assert stopped[0].data["energy_kwh"] == 0.5
    assert st(hass, "stop_reason") == expected


async def test_transaction_data_in_stop_is_applied(hass: HomeAssistant, cp: SimCharger) -> None:
    start = dt_util.utcnow().replace(microsecond=0) - timedelta(minutes=20)
    tx_id = (await start_tx(hass, cp, meter_start=20000, timestamp=iso(start))).transaction_id
    stop = start + timedelta(minutes=20)
    stopped = capture_events(hass, STOPPED)
    await stop_tx(
        hass,
        cp,
        tx_id,
        meter_stop=23000,
        timestamp=iso(stop),
        transaction_data=[
            {
                "timestamp": iso(start),
                "sampledValue": [
                    {
                        "value": "20000",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                        "context": "Transaction.Begin",
                    },
                    {
                        "value": "20",
                        "measurand": "SoC",
                        "unit": "Percent",
                        "context": "Transaction.Begin",
                    },
                ],
            },
            {
                "timestamp": iso(start + timedelta(minutes=10)),
                "sampledValue": [
                    {
                        "value": "21.5",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "kWh",
                        "context": "Sample.Periodic",
                    },
                ],
            },
            {
                "timestamp": iso(stop),
                "sampledValue": [
                    {
                        "value": "23000",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                        "context": "Transaction.End",
                    },
                    {
                        "value": "80",
                        "measurand": "SoC",
                        "unit": "Percent",
                        "context": "Transaction.End",
                    },
                    {
                        "value": "31.5",
                        "measurand": "Temperature",
                        "unit": "Celsius",
                        "location": "Body",
                        "context": "Transaction.End",
                    },
                ],
            },
        ],
    )
    assert stopped[0].data["energy_kwh"] == 3.0
    assert stopped[0].data["duration_s"] == 1200
    # The newest sample of the transaction data is what is shown.
    assert float(st(hass, "soc")) == 80
    assert float(st(hass, "temperature")) == 31.5
    assert float(st(hass, "energy")) == 23
    assert float(st(hass, "session_energy")) == 3


async def test_meter_stop_below_last_reading(hass: HomeAssistant, cp: SimCharger) -> None:
    """Session energy is what the register says, never negative, and the register never goes back."""
    tx_id = (await start_tx(hass, cp, meter_start=5000)).transaction_id
    stopped = capture_events(hass, STOPPED)
    await stop_tx(hass, cp, tx_id, meter_stop=4000)
    assert stopped[0].data["energy_kwh"] == 0
    assert float(st(hass, "session_energy")) == 0
    assert float(st(hass, "energy")) == 5


async def test_transaction_ids_unique_and_increasing(hass: HomeAssistant, cp: SimCharger) -> None:
    """Two connectors starting in the same second (clock-based ids collide there)."""
    started = capture_events(hass, STARTED)
    await cp.status(2, "Available")
    same_second = iso(dt_util.utcnow().replace(microsecond=0))
    first = (await start_tx(hass, cp, connector_id=1, timestamp=same_second)).transaction_id
    second = (await start_tx(hass, cp, connector_id=2, timestamp=same_second)).transaction_id
    assert second > first
    assert [e.data["transaction_id"] for e in started] == [first, second]
    assert [e.data["connector_id"] for e in started] == [1, 2]
    assert st(hass, "transaction_id", 1) == str(first)
    assert st(hass, "transaction_id", 2) == str(second)
    assert st(hass, "charging", 1, "switch") == "on"
    assert st(hass, "charging", 2, "switch") == "on"

    await stop_tx(hass, cp, first, meter_stop=11000)
    assert st(hass, "charging", 1, "switch") == "off"
    assert st(hass, "charging", 2, "switch") == "on"
    third = (await start_tx(hass, cp, connector_id=1, timestamp=same_second)).transaction_id
    assert third > second
    assert len({first, second, third}) == 3


async def test_start_without_stop_closes_previous_session(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    """A lost StopTransaction: the next StartTransaction on the connector ends the old session."""
    stopped = capture_events(hass, STOPPED)
    first = (await start_tx(hass, cp, meter_start=1000)).transaction_id
    second = (await start_tx(hass, cp, meter_start=3000)).transaction_id
    assert second != first
    assert [e.data["transaction_id"] for e in stopped] == [first]
    assert st(hass, "transaction_id") == str(second)
    assert float(st(hass, "session_energy")) == 0


async def test_stop_for_unknown_transaction_is_answered(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    stopped = capture_events(hass, STOPPED)
    tx_id = (await start_tx(hass, cp)).transaction_id
    result = await stop_tx(hass, cp, 987654, meter_stop=99999, id_tag="TAG1")
    assert result is not None
    assert stopped == []
    assert st(hass, "transaction_id") == str(tx_id)
    assert st(hass, "charging", platform="switch") == "on"
    assert float(st(hass, "energy")) == 10


# --- id tags -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "presented", "expected", "event_status"),
    [
        ({"id_tag": "CARD1"}, "CARD1", "Accepted", "accepted"),
        (
            {"id_tag": "CARD1", "name": "Alice", "status": "accepted"},
            "CARD1",
            "Accepted",
            "accepted",
        ),
        ({"id_tag": "abcd1234"}, "ABCD1234", "Accepted", "accepted"),
        ({"id_tag": "CARD1", "status": "blocked"}, "CARD1", "Blocked", "blocked"),
        ({"id_tag": "CARD1", "status": "expired"}, "CARD1", "Expired", "expired"),
        ({"id_tag": "CARD1", "expiry": "2001-01-01T00:00:00+00:00"}, "CARD1", "Expired", "expired"),
        (
            {"id_tag": "CARD1", "expiry": "2099-01-01T00:00:00+00:00"},
            "CARD1",
            "Accepted",
            "accepted",
        ),
        ({"id_tag": "CARD1"}, "OTHER", "Invalid", "invalid"),
    ],
)
async def test_authorize(
    hass: HomeAssistant,
    cp: SimCharger,
    tag: dict[str, Any],
    presented: str,
    expected: str,
    event_status: str,
) -> None:
    events = capture_events(hass, ID_TAG_EVENT)
    await add_tag(hass, **tag)
    info = await authorize(hass, cp, presented)
    assert info["status"] == expected
    if "expiry" in tag:
        assert dt_util.parse_datetime(info["expiry_date"]) == dt_util.parse_datetime(tag["expiry"])
    assert len(events) == 1
    assert events[0].data["id_tag"] == presented
    assert events[0].data["status"] == event_status
    assert events[0].data["charge_point_id"] == "CP1"
    assert events[0].data["device_id"] == device_id(hass)


async def test_id_tag_event_every_time_and_remove(hass: HomeAssistant, cp: SimCharger) -> None:
    events = capture_events(hass, ID_TAG_EVENT)
    await add_tag(hass, "CARD9", name="Bob")
    assert (await authorize(hass, cp, "CARD9"))["status"] == "Accepted"
    assert (await authorize(hass, cp, "CARD9"))["status"] == "Accepted"
    await hass.services.async_call(DOMAIN, "remove_id_tag", {"id_tag": "CARD9"}, blocking=True)
    assert (await authorize(hass, cp, "CARD9"))["status"] == "Invalid"
    assert [(e.data["id_tag"], e.data["status"]) for e in events] == [
        ("CARD9", "accepted"),
        ("CARD9", "accepted"),
        ("CARD9", "invalid"),
    ]
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "remove_id_tag", {"id_tag": "CARD9"}, blocking=True)


async def test_id_tag_status_can_change(hass: HomeAssistant, cp: SimCharger) -> None:
    await add_tag(hass, "CARD2")
    assert (await authorize(hass, cp, "CARD2"))["status"] == "Accepted"
    await add_tag(hass, "CARD2", status="blocked")
    assert (await authorize(hass, cp, "CARD2"))["status"] == "Blocked"


async def test_start_transaction_with_blocked_tag(hass: HomeAssistant, cp: SimCharger) -> None:
    """The charger started offline with a tag that is blocked: it learns so from the answer."""
    await add_tag(hass, "STOLEN", status="blocked")
    result = await start_tx(hass, cp, id_tag="STOLEN")
    assert result.id_tag_info["status"] == "Blocked"
    result = await start_tx(hass, cp, id_tag="NOBODY")
    assert result.id_tag_info["status"] == "Invalid"


async def test_accept_all_policy(hass: HomeAssistant) -> None:
    entry = make_entry(id_tag_policy="accept_all")
    port = await setup_entry(hass, entry)
    events = capture_events(hass, ID_TAG_EVENT)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        assert (await authorize(hass, cp, "ANYTHING"))["status"] == "Accepted"
        # A tag the user blocked stays blocked.
        await add_tag(hass, "STOLEN", status="blocked")
        assert (await authorize(hass, cp, "STOLEN"))["status"] == "Blocked"
        result = await start_tx(hass, cp, id_tag="SOMEONE")
        assert result.id_tag_info["status"] == "Accepted"
    assert [e.data["status"] for e in events] == ["accepted", "blocked"]


# --- remote start and stop ---------------------------------------------------------------


async def test_remote_start_with_switch(hass: HomeAssistant, cp: SimCharger) -> None:
    switch = entity_id(hass, "switch", "CP1_1_charging")
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    payload = await cp.wait_for_call("RemoteStartTransaction")
    assert payload == {"connector_id": 1, "id_tag": "HomeAssistant"}
    # The switch follows the transaction, not the request.
    assert entity_state_of(hass, switch) == "off"
    # The charger starts with the id tag it was given: accepted even though no such tag is known.
    result = await start_tx(hass, cp, id_tag="HomeAssistant")
    assert result.id_tag_info["status"] == "Accepted"
    assert entity_state_of(hass, switch) == "on"

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    payload = await cp.wait_for_call("RemoteStopTransaction")
    assert payload == {"transaction_id": result.transaction_id}
    assert entity_state_of(hass, switch) == "on"
    await stop_tx(hass, cp, result.transaction_id, meter_stop=10100, reason="Remote")
    assert entity_state_of(hass, switch) == "off"
    assert st(hass, "stop_reason") == "remote"


async def test_start_charging_service(hass: HomeAssistant, cp: SimCharger) -> None:
    await hass.services.async_call(
        DOMAIN,
        "start_charging",
        {"device_id": device_id(hass), "id_tag": "CARD-7"},
        blocking=True,
    )
    assert await cp.wait_for_call("RemoteStartTransaction") == {
        "connector_id": 1,
        "id_tag": "CARD-7",
    }


async def test_start_charging_default_id_tag_and_connector(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    await cp.status(2, "Available")
    await hass.services.async_call(
        DOMAIN, "start_charging", {"device_id": device_id(hass), "connector_id": 2}, blocking=True
    )
    assert await cp.wait_for_call("RemoteStartTransaction") == {
        "connector_id": 2,
        "id_tag": "HomeAssistant",
    }


async def _nothing_sent(hass: HomeAssistant, cp: SimCharger, action: str) -> bool:
    # A round trip after the service call: every frame the server sent before it has arrived.
    await cp.call(call.Heartbeat(), suppress=False)
    return cp.calls(action) == []


@pytest.mark.parametrize("id_tag", ["X" * 21, "A-VERY-LONG-APP-TOKEN-0123456789"])
async def test_start_charging_id_tag_too_long(
    hass: HomeAssistant, cp: SimCharger, id_tag: str
) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "start_charging",
            {"device_id": device_id(hass), "id_tag": id_tag},
            blocking=True,
        )
    assert await _nothing_sent(hass, cp, "RemoteStartTransaction")


async def test_start_charging_id_tag_20_chars_is_fine(hass: HomeAssistant, cp: SimCharger) -> None:
    await hass.services.async_call(
        DOMAIN, "start_charging", {"device_id": device_id(hass), "id_tag": "X" * 20}, blocking=True
    )
    assert (await cp.wait_for_call("RemoteStartTransaction"))["id_tag"] == "X" * 20


async def test_start_charging_rejected(hass: HomeAssistant, cp: SimCharger) -> None:
    cp.answers["RemoteStartTransaction"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": device_id(hass)}, blocking=True
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert cp.calls("RemoteStartTransaction") == [{"connector_id": 1, "id_tag": "HomeAssistant"}]
    switch = entity_id(hass, "switch", "CP1_1_charging")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert entity_state_of(hass, switch) == "off"


async def test_start_charging_offline(hass: HomeAssistant, port: int) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == "off")
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": device_id(hass)}, blocking=True
        )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id(hass)}, blocking=True
        )


async def test_start_charging_unknown_device(hass: HomeAssistant, cp: SimCharger) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": "not-a-device"}, blocking=True
        )


async def test_stop_charging_service(hass: HomeAssistant, cp: SimCharger) -> None:
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id(hass)}, blocking=True
        )
    assert await _nothing_sent(hass, cp, "RemoteStopTransaction")

    await cp.status(2, "Available")
    first = (await start_tx(hass, cp, connector_id=1)).transaction_id
    second = (await start_tx(hass, cp, connector_id=2)).transaction_id
    await hass.services.async_call(
        DOMAIN, "stop_charging", {"device_id": device_id(hass), "connector_id": 2}, blocking=True
    )
    assert cp.calls("RemoteStopTransaction") == [{"transaction_id": second}]
    await hass.services.async_call(
        DOMAIN, "stop_charging", {"device_id": device_id(hass), "connector_id": 1}, blocking=True
    )
    assert cp.calls("RemoteStopTransaction")[-1] == {"transaction_id": first}


async def test_stop_charging_rejected(hass: HomeAssistant, cp: SimCharger) -> None:
    tx_id = (await start_tx(hass, cp)).transaction_id
    cp.answers["RemoteStopTransaction"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id(hass)}, blocking=True
        )
    assert not isinstance(err.value, ServiceValidationError)
    assert cp.calls("RemoteStopTransaction") == [{"transaction_id": tx_id}]
    assert st(hass, "charging", platform="switch") == "on"


async def test_stop_charging_after_stop_transaction(hass: HomeAssistant, cp: SimCharger) -> None:
    """Once the session is over there is nothing to stop: no RemoteStop for an old transaction."""
    tx_id = (await start_tx(hass, cp)).transaction_id
    await stop_tx(hass, cp, tx_id, meter_stop=10100)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id(hass)}, blocking=True
        )
    assert await _nothing_sent(hass, cp, "RemoteStopTransaction")


async def test_services_on_a_connector_device(hass: HomeAssistant, cp: SimCharger) -> None:
    """On a charger with several connectors, a connector's own device implies its connector."""
    await cp.status(2, "Available")
    await hass.async_block_till_done()
    connector2 = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1-connector-2")})
    assert connector2 is not None
    await hass.services.async_call(
        DOMAIN, "start_charging", {"device_id": connector2.id}, blocking=True
    )
    assert cp.calls("RemoteStartTransaction") == [{"connector_id": 2, "id_tag": "HomeAssistant"}]
    tx_id = (await start_tx(hass, cp, connector_id=2, id_tag="HomeAssistant")).transaction_id
    await hass.services.async_call(
        DOMAIN, "stop_charging", {"device_id": connector2.id}, blocking=True
    )
    assert cp.calls("RemoteStopTransaction") == [{"transaction_id": tx_id}]


async def test_charger_reporting_session_energy(hass: HomeAssistant, cp: SimCharger) -> None:
    """Some chargers restart their "register" at 0 every session (meterStart 0)."""
    stopped = capture_events(hass, STOPPED)
    lifetime_wh = 0
    for session, (middle, end) in enumerate([(2000, 5000), (1500, 3000)]):
        tx_id = (await start_tx(hass, cp, meter_start=0)).transaction_id
        assert float(st(hass, "session_energy")) == 0
        await send_meter_values(
            hass, cp, tx_id, [{"value": str(middle), "measurand": "Energy.Active.Import.Register"}]
        )
        assert float(st(hass, "session_energy")) == middle / 1000
        await stop_tx(hass, cp, tx_id, meter_stop=end)
        assert stopped[session].data["energy_kwh"] == end / 1000
        assert float(st(hass, "session_energy")) == end / 1000
        # The lifetime meter adds the sessions up (see test_session_meters.py).
        lifetime_wh += end
        assert float(st(hass, "energy")) == lifetime_wh / 1000


async def test_meter_stop_zero_glitch(hass: HomeAssistant, cp: SimCharger) -> None:
    """A StopTransaction with meterStop 0 (meter not read): the session keeps what was measured."""
    stopped = capture_events(hass, STOPPED)
    tx_id = (await start_tx(hass, cp, meter_start=10000)).transaction_id
    await send_meter_values(
        hass,
        cp,
        tx_id,
        [{"value": "12000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}],
    )
    await stop_tx(hass, cp, tx_id, meter_stop=0)
    assert stopped[0].data["energy_kwh"] == 2.0
    assert float(st(hass, "session_energy")) == 2
    assert float(st(hass, "energy")) == 12
