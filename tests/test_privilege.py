"""Privilege and scope: admin-only actions, one charger id per central system, background work
owned by the entry, and our own request checks surfacing as clear errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import logging
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.services import ADMIN_ACTIONS

from .charger import SimCharger, connected_charger
from .charger201 import connected_station
from .helpers import make_entry, setup_entry

# Every action, with data that passes its schema (the device id is filled in).
ACTIONS: dict[str, dict[str, Any]] = {
    "add_id_tag": {"id_tag": "CARD9"},
    "cancel_reservation": {"reservation_id": 1},
    "clear_charging_limit": {},
    "data_transfer": {"vendor_id": "com.acme"},
    "get_composite_schedule": {"duration": 60},
    "get_configuration": {},
    "get_diagnostics": {"upload_url": "https://example.com/logs"},
    "get_sessions": {"start": "2026-01-01", "end": "2026-01-31"},
    "remove_id_tag": {"id_tag": "CARD1"},
    "reserve_now": {"id_tag": "CARD1", "expiry": "2030-01-01T00:00:00"},
    "reset": {},
    "set_availability": {"available": True},
    "set_charger_password": {},
    "set_charging_limit": {"limit_amps": 10},
    "set_configuration": {"key": "HeartbeatInterval", "value": "300"},
    "start_charging": {},
    "stop_charging": {},
    "trigger_message": {"message": "Heartbeat"},
    "unlock_connector": {},
    "update_firmware": {"location": "https://example.com/fw.bin"},
}
NEEDS_DEVICE = set(ACTIONS) - {"add_id_tag", "remove_id_tag"}


async def run_action(
    hass: HomeAssistant, name: str, device_id: str, context: Context | None = None
) -> Any:
    data = dict(ACTIONS[name])
    if name in NEEDS_DEVICE:
        data["device_id"] = device_id
    return await hass.services.async_call(
        DOMAIN,
        name,
        data,
        blocking=True,
        context=context,
        return_response=name
        in ("get_composite_schedule", "get_configuration", "get_diagnostics", "get_sessions"),
    )


@pytest.fixture
async def user(hass: HomeAssistant) -> MockUser:
    """A household member: a regular, non-admin user."""
    group = await hass.auth.async_get_group(GROUP_ID_USER)
    assert group is not None
    return MockUser(groups=[group]).add_to_hass(hass)


async def test_every_action_is_listed() -> None:
    assert set(ACTIONS) > ADMIN_ACTIONS


@pytest.fixture
async def cp(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> AsyncIterator[SimCharger]:
    """A booted charger CP1, prepared."""
    async with connected_charger(port, "CP1") as charger:
        await charger.boot()
        await charger.status(1, "Available")
        await hass.async_block_till_done(wait_background_tasks=True)
        yield charger


def cp1(hass: HomeAssistant) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None
    return device.id


async def test_admin_actions_refuse_other_users(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    cp: SimCharger,
    user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    received = len(cp.received)
    for name in sorted(ADMIN_ACTIONS):
        for someone in (user, hass_read_only_user):
            with pytest.raises(Unauthorized):
                await run_action(hass, name, cp1(hass), Context(user_id=someone.id))
    # Nothing reached the charger, nothing changed.
    assert len(cp.received) == received
    assert entry.runtime_data.authorization.tags == {}


async def test_reading_and_charging_actions_stay_open(
    hass: HomeAssistant, cp: SimCharger, user: MockUser
) -> None:
    cp.composite = {"status": "Accepted", "connector_id": 1}
    for name in (
        "trigger_message",
        "get_composite_schedule",
        "set_charging_limit",
        "start_charging",
    ):
        await run_action(hass, name, cp1(hass), Context(user_id=user.id))
    assert cp.calls("RemoteStartTransaction")


async def test_admin_and_automations_may_run_admin_actions(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, hass_admin_user: MockUser
) -> None:
    await run_action(hass, "add_id_tag", cp1(hass), Context(user_id=hass_admin_user.id))
    await run_action(hass, "reset", cp1(hass))  # an automation: no user
    assert cp.calls("Reset")
    assert "CARD9" in entry.runtime_data.authorization.tags


# --- one charger id, one central system -------------------------------------------------------


async def second_central(hass: HomeAssistant, **options: Any) -> tuple[MockConfigEntry, int]:
    other = make_entry(**options)
    port = await setup_entry(hass, other)
    hass.config_entries.async_update_entry(other, title="Garage")
    return other, port


async def test_charger_of_another_central_system_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Approved under the first entry; booting at the second is refused (auto-accept and ask)."""
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Accepted"
    for policy in ("accept", "ask"):
        other, other_port = await second_central(hass, new_chargers=policy)
        async with connected_charger(other_port, "CP1") as cp:
            assert (await cp.boot()).status == "Rejected"
            await hass.async_block_till_done()
        assert other.runtime_data.chargers == {}
        assert not other.subentries
        assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
        assert await hass.config_entries.async_unload(other.entry_id)
    assert "belongs to the central system" in caplog.text
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None and device.config_entries == {entry.entry_id}


async def test_add_charger_refuses_an_id_another_central_system_has(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
    other, _ = await second_central(hass)
    result = await hass.config_entries.subentries.async_init(
        (other.entry_id, "charger"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"charger_id": "CP1", "lenient": False}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"charger_id": "charger_in_other_entry"}
    assert not other.subentries


async def test_discovered_charger_approved_elsewhere_meanwhile(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A discovered flow of the second central system, for a charger the first one approved
    while the flow was open, aborts with a clear reason instead of adding it twice."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
    other, _ = await second_central(hass, new_chargers="ask")
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"entry_id": other.entry_id, "charger_id": "CP1", "vendor": "A", "model": "M"},
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "charger_in_other_entry"
    assert result["description_placeholders"] == {"charger_id": "CP1", "entry": entry.title}
    assert not other.subentries


# --- background work ------------------------------------------------------------------------


async def test_charger_preparation_ends_with_the_entry(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2.x station that never sends its report: preparing it must not outlive the entry."""
    async with connected_station(port) as station:
        station.send_reports = False
        station.variables[("EVSE", 1, "Available")] = "true"
        await station.boot()
        await station.wait_for_call("GetBaseReport")
        await hass.async_block_till_done()
        preparing = [
            task for task in asyncio.all_tasks() if task.get_name() == f"{DOMAIN} prepare CS1"
        ]
        assert len(preparing) == 1 and not preparing[0].done()
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        assert preparing[0].done()
    caplog.clear()
    # Long after the report would have timed out: nothing of the unloaded entry wakes up.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=60))
    await hass.async_block_till_done()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO] == []


# --- our own request checks -------------------------------------------------------------------


async def test_request_the_charger_cannot_take_is_a_validation_error(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    """A 1.6 configuration key has at most 50 characters: a clear, translated error."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "set_configuration",
            {"device_id": cp1(hass), "key": "K" * 51, "value": "1"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "invalid_request"
    assert err.value.translation_placeholders is not None
    assert "too long" in err.value.translation_placeholders["error"]
    assert cp.calls("ChangeConfiguration") == []
