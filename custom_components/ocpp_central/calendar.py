"""The `sessions` calendar of each connector: every charging session as an event.

An event reads "12.4 kWh · 18.60 SEK · Anna's card": the energy, the cost (left out while not
all of the energy had a price), and who charged (the HA user who started it from Home
Assistant, else the id tag's name, else the id tag). In the calendar the running session
is an event that ends now. The entity is on while a session runs: its state's event then
ends an hour ahead, and is written again by the message that adds a whole kWh (so the state
and its message follow the session without a write for every reading, or a timer of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .central import CentralSystem, OcppConfigEntry
from .const import DOMAIN
from .core.ledger import PricedStatus, SessionRecord
from .core.ledger_pricing import minor_units
from .core.model import Charger, Connector
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription
from .plan_calendar import CHARGING_PLAN, ChargingPlanCalendar

PARALLEL_UPDATES = 0

# How far back a session may have started and still reach into the asked range.
LOOKBACK = timedelta(days=31)
# Calendars want an end after the start; a session that ended the second it began gets one.
MIN_LENGTH = timedelta(seconds=1)
# How far ahead the running session's event ends in the entity's state (its end is unknown).
RUNNING_AHEAD = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True)
class SessionsCalendarDescription(OcppEntityDescription, CalendarEntityDescription):
    """Calendar description."""


SESSIONS = SessionsCalendarDescription(key="sessions", live=False)

# The description's lines, in English if a translation is missing (see translations: the
# `session_event` selector holds them, as HA has no category for free text).
_TEXTS = {
    "charging_now": "Charging now",
    "started_by": "Started by {user} in Home Assistant",
    "id_tag": "Id tag: {id_tag}",
    "stopped": "Stopped: {reason}",
    "unpriced": "Without a price: {energy} kWh",
}


@dataclass(frozen=True, slots=True)
class EventTexts:
    """The description's lines in Home Assistant's language."""

    texts: dict[str, str]

    def line(self, key: str, **values: str) -> str:
        """One line with its values filled in."""
        return self.texts.get(key, _TEXTS[key]).format(**values)


async def async_event_texts(hass: HomeAssistant) -> EventTexts:
    """The lines in HA's language (HA caches the translations)."""
    loaded = await translation.async_get_translations(
        hass, hass.config.language, "selector", {DOMAIN}
    )
    prefix = f"component.{DOMAIN}.selector.session_event.options."
    return EventTexts({key: loaded.get(prefix + key, text) for key, text in _TEXTS.items()})


def who(record: SessionRecord) -> str | None:
    """Who charged: the HA user who started it, else the id tag's name, else the id tag."""
    return record.user_name or record.id_tag_name or record.id_tag


def summary(record: SessionRecord) -> str:
    """`12.4 kWh · 18.60 SEK · Anna's card` (the cost only when all energy had a price)."""
    parts = [f"{record.energy_kwh:.1f} kWh"]
    if (cost := record.cost) is not None:
        parts.append(f"{cost + 0.0:.{minor_units(record.currency)}f} {record.currency}".strip())
    if (name := who(record)) is not None:
        parts.append(name)
    return " · ".join(parts)


def description(record: SessionRecord, texts: EventTexts) -> str:
    """Details, one a line: how it started, the id tag, how it ended, energy without a price."""
    lines = []
    if record.running:
        lines.append(texts.line("charging_now"))
    if record.user_name is not None:
        lines.append(texts.line("started_by", user=record.user_name))
    if record.id_tag is not None:
        tag = record.id_tag
        if record.id_tag_name:
            tag = f"{record.id_tag_name} ({tag})"
        lines.append(texts.line("id_tag", id_tag=tag))
    if record.stop_reason:
        lines.append(texts.line("stopped", reason=record.stop_reason))
    if record.priced is not PricedStatus.PRICED:
        lines.append(texts.line("unpriced", energy=f"{record.unpriced_kwh:.1f}"))
    return "\n".join(lines)


def session_event(record: SessionRecord, end: datetime, texts: EventTexts) -> CalendarEvent:
    """A session as an event in HA's time zone, ending at `end` (its end, or now)."""
    start = dt_util.as_local(record.start)
    return CalendarEvent(
        start=start,
        end=max(dt_util.as_local(end), start + MIN_LENGTH),
        summary=summary(record),
        description=description(record, texts),
        uid=f"{record.charger_id}-{record.transaction_id}-{int(record.start.timestamp())}",
    )


class SessionsCalendar(OcppEntity, CalendarEntity):
    """A connector's charging history (and the session running now)."""

    entity_description: SessionsCalendarDescription
    _texts = EventTexts({})

    async def async_added_to_hass(self) -> None:
        """Load the description's lines in HA's language, then follow the model."""
        self._texts = await async_event_texts(self.hass)
        await super().async_added_to_hass()

    def _record(self) -> SessionRecord | None:
        return self.central.ledger.latest(self.charger.charger_id, self.connector.connector_id)

    def _read(self) -> tuple[object, None]:
        """Written when a session starts or ends, and as it passes each whole kWh."""
        record = self._record()
        if record is None or not record.running:
            return None, None
        return (record.key, int(record.energy_kwh)), None

    @property
    def event(self) -> CalendarEvent | None:
        """The session running now (ending an hour ahead); None when none runs."""
        record = self._record()
        if record is None or not record.running:
            return None
        return session_event(record, dt_util.utcnow() + RUNNING_AHEAD, self._texts)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Sessions overlapping [start_date, end_date); a running one ends now."""
        texts = self._texts = await async_event_texts(hass)
        now = dt_util.utcnow()
        records = self.central.ledger.ledger.sessions(
            start_date - LOOKBACK,
            end_date,
            charger_ids=(self.charger.charger_id,),
            connector_id=self.connector.connector_id,
        )
        return [
            session_event(record, record.end or now, texts)
            for record in records
            if (record.end or now) > start_date
        ]


def _connector_entities(
    central: CentralSystem, charger: Charger, conn: Connector
) -> list[OcppEntity]:
    return [SessionsCalendar(central, charger, conn.connector_id, SESSIONS, Platform.CALENDAR)]


def _smart_entities(central: CentralSystem, charger: Charger, conn: Connector) -> list[OcppEntity]:
    return [
        ChargingPlanCalendar(central, charger, conn.connector_id, CHARGING_PLAN, Platform.CALENDAR)
    ]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up a sessions calendar for every connector, now and as they appear, and its
    charging plan while smart charging is set up."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(lambda central, charger: [], _connector_entities, smart=_smart_entities),
        async_add_entities,
    )
