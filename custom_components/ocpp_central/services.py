"""Actions (services), registered once for the integration; each resolves a device to a charger
(service_helpers.target) and runs its command there. The actions live by topic:
charging_services, maintenance_services, id_tag_services, profile_services, session_services."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback

from .charging_services import async_setup_charging_services
from .id_tag_services import async_setup_id_tag_services
from .maintenance_services import async_setup_maintenance_services
from .service_helpers import ADMIN_ACTIONS

__all__ = ["ADMIN_ACTIONS", "async_setup_services"]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's charging, maintenance and id tag actions."""
    async_setup_charging_services(hass)
    async_setup_id_tag_services(hass)
    async_setup_maintenance_services(hass)
