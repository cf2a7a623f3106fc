"""Prices from a generic sensor: a list of {start, end?, price | value} under one attribute.

This is what template sensors built on the price integrations usually expose (and what other
price integrations look like too). A missing `end` means "until the next start", capped at the
list's typical period length so a hole in the data does not become one long cheap period.
Prices are taken per kWh unless the sensor's `unit_of_measurement` says otherwise
("SEK/MWh", "öre/kWh").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from .period import DROP_MISSING, EntryShape, PriceCollector, PriceParse
from .values import unit_factor

# Tried in order when the caller does not name the attribute; all that are lists are read.
PRICE_LIST_ATTRIBUTES = ("prices", "data", "raw_today", "raw_tomorrow")


def parse_price_list(
    attributes: Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
    default_tz: tzinfo | None = None,
) -> PriceParse:
    """Periods from the list(s) under `keys` (default: the usual attribute names)."""
    factor = unit_factor(attributes.get("unit_of_measurement")) or 1.0
    shape = EntryShape(
        start_keys=("start", "hour"),
        end_keys=("end",),
        price_keys=("price", "value"),
        factor=factor,
        default_tz=default_tz,
    )
    collector = PriceCollector()
    names = PRICE_LIST_ATTRIBUTES if keys is None else tuple(keys)
    found = False
    for name in names:
        if name in attributes:
            found = True
            collector.add(attributes[name], shape)
    if not found and keys is not None:
        collector.dropped[DROP_MISSING] += 1
    return collector.result()
