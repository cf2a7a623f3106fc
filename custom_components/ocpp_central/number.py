"""Number: the charging current limit of a connector; planned mode's targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, Platform, UnitOfElectricCurrent, UnitOfEnergy
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .central import CentralSystem, OcppConfigEntry
from .commands import async_set_charging_limit
from .core.limits import ChargingLimit, limit_now, next_change
from .core.model import Charger, Connector
from .core.smart.state import (
    TARGET_ENERGY,
    TARGET_ENERGY_MAX,
    TARGET_ENERGY_MIN,
    TARGET_SOC,
    TARGET_SOC_MAX,
    TARGET_SOC_MIN,
)
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription

PARALLEL_UPDATES = 1


def _limit(charger: Charger, conn: Connector) -> float | None:
    if conn.limit is None or conn.limit.expired(dt_util.utcnow()):
        return None
    return limit_now(conn.limit, dt_util.now().time())


@dataclass(frozen=True, kw_only=True)
class OcppNumberDescription(OcppEntityDescription, NumberEntityDescription):
    """Number description."""


CHARGING_LIMIT = OcppNumberDescription(key="charging_limit", value_fn=_limit)


class ChargingLimitNumber(OcppEntity, NumberEntity):
    """The limit in A; without a limit of ours it shows the charger's maximum."""

    entity_description: OcppNumberDescription

    _attr_device_class = NumberDeviceClass.CURRENT
    _attr_native_unit_of_measurement = UnitOfElectricCurrent.AMPERE
    _attr_native_min_value = 0
    _attr_native_step = 1
    _attr_mode = NumberMode.SLIDER

    @property
    def native_max_value(self) -> float:
        """The charger's maximum, as the user configured it."""
        return self.central.electrical_settings(self.charger.charger_id).max_current

    _unsub_refresh: CALLBACK_TYPE | None = None
    _refresh_for: ChargingLimit | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the model, and the clock where the limit changes with time."""
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_refresh)
        self._schedule_refresh()

    @callback
    def _on_model_update(self) -> None:
        super()._on_model_update()
        self._schedule_refresh()

    @callback
    def _cancel_refresh(self) -> None:
        if self._unsub_refresh is not None:
            self._unsub_refresh()
            self._unsub_refresh = None

    @callback
    def _schedule_refresh(self) -> None:
        """Wake up when a schedule period starts or a limit's duration ends."""
        limit = self.connector.limit
        if limit is self._refresh_for:
            return
        self._refresh_for = limit
        self._cancel_refresh()
        if limit is not None and (when := next_change(limit, dt_util.now())) is not None:
            self._unsub_refresh = async_track_point_in_utc_time(self.hass, self._refresh, when)

    @callback
    def _refresh(self, _now: object) -> None:
        self._unsub_refresh = None
        self._refresh_for = None
        self._on_model_update()

    def _read(self) -> tuple[Any, dict[str, Any] | None]:
        """The limit and the maximum: a changed maximum (charger setting) is a change too.

        `limited` tells a limit in force from none: without one, the value is the maximum.
        """
        limit, _ = super()._read()
        return (limit, self.native_max_value), {"limited": limit is not None}

    @property
    def native_value(self) -> float:
        """The limit in force now; without a limit of ours, the charger's maximum (the most
        it may offer: what would be in force if there were no limit at all)."""
        limit, maximum = self._value
        return float(limit if limit is not None else maximum)

    async def async_set_native_value(self, value: float) -> None:
        """Set a constant limit (0 pauses charging)."""
        await async_set_charging_limit(
            self.central, self.charger, self.connector.connector_id, ChargingLimit(value)
        )


TARGET_ENERGY_NUMBER = OcppNumberDescription(
    key="target_energy",
    device_class=NumberDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    native_min_value=TARGET_ENERGY_MIN,
    native_max_value=TARGET_ENERGY_MAX,
    native_step=0.5,
    mode=NumberMode.BOX,
    # The homeowner's setting: it can be changed while the charger is offline.
    live=False,
    value_fn=lambda charger, conn: conn.smart.target_energy,
)
TARGET_SOC_NUMBER = OcppNumberDescription(
    key="target_soc",
    native_unit_of_measurement=PERCENTAGE,
    native_min_value=TARGET_SOC_MIN,
    native_max_value=TARGET_SOC_MAX,
    native_step=1,
    mode=NumberMode.SLIDER,
    live=False,
    value_fn=lambda charger, conn: conn.smart.target_soc,
)


class PlanTargetNumber(OcppEntity, NumberEntity):
    """What planned mode charges for by departure: kWh to add, or the car's SoC to reach
    (the one set last counts; the SoC only while the car reports it and the charger's
    battery capacity is set)."""

    entity_description: OcppNumberDescription

    @property
    def native_value(self) -> float | None:
        """The target; unknown until the homeowner sets one."""
        return self._value  # type: ignore[no-any-return]

    async def async_set_native_value(self, value: float) -> None:
        """Keep the target and plan with it at once."""
        smart = self.connector.smart
        if self.entity_description.key == "target_soc":
            smart.target_soc, smart.target_kind = float(value), TARGET_SOC
        else:
            smart.target_energy, smart.target_kind = float(value), TARGET_ENERGY
        self.central.smart.planner.settings_changed(self.charger, self.connector.connector_id)


def _smart_entities(central: CentralSystem, charger: Charger, conn: Connector) -> list[OcppEntity]:
    return [
        PlanTargetNumber(central, charger, conn.connector_id, description, Platform.NUMBER)
        for description in (TARGET_ENERGY_NUMBER, TARGET_SOC_NUMBER)
    ]


def _connector_entities(
    central: CentralSystem, charger: Charger, conn: Connector
) -> list[OcppEntity]:
    return [
        ChargingLimitNumber(central, charger, conn.connector_id, CHARGING_LIMIT, Platform.NUMBER)
    ]


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up limits for every connector, now and as they appear."""
    entry.runtime_data.devices.add_entity_factory(
        EntityFactory(lambda central, charger: [], _connector_entities, smart=_smart_entities),
        async_add_entities,
    )
