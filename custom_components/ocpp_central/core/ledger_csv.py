"""Sessions as CSV, for a spreadsheet or an employer's reimbursement.

RFC 4180 (comma, CRLF, double quotes around a field that needs them), one header row in the
order of CSV_COLUMNS, times in ISO 8601 with their offset in the time zone asked for, numbers
with a decimal point and no thousands separator. A text field that a spreadsheet would take for
a formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe: id tags
come from chargers, and a name like `=HYPERLINK(...)` must stay text.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
from datetime import datetime, tzinfo
import io

from .ledger_pricing import minor_units
from .ledger_record import SessionRecord

CSV_COLUMNS = (
    "start",
    "end",
    "charger_id",
    "connector_id",
    "transaction_id",
    "id_tag",
    "id_tag_name",
    "user_id",
    "user_name",
    "energy_kwh",
    "cost",
    "currency",
    "priced",
    "unpriced_kwh",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_csv(records: Iterable[SessionRecord], tz: tzinfo) -> str:
    """The sessions as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, dialect="excel")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(record, tz) for record in records)
    return out.getvalue()


def csv_row(record: SessionRecord, tz: tzinfo) -> list[str]:
    """One session's fields, in the order of CSV_COLUMNS."""
    cost = record.cost
    return [
        _time(record.start, tz),
        _time(record.end, tz),
        _text(record.charger_id),
        str(record.connector_id),
        _text(str(record.transaction_id)),
        _text(record.id_tag),
        _text(record.id_tag_name),
        _text(record.user_id),
        _text(record.user_name),
        f"{record.energy_kwh:.3f}",
        "" if cost is None else f"{cost + 0.0:.{minor_units(record.currency)}f}",
        _text(record.currency),
        str(record.priced),
        f"{record.unpriced_kwh:.3f}",
        _number(record.meter_start_wh),
        _number(record.meter_stop_wh),
        _text(record.stop_reason),
    ]


def _time(value: datetime | None, tz: tzinfo) -> str:
    return "" if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def _text(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float | None) -> str:
    """A meter value as plain decimal digits (no exponent, no trailing zeros)."""
    if value is None:
        return ""
    return f"{value:.3f}".rstrip("0").rstrip(".")
