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

from .charging_services import PROFILE_PURPOSE, STACK_LEVEL, STATION_SCHEMA
from .const import DOMAIN
from .service_helpers import EVERY_CONNECTOR, register, target

PROFILES_SCHEMA = vol.Schema(
    {
        **STATION_SCHEMA,
        vol.Optional("purpose"): PROFILE_PURPOSE,
        vol.Optional("stack_level"): STACK_LEVEL,
    }
)


async def _get_charging_profiles(call: ServiceCall) -> ServiceResponse:
    """The charging profiles installed on a charger (OCPP 2.x GetChargingProfiles)."""
    on = target(call, default_connector=EVERY_CONNECTOR)
    charger = on.charger
    connector_id = None if on.connector_id == EVERY_CONNECTOR else on.connector_id
    if connector_id and connector_id not in charger.outlet_ids:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_connector",
            translation_placeholders={
                "charger_id": charger.charger_id,
                "connector_id": str(connector_id),
            },
        )
    profiles: list[dict[str, Any]] = await on.run(
        lambda s: s.get_charging_profiles(
            connector_id, call.data.get("purpose"), call.data.get("stack_level")
        )
    )
    response: dict[str, Any] = {"profiles": profiles}
    return response


@callback
def async_setup_profile_services(hass: HomeAssistant) -> None:
    """Register the actions that read what a charger holds."""
    register(
        hass,
        "get_charging_profiles",
        _get_charging_profiles,
        PROFILES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
