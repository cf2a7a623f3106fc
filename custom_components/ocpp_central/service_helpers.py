"""What every action shares: the device a call names resolved to its charger, a command run on
that charger's connection, the admin check, and registration under the call's context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .cause import update_cause
from .central import CentralSystem
from .const import ATTR_CONFIG_ENTRY_ID, ATTR_CONNECTOR_ID, ATTR_DEVICE_ID, DOMAIN
from .core.model import Charger
from .protocol import ChargerProtocol

CONNECTOR_ID = vol.All(vol.Coerce(int), vol.Range(min=1))
# resolve_device's connector when a charger device is given without one: every connector.
EVERY_CONNECTOR = -1

DEVICE_SCHEMA = {
    vol.Required(ATTR_DEVICE_ID): cv.string,
    vol.Optional(ATTR_CONNECTOR_ID): CONNECTOR_ID,
}


def loaded_centrals(hass: HomeAssistant) -> list[CentralSystem]:
    """The central systems of the loaded config entries."""
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


@dataclass(frozen=True, slots=True)
class Target:
    """The charger (and connector) an action's device stands for."""

    central: CentralSystem
    charger: Charger
    connector_id: int

    async def run[T](self, command: Callable[[ChargerProtocol], Awaitable[T]]) -> T:
        """Run a command on the charger's connection; offline, or failing, it raises a
        translated error the user sees."""
        return await self.central.run_command(self.charger.charger_id, command)


def resolve_device(
    hass: HomeAssistant, call: ServiceCall, default_connector: int = 1
) -> tuple[CentralSystem, Charger, int]:
    """The central system, charger and connector a call's device stands for."""
    return resolve_device_id(
        hass, call.data[ATTR_DEVICE_ID], call.data.get(ATTR_CONNECTOR_ID, default_connector)
    )


def target(call: ServiceCall, default_connector: int = 1) -> Target:
    """The charger a call's device stands for, to run a command on."""
    return Target(*resolve_device(call.hass, call, default_connector))


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


def aware(value: datetime | None) -> datetime | None:
    """A time the user gave without a zone is in Home Assistant's."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt_util.get_default_time_zone())
    return value


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


def register(
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
