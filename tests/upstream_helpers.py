"""Home Assistant between a charger and its upstream backend: the entry with the charger's
upstream settings, and what users see of the link (its entity, its diagnostics).

The backend itself is tests/upstream_backend.py's (the `ocpp` library's server classes on
127.0.0.1).
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_UPSTREAM_MODE,
    CONF_UPSTREAM_URL,
)

from .helpers import add_charger, diagnostics, make_entry, setup_entry, state_of, wait_for_state

UPSTREAM_CONNECTED = "upstream_connected"


async def upstream_entry(
    hass: HomeAssistant,
    url: str,
    *,
    mode: str = "shared",
    charger_id: str = "CP1",
    options: dict[str, Any] | None = None,
    **settings: Any,
) -> MockConfigEntry:
    """A running central system with one charger added by hand with upstream settings."""
    entry = make_entry(**(options or {}))
    await setup_entry(hass, entry)
    result = await add_charger(
        hass,
        entry,
        {
            CONF_CHARGER_ID: charger_id,
            CONF_LENIENT: False,
            CONF_UPSTREAM_URL: url,
            CONF_UPSTREAM_MODE: mode,
            **settings,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    return entry


def upstream_state(hass: HomeAssistant, charger_id: str = "CP1") -> str | None:
    """binary_sensor.upstream_connected of a charger ("on"/"off"), None when it has none."""
    found = state_of(hass, "binary_sensor", f"{charger_id}_{UPSTREAM_CONNECTED}")
    return None if found is None else found.state


async def wait_upstream(hass: HomeAssistant, state: str = "on", charger_id: str = "CP1") -> None:
    """Wait until the charger's upstream_connected entity shows `state`."""
    await wait_for_state(
        hass,
        "binary_sensor",
        f"{charger_id}_{UPSTREAM_CONNECTED}",
        lambda found: found.state == state,
    )


async def link_diagnostics(
    hass: HomeAssistant, entry: MockConfigEntry, charger_id: str = "CP1"
) -> dict[str, Any]:
    """The upstream part of a charger's diagnostics, as users download them."""
    found: dict[str, Any] = (await diagnostics(hass, entry))["chargers"][charger_id]["upstream"]
    return found


async def link_settles(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    done: str = "queued",
    charger_id: str = "CP1",
    timeout: float = 5,
) -> dict[str, Any]:
    """Wait until the link's diagnostics show `done`: "queued" — nothing left to deliver
    (everything sent was answered); "last_error" — a failure was recorded. Polled: the link
    raises no event for either."""
    async with asyncio.timeout(timeout):
        while True:
            link = await link_diagnostics(hass, entry, charger_id)
            if (link[done] == 0) if done == "queued" else bool(link[done]):
                return link
            await asyncio.sleep(0.005)
