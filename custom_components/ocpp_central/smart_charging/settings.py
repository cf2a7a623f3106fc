"""The site settings from the entry's options, and the grid meter read from its sensors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import logging
import math
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import HomeAssistant, State
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    PowerConverter,
)

from ..const import (
    CONF_FIXED_PRICE,
    CONF_GRID_CURRENT_SENSORS,
    CONF_GRID_EXPORT_POSITIVE,
    CONF_GRID_POWER_SENSOR,
    CONF_MAIN_FUSE,
    CONF_NORDPOOL_ENTRY,
    CONF_PRICE_SENSOR,
    CONF_SAFE_CURRENT,
    CONF_SUPPLY_PHASES,
)
from ..core.smart import GridKind, GridMeasurement, SiteSettings
from ..core.smart.model import DEFAULT_SAFE_CURRENT, MAX_AMPS, MAX_WATTS

_LOGGER = logging.getLogger(__name__)

# Any of these turns smart charging on; the other fields only refine them.
ENABLING_FIELDS = (
    CONF_MAIN_FUSE,
    CONF_GRID_CURRENT_SENSORS,
    CONF_GRID_POWER_SENSOR,
    CONF_PRICE_SENSOR,
    CONF_NORDPOOL_ENTRY,
    CONF_FIXED_PRICE,
)


@dataclass(frozen=True, slots=True)
class SmartSettings:
    """What smart charging needs from the options: the site and where to read the grid."""

    site: SiteSettings
    current_sensors: tuple[str, ...] = ()
    power_sensor: str | None = None

    @property
    def sensors(self) -> tuple[str, ...]:
        """Every grid sensor to follow."""
        return self.current_sensors or ((self.power_sensor,) if self.power_sensor else ())


def smart_settings(options: Mapping[str, Any]) -> SmartSettings | None:
    """The smart charging settings, or None when smart charging is off.

    The options flow checks every field; settings that still don't make sense (edited by
    hand) turn smart charging off rather than guess.
    """
    if not any(options.get(key) not in (None, "", [], ()) for key in ENABLING_FIELDS):
        return None
    currents = tuple(options.get(CONF_GRID_CURRENT_SENSORS) or ())
    power = options.get(CONF_GRID_POWER_SENSOR) or None
    kind = GridKind.CURRENTS if currents else GridKind.POWER if power else GridKind.NONE
    fuse = options.get(CONF_MAIN_FUSE)
    try:
        site = SiteSettings(
            main_fuse=float(fuse) if fuse is not None else None,
            supply_phases=int(options.get(CONF_SUPPLY_PHASES) or 3),
            safe_current=float(options.get(CONF_SAFE_CURRENT, DEFAULT_SAFE_CURRENT)),
            grid_kind=kind,
            export_positive=bool(options.get(CONF_GRID_EXPORT_POSITIVE, False)),
        )
    except (TypeError, ValueError) as err:
        _LOGGER.warning("Smart charging is off: its settings are invalid (%s)", err)
        return None
    return SmartSettings(site, currents, power if not currents else None)


def reported_at(state: State) -> Any:
    """When a sensor last reported, also an unchanged value (HA 2024.3+), else last updated."""
    return getattr(state, "last_reported", None) or state.last_updated


def sensor_value(
    state: State | None, converter: type[BaseUnitConverter], unit: str, bound: float
) -> float | None:
    """A sensor's value in `unit`; None when it is missing, not a number, in a unit that is
    not one of the converter's, or beyond what any site can draw (a broken reading)."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    from_unit = state.attributes.get("unit_of_measurement") or unit
    if from_unit != unit:
        if from_unit not in converter.VALID_UNITS:
            return None
        value = converter.convert(value, from_unit, unit)
    if not math.isfinite(value) or abs(value) > bound:
        return None
    return value


def read_grid(hass: HomeAssistant, settings: SmartSettings) -> GridMeasurement | None:
    """The grid meter's reading now; None when a sensor has none (the allocator is blind)."""
    if settings.current_sensors:
        states = [hass.states.get(entity_id) for entity_id in settings.current_sensors]
        values = [
            sensor_value(state, ElectricCurrentConverter, UnitOfElectricCurrent.AMPERE, MAX_AMPS)
            for state in states
        ]
        present = [state for state in states if state is not None]
        if len(present) != len(states) or any(value is None for value in values):
            return None
        # The oldest phase decides whether the reading as a whole is stale.
        return GridMeasurement.from_currents(values, min(reported_at(s) for s in present))
    if settings.power_sensor:
        state = hass.states.get(settings.power_sensor)
        watts = sensor_value(state, PowerConverter, UnitOfPower.WATT, MAX_WATTS)
        if state is None or watts is None:
            return None
        return GridMeasurement.from_power(
            watts, reported_at(state), export_positive=settings.site.export_positive
        )
    return None
