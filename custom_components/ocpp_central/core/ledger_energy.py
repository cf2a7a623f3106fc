"""A session's energy from its meter readings, in 15-minute buckets; a running session's meter.

Readings are (time, register Wh) pairs in any order: a charger that was offline delivers its
queued readings late. The energy between two readings is spread evenly over the time between
them, so a step that spans a price change is shared in proportion to time. Keeping it in
buckets (not in price periods) lets prices arrive later than the energy they price, and keeps
a running session small.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from itertools import pairwise
import math
from typing import Any

from .ledger_pricing import (
    BUCKET_S,
    EnergySlice,
    Price,
    price_energy,
    stored_number,
)

# A register above this is not a meter reading; a step that would need more than this power
# is a jump, not energy (a charger whose meterStart is 0 while it reports a lifetime register).
MAX_REGISTER_WH = 1e12
MAX_POWER_W = 2e6
# The latest readings stay raw, so that a queued reading arriving late still lands in its place;
# older steps are folded into buckets. In-order delivery (what OCPP asks of chargers) never
# needs more than a few.
TAIL = 16


def _spread(buckets: dict[int, float], t0: float, t1: float, wh: float) -> None:
    """Add energy charged evenly from t0 to t1 (t0 < t1) to the buckets it covers."""
    k = int(t0 // BUCKET_S)
    while True:
        low = k * BUCKET_S
        high = low + BUCKET_S
        part = wh * (min(t1, high) - max(t0, low)) / (t1 - t0)
        if part > 0:
            buckets[k] = buckets.get(k, 0.0) + part
        if high >= t1:
            return
        k += 1


def _counts(step: float, t0: float, t1: float) -> bool:
    """A step up of the register is energy unless it would need an impossible power."""
    return step > 0 and step * 3600 <= MAX_POWER_W * (t1 - t0)


class EnergyAccumulator:
    """One session's energy in 15-minute buckets, fed with (epoch s, register Wh) readings.

    The register counts up. A reading lower than an earlier one is a glitch: it adds nothing,
    and the energy after it counts from the highest reading before it, so a glitch neither
    subtracts energy nor counts any twice.
    """

    __slots__ = ("_buckets", "_first", "_folded", "_folded_wh", "_times", "_whs")

    def __init__(self) -> None:
        self._buckets: dict[int, float] = {}  # folded energy, Wh per bucket
        self._folded_wh = 0.0
        self._folded = False
        self._first: float | None = None
        # The raw tail, sorted by time; _whs[0] is the highest register reached at _times[0].
        self._times: list[float] = []
        self._whs: list[float] = []

    def add(self, t: float, wh: float) -> bool:
        """Add a reading; False when it changes nothing or is out of bounds."""
        if not (math.isfinite(t) and math.isfinite(wh) and 0 <= wh <= MAX_REGISTER_WH):
            return False
        times, whs = self._times, self._whs
        i = bisect_left(times, t)
        if i == 0 and self._folded:
            return False  # older than what is already folded: too late to place
        if i < len(times) and times[i] == t:
            if wh <= whs[i]:
                return False
            whs[i] = wh
            return True
        times.insert(i, t)
        whs.insert(i, wh)
        if i == 0:
            self._first = t
        while len(times) > TAIL:
            self._fold()
        return True

    def _fold(self) -> None:
        times, whs = self._times, self._whs
        level = max(whs[0], whs[1])
        if _counts(step := level - whs[0], times[0], times[1]):
            _spread(self._buckets, times[0], times[1], step)
            self._folded_wh += step
        del times[0], whs[0]
        whs[0] = level
        self._folded = True

    def _steps(self) -> Iterator[tuple[float, float, float]]:
        """The tail's steps up as (t0, t1, Wh)."""
        times, whs = self._times, self._whs
        level = whs[0] if whs else 0.0
        for i in range(1, len(times)):
            if (wh := whs[i]) > level:
                if _counts(step := wh - level, times[i - 1], times[i]):
                    yield times[i - 1], times[i], step
                level = wh

    @property
    def energy_wh(self) -> float:
        """Energy charged so far."""
        return self._folded_wh + sum(step for _, _, step in self._steps())

    @property
    def span(self) -> tuple[float, float] | None:
        """Times of the first and the last reading."""
        if self._first is None:
            return None
        return self._first, self._times[-1]

    def buckets(self) -> dict[int, float]:
        """Energy (Wh) per 15-minute bucket (bucket k starts at k * 900 epoch seconds)."""
        buckets = dict(self._buckets)
        for t0, t1, step in self._steps():
            _spread(buckets, t0, t1, step)
        return buckets

    def drop_after(self, t: float) -> None:
        """Forget raw readings later than t (a session's stop)."""
        while len(self._times) > 1 and self._times[-1] > t:
            del self._times[-1], self._whs[-1]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for storage."""
        return {
            "buckets": [[k, wh] for k, wh in self._buckets.items()],
            "folded_wh": self._folded_wh,
            "folded": self._folded,
            "first": self._first,
            "tail": [[t, wh] for t, wh in zip(self._times, self._whs, strict=True)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnergyAccumulator:
        """Restore from storage (ValueError, TypeError or KeyError when broken)."""
        energy = cls()
        energy._buckets = {int(k): _stored(wh) for k, wh in data["buckets"]}
        energy._folded_wh = _stored(data["folded_wh"])
        energy._folded = data["folded"] is True
        energy._first = stored_number(data["first"])
        for t, wh in data["tail"]:
            energy._times.append(_stored(t))
            energy._whs.append(_stored(wh))
        if energy._times != sorted(energy._times) or (energy._first is None) != (not energy._times):
            raise ValueError("unordered readings")
        return energy


def _stored(value: Any) -> float:
    if (number := stored_number(value)) is None:
        raise ValueError("missing number")
    return number


class SessionMeter:
    """What a running session needs to price its energy: readings, and the prices seen.

    Prices are captured while the session runs because a price source forgets past periods
    (yesterday's prices leave a Nord Pool sensor at midnight).
    """

    __slots__ = ("energy", "fixed_price", "prices", "surcharge")

    def __init__(self, *, fixed_price: float | None, surcharge: float) -> None:
        self.energy = EnergyAccumulator()
        self.prices: list[Price] = []
        self.fixed_price = fixed_price
        self.surcharge = surcharge

    def slices(self) -> list[EnergySlice]:
        """Energy per price period so far."""
        if (span := self.energy.span) is None:
            return []
        return price_energy(
            self.energy.buckets(),
            span,
            self.prices,
            fixed_price=self.fixed_price,
            surcharge=self.surcharge,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data for storage."""
        return {
            "energy": self.energy.as_dict(),
            "prices": [list(period) for period in self.prices],
            "fixed_price": self.fixed_price,
            "surcharge": self.surcharge,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionMeter:
        """Restore from storage (ValueError, TypeError or KeyError when broken)."""
        surcharge = stored_number(data["surcharge"])
        if surcharge is None:
            raise ValueError("surcharge")
        meter = cls(fixed_price=stored_number(data["fixed_price"]), surcharge=surcharge)
        meter.energy = EnergyAccumulator.from_dict(data["energy"])
        meter.prices = sorted((_stored(s), _stored(e), _stored(p)) for s, e, p in data["prices"])
        prices = meter.prices
        if any(s >= e for s, e, _ in prices) or any(a[1] > b[0] for a, b in pairwise(prices)):
            raise ValueError("empty or overlapping price periods")
        return meter
