"""Prices of energy: price periods, a session's energy per period, its cost, money rounding.

Energy arrives here in 15-minute buckets aligned to UTC (see ledger_energy); every real time
zone's hours and quarter hours fall on them, so each bucket lies within one price period.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
import math
from typing import Any, Protocol

BUCKET_S = 900
# Longest price period taken from a price source; a price table larger than this is cut.
MAX_PRICE_PERIOD = timedelta(days=31)
MAX_PRICES = 10_000
# Less energy than this (one microwatt-hour) is rounding noise, not a price period's energy.
EPSILON_WH = 1e-6

# ISO 4217 currencies whose minor unit is not the cent; all others have two decimals.
_MINOR_UNITS = {
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND"), 0
    ),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
}

Price = tuple[float, float, float]
"""A price period as (start, end) in epoch seconds and the price per kWh."""


class PriceLike(Protocol):
    """Anything with a start, an end and a price per kWh (the price module's PricePeriod)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def price(self) -> float: ...


class PricedStatus(StrEnum):
    """Whether a session's energy had a price."""

    PRICED = "priced"  # all of it (a session without energy too)
    PARTIAL = "partial"  # some of it
    UNPRICED = "unpriced"  # none of it


@dataclass(frozen=True, slots=True)
class EnergySlice:
    """Energy charged within one price period (or within a stretch without a known price)."""

    start: datetime
    end: datetime
    kwh: float
    price: float | None  # per kWh, surcharge included; None: no price was known


def minor_units(currency: str) -> int:
    """Decimals of a currency's minor unit (2 for SEK, EUR; 0 for JPY)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(value: float, currency: str) -> float:
    """Round to the currency's minor unit, halves away from zero as on a bill."""
    step = Decimal(1).scaleb(-minor_units(currency))
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def is_aware(value: datetime) -> bool:
    """A datetime that names its offset (naive ones are never guessed)."""
    return value.tzinfo is not None and value.utcoffset() is not None


def price_tuples(periods: Iterable[PriceLike]) -> list[Price]:
    """Valid periods, sorted; of periods that overlap, the one starting first is kept."""
    valid: list[Price] = []
    for period in periods:
        start, end, price = period.start, period.end, period.price
        if not (isinstance(start, datetime) and isinstance(end, datetime)):
            continue
        if not (is_aware(start) and is_aware(end) and start < end <= start + MAX_PRICE_PERIOD):
            continue
        if isinstance(price, bool) or not isinstance(price, int | float):
            continue
        if math.isfinite(price):
            valid.append((start.timestamp(), end.timestamp(), float(price)))
    valid.sort()
    kept: list[Price] = []
    for item in valid:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return kept


def merge_prices(known: Sequence[Price], new: Sequence[Price]) -> list[Price]:
    """Known periods updated with new ones (both from price_tuples): the new ones win."""
    if not new:
        return list(known)
    merged = list(new)
    starts = [period[0] for period in new]
    for start, end, price in known:
        cursor = start
        i = max(bisect_right(starts, start) - 1, 0)
        while i < len(new) and new[i][0] < end and cursor < end:
            if new[i][1] > cursor:
                if new[i][0] > cursor:
                    merged.append((cursor, new[i][0], price))
                cursor = new[i][1]
            i += 1
        if cursor < end:
            merged.append((cursor, end, price))
    merged.sort()
    return merged[:MAX_PRICES]


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _slice(t0: float, t1: float, wh: float, price: float | None) -> EnergySlice:
    return EnergySlice(_utc(t0), _utc(t1), wh / 1000, price)


def price_energy(
    buckets: Mapping[int, float],
    span: tuple[float, float],
    prices: Sequence[Price],
    *,
    fixed_price: float | None,
    surcharge: float,
) -> list[EnergySlice]:
    """Energy per price period, sorted by start; energy outside every period has no price.

    A fixed price (used when there is no price source) prices all of it. The surcharge is
    added to every known price. A period whose bounds are not on a quarter hour takes its
    share of a bucket in proportion to time.
    """
    first, last = span
    if fixed_price is not None:
        wh = sum(buckets.values())
        return [_slice(first, last, wh, fixed_price + surcharge)] if wh > EPSILON_WH else []
    starts = [period[0] for period in prices]
    priced: dict[int, float] = {}  # index of the price period -> Wh
    gaps: list[tuple[float, float, float]] = []  # runs of unpriced buckets: start, end, Wh
    previous_gap = -2
    for k in sorted(buckets):
        wh, low = buckets[k], k * BUCKET_S
        high = low + BUCKET_S
        covered = 0.0
        i = max(bisect_right(starts, low) - 1, 0)
        while i < len(prices) and prices[i][0] < high:
            if (overlap := min(prices[i][1], high) - max(prices[i][0], low)) > 0:
                priced[i] = priced.get(i, 0.0) + wh * overlap / BUCKET_S
                covered += overlap
            i += 1
        if (rest := wh * (1 - covered / BUCKET_S)) > EPSILON_WH:
            if previous_gap == k - 1:
                gap_start, _, gap_wh = gaps.pop()
                gaps.append((gap_start, min(high, last), gap_wh + rest))
            else:
                gaps.append((max(low, first), min(high, last), rest))
            previous_gap = k
    slices = [
        _slice(prices[i][0], prices[i][1], wh, prices[i][2] + surcharge)
        for i, wh in priced.items()
        if wh > EPSILON_WH
    ]
    slices.extend(_slice(start, end, wh, None) for start, end, wh in gaps)
    slices.sort(key=lambda energy_slice: energy_slice.start)
    return slices


def priced_summary(slices: Iterable[EnergySlice]) -> tuple[float, float, float]:
    """(cost of the priced energy, not rounded; priced kWh; kWh without a price)."""
    cost = priced_kwh = unpriced_kwh = 0.0
    for energy_slice in slices:
        if energy_slice.price is None:
            unpriced_kwh += energy_slice.kwh
        else:
            cost += energy_slice.kwh * energy_slice.price
            priced_kwh += energy_slice.kwh
    return cost, priced_kwh, unpriced_kwh


def priced_status(priced_kwh: float, unpriced_kwh: float) -> PricedStatus:
    """How much of a session's energy had a price."""
    if unpriced_kwh <= EPSILON_WH / 1000:
        return PricedStatus.PRICED
    return PricedStatus.PARTIAL if priced_kwh > EPSILON_WH / 1000 else PricedStatus.UNPRICED


def finite(value: Any) -> float | None:
    """A finite, non-negative number as float, else None (bad input is not guessed at)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def stored_number(value: Any) -> float | None:
    """A stored number (None stays None); ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)
