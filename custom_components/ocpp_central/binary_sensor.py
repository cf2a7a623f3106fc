"""Binary sensors: is the charger connected, and does it report a problem."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .central import CentralSystem, OcppConfigEntry
from .core.model import Charger
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppBinarySensorDescription(OcppEntityDescription, BinarySensorEntityDescription):
    """Binary sensor description."""


CHARGER_BINARY_SENSORS = (
    OcppBinarySensorDescription(
        key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: charger.connected,
    ),
    OcppBinarySensorDescription(
        key="problem",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda charger, conn: charger.problem,
    ),
)


# Only on chargers with upstream settings: their second central system accepted them.
UPSTREAM_BINARY_SENSOR = OcppBinarySensorDescription(
    key="upstream_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
    live=False,
    value_fn=lambda charger, conn: charger.upstream_connected,
)


class OcppBinarySensor(OcppEntity, BinarySensorEntity):
    """A binary sensor reading the model."""

    entity_description: OcppBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """The value read from the model."""
        return bool(self._value)


def _charger_entities(central: CentralSystem, charger: Charger) -> list[OcppEntity]:
    return [
        OcppBinarySensor(central, charger, None, description, Platform.BINARY_SENSOR)
        for description in CHARGER_BINARY_SENSORS
    ]


def _upstream_entities(central: CentralSystem, charger: Charger) -> list[OcppEntity]:
    return [
        OcppBinarySensor(central, charger, None, UPSTREAM_BINARY_SENSOR, Platform.BINARY_SENSOR)
    ]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up binary sensors for every charger, now and as they appear."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(_charger_entities, upstream=_upstream_entities), async_add_entities
    )
