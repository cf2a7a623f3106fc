"""Options flow: the central system's options, and its id tags managed in the UI.

Everything goes through Home Assistant's flow managers, as the UI does, against a real server
and real (simulated) chargers on loopback.
"""

from __future__ import annotations

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_ID_TAG_POLICY,
    CONF_NEW_CHARGERS,
    CONF_REQUIRE_PASSWORD,
    DOMAIN,
)

from .charger import connected_charger
from .helpers import boot_status, central_system, form_schema, make_entry, setup_entry

LOCALHOST = "127.0.0.1"

pytestmark = pytest.mark.usefixtures("unload_entries")


# --- options ------------------------------------------------------------------------------


async def test_options(hass: HomeAssistant) -> None:
    """Policies change without a reload: connected chargers stay connected."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    central = central_system(entry)

    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp) == "Accepted"

        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert result["type"] is FlowResultType.MENU
        assert result["menu_options"] == ["policies", "smart_charging", "add_id_tag"]
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "policies"}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "policies"
        suggested = {
            str(key): key.description["suggested_value"] for key in form_schema(result).schema
        }
        assert suggested == {
            CONF_NEW_CHARGERS: "accept",
            CONF_ID_TAG_POLICY: "known",
            CONF_REQUIRE_PASSWORD: False,
        }

        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                CONF_NEW_CHARGERS: "reject",
                CONF_ID_TAG_POLICY: "accept_all",
                CONF_REQUIRE_PASSWORD: False,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert dict(entry.options) == {
            CONF_NEW_CHARGERS: "reject",
            CONF_ID_TAG_POLICY: "accept_all",
            CONF_REQUIRE_PASSWORD: False,
        }
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        assert central_system(entry) is central

        # The known charger is still connected and accepted; a new one is now rejected.
        assert await boot_status(cp) == "Accepted"
        async with connected_charger(port, "CP2") as cp2:
            assert await boot_status(cp2) == "Rejected"


async def test_options_defaults_suggested(hass: HomeAssistant) -> None:
    """An entry without options (e.g. restored from an old version) suggests the defaults."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: 0})
    await setup_entry(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    # Not running: only the policies can be changed, so they show at once.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "policies"
    schema = form_schema(result).schema
    suggested = {str(key): key.description["suggested_value"] for key in schema}
    assert suggested == {
        CONF_NEW_CHARGERS: "ask",
        CONF_ID_TAG_POLICY: "known",
        CONF_REQUIRE_PASSWORD: False,
    }


# --- id tags ------------------------------------------------------------------------------


async def _options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def test_id_tags_managed_in_the_ui(hass: HomeAssistant) -> None:
    """Add, change and remove id tags in the options flow: Authorize answers follow."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    central = central_system(entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()

        result = await _options_step(hass, entry, "add_id_tag")
        assert result["step_id"] == "add_id_tag"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"id_tag": " 04AABB ", "name": "Anna", "status": "accepted", "parent": "FAMILY"},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert (await cp.call(call.Authorize(id_tag="04aabb"))).id_tag_info["status"] == "Accepted"
        assert central.authorization.tags["04AABB"].name == "Anna"

        # The same tag again is an error on the field.
        result = await _options_step(hass, entry, "add_id_tag")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"id_tag": "04aabb", "status": "accepted"}
        )
        assert result["errors"] == {"id_tag": "id_tag_exists"}

        # Change it: blocked, with an expiry in the naive local time the UI sends.
        result = await _options_step(hass, entry, "edit_id_tag")
        assert result["step_id"] == "edit_id_tag"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"id_tag": "04AABB"}
        )
        assert result["step_id"] == "edit_id_tag_details"
        assert result["description_placeholders"] == {"id_tag": "04AABB"}
        suggested = {
            str(key): key.description["suggested_value"]
            for key in form_schema(result).schema
            if key.description
        }
        assert suggested["name"] == "Anna"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"status": "blocked", "expiry": "2030-01-01 00:00:00"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        tag = central.authorization.tags["04AABB"]
        assert tag.expiry is not None and tag.expiry.tzinfo is not None
        assert tag.name is None  # cleared in the form
        assert (await cp.call(call.Authorize(id_tag="04AABB"))).id_tag_info["status"] == "Blocked"

        # Remove it: unknown tags are Invalid under the default policy.
        result = await _options_step(hass, entry, "remove_id_tag")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"id_tag": ["04AABB"]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert central.authorization.tags == {}
        assert (await cp.call(call.Authorize(id_tag="04AABB"))).id_tag_info["status"] == "Invalid"
    # Options did not change and nothing reloaded.
    assert central_system(entry) is central
