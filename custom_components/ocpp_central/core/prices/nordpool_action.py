"""Prices from Home Assistant core's Nord Pool integration: its `get_prices_for_date` action.

The response maps each area asked for to a list of {start, end, price}: start and end as ISO
strings in UTC, price in the entry's (or the asked) currency per MWh, straight from the market
(no VAT, no fees). One call covers one delivery day, so today and tomorrow are two calls; merge
them with `period.merge`. `get_price_indices_for_date` (newer HA) answers in the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .period import DROP_MISSING, DROP_NOT_A_LIST, EntryShape, PriceCollector, PriceParse

_PER_MWH = 1 / 1000


def parse_nordpool_action(response: object, area: str | None = None) -> PriceParse:
    """The periods for `area` (or the only area in the response) as prices per kWh."""
    collector = PriceCollector()
    if not isinstance(response, Mapping):
        collector.dropped[DROP_NOT_A_LIST] += 1
        return collector.result()
    entries: Any
    if area is not None:
        entries = response.get(area, response.get(area.upper()))
    elif len(response) == 1:
        entries = next(iter(response.values()))
    else:
        entries = None  # several areas and none chosen: guessing would pick the wrong prices
    if entries is None:
        collector.dropped[DROP_MISSING] += 1
        return collector.result()
    shape = EntryShape(
        start_keys=("start",), end_keys=("end",), price_keys=("price",), factor=_PER_MWH
    )
    collector.add(entries, shape)
    return collector.result()
