"""Actions (services), registered once for the integration; each resolves a device to a charger."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .central import CentralSystem
from .commands import async_start_charging, async_stop_charging
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
from .model import Charger

_CONNECTOR_ID = vol.All(vol.Coerce(int), vol.Range(min=1))
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
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)
REMOVE_ID_TAG_SCHEMA = vol.Schema(
    {vol.Required(ATTR_ID_TAG): _ID_TAG, vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
)


def _loaded_centrals(hass: HomeAssistant) -> list[CentralSystem]:
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def resolve_device(hass: HomeAssistant, call: ServiceCall) -> tuple[CentralSystem, Charger, int]:
    """The central system, charger and connector a call's device stands for."""
    device_id: str = call.data[ATTR_DEVICE_ID]
    connector_id: int = call.data.get(ATTR_CONNECTOR_ID, 1)
    if (device := dr.async_get(hass).async_get(device_id)) is not None:
        for central in _loaded_centrals(hass):
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
    centrals = _loaded_centrals(hass)
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
    await async_start_charging(central, charger, connector_id, call.data.get(ATTR_ID_TAG))


async def _stop_charging(call: ServiceCall) -> None:
    central, charger, connector_id = resolve_device(call.hass, call)
    await async_stop_charging(central, charger, connector_id)


async def _add_id_tag(call: ServiceCall) -> None:
    central = resolve_entry(call.hass, call)
    expiry = call.data.get(ATTR_EXPIRY)
    if expiry is not None and expiry.tzinfo is None:
        expiry = expiry.replace(tzinfo=dt_util.get_default_time_zone())
    central.add_id_tag(
        IdTag(
            id_tag=call.data[ATTR_ID_TAG],
            name=call.data.get(ATTR_NAME),
            status=IdTagStatus(call.data[ATTR_STATUS]),
            expiry=expiry,
        )
    )


async def _remove_id_tag(call: ServiceCall) -> None:
    resolve_entry(call.hass, call).remove_id_tag(call.data[ATTR_ID_TAG])


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(DOMAIN, SERVICE_START_CHARGING, _start_charging, START_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_STOP_CHARGING, _stop_charging, STOP_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_ADD_ID_TAG, _add_id_tag, ADD_ID_TAG_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_REMOVE_ID_TAG, _remove_id_tag, REMOVE_ID_TAG_SCHEMA
    )
