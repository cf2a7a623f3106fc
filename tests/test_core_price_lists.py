"""The generic price list (template sensors) entry by entry, and the shared readers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from custom_components.ocpp_central.core.prices import PricePeriod, add_surcharge, parse_price_list
from custom_components.ocpp_central.core.prices.values import read_number, read_time, unit_factor
from tests.core_helpers import (  # noqa: F401 (fixtures)
    STOCKHOLM,
    auto_enable_custom_integrations,
    loopback_sockets,
    utc,
)


@pytest.mark.parametrize(
    ("attributes", "keys", "prices", "dropped"),
    [
        # end missing: up to the next start
        (
            {
                "prices": [
                    {"start": "2026-01-14T00:00+00:00", "value": 1},
                    {"start": "2026-01-14T01:00+00:00", "value": 2},
                ]
            },
            None,
            [1, 2],
            {},
        ),
        # end missing, the next start comes sooner than the usual 15 minutes
        (
            {
                "prices": [
                    {"start": "2026-01-14T00:00+00:00", "value": 1},
                    {"start": "2026-01-14T00:15+00:00", "value": 2},
                    {"start": "2026-01-14T00:30+00:00", "value": 3},
                    {"start": "2026-01-14T00:40+00:00", "value": 4},
                ]
            },
            None,
            [1, 2, 3, 4],
            {},
        ),
        # a different attribute, named by the caller
        (
            {
                "today": [
                    {
                        "start": "2026-01-14T00:00+00:00",
                        "end": "2026-01-14T00:30+00:00",
                        "price": "0,5",
                    }
                ]
            },
            ["today"],
            [0.5],
            {},
        ),
        ({}, ["today"], [], {"missing": 1}),
        ({"data": {"start": "x"}}, None, [], {"not_a_list": 1}),
        # SEK/MWh and öre/kWh are converted to per kWh
        (
            {
                "unit_of_measurement": "SEK/MWh",
                "data": [{"start": "2026-01-14T00:00+00:00", "price": 500}],
            },
            None,
            [0.5],
            {},
        ),
        (
            {
                "unit_of_measurement": "öre/kWh",
                "data": [{"start": "2026-01-14T00:00+00:00", "price": 50}],
            },
            None,
            [0.5],
            {},
        ),
        # negative prices are prices
        ({"prices": [{"start": "2026-01-14T00:00+00:00", "price": -0.12}]}, None, [-0.12], {}),
        # end before start, a year-long period, and an end that is not a time
        (
            {
                "prices": [
                    {
                        "start": "2026-01-14T02:00+00:00",
                        "end": "2026-01-14T01:00+00:00",
                        "price": 1,
                    },
                    {
                        "start": "2026-01-14T03:00+00:00",
                        "end": "2027-01-14T03:00+00:00",
                        "price": 1,
                    },
                    {"start": "2026-01-14T04:00+00:00", "end": 17, "price": 1},
                ]
            },
            None,
            [],
            {"bad_length": 2, "bad_time": 1},
        ),
        # naive times are refused without a time zone; inf and huge numbers are not prices
        (
            {
                "prices": [
                    {"start": "2026-01-14T00:00", "price": 1},
                    {"start": "2026-01-14T01:00+00:00", "price": float("inf")},
                    {"start": "2026-01-14T02:00+00:00", "price": 10**400},
                    {"start": "2026-01-14T03:00+00:00", "price": [1]},
                    {"start": "2026-01-14T04:00+00:00"},
                    {"start": "2026-01-14T05:00+00:00" + " " * 100, "price": 1},
                ]
            },
            None,
            [],
            {"bad_time": 2, "bad_price": 4},
        ),
    ],
)
def test_price_list_table(
    attributes: dict[str, Any], keys: list[str] | None, prices: list[float], dropped: dict[str, int]
) -> None:
    """The generic parser, entry by entry."""
    parse = parse_price_list(attributes, keys=keys)
    assert [p.price for p in parse.periods] == pytest.approx(prices)
    assert parse.dropped == dropped


def test_naive_times_in_the_given_zone() -> None:
    """A template that prints local times without offset works when the zone is given."""
    attributes = {"prices": [{"start": "2026-01-14T00:00", "end": "2026-01-14T01:00", "price": 1}]}
    parse = parse_price_list(attributes, default_tz=STOCKHOLM)
    assert parse.periods[0].start == utc(2026, 1, 13, 23)


def test_too_many_entries_are_cut() -> None:
    """A list beyond the bound is read up to the bound."""
    start = utc(2026, 1, 1)
    entries = [{"start": start + timedelta(minutes=5 * i), "price": 1.0} for i in range(3500)]
    parse = parse_price_list({"prices": entries})
    assert len(parse.periods) == 3000
    assert parse.dropped == {"too_many": 500}


# --- shared helpers ---------------------------------------------------------------------


def test_surcharge_is_added_per_kwh() -> None:
    """A fixed grid fee is added to every price (negative ones too); garbage is ignored."""
    periods = [
        PricePeriod(utc(2026, 1, 14), utc(2026, 1, 14, 1), -0.2),
        PricePeriod(utc(2026, 1, 14, 1), utc(2026, 1, 14, 2), 1.0),
    ]
    assert [p.price for p in add_surcharge(periods, 0.5)] == pytest.approx([0.3, 1.5])
    assert [p.price for p in add_surcharge(periods, float("nan"))] == [-0.2, 1.0]
    assert [p.price for p in add_surcharge(periods, 1e9)] == [-0.2, 1.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (" 2.5 ", 2.5),
        ("1,25", 1.25),
        (True, None),
        ("nan", None),
        ("1" * 100, None),
        (None, None),
        ([], None),
        (10**400, None),
    ],
)
def test_read_number(value: object, expected: float | None) -> None:
    """Numbers as sources send them; anything else is None."""
    assert read_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-14T01:00:00+01:00", utc(2026, 1, 14)),
        ("2026-01-14T00:00:00Z", utc(2026, 1, 14)),
        ("2026-01-14", None),  # a date without zone
        ("0001-01-01T00:00:00+01:00", None),  # out of range in UTC
        (1736812800, None),
        (None, None),
    ],
)
def test_read_time(value: object, expected: datetime | None) -> None:
    """Aware ISO times only, in UTC."""
    assert read_time(value) == expected


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("SEK/kWh", 1.0),
        ("EUR/MWh", 0.001),
        ("öre/kWh", 0.01),
        ("c/kWh", 0.01),
        ("kWh", 1.0),
        ("Wh", 1000.0),
        ("SEK", None),
        (None, None),
        ("€/GWh", None),
    ],
)
def test_unit_factor(unit: object, factor: float | None) -> None:
    """Units as sources print them, to a factor for per kWh."""
    assert unit_factor(unit) == (None if factor is None else pytest.approx(factor))
