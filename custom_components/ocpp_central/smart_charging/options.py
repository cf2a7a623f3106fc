"""The options flow's "Smart charging" step: its form, its checks, the options it stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    PowerConverter,
)
import voluptuous as vol

from ..const import (
    CONF_FIXED_PRICE,
    CONF_GRID_CURRENT_SENSORS,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER_SENSOR,
    CONF_MAIN_FUSE,
    CONF_NORDPOOL_ENTRY,
    CONF_PRICE_SENSOR,
    CONF_PRICE_SURCHARGE,
    CONF_SAFE_CURRENT,
    CONF_SUPPLY_PHASES,
    SMART_CHARGING_FIELDS,
)
from ..core.smart import MIN_CURRENT
from .settings import ENABLING_FIELDS

NORDPOOL_DOMAIN = "nordpool"  # Home Assistant's own Nord Pool integration
_AMPS = NumberSelectorConfig(min=0, max=1000, step=1, unit_of_measurement="A")
_PRICE = NumberSelectorConfig(min=-1000, max=1000, step="any", mode=NumberSelectorMode.BOX)


def smart_schema(values: Mapping[str, Any]) -> vol.Schema:
    """The form, filled in with `values` (nothing is required: empty turns it off)."""
    fields: dict[Any, Any] = {
        CONF_MAIN_FUSE: NumberSelector(
            NumberSelectorConfig(
                min=MIN_CURRENT,
                max=1000,
                step=1,
                unit_of_measurement="A",
                mode=NumberSelectorMode.BOX,
            )
        ),
        CONF_SUPPLY_PHASES: SelectSelector(
            SelectSelectorConfig(
                options=["1", "3"],
                translation_key=CONF_SUPPLY_PHASES,
                mode=SelectSelectorMode.LIST,
            )
        ),
        CONF_GRID_CURRENT_SENSORS: EntitySelector(
            EntitySelectorConfig(
                domain="sensor", device_class=SensorDeviceClass.CURRENT, multiple=True
            )
        ),
        CONF_GRID_POWER_SENSOR: EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
        ),
        CONF_GRID_EXPORT_POSITIVE: BooleanSelector(),
        CONF_SAFE_CURRENT: NumberSelector(_AMPS),
        CONF_PRICE_SENSOR: EntitySelector(EntitySelectorConfig(domain=["sensor", "input_number"])),
        CONF_NORDPOOL_ENTRY: ConfigEntrySelector(
            ConfigEntrySelectorConfig(integration=NORDPOOL_DOMAIN)
        ),
        CONF_PRICE_SURCHARGE: NumberSelector(_PRICE),
        CONF_FIXED_PRICE: NumberSelector(_PRICE),
    }
    suggested = dict(values)
    if CONF_SUPPLY_PHASES in suggested:
        suggested[CONF_SUPPLY_PHASES] = str(suggested[CONF_SUPPLY_PHASES])
    return vol.Schema(
        {
            vol.Optional(key, description={"suggested_value": suggested.get(key)}): selector
            for key, selector in fields.items()
        }
    )


def current_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The smart charging fields of the options."""
    return {key: options[key] for key in SMART_CHARGING_FIELDS if key in options}


def _cleaned(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The fields given, in the types stored (empty ones left out)."""
    data = {k: v for k, v in user_input.items() if v not in (None, "", [])}
    if CONF_SUPPLY_PHASES in data:
        data[CONF_SUPPLY_PHASES] = int(data[CONF_SUPPLY_PHASES])
    for key in (CONF_MAIN_FUSE, CONF_SAFE_CURRENT, CONF_PRICE_SURCHARGE, CONF_FIXED_PRICE):
        if key in data:
            data[key] = float(data[key])
    if CONF_GRID_CURRENT_SENSORS in data:
        data[CONF_GRID_CURRENT_SENSORS] = list(data[CONF_GRID_CURRENT_SENSORS])
    if CONF_GRID_EXPORT_POSITIVE in data:
        data[CONF_GRID_EXPORT_POSITIVE] = bool(data[CONF_GRID_EXPORT_POSITIVE])
    return data


def _units(converter: type[BaseUnitConverter]) -> frozenset[str]:
    return frozenset(unit for unit in converter.VALID_UNITS if unit is not None)


def _sensor_error(hass: HomeAssistant, entity_id: str, units: frozenset[str]) -> str | None:
    """Why a grid sensor can't be used: it doesn't exist, or its unit is not one we read."""
    if (state := hass.states.get(entity_id)) is None:
        return "sensor_not_found"
    unit = state.attributes.get("unit_of_measurement")
    if unit is not None and unit not in units:
        return "sensor_unit"
    return None


def validate_smart(hass: HomeAssistant, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Form errors, by field."""
    data = _cleaned(user_input)
    errors: dict[str, str] = {}
    sensors: list[str] = data.get(CONF_GRID_CURRENT_SENSORS, [])
    phases = data.get(CONF_SUPPLY_PHASES, 3)
    if sensors and CONF_GRID_POWER_SENSOR in data:
        errors[CONF_GRID_POWER_SENSOR] = "one_meter"
    elif len(sensors) != len(set(sensors)) or (sensors and len(sensors) != phases):
        errors[CONF_GRID_CURRENT_SENSORS] = "sensors_per_phase"
    else:
        for entity_id in sensors:
            error = _sensor_error(hass, entity_id, _units(ElectricCurrentConverter))
            if error:
                errors[CONF_GRID_CURRENT_SENSORS] = error
        if CONF_GRID_POWER_SENSOR in data and (
            error := _sensor_error(hass, data[CONF_GRID_POWER_SENSOR], _units(PowerConverter))
        ):
            errors[CONF_GRID_POWER_SENSOR] = error
    safe = data.get(CONF_SAFE_CURRENT)
    if safe is not None and 0 < safe < MIN_CURRENT:
        errors[CONF_SAFE_CURRENT] = "safe_current_range"
    elif safe is not None and safe > data.get(CONF_MAIN_FUSE, safe):
        errors[CONF_SAFE_CURRENT] = "safe_above_fuse"
    if CONF_PRICE_SENSOR in data and CONF_NORDPOOL_ENTRY in data:
        errors[CONF_NORDPOOL_ENTRY] = "one_price_source"
    elif CONF_NORDPOOL_ENTRY in data:
        entry = hass.config_entries.async_get_entry(data[CONF_NORDPOOL_ENTRY])
        if entry is None or entry.domain != NORDPOOL_DOMAIN:
            errors[CONF_NORDPOOL_ENTRY] = "nordpool_not_found"
    if CONF_PRICE_SENSOR in data and hass.states.get(data[CONF_PRICE_SENSOR]) is None:
        errors[CONF_PRICE_SENSOR] = "sensor_not_found"
    return errors


def apply_smart(options: Mapping[str, Any], user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's new options: the other steps' untouched, this step's replaced. Without a
    fuse, a meter or a price source smart charging is off and none of its fields is kept."""
    kept = {k: v for k, v in options.items() if k not in SMART_CHARGING_FIELDS}
    data = _cleaned(user_input)
    if not any(key in data for key in ENABLING_FIELDS):
        return kept
    return {**kept, **data}
