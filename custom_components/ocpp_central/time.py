"""Time: planned mode's daily departure of a connector (while smart charging is set up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import CentralSystem, OcppConfigEntry
from .core.model import Charger, Connector
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppTimeDescription(OcppEntityDescription, TimeEntityDescription):
    """Time description."""


DEPARTURE = OcppTimeDescription(
    key="departure",
    # The homeowner's setting: it can be changed while the charger is offline.
    live=False,
    value_fn=lambda charger, conn: conn.smart.departure,
)


class DepartureTime(OcppEntity, TimeEntity):
    """When the car leaves, every day: the plan has its energy in it by the next one."""

    entity_description: OcppTimeDescription

    @property
    def native_value(self) -> time | None:
        """The departure, local time of day."""
        return self._value  # type: ignore[no-any-return]

    async def async_set_value(self, value: time) -> None:
        """Keep the departure (whole minutes) and plan for it at once."""
        self.connector.smart.departure = value.replace(second=0, microsecond=0, tzinfo=None)
        self.central.smart.planner.settings_changed(self.charger, self.connector.connector_id)


def _smart_entities(central: CentralSystem, charger: Charger, conn: Connector) -> list[OcppEntity]:
    return [DepartureTime(central, charger, conn.connector_id, DEPARTURE, Platform.TIME)]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up the departure of every connector while smart charging is set up."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(lambda central, charger: [], smart=_smart_entities), async_add_entities
    )
