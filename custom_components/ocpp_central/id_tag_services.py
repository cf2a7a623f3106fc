"""Who may charge: id tags added and removed, connectors reserved for one."""

from __future__ import annotations

from functools import partial

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .commands import async_call_status
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DEVICE_ID,
    ATTR_EXPIRY,
    ATTR_ID_TAG,
    ATTR_NAME,
    ATTR_STATUS,
    SERVICE_ADD_ID_TAG,
    SERVICE_REMOVE_ID_TAG,
)
from .core.bounds import MAX_INT32
from .core.id_tags import IdTag, IdTagStatus
from .protocol.charging_profiles import CONNECTOR_TYPES
from .service_helpers import DEVICE_SCHEMA, aware, register, resolve_entry, target

_ID_TAG = vol.All(cv.string, vol.Length(min=1, max=36))
_INT32 = vol.All(cv.positive_int, vol.Range(max=MAX_INT32))

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
RESERVE_SCHEMA = vol.Schema(
    {
        **DEVICE_SCHEMA,
        vol.Required(ATTR_ID_TAG): vol.All(cv.string, vol.Length(min=1, max=20)),
        vol.Required(ATTR_EXPIRY): cv.datetime,
        vol.Optional("parent"): vol.All(cv.string, vol.Length(min=1, max=20)),
        vol.Optional("connector_type"): vol.In(CONNECTOR_TYPES),
    }
)
CANCEL_RESERVATION_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required("reservation_id"): _INT32}
)


async def _add_id_tag(call: ServiceCall) -> None:
    central = resolve_entry(call.hass, call)
    central.authorization.add(
        IdTag(
            id_tag=call.data[ATTR_ID_TAG],
            name=call.data.get(ATTR_NAME),
            status=IdTagStatus(call.data[ATTR_STATUS]),
            expiry=aware(call.data.get(ATTR_EXPIRY)),
            parent=call.data.get("parent"),
        )
    )


async def _remove_id_tag(call: ServiceCall) -> None:
    resolve_entry(call.hass, call).authorization.remove(call.data[ATTR_ID_TAG])


async def _reserve_now(call: ServiceCall) -> ServiceResponse:
    on = target(call)
    reservation_id = on.central.next_reservation_id()
    expiry = aware(call.data[ATTR_EXPIRY])
    assert expiry is not None
    await async_call_status(
        on.central,
        on.charger,
        "reservation",
        lambda s: s.reserve_now(
            on.connector_id,
            call.data[ATTR_ID_TAG],
            expiry,
            reservation_id,
            parent=call.data.get("parent"),
            connector_type=call.data.get("connector_type"),
        ),
        ("accepted",),
    )
    on.central.authorization.remember_remote(call.data[ATTR_ID_TAG])
    return {"reservation_id": reservation_id}


async def _cancel_reservation(call: ServiceCall) -> None:
    on = target(call)
    reservation_id = call.data["reservation_id"]
    await async_call_status(
        on.central,
        on.charger,
        "cancel reservation",
        lambda s: s.cancel_reservation(reservation_id),
        ("accepted",),
    )


@callback
def async_setup_id_tag_services(hass: HomeAssistant) -> None:
    """Register the id tag and reservation actions."""
    add = partial(register, hass)
    add(SERVICE_ADD_ID_TAG, _add_id_tag, ADD_ID_TAG_SCHEMA)
    add(SERVICE_REMOVE_ID_TAG, _remove_id_tag, REMOVE_ID_TAG_SCHEMA)
    add("reserve_now", _reserve_now, RESERVE_SCHEMA, supports_response=SupportsResponse.OPTIONAL)
    add("cancel_reservation", _cancel_reservation, CANCEL_RESERVATION_SCHEMA)
