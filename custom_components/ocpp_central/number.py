"""Number: the charging current limit of a connector."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import Platform, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from .central import CentralSystem, EntityFactory, OcppConfigEntry
from .commands import async_set_charging_limit
from .entity import OcppEntity, OcppEntityDescription
from .limits import ChargingLimit, limit_now
from .model import Charger, Connector

PARALLEL_UPDATES = 1


def _limit(charger: Charger, conn: Connector) -> float | None:
    if conn.limit is None:
        return None
    return limit_now(conn.limit, dt_util.now().time())


CHARGING_LIMIT = OcppEntityDescription(key="charging_limit", value_fn=_limit)


class ChargingLimitNumber(OcppEntity, NumberEntity):
    """The limit in A; without a limit of ours it shows the charger's maximum."""

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_min_value = 0
    _attr_native_step = 1
    _attr_mode = NumberMode.SLIDER

    @property
    def native_max_value(self) -> float:
        """The charger's maximum, as the user configured it."""
        return self.central.electrical_settings(self.charger.charger_id).max_current

    @property
    def native_value(self) -> float:
        """The limit in force now."""
        return self._value if self._value is not None else self.native_max_value

    async def async_set_native_value(self, value: float) -> None:
        """Set a constant limit (0 pauses charging)."""
        await async_set_charging_limit(
            self.central, self.charger, self.connector.connector_id, ChargingLimit(value)
        )


def _connector_entities(
    central: CentralSystem, charger: Charger, conn: Connector
) -> list[OcppEntity]:
    return [
        ChargingLimitNumber(central, charger, conn.connector_id, CHARGING_LIMIT, Platform.NUMBER)
    ]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddEntitiesCallback
) -> None:
    """Set up limits for every connector, now and as they appear."""
    entry.runtime_data.add_entity_factory(
        EntityFactory(lambda central, charger: [], _connector_entities), async_add_entities
    )
