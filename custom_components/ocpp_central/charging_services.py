"""Charging control actions: start and stop, limits and the schedule they make, availability."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .commands import (
    async_clear_charging_limit,
    async_set_availability,
    async_set_charging_limit,
    async_start_charging,
    async_stop_charging,
    status_error,
    to_amps,
)
from .const import (
    ATTR_CONNECTOR_ID,
    ATTR_DEVICE_ID,
    ATTR_ID_TAG,
    DOMAIN,
    SERVICE_START_CHARGING,
    SERVICE_STOP_CHARGING,
)
from .core.bounds import MAX_DURATION
from .core.limits import ChargingLimit, SchedulePeriod
from .protocol.charging_profiles import PURPOSES
from .service_helpers import CONNECTOR_ID, DEVICE_SCHEMA, EVERY_CONNECTOR, register, target

START_SCHEMA = vol.Schema({**DEVICE_SCHEMA, vol.Optional(ATTR_ID_TAG): cv.string})
STOP_SCHEMA = vol.Schema(DEVICE_SCHEMA)

_PERIOD = vol.Schema({vol.Required("start"): cv.time, vol.Required("limit"): vol.Coerce(float)})
SECONDS = vol.All(cv.positive_int, vol.Range(max=int(MAX_DURATION.total_seconds())))


def _duration(value: Any) -> timedelta:
    """A positive time period of at most MAX_DURATION (beyond, datetime arithmetic fails)."""
    try:
        period: timedelta = cv.positive_time_period(value)
    except OverflowError as err:
        raise vol.Invalid("duration is too long") from err
    if period > MAX_DURATION:
        raise vol.Invalid(f"duration is longer than {MAX_DURATION.days} days")
    return period


# Actions that may also target the whole charger: connector 0.
STATION_SCHEMA = {
    vol.Required(ATTR_DEVICE_ID): cv.string,
    vol.Optional(ATTR_CONNECTOR_ID): vol.All(vol.Coerce(int), vol.Range(min=0)),
}
PROFILE_PURPOSE = vol.In(list(PURPOSES))
STACK_LEVEL = vol.All(vol.Coerce(int), vol.Range(min=0, max=1000))

SET_LIMIT_SCHEMA = vol.All(
    vol.Schema(
        {
            **STATION_SCHEMA,
            vol.Optional("station_maximum", default=False): cv.boolean,
            vol.Exclusive("limit_amps", "limit"): vol.Coerce(float),
            vol.Exclusive("limit_watts", "limit"): vol.Coerce(float),
            vol.Optional("duration"): _duration,
            vol.Optional("schedule"): vol.All(cv.ensure_list, [_PERIOD], vol.Length(min=1)),
        }
    ),
    cv.has_at_least_one_key("limit_amps", "limit_watts", "schedule"),
)
CLEAR_LIMIT_SCHEMA = vol.Schema(
    {
        **STATION_SCHEMA,
        vol.Optional("purpose"): PROFILE_PURPOSE,
        vol.Optional("stack_level"): STACK_LEVEL,
    }
)
COMPOSITE_SCHEMA = vol.Schema({**STATION_SCHEMA, vol.Optional("duration", default=86400): SECONDS})
AVAILABILITY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_CONNECTOR_ID): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("evse_connector_id"): CONNECTOR_ID,
        vol.Required("available"): cv.boolean,
    }
)


async def _start_charging(call: ServiceCall) -> None:
    on = target(call)
    await async_start_charging(
        on.central, on.charger, on.connector_id, call.data.get(ATTR_ID_TAG), call.context
    )


async def _stop_charging(call: ServiceCall) -> None:
    on = target(call)
    await async_stop_charging(on.central, on.charger, on.connector_id)


async def _set_charging_limit(call: ServiceCall) -> None:
    station_max: bool = call.data["station_maximum"]
    on = target(call, default_connector=0 if station_max else 1)
    central, charger = on.central, on.charger
    if station_max and on.connector_id != 0:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="station_maximum_needs_charger"
        )
    duration = call.data.get("duration")
    schedule = tuple(
        SchedulePeriod(period["start"], to_amps(central, charger, period["limit"], None))
        for period in call.data.get("schedule", [])
    )
    amps = to_amps(central, charger, call.data.get("limit_amps"), call.data.get("limit_watts"))
    if schedule and "limit_amps" not in call.data and "limit_watts" not in call.data:
        amps = max(period.limit_amps for period in schedule)
    limit = ChargingLimit(
        limit_amps=amps,
        duration=int(duration.total_seconds()) if duration else None,
        schedule=schedule,
        start=dt_util.utcnow().replace(microsecond=0) if duration else None,
        station_max=station_max,
    )
    await async_set_charging_limit(central, charger, on.connector_id, limit)


async def _clear_charging_limit(call: ServiceCall) -> None:
    purpose, stack_level = call.data.get("purpose"), call.data.get("stack_level")
    by_criteria = purpose is not None or stack_level is not None
    # By criteria, a charger device without connector_id means every connector.
    on = target(call, default_connector=EVERY_CONNECTOR if by_criteria else 1)
    await async_clear_charging_limit(
        on.central,
        on.charger,
        None if on.connector_id == EVERY_CONNECTOR else on.connector_id,
        purpose,
        stack_level,
    )


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    on = target(call)
    result: dict[str, Any] = await on.run(
        lambda s: s.get_composite_schedule(on.connector_id, call.data["duration"])
    )
    if result["status"] != "accepted":
        raise status_error(on.charger, "composite schedule", result["status"])
    return result


async def _set_availability(call: ServiceCall) -> ServiceResponse:
    on = target(call, default_connector=0)
    status = await async_set_availability(
        on.central,
        on.charger,
        on.connector_id,
        call.data["available"],
        call.data.get("evse_connector_id"),
    )
    return {"status": status}


@callback
def async_setup_charging_services(hass: HomeAssistant) -> None:
    """Register the charging-control actions."""
    add = partial(register, hass)
    add(SERVICE_START_CHARGING, _start_charging, START_SCHEMA)
    add(SERVICE_STOP_CHARGING, _stop_charging, STOP_SCHEMA)
    add("set_charging_limit", _set_charging_limit, SET_LIMIT_SCHEMA)
    add("clear_charging_limit", _clear_charging_limit, CLEAR_LIMIT_SCHEMA)
    add(
        "get_composite_schedule",
        _get_composite_schedule,
        COMPOSITE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    add(
        "set_availability",
        _set_availability,
        AVAILABILITY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
