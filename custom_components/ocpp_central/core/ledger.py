"""The ledger of charging sessions: kept by (charger, transaction id), bounded, queried.

Time is always passed in (aware datetimes); nothing here reads a clock. A session counts in a
period when it starts within it, as a reimbursement list counts it: a session from 23:00 on the
last day of a month to 02:00 belongs, with all its energy, to that month.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .ledger_energy import SessionMeter
from .ledger_migrate import migrate
from .ledger_pricing import EnergySlice, PricedStatus, PriceLike, price_tuples
from .ledger_record import LEDGER_VERSION, SessionRecord
from .ledger_totals import SessionTotals, Totals, totals
from .ledger_values import as_float, is_aware, non_negative

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_COUNT",
    "LEDGER_VERSION",
    "EnergySlice",
    "Ledger",
    "PriceLike",
    "PricedStatus",
    "SessionRecord",
    "SessionTotals",
    "Tariff",
    "Totals",
    "migrate",
    "totals",
]

DEFAULT_MAX_AGE = timedelta(days=1096)  # three years, a leap day included
DEFAULT_MAX_COUNT = 10_000


@dataclass(frozen=True, slots=True)
class Tariff:
    """How a new session is priced: the site's settings when it starts."""

    currency: str  # HA's configured currency
    fixed_price: float | None = None  # per kWh; give it only when there is no price source
    surcharge: float = 0.0  # per kWh, added to every known price

    def __post_init__(self) -> None:
        for value in (self.fixed_price, self.surcharge):
            if value is not None and as_float(value) is None:
                raise ValueError("a price must be a finite number")


def _start(record: SessionRecord) -> datetime:
    return record.start


def _aware(value: datetime) -> datetime:
    if not is_aware(value):
        raise ValueError("times must carry their offset")
    return value


class Ledger:
    """Every session, running or ended, ordered by start and bounded by age and count."""

    def __init__(
        self, *, max_age: timedelta = DEFAULT_MAX_AGE, max_count: int = DEFAULT_MAX_COUNT
    ) -> None:
        self.max_age = max_age
        self.max_count = max_count
        self.skipped = 0  # stored records that could not be read (reported, not fatal)
        self._records: list[SessionRecord] = []
        self._by_key: dict[tuple[str, str], SessionRecord] = {}
        self._running: dict[tuple[str, str], SessionRecord] = {}
        self._latest: dict[tuple[str, int], SessionRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[SessionRecord]:
        return iter(self._records)

    def start_session(
        self,
        charger_id: str,
        connector_id: int,
        transaction_id: int | str,
        start: datetime,
        tariff: Tariff,
        *,
        meter_start_wh: float | None = None,
        id_tag: str | None = None,
        id_tag_name: str | None = None,
        user_id: str | None = None,
        user_name: str | None = None,
        prices: Iterable[PriceLike] = (),
    ) -> SessionRecord:
        """Record a new session; a start repeated while it runs returns the running record."""
        if (running := self._running.get((charger_id, str(transaction_id)))) is not None:
            return running
        record = SessionRecord(
            charger_id=charger_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            start=_aware(start),
            currency=tariff.currency,
            id_tag=id_tag,
            id_tag_name=id_tag_name,
            user_id=user_id,
            user_name=user_name,
            meter_start_wh=non_negative(meter_start_wh),
        )
        record.meter = SessionMeter(fixed_price=tariff.fixed_price, surcharge=tariff.surcharge)
        if record.meter_start_wh is not None:
            record.add_readings([(start, record.meter_start_wh)], start)
        record.note_prices(price_tuples(prices))
        self._add(record)
        return record

    def add_readings(
        self,
        charger_id: str,
        transaction_id: int | str,
        readings: Iterable[tuple[datetime, float]],
        *,
        now: datetime,
    ) -> SessionRecord | None:
        """Register readings (time, Wh) of a running session; the record when they changed it."""
        record = self._running.get((charger_id, str(transaction_id)))
        if record is not None and record.add_readings(readings, _aware(now)):
            return record
        return None

    def note_prices(self, prices: Iterable[PriceLike]) -> list[SessionRecord]:
        """Prices the price source knows now; returns the running sessions they may reprice."""
        periods = price_tuples(prices)
        repriced = []
        for record in self._running.values():
            if record.meter is not None and record.meter.fixed_price is None:
                record.note_prices(periods)
                repriced.append(record)
        return repriced

    def end_session(
        self,
        charger_id: str,
        transaction_id: int | str,
        end: datetime,
        *,
        meter_stop_wh: float | None = None,
        stop_reason: str | None = None,
        readings: Iterable[tuple[datetime, float]] = (),
    ) -> SessionRecord | None:
        """End a session, also one a charger queued while offline; None when it is unknown.

        `readings` are the stop message's own (transactionData). The first stop wins: a
        repeated one returns the ended record unchanged.
        """
        key = (charger_id, str(transaction_id))
        if (record := self._by_key.get(key)) is None:
            return None
        if record.running:
            record.add_readings(readings, _aware(end))
            record.finish(end, meter_stop_wh, stop_reason)
            self._running.pop(key, None)
        return record

    def get(self, charger_id: str, transaction_id: int | str) -> SessionRecord | None:
        """The session a charger knows by this transaction id (the newest, if it reused one)."""
        return self._by_key.get((charger_id, str(transaction_id)))

    def running(self) -> list[SessionRecord]:
        """The sessions that have not ended."""
        return list(self._running.values())

    def latest(self, charger_id: str, connector_id: int) -> SessionRecord | None:
        """The connector's session running or last started (what `session_cost` shows)."""
        return self._latest.get((charger_id, connector_id))

    def sessions(
        self,
        start: datetime,
        end: datetime,
        *,
        charger_ids: Collection[str] | None = None,
        connector_id: int | None = None,
        id_tag: str | None = None,
    ) -> list[SessionRecord]:
        """Sessions that started in [start, end), oldest first, filtered."""
        records = self._records
        low = bisect_left(records, _aware(start), key=_start)
        high = bisect_left(records, _aware(end), key=_start)
        return [
            record
            for record in records[low:high]
            if (charger_ids is None or record.charger_id in charger_ids)
            and (connector_id is None or record.connector_id == connector_id)
            and (id_tag is None or record.id_tag == id_tag)
        ]

    def prune(self, now: datetime) -> int:
        """Drop sessions that started longer than max_age ago or beyond max_count, oldest first."""
        cutoff = _aware(now) - self.max_age
        too_old = bisect_left(self._records, cutoff, key=_start)
        return self._drop_oldest(max(too_old, len(self._records) - self.max_count))

    def _add(self, record: SessionRecord) -> None:
        insort(self._records, record, key=_start)
        self._by_key[record.key] = record
        if record.running:
            self._running[record.key] = record
        slot = (record.charger_id, record.connector_id)
        if (latest := self._latest.get(slot)) is None or record.start >= latest.start:
            self._latest[slot] = record
        self._drop_oldest(len(self._records) - self.max_count)

    def _drop_oldest(self, count: int) -> int:
        if count <= 0:
            return 0
        for record in self._records[:count]:
            if self._by_key.get(record.key) is record:
                del self._by_key[record.key]
            if self._running.get(record.key) is record:
                del self._running[record.key]
            slot = (record.charger_id, record.connector_id)
            if self._latest.get(slot) is record:
                del self._latest[slot]  # the connector's newest went, so all of its did
        del self._records[:count]
        return count

    def as_dict(self) -> dict[str, Any]:
        """Plain data for HA's Store (version LEDGER_VERSION)."""
        return {"sessions": [record.as_dict() for record in self._records]}

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        now: datetime,
        max_age: timedelta = DEFAULT_MAX_AGE,
        max_count: int = DEFAULT_MAX_COUNT,
    ) -> Ledger:
        """Restore from storage at LEDGER_VERSION (migrate older data first), then prune.

        A stored record that cannot be read is skipped and counted in `skipped`.
        """
        ledger = cls(max_age=max_age, max_count=max_count)
        records = []
        for item in data.get("sessions", ()):
            try:
                records.append(SessionRecord.from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError):
                ledger.skipped += 1
        records.sort(key=_start)
        ledger._records = records
        for record in records:  # oldest first: a reused transaction id finds the newest
            ledger._by_key[record.key] = record
            if record.running:
                ledger._running[record.key] = record
            ledger._latest[record.charger_id, record.connector_id] = record
        ledger.prune(now)
        return ledger
