"""Price periods: the one shape every price source becomes, and the checks all sources share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .values import read_number, read_time

# Bounds on what a source may hand us. A week of 5-minute periods fits in one list.
MAX_ENTRIES = 3000
# Per kWh, in any currency: beyond every market's price cap even in weak currencies, so only
# garbage (sentinels, a price in the wrong unit) is refused.
MAX_ABS_PRICE = 10_000.0
MIN_LENGTH = timedelta(minutes=1)
MAX_LENGTH = timedelta(hours=25)  # a daily price on the autumn DST day
DEFAULT_LENGTH = timedelta(hours=1)

# Why entries were dropped (the keys of PriceParse.dropped).
DROP_NOT_A_LIST = "not_a_list"
DROP_BAD_ENTRY = "bad_entry"
DROP_BAD_TIME = "bad_time"
DROP_BAD_PRICE = "bad_price"
DROP_BAD_LENGTH = "bad_length"
DROP_OVERLAP = "overlap"
DROP_TOO_MANY = "too_many"
DROP_NOT_VALID = "not_valid"  # the source itself says the data is not final
DROP_SUPERSEDED = "superseded"  # a forecast for a time that has a real price
DROP_MISSING = "missing"  # an area or list the caller asked for is not there


@dataclass(frozen=True, slots=True)
class PricePeriod:
    """From `start` to `end` (aware; parsers give UTC), energy costs `price` per kWh.

    The price is in the source's currency (the sensor's, or the one asked of Nord Pool).
    """

    start: datetime
    end: datetime
    price: float


@dataclass(frozen=True, slots=True)
class PriceParse:
    """What a parser made of a source: valid periods (sorted, non-overlapping) and what it
    dropped, as reason -> count, for diagnostics."""

    periods: tuple[PricePeriod, ...] = ()
    dropped: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntryShape:
    """How one source spells an entry: the keys to try, in order, and the factor to per kWh."""

    start_keys: tuple[str, ...]
    end_keys: tuple[str, ...]
    price_keys: tuple[str, ...]
    factor: float = 1.0
    default_tz: tzinfo | None = None


class PriceCollector:
    """Reads entries from one or more lists, then builds one PriceParse from all of them."""

    def __init__(self) -> None:
        """Start empty."""
        self.dropped: Counter[str] = Counter()
        self._raw: list[tuple[datetime, datetime | None, float]] = []

    def add(self, entries: object, shape: EntryShape) -> None:
        """Read a list of entries; an absent list (None) is simply no data."""
        if entries is None:
            return
        if not isinstance(entries, list | tuple):
            self.dropped[DROP_NOT_A_LIST] += 1
            return
        if len(entries) > MAX_ENTRIES:
            self.dropped[DROP_TOO_MANY] += len(entries) - MAX_ENTRIES
            entries = entries[:MAX_ENTRIES]
        for entry in entries:
            if (reason := self._add_entry(entry, shape)) is not None:
                self.dropped[reason] += 1

    def add_days(self, attributes: Mapping[str, Any], shape: EntryShape) -> None:
        """`raw_today`, and `raw_tomorrow` unless `tomorrow_valid` is false: both sensor
        integrations name them so, and before ~13:00 tomorrow's list may hold placeholders."""
        self.add(attributes.get("raw_today"), shape)
        tomorrow = attributes.get("raw_tomorrow")
        if attributes.get("tomorrow_valid") is False and isinstance(tomorrow, list | tuple):
            self.dropped[DROP_NOT_VALID] += len(tomorrow)
        else:
            self.add(tomorrow, shape)

    def _add_entry(self, entry: object, shape: EntryShape) -> str | None:
        if not isinstance(entry, Mapping):
            return DROP_BAD_ENTRY
        start = read_time(_first(entry, shape.start_keys), shape.default_tz)
        raw_end = _first(entry, shape.end_keys)
        end = None if raw_end is None else read_time(raw_end, shape.default_tz)
        if start is None or (raw_end is not None and end is None):
            return DROP_BAD_TIME
        value = read_number(_first(entry, shape.price_keys))
        if value is None or abs(price := value * shape.factor) > MAX_ABS_PRICE:
            return DROP_BAD_PRICE
        self._raw.append((start, end, price))
        return None

    def result(self) -> PriceParse:
        """The valid periods read so far, and everything dropped."""
        periods = _build(self._raw, self.dropped)
        return PriceParse(periods, dict(self.dropped))


def _first(entry: Mapping[object, object], keys: tuple[str, ...]) -> object:
    """The first of `keys` with a value (sources spell the same thing differently)."""
    for key in keys:
        if (value := entry.get(key)) is not None:
            return value
    return None


def _typical_length(starts: list[datetime]) -> timedelta:
    """The most common distance between starts: the source's period length (1 h, 15 min)."""
    gaps = Counter(
        later - earlier
        for earlier, later in zip(starts, starts[1:], strict=False)
        if MIN_LENGTH <= later - earlier <= MAX_LENGTH
    )
    if not gaps:
        return DEFAULT_LENGTH
    most = max(gaps.values())
    return min(gap for gap, count in gaps.items() if count == most)


def _build(
    raw: list[tuple[datetime, datetime | None, float]], dropped: Counter[str]
) -> tuple[PricePeriod, ...]:
    """Sort, give entries without an end one, and drop bad lengths and overlaps."""
    raw = sorted(raw, key=lambda item: item[0])
    typical = _typical_length([start for start, _, _ in raw])
    periods: list[PricePeriod] = []
    for index, (start, given_end, price) in enumerate(raw):
        end = given_end
        if end is None:
            # Up to the next entry, but never across a hole in the data.
            end = start + typical
            if index + 1 < len(raw) and start < raw[index + 1][0] < end:
                end = raw[index + 1][0]
        if not MIN_LENGTH <= end - start <= MAX_LENGTH:
            dropped[DROP_BAD_LENGTH] += 1
        elif periods and start < periods[-1].end:
            dropped[DROP_OVERLAP] += 1
        else:
            periods.append(PricePeriod(start, end, price))
    return tuple(periods)


def merge(parses: Iterable[PriceParse]) -> PriceParse:
    """Several parses (today's and tomorrow's action responses, say) as one."""
    dropped: Counter[str] = Counter()
    raw: list[tuple[datetime, datetime | None, float]] = []
    for parse in parses:
        dropped.update(parse.dropped)
        raw.extend((period.start, period.end, period.price) for period in parse.periods)
    periods = _build(raw, dropped)
    return PriceParse(periods, dict(dropped))


def add_surcharge(periods: Iterable[PricePeriod], surcharge: float) -> tuple[PricePeriod, ...]:
    """The periods with a fixed amount per kWh (grid fee, taxes) added to each price.

    A surcharge that is not a sane number is ignored rather than poisoning every price.
    """
    amount = read_number(surcharge)
    if amount is None or abs(amount) > MAX_ABS_PRICE:
        amount = 0.0
    return tuple(PricePeriod(p.start, p.end, p.price + amount) for p in periods)
