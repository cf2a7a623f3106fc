"""Select: the charging mode of a connector (while smart charging is set up)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import CentralSystem, OcppConfigEntry
from .core.model import Charger, Connector
from .core.smart import ChargingMode
from .core.smart.state import SELECTABLE_MODES
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppSelectDescription(OcppEntityDescription, SelectEntityDescription):
    """Select description."""


CHARGING_MODE = OcppSelectDescription(
    key="charging_mode",
    options=[mode.value for mode in SELECTABLE_MODES],
    # A choice of the homeowner's: it can be made while the charger is offline.
    live=False,
    value_fn=lambda charger, conn: conn.smart.mode.value,
)


class ChargingModeSelect(OcppEntity, SelectEntity):
    """manual (the user's own limit rules), fast, solar or min_solar."""

    entity_description: OcppSelectDescription

    @property
    def current_option(self) -> str | None:
        """The connector's mode."""
        return self._value  # type: ignore[no-any-return]

    async def async_select_option(self, option: str) -> None:
        """Apply a mode at once (the fuse is protected in every mode)."""
        self.central.smart.set_mode(self.charger, self.connector.connector_id, ChargingMode(option))


def _smart_entities(central: CentralSystem, charger: Charger, conn: Connector) -> list[OcppEntity]:
    return [ChargingModeSelect(central, charger, conn.connector_id, CHARGING_MODE, Platform.SELECT)]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up the mode of every connector while smart charging is set up."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(lambda central, charger: [], smart=_smart_entities), async_add_entities
    )
