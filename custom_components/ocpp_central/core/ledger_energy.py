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

from .ledger_pricing import BUCKET_S, EnergySlice, Price, price_energy, price_total
from .ledger_values import required_number, stored_number

# A register above this is not a meter reading; a step that would need more than this power
# is a jump, not energy (a charger whose meterStart is 0 while it reports a lifetime register).
MAX_REGISTER_WH = 1e12
MAX_POWER_W = 2e6
# The latest readings stay raw, so that a queued reading arriving late still lands in its place;
# older steps are folded into buckets. In-order delivery (what OCPP asks of chargers) never
# needs more than a few.
TAIL = 16
# Energy changes a meter's running total has not taken yet; past this, the total is recomputed.
MAX_PENDING_CHANGES = 1000


def _spread(t0: float, t1: float, wh: float) -> Iterator[tuple[int, float]]:
    """Energy charged evenly from t0 to t1 (t0 < t1), per bucket it covers."""
    k = int(t0 // BUCKET_S)
    while True:
        low = k * BUCKET_S
        high = low + BUCKET_S
        if (part := wh * (min(t1, high) - max(t0, low)) / (t1 - t0)) > 0:
            yield k, part
        if high >= t1:
            return
        k += 1


def _counts(step: float, t0: float, t1: float) -> bool:
    """A step up of the register is energy unless it would need an impossible power."""
    return step > 0 and step * 3600 <= MAX_POWER_W * (t1 - t0)


class EnergyAccumulator:
    """One session's energy in 15-minute buckets, fed with (epoch s, register Wh) readings.

    The register counts up. A reading lower than an earlier one is a glitch and is left out,
    as if it never came: it neither subtracts energy nor makes any count twice.
    """

    __slots__ = ("_buckets", "_changes", "_first", "_folded", "_folded_wh", "_times", "_whs")

    def __init__(self) -> None:
        self._buckets: dict[int, float] = {}  # folded energy, Wh per bucket
        # Energy added since take_changes(), as (bucket, Wh); None: not known as additions
        # (a reading placed between others, or too many), so take all energy again.
        self._changes: list[tuple[int, float]] | None = None
        self._folded_wh = 0.0
        self._folded = False
        self._first: float | None = None
        # The raw tail, sorted by time; no reading before _times[0] is higher than _whs[0].
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
            self._changes = None
            return True
        if i == len(times) and times:
            self._append(t, wh)
        else:
            times.insert(i, t)
            whs.insert(i, wh)
            self._changes = None
        if i == 0:
            self._first = t
        while len(times) > TAIL:
            self._fold()
        return True

    def _append(self, t: float, wh: float) -> None:
        """The common case, a reading newer than all others: its step is all that changes."""
        level, since = self._whs[0], self._times[0]
        for level_wh, time in zip(self._whs, self._times, strict=True):
            if level_wh >= level:
                level, since = level_wh, time
        self._times.append(t)
        self._whs.append(wh)
        if (changes := self._changes) is not None and _counts(wh - level, since, t):
            changes.extend(_spread(since, t, wh - level))
            if len(changes) > MAX_PENDING_CHANGES:
                self._changes = None

    def _fold(self) -> None:
        """Move the oldest raw step into the buckets (the energy stays the same)."""
        times, whs = self._times, self._whs
        if whs[1] < whs[0]:
            del times[1], whs[1]  # a glitch: as if it never came
            return
        if _counts(step := whs[1] - whs[0], times[0], times[1]):
            for k, part in _spread(times[0], times[1], step):
                self._buckets[k] = self._buckets.get(k, 0.0) + part
            self._folded_wh += step
        del times[0], whs[0]
        self._folded = True

    def _steps(self) -> Iterator[tuple[float, float, float]]:
        """The raw tail's steps up, as (from, to, Wh)."""
        times, whs = self._times, self._whs
        if not times:
            return
        level, since = whs[0], times[0]
        for i in range(1, len(times)):
            if (wh := whs[i]) < level:
                continue  # a glitch: as if it never came
            if wh > level and _counts(wh - level, since, times[i]):
                yield since, times[i], wh - level
            level, since = wh, times[i]

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
            for k, part in _spread(t0, t1, step):
                buckets[k] = buckets.get(k, 0.0) + part
        return buckets

    def reprice(self) -> None:
        """Have the next take_changes() say: take all energy again (the prices changed)."""
        self._changes = None

    def take_changes(self) -> list[tuple[int, float]] | None:
        """Energy added since the last call as (bucket, Wh); None: take buckets() instead."""
        changes, self._changes = self._changes, []
        return changes

    def drop_after(self, t: float) -> None:
        """Forget raw readings later than t (a session's stop)."""
        while len(self._times) > 1 and self._times[-1] > t:
            del self._times[-1], self._whs[-1]
            self._changes = None

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
        energy._buckets = {int(k): required_number(wh) for k, wh in data["buckets"]}
        energy._folded_wh = required_number(data["folded_wh"])
        energy._folded = data["folded"] is True
        energy._first = stored_number(data["first"])
        for t, wh in data["tail"]:
            energy._times.append(required_number(t))
            energy._whs.append(required_number(wh))
        if energy._times != sorted(energy._times) or (energy._first is None) != (not energy._times):
            raise ValueError("unordered readings")
        return energy


class SessionMeter:
    """What a running session needs to price its energy: readings, and the prices seen.

    Prices are captured while the session runs because a price source forgets past periods
    (yesterday's prices leave a Nord Pool sensor at midnight). The cost so far is
    kept as a running total, so a new reading costs as little in the tenth hour as in the first.
    """

    __slots__ = ("_starts", "_total", "energy", "fixed_price", "prices", "surcharge")

    def __init__(self, *, fixed_price: float | None, surcharge: float) -> None:
        self.energy = EnergyAccumulator()
        self.fixed_price = fixed_price
        self.surcharge = surcharge
        self.prices: list[Price] = []
        self._starts: list[float] = []
        self._total = (0.0, 0.0, 0.0)

    def set_prices(self, prices: list[Price]) -> None:
        """Replace the known prices (sorted, not overlapping)."""
        self.prices = prices
        self._starts = [period[0] for period in prices]
        self.energy.reprice()

    def summary(self) -> tuple[float, float, float]:
        """(cost, not rounded; priced kWh; kWh without a price) so far."""
        changes = self.energy.take_changes()
        added = price_total(
            self.energy.buckets().items() if changes is None else changes,
            self.prices,
            self._starts,
            fixed_price=self.fixed_price,
            surcharge=self.surcharge,
        )
        if changes is not None:
            total = self._total
            added = (total[0] + added[0], total[1] + added[1], total[2] + added[2])
        self._total = added
        return added

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
        prices = sorted(
            (required_number(s), required_number(e), required_number(p))
            for s, e, p in data["prices"]
        )
        if any(s >= e for s, e, _ in prices) or any(a[1] > b[0] for a, b in pairwise(prices)):
            raise ValueError("empty or overlapping price periods")
        meter.set_prices(prices)
        return meter
