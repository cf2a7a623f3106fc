"""The ledger across Home Assistant restarts: a running session, what was stored before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.core.ledger import Ledger, Tariff

from . import test_restart
from .charger import connected_charger
from .helpers import make_entry, meter_values, setup_entry
from .ledger_helpers import (
    HOUR,
    PRICE_SENSOR,
    get_sessions,
    hours_ago,
    parsed,
    set_prices,
    wide_range,
)
from .test_restart import Restart, send, start_transaction, stop_transaction

restart = test_restart.restart  # the fixture: Home Assistant restarted both ways


async def test_a_session_running_across_a_restart(hass: HomeAssistant, restart: Restart) -> None:
    """Readings before and after the restart count once; prices that come back after us
    (the price sensor loads later) still price the energy."""
    first, second = hours_ago(3), hours_ago(2)
    prices = [(first, 1.0), (second, 2.0)]
    set_prices(hass, prices, currency="EUR")
    entry = make_entry(price_sensor=PRICE_SENSOR)
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        start = first + timedelta(minutes=30)
        tx = (await start_transaction(hass, cp, "TAG1", 10_000, at=start)).transaction_id
        await send(hass, cp, meter_values(transaction_id=tx, at=second, energy=12_000))
        hass, port = await restart(entry)

    (running,) = (await get_sessions(hass, **wide_range()))["sessions"]
    assert (running["transaction_id"], running["end"], running["energy_kwh"]) == (tx, None, 2.0)
    set_prices(hass, prices, currency="EUR")
    await hass.async_block_till_done()
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await send(
            hass,
            cp,
            meter_values(transaction_id=tx, at=second + timedelta(minutes=20), energy=13_000),
        )
        await stop_transaction(hass, cp, tx, 13_500, at=second + timedelta(minutes=30))
    (session,) = (await get_sessions(hass, **wide_range()))["sessions"]
    assert session["energy_kwh"] == 3.5
    assert (session["cost"], session["currency"]) == (2 * 1.0 + 1.5 * 2.0, "EUR")
    assert parsed(session["end"]) == second + timedelta(minutes=30)


async def test_ended_sessions_survive_a_restart(hass: HomeAssistant, restart: Restart) -> None:
    entry = make_entry(fixed_price=1.25)
    port = await setup_entry(hass, entry)
    start = hours_ago(4)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        for number in range(3):
            at = start + number * HOUR
            tx = (await start_transaction(hass, cp, "TAG1", 1000 * number, at=at)).transaction_id
            await stop_transaction(hass, cp, tx, 1000 * number + 800, at=at + timedelta(minutes=30))
        hass, _ = await restart(entry)
    response = await get_sessions(hass, **wide_range())
    assert [s["cost"] for s in response["sessions"]] == [1.0, 1.0, 1.0]
    assert response["totals"]["overall"]["count"] == 3
    assert response["totals"]["overall"]["cost"] == 3.0


def central_store_v1(entry_id: str, start: datetime, stop: datetime) -> dict[str, Any]:
    """What the central system stored before there was a ledger (a last and a running one)."""
    connector = {
        "energy_kwh": 13.0,
        "last_session": {
            "transaction_id": 7,
            "connector_id": 1,
            "id_tag": "TAG1",
            "start": start.isoformat(),
            "meter_start_wh": 10_000,
            "meter_last_wh": 12_500,
            "stop": stop.isoformat(),
            "reason": "local",
        },
        "transaction": {
            "transaction_id": 8,
            "connector_id": 1,
            "id_tag": "TAG2",
            "start": stop.isoformat(),
            "meter_start_wh": 12_500,
            "meter_last_wh": 13_000,
            "stop": None,
            "reason": None,
        },
    }
    return {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry_id}",
        "data": {"chargers": {"CP1": {"connectors": {"1": connector}}}, "next_transaction_id": 9},
    }


async def test_the_first_load_seeds_from_what_was_stored_before(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """An upgrade keeps the last session and the running one (the core's stored version 1)."""
    entry = make_entry()
    start, stop = hours_ago(5), hours_ago(4)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = central_store_v1(entry.entry_id, start, stop)
    port = await setup_entry(hass, entry)
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    # The running one's last reading had no time: its energy counts from its next reading.
    assert [(s["transaction_id"], s["energy_kwh"], s["end"] is None) for s in sessions] == [
        (7, 2.5, False),
        (8, 0.0, True),
    ]
    assert sessions[0]["priced"] == "unpriced"
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.sessions"]
    assert stored["version"] == 2
    assert [s["transaction_id"] for s in stored["data"]["sessions"]] == [7]
    # The running one goes on: its stop arrives now.
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await stop_transaction(hass, cp, 8, 13_600, at=stop + HOUR)
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [(s["transaction_id"], s["energy_kwh"]) for s in sessions] == [(7, 2.5), (8, 1.1)]


async def test_an_older_ledger_store_is_migrated_and_a_bad_record_skipped(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    entry = make_entry()
    start, stop = hours_ago(5), hours_ago(4)
    old = central_store_v1(entry.entry_id, start, stop)["data"]["chargers"]["CP1"]
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "sessions": [
                {"charger_id": "CP1", "transaction_id": 5, "connector_id": "one"},
                {**old["connectors"]["1"]["last_session"], "charger_id": "CP1"},
            ]
        },
    }
    await setup_entry(hass, entry)
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [(s["transaction_id"], s["energy_kwh"]) for s in sessions] == [(7, 2.5)]
    assert hass_storage[key]["version"] == 2
    diagnostics = entry.runtime_data.ledger.diagnostics()
    assert (diagnostics["sessions"], diagnostics["skipped"]) == (1, 1)


async def test_a_session_the_ledger_never_saw_start_is_taken_over(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The central system knows a running session the ledger does not (lost in a crash):
    its next reading brings it into the ledger."""
    entry = make_entry()
    start, stop = hours_ago(5), hours_ago(4)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = central_store_v1(entry.entry_id, start, stop)
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    hass_storage[key] = {"version": 2, "minor_version": 1, "key": key, "data": {"sessions": []}}
    port = await setup_entry(hass, entry)
    assert (await get_sessions(hass, **wide_range()))["sessions"] == []
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await send(
            hass, cp, meter_values(transaction_id=8, at=stop + timedelta(minutes=30), energy=13_000)
        )
        await stop_transaction(hass, cp, 8, 13_500, at=stop + HOUR)
    (session,) = (await get_sessions(hass, **wide_range()))["sessions"]
    assert (session["transaction_id"], session["id_tag"], session["energy_kwh"]) == (8, "TAG2", 1.0)


async def test_old_sessions_go_at_load_and_daily(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """Three years (1096 days) are kept; older sessions are dropped when HA starts and at the
    daily clean-up (04:07), and the history is written without them."""
    now = dt_util.utcnow()
    ledger = Ledger(max_age=timedelta(days=10_000))
    for tx, age in ((1, timedelta(days=1097)), (2, timedelta(days=1095, hours=12))):
        start = now - age
        ledger.start_session("CP1", 1, tx, start, Tariff("EUR"), meter_start_wh=0)
        ledger.end_session("CP1", tx, start + HOUR, meter_stop_wh=1000)
    entry = make_entry()
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    hass_storage[key] = {"version": 2, "minor_version": 1, "key": key, "data": ledger.as_dict()}
    await setup_entry(hass, entry)
    everything = {"start": "2020-01-01", "end": (now + HOUR).isoformat()}
    assert [s["transaction_id"] for s in (await get_sessions(hass, **everything))["sessions"]] == [
        2
    ]
    next_clean_up = dt_util.start_of_local_day(dt_util.now() + timedelta(days=1)) + timedelta(
        hours=4, minutes=7
    )
    freezer.move_to(next_clean_up)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert (await get_sessions(hass, **everything))["sessions"] == []
    assert hass_storage[key]["data"]["sessions"] == []
