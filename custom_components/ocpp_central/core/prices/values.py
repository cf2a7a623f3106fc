"""Bounded readers for the numbers, times and units that price sources (and chargers) hand us.

Every reader returns None for anything it cannot trust instead of raising: price data comes from
other integrations and templates, and one bad entry must not cost the whole day's prices.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
import math

# Longer strings are not times or numbers, whatever they claim.
_MAX_TEXT = 64

# Energy unit of a price -> factor turning it into a price per kWh.
_PER_KWH = {"kwh": 1.0, "mwh": 1 / 1000, "wh": 1000.0}
# Sub-units of currencies the Nordic and European sources print (lowercase).
_CENT_NAMES = frozenset({"öre", "øre", "ore", "c", "ct", "cent", "cents", "¢", "snt"})


def read_number(value: object) -> float | None:
    """A finite number from a number or a numeric string; never a bool."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            return None
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def read_time(value: object, default_tz: tzinfo | None = None) -> datetime | None:
    """An aware datetime (in UTC) from a datetime or an ISO 8601 string.

    A time without an offset is placed in `default_tz` when given (the user's time zone) and
    refused otherwise: guessing would put the price in the wrong hour.
    """
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            return None
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        if default_tz is None:
            return None
        value = value.replace(tzinfo=default_tz)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset
        return None


def unit_factor(unit: object) -> float | None:
    """The factor turning a price in `unit` into a price per kWh in the main currency unit.

    `unit` is what sources print: "SEK/kWh", "öre/kWh", "EUR/MWh", or just "kWh". Returns None
    for a unit we cannot read, so the caller can fall back to what the source documents.
    """
    if not isinstance(unit, str) or not unit or len(unit) > _MAX_TEXT:
        return None
    currency, _, energy = unit.strip().rpartition("/")
    per_kwh = _PER_KWH.get(energy.strip().lower())
    if per_kwh is None:
        return None
    return per_kwh / 100 if currency.strip().lower() in _CENT_NAMES else per_kwh
