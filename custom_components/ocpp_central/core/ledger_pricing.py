"""Prices of energy: price periods, a session's energy per period, its cost, money rounding.

Energy arrives here in 15-minute buckets aligned to UTC (see ledger_energy); every real time
zone's hours and quarter hours fall on them, so each bucket lies within one price period.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from .ledger_values import as_float, is_aware

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


def price_tuples(periods: Iterable[PriceLike]) -> list[Price]:
    """Valid periods, sorted; of periods that overlap, the one starting first is kept."""
    valid: list[Price] = []
    for period in periods:
        start, end, price = period.start, period.end, period.price
        if not (isinstance(start, datetime) and isinstance(end, datetime)):
            continue
        if not (is_aware(start) and is_aware(end) and start < end <= start + MAX_PRICE_PERIOD):
            continue
        if (number := as_float(price)) is not None:
            valid.append((start.timestamp(), end.timestamp(), number))
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


def bucket_shares(
    k: int, wh: float, prices: Sequence[Price], starts: Sequence[float]
) -> Iterator[tuple[int | None, float]]:
    """Bucket k's energy per price period (by index into prices; None: no period covers it).

    `starts` are the prices' starts. A period whose bounds are not on a quarter hour takes its
    share of a bucket in proportion to time.
    """
    low = k * BUCKET_S
    high = low + BUCKET_S
    covered = 0.0
    i = max(bisect_right(starts, low) - 1, 0)
    while i < len(prices) and prices[i][0] < high:
        if (overlap := min(prices[i][1], high) - max(prices[i][0], low)) > 0:
            yield i, wh * overlap / BUCKET_S
            covered += overlap
        i += 1
    if covered < BUCKET_S:
        yield None, wh * (1 - covered / BUCKET_S)


def price_total(
    buckets: Iterable[tuple[int, float]],
    prices: Sequence[Price],
    starts: Sequence[float],
    *,
    fixed_price: float | None,
    surcharge: float,
) -> tuple[float, float, float]:
    """(cost, not rounded; priced kWh; kWh without a price) of (bucket, Wh) energy."""
    cost = priced_wh = unpriced_wh = 0.0
    for k, wh in buckets:
        if fixed_price is not None:
            cost += wh * (fixed_price + surcharge)
            priced_wh += wh
            continue
        for i, share in bucket_shares(k, wh, prices, starts):
            if i is None:
                unpriced_wh += share
            else:
                cost += share * (prices[i][2] + surcharge)
                priced_wh += share
    return cost / 1000, priced_wh / 1000, unpriced_wh / 1000


def price_energy(
    buckets: Mapping[int, float],
    span: tuple[float, float],
    prices: Sequence[Price],
    *,
    fixed_price: float | None,
    surcharge: float,
) -> list[EnergySlice]:
    """Energy per price period, sorted by start; energy outside every period has no price.

    A fixed price (used when there is no price source) prices all of it, from the first
    reading to the last. The surcharge is added to every known price.
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
        for i, share in bucket_shares(k, buckets[k], prices, starts):
            if i is not None:
                priced[i] = priced.get(i, 0.0) + share
            elif share > EPSILON_WH:
                low, high = k * BUCKET_S, (k + 1) * BUCKET_S
                if previous_gap == k - 1:
                    gap_start, _, gap_wh = gaps.pop()
                    gaps.append((gap_start, min(high, last), gap_wh + share))
                else:
                    gaps.append((max(low, first), min(high, last), share))
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
