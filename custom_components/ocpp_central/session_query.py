"""Which sessions `get_sessions` and the CSV export ask for, and a session as plain data.

The filters: a time range (`start`, `end`: dates or datetimes), optionally a charger or
connector device, optionally an id tag. A session counts in the range when it starts in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .central import CentralSystem
from .const import DOMAIN
from .core.ledger import SessionRecord
from .service_helpers import loaded_centrals, resolve_device_id

_MAX_TEXT = 64
# Years a time may name: beyond them, converting between time zones overflows.
_MIN_YEAR, _MAX_YEAR = 1970, 9998
# Sessions turned into plain data between two turns of the event loop: all 10,000 at once
# would hold the loop for about a second (reading every session's periods).
BATCH = 250


def when(value: Any) -> date | datetime:
    """A date or a datetime (or its ISO 8601 text), for a schema; vol.Invalid otherwise."""
    if isinstance(value, str) and len(value) <= _MAX_TEXT:
        text = value.strip()
        value = dt_util.parse_date(text) or dt_util.parse_datetime(text) or value
    if isinstance(value, date) and _MIN_YEAR <= value.year <= _MAX_YEAR:
        return value
    raise vol.Invalid("expected a date (YYYY-MM-DD) or a date and time (ISO 8601)")


def range_start(value: date | datetime) -> datetime:
    """A range's start: a date is its local midnight; a time without offset is local."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_local())
    return datetime.combine(value, time(), _local())


def range_end(value: date | datetime) -> datetime:
    """A range's end (exclusive): a date includes that whole day (ends at the next midnight)."""
    if isinstance(value, datetime):
        return range_start(value)
    return datetime.combine(value + timedelta(days=1), time(), _local())


def _local() -> tzinfo:
    return dt_util.get_default_time_zone()


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """What to look for, in which central systems' ledgers."""

    start: datetime
    end: datetime
    id_tag: str | None
    # Per central system: the charger (None: every one) and connector (None: every one).
    targets: tuple[tuple[CentralSystem, str | None, int | None], ...]

    def sessions(self) -> list[SessionRecord]:
        """The matching sessions, oldest first (an id tag matches whatever its case)."""
        records: list[SessionRecord] = []
        tag = self.id_tag.upper() if self.id_tag is not None else None
        for central, charger_id, connector_id in self.targets:
            records.extend(
                record
                for record in central.ledger.ledger.sessions(
                    self.start,
                    self.end,
                    charger_ids=None if charger_id is None else (charger_id,),
                    connector_id=connector_id,
                )
                if tag is None or (record.id_tag is not None and record.id_tag.upper() == tag)
            )
        records.sort(key=lambda record: record.start)
        return records


def build_query(
    hass: HomeAssistant,
    start: date | datetime | None,
    end: date | datetime | None,
    device_id: str | None = None,
    id_tag: str | None = None,
) -> SessionQuery:
    """The query for these filters; ServiceValidationError (translated) for a bad one.

    A missing start or end leaves that side of the range open (the CSV export allows it).
    """
    begin = range_start(start) if start is not None else datetime.min.replace(tzinfo=dt_util.UTC)
    until = range_end(end) if end is not None else datetime.max.replace(tzinfo=dt_util.UTC)
    if until <= begin:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="end_before_start",
            translation_placeholders={"start": str(start), "end": str(end)},
        )
    if device_id is not None:
        central, charger, connector_id = resolve_device_id(hass, device_id, 0)
        targets: tuple[tuple[CentralSystem, str | None, int | None], ...] = (
            (central, charger.charger_id, connector_id or None),
        )
    else:
        targets = tuple((central, None, None) for central in loaded_centrals(hass))
        if not targets:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return SessionQuery(begin, until, id_tag, targets)


def session_data(record: SessionRecord, tz: tzinfo) -> dict[str, Any]:
    """One session for a response: times in ISO 8601 in `tz`, energy per price period."""
    return {
        "charger_id": record.charger_id,
        "connector_id": record.connector_id,
        "transaction_id": record.transaction_id,
        "id_tag": record.id_tag,
        "id_tag_name": record.id_tag_name,
        "user_id": record.user_id,
        "user_name": record.user_name,
        "start": _iso(record.start, tz),
        "end": _iso(record.end, tz) if record.end is not None else None,
        "energy_kwh": record.energy_kwh,
        "cost": record.cost,
        "currency": record.currency,
        "priced": str(record.priced),
        "priced_cost": record.priced_cost,
        "unpriced_kwh": record.unpriced_kwh,
        "meter_start_wh": record.meter_start_wh,
        "meter_stop_wh": record.meter_stop_wh,
        "stop_reason": record.stop_reason,
        "periods": [
            {
                "start": _iso(period.start, tz),
                "end": _iso(period.end, tz),
                "energy_kwh": round(period.kwh, 3),
                "price": period.price,
            }
            for period in record.periods
        ],
    }


def _iso(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds")


async def each_in_turn[T, R](items: Sequence[T], make: Callable[[T], R]) -> list[R]:
    """`make(item)` for every item, letting the event loop run between batches.

    In the loop rather than in a worker thread: a running session changes as readings
    arrive, and an ended one reads its periods from storage when first asked for.
    """
    results: list[R] = []
    for first in range(0, len(items), BATCH):
        results.extend(make(item) for item in items[first : first + BATCH])
        if first + BATCH < len(items):
            await asyncio.sleep(0)
    return results
