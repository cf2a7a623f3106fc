"""A plan as plain JSON-able data (storage, sensor attributes), and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .planner import PLAN_STATUSES, Plan, Slot
from .prices.values import read_number, read_time

_MAX_SLOTS = 500


def slot_to_dict(slot: Slot) -> dict[str, Any]:
    """One slot: ISO times, numbers as they are."""
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "power_kw": slot.power_kw,
        "current_a": slot.current_a,
        "energy_kwh": slot.energy_kwh,
        "price": slot.price,
        "cost": slot.cost,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The whole plan."""
    return {
        "status": plan.status,
        "created": plan.created.isoformat(),
        "departure": plan.departure.isoformat(),
        "energy_kwh": plan.energy_kwh,
        "deferred_kwh": plan.deferred_kwh,
        "estimated_cost": plan.estimated_cost,
        "power_kw": plan.power_kw,
        "current_a": plan.current_a,
        "slots": [slot_to_dict(slot) for slot in plan.slots],
    }


def _slot_from_dict(data: object) -> Slot | None:
    if not isinstance(data, Mapping):
        return None
    start, end = read_time(data.get("start")), read_time(data.get("end"))
    power, energy = read_number(data.get("power_kw")), read_number(data.get("energy_kwh"))
    cost = read_number(data.get("cost"))
    if start is None or end is None or end <= start:
        return None
    if power is None or power < 0 or energy is None or cost is None:
        return None
    return Slot(
        start=start,
        end=end,
        power_kw=power,
        current_a=read_number(data.get("current_a")),
        energy_kwh=energy,
        price=read_number(data.get("price")),
        cost=cost,
    )


def plan_from_dict(data: object) -> Plan | None:
    """A stored plan, or None when the stored data is not a plan we wrote."""
    if not isinstance(data, Mapping) or data.get("status") not in PLAN_STATUSES:
        return None
    created, departure = read_time(data.get("created")), read_time(data.get("departure"))
    raw_slots = data.get("slots")
    if created is None or departure is None or not isinstance(raw_slots, list):
        return None
    if len(raw_slots) > _MAX_SLOTS:
        return None
    slots = [_slot_from_dict(item) for item in raw_slots]
    if any(slot is None for slot in slots):
        return None
    numbers = [read_number(data.get(key)) for key in ("energy_kwh", "deferred_kwh", "power_kw")]
    cost = read_number(data.get("estimated_cost"))
    if cost is None or any(number is None or number < 0 for number in numbers):
        return None
    return Plan(
        status=str(data["status"]),
        created=created,
        departure=departure,
        slots=tuple(slot for slot in slots if slot is not None),
        energy_kwh=numbers[0] or 0.0,
        deferred_kwh=numbers[1] or 0.0,
        estimated_cost=cost,
        power_kw=numbers[2] or 0.0,
        current_a=read_number(data.get("current_a")),
    )
