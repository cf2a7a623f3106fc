"""Time for the model and the OCPP layer, without Home Assistant: now in UTC, and ISO 8601 text
read as Home Assistant's dt.parse_datetime reads it (so a charger's timestamp means the same
whichever layer looks at it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import re

import ciso8601

__all__ = ["UTC", "parse_datetime", "utcnow"]

# What the strict parser refuses but Home Assistant still takes: one-digit fields, at most
# six fractional digits kept of up to twelve, an offset as Z, ±HH, ±HHMM or ±HH:MM.
_LENIENT = re.compile(
    r"""
    (?P<year>\d{4}) - (?P<month>\d\d?) - (?P<day>\d\d?)
    [T\ ] (?P<hour>\d\d?) : (?P<minute>\d\d?)
    (?: : (?P<second>\d\d?) (?: \. (?P<fraction>\d{1,6}) \d{0,6} )? )?
    (?P<offset> Z | [+-]\d\d (?: :?\d\d )? )?
    $
    """,
    re.VERBOSE,
)


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def _offset(text: str | None) -> timezone | None:
    if text is None:
        return None
    if text == "Z":
        return UTC
    minutes = int(text[-2:]) if len(text) > 3 else 0
    offset = timedelta(hours=int(text[1:3]), minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 text as a datetime (with its offset, if it has one); None when it is no time
    at all. ValueError for a well-formed time that does not exist (hour 25)."""
    try:
        return ciso8601.parse_datetime(text)
    except (ValueError, IndexError):
        pass
    if (match := _LENIENT.match(text)) is None:
        return None
    fraction = match["fraction"]
    return datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"] or 0),
        int(fraction.ljust(6, "0")) if fraction else 0,
        tzinfo=_offset(match["offset"]),
    )
