"""Sensors: charger status and errors, connector status, readings and sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .central import CentralSystem, OcppConfigEntry
from .core.ledger_pricing import minor_units
from .core.measurands import ENERGY
from .core.model import (
    DIAGNOSTICS_STATUSES,
    ERROR_CODES,
    FIRMWARE_STATUSES,
    Charger,
    Connector,
    ConnectorStatus,
)
from .devices import EntityFactory
from .entity import OcppEntity, OcppEntityDescription
from .smart_sensors import smart_sensors

PARALLEL_UPDATES = 0

STOP_REASONS = [
    "de_authorized",
    "emergency_stop",
    "energy_limit_reached",
    "ev_disconnected",
    "ground_fault",
    "hard_reset",
    "immediate_reset",
    "local",
    "local_out_of_credit",
    "master_pass",
    "other",
    "overcurrent_fault",
    "power_loss",
    "power_quality",
    "reboot",
    "remote",
    "soc_limit_reached",
    "soft_reset",
    "stopped_by_ev",
    "time_limit_reached",
    "timeout",
    "unlock_command",
]


@dataclass(frozen=True, kw_only=True)
class OcppSensorDescription(OcppEntityDescription, SensorEntityDescription):
    """Sensor description."""


def _session_duration(charger: Charger, conn: Connector) -> int | None:
    """A running session counts in whole minutes (it is shown in minutes anyway), so that
    it is written once a minute, not with every message; an ended one is exact."""
    session = conn.session
    if session is None:
        return None
    duration = session.duration_s(dt_util.utcnow())
    return duration if session.stop is not None else duration - duration % 60


def _stop_reason(charger: Charger, conn: Connector) -> str | None:
    if conn.last_session is None or conn.last_session.reason is None:
        return None
    reason = conn.last_session.reason
    return reason if reason in STOP_REASONS else "other"


def _error_attrs(charger: Charger, conn: Connector) -> dict[str, Any]:
    error = charger.error
    return {
        "info": error.info,
        "vendor_id": error.vendor_id,
        "vendor_error_code": error.vendor_error_code,
    }


_STATUS_OPTIONS = [status.value for status in ConnectorStatus]

CHARGER_SENSORS = (
    OcppSensorDescription(
        key="status",
        device_class=SensorDeviceClass.ENUM,
        options=_STATUS_OPTIONS,
        value_fn=lambda charger, conn: charger.status,
    ),
    OcppSensorDescription(
        key="error_code",
        device_class=SensorDeviceClass.ENUM,
        options=ERROR_CODES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda charger, conn: charger.error.code,
        attrs_fn=_error_attrs,
    ),
    OcppSensorDescription(
        key="firmware_status",
        device_class=SensorDeviceClass.ENUM,
        options=FIRMWARE_STATUSES,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: charger.firmware_status,
    ),
    OcppSensorDescription(
        key="diagnostics_status",
        device_class=SensorDeviceClass.ENUM,
        options=DIAGNOSTICS_STATUSES,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: charger.diagnostics_status,
    ),
    OcppSensorDescription(
        key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: charger.last_seen,
    ),
)

CONNECTOR_SENSORS = (
    OcppSensorDescription(
        key="connector_status",
        device_class=SensorDeviceClass.ENUM,
        options=_STATUS_OPTIONS,
        single_outlet_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda charger, conn: conn.status,
    ),
    OcppSensorDescription(
        key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        live=False,
        value_fn=lambda charger, conn: conn.session.energy_kwh if conn.session else None,
    ),
    OcppSensorDescription(
        key="session_start",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.TIMESTAMP,
        live=False,
        value_fn=lambda charger, conn: conn.session.start if conn.session else None,
    ),
    OcppSensorDescription(
        key="session_duration",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        live=False,
        value_fn=_session_duration,
    ),
    OcppSensorDescription(
        key="transaction_id",
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: (
            str(conn.transaction.transaction_id) if conn.transaction else None
        ),
    ),
    OcppSensorDescription(
        key="id_tag",
        entity_category=EntityCategory.DIAGNOSTIC,
        live=False,
        value_fn=lambda charger, conn: conn.session.id_tag if conn.session else None,
    ),
    OcppSensorDescription(
        key="stop_reason",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.ENUM,
        options=STOP_REASONS,
        live=False,
        value_fn=_stop_reason,
    ),
)

SESSION_COST = OcppSensorDescription(
    key="session_cost",
    device_class=SensorDeviceClass.MONETARY,
    live=False,
)


def _cost_category(central: CentralSystem) -> EntityCategory | None:
    """Primary once the site has a price; diagnostic (off the dashboard) while it has none."""
    return None if central.prices.settings.kind != "none" else EntityCategory.DIAGNOSTIC


class SessionCostSensor(OcppEntity, SensorEntity):
    """What the connector's session (running, or last ended) cost, in Home Assistant's currency.

    Unknown until all of its energy had a price. On a site without any price (no price source,
    no fixed price) it is a diagnostic entity, out of the way of the dashboard; it becomes a
    primary one once a price is configured.
    """

    entity_description: OcppSensorDescription

    def __init__(self, central: CentralSystem, charger: Charger, connector_id: int) -> None:
        """Initialize with HA's currency as the unit."""
        self._attr_entity_category = _cost_category(central)  # before the base tracks it
        super().__init__(central, charger, connector_id, SESSION_COST, Platform.SENSOR)
        currency = central.hass.config.currency
        self._attr_native_unit_of_measurement = currency
        self._attr_suggested_display_precision = minor_units(currency)

    def _read(self) -> tuple[Any, dict[str, Any] | None]:
        record = self.central.ledger.latest(self.charger.charger_id, self.connector.connector_id)
        if record is None:
            return None, None
        cost = record.cost if record.currency == self._attr_native_unit_of_measurement else None
        return cost, {"priced": str(record.priced)}

    @property
    def native_value(self) -> float | None:
        """The cost, or None (unknown) while not all energy had a price."""
        return self._value  # type: ignore[no-any-return]

    async def async_added_to_hass(self) -> None:
        """Also follow the price settings (they decide the entity's category)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.central.prices.subscribe(self._prices_changed))

    @callback
    def _prices_changed(self) -> None:
        category = _cost_category(self.central)
        entry = self.registry_entry
        if entry is not None and entry.entity_category != category:
            self._attr_entity_category = category
            er.async_get(self.hass).async_update_entity(self.entity_id, entity_category=category)


def _reading(key: str) -> Any:
    return lambda charger, conn: conn.readings.get(key)


def _measurand(key: str, **kwargs: Any) -> OcppSensorDescription:
    return OcppSensorDescription(
        key=key,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_reading(key),
        **kwargs,
    )


# What the charger measures per phase, and its temperature, is diagnostic: the dashboard
# shows power and energy. Per-phase voltages are also disabled by default (three nearly
# equal series recorded with every sample, rarely looked at).
_CURRENT = {
    "entity_category": EntityCategory.DIAGNOSTIC,
    "device_class": SensorDeviceClass.CURRENT,
    "native_unit_of_measurement": UnitOfElectricCurrent.AMPERE,
    "suggested_display_precision": 1,
}
_VOLTAGE = {
    "entity_category": EntityCategory.DIAGNOSTIC,
    "device_class": SensorDeviceClass.VOLTAGE,
    "native_unit_of_measurement": UnitOfElectricPotential.VOLT,
    "suggested_display_precision": 0,
}

MEASURAND_SENSORS: dict[str, OcppSensorDescription] = {
    ENERGY: OcppSensorDescription(
        key=ENERGY,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        live=False,
        value_fn=lambda charger, conn: conn.lifetime_energy_kwh,
    ),
    "power": _measurand(
        "power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
    ),
    **{
        key: _measurand(key, **_CURRENT)
        for key in ("current", "current_l1", "current_l2", "current_l3", "current_offered")
    },
    "voltage": _measurand("voltage", **_VOLTAGE),
    **{
        key: _measurand(key, entity_registry_enabled_default=False, **_VOLTAGE)
        for key in ("voltage_l1", "voltage_l2", "voltage_l3")
    },
    # The car's state of charge: no battery device class, which would show it as the
    # charger's own battery level on the device page.
    "soc": _measurand(
        "soc",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
    ),
    "temperature": _measurand(
        "temperature",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
    ),
}


class OcppSensor(OcppEntity, SensorEntity):
    """A sensor reading the model."""

    entity_description: OcppSensorDescription

    @property
    def native_value(self) -> str | int | float | datetime | None:
        """The value read from the model."""
        return self._value  # type: ignore[no-any-return]


def _factory() -> EntityFactory[CentralSystem]:
    def charger_entities(central: CentralSystem, charger: Charger) -> list[OcppEntity]:
        return [
            OcppSensor(central, charger, None, description, Platform.SENSOR)
            for description in CHARGER_SENSORS
        ]

    def connector_entities(
        central: CentralSystem, charger: Charger, conn: Connector
    ) -> list[OcppEntity]:
        return [
            *(
                OcppSensor(central, charger, conn.connector_id, description, Platform.SENSOR)
                for description in CONNECTOR_SENSORS
            ),
            SessionCostSensor(central, charger, conn.connector_id),
        ]

    def measurand_entities(
        central: CentralSystem, charger: Charger, conn: Connector, key: str
    ) -> list[OcppEntity]:
        if (description := MEASURAND_SENSORS.get(key)) is None:
            return []
        return [OcppSensor(central, charger, conn.connector_id, description, Platform.SENSOR)]

    return EntityFactory(charger_entities, connector_entities, measurand_entities, smart_sensors)


async def async_setup_entry(
    hass: HomeAssistant, entry: OcppConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Set up sensors for every charger, now and as they appear."""
    entry.runtime_data.devices.add_entity_factory(_factory(), async_add_entities)
