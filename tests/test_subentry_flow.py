"""Charger subentry flow: adding a charger by hand, and reconfiguring one.

Everything goes through Home Assistant's flow managers, as the UI does, against a real server
and real (simulated) chargers on loopback.
"""

from __future__ import annotations

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from ocpp.exceptions import OCPPError
from ocpp.v16 import call
import pytest
from websockets.exceptions import InvalidStatus

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_METER_INTERVAL,
    DOMAIN,
    SUBENTRY_CHARGER,
)

from .charger import connected_charger
from .helpers import (
    add_charger,
    boot_status,
    central_system,
    charger_subentries,
    form_schema,
    make_entry,
    setup_entry,
)

pytestmark = pytest.mark.usefixtures("unload_entries")


async def test_add_charger_subentry(hass: HomeAssistant) -> None:
    """A charger added by id is known at once (no reload) and accepted when it boots."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    central = central_system(entry)

    result = await add_charger(
        hass, entry, {CONF_CHARGER_ID: " CP7 ", CONF_NAME: "Garage", CONF_LENIENT: True}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"] == {CONF_CHARGER_ID: "CP7", CONF_LENIENT: True}
    await hass.async_block_till_done()
    subentry = charger_subentries(entry)["CP7"]
    assert subentry.title == "Garage"
    assert central_system(entry) is central
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP7")})
    assert device is not None
    assert device.name == "Garage"

    async with connected_charger(port, "CP7") as cp:
        assert await boot_status(cp, vendor="Acme", model="Wallbox 11") == "Accepted"
    assert not hass.config_entries.flow.async_progress()
    assert central_system(entry) is central


async def test_add_charger_title_defaults_to_id(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP8"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CP8"
    assert result["data"] == {CONF_CHARGER_ID: "CP8", CONF_LENIENT: False}


@pytest.mark.parametrize("charger_id", ["a/b", "x" * 60, "   ", ".."])
async def test_add_charger_invalid_id(hass: HomeAssistant, charger_id: str) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: charger_id, CONF_LENIENT: False})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CHARGER_ID: "invalid_charger_id"}
    assert not entry.subentries


async def test_add_charger_duplicate(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", CONF_LENIENT: False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", CONF_NAME: "Again"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CHARGER_ID: "charger_exists"}
    assert [sub.title for sub in charger_subentries(entry).values()] == ["CP1"]


async def test_reconfigure_charger_lenient(hass: HomeAssistant) -> None:
    """Turning `lenient` on applies to the connected charger at once, without a reload."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    central = central_system(entry)
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", CONF_LENIENT: False})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = charger_subentries(entry)["CP1"]
    too_long_info = call.StatusNotification(
        connector_id=1, error_code="NoError", status="Available", info="x" * 60
    )

    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp) == "Accepted"
        with pytest.raises(OCPPError):
            await cp.call(too_long_info, suppress=False, skip_schema_validation=True)

        result = await entry.start_subentry_reconfigure_flow(
            hass, SUBENTRY_CHARGER, subentry.subentry_id
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "reconfigure"
        assert form_schema(result)({})[CONF_LENIENT] is False
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_LENIENT: True}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        data = entry.subentries[subentry.subentry_id].data
        assert data[CONF_CHARGER_ID] == "CP1"
        assert data[CONF_LENIENT] is True
        await hass.async_block_till_done()
        assert central_system(entry) is central

        await cp.call(too_long_info, suppress=False, skip_schema_validation=True)

    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_CHARGER, subentry.subentry_id
    )
    assert form_schema(result)({})[CONF_LENIENT] is True


async def test_reconfigure_charger_clear_meter_interval(hass: HomeAssistant) -> None:
    """An optional setting the user clears is removed, not kept at its old value."""
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = charger_subentries(entry)["CP1"]

    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_CHARGER, subentry.subentry_id
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_LENIENT: False, CONF_METER_INTERVAL: 60}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data[CONF_METER_INTERVAL] == 60

    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_CHARGER, subentry.subentry_id
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_LENIENT: False}
    )
    assert result["reason"] == "reconfigure_successful"
    data = entry.subentries[subentry.subentry_id].data
    assert CONF_METER_INTERVAL not in data
    assert data[CONF_CHARGER_ID] == "CP1"


async def test_add_charger_with_password(hass: HomeAssistant) -> None:
    """A charger added with a password must authenticate with it."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "charger"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_id": "CP7", "password": "pw", "lenient": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(iter(entry.subentries.values()))
    assert dict(subentry.data) == {"charger_id": "CP7", "lenient": False, "password": "pw"}
    await hass.async_block_till_done()
    with pytest.raises(InvalidStatus):
        async with connected_charger(port, "CP7"):
            pass
