"""Switches: charging on a connector (remote start/stop)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .central import CentralSystem, EntityFactory, OcppConfigEntry
from .commands import async_start_charging, async_stop_charging
from .entity import OcppEntity, OcppEntityDescription
from .model import Charger, Connector

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppSwitchDescription(OcppEntityDescription, SwitchEntityDescription):
    """Switch description."""


CHARGING = OcppSwitchDescription(
    key="charging",
    value_fn=lambda charger, conn: conn.transaction is not None,
)


class ChargingSwitch(OcppEntity, SwitchEntity):
    """On while a session runs; turning it on or off asks the charger to start or stop."""

    @property
    def is_on(self) -> bool:
        """Whether a session runs on this connector."""
        return bool(self._value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Remote start."""
        await async_start_charging(self.central, self.charger, self.connector.connector_id, None)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Remote stop."""
        await async_stop_charging(self.central, self.charger, self.connector.connector_id)


def _connector_entities(
    central: CentralSystem, charger: Charger, conn: Connector
) -> list[OcppEntity]:
    return [ChargingSwitch(central, charger, conn.connector_id, CHARGING, Platform.SWITCH)]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Set up switches for every connector, now and as they appear."""
    entry.runtime_data.add_entity_factory(
        EntityFactory(lambda central, charger: [], _connector_entities), async_add_entities
    )
