"""Buttons: soft reset of the charger, unlock of a connector."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import CentralSystem, OcppConfigEntry
from .commands import async_reset, async_unlock
from .core.model import Charger, Connector
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppButtonDescription(OcppEntityDescription, ButtonEntityDescription):
    """Button description."""


RESET = OcppButtonDescription(
    key="reset", device_class=ButtonDeviceClass.RESTART, entity_category=EntityCategory.CONFIG
)
# Needed when a cable is stuck, not every day: with reset, not on the dashboard.
UNLOCK = OcppButtonDescription(key="unlock", entity_category=EntityCategory.CONFIG)


class ResetButton(OcppEntity, ButtonEntity):
    """Soft reset (a hard reset is the reset action)."""

    entity_description: OcppButtonDescription

    async def async_press(self) -> None:
        """Reset the charger."""
        await async_reset(self.central, self.charger, hard=False)


class UnlockButton(OcppEntity, ButtonEntity):
    """Unlock the connector's cable."""

    entity_description: OcppButtonDescription

    async def async_press(self) -> None:
        """Unlock."""
        await async_unlock(self.central, self.charger, self.connector.connector_id)


def _factory() -> EntityFactory[CentralSystem]:
    def charger_entities(central: CentralSystem, charger: Charger) -> list[OcppEntity]:
        return [ResetButton(central, charger, None, RESET, Platform.BUTTON)]

    def connector_entities(
        central: CentralSystem, charger: Charger, conn: Connector
    ) -> list[OcppEntity]:
        return [UnlockButton(central, charger, conn.connector_id, UNLOCK, Platform.BUTTON)]

    return EntityFactory(charger_entities, connector_entities)


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up buttons for every charger and connector, now and as they appear."""
    entry.runtime_data.devices.add_entity_factory(_factory(), async_add_entities)
