"""Totals of sessions (energy, cost, count) overall, per id tag and per Home Assistant user.

Costs in different currencies are never added together: `cost_by_currency` keeps one sum per
currency, and `cost` is given only when there is one. Energy without a price is never priced
here either: `cost` is None when any of it had none, `cost_by_currency` then sums what had one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .ledger_pricing import round_money
from .ledger_record import SessionRecord


@dataclass(slots=True)
class Totals:
    """Sums over a group of sessions."""

    count: int = 0
    name: str | None = None  # the id tag's or user's name, as the newest session had it
    _energy_kwh: float = field(default=0.0, init=False)
    _unpriced_kwh: float = field(default=0.0, init=False)
    _costs: dict[str, float] = field(default_factory=dict, init=False)

    def add(self, record: SessionRecord, name: str | None = None) -> None:
        """Count one session in."""
        self.count += 1
        self._energy_kwh += record.energy_kwh
        self._unpriced_kwh += record.unpriced_kwh
        if record.energy_kwh > record.unpriced_kwh:  # some energy had a price, in this currency
            currency = record.currency
            self._costs[currency] = self._costs.get(currency, 0.0) + record.priced_cost
        if name is not None:
            self.name = name

    @property
    def energy_kwh(self) -> float:
        """All energy, kWh."""
        return round(self._energy_kwh, 3)

    @property
    def unpriced_kwh(self) -> float:
        """Energy charged while no price was known, kWh."""
        return round(self._unpriced_kwh, 3)

    @property
    def cost_by_currency(self) -> dict[str, float]:
        """Cost of the energy that had a price, per currency (each session rounded first)."""
        return {currency: round_money(cost, currency) for currency, cost in self._costs.items()}

    @property
    def currency(self) -> str | None:
        """The currency of the priced energy; None when there is none, or more than one."""
        return next(iter(self._costs)) if len(self._costs) == 1 else None

    @property
    def cost(self) -> float | None:
        """What all the energy cost; None if any had no price or currencies differ."""
        if self._unpriced_kwh > 0 or len(self._costs) > 1:
            return None
        return next(iter(self.cost_by_currency.values()), 0.0)

    def as_dict(self, *, with_name: bool = True) -> dict[str, Any]:
        """Plain data for a service response."""
        data: dict[str, Any] = {"name": self.name} if with_name else {}
        data.update(
            count=self.count,
            energy_kwh=self.energy_kwh,
            cost=self.cost,
            currency=self.currency,
            unpriced_kwh=self.unpriced_kwh,
            cost_by_currency=self.cost_by_currency,
        )
        return data


@dataclass(slots=True)
class SessionTotals:
    """Totals overall, per id tag and per HA user (only sessions that have one count there)."""

    overall: Totals = field(default_factory=Totals)
    id_tags: dict[str, Totals] = field(default_factory=dict)
    users: dict[str, Totals] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a service response."""
        return {
            "overall": self.overall.as_dict(with_name=False),
            "id_tags": {tag: group.as_dict() for tag, group in self.id_tags.items()},
            "users": {user: group.as_dict() for user, group in self.users.items()},
        }


def totals(records: Iterable[SessionRecord]) -> SessionTotals:
    """Totals of the given sessions (a running one counts with what it has charged so far)."""
    result = SessionTotals()
    for record in records:
        result.overall.add(record)
        if record.id_tag is not None:
            result.id_tags.setdefault(record.id_tag, Totals()).add(record, record.id_tag_name)
        if record.user_id is not None:
            result.users.setdefault(record.user_id, Totals()).add(record, record.user_name)
    return result
