"""Price sources as periods: each documented shape, and garbage in every parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.ocpp_central.core.prices import (
    PriceParse,
    PricePeriod,
    merge,
    parse_energidataservice,
    parse_nordpool_action,
    parse_nordpool_sensor,
    parse_price_list,
)
from tests.core_helpers import (  # noqa: F401 (fixtures)
    auto_enable_custom_integrations,
    local,
    loopback_sockets,
    price_fixture,
    utc,
)


def assert_clean(parse: PriceParse) -> None:
    """Sorted, non-overlapping, aware UTC periods, each with a positive length."""
    for period in parse.periods:
        assert period.start.tzinfo is UTC
        assert period.end > period.start
    for earlier, later in zip(parse.periods, parse.periods[1:], strict=False):
        assert earlier.end <= later.start


# --- each source in its documented shape ---------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "parser", "count", "length", "first", "dropped"),
    [
        # Nord Pool custom: hourly, SEK/kWh, today + tomorrow.
        ("nordpool_sensor_hourly", parse_nordpool_sensor, 48, 60, 0.303, {}),
        # 15 minutes in öre (price_in_cents); tomorrow's placeholders not valid yet.
        ("nordpool_sensor_quarter_cents", parse_nordpool_sensor, 96, 15, 0.303, {"not_valid": 96}),
        # Energi Data Service: {hour, price}, no end: the hour's length is inferred.
        ("energidataservice_hourly", parse_energidataservice, 48, 60, 0.636, {}),
        # 15 minutes in øre, tomorrow still None.
        ("energidataservice_quarter_cent", parse_energidataservice, 96, 15, 0.6363, {}),
    ],
)
def test_sensor_shapes(
    fixture: str,
    parser: Callable[[dict[str, Any]], PriceParse],
    count: int,
    length: int,
    first: float,
    dropped: dict[str, int],
) -> None:
    """Every documented sensor shape becomes per-kWh periods of the right length."""
    parse = parser(price_fixture(fixture))
    assert_clean(parse)
    assert len(parse.periods) == count
    assert {p.end - p.start for p in parse.periods} == {timedelta(minutes=length)}
    assert parse.periods[0].start == utc(2026, 1, 13, 23)  # local midnight in CET
    assert parse.periods[0].price == pytest.approx(first)
    assert parse.dropped == dropped


def test_nordpool_action_today_and_tomorrow_merge() -> None:
    """HA core's action answers per area in currency/MWh; two days merge into one list."""
    today = parse_nordpool_action(price_fixture("nordpool_action_today"), "SE3")
    tomorrow = parse_nordpool_action(price_fixture("nordpool_action_tomorrow"), "SE3")
    both = merge([tomorrow, today])
    assert_clean(both)
    assert len(both.periods) == 192
    first = both.periods[0]
    assert (first.start, first.end) == (utc(2026, 1, 13, 23), utc(2026, 1, 13, 23, 15))
    assert first.price == pytest.approx(0.303)  # 303 SEK/MWh
    assert both.periods[-1].end == utc(2026, 1, 15, 23)
    se4 = parse_nordpool_action(price_fixture("nordpool_action_today"), "se4")
    assert se4.periods[0].price == pytest.approx(0.303 * 1.3, abs=1e-3)


@pytest.mark.parametrize(
    ("response", "area", "count", "dropped"),
    [
        (
            {
                "SE3": [
                    {
                        "start": "2026-01-14T00:00:00+00:00",
                        "end": "2026-01-14T00:15:00+00:00",
                        "price": 800,
                    }
                ]
            },
            None,
            1,
            {},
        ),
        ({"SE3": [], "SE4": []}, None, 0, {"missing": 1}),  # several areas, none chosen
        ({"SE3": []}, "FI", 0, {"missing": 1}),
        ({"SE3": "nope"}, "SE3", 0, {"not_a_list": 1}),
        ("not a dict", None, 0, {"not_a_list": 1}),
        (None, "SE3", 0, {"not_a_list": 1}),
        (
            {
                "SE3": [
                    {
                        "start": "2026-01-14T00:00:00+00:00",
                        "end": "2026-01-14T00:15:00+00:00",
                        "price": None,
                    }
                ]
            },
            "SE3",
            0,
            {"bad_price": 1},
        ),
        # 4000 EUR/MWh is the market cap: 4 per kWh is fine; 1e12 per MWh is not.
        (
            {
                "SE3": [
                    {
                        "start": "2026-01-14T00:00:00+00:00",
                        "end": "2026-01-14T00:15:00+00:00",
                        "price": 1e12,
                    }
                ]
            },
            "SE3",
            0,
            {"bad_price": 1},
        ),
    ],
)
def test_nordpool_action_bad_responses(
    response: object, area: str | None, count: int, dropped: dict[str, int]
) -> None:
    """A response we cannot use yields what is valid and says what it dropped; never raises."""
    parse = parse_nordpool_action(response, area)
    assert len(parse.periods) == count
    assert parse.dropped == dropped


def test_energidataservice_forecast_only_after_real_prices() -> None:
    """Carnot's forecast is opt-in and never replaces a real price."""
    attributes = price_fixture("energidataservice_hourly")
    assert len(parse_energidataservice(attributes).periods) == 48
    parse = parse_energidataservice(attributes, include_forecast=True)
    assert_clean(parse)
    assert len(parse.periods) == 48 + 48  # tomorrow's forecast hours are superseded
    assert parse.dropped == {"superseded": 24}
    assert parse.periods[48].start == utc(2026, 1, 15, 23)


def test_dst_days_keep_their_hours() -> None:
    """A 25-hour and a 23-hour local day give 25 and 23 one-hour periods, back to back."""
    october = parse_nordpool_sensor(price_fixture("nordpool_sensor_dst_october"))
    day = [p for p in october.periods if p.start >= local(2025, 10, 26)]
    assert len(day) == 25
    assert_clean(october)
    # The two 02:00 hours are distinct instants.
    assert [p.start for p in day if p.price == 0.051] == [
        utc(2025, 10, 26, 0),
        utc(2025, 10, 26, 1),
    ]
    march = parse_energidataservice(price_fixture("energidataservice_dst_march"))
    day = [p for p in march.periods if p.start >= local(2026, 3, 29)]
    assert len(day) == 23
    assert all(p.end - p.start == timedelta(hours=1) for p in march.periods)
    assert all(a.end == b.start for a, b in zip(march.periods, march.periods[1:], strict=False))


def test_template_list_with_garbage() -> None:
    """A template's list: ends inferred, garbage dropped and counted, the rest kept."""
    parse = parse_price_list(price_fixture("template_prices"))
    assert_clean(parse)
    assert parse.dropped == {"bad_time": 1, "bad_price": 3, "bad_entry": 1, "overlap": 1}
    assert len(parse.periods) == 96 - 5
    # The entry after a dropped one keeps its own 15 minutes: no period swallows a hole.
    assert {p.end - p.start for p in parse.periods} == {timedelta(minutes=15)}


@pytest.mark.parametrize(
    ("attributes", "dropped"),
    [
        ({"raw_today": "garbage", "raw_tomorrow": 17}, {"not_a_list": 2}),
        ({"raw_today": [None, 1, "x", {}], "raw_tomorrow": None}, {"bad_entry": 3, "bad_time": 1}),
        (
            {
                "raw_today": [
                    {
                        "start": "2026-01-14T00:00:00+01:00",
                        "end": "2026-01-14T01:00:00+01:00",
                        "value": None,
                    }
                ]
            },
            {"bad_price": 1},
        ),
        (
            {
                "raw_today": [
                    {
                        "start": "2026-01-14T00:00:00+01:00",
                        "end": "2026-01-14T01:00:00+01:00",
                        "value": float("inf"),
                    }
                ]
            },
            {"bad_price": 1},
        ),
        (
            {
                "raw_today": [
                    {"start": datetime(2026, 1, 14), "end": "2026-01-14T01:00:00+01:00", "value": 1}
                ]
            },
            {"bad_time": 1},
        ),
        ({}, {}),
    ],
)
def test_nordpool_sensor_garbage(attributes: dict[str, Any], dropped: dict[str, int]) -> None:
    """Whatever the attributes hold, the parser returns (and counts what it dropped)."""
    parse = parse_nordpool_sensor(attributes)
    assert parse.periods == ()
    assert parse.dropped == dropped


@pytest.mark.parametrize(
    ("attributes", "dropped"),
    [
        ({"raw_today": "garbage", "forecast": {}}, {"not_a_list": 2}),
        (
            {
                "raw_today": [
                    {"hour": "yesterday", "price": 1},
                    {"hour": "2026-01-14T00:00:00+01:00", "price": "cheap"},
                ]
            },
            {"bad_time": 1, "bad_price": 1},
        ),
        (
            {
                "raw_today": None,
                "raw_tomorrow": [{"hour": "2026-01-15T00:00:00+01:00", "price": 1}],
                "tomorrow_valid": False,
            },
            {"not_valid": 1},
        ),
        (
            {
                "raw_today": [
                    {"hour": "2026-01-14T00:00:00+01:00", "price": 1},
                    {"hour": "2026-01-14T00:00:00+01:00", "price": 2},
                ]
            },
            {"overlap": 1},
        ),
    ],
)
def test_energidataservice_garbage(attributes: dict[str, Any], dropped: dict[str, int]) -> None:
    """Garbage, duplicates and unconfirmed days are dropped and counted."""
    parse = parse_energidataservice(attributes, include_forecast=True)
    assert parse.dropped == dropped
    assert len(parse.periods) <= 1


def test_nordpool_sensor_datetimes_and_units() -> None:
    """In-memory attributes hold datetimes, not strings; MWh and Wh sensors are scaled."""
    entry = {"start": local(2026, 1, 14, 1), "end": local(2026, 1, 14, 2), "value": 450.0}
    mwh = parse_nordpool_sensor({"unit": "MWh", "raw_today": [entry]})
    assert mwh.periods == (PricePeriod(utc(2026, 1, 14), utc(2026, 1, 14, 1), 0.45),)
    wh = parse_nordpool_sensor({"unit": "Wh", "raw_today": [dict(entry, value=0.00045)]})
    assert wh.periods[0].price == pytest.approx(0.45)
    # No `unit`: the unit of measurement decides (and already says öre).
    ore = parse_nordpool_sensor(
        {"unit_of_measurement": "Öre/kWh", "raw_today": [dict(entry, value=45)]}
    )
    assert ore.periods[0].price == pytest.approx(0.45)
