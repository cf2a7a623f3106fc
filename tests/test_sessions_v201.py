"""Sessions in the ledger from real OCPP 2.0.1 stations (TransactionEvent), live and queued."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .charger201 import SimStation, connected_station
from .helpers import iso, make_entry, meter_value_201, prepare_station, setup_entry, state_of
from .ledger_helpers import (
    HOUR,
    PRICE_SENSOR,
    get_sessions,
    hours_ago,
    parsed,
    set_prices,
    wide_range,
)


async def tx_event(
    station: SimStation,
    event: str,
    seq: int,
    at: datetime,
    wh: float | None,
    tx_id: str = "TX1",
    **extra: Any,
) -> None:
    context = {"Started": "Transaction.Begin", "Ended": "Transaction.End"}.get(
        event, "Sample.Periodic"
    )
    payload: dict[str, Any] = {
        "eventType": event,
        "timestamp": iso(at),
        "triggerReason": {"Started": "CablePluggedIn", "Ended": "EVCommunicationLost"}.get(
            event, "MeterValuePeriodic"
        ),
        "seqNo": seq,
        "transactionInfo": {"transactionId": tx_id, **extra.pop("info", {})},
        **extra,
    }
    if wh is not None:
        payload["meterValue"] = meter_value_201(iso(at), context, energy_wh=wh)
    await station.send("TransactionEvent", payload)


async def test_a_201_session_is_recorded_and_priced(hass: HomeAssistant) -> None:
    hass.config.currency = "SEK"
    first, second = hours_ago(3), hours_ago(2)
    set_prices(hass, [(first, 0.8), (second, -0.2)])  # a negative price is kept
    entry = make_entry(price_sensor=PRICE_SENSOR)
    port = await setup_entry(hass, entry)
    async with connected_station(port) as station:
        await prepare_station(hass, station)
        start = first + timedelta(minutes=30)
        await tx_event(
            station,
            "Started",
            0,
            start,
            50_000,
            evse={"id": 1, "connectorId": 1},
            idToken={"idToken": "TAG1", "type": "ISO14443"},
        )
        await tx_event(station, "Updated", 1, second, 52_000)
        await tx_event(
            station,
            "Ended",
            2,
            second + timedelta(minutes=30),
            53_000,
            info={"stoppedReason": "EVDisconnected"},
        )
        await hass.async_block_till_done()
    state = state_of(hass, "sensor", "CS1_1_session_cost")
    assert state is not None
    assert state.state == "1.4"  # 2 kWh at 0.80, 1 kWh at -0.20
    (session,) = (await get_sessions(hass, **wide_range()))["sessions"]
    assert session["transaction_id"] == "TX1"
    assert (session["id_tag"], session["energy_kwh"]) == ("TAG1", 3.0)
    assert (session["meter_start_wh"], session["meter_stop_wh"]) == (50_000, 53_000)
    assert session["stop_reason"] == "EVDisconnected"
    assert [p["price"] for p in session["periods"]] == [0.8, -0.2]


async def test_queued_201_events_end_the_right_session(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Events the station queued while offline (offline flag) arrive after it reconnects."""
    start = hours_ago(5)
    async with connected_station(port) as station:
        await prepare_station(hass, station)
        await tx_event(station, "Started", 0, start, 1_000, "A", evse={"id": 1})
        await tx_event(station, "Updated", 1, start + HOUR, 3_000, "A")
    async with connected_station(port) as station:
        await prepare_station(hass, station)
        for seq, (event, at, wh, tx_id) in enumerate(
            [
                ("Ended", start + 2 * HOUR, 4_000, "A"),
                ("Started", start + 3 * HOUR, 4_000, "B"),
                ("Updated", start + 4 * HOUR, 4_500, "B"),
            ],
            start=2,
        ):
            extra: dict[str, Any] = {"offline": True}
            if event == "Started":
                extra["evse"] = {"id": 1}
            await tx_event(station, event, seq, at, wh, tx_id, **extra)
        await hass.async_block_till_done()
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [(s["transaction_id"], s["energy_kwh"]) for s in sessions] == [("A", 3.0), ("B", 0.5)]
    assert parsed(sessions[0]["end"]) == start + 2 * HOUR
    assert sessions[1]["end"] is None
    assert (sessions[0]["cost"], sessions[0]["priced"]) == (None, "unpriced")
