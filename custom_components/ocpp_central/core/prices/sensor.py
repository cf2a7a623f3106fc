"""A price sensor of any of the shapes we read: its attributes say which integration made it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from .energidataservice import parse_energidataservice
from .nordpool_sensor import parse_nordpool_sensor
from .period import PriceParse
from .price_list import parse_price_list

_DAY_LISTS = ("raw_today", "raw_tomorrow")
_MAX_CURRENCY = 3


def parse_price_sensor(
    attributes: Mapping[str, Any], *, default_tz: tzinfo | None = None
) -> PriceParse:
    """Today's and tomorrow's periods of a Nord Pool, Energi Data Service or template sensor.

    Both integrations name their lists `raw_today` / `raw_tomorrow`; Energi Data Service's
    entries start at `hour`, Nord Pool's carry a `value`. Anything else is read as a generic
    list (`prices`, `data` …).
    """
    first = _first_entry(attributes)
    if first is not None and "hour" in first:
        return parse_energidataservice(attributes, default_tz=default_tz)
    if first is not None and "value" in first:
        return parse_nordpool_sensor(attributes, default_tz=default_tz)
    return parse_price_list(attributes, default_tz=default_tz)


def sensor_currency(attributes: Mapping[str, Any]) -> str | None:
    """The ISO 4217 currency a price sensor names (its `currency`, or its unit's "SEK/kWh").

    None when it names none, or only a sub-unit ("öre/kWh"): which currency that is, the
    sensor does not say.
    """
    for text in (attributes.get("currency"), _unit_currency(attributes.get("unit_of_measurement"))):
        if (
            isinstance(text, str)
            and len(text) == _MAX_CURRENCY
            and text.isascii()
            and text.isalpha()
        ):
            return text.upper()
    return None


def _unit_currency(unit: object) -> str | None:
    if not isinstance(unit, str) or "/" not in unit:
        return None
    return unit.partition("/")[0].strip()


def _first_entry(attributes: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for name in _DAY_LISTS:
        entries = attributes.get(name)
        if isinstance(entries, list | tuple):
            for entry in entries:
                if isinstance(entry, Mapping):
                    return entry
    return None
