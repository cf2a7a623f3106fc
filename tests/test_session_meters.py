"""Meters that count each session from 0: `energy` stays a lifetime total that only rises.

The scenario an independent simulator found: three sessions of 160, 147 and 143 Wh on a
charger whose Energy.Active.Import.Register restarts at every session showed as 0.143 kWh
in the Energy dashboard. Over real websockets, for OCPP 1.6 and 2.0.1.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger, connected_charger
from .charger201 import SimStation, connected_station
from .helpers import bound_port, capture_events, entity_state, meter_value_201, service, state_of

SESSIONS_WH = [160, 147, 143]
STOPPED = f"{DOMAIN}_transaction_stopped"
# A day ago: sessions hours apart stay in the past (a charger's time more than a minute ahead
# of Home Assistant's clock is taken as the time of receipt).
T0 = dt_util.utcnow().replace(microsecond=0) - timedelta(days=1)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def energy_history(hass: HomeAssistant, unique_id: str) -> list[float]:
    """Every value the `energy` sensor takes from now on (what HA's statistics see)."""
    values: list[float] = []

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
        new = event.data["new_state"]
        if event.data["entity_id"] == entity_id and new is not None:
            with contextlib.suppress(ValueError):  # unknown / unavailable
                values.append(float(new.state))

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    return values


def energy(hass: HomeAssistant, unique_id: str) -> float:
    state = state_of(hass, "sensor", unique_id)
    assert state is not None
    return float(state.state)


def assert_only_rises(values: list[float]) -> None:
    assert values, "the energy sensor never changed"
    assert values == sorted(values), f"energy fell: {values}"


# --- OCPP 1.6 --------------------------------------------------------------------------


async def session_16(
    cp: SimCharger, start_wh: int, stop_wh: int, at: float, *, readings: bool
) -> None:
    """One session: StartTransaction, MeterValues on the way (optional), StopTransaction."""
    started = await cp.call(
        call.StartTransaction(
            connector_id=1, id_tag="CARD", meter_start=start_wh, timestamp=iso(at)
        )
    )
    tx_id = started.transaction_id
    if readings:
        for step, wh in enumerate((start_wh + (stop_wh - start_wh) // 2, stop_wh), start=1):
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=tx_id,
                    meter_value=[
                        {
                            "timestamp": iso(at + step * 60),
                            "sampledValue": [
                                {
                                    "value": str(wh),
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                }
                            ],
                        }
                    ],
                )
            )
    await cp.call(
        call.StopTransaction(
            transaction_id=tx_id,
            meter_stop=stop_wh,
            timestamp=iso(at + 600),
            reason="EVDisconnected",
        )
    )


@pytest.mark.parametrize("readings", [True, False], ids=["meter_values", "stop_only"])
@pytest.mark.parametrize("sessions", [SESSIONS_WH, SESSIONS_WH[::-1]], ids=["falling", "rising"])
async def test_per_session_meter_16(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, readings: bool, sessions: list[int]
) -> None:
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    stopped = capture_events(hass, STOPPED)
    history = energy_history(hass, "CP1_1_energy")
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        for number, wh in enumerate(sessions):
            await session_16(cp, 0, wh, number * 3600, readings=readings)
        await hass.async_block_till_done()
    assert energy(hass, "CP1_1_energy") == pytest.approx(sum(sessions) / 1000)
    assert_only_rises(history)
    assert [event.data["energy_kwh"] for event in stopped] == [wh / 1000 for wh in sessions]
    assert entity_state(hass, "sensor", "CP1_1_session_energy") == str(sessions[-1] / 1000)


async def test_per_session_meter_total_survives_restart(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """The offset is stored: after a restart the next session still adds to the total."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    port = bound_port(entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        for number, wh in enumerate(SESSIONS_WH[:2]):
            await session_16(cp, 0, wh, number * 3600, readings=True)
    await hass.async_block_till_done()
    assert energy(hass, "CP1_1_energy") == pytest.approx(0.307)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert energy(hass, "CP1_1_energy") == pytest.approx(0.307)
    history = energy_history(hass, "CP1_1_energy")
    async with connected_charger(bound_port(entry), "CP1") as cp:
        await cp.boot()
        await session_16(cp, 0, SESSIONS_WH[2], 3 * 3600, readings=True)
        await hass.async_block_till_done()
    assert energy(hass, "CP1_1_energy") == pytest.approx(0.45)
    assert_only_rises(history)


async def test_lifetime_meter_glitch_at_session_start_is_still_a_glitch(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A lifetime register whose meterStart reads 0 once is not taken for a session meter."""
    await service(hass, "add_id_tag", {"id_tag": "CARD"})
    history = energy_history(hass, "CP1_1_energy")
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await session_16(cp, 10000, 11000, 0, readings=True)
        # meterStart 0 (a glitch), then the register goes on from 11000.
        await session_16(cp, 0, 11500, 3600, readings=False)
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {
                        "timestamp": iso(7200),
                        "sampledValue": [
                            {"value": "11600", "measurand": "Energy.Active.Import.Register"}
                        ],
                    }
                ],
            )
        )
        await hass.async_block_till_done()
    assert energy(hass, "CP1_1_energy") == pytest.approx(11.6)
    assert_only_rises(history)


# --- OCPP 2.0.1 ------------------------------------------------------------------------


async def session_201(
    station: SimStation, tx_id: str, stop_wh: int, at: float, *, begin_reading: bool
) -> None:
    """Started (with a Transaction.Begin reading of 0, or none), Updated, Ended."""
    started: dict[str, Any] = {
        "eventType": "Started",
        "timestamp": iso(at),
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": tx_id},
        "evse": {"id": 1, "connectorId": 1},
    }
    if begin_reading:
        started["meterValue"] = meter_value_201(iso(at), "Transaction.Begin", energy_wh=0)
    await station.send("TransactionEvent", started)
    for seq, (wh, event, context) in enumerate(
        [
            (stop_wh // 2, "Updated", "Sample.Periodic"),
            (stop_wh, "Ended", "Transaction.End"),
        ],
        start=1,
    ):
        await station.send(
            "TransactionEvent",
            {
                "eventType": event,
                "timestamp": iso(at + seq * 300),
                "triggerReason": "MeterValuePeriodic" if event == "Updated" else "EVDeparted",
                "seqNo": seq,
                "transactionInfo": {"transactionId": tx_id},
                "meterValue": meter_value_201(iso(at + seq * 300), context, energy_wh=wh),
            },
        )


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
@pytest.mark.parametrize("begin_reading", [True, False], ids=["begin_reading", "no_begin_reading"])
async def test_per_session_meter_201(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    subprotocol: str,
    begin_reading: bool,
) -> None:
    stopped = capture_events(hass, STOPPED)
    history = energy_history(hass, "CS1_1_energy")
    async with connected_station(port, subprotocol=subprotocol) as station:
        await station.boot()
        await station.status(1, "Available")
        for number, wh in enumerate(SESSIONS_WH):
            await session_201(station, f"T{number}", wh, number * 3600, begin_reading=begin_reading)
        await hass.async_block_till_done()
    assert energy(hass, "CS1_1_energy") == pytest.approx(0.45)
    assert_only_rises(history)
    # From the second session on, each session's own energy is right too.
    assert [event.data["energy_kwh"] for event in stopped][1:] == [0.147, 0.143]


# --- the rule itself, as a table ---------------------------------------------------------

S = "session start"  # the reading is the first of a new session (its meterStart)


@pytest.mark.parametrize(
    ("readings", "totals"),
    [
        # A lifetime register: rises, glitches are dropped, nothing restarts.
        ([(10.0, S), 10.5, (0.0, S), 10.6], [10.0, 10.5, 10.5, 10.6]),
        ([10.0, 0.0, 10.1], [10.0, 10.0, 10.1]),
        # Falls back as a session starts, confirmed by the next reading: a session meter.
        ([(0.0, S), 0.16, (0.01, S), 0.05, 0.147], [0.0, 0.16, 0.16, 0.2, 0.297]),
        # meterStart 0 session after session: restarts at once, even when a session
        # delivers more than the one before (nothing in between to confirm it).
        ([(0.0, S), 0.143, (0.0, S), 0.16, (0.0, S), 0.2], [0, 0.143, 0.143, 0.303, 0.303, 0.503]),
        # Once known, a session meter restarts at every session start below the register.
        ([(0.0, S), 0.1, (0.0, S), 0.1, (0.02, S), 0.05], [0, 0.1, 0.1, 0.2, 0.2, 0.23]),
        # A replaced meter (not at a session start): the total goes on by what it counts.
        ([100.0, 5.0, 5.5], [100.0, 100.0, 100.5]),
    ],
)
def test_register_restarts(readings: list[Any], totals: list[float]) -> None:
    from custom_components.ocpp_central.core.model import Connector, Transaction

    conn = Connector(1)
    sessions = 0
    for reading, expected in zip(readings, totals, strict=True):
        kwh, start = reading if isinstance(reading, tuple) else (reading, None)
        if start is S:
            if conn.transaction is not None:
                conn.last_session = conn.transaction
            sessions += 1
            conn.transaction = Transaction(
                f"T{sessions}", 1, None, T0, meter_start_wh=kwh * 1000, meter_last_wh=kwh * 1000
            )
            conn.session_began()
        conn.update_energy_register(kwh, live=True)
        assert conn.lifetime_energy_kwh == pytest.approx(expected), (reading, conn)
