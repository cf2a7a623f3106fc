"""clock.parse_datetime reads a charger's timestamp as Home Assistant's dt.parse_datetime does
(the OCPP layer runs without Home Assistant, and must not read times differently)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.util import dt as dt_util
import pytest

from custom_components.ocpp_central.core.clock import parse_datetime

CASES = [
    "2026-01-15T10:00:00Z",
    "2026-01-15T10:00:00+01:00",
    "2026-01-15T10:00:00.123456789Z",
    "20260115T100000Z",
    "2026-01",
    "2026-01-15 10:00",
    "2026-1-5T3:04:05Z",  # one-digit fields: only the lenient form takes them
    "2026-1-5T3:04:05.5+0530",
    "2026-1-5T3:04:05-05",
    "2026-1-5T3:04:05.1234567890123Z",  # more than twelve fractional digits
    "2026-1-5T3:04Z\n",
    "2026-1-5t3:04:05Z",
    "2026-01-15T25:00:00Z",  # well formed, no such time
    "2026-13-05T03:04:05Z",
    "yesterday",
    "",
    "2026-01-15T10:00:00+25:00",
]


def _read(
    parse: Callable[[str], datetime | None], text: str
) -> tuple[str, datetime | None, object]:
    try:
        parsed = parse(text)
    except ValueError as err:
        return ("ValueError", None, type(err))
    return ("ok", parsed, parsed.utcoffset() if parsed is not None else None)


@pytest.mark.parametrize("text", CASES)
def test_reads_times_as_home_assistant(text: str) -> None:
    assert _read(parse_datetime, text) == _read(dt_util.parse_datetime, text)
