"""The get_charging_profiles action: what charging profiles a charger holds (OCPP 2.x)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
import voluptuous as vol

from .const import DOMAIN
from .services import (
    EVERY_CONNECTOR,
    PROFILE_PURPOSE,
    STACK_LEVEL,
    STATION_SCHEMA,
    _register,
    resolve_device,
)

PROFILES_SCHEMA = vol.Schema(
    {
        **STATION_SCHEMA,
        vol.Optional("purpose"): PROFILE_PURPOSE,
        vol.Optional("stack_level"): STACK_LEVEL,
    }
)


async def _get_charging_profiles(call: ServiceCall) -> ServiceResponse:
    """The charging profiles installed on a charger (OCPP 2.x GetChargingProfiles)."""
    central, charger, connector_id = resolve_device(
        call.hass, call, default_connector=EVERY_CONNECTOR
    )
    target = None if connector_id == EVERY_CONNECTOR else connector_id
    if target and target not in charger.outlet_ids:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_connector",
            translation_placeholders={
                "charger_id": charger.charger_id,
                "connector_id": str(target),
            },
        )
    central.session(charger.charger_id)
    profiles: list[dict[str, Any]] = await central.run_command(
        charger.charger_id,
        lambda s: s.get_charging_profiles(
            target, call.data.get("purpose"), call.data.get("stack_level")
        ),
    )
    response: dict[str, Any] = {"profiles": profiles}
    return response


@callback
def async_setup_profile_services(hass: HomeAssistant) -> None:
    """Register the actions that read what a charger holds."""
    _register(
        hass,
        "get_charging_profiles",
        _get_charging_profiles,
        PROFILES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
