"""Switches: charging on a connector (remote start/stop), availability of the charger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import CentralSystem, OcppConfigEntry
from .commands import async_set_availability, async_start_charging, async_stop_charging
from .core.model import Charger, Connector, ConnectorStatus
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppSwitchDescription(OcppEntityDescription, SwitchEntityDescription):
    """Switch description."""


CHARGING = OcppSwitchDescription(
    key="charging",
    value_fn=lambda charger, conn: conn.transaction is not None,
)


# Configuration: off makes the charger inoperative, so it stays out of the dashboard card
# (and of its header toggle, which would switch it together with charging).
AVAILABLE = OcppSwitchDescription(
    key="available",
    entity_category=EntityCategory.CONFIG,
    value_fn=lambda charger, conn: charger.status != ConnectorStatus.UNAVAILABLE,
)


class AvailableSwitch(OcppEntity, SwitchEntity):
    """Operative (on) or Inoperative (off), for the whole charger."""

    entity_description: OcppSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether the charger is not unavailable."""
        return bool(self._value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """ChangeAvailability Operative."""
        await async_set_availability(self.central, self.charger, 0, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """ChangeAvailability Inoperative."""
        await async_set_availability(self.central, self.charger, 0, False)


class ChargingSwitch(OcppEntity, SwitchEntity):
    """On while a session runs; turning it on or off asks the charger to start or stop."""

    entity_description: OcppSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether a session runs on this connector."""
        return bool(self._value)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Remote start."""
        await async_start_charging(
            self.central, self.charger, self.connector.connector_id, None, self._context
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Remote stop."""
        await async_stop_charging(self.central, self.charger, self.connector.connector_id)


def _charger_entities(central: CentralSystem, charger: Charger) -> list[OcppEntity]:
    return [AvailableSwitch(central, charger, None, AVAILABLE, Platform.SWITCH)]


def _connector_entities(
    central: CentralSystem, charger: Charger, conn: Connector
) -> list[OcppEntity]:
    return [ChargingSwitch(central, charger, conn.connector_id, CHARGING, Platform.SWITCH)]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up switches for every connector, now and as they appear."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(_charger_entities, _connector_entities), async_add_entities
    )
