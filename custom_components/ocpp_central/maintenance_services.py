"""Maintenance actions: reset, unlock, firmware, logs, configuration, triggered messages,
vendor data, and the charger's password."""

from __future__ import annotations

from functools import partial
import secrets
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .charging_services import SECONDS
from .commands import async_call_status, async_reset, async_unlock, status_error
from .const import ATTR_CONNECTOR_ID, ATTR_DEVICE_ID, DOMAIN
from .repairs import async_create_reboot_issue
from .service_helpers import CONNECTOR_ID, DEVICE_SCHEMA, aware, register, target

# Chargers fetch firmware and upload logs over http(s) and ftp(s); cv.url allows only http(s).
_URL = vol.All(cv.string, vol.Match(r"^(https?|ftps?)://\S+$"))

RESET_SCHEMA = vol.Schema(
    {
        **DEVICE_SCHEMA,
        vol.Optional("type", default="soft"): vol.In(["soft", "hard"]),
    }
)
FIRMWARE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required("location"): _URL,
        vol.Optional("retrieve_at"): cv.datetime,
        vol.Optional("retries"): vol.All(cv.positive_int, vol.Range(max=1000)),
        vol.Optional("retry_interval"): SECONDS,
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
        vol.Optional(ATTR_CONNECTOR_ID): CONNECTOR_ID,
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
PASSWORD_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional("password"): vol.All(cv.string, vol.Length(min=16, max=40)),
    }
)


async def _reset(call: ServiceCall) -> None:
    # The whole charger unless a connector is named (a connector device alone still means
    # its charger, as it always did).
    on = target(call)
    one = on.connector_id if ATTR_CONNECTOR_ID in call.data else None
    await async_reset(on.central, on.charger, call.data["type"] == "hard", one)


async def _unlock_connector(call: ServiceCall) -> None:
    on = target(call)
    await async_unlock(on.central, on.charger, on.connector_id)


async def _update_firmware(call: ServiceCall) -> None:
    on = target(call)
    on.central.session(on.charger.charger_id)  # offline: refused before anything else
    retrieve_at = aware(call.data.get("retrieve_at")) or dt_util.utcnow()
    await on.run(
        lambda s: s.update_firmware(
            call.data["location"],
            retrieve_at,
            call.data.get("retries"),
            call.data.get("retry_interval"),
        )
    )


async def _get_diagnostics(call: ServiceCall) -> ServiceResponse:
    on = target(call)
    file_name: str | None = await on.run(
        lambda s: s.get_diagnostics(
            call.data["upload_url"],
            aware(call.data.get("start")),
            aware(call.data.get("stop")),
            call.data["log_type"],
        )
    )
    return {"file_name": file_name}


async def _get_configuration(call: ServiceCall) -> ServiceResponse:
    on = target(call)
    result: dict[str, Any] = await on.run(
        lambda s: s.get_configuration(call.data.get("keys"), call.data.get("report_type"))
    )
    return result


async def _set_configuration(call: ServiceCall) -> ServiceResponse:
    if "configuration" in call.data:
        return await _set_several(call)
    on = target(call)
    key, value = call.data["key"], call.data["value"]
    status = await async_call_status(
        on.central,
        on.charger,
        "configuration",
        lambda s: s.set_configuration(key, value),
        ("accepted", "reboot_required"),
    )
    if status == "reboot_required":
        async_create_reboot_issue(call.hass, on.central, on.charger.charger_id, key)
    return {"status": status}


async def _set_several(call: ServiceCall) -> ServiceResponse:
    """set_configuration with several keys: one SetVariables (one ChangeConfiguration per
    key in 1.6); the keys the charger did not take are named in the error."""
    on = target(call)
    charger_id = on.charger.charger_id
    values: dict[str, str] = dict(call.data["configuration"])
    if "key" in call.data:
        values = {call.data["key"]: call.data["value"], **values}
    results: dict[str, str] = await on.run(lambda s: s.set_configurations(values))
    if reboot := [key for key, status in results.items() if status == "reboot_required"]:
        async_create_reboot_issue(call.hass, on.central, charger_id, ", ".join(reboot))
    if refused := {k: v for k, v in results.items() if v not in ("accepted", "reboot_required")}:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="configuration_refused",
            translation_placeholders={
                "charger_id": charger_id,
                "keys": ", ".join(f"{key} ({status})" for key, status in refused.items()),
            },
        )
    response: dict[str, Any] = {
        "status": "reboot_required" if reboot else "accepted",
        "results": results,
    }
    return response


async def _trigger_message(call: ServiceCall) -> None:
    on = target(call)
    connector_id = call.data.get(ATTR_CONNECTOR_ID)
    await async_call_status(
        on.central,
        on.charger,
        "trigger",
        lambda s: s.trigger_message(call.data["message"], connector_id),
        ("accepted",),
    )


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    on = target(call)
    result: dict[str, Any] = await on.run(
        lambda s: s.data_transfer(
            call.data["vendor_id"], call.data.get("message_id"), call.data.get("data")
        )
    )
    if result["status"] != "accepted":  # also unknown_vendor_id / unknown_message_id
        raise status_error(on.charger, "data transfer", result["status"])
    return result


async def _set_charger_password(call: ServiceCall) -> ServiceResponse:
    """Write a new Basic-auth password to the charger, then expect it from the charger."""
    on = target(call)
    session = on.central.session(on.charger.charger_id)
    password = call.data.get("password") or secrets.token_urlsafe(15)  # 20 characters
    if len(password.encode()) > session.password_max_bytes:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="password_too_long",
            translation_placeholders={"max": str(session.password_max_bytes)},
        )
    key, value = session.password_key, session.password_setting(password)
    status = await async_call_status(
        on.central,
        on.charger,
        "password",
        lambda s: s.set_configuration(key, value),
        ("accepted", "reboot_required"),
    )
    on.central.set_charger_password(on.charger.charger_id, password)
    return {"status": status}


@callback
def async_setup_maintenance_services(hass: HomeAssistant) -> None:
    """Register the maintenance actions."""
    add = partial(register, hass)
    optional, only = SupportsResponse.OPTIONAL, SupportsResponse.ONLY
    add("reset", _reset, RESET_SCHEMA)
    add("unlock_connector", _unlock_connector, vol.Schema(DEVICE_SCHEMA))
    add("update_firmware", _update_firmware, FIRMWARE_SCHEMA)
    add("get_diagnostics", _get_diagnostics, DIAGNOSTICS_SCHEMA, supports_response=only)
    add("get_configuration", _get_configuration, GET_CONFIG_SCHEMA, supports_response=only)
    add("set_configuration", _set_configuration, SET_CONFIG_SCHEMA, supports_response=optional)
    add("trigger_message", _trigger_message, TRIGGER_SCHEMA)
    add("data_transfer", _data_transfer, DATA_TRANSFER_SCHEMA, supports_response=optional)
    add("set_charger_password", _set_charger_password, PASSWORD_SCHEMA, supports_response=optional)
