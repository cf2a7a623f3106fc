"""The `charging_plan` calendar of each connector: the planned slots as events.

An event reads "7.4 kWh · 0.42 SEK/kWh" (the price left out where part of the slot has none).
The entity is on during a slot, so automations can follow the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .core.planner import Slot
from .entity import OcppEntity, OcppEntityDescription


@dataclass(frozen=True, kw_only=True)
class PlanCalendarDescription(OcppEntityDescription, CalendarEntityDescription):
    """Calendar description."""


CHARGING_PLAN = PlanCalendarDescription(key="charging_plan", live=False)


def slot_event(slot: Slot, currency: str) -> CalendarEvent:
    """A planned slot as an event in HA's time zone."""
    parts = [f"{slot.energy_kwh:.1f} kWh"]
    if slot.price is not None:
        parts.append(f"{slot.price:.2f} {currency}/kWh".strip())
    start = dt_util.as_local(slot.start)
    return CalendarEvent(
        start=start,
        end=dt_util.as_local(slot.end),
        summary=" · ".join(parts),
        uid=f"plan-{int(slot.start.timestamp())}",
    )


class ChargingPlanCalendar(OcppEntity, CalendarEntity):
    """A connector's charging plan: its slots ahead (the one running now included)."""

    entity_description: PlanCalendarDescription

    def _slots(self) -> tuple[Slot, ...]:
        plan = self.connector.smart.plan
        return plan.slots if plan is not None else ()

    def _read(self) -> tuple[object, None]:
        """Written when the plan changes or a slot starts or ends."""
        now = dt_util.utcnow()
        return (self._slots(), self.connector.smart.plan_status, self._next(now)), None

    def _next(self, now: datetime) -> Slot | None:
        return next((slot for slot in self._slots() if slot.end > now), None)

    @property
    def event(self) -> CalendarEvent | None:
        """The slot running now, else the next one."""
        slot = self._next(dt_util.utcnow())
        return slot_event(slot, self.hass.config.currency) if slot is not None else None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Planned slots overlapping [start_date, end_date)."""
        return [
            slot_event(slot, hass.config.currency)
            for slot in self._slots()
            if slot.end > start_date and slot.start < end_date
        ]
