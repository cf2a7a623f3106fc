"""The hub's price source: a price sensor or Home Assistant's Nord Pool action, kept current."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_central.core.prices import parse_price_sensor, sensor_currency
from custom_components.ocpp_central.price_source import PriceSource

from .helpers import central_system, make_entry, setup_entry
from .ledger_helpers import PRICE_SENSOR, nordpool_attributes

START = datetime(2026, 3, 2, 0, 0, tzinfo=dt_util.UTC)


def source(entry: MockConfigEntry) -> PriceSource:
    """The hub's price source: its small API is what smart charging's planner uses too."""
    return central_system(entry).prices


@pytest.mark.parametrize(
    ("attributes", "prices", "currency"),
    [
        # Nord Pool (HACS): {start, end, value}, in cents here.
        (
            {
                "raw_today": [
                    {
                        "start": "2026-03-02T01:00:00+01:00",
                        "end": "2026-03-02T02:00:00+01:00",
                        "value": 150,
                    }
                ],
                "price_in_cents": True,
                "currency": "SEK",
            },
            [(START, START + timedelta(hours=1), 1.5)],
            "SEK",
        ),
        # Energi Data Service: {hour, price}, 15-minute periods, the currency in the unit.
        (
            {
                "raw_today": [
                    {"hour": "2026-03-02T00:00:00+00:00", "price": 2.0},
                    {"hour": "2026-03-02T00:15:00+00:00", "price": 3.0},
                ],
                "unit_of_measurement": "DKK/kWh",
            },
            [
                (START, START + timedelta(minutes=15), 2.0),
                (START + timedelta(minutes=15), START + timedelta(minutes=30), 3.0),
            ],
            "DKK",
        ),
        # A template sensor: a list under `prices`, per MWh; öre names no currency.
        (
            {
                "prices": [
                    {"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z", "price": 500}
                ],
                "unit_of_measurement": "EUR/MWh",
            },
            [(START, START + timedelta(hours=1), 0.5)],
            "EUR",
        ),
        ({"prices": [], "unit_of_measurement": "öre/kWh"}, [], None),
        ({"raw_today": "garbage", "currency": "kronor"}, [], None),
        ({}, [], None),
    ],
)
def test_a_price_sensor_of_any_shape(
    attributes: dict[str, Any], prices: list[tuple[datetime, datetime, float]], currency: str | None
) -> None:
    parse = parse_price_sensor(attributes)
    assert [(p.start, p.end, p.price) for p in parse.periods] == prices
    assert sensor_currency(attributes) == currency


async def test_a_price_sensor_is_followed(hass: HomeAssistant) -> None:
    hass.config.currency = "SEK"
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    hass.states.async_set(PRICE_SENSOR, "1.0", nordpool_attributes([(start, 1.0)]))
    entry = make_entry(price_sensor=PRICE_SENSOR, price_surcharge="0,45")
    await setup_entry(hass, entry)
    prices = source(entry)
    assert [p.price for p in prices.periods] == [1.0]
    assert prices.settings.surcharge == 0.45  # read as a number, never added to the periods
    told: list[int] = []
    prices.subscribe(lambda: told.append(len(prices.periods)))

    # A new hour's state with the same list: nothing changed for listeners.
    hass.states.async_set(PRICE_SENSOR, "1.1", nordpool_attributes([(start, 1.0)]))
    await hass.async_block_till_done()
    assert told == []
    # Tomorrow's list arrives, with one entry the source got wrong.
    attributes = nordpool_attributes([(start, 1.0), (start + timedelta(hours=1), 2.0)])
    attributes["raw_today"].append({"start": "soon", "end": None, "value": 3})
    hass.states.async_set(PRICE_SENSOR, "1.1", attributes)
    await hass.async_block_till_done()
    assert told == [2]
    assert prices.diagnostics()["dropped"] == {"bad_time": 1}
    # Unavailable for a while: what it said still holds.
    hass.states.async_set(PRICE_SENSOR, "unavailable", {})
    await hass.async_block_till_done()
    assert len(prices.periods) == 2 and told == [2]
    assert prices.diagnostics()["last_error"] == "unavailable"
    # Prices in another currency than Home Assistant's never price energy.
    hass.states.async_set(PRICE_SENSOR, "1.1", nordpool_attributes([(start, 1.0)], currency="EUR"))
    await hass.async_block_till_done()
    assert prices.periods and prices.periods_for_cost() == ()
    assert prices.diagnostics()["source_currency"] == "EUR"


async def test_settings_change_without_a_reload(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    prices = source(entry)
    assert prices.settings.kind == "none"
    told: list[str] = []
    prices.subscribe(lambda: told.append(prices.settings.kind))
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "fixed_price": 1.5, "price_surcharge": "lots"}
    )
    await hass.async_block_till_done()
    assert told == ["fixed"]
    assert (prices.settings.fixed_price, prices.settings.surcharge) == (1.5, 0.0)
    assert central_system(entry).prices is prices  # the same central system: no reload


class FakeNordPool:
    """Home Assistant's Nord Pool action as the tests need it: today's prices, and
    tomorrow's only once `published` (before that it fails like the real one)."""

    def __init__(self, hass: HomeAssistant, **entry_data: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.published = False
        self.entry = MockConfigEntry(domain="nordpool", data=entry_data)
        self.entry.add_to_hass(hass)

    def register(self, hass: HomeAssistant) -> None:
        hass.services.async_register(
            "nordpool", "get_prices_for_date", self._answer, supports_response=SupportsResponse.ONLY
        )

    async def _answer(self, call: ServiceCall) -> ServiceResponse:
        self.calls.append(dict(call.data))
        day = date.fromisoformat(call.data["date"])
        if day > dt_util.now().date() and not self.published:
            raise ServiceValidationError("No prices for that date yet")
        start = dt_util.start_of_local_day(day).astimezone(dt_util.UTC)
        return {
            "SE3": [
                {
                    "start": (start + timedelta(hours=h)).isoformat(),
                    "end": (start + timedelta(hours=h + 1)).isoformat(),
                    "price": 1000.0 + 10 * h,  # per MWh
                }
                for h in range(24)
            ]
        }


async def test_nord_pool_today_then_tomorrow_after_publication(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    hass.config.currency = "SEK"
    morning = dt_util.start_of_local_day() + timedelta(hours=10)
    freezer.move_to(morning)
    nordpool = FakeNordPool(hass, areas=["SE3", "SE4"], currency="EUR")
    nordpool.register(hass)
    entry = make_entry(nordpool_entry=nordpool.entry.entry_id)
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    prices = source(entry)
    today = morning.date()
    assert [call["date"] for call in nordpool.calls] == [
        today.isoformat(),
        (today + timedelta(days=1)).isoformat(),
    ]
    # One area (the first), in Home Assistant's currency.
    assert nordpool.calls[0]["areas"] == ["SE3"] and nordpool.calls[0]["currency"] == "SEK"
    assert len(prices.periods) == 24 and prices.periods[0].price == 1.0
    assert prices.periods_for_cost() == prices.periods

    told: list[int] = []
    prices.subscribe(lambda: told.append(len(prices.periods)))
    for hour in (11, 12):  # before publication: not asked again
        freezer.move_to(morning.replace(hour=hour, second=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert len(nordpool.calls) == 2
    freezer.move_to(morning.replace(hour=13, second=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(nordpool.calls) == 3 and told == []  # asked, still not published
    nordpool.published = True
    freezer.move_to(morning.replace(hour=14, second=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert told == [48]
    assert prices.periods[-1].end == dt_util.start_of_local_day(today + timedelta(days=2))
    # The next day: yesterday's prices go, today's are the ones fetched yesterday.
    freezer.move_to(dt_util.start_of_local_day(today + timedelta(days=1)) + timedelta(seconds=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(nordpool.calls) == 4 and told == [48, 24]


async def test_nord_pool_not_loaded_yet_is_asked_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=8))
    nordpool = FakeNordPool(hass, areas=["SE3"], currency="EUR")
    entry = make_entry(nordpool_entry=nordpool.entry.entry_id)
    await setup_entry(hass, entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    prices = source(entry)
    assert prices.periods == ()
    assert prices.diagnostics()["last_error"]
    nordpool.register(hass)  # Nord Pool finished loading
    freezer.tick(timedelta(minutes=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(prices.periods) == 24
    assert "currency" not in nordpool.calls[0]  # the entry's currency is HA's (EUR)
