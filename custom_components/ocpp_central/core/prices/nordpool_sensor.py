"""Prices from the Nord Pool custom integration's sensor (HACS: custom-components/nordpool).

Its state attributes carry `raw_today` and `raw_tomorrow`: lists of {start, end, value}, one
per delivery period (hours, or quarter hours since the market moved to 15 minutes), start and
end as local datetimes (ISO strings once the state went through JSON). `value` is the price
after the sensor's own VAT and `additional_costs` template, in `currency` per `unit` ("kWh" by
default, or "MWh"/"Wh"), times 100 when `price_in_cents` is true. `value` is None for an
entry the API had no price for. `tomorrow_valid` is false until tomorrow's prices are in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from .period import EntryShape, PriceCollector, PriceParse
from .values import unit_factor


def nordpool_sensor_factor(attributes: Mapping[str, Any]) -> float:
    """What turns this sensor's values into a price per kWh in its currency."""
    per_kwh = unit_factor(attributes.get("unit"))  # a bare energy unit: "kWh"
    if per_kwh is None:
        # Older or templated sensors: read the unit of measurement ("SEK/kWh", "Öre/kWh").
        per_kwh = unit_factor(attributes.get("unit_of_measurement"))
        if per_kwh is not None:
            return per_kwh
        per_kwh = 1.0  # the integration's default price_type
    return per_kwh / 100 if attributes.get("price_in_cents") is True else per_kwh


def parse_nordpool_sensor(
    attributes: Mapping[str, Any], *, default_tz: tzinfo | None = None
) -> PriceParse:
    """Today's and (once valid) tomorrow's periods from the sensor's attributes."""
    shape = EntryShape(
        start_keys=("start",),
        end_keys=("end",),
        price_keys=("value",),
        factor=nordpool_sensor_factor(attributes),
        default_tz=default_tz,
    )
    collector = PriceCollector()
    collector.add_days(attributes, shape)
    return collector.result()
