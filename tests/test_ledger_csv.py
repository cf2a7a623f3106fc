"""Sessions as CSV (core/ledger_csv): columns, formats, quoting; parsed back with the csv module."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
import io
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_central.core.ledger import Ledger, SessionRecord, Tariff
from custom_components.ocpp_central.core.ledger_csv import CSV_COLUMNS, to_csv
from tests.test_ledger import Period

STOCKHOLM = ZoneInfo("Europe/Stockholm")
WINTER = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 21, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Plain Python: no Home Assistant instance (overrides the conftest's autouse fixture)."""


def session(
    ledger: Ledger,
    start: datetime,
    kwh: float,
    *,
    tx: int = 1,
    price: float | None = 1.5,
    currency: str = "SEK",
    end: bool = True,
    **who: str,
) -> SessionRecord:
    """A session charging `kwh` in its first hour, priced at `price` (or not at all)."""
    hour = start + timedelta(hours=1)
    prices = [] if price is None else [Period(start, hour, price)]
    record = ledger.start_session(
        "garage", 1, tx, start, Tariff(currency), meter_start_wh=1_000_000, prices=prices, **who
    )
    ledger.add_readings("garage", tx, [(hour, 1_000_000 + kwh * 1000)], now=hour)
    if end:
        ledger.end_session(
            "garage", tx, hour, meter_stop_wh=1_000_000 + kwh * 1000, stop_reason="EVDisconnected"
        )
    return record


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_header_is_the_documented_order() -> None:
    """docs/sessions.md documents these columns in this order; scripts rely on it."""
    assert parse(to_csv([], STOCKHOLM)) == [
        [
            "start", "end", "charger_id", "connector_id", "transaction_id", "id_tag",
            "id_tag_name", "user_id", "user_name", "energy_kwh", "cost", "currency", "priced",
            "unpriced_kwh", "meter_start_wh", "meter_stop_wh", "stop_reason",
        ]
    ]  # fmt: skip
    assert list(CSV_COLUMNS) == parse(to_csv([], STOCKHOLM))[0]


def test_a_row_field_by_field() -> None:
    ledger = Ledger()
    record = session(
        ledger, WINTER, 12.4, id_tag="04A2B3", id_tag_name="Anna's card", user_id="u1",
        user_name="Anna",
    )  # fmt: skip
    text = to_csv([record], STOCKHOLM)
    assert text.endswith("\r\n") and text.count("\r\n") == 2  # RFC 4180 line ends
    (row,) = csv.DictReader(io.StringIO(text, newline=""))
    assert row == {
        "start": "2026-01-15T22:30:00+01:00",
        "end": "2026-01-15T23:30:00+01:00",
        "charger_id": "garage",
        "connector_id": "1",
        "transaction_id": "1",
        "id_tag": "04A2B3",
        "id_tag_name": "Anna's card",
        "user_id": "u1",
        "user_name": "Anna",
        "energy_kwh": "12.400",
        "cost": "18.60",
        "currency": "SEK",
        "priced": "priced",
        "unpriced_kwh": "0.000",
        "meter_start_wh": "1000000",
        "meter_stop_wh": "1012400",
        "stop_reason": "EVDisconnected",
    }


@pytest.mark.parametrize(
    ("when", "tz", "start"),
    [
        (WINTER, STOCKHOLM, "2026-01-15T22:30:00+01:00"),
        (SUMMER, STOCKHOLM, "2026-07-15T23:30:00+02:00"),
        (SUMMER, UTC, "2026-07-15T21:30:00+00:00"),
        (WINTER, ZoneInfo("America/St_Johns"), "2026-01-15T18:00:00-03:30"),
    ],
)
def test_times_are_iso_8601_with_offset_in_the_zone_asked_for(
    when: datetime, tz: ZoneInfo, start: str
) -> None:
    (row,) = csv.DictReader(io.StringIO(to_csv([session(Ledger(), when, 1)], tz), newline=""))
    assert row["start"] == start
    assert datetime.fromisoformat(row["start"]) == when
    assert datetime.fromisoformat(row["end"]) == when + timedelta(hours=1)


@pytest.mark.parametrize(
    ("kwh", "price", "currency", "energy", "cost"),
    [
        (1234.567, 1000.0, "SEK", "1234.567", "1234567.00"),
        (0.0004, 1.0, "SEK", "0.000", "0.00"),
        (6.0, 30.4, "JPY", "6.000", "182"),
        (6.0, 0.0255, "KWD", "6.000", "0.153"),
        (2.0, -0.75, "EUR", "2.000", "-1.50"),
        (3.0, None, "EUR", "3.000", ""),
    ],
)
def test_numbers_have_a_decimal_point_and_no_separators(
    kwh: float, price: float | None, currency: str, energy: str, cost: str
) -> None:
    record = session(Ledger(), WINTER, kwh, price=price, currency=currency)
    (row,) = csv.DictReader(io.StringIO(to_csv([record], STOCKHOLM), newline=""))
    assert (row["energy_kwh"], row["cost"]) == (energy, cost)
    assert "," not in row["meter_stop_wh"] and " " not in row["meter_stop_wh"]


def test_a_running_and_an_unpriced_session() -> None:
    ledger = Ledger()
    running = session(ledger, WINTER, 2.0, tx=1, end=False)
    unpriced = session(ledger, SUMMER, 3.0, tx=2, price=None)
    rows = list(csv.DictReader(io.StringIO(to_csv([running, unpriced], UTC), newline="")))
    assert (rows[0]["end"], rows[0]["meter_stop_wh"], rows[0]["energy_kwh"]) == ("", "", "2.000")
    assert (rows[1]["cost"], rows[1]["priced"], rows[1]["unpriced_kwh"]) == (
        "",
        "unpriced",
        "3.000",
    )


NAMES = [
    "Anna, Bertil & Co",
    'The "company" car',
    "two\nlines",
    "windows\r\nline",
    "trailing space ",
    "Åsa Öberg — 東京",
    '",\n"',
    "",
]


def test_names_with_commas_quotes_and_newlines_round_trip() -> None:
    ledger = Ledger()
    records = [
        session(
            ledger, WINTER + timedelta(days=i), 1.0 + i, tx=i, id_tag=f"tag{i}", id_tag_name=name
        )
        for i, name in enumerate(NAMES)
    ]
    rows = list(csv.DictReader(io.StringIO(to_csv(records, STOCKHOLM), newline="")))
    assert [row["id_tag_name"] for row in rows] == NAMES
    for row, record in zip(rows, records, strict=True):
        assert datetime.fromisoformat(row["start"]) == record.start
        assert datetime.fromisoformat(row["end"]) == record.end
        assert float(row["energy_kwh"]) == record.energy_kwh
        assert float(row["cost"]) == record.cost
        assert float(row["meter_start_wh"]) == record.meter_start_wh
        assert row["transaction_id"] == str(record.transaction_id)


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx"])
def test_text_a_spreadsheet_would_run_as_a_formula_stays_text(name: str) -> None:
    record = session(Ledger(), WINTER, 1.0, id_tag=name, id_tag_name=name, user_name=name)
    (row,) = csv.DictReader(io.StringIO(to_csv([record], STOCKHOLM), newline=""))
    assert row["id_tag"] == row["id_tag_name"] == row["user_name"] == "'" + name
