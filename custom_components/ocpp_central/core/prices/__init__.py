"""Electricity prices as plain periods, one parser per source shape."""

from __future__ import annotations

from .energidataservice import parse_energidataservice
from .nordpool_action import parse_nordpool_action
from .nordpool_sensor import parse_nordpool_sensor
from .period import PriceParse, PricePeriod, add_surcharge, merge
from .price_list import parse_price_list
from .sensor import parse_price_sensor, sensor_currency

__all__ = [
    "PriceParse",
    "PricePeriod",
    "add_surcharge",
    "merge",
    "parse_energidataservice",
    "parse_nordpool_action",
    "parse_nordpool_sensor",
    "parse_price_list",
    "parse_price_sensor",
    "sensor_currency",
]
