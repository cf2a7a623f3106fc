"""Diagnostics, with passwords and id tags redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .central import OcppConfigEntry

TO_REDACT = {
    "password",
    "id_tag",
    "id_tags",
    "ssl_keyfile",
    "parent",
    "upstream_password",
    # The backend's URL may carry a token in its query; the upstream part shows it without.
    "upstream_url",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OcppConfigEntry
) -> dict[str, Any]:
    """Entry settings, chargers (model and connection), the number of id tags and sessions,
    and what the price source gave."""
    central = entry.runtime_data
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "subentries": [dict(sub.data) for sub in entry.subentries.values()],
            "chargers": {
                charger_id: {
                    **charger.as_dict(),
                    "connected": charger.connected,
                    "ocpp_version": (
                        central.sessions[charger_id].connection.ocpp_version
                        if charger_id in central.sessions
                        else None
                    ),
                    "status": charger.status,
                    "error": charger.error.code,
                    "upstream": central.upstreams.diagnostics(charger_id),
                    "charging_plan": central.smart.planner.diagnostics(charger_id),
                }
                for charger_id, charger in central.chargers.items()
            },
            "pending_chargers": sorted(central.pending),
            "smart_charging": central.smart.diagnostics(),
            "id_tag_count": len(central.authorization.tags),
            # Counts only: the sessions themselves say who charged when.
            "sessions": central.ledger.diagnostics(),
            "prices": central.prices.diagnostics(),
        },
        TO_REDACT,
    )
