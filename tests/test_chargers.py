"""Chargers as users see them: policies, devices, removal, connectors, errors, connections."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from types import MappingProxyType
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigFlowResult,
    ConfigSubentry,
)
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.protocol import State as WsState
from websockets.typing import Subprotocol

from custom_components.ocpp_central.const import (
    CONF_LENIENT,
    CONF_NEW_CHARGERS,
    DOMAIN,
    EVENT_ERROR,
    NEW_CHARGERS_ASK,
    NEW_CHARGERS_REJECT,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_central.diagnostics import async_get_config_entry_diagnostics
from custom_components.ocpp_central.wire.server import SUPPORTED_SUBPROTOCOLS

from .charger import SimCharger, connected_charger
from .helpers import (
    basic,
    bound_port,
    capture_events,
    central_system,
    charger_subentries,
    device_of,
    diagnostics,
    entity_state,
    make_entry,
    open_sessions,
    registry_entry,
    setup_entry,
    state_of,
    wait_for_state,
)

# --- helpers -----------------------------------------------------------------------------


def discovered_flows(hass: HomeAssistant) -> list[ConfigFlowResult]:
    """Our config flows in progress (discovered chargers)."""
    return list(hass.config_entries.flow.async_progress_by_handler(DOMAIN))


def category(hass: HomeAssistant, platform: str, unique_id: str) -> EntityCategory | None:
    """An entity's category, as the registry (and so the frontend) has it."""
    return registry_entry(hass, platform, unique_id).entity_category


def entity_device_id(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    """The device an entity is attached to."""
    entry = registry_entry(hass, platform, unique_id)
    return entry.device_id


def is_open(cp: SimCharger) -> bool:
    """Whether the charger's websocket is still open."""
    return cp._connection.state is WsState.OPEN


async def wait_closed(cp: SimCharger, timeout: float = 5) -> None:
    """Wait until the server closed the charger's websocket."""
    async with asyncio.timeout(timeout):
        await cp._connection.wait_closed()


async def heartbeat_ok(cp: SimCharger) -> None:
    """The connection still works: a Heartbeat is answered."""
    result = await cp.call(call.Heartbeat())
    assert result is not None and result.current_time


def add_charger_subentry(
    hass: HomeAssistant, entry: MockConfigEntry, charger_id: str, **data: Any
) -> ConfigSubentry:
    """Approve a charger by hand, as the subentry flow does."""
    subentry = ConfigSubentry(
        data=MappingProxyType({"charger_id": charger_id, **data}),
        subentry_type=SUBENTRY_CHARGER,
        title=charger_id,
        unique_id=charger_id,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


@pytest.fixture
async def ask_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A loaded central system that asks before adding new chargers."""
    entry = make_entry(**{CONF_NEW_CHARGERS: NEW_CHARGERS_ASK})
    await setup_entry(hass, entry)
    return entry


# --- new-charger policies ----------------------------------------------------------------


async def test_policy_accept_creates_device_and_subentry(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        result = await cp.boot(
            vendor="Acme",
            model="Wallbox 11",
            charge_point_serial_number="SN-42",
            firmware_version="1.2.3",
        )
        assert result.status == "Accepted"
        assert result.interval > 0
        await hass.async_block_till_done()

        device = device_of(hass, "CP1")
        assert device is not None
        assert device.manufacturer == "Acme"
        assert device.model == "Wallbox 11"
        assert device.serial_number == "SN-42"
        assert device.sw_version == "1.2.3"
        assert entry.entry_id in device.config_entries

        subs = charger_subentries(entry)
        assert set(subs) == {"CP1"}
        assert subs["CP1"].unique_id == "CP1"
        assert device.config_entries_subentries[entry.entry_id] == {subs["CP1"].subentry_id}

        assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON
        assert discovered_flows(hass) == []

        # Accepted in the answer itself: no TriggerMessage(BootNotification) needed.
        await hass.async_block_till_done(wait_background_tasks=True)
        await heartbeat_ok(cp)
        assert cp.calls("TriggerMessage") == []


async def test_policy_accept_non_compliant_boot_adds_charger_lenient(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A boot that breaks the schema (a 30-character serial number) from an unknown charger:
    added anyway, with lenient on, so that its next boots are accepted too."""
    boot = {
        "chargePointVendor": "Schneider Electric",
        "chargePointModel": "EVlink",
        "chargePointSerialNumber": "3N1234567890123456789012345678",
    }
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.raw_call("BootNotification", boot)).payload["status"] == "Accepted"
        await hass.async_block_till_done()
    assert charger_subentries(entry)["CP1"].data[CONF_LENIENT] is True
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.raw_call("BootNotification", boot)).payload["status"] == "Accepted"
        # Lenient applies to the charger's other messages as well.
        await cp.raw_call(
            "StatusNotification", {"connectorId": 1, "errorCode": "Error", "status": "Faulted"}
        )
        await hass.async_block_till_done()
    assert entity_state(hass, "sensor", "CP1_error_code") == "other_error"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ({"chargePointVendor": {"name": "Acme"}}, None),  # not text: left out
        ({"chargePointVendor": "A" * 5000}, "A" * 100),  # cut
        ({"chargePointVendor": ""}, None),
    ],
)
async def test_unknown_charger_boot_info_is_bounded(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, sent: dict[str, Any], shown: str | None
) -> None:
    """What an unknown charger's lenient boot says becomes device data only as sane text."""
    async with connected_charger(port, "CP1") as cp:
        answer = await cp.raw_call("BootNotification", {"chargePointModel": "X", **sent})
        assert answer.payload["status"] == "Accepted"
        await hass.async_block_till_done()
    device = device_of(hass, "CP1")
    assert device is not None
    assert device.manufacturer == shown
    assert device.model == "X"


async def test_boot_with_new_firmware_updates_device(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot(firmware_version="1.0")
        await cp.boot(firmware_version="2.0")
        await hass.async_block_till_done()
        device = device_of(hass, "CP1")
        assert device is not None and device.sw_version == "2.0"


async def test_policy_reject(hass: HomeAssistant) -> None:
    entry = make_entry(**{CONF_NEW_CHARGERS: NEW_CHARGERS_REJECT})
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        result = await cp.boot()
        assert result.status == "Rejected"
        # Still rejected on a second try, and the connection itself still works.
        assert (await cp.boot()).status == "Rejected"
        await heartbeat_ok(cp)
        await hass.async_block_till_done()
        assert device_of(hass, "CP1") is None
        assert charger_subentries(entry) == {}
        assert discovered_flows(hass) == []
        assert state_of(hass, "binary_sensor", "CP1_connected") is None


async def test_policy_ask_pending_then_approved(
    hass: HomeAssistant, ask_entry: MockConfigEntry
) -> None:
    async with connected_charger(bound_port(ask_entry), "CP1") as cp:
        result = await cp.boot(vendor="Acme", model="Wallbox 11")
        assert result.status == "Pending"
        await hass.async_block_till_done()

        assert device_of(hass, "CP1") is None
        assert charger_subentries(ask_entry) == {}
        flows = discovered_flows(hass)
        assert len(flows) == 1
        flow = flows[0]
        assert flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        assert flow["context"]["unique_id"] == "CP1"
        assert flow["context"]["title_placeholders"] == {
            "charger_id": "CP1",
            "vendor": "Acme",
            "model": "Wallbox 11",
        }
        assert flow["step_id"] == "approve"

        # Booting again while pending does not pile up flows.
        assert (await cp.boot(vendor="Acme", model="Wallbox 11")).status == "Pending"
        await hass.async_block_till_done()
        assert len(discovered_flows(hass)) == 1

        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"name": "Garage"})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "charger_approved"

        trigger = await cp.wait_for_call("TriggerMessage")
        assert trigger == {"requested_message": "BootNotification"}
        assert (await cp.boot(vendor="Acme", model="Wallbox 11")).status == "Accepted"
        await hass.async_block_till_done()

        device = device_of(hass, "CP1")
        assert device is not None
        assert device.name == "Garage"
        assert device.manufacturer == "Acme"
        assert set(charger_subentries(ask_entry)) == {"CP1"}
        assert discovered_flows(hass) == []
        assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON


# --- removing a charger ------------------------------------------------------------------


async def remove_device_from_entry(
    hass: HomeAssistant, hass_ws_client: Any, entry: MockConfigEntry, device_id: str
) -> dict[str, Any]:
    """Remove a device from the entry as the device page does; return the websocket answer."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device_id,
        }
    )
    answer: dict[str, Any] = await client.receive_json()
    return answer


async def _remove_via_device_registry(
    hass: HomeAssistant, hass_ws_client: Any, entry: MockConfigEntry, charger_id: str
) -> None:
    assert await async_setup_component_config(hass)
    device = device_of(hass, charger_id)
    assert device is not None
    response = await remove_device_from_entry(hass, hass_ws_client, entry, device.id)
    assert response["success"], response


async def async_setup_component_config(hass: HomeAssistant) -> bool:
    return await async_setup_component(hass, "config", {})


@pytest.mark.parametrize("how", ["device_registry", "subentry"])
async def test_remove_charger(
    hass: HomeAssistant,
    ask_entry: MockConfigEntry,
    hass_ws_client: Any,
    how: str,
) -> None:
    port = bound_port(ask_entry)
    central = central_system(ask_entry)
    add_charger_subentry(hass, ask_entry, "CP1")
    add_charger_subentry(hass, ask_entry, "CP2")
    await hass.async_block_till_done()

    async with connected_charger(port, "CP1") as cp1, connected_charger(port, "CP2") as cp2:
        assert (await cp1.boot()).status == "Accepted"
        assert (await cp2.boot()).status == "Accepted"
        await cp1.status(1, "Available")
        await cp2.status(1, "Available")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "available"
        )
        entity_ids = [
            entry.entity_id
            for entry in er.async_entries_for_config_entry(er.async_get(hass), ask_entry.entry_id)
            if entry.unique_id.startswith("CP1_")
        ]
        assert entity_ids

        if how == "device_registry":
            await _remove_via_device_registry(hass, hass_ws_client, ask_entry, "CP1")
        else:
            hass.config_entries.async_remove_subentry(
                ask_entry, charger_subentries(ask_entry)["CP1"].subentry_id
            )
        await hass.async_block_till_done()

        # CP1 is gone: device, entities, subentry; its connection is closed.
        assert device_of(hass, "CP1") is None
        assert "CP1" not in charger_subentries(ask_entry)
        for entity_id in entity_ids:
            assert er.async_get(hass).async_get(entity_id) is None
            assert hass.states.get(entity_id) is None
        await wait_closed(cp1)

        # CP2 is untouched: same central system, still connected and working.
        assert central_system(ask_entry) is central
        assert is_open(cp2)
        await heartbeat_ok(cp2)
        assert entity_state(hass, "binary_sensor", "CP2_connected") == STATE_ON
        assert entity_state(hass, "sensor", "CP2_1_connector_status") == "available"
        assert device_of(hass, "CP2") is not None

    # CP1 comes back: it is unknown again, so with policy ask it is pending and can be approved.
    async with connected_charger(port, "CP1") as cp1:
        assert (await cp1.boot()).status == "Pending"
        await hass.async_block_till_done()
        flows = discovered_flows(hass)
        assert [flow["context"]["unique_id"] for flow in flows] == ["CP1"]
        assert device_of(hass, "CP1") is None
        result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
        assert result["reason"] == "charger_approved"
        await cp1.wait_for_call("TriggerMessage")
        assert (await cp1.boot()).status == "Accepted"
        await cp1.status(1, "Charging")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "charging"
        )
        assert device_of(hass, "CP1") is not None


async def test_connector_device_cannot_be_removed_alone(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_ws_client: Any
) -> None:
    """A connector device goes with its charger: removing it alone is refused."""
    assert await async_setup_component_config(hass)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        await cp.status(2, "Available")
        await hass.async_block_till_done()
        device = device_of(hass, "CP1-connector-2")
        assert device is not None
        response = await remove_device_from_entry(hass, hass_ws_client, entry, device.id)
        assert not response["success"]
        assert device_of(hass, "CP1-connector-2") is not None
        assert is_open(cp)


# --- several chargers --------------------------------------------------------------------


async def test_several_chargers_own_entities_and_no_disconnects(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    central = central_system(entry)
    async with connected_charger(port, "CP1") as cp1:
        await cp1.boot(vendor="Acme")
        await cp1.status(1, "Charging")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "charging"
        )

        async with connected_charger(port, "CP2") as cp2, connected_charger(port, "CP3") as cp3:
            await cp2.boot(vendor="Other")
            await cp3.boot(vendor="Third")
            await cp2.status(1, "Available")
            await cp3.status(1, "Faulted")
            await wait_for_state(
                hass, "sensor", "CP3_1_connector_status", lambda s: s.state == "faulted"
            )
            await hass.async_block_till_done()

            # Adding chargers neither reloaded the entry nor disconnected anybody.
            assert central_system(entry) is central
            assert is_open(cp1)
            await heartbeat_ok(cp1)

            assert entity_state(hass, "sensor", "CP1_1_connector_status") == "charging"
            assert entity_state(hass, "sensor", "CP2_1_connector_status") == "available"
            assert entity_state(hass, "sensor", "CP3_1_connector_status") == "faulted"
            assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_OFF
            assert entity_state(hass, "binary_sensor", "CP3_problem") == STATE_ON
            for cid, vendor in (("CP1", "Acme"), ("CP2", "Other"), ("CP3", "Third")):
                device = device_of(hass, cid)
                assert device is not None and device.manufacturer == vendor
                assert entity_state(hass, "binary_sensor", f"{cid}_connected") == STATE_ON
                assert entity_device_id(hass, "sensor", f"{cid}_1_connector_status") == device.id
            assert set(charger_subentries(entry)) == {"CP1", "CP2", "CP3"}

        # CP2 and CP3 left; CP1 stays connected.
        await wait_for_state(hass, "binary_sensor", "CP2_connected", lambda s: s.state == STATE_OFF)
        await wait_for_state(hass, "binary_sensor", "CP3_connected", lambda s: s.state == STATE_OFF)
        assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON
        assert is_open(cp1)


async def test_approving_a_charger_disconnects_nobody(
    hass: HomeAssistant, ask_entry: MockConfigEntry
) -> None:
    port = bound_port(ask_entry)
    central = central_system(ask_entry)
    add_charger_subentry(hass, ask_entry, "CP1")
    await hass.async_block_till_done()
    async with connected_charger(port, "CP1") as cp1, connected_charger(port, "CP2") as cp2:
        assert (await cp1.boot()).status == "Accepted"
        assert (await cp2.boot()).status == "Pending"
        await hass.async_block_till_done()
        (flow,) = discovered_flows(hass)
        await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        await cp2.wait_for_call("TriggerMessage")
        assert (await cp2.boot()).status == "Accepted"
        await hass.async_block_till_done()
        assert central_system(ask_entry) is central
        assert is_open(cp1) and is_open(cp2)
        await heartbeat_ok(cp1)
        assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON
        assert entity_state(hass, "binary_sensor", "CP2_connected") == STATE_ON


# --- multi-connector chargers ------------------------------------------------------------


async def test_multi_connector_child_devices(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot(vendor="Acme", model="Twin")
        await cp.status(1, "Charging")
        await cp.meter_values(
            1, [{"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]
        )
        await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "1.0")
        charger_device = device_of(hass, "CP1")
        assert charger_device is not None
        # A single connector: its entities sit on the charger device, and its status,
        # which the charger's status repeats, is diagnostic.
        assert entity_device_id(hass, "sensor", "CP1_1_connector_status") == charger_device.id
        assert device_of(hass, "CP1-connector-1") is None
        assert category(hass, "sensor", "CP1_1_connector_status") is EntityCategory.DIAGNOSTIC

        await cp.status(2, "Available")
        await wait_for_state(
            hass, "sensor", "CP1_2_connector_status", lambda s: s.state == "available"
        )
        await hass.async_block_till_done()

        dev_reg = dr.async_get(hass)
        children = dr.async_entries_for_config_entry(dev_reg, entry.entry_id)
        by_name = {device.name: device for device in children}
        assert set(by_name) == {"CP1", "CP1 Connector 1", "CP1 Connector 2"}
        for n in (1, 2):
            child = by_name[f"CP1 Connector {n}"]
            assert child.via_device_id == charger_device.id
            for platform, key in (("sensor", "connector_status"), ("switch", "charging")):
                assert entity_device_id(hass, platform, f"CP1_{n}_{key}") == child.id
            # Each connector device shows its own status on the dashboard.
            assert category(hass, "sensor", f"CP1_{n}_connector_status") is None
        # Connector 1's entities moved from the charger device to its child device,
        # including the measurand sensor that appeared before connector 2 did.
        assert entity_device_id(hass, "sensor", "CP1_1_energy") == by_name["CP1 Connector 1"].id
        # Charger-level entities stay on the charger device.
        assert entity_device_id(hass, "sensor", "CP1_status") == charger_device.id
        assert entity_device_id(hass, "binary_sensor", "CP1_connected") == charger_device.id

        # Entities keep working on their new devices.
        assert entity_state(hass, "sensor", "CP1_1_connector_status") == "charging"
        assert entity_state(hass, "sensor", "CP1_1_energy") == "1.0"
        assert entity_state(hass, "switch", "CP1_2_charging") == STATE_OFF
        await cp.status(1, "Finishing")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "finishing"
        )


async def test_connector_devices_are_named_in_the_servers_language(hass: HomeAssistant) -> None:
    hass.config.language = "sv"
    entry = make_entry()
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot(vendor="Acme", model="Twin")
        await cp.status(1, "Available")
        await cp.status(2, "Available")
        await wait_for_state(
            hass, "sensor", "CP1_2_connector_status", lambda s: s.state == "available"
        )
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert {device.name for device in devices} == {"CP1", "CP1 uttag 1", "CP1 uttag 2"}


# --- status and errors -------------------------------------------------------------------


async def test_errors_and_problem(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    errors = capture_events(hass, EVENT_ERROR)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        await wait_for_state(hass, "sensor", "CP1_status", lambda s: s.state == "available")
        assert entity_state(hass, "sensor", "CP1_error_code") == "no_error"
        assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_OFF
        assert errors == []

        await cp.status(
            1,
            "Available",
            error_code="GroundFailure",
            info="RCD tripped",
            vendor_id="Acme",
            vendor_error_code="E42",
        )
        state = await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "ground_failure"
        )
        assert state.attributes["info"] == "RCD tripped"
        assert state.attributes["vendor_id"] == "Acme"
        assert state.attributes["vendor_error_code"] == "E42"
        assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_ON
        assert len(errors) == 1
        device = device_of(hass, "CP1")
        assert device is not None
        assert errors[0].data == {
            "device_id": device.id,
            "charge_point_id": "CP1",
            "connector_id": 1,
            "error_code": "ground_failure",
            "info": "RCD tripped",
            "vendor_error_code": "E42",
        }

        # The same error again is no new event.
        await cp.status(1, "Available", error_code="GroundFailure", info="RCD tripped")
        await heartbeat_ok(cp)
        await hass.async_block_till_done()
        assert len(errors) == 1

        # Another error is.
        await cp.status(1, "Available", error_code="EVCommunicationError")
        await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "ev_communication_error"
        )
        assert [e.data["error_code"] for e in errors] == [
            "ground_failure",
            "ev_communication_error",
        ]

        # Cleared.
        await cp.status(1, "Available")
        state = await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "no_error"
        )
        assert state.attributes["info"] is None
        assert entity_state(hass, "binary_sensor", "CP1_problem") == STATE_OFF

        # Faulted without an error code is a problem too; the charger status shows it.
        await cp.status(1, "Faulted")
        await wait_for_state(hass, "binary_sensor", "CP1_problem", lambda s: s.state == STATE_ON)
        assert entity_state(hass, "sensor", "CP1_status") == "faulted"
        assert entity_state(hass, "sensor", "CP1_1_connector_status") == "faulted"

        # And the same error after it cleared starts again: a new event.
        await cp.status(1, "Available", error_code="GroundFailure")
        await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "ground_failure"
        )
        await cp.status(1, "Available")
        await wait_for_state(hass, "sensor", "CP1_error_code", lambda s: s.state == "no_error")
        await cp.status(1, "Available", error_code="GroundFailure")
        await wait_for_state(
            hass, "sensor", "CP1_error_code", lambda s: s.state == "ground_failure"
        )
        await hass.async_block_till_done()
        assert [e.data["error_code"] for e in errors] == [
            "ground_failure",
            "ev_communication_error",
            "ground_failure",
            "ground_failure",
        ]


async def test_charger_level_status(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(0, "Available")
        await cp.status(1, "Preparing")
        await wait_for_state(hass, "sensor", "CP1_status", lambda s: s.state == "preparing")
        await cp.status(1, "Charging")
        await wait_for_state(hass, "sensor", "CP1_status", lambda s: s.state == "charging")
        await cp.status(0, "Unavailable")
        await wait_for_state(hass, "sensor", "CP1_status", lambda s: s.state == "unavailable")
        # Connector 0 is the charger itself: no connector entities for it.
        assert state_of(hass, "sensor", "CP1_0_connector_status") is None


async def test_connection_state_and_availability(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Charging")
        await cp.meter_values(
            1,
            [
                {"value": "2500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "3.7", "measurand": "Power.Active.Import", "unit": "kW"},
            ],
        )
        await wait_for_state(hass, "sensor", "CP1_1_power", lambda s: s.state == "3700.0")
        assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON

    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    # Live readings are unavailable while offline; the meter register keeps its value.
    for platform, unique_id in (
        ("sensor", "CP1_1_power"),
        ("sensor", "CP1_1_connector_status"),
        ("sensor", "CP1_status"),
        ("binary_sensor", "CP1_problem"),
    ):
        assert entity_state(hass, platform, unique_id) == STATE_UNAVAILABLE, unique_id
    assert entity_state(hass, "sensor", "CP1_1_energy") == "2.5"

    async with connected_charger(port, "CP1") as cp:
        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_ON)
        await cp.boot()
        await cp.status(1, "Available")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "available"
        )
        assert entity_state(hass, "sensor", "CP1_1_energy") == "2.5"


async def test_last_seen(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, freezer: FrozenDateTimeFactory
) -> None:
    """Last seen follows every message, even one that changes nothing else (a Heartbeat)."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        await hass.async_block_till_done(wait_background_tasks=True)
        first = dt_util.parse_datetime(entity_state(hass, "sensor", "CP1_last_seen"))
        assert first is not None
        assert abs((first - dt_util.utcnow()).total_seconds()) < 2

        # Minutes later, a message that changes nothing else: last seen follows.
        freezer.tick(timedelta(minutes=5))
        await cp.call(call.DataTransfer(vendor_id="com.acme"))
        await hass.async_block_till_done()
        later = dt_util.parse_datetime(entity_state(hass, "sensor", "CP1_last_seen"))
        assert later is not None
        assert (later - first).total_seconds() >= 299

        freezer.tick(timedelta(minutes=5))
        await heartbeat_ok(cp)
        await hass.async_block_till_done()
        latest = dt_util.parse_datetime(entity_state(hass, "sensor", "CP1_last_seen"))
        assert latest is not None
        assert (latest - later).total_seconds() >= 299

    # Offline it keeps the time it was last seen.
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    assert dt_util.parse_datetime(entity_state(hass, "sensor", "CP1_last_seen")) == latest


# --- how chargers connect ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_id", "path_prefix", "charger_id"),
    [
        ("CP1", "", "CP1"),
        ("CP1", "ocpp/", "CP1"),
        ("CP1", "ocpp/v16/", "CP1"),
        ("CP1/", "", "CP1"),
        ("CP%2D1", "", "CP-1"),
        ("CP%2D1/", "ocpp/", "CP-1"),
    ],
)
async def test_url_forms(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    url_id: str,
    path_prefix: str,
    charger_id: str,
) -> None:
    async with connected_charger(port, url_id, path_prefix=path_prefix) as cp:
        assert (await cp.boot()).status == "Accepted"
        await hass.async_block_till_done()
        assert device_of(hass, charger_id) is not None
        assert set(charger_subentries(entry)) == {charger_id}
        assert entity_state(hass, "binary_sensor", f"{charger_id}_connected") == STATE_ON


@pytest.mark.parametrize("path", ["/", "/CP%201", "/ocpp/..", "/" + "X" * 49, "/CP%2F1"])
async def test_invalid_charger_id_refused(
    hass: HomeAssistant, ask_entry: MockConfigEntry, path: str
) -> None:
    with pytest.raises(InvalidStatus) as err:
        async with connect(
            f"ws://127.0.0.1:{bound_port(ask_entry)}{path}", subprotocols=[Subprotocol("ocpp1.6")]
        ):
            pass
    assert err.value.response.status_code == 404
    await hass.async_block_till_done()
    assert dr.async_entries_for_config_entry(dr.async_get(hass), ask_entry.entry_id) == []
    assert discovered_flows(hass) == []
    assert open_sessions(ask_entry) == set()


async def test_no_subprotocol_is_16(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    async with connected_charger(port, "CP1", subprotocols=[]) as cp:
        assert cp._connection.subprotocol is None
        assert (await cp.boot()).status == "Accepted"
        await cp.status(1, "Charging")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "charging"
        )


async def test_16_picked_among_offers(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Unknown offers next to ocpp1.6 do not get in the way."""
    async with connected_charger(port, "CP1", subprotocols=["ocpp0.9", "ocpp1.6", "chat"]) as cp:
        assert cp._connection.subprotocol == "ocpp1.6"
        assert (await cp.boot()).status == "Accepted"
        await hass.async_block_till_done()
        assert (await diagnostics(hass, entry))["chargers"]["CP1"]["ocpp_version"] == "1.6"


async def test_only_unsupported_subprotocol_refused(
    hass: HomeAssistant, ask_entry: MockConfigEntry
) -> None:
    unsupported = [p for p in ("ocpp2.0.1", "ocpp2.1") if p not in SUPPORTED_SUBPROTOCOLS]
    for offered in (["ocpp0.9"], ["ocpp1.5", "chat"], *([p] for p in unsupported)):
        with pytest.raises(InvalidStatus) as err:
            async with connected_charger(bound_port(ask_entry), "CP1", subprotocols=offered):
                pass
        assert err.value.response.status_code == 400, offered
    await hass.async_block_till_done()
    assert device_of(hass, "CP1") is None
    assert discovered_flows(hass) == []
    assert open_sessions(ask_entry) == set()


async def test_second_connection_replaces_first(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as first:
        await first.boot()
        await first.status(1, "Available")
        await wait_for_state(
            hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "available"
        )
        async with connected_charger(port, "CP1") as second:
            await wait_closed(first)
            assert is_open(second)
            await heartbeat_ok(second)
            await second.status(1, "Preparing")
            await wait_for_state(
                hass, "sensor", "CP1_1_connector_status", lambda s: s.state == "preparing"
            )
            await hass.async_block_till_done()
            # The old connection going away does not make the charger look offline.
            assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_ON
            # Commands go to the new connection.
            device = device_of(hass, "CP1")
            assert device is not None
            await hass.services.async_call(
                DOMAIN, "start_charging", {"device_id": device.id}, blocking=True
            )
            assert second.calls("RemoteStartTransaction")
            assert not first.calls("RemoteStartTransaction")
        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)


# --- simple charger messages -------------------------------------------------------------


async def test_firmware_and_diagnostics_status(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.call(call.FirmwareStatusNotification(status="Downloading"))
        await wait_for_state(
            hass, "sensor", "CP1_firmware_status", lambda s: s.state == "downloading"
        )
        await cp.call(call.FirmwareStatusNotification(status="InstallationFailed"))
        await wait_for_state(
            hass, "sensor", "CP1_firmware_status", lambda s: s.state == "installation_failed"
        )
        await cp.call(call.DiagnosticsStatusNotification(status="Uploading"))
        await wait_for_state(
            hass, "sensor", "CP1_diagnostics_status", lambda s: s.state == "uploading"
        )
        await cp.call(call.DiagnosticsStatusNotification(status="UploadFailed"))
        await wait_for_state(
            hass, "sensor", "CP1_diagnostics_status", lambda s: s.state == "upload_failed"
        )
    # Facts, not live readings: they stay while the charger is offline.
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    assert entity_state(hass, "sensor", "CP1_firmware_status") == "installation_failed"


async def test_heartbeat_answered_with_time(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        result = await cp.call(call.Heartbeat())
        current = dt_util.parse_datetime(result.current_time)
        assert current is not None and current.tzinfo is not None
        assert abs((current - dt_util.utcnow()).total_seconds()) < 5


async def test_data_transfer_unknown_vendor(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        result = await cp.call(call.DataTransfer(vendor_id="com.acme", message_id="x", data="{}"))
        assert result.status == "UnknownVendorId"


# --- passwords ---------------------------------------------------------------------------


async def test_password_required(hass: HomeAssistant, ask_entry: MockConfigEntry) -> None:
    port = bound_port(ask_entry)
    add_charger_subentry(hass, ask_entry, "CP1", password="s3cret")
    await hass.async_block_till_done()

    for headers in (
        {},
        basic("CP1", "wrong"),
        basic("CP2", "s3cret"),
        {"Authorization": "Basic !!"},
    ):
        with pytest.raises(InvalidStatus) as err:
            async with connected_charger(port, "CP1", additional_headers=headers):
                pass
        assert err.value.response.status_code == 401
        assert "WWW-Authenticate" in err.value.response.headers
    await hass.async_block_till_done()
    assert open_sessions(ask_entry) == set()
    assert entity_state(hass, "binary_sensor", "CP1_connected") == STATE_OFF

    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "s3cret")) as cp:
        assert (await cp.boot()).status == "Accepted"
        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_ON)

    # A charger without a password needs none.
    async with connected_charger(port, "CP2") as cp2:
        assert (await cp2.boot()).status == "Pending"


async def test_password_set_later_on_subentry(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
    subentry = charger_subentries(entry)["CP1"]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "password": "n3w"}
    )
    await hass.async_block_till_done()
    with pytest.raises(InvalidStatus) as err:
        async with connected_charger(port, "CP1"):
            pass
    assert err.value.response.status_code == 401
    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "n3w")) as cp:
        assert (await cp.boot()).status == "Accepted"


# --- diagnostics -------------------------------------------------------------------------


async def test_diagnostics_redacted(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    add_charger_subentry(hass, entry, "CP1", password="TopSecretPw")
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN, "add_id_tag", {"id_tag": "CARD-SECRET-1", "name": "Alice"}, blocking=True
    )
    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "TopSecretPw")) as cp:
        await cp.boot(charge_point_serial_number="SN1")
        await cp.status(1, "Charging")
        result = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="CARD-SECRET-1",
                meter_start=1000,
                timestamp="2026-01-01T00:00:00Z",
            )
        )
        assert result.id_tag_info["status"] == "Accepted"
        await hass.async_block_till_done()

        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics, default=str)
    assert "CARD-SECRET-1" not in text
    assert "TopSecretPw" not in text
    # Still useful: the charger and its state are there.
    assert "CP1" in diagnostics["chargers"]
    assert diagnostics["chargers"]["CP1"]["connected"] is True
    assert diagnostics["chargers"]["CP1"]["ocpp_version"] == "1.6"
