"""What a homeowner sees first: the Overview dashboard Home Assistant generates by itself,
and the device page, for simulated chargers in the middle of a charging session.

Home Assistant's default dashboard makes one entities card per device, with the device's
entities that have no entity category, are not hidden and are enabled (those have a
state). The card gets a header toggle when it holds two or more toggleable entities; that
toggle switches all of them together. The device page shows a battery badge for a sensor
with the battery device class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.ocpp_central.const import CONF_ID_TAG_POLICY, ID_TAG_POLICY_ACCEPT_ALL
from simulator.base import Options, running
from simulator.charger16 import Charger16
from simulator.charger201 import Charger201

from .helpers import make_entry, setup_entry, state_of, wait_for_state

# Rows an auto-generated card may have: what a homeowner takes in at a glance.
ROW_BUDGET = 10
# Domains the frontend's header toggle switches (those of ours that exist).
TOGGLEABLE = {"switch", "light", "fan", "input_boolean", "climate", "cover", "lock"}
# What the card of a charging charger shows at least.
DAILY = {
    "sensor": {"status", "power", "session_energy", "energy", "soc"},
    "binary_sensor": {"problem"},
    "switch": {"charging"},
    "number": {"charging_limit"},
}


def overview_cards(hass: HomeAssistant, entry_id: str) -> dict[str, list[er.RegistryEntry]]:
    """The rows of each device's auto-generated card, by device name."""
    ent_reg = er.async_get(hass)
    dev_reg = dr.async_get(hass)
    cards: dict[str, list[er.RegistryEntry]] = {}
    for entity in er.async_entries_for_config_entry(ent_reg, entry_id):
        if entity.entity_category or entity.hidden_by or entity.disabled_by:
            continue
        if hass.states.get(entity.entity_id) is None or entity.device_id is None:
            continue
        device = dev_reg.async_get(entity.device_id)
        assert device is not None
        cards.setdefault(device.name or "", []).append(entity)
    return cards


def keys(rows: list[er.RegistryEntry]) -> dict[str, set[str]]:
    by_domain: dict[str, set[str]] = {}
    for row in rows:
        by_domain.setdefault(row.domain, set()).add(str(row.translation_key))
    return by_domain


async def wait_charging(hass: HomeAssistant, unique_prefix: str) -> None:
    """Until the connector charges and has reported every measurand of its samples."""
    for key in ("power", "soc", "current_offered"):
        await wait_for_state(
            hass,
            "sensor",
            f"{unique_prefix}_{key}",
            lambda s: s.state not in ("unknown", "unavailable") and float(s.state) > 0,
            timeout=30,
        )


@pytest.fixture
async def charging(hass: HomeAssistant) -> AsyncIterator[str]:
    """A 3-phase 1.6 charger with one connector and a 2.0.1 station with two, charging."""
    entry = make_entry(**{CONF_ID_TAG_POLICY: ID_TAG_POLICY_ACCEPT_ALL})
    port = await setup_entry(hass, entry)
    url = f"ws://127.0.0.1:{port}"
    single = Charger16(Options(url=url, interval=1, session=600, idle=0.5), "SIM001")
    double = Charger201(
        Options(url=url, version="2.0.1", connectors=2, interval=1, session=600, idle=0.5),
        "SIM002",
    )
    async with running([single, double]):
        for prefix in ("SIM001_1", "SIM002_1", "SIM002_2"):
            await wait_charging(hass, prefix)
        await hass.async_block_till_done()
        yield entry.entry_id


async def test_charging_chargers_at_a_glance(hass: HomeAssistant, charging: str) -> None:
    """One simulation (they take seconds), three looks at it."""
    check_overview_cards(hass, charging)
    check_entity_categories(hass, charging)
    check_soc_is_not_the_chargers_battery(hass, charging)


def check_overview_cards(hass: HomeAssistant, entry_id: str) -> None:
    """Each device's card fits the budget and has no header toggle."""
    cards = overview_cards(hass, entry_id)
    assert set(cards) == {"SIM001", "SIM002", "SIM002 Connector 1", "SIM002 Connector 2"}
    for name, rows in cards.items():
        assert len(rows) <= ROW_BUDGET, (name, sorted(r.entity_id for r in rows))
        # No header toggle: it would switch charging together with whatever else toggles.
        toggles = [row.entity_id for row in rows if row.domain in TOGGLEABLE]
        assert len(toggles) <= 1, (name, toggles)

    # The single-outlet charger's card has what is used every day.
    single = keys(cards["SIM001"])
    for domain, wanted in DAILY.items():
        assert wanted <= single.get(domain, set()), (domain, single)
    # A multi-outlet charger: the charger card has its status, each connector its own.
    assert {"status"} <= keys(cards["SIM002"])["sensor"]
    for connector in ("SIM002 Connector 1", "SIM002 Connector 2"):
        connector_keys = keys(cards[connector])
        assert {"connector_status", "power", "session_energy", "energy"} <= connector_keys["sensor"]
        assert connector_keys["switch"] == {"charging"}
        assert connector_keys["number"] == {"charging_limit"}


def check_entity_categories(hass: HomeAssistant, entry_id: str) -> None:
    """Availability and maintenance are configuration; details are diagnostic."""
    ent_reg = er.async_get(hass)
    entries = {
        entity.unique_id: entity for entity in er.async_entries_for_config_entry(ent_reg, entry_id)
    }
    expected = {
        "SIM001_available": EntityCategory.CONFIG,
        "SIM001_reset": EntityCategory.CONFIG,
        "SIM001_1_unlock": EntityCategory.CONFIG,
        "SIM001_last_seen": EntityCategory.DIAGNOSTIC,
        "SIM001_connected": EntityCategory.DIAGNOSTIC,
        "SIM001_error_code": EntityCategory.DIAGNOSTIC,
        "SIM001_firmware_status": EntityCategory.DIAGNOSTIC,
        "SIM001_1_transaction_id": EntityCategory.DIAGNOSTIC,
        "SIM001_1_voltage_l1": EntityCategory.DIAGNOSTIC,
        "SIM001_1_current_l2": EntityCategory.DIAGNOSTIC,
        # With one outlet, the connector's status repeats the charger's ...
        "SIM001_1_connector_status": EntityCategory.DIAGNOSTIC,
        # ... with several, each connector device shows its own.
        "SIM002_1_connector_status": None,
        "SIM002_2_connector_status": None,
        # Without any price the cost could only be unknown: out of the way (also after the
        # first connector's entities moved to its own device).
        "SIM001_1_session_cost": EntityCategory.DIAGNOSTIC,
        "SIM002_1_session_cost": EntityCategory.DIAGNOSTIC,
        "SIM002_2_session_cost": EntityCategory.DIAGNOSTIC,
        # The charging history, shown in Home Assistant's calendar.
        "SIM001_1_sessions": None,
    }
    assert {key: entries[key].entity_category for key in expected} == expected

    # Only the per-phase voltages are disabled by default.
    disabled = {key for key, entity in entries.items() if entity.disabled_by}
    assert disabled == {
        f"{charger}_{outlet}_voltage_l{phase}"
        for charger, outlets in (("SIM001", (1,)), ("SIM002", (1, 2)))
        for outlet in outlets
        for phase in (1, 2, 3)
    }
    assert all(entries[key].disabled_by is er.RegistryEntryDisabler.INTEGRATION for key in disabled)


def check_soc_is_not_the_chargers_battery(hass: HomeAssistant, entry_id: str) -> None:
    """No battery badge on the device page: the SoC is the car's, shown with its own icon."""
    ent_reg = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(ent_reg, entry_id):
        assert entity.original_device_class != "battery", entity.entity_id
    soc = state_of(hass, "sensor", "SIM001_1_soc")
    assert soc is not None
    assert soc.attributes["unit_of_measurement"] == "%"
    assert soc.attributes["state_class"] == "measurement"
    assert soc.attributes["friendly_name"] == "SIM001 Car state of charge"
