"""Prices from the Energi Data Service custom integration's sensor (HACS: MTrab/energidataservice).

Its attributes carry `raw_today` and `raw_tomorrow` (None when empty): lists of {hour, price},
where `hour` is the period's start as a local datetime (ISO string after JSON) and there is no
end: periods are an hour or 15 minutes, depending on the integration's resolution setting.
`price` includes the integration's tariffs, template and VAT, in `unit` ("DKK/kWh", or the
cent unit "øre/kWh" when `use_cent` is on). `forecast` (only with Carnot enabled) has the same
shape: predicted prices for the coming days, hourly. `tomorrow_valid` tells whether tomorrow's
list is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from .period import (
    DROP_SUPERSEDED,
    EntryShape,
    PriceCollector,
    PriceParse,
    PricePeriod,
)
from .values import unit_factor


def energidataservice_factor(attributes: Mapping[str, Any]) -> float:
    """What turns this sensor's prices into a price per kWh in its currency."""
    per_kwh = unit_factor(attributes.get("unit"))
    if per_kwh is None:
        per_kwh = unit_factor(attributes.get("unit_of_measurement"))
    if per_kwh is None:
        # No readable unit: the integration's default price type is kWh.
        return 1 / 100 if attributes.get("use_cent") is True else 1.0
    return per_kwh


def parse_energidataservice(
    attributes: Mapping[str, Any],
    *,
    include_forecast: bool = False,
    default_tz: tzinfo | None = None,
) -> PriceParse:
    """Today's and tomorrow's periods; with `include_forecast`, Carnot's predictions after them.

    A forecast is a guess: it is only used for time no real price covers yet, and only when
    the caller opts in (a plan built on it charges in hours whose price is not known).
    """
    shape = EntryShape(
        start_keys=("hour",),
        end_keys=("end",),
        price_keys=("price",),
        factor=energidataservice_factor(attributes),
        default_tz=default_tz,
    )
    collector = PriceCollector()
    collector.add_days(attributes, shape)
    known = collector.result()
    if not include_forecast:
        return known

    predicted = PriceCollector()
    predicted.add(attributes.get("forecast"), shape)
    forecast = predicted.result()
    known_end = known.periods[-1].end if known.periods else None
    kept: list[PricePeriod] = []
    superseded = 0
    for period in forecast.periods:
        if known_end is not None and period.start < known_end:
            superseded += 1
        else:
            kept.append(period)
    dropped = dict(known.dropped)
    for reason, count in forecast.dropped.items():
        dropped[reason] = dropped.get(reason, 0) + count
    if superseded:
        dropped[DROP_SUPERSEDED] = superseded
    return PriceParse(known.periods + tuple(kept), dropped)
