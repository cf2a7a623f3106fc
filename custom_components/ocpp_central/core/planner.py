"""The charging plan: when to charge so the car has its energy by departure, at the lowest cost.

`plan()` is pure: prices, the moment, the departure, the energy still needed and the power the
connector can get go in; a Plan comes out. All arithmetic is on UTC instants, so DST nights
(23 or 25 hours) need no special case. The caller replans whenever an input changes (prices
arrive, the target, the departure or the power changes, delivery deviates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import math

from .plan_select import Piece, Window, choose_at_most
from .prices.period import PricePeriod

STATUS_IDLE = "idle"
STATUS_WAITING = "waiting"
STATUS_CHARGING = "charging"
STATUS_COMPLETE = "complete"
STATUS_CANNOT_FINISH = "cannot_finish"
STATUS_NO_PRICES = "no_prices"
PLAN_STATUSES = (
    STATUS_IDLE,
    STATUS_WAITING,
    STATUS_CHARGING,
    STATUS_COMPLETE,
    STATUS_CANNOT_FINISH,
    STATUS_NO_PRICES,
)
# Statuses that do not change as time passes (the rest follow the slots).
_FIXED_STATUSES = (STATUS_IDLE, STATUS_COMPLETE, STATUS_CANNOT_FINISH)

# Less than this is "nothing" (a meter's rounding, a float's).
EPSILON_KWH = 0.01


@dataclass(frozen=True, slots=True)
class Slot:
    """One block of charging at `power_kw` (and `current_a` per phase, when known)."""

    start: datetime
    end: datetime
    power_kw: float
    current_a: float | None
    energy_kwh: float
    price: float | None  # average per kWh over the slot; None when part of it has no price
    cost: float  # of the part with a known price


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan made at `created` for `departure`, and its status at that moment."""

    status: str
    created: datetime
    departure: datetime
    slots: tuple[Slot, ...] = ()
    energy_kwh: float = 0.0  # planned in the slots
    deferred_kwh: float = 0.0  # left for time whose prices are not known yet
    estimated_cost: float = 0.0
    power_kw: float = 0.0  # what the plan was made for (slots charge at it)
    current_a: float | None = None

    @property
    def next_start(self) -> datetime | None:
        """Start of the first slot (the plan's own moment when it charges right away)."""
        return self.slots[0].start if self.slots else None

    @property
    def deferred_start(self) -> datetime | None:
        """When the deferred energy starts charging at full power if no replan (prices
        arriving) comes first: as late as still finishes by departure, whole minutes."""
        if self.deferred_kwh <= EPSILON_KWH or self.power_kw <= 0:
            return None
        start = self.departure - timedelta(hours=self.deferred_kwh / self.power_kw)
        return start.replace(second=0, microsecond=0)

    def slot_at(self, moment: datetime) -> Slot | None:
        """The slot charging at `moment`, if any."""
        return next((slot for slot in self.slots if slot.start <= moment < slot.end), None)

    def next_start_after(self, moment: datetime) -> datetime | None:
        """Start of the slot charging at `moment` or the next one (for `planned_start`)."""
        return next((slot.start for slot in self.slots if slot.end > moment), None)

    def status_at(self, moment: datetime) -> str:
        """The status as time passes without a replan: what the pushed schedule does, with
        the stand-in for deferred energy (`plan_schedule`'s default)."""
        if self.status in _FIXED_STATUSES:
            return self.status
        deferred = self.deferred_start
        if self.slot_at(moment) is not None or (
            deferred is not None and deferred <= moment < self.departure
        ):
            return STATUS_CHARGING
        if self.next_start_after(moment) is not None or (
            deferred is not None and moment < deferred
        ):
            return STATUS_NO_PRICES if self.status == STATUS_NO_PRICES else STATUS_WAITING
        return STATUS_COMPLETE


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _sane(value: float) -> float:
    """A non-negative finite number (0 for anything else)."""
    return value if isinstance(value, int | float) and math.isfinite(value) and value > 0 else 0.0


def _hours(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds() / 3600, 0.0)


def _windows(
    prices: Iterable[PricePeriod], now: datetime, departure: datetime
) -> tuple[list[Window], datetime]:
    """Priced windows clipped to [now, departure], holes between them as unpriced windows,
    and where known prices end (the rest, up to departure, waits for prices)."""
    periods = sorted(
        (
            PricePeriod(p.start.astimezone(UTC), p.end.astimezone(UTC), p.price)
            for p in prices
            if math.isfinite(p.price)
        ),
        key=lambda p: p.start,
    )
    known_end = max((p.end for p in periods), default=now)
    horizon = min(max(known_end, now), departure)
    windows: list[Window] = []
    cursor = now
    for period in periods:
        start, end = max(period.start, cursor), min(period.end, horizon)
        if end <= start:
            continue  # in the past, beyond the horizon, or overlapping what came before
        if start > cursor:
            windows.append(Window(cursor, start, None))
        windows.append(Window(start, end, period.price))
        cursor = end
    return windows, horizon


def _slots(pieces: Iterable[Piece], base: Plan) -> tuple[Slot, ...]:
    """Contiguous pieces merged into slots, with their energy, average price and cost."""
    groups: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda piece: piece.start):
        if groups and groups[-1][-1].end == piece.start:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    slots = []
    for group in groups:
        energy = sum(base.power_kw * _hours(p.end, p.start) for p in group)
        cost = sum(base.power_kw * _hours(p.end, p.start) * (p.price or 0.0) for p in group)
        priced = all(p.price is not None for p in group) and energy > 0
        slots.append(
            Slot(
                start=group[0].start,
                end=group[-1].end,
                power_kw=base.power_kw,
                current_a=base.current_a,
                energy_kwh=energy,
                price=cost / energy if priced else None,
                cost=cost,
            )
        )
    return tuple(slots)


def _finish(base: Plan, pieces: list[Piece]) -> Plan:
    """The base plan with its slots, totals and the status at its own moment."""
    slots = _slots(pieces, base)
    status = base.status
    if status == STATUS_WAITING and slots and slots[0].start <= base.created:
        status = STATUS_CHARGING
    return replace(
        base,
        status=status,
        slots=slots,
        energy_kwh=sum(slot.energy_kwh for slot in slots),
        estimated_cost=sum(slot.cost for slot in slots),
    )


def plan(
    prices: Iterable[PricePeriod],
    now: datetime,
    departure: datetime,
    energy_needed_kwh: float,
    power_kw: float,
    *,
    contiguity_threshold: float = 0.0,
    phases: int | None = None,
    voltage: float | None = None,
    max_slots: int | None = None,
) -> Plan:
    """Plan charging `energy_needed_kwh` by `departure` at `power_kw` in the cheapest time.

    - Charges only in time with a known price; when prices do not reach departure yet, what
      the unknown rest can still deliver at full power is deferred (`deferred_kwh`) and only
      the remainder is planned now: the caller replans when prices arrive. Holes inside the
      known prices are used only when priced time is not enough.
    - `contiguity_threshold` (per kWh, the prices' currency) buys fewer start/stops: the plan
      may cost up to threshold x energy more than the cheapest one.
    - `max_slots` (what the charger's schedule can hold) widens that trade until the plan
      fits, when the prices allow.
    - When even charging at full power from now cannot deliver the energy, the plan charges
      from now to departure and says `cannot_finish`.
    """
    now, departure = _utc(now, "now"), _utc(departure, "departure")
    energy, power = _sane(energy_needed_kwh), _sane(power_kw)
    threshold = _sane(contiguity_threshold)
    current = power * 1000 / (phases * voltage) if phases and voltage else None
    base = Plan(STATUS_WAITING, now, departure, power_kw=power, current_a=current)
    if energy <= EPSILON_KWH:
        return replace(base, status=STATUS_COMPLETE)
    if departure <= now:
        return replace(base, status=STATUS_IDLE)
    if power <= 0:
        return replace(base, status=STATUS_CANNOT_FINISH)
    windows, horizon = _windows(prices, now, departure)
    if power * _hours(departure, now) < energy - EPSILON_KWH:
        everything = [Piece(w.start, w.end, w.price) for w in windows]
        if horizon < departure:
            everything.append(Piece(horizon, departure, None))
        return _finish(replace(base, status=STATUS_CANNOT_FINISH), everything)
    deferred = min(energy, power * _hours(departure, horizon))
    base = replace(base, deferred_kwh=deferred)
    if energy - deferred <= EPSILON_KWH:
        priced = any(window.price is not None for window in windows)
        return replace(base, status=STATUS_WAITING if priced else STATUS_NO_PRICES)
    pieces = choose_at_most(windows, (energy - deferred) / power, threshold, max_slots)
    return _finish(base, pieces)
