"""One charging session as the ledger keeps it, and its stored form (versioned, migrated)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .ledger_energy import SessionMeter
from .ledger_pricing import (
    EnergySlice,
    Price,
    PricedStatus,
    merge_prices,
    priced_status,
    priced_summary,
    round_money,
)
from .ledger_values import (
    as_float,
    is_aware,
    non_negative,
    required_number,
    required_text,
    stored_non_negative,
    stored_number,
    stored_text,
    stored_time,
)

LEDGER_VERSION = 2
"""Version of the stored form. Version 1 is the model's Transaction (what the central system's
store keeps per connector as `transaction` and `last_session`) with its `charger_id`."""

# A reading stamped later than this after "now" comes from a charger whose clock is wrong.
CLOCK_AHEAD = timedelta(minutes=10)


@dataclass(slots=True)
class _Outcome:
    """A session's energy and cost, as computed or as stored."""

    periods: tuple[EnergySlice, ...] | None  # None until asked for (computed, or read)
    energy_kwh: float
    cost: float | None
    priced_cost: float
    unpriced_kwh: float
    priced: PricedStatus
    stored_periods: list[Any] | None = None


@dataclass(slots=True, eq=False)
class SessionRecord:
    """One session: who charged where, when, how much, and what it cost.

    A session started from Home Assistant carries the HA user behind the call (user_id,
    user_name) besides the id tag the charger used. `cost` is None unless every kWh had a
    price (`priced` says how much did); `priced_cost` is the cost of the part that had one.
    """

    charger_id: str
    connector_id: int
    transaction_id: int | str
    start: datetime
    currency: str
    id_tag: str | None = None
    id_tag_name: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    end: datetime | None = None  # None while running
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None
    meter: SessionMeter | None = field(default=None, repr=False)  # while running
    _outcome: _Outcome | None = field(default=None, repr=False)
    _stored: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, str]:
        """(charger, transaction id): what a stop or a reading names."""
        return self.charger_id, str(self.transaction_id)

    @property
    def running(self) -> bool:
        """The session has not ended."""
        return self.end is None

    def _result(self, *, final: bool = False) -> _Outcome:
        """Energy and cost; while running from the meter's running total, final from periods."""
        if self._outcome is None or final:
            meter = self.meter
            slices = None
            if meter is None:
                summary = (0.0, 0.0, 0.0)
            elif final:
                slices = tuple(meter.slices())
                summary = priced_summary(slices)
            else:
                summary = meter.summary()
            cost, priced_kwh, unpriced_kwh = summary
            status = priced_status(priced_kwh, unpriced_kwh)
            energy_wh = meter.energy.energy_wh if meter is not None else 0.0
            priced_cost = round_money(cost, self.currency)
            self._outcome = _Outcome(
                periods=slices,
                energy_kwh=round(energy_wh / 1000, 3),
                cost=priced_cost if status is PricedStatus.PRICED else None,
                priced_cost=priced_cost,
                unpriced_kwh=round(unpriced_kwh, 3),
                priced=status,
            )
        return self._outcome

    @property
    def periods(self) -> tuple[EnergySlice, ...]:
        """Energy per price period (and per stretch without a price), in time order."""
        outcome = self._result()
        if outcome.periods is None:  # computed, or read from storage, only when asked for
            if self.meter is not None:
                outcome.periods = tuple(self.meter.slices())
            else:
                outcome.periods = _periods(self.start, outcome.stored_periods or [])
                outcome.stored_periods = None
        return outcome.periods

    @property
    def energy_kwh(self) -> float:
        """Energy charged (kWh, three decimals)."""
        return self._result().energy_kwh

    @property
    def cost(self) -> float | None:
        """What the energy cost, in the currency's minor unit; None unless all had a price."""
        return self._result().cost

    @property
    def priced(self) -> PricedStatus:
        """How much of the energy had a price."""
        return self._result().priced

    @property
    def priced_cost(self) -> float:
        """Cost of the energy that had a price (all of it when `priced` is priced)."""
        return self._result().priced_cost

    @property
    def unpriced_kwh(self) -> float:
        """Energy charged while no price was known (kWh, three decimals)."""
        return self._result().unpriced_kwh

    def add_readings(self, readings: Iterable[tuple[datetime, float]], now: datetime) -> bool:
        """Add register readings of this running session; True when any changed it.

        Readings stamped before the start, later than `now` (give or take a wrong clock),
        non-finite or out of range are ignored, as are readings for an ended session.
        """
        if self.meter is None or self.end is not None:
            return False
        low, high = self.start.timestamp(), (now + CLOCK_AHEAD).timestamp()
        changed = False
        for when, wh in readings:
            if not isinstance(when, datetime) or not is_aware(when):
                continue
            t = when.timestamp()
            if (value := as_float(wh)) is not None and low <= t <= high:
                changed = self.meter.energy.add(t, value) or changed
        if changed:
            self._outcome = None
        return changed

    def note_prices(self, prices: list[Price]) -> None:
        """Remember prices (from price_tuples) for a running session priced by a source."""
        if self.meter is None or self.meter.fixed_price is not None:
            return
        start = self.start.timestamp()
        relevant = [period for period in prices if period[1] > start]
        if relevant:
            self.meter.set_prices(merge_prices(self.meter.prices, relevant))
            self._outcome = None

    def finish(self, end: datetime, meter_stop_wh: float | None, stop_reason: str | None) -> None:
        """End the session: its energy and cost become final, its readings are let go."""
        if self.meter is None or self.end is not None:
            return
        end = max(end, self.start)
        self.meter.energy.drop_after(end.timestamp())
        if (stop_wh := non_negative(meter_stop_wh)) is not None:
            self.add_readings([(end, stop_wh)], end)
            self.meter_stop_wh = stop_wh
        self.end, self.stop_reason = end, stop_reason
        self._result(final=True)
        self.meter = None
        self._stored = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for HA's Store (LEDGER_VERSION). An ended record's is cached: don't mutate."""
        if self._stored is not None:
            return self._stored
        data: dict[str, Any] = {
            "charger_id": self.charger_id,
            "connector_id": self.connector_id,
            "transaction_id": self.transaction_id,
            "start": self.start.isoformat(),
            "currency": self.currency,
        }
        for name in _OPTIONAL:  # absent rather than null: a stored ledger is mostly these
            if (value := getattr(self, name)) is not None:
                data[name] = value
        if self.end is not None:
            data["end"] = self.end.isoformat()
        if self.meter is not None:
            data["running"] = self.meter.as_dict()
            return data
        outcome = self._result()
        data.update(
            energy_kwh=outcome.energy_kwh,
            cost=outcome.cost,
            priced_cost=outcome.priced_cost,
            unpriced_kwh=outcome.unpriced_kwh,
            priced=str(outcome.priced),
            periods=[
                [
                    _seconds(p.start - self.start),
                    _seconds(p.end - p.start),
                    round(p.kwh, 6),
                    p.price,
                ]
                for p in self.periods
            ],
        )
        self._stored = data
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Restore from storage (ValueError, TypeError or KeyError when broken)."""
        connector_id = data["connector_id"]
        transaction_id = data["transaction_id"]
        if isinstance(connector_id, bool) or not isinstance(connector_id, int):
            raise TypeError("connector id")
        if isinstance(transaction_id, bool) or not isinstance(transaction_id, int | str):
            raise TypeError("transaction id")
        record = cls(
            charger_id=required_text(data["charger_id"]),
            connector_id=connector_id,
            transaction_id=transaction_id,
            start=stored_time(data["start"]),
            currency=required_text(data["currency"], allow_empty=True),
            id_tag=stored_text(data.get("id_tag")),
            id_tag_name=stored_text(data.get("id_tag_name")),
            user_id=stored_text(data.get("user_id")),
            user_name=stored_text(data.get("user_name")),
            end=None if data.get("end") is None else stored_time(data["end"]),
            meter_start_wh=stored_number(data.get("meter_start_wh")),
            meter_stop_wh=stored_number(data.get("meter_stop_wh")),
            stop_reason=stored_text(data.get("stop_reason")),
        )
        if record.end is None:
            record.meter = SessionMeter.from_dict(data["running"])
            return record
        cost = stored_number(data["cost"])
        if not isinstance(periods := data["periods"], list):
            raise TypeError("periods")
        record._outcome = _Outcome(
            periods=None,
            energy_kwh=stored_non_negative(data["energy_kwh"]),
            cost=cost,
            priced_cost=required_number(data["priced_cost"]),
            unpriced_kwh=stored_non_negative(data["unpriced_kwh"]),
            priced=PricedStatus(data["priced"]),
            stored_periods=periods,
        )
        record._stored = dict(data)
        return record


_OPTIONAL = (
    "id_tag",
    "id_tag_name",
    "user_id",
    "user_name",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
)


def _seconds(delta: timedelta) -> float | int:
    seconds = delta.total_seconds()
    return int(seconds) if seconds.is_integer() else seconds


def _periods(session_start: datetime, stored: list[Any]) -> tuple[EnergySlice, ...]:
    """Stored periods: [start (s after the session's), length (s), kWh, price]; broken ones out."""
    base = session_start.astimezone(UTC)
    periods = []
    for item in stored:
        try:
            offset, length, kwh, price = item
            start = base + timedelta(seconds=required_number(offset))
            end = start + timedelta(seconds=stored_non_negative(length))
            periods.append(EnergySlice(start, end, stored_non_negative(kwh), stored_number(price)))
        except (TypeError, ValueError, OverflowError):
            continue
    return tuple(periods)
