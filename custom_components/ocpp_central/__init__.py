"""OCPP Central System: EV chargers connect to Home Assistant over OCPP."""

from __future__ import annotations

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .central import CentralSystem, OcppConfigEntry, central_store, charger_subentries
from .const import DOMAIN
from .profile_services import async_setup_profile_services
from .services import async_setup_services
from .session_ledger import ledger_store
from .session_services import async_setup_session_services
from .upstreams import upstream_store

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, for every central system."""
    async_setup_services(hass)
    async_setup_profile_services(hass)
    async_setup_session_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OcppConfigEntry) -> bool:
    """Start the central system of this entry."""
    central = CentralSystem(hass, entry)
    try:
        await central.async_start()
    except OSError as err:  # includes ssl.SSLError
        await central.async_stop()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_listen",
            translation_placeholders={"port": str(central.server.settings.port), "error": str(err)},
        ) from err
    entry.runtime_data = central
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))

    async def _async_hass_stop(event: Event) -> None:
        # HA does not unload entries when it stops: disconnect the chargers now, so what
        # they send from here on stays in their queue instead of being acknowledged and lost.
        await central.async_stop()

    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, _async_hass_stop))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: OcppConfigEntry) -> None:
    """Options, server settings or the set of chargers changed."""
    await entry.runtime_data.async_entry_updated()


async def async_unload_entry(hass: HomeAssistant, entry: OcppConfigEntry) -> bool:
    """Stop the server and free the port."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: OcppConfigEntry) -> None:
    """Delete the stored sessions and id tags of a removed central system, and what its
    chargers' upstream links had not delivered."""
    await central_store(hass, entry.entry_id).async_remove()
    await ledger_store(hass, entry.entry_id).async_remove()
    for charger_id in charger_subentries(entry):
        await upstream_store(hass, entry.entry_id, charger_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: OcppConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Removing a charger's device removes the charger; it may be approved again later."""
    return entry.runtime_data.remove_device(device)
