"""Actions (services), registered once for the integration; each resolves a device to a charger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
import secrets
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
    UnknownUser,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .bounds import MAX_DURATION, MAX_INT32
from .cause import update_cause
from .central import CentralSystem
from .commands import (
    async_call_status,
    async_clear_charging_limit,
    async_reset,
    async_set_availability,
    async_set_charging_limit,
    async_start_charging,
    async_stop_charging,
    async_unlock,
    status_error,
    to_amps,
)
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_CONNECTOR_ID,
    ATTR_DEVICE_ID,
    ATTR_EXPIRY,
    ATTR_ID_TAG,
    ATTR_NAME,
    ATTR_STATUS,
    DOMAIN,
    SERVICE_ADD_ID_TAG,
    SERVICE_REMOVE_ID_TAG,
    SERVICE_START_CHARGING,
    SERVICE_STOP_CHARGING,
)
from .id_tags import IdTag, IdTagStatus
from .limits import ChargingLimit, SchedulePeriod
from .model import Charger
from .protocol.charging_profiles import CONNECTOR_TYPES, PURPOSES
from .repairs import async_create_reboot_issue

_CONNECTOR_ID = vol.All(vol.Coerce(int), vol.Range(min=1))
# resolve_device's connector when a charger device is given without one: every connector.
EVERY_CONNECTOR = -1
_ID_TAG = vol.All(cv.string, vol.Length(min=1, max=36))

_DEVICE_SCHEMA = {
    vol.Required(ATTR_DEVICE_ID): cv.string,
    vol.Optional(ATTR_CONNECTOR_ID): _CONNECTOR_ID,
}

START_SCHEMA = vol.Schema({**_DEVICE_SCHEMA, vol.Optional(ATTR_ID_TAG): cv.string})
STOP_SCHEMA = vol.Schema(_DEVICE_SCHEMA)
ADD_ID_TAG_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_ID_TAG): _ID_TAG,
        vol.Optional(ATTR_NAME): cv.string,
        vol.Optional(ATTR_STATUS, default=IdTagStatus.ACCEPTED.value): vol.In(
            [status.value for status in IdTagStatus]
        ),
        vol.Optional(ATTR_EXPIRY): cv.datetime,
        vol.Optional("parent"): _ID_TAG,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
REMOVE_ID_TAG_SCHEMA = vol.Schema(
    {vol.Required(ATTR_ID_TAG): _ID_TAG, vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
)


def loaded_centrals(hass: HomeAssistant) -> list[CentralSystem]:
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def resolve_device(
    hass: HomeAssistant, call: ServiceCall, default_connector: int = 1
) -> tuple[CentralSystem, Charger, int]:
    """The central system, charger and connector a call's device stands for."""
    return resolve_device_id(
        hass, call.data[ATTR_DEVICE_ID], call.data.get(ATTR_CONNECTOR_ID, default_connector)
    )


def resolve_device_id(
    hass: HomeAssistant, device_id: str, connector_id: int
) -> tuple[CentralSystem, Charger, int]:
    """The central system, charger and connector a device stands for (`connector_id` for a
    charger device; a connector device implies its own)."""
    if (device := dr.async_get(hass).async_get(device_id)) is not None:
        for central in loaded_centrals(hass):
            if central.entry.entry_id not in device.config_entries:
                continue
            for domain, identifier in device.identifiers:
                if domain != DOMAIN:
                    continue
                if (charger := central.chargers.get(identifier)) is not None:
                    return central, charger, connector_id
                charger_id, sep, number = identifier.rpartition("-connector-")
                if sep and (charger := central.chargers.get(charger_id)) is not None:
                    return central, charger, int(number)
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_device",
        translation_placeholders={"device_id": device_id},
    )


def resolve_entry(hass: HomeAssistant, call: ServiceCall) -> CentralSystem:
    """The central system a call means: the given entry, or the only one."""
    centrals = loaded_centrals(hass)
    if (entry_id := call.data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        centrals = [c for c in centrals if c.entry.entry_id == entry_id]
        if not centrals:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_config_entry",
                translation_placeholders={"config_entry_id": entry_id},
            )
    if len(centrals) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="config_entry_required" if centrals else "not_loaded",
        )
    return centrals[0]


async def _start_charging(call: ServiceCall) -> None:
    central, charger, connector_id = resolve_device(call.hass, call)
    await async_start_charging(
        central, charger, connector_id, call.data.get(ATTR_ID_TAG), call.context
    )


async def _stop_charging(call: ServiceCall) -> None:
    central, charger, connector_id = resolve_device(call.hass, call)
    await async_stop_charging(central, charger, connector_id)


async def _add_id_tag(call: ServiceCall) -> None:
    central = resolve_entry(call.hass, call)
    expiry = call.data.get(ATTR_EXPIRY)
    if expiry is not None and expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt_util.get_default_time_zone())
    central.authorization.add(
        IdTag(
            id_tag=call.data[ATTR_ID_TAG],
            name=call.data.get(ATTR_NAME),
            status=IdTagStatus(call.data[ATTR_STATUS]),
            expiry=expiry,
            parent=call.data.get("parent"),
        )
    )


async def _remove_id_tag(call: ServiceCall) -> None:
    resolve_entry(call.hass, call).authorization.remove(call.data[ATTR_ID_TAG])


# Actions that change a charger or the security state (or read the charger's secrets: its
# configuration may hold its password) are for administrators; docs/services.md lists them.
# Everyday charging control (start/stop, limits) mirrors entities every user may operate.
ADMIN_ACTIONS = frozenset(
    {
        "add_id_tag",
        "cancel_reservation",
        "data_transfer",
        "get_configuration",
        "get_diagnostics",
        "get_sessions",  # who charged when: a household's movements
        "remove_id_tag",
        "reserve_now",
        "reset",
        "set_availability",
        "set_charger_password",
        "set_configuration",
        "unlock_connector",
        "update_firmware",
    }
)


async def _require_admin(call: ServiceCall) -> None:
    """Refuse a user who is not an administrator (calls without a user, from automations and
    scripts, are allowed). The same check as HA's async_register_admin_service, which in
    2025.4 cannot register an action that returns a response."""
    if call.context.user_id is None:
        return
    user = await call.hass.auth.async_get_user(call.context.user_id)
    if user is None:
        raise UnknownUser(context=call.context, user_id=call.context.user_id)
    if not user.is_admin:
        raise Unauthorized(context=call.context)


def _register(
    hass: HomeAssistant,
    name: str,
    handler: Callable[[ServiceCall], Awaitable[ServiceResponse]],
    schema: vol.Schema | vol.All,
    supports_response: SupportsResponse = SupportsResponse.NONE,
) -> None:
    """Register an action that runs under its call's context: the states it changes are
    attributed to the call (the user or automation behind it)."""
    admin = name in ADMIN_ACTIONS

    async def run(call: ServiceCall) -> ServiceResponse:
        if admin:
            await _require_admin(call)
        with update_cause(call.context, from_call=True):
            return await handler(call)

    hass.services.async_register(DOMAIN, name, run, schema, supports_response)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    _register(hass, SERVICE_START_CHARGING, _start_charging, START_SCHEMA)
    _register(hass, SERVICE_STOP_CHARGING, _stop_charging, STOP_SCHEMA)
    _register(hass, SERVICE_ADD_ID_TAG, _add_id_tag, ADD_ID_TAG_SCHEMA)
    _register(hass, SERVICE_REMOVE_ID_TAG, _remove_id_tag, REMOVE_ID_TAG_SCHEMA)
    async_setup_control_services(hass)


# --- charging control and maintenance ------------------------------------------------------

# Chargers fetch firmware and upload logs over http(s) and ftp(s); cv.url allows only http(s).
_URL = vol.All(cv.string, vol.Match(r"^(https?|ftps?)://\S+$"))

_PERIOD = vol.Schema({vol.Required("start"): cv.time, vol.Required("limit"): vol.Coerce(float)})
_SECONDS = vol.All(cv.positive_int, vol.Range(max=int(MAX_DURATION.total_seconds())))
_INT32 = vol.All(cv.positive_int, vol.Range(max=MAX_INT32))


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
COMPOSITE_SCHEMA = vol.Schema({**STATION_SCHEMA, vol.Optional("duration", default=86400): _SECONDS})
AVAILABILITY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_CONNECTOR_ID): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("evse_connector_id"): _CONNECTOR_ID,
        vol.Required("available"): cv.boolean,
    }
)
RESET_SCHEMA = vol.Schema(
    {
        **_DEVICE_SCHEMA,
        vol.Optional("type", default="soft"): vol.In(["soft", "hard"]),
    }
)
FIRMWARE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required("location"): _URL,
        vol.Optional("retrieve_at"): cv.datetime,
        vol.Optional("retries"): vol.All(cv.positive_int, vol.Range(max=1000)),
        vol.Optional("retry_interval"): _SECONDS,
    }
)
DIAGNOSTICS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required("upload_url"): _URL,
        vol.Optional("start"): cv.datetime,
        vol.Optional("stop"): cv.datetime,
        vol.Optional("log_type", default="diagnostics"): vol.In(["diagnostics", "security"]),
    }
)
GET_CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Exclusive("keys", "what"): vol.All(cv.ensure_list, [cv.string]),
        vol.Exclusive("report_type", "what"): vol.In(
            ["configuration_inventory", "summary_inventory", "full_inventory"]
        ),
    }
)
_CONFIG_KEY = vol.All(cv.string, vol.Length(min=1, max=200))
_CONFIG_VALUE = vol.All(cv.string, vol.Length(max=500))
SET_CONFIG_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required(ATTR_DEVICE_ID): cv.string,
            vol.Inclusive("key", "one key"): _CONFIG_KEY,
            vol.Inclusive("value", "one key"): _CONFIG_VALUE,
            vol.Optional("configuration"): vol.All(
                {_CONFIG_KEY: _CONFIG_VALUE}, vol.Length(min=1, max=100)
            ),
        }
    ),
    cv.has_at_least_one_key("key", "configuration"),
)
TRIGGER_MESSAGES = [
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
]
TRIGGER_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required("message"): vol.In(TRIGGER_MESSAGES),
        vol.Optional(ATTR_CONNECTOR_ID): _CONNECTOR_ID,
    }
)
DATA_TRANSFER_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required("vendor_id"): vol.All(cv.string, vol.Length(min=1, max=255)),
        vol.Optional("message_id"): vol.All(cv.string, vol.Length(max=50)),
        vol.Optional("data"): cv.string,
    }
)
RESERVE_SCHEMA = vol.Schema(
    {
        **_DEVICE_SCHEMA,
        vol.Required(ATTR_ID_TAG): vol.All(cv.string, vol.Length(min=1, max=20)),
        vol.Required(ATTR_EXPIRY): cv.datetime,
        vol.Optional("parent"): vol.All(cv.string, vol.Length(min=1, max=20)),
        vol.Optional("connector_type"): vol.In(CONNECTOR_TYPES),
    }
)
CANCEL_RESERVATION_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required("reservation_id"): _INT32}
)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt_util.get_default_time_zone())
    return value


async def _set_charging_limit(call: ServiceCall) -> None:
    station_max: bool = call.data["station_maximum"]
    central, charger, connector_id = resolve_device(
        call.hass, call, default_connector=0 if station_max else 1
    )
    if station_max and connector_id != 0:
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
    await async_set_charging_limit(central, charger, connector_id, limit)


async def _clear_charging_limit(call: ServiceCall) -> None:
    purpose, stack_level = call.data.get("purpose"), call.data.get("stack_level")
    by_criteria = purpose is not None or stack_level is not None
    # By criteria, a charger device without connector_id means every connector.
    central, charger, connector_id = resolve_device(
        call.hass, call, default_connector=EVERY_CONNECTOR if by_criteria else 1
    )
    await async_clear_charging_limit(
        central,
        charger,
        None if connector_id == EVERY_CONNECTOR else connector_id,
        purpose,
        stack_level,
    )


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    central, charger, connector_id = resolve_device(call.hass, call)
    central.session(charger.charger_id)
    result: dict[str, Any] = await central.run_command(
        charger.charger_id,
        lambda s: s.get_composite_schedule(connector_id, call.data["duration"]),
    )
    if result["status"] != "accepted":
        raise status_error(charger, "composite schedule", result["status"])
    return result


async def _set_availability(call: ServiceCall) -> ServiceResponse:
    central, charger, connector_id = resolve_device(call.hass, call, default_connector=0)
    status = await async_set_availability(
        central, charger, connector_id, call.data["available"], call.data.get("evse_connector_id")
    )
    return {"status": status}


async def _reset(call: ServiceCall) -> None:
    # The whole charger unless a connector is named (a connector device alone still means
    # its charger, as it always did).
    central, charger, connector_id = resolve_device(call.hass, call)
    one = connector_id if ATTR_CONNECTOR_ID in call.data else None
    await async_reset(central, charger, call.data["type"] == "hard", one)


async def _unlock_connector(call: ServiceCall) -> None:
    central, charger, connector_id = resolve_device(call.hass, call)
    await async_unlock(central, charger, connector_id)


async def _update_firmware(call: ServiceCall) -> None:
    central, charger, _ = resolve_device(call.hass, call)
    central.session(charger.charger_id)
    retrieve_at = _aware(call.data.get("retrieve_at")) or dt_util.utcnow()
    await central.run_command(
        charger.charger_id,
        lambda s: s.update_firmware(
            call.data["location"],
            retrieve_at,
            call.data.get("retries"),
            call.data.get("retry_interval"),
        ),
    )


async def _get_diagnostics(call: ServiceCall) -> ServiceResponse:
    central, charger, _ = resolve_device(call.hass, call)
    central.session(charger.charger_id)
    file_name: str | None = await central.run_command(
        charger.charger_id,
        lambda s: s.get_diagnostics(
            call.data["upload_url"],
            _aware(call.data.get("start")),
            _aware(call.data.get("stop")),
            call.data["log_type"],
        ),
    )
    return {"file_name": file_name}


async def _get_configuration(call: ServiceCall) -> ServiceResponse:
    central, charger, _ = resolve_device(call.hass, call)
    central.session(charger.charger_id)
    result: dict[str, Any] = await central.run_command(
        charger.charger_id,
        lambda s: s.get_configuration(call.data.get("keys"), call.data.get("report_type")),
    )
    return result


async def _set_configuration(call: ServiceCall) -> ServiceResponse:
    if "configuration" in call.data:
        return await _set_several(call)
    central, charger, _ = resolve_device(call.hass, call)
    key, value = call.data["key"], call.data["value"]
    status = await async_call_status(
        central,
        charger,
        "configuration",
        lambda s: s.set_configuration(key, value),
        ("accepted", "reboot_required"),
    )
    if status == "reboot_required":
        async_create_reboot_issue(call.hass, central, charger.charger_id, key)
    return {"status": status}


async def _set_several(call: ServiceCall) -> ServiceResponse:
    """set_configuration with several keys: one SetVariables (one ChangeConfiguration per
    key in 1.6); the keys the charger did not take are named in the error."""
    central, charger, _ = resolve_device(call.hass, call)
    values: dict[str, str] = dict(call.data["configuration"])
    if "key" in call.data:
        values = {call.data["key"]: call.data["value"], **values}
    central.session(charger.charger_id)
    results: dict[str, str] = await central.run_command(
        charger.charger_id, lambda s: s.set_configurations(values)
    )
    if reboot := [key for key, status in results.items() if status == "reboot_required"]:
        async_create_reboot_issue(call.hass, central, charger.charger_id, ", ".join(reboot))
    if refused := {k: v for k, v in results.items() if v not in ("accepted", "reboot_required")}:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="configuration_refused",
            translation_placeholders={
                "charger_id": charger.charger_id,
                "keys": ", ".join(f"{key} ({status})" for key, status in refused.items()),
            },
        )
    response: dict[str, Any] = {
        "status": "reboot_required" if reboot else "accepted",
        "results": results,
    }
    return response


async def _trigger_message(call: ServiceCall) -> None:
    central, charger, _ = resolve_device(call.hass, call)
    connector_id = call.data.get(ATTR_CONNECTOR_ID)
    await async_call_status(
        central,
        charger,
        "trigger",
        lambda s: s.trigger_message(call.data["message"], connector_id),
        ("accepted",),
    )


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    central, charger, _ = resolve_device(call.hass, call)
    central.session(charger.charger_id)
    result: dict[str, Any] = await central.run_command(
        charger.charger_id,
        lambda s: s.data_transfer(
            call.data["vendor_id"], call.data.get("message_id"), call.data.get("data")
        ),
    )
    if result["status"] != "accepted":  # also unknown_vendor_id / unknown_message_id
        raise status_error(charger, "data transfer", result["status"])
    return result


async def _reserve_now(call: ServiceCall) -> ServiceResponse:
    central, charger, connector_id = resolve_device(call.hass, call)
    reservation_id = central.next_reservation_id()
    expiry = _aware(call.data[ATTR_EXPIRY])
    assert expiry is not None
    await async_call_status(
        central,
        charger,
        "reservation",
        lambda s: s.reserve_now(
            connector_id,
            call.data[ATTR_ID_TAG],
            expiry,
            reservation_id,
            parent=call.data.get("parent"),
            connector_type=call.data.get("connector_type"),
        ),
        ("accepted",),
    )
    central.authorization.remember_remote(call.data[ATTR_ID_TAG])
    return {"reservation_id": reservation_id}


async def _cancel_reservation(call: ServiceCall) -> None:
    central, charger, _ = resolve_device(call.hass, call)
    reservation_id = call.data["reservation_id"]
    await async_call_status(
        central,
        charger,
        "cancel reservation",
        lambda s: s.cancel_reservation(reservation_id),
        ("accepted",),
    )


PASSWORD_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional("password"): vol.All(cv.string, vol.Length(min=16, max=40)),
    }
)


async def _set_charger_password(call: ServiceCall) -> ServiceResponse:
    """Write a new Basic-auth password to the charger, then expect it from the charger."""
    central, charger, _ = resolve_device(call.hass, call)
    session = central.session(charger.charger_id)
    password = call.data.get("password") or secrets.token_urlsafe(15)  # 20 characters
    if len(password.encode()) > session.password_max_bytes:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="password_too_long",
            translation_placeholders={"max": str(session.password_max_bytes)},
        )
    key, value = session.password_key, session.password_setting(password)
    status = await async_call_status(
        central,
        charger,
        "password",
        lambda s: s.set_configuration(key, value),
        ("accepted", "reboot_required"),
    )
    central.set_charger_password(charger.charger_id, password)
    return {"status": status}


@callback
def async_setup_control_services(hass: HomeAssistant) -> None:
    """Register the charging-control and maintenance actions."""
    register = partial(_register, hass)
    register("set_charging_limit", _set_charging_limit, SET_LIMIT_SCHEMA)
    register("clear_charging_limit", _clear_charging_limit, CLEAR_LIMIT_SCHEMA)
    register(
        "get_composite_schedule",
        _get_composite_schedule,
        COMPOSITE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        "set_availability",
        _set_availability,
        AVAILABILITY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register("reset", _reset, RESET_SCHEMA)
    register("unlock_connector", _unlock_connector, vol.Schema(_DEVICE_SCHEMA))
    register("update_firmware", _update_firmware, FIRMWARE_SCHEMA)
    register(
        "get_diagnostics",
        _get_diagnostics,
        DIAGNOSTICS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        "get_configuration",
        _get_configuration,
        GET_CONFIG_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    register(
        "set_configuration",
        _set_configuration,
        SET_CONFIG_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register("trigger_message", _trigger_message, TRIGGER_SCHEMA)
    register(
        "data_transfer",
        _data_transfer,
        DATA_TRANSFER_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register(
        "reserve_now",
        _reserve_now,
        RESERVE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    register("cancel_reservation", _cancel_reservation, CANCEL_RESERVATION_SCHEMA)
    register(
        "set_charger_password",
        _set_charger_password,
        PASSWORD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
