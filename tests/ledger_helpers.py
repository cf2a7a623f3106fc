"""Helpers for the session ledger's Home Assistant tests: a price sensor, the action, devices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.ocpp_central.const import DOMAIN

PRICE_SENSOR = "sensor.nordpool_kwh_se3_sek_3_10_025"
HOUR = timedelta(hours=1)


def hours_ago(hours: float) -> datetime:
    """A whole UTC hour `hours` before the current one (price periods start on the hour)."""
    return dt_util.utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)


def nordpool_attributes(
    prices: list[tuple[datetime, float]], *, currency: str = "SEK", **extra: Any
) -> dict[str, Any]:
    """What the Nord Pool custom integration's sensor carries: hourly {start, end, value}."""
    return {
        "raw_today": [
            {
                "start": dt_util.as_local(start).isoformat(),
                "end": dt_util.as_local(start + HOUR).isoformat(),
                "value": value,
            }
            for start, value in prices
        ],
        "raw_tomorrow": [],
        "tomorrow_valid": False,
        "currency": currency,
        "unit": "kWh",
        "price_in_cents": False,
        "unit_of_measurement": f"{currency}/kWh",
        **extra,
    }


def set_prices(hass: HomeAssistant, prices: list[tuple[datetime, float]], **extra: Any) -> None:
    """The price sensor's state now (the current price) with its price list."""
    hass.states.async_set(PRICE_SENSOR, str(prices[0][1]), nordpool_attributes(prices, **extra))


async def get_sessions(
    hass: HomeAssistant, context: Context | None = None, /, **data: Any
) -> dict[str, Any]:
    """Call ocpp_central.get_sessions (as the user of `context`) and return its response."""
    response = await hass.services.async_call(
        DOMAIN, "get_sessions", data, blocking=True, return_response=True, context=context
    )
    assert isinstance(response, dict)
    return response


def parsed(value: Any) -> datetime:
    """An ISO 8601 time from a response, as an aware datetime."""
    assert isinstance(value, str)
    when = dt_util.parse_datetime(value)
    assert when is not None and when.tzinfo is not None, value
    return when


def wide_range() -> dict[str, Any]:
    """get_sessions' start and end around everything a test does."""
    now = dt_util.utcnow()
    return {"start": (now - timedelta(days=40)).isoformat(), "end": (now + HOUR).isoformat()}
