"""Sessions in the ledger from real OCPP 1.6 chargers: energy, prices, cost, storage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import DOMAIN

from .charger import connected_charger
from .helpers import make_entry, meter_values, registry_entry, setup_entry, state_of
from .ledger_helpers import (
    HOUR,
    PRICE_SENSOR,
    get_sessions,
    hours_ago,
    parsed,
    set_prices,
    wide_range,
)
from .test_restart import send, start_transaction, stop_transaction


@pytest.fixture(autouse=True)
def swedish_crowns(hass: HomeAssistant) -> None:
    hass.config.currency = "SEK"


def cost_state(hass: HomeAssistant) -> Any:
    state = state_of(hass, "sensor", "CP1_1_session_cost")
    assert state is not None
    return state


async def test_session_across_a_price_change_is_priced_per_period(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """2 kWh at 1.00 and 1 kWh at 3.00, plus 0.50 surcharge each: 6.50 SEK, once all prices
    are known; the second hour's price arrives while the session runs."""
    first, second = hours_ago(3), hours_ago(2)
    set_prices(hass, [(first, 1.0)])
    entry = make_entry(price_sensor=PRICE_SENSOR, price_surcharge=0.5)
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        start = first + timedelta(minutes=30)
        tx = (await start_transaction(hass, cp, "TAG1", 10_000, at=start)).transaction_id
        await send(hass, cp, meter_values(transaction_id=tx, at=second, energy=12_000))
        await send(
            hass,
            cp,
            meter_values(transaction_id=tx, at=second + timedelta(minutes=20), energy=12_600),
        )
        state = cost_state(hass)
        assert state.state == "unknown"  # the second hour's price is not known yet
        assert state.attributes["priced"] == "partial"
        assert state.attributes["unit_of_measurement"] == "SEK"
        set_prices(hass, [(first, 1.0), (second, 3.0)])
        await hass.async_block_till_done()
        assert float(cost_state(hass).state) == pytest.approx(2 * 1.5 + 0.6 * 3.5)
        assert f"{DOMAIN}.{entry.entry_id}.sessions" not in hass_storage  # nothing ended yet
        await stop_transaction(hass, cp, tx, 13_000, at=second + timedelta(minutes=30))

    assert float(cost_state(hass).state) == 6.5
    assert cost_state(hass).attributes["priced"] == "priced"
    (session,) = (await get_sessions(hass, **wide_range()))["sessions"]
    assert session["energy_kwh"] == 3.0
    assert session["cost"] == 6.5
    assert (session["meter_start_wh"], session["meter_stop_wh"]) == (10_000, 13_000)
    assert [(p["energy_kwh"], p["price"]) for p in session["periods"]] == [(2.0, 1.5), (1.0, 3.5)]
    assert parsed(session["periods"][1]["start"]) == second
    # Written the moment the session ended, not later.
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}.sessions"]["data"]["sessions"]
    assert [(s["transaction_id"], s["cost"]) for s in stored] == [(tx, 6.5)]


async def test_a_session_without_any_price(hass: HomeAssistant) -> None:
    """No price source, no fixed price: the cost is unknown, never invented; the sensor is
    out of the dashboard's way until a price is set, then a primary entity."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    start = hours_ago(2)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        tx = (await start_transaction(hass, cp, "TAG1", 5_000, at=start)).transaction_id
        await stop_transaction(hass, cp, tx, 7_500, at=start + HOUR)
    assert cost_state(hass).state == "unknown"
    assert cost_state(hass).attributes["priced"] == "unpriced"
    category = registry_entry(hass, "sensor", "CP1_1_session_cost").entity_category
    assert category is EntityCategory.DIAGNOSTIC
    response = await get_sessions(hass, **wide_range())
    (session,) = response["sessions"]
    assert (session["cost"], session["priced"], session["unpriced_kwh"]) == (None, "unpriced", 2.5)
    assert response["totals"]["overall"]["cost"] is None
    assert response["totals"]["overall"]["unpriced_kwh"] == 2.5

    # A fixed price (no surcharge): new sessions are priced at it; the old one stays unpriced.
    hass.config_entries.async_update_entry(entry, options={**entry.options, "fixed_price": 2.0})
    await hass.async_block_till_done()
    assert registry_entry(hass, "sensor", "CP1_1_session_cost").entity_category is None
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        later = start + 2 * HOUR
        tx = (await start_transaction(hass, cp, "TAG1", 7_500, at=later)).transaction_id
        await stop_transaction(hass, cp, tx, 9_000, at=later + timedelta(minutes=30))
    assert cost_state(hass).state == "3.0"
    costs = [s["cost"] for s in (await get_sessions(hass, **wide_range()))["sessions"]]
    assert costs == [None, 3.0]


async def test_readings_do_not_write_the_ledger_store(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_storage: dict[str, Any]
) -> None:
    """The running session rides along in the central store; the history is written at the stop."""
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    start = hours_ago(1)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        tx = (await start_transaction(hass, cp, "TAG1", 1_000, at=start)).transaction_id
        for minute in range(1, 6):
            await send(
                hass,
                cp,
                meter_values(
                    transaction_id=tx,
                    at=start + timedelta(minutes=minute),
                    energy=1_000 + 100 * minute,
                ),
            )
        await hass.async_block_till_done()
        assert key not in hass_storage
        await stop_transaction(hass, cp, tx, 1_600, at=start + timedelta(minutes=6))
        assert [s["energy_kwh"] for s in hass_storage[key]["data"]["sessions"]] == [0.6]


async def test_offline_queued_stop_updates_the_right_session(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A charger that was offline delivers the stop of one session and the start of the next."""
    start = hours_ago(3)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        first = (await start_transaction(hass, cp, "TAG1", 20_000, at=start)).transaction_id
        await send(
            hass,
            cp,
            meter_values(transaction_id=first, at=start + timedelta(minutes=30), energy=21_000),
        )
    # Offline for hours; the queue arrives oldest first.
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await send(hass, cp, meter_values(transaction_id=first, at=start + HOUR, energy=22_000))
        await stop_transaction(
            hass, cp, first, 22_500, at=start + timedelta(minutes=70), reason="EVDisconnected"
        )
        second = (
            await start_transaction(hass, cp, "TAG2", 22_500, at=start + 2 * HOUR)
        ).transaction_id
        await send(
            hass,
            cp,
            meter_values(
                transaction_id=second, at=start + 2 * HOUR + timedelta(minutes=5), energy=22_700
            ),
        )
        # The same stop again (a charger that did not see our answer): the first stop wins.
        await stop_transaction(hass, cp, first, 99_000, at=start + 2 * HOUR)

    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [(s["transaction_id"], s["id_tag"], s["energy_kwh"]) for s in sessions] == [
        (first, "TAG1", 2.5),
        (second, "TAG2", 0.2),
    ]
    assert parsed(sessions[0]["end"]) == start + timedelta(minutes=70)
    assert sessions[0]["stop_reason"] == "EVDisconnected"
    assert sessions[1]["end"] is None


async def test_a_stop_lost_by_the_charger_ends_the_session_at_the_next_start(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    start = hours_ago(2)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        first = (await start_transaction(hass, cp, "TAG1", 0, at=start)).transaction_id
        await send(
            hass,
            cp,
            meter_values(transaction_id=first, at=start + timedelta(minutes=40), energy=4_000),
        )
        await start_transaction(hass, cp, "TAG1", 4_000, at=start + HOUR)
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [s["energy_kwh"] for s in sessions] == [4.0, 0.0]
    assert parsed(sessions[0]["end"]) == start + HOUR
    assert sessions[0]["stop_reason"] is None
