"""The options flow's smart charging step, the charger settings it adds, and their texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    SMART_CHARGING_FIELDS,
    SUBENTRY_CHARGER,
)

from .helpers import form_schema, make_entry, setup_entry
from .smart_helpers import GRID, GRID_POWER, set_grid, set_power

TRANSLATIONS = Path(__file__).parent.parent / "custom_components/ocpp_central/translations"


async def open_step(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "smart_charging" in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "smart_charging"}
    )


def suggested(result: ConfigFlowResult) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in form_schema(result).schema
    }


@pytest.fixture
def sensors(hass: HomeAssistant) -> None:
    set_grid(hass, 1, 1, 1)
    set_power(hass, 300)
    hass.states.async_set("sensor.price", "1.23", {"unit_of_measurement": "SEK/kWh"})


async def test_every_field_stored_with_its_type_and_shown_again(
    hass: HomeAssistant, sensors: None
) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await open_step(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert list(suggested(result)) == list(SMART_CHARGING_FIELDS)
    assert all(value is None for value in suggested(result).values())  # nothing required

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "main_fuse": 25,
            "supply_phases": "3",
            "grid_current_sensors": GRID,
            "safe_current": 8,
            "price_sensor": "sensor.price",
            "price_surcharge": 0.45,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == {
        "new_chargers": "accept",
        "id_tag_policy": "known",
        "main_fuse": 25.0,
        "supply_phases": 3,
        "grid_current_sensors": GRID,
        "safe_current": 8.0,
        "price_sensor": "sensor.price",
        "price_surcharge": 0.45,
    }
    assert entry.runtime_data.smart.enabled

    result = await open_step(hass, entry)
    assert suggested(result)["main_fuse"] == 25.0
    assert suggested(result)["supply_phases"] == "3"
    assert suggested(result)["grid_current_sensors"] == GRID


async def test_fixed_price_alone_is_stored(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await open_step(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"fixed_price": 2.5, "grid_export_positive": False}
    )
    assert entry.options["fixed_price"] == 2.5
    assert entry.options["grid_export_positive"] is False


async def test_empty_form_turns_it_off_and_keeps_the_other_options(
    hass: HomeAssistant, sensors: None
) -> None:
    entry = make_entry(main_fuse=25.0, grid_power_sensor=GRID_POWER, new_chargers="reject")
    await setup_entry(hass, entry)
    assert entry.runtime_data.smart.enabled
    result = await open_step(hass, entry)
    # Only refining fields left: smart charging is off all the same, and nothing is kept.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"supply_phases": "3", "safe_current": 6}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert not any(key in entry.options for key in SMART_CHARGING_FIELDS)
    assert entry.options["new_chargers"] == "reject"
    assert not entry.runtime_data.smart.enabled


async def test_policies_keep_the_smart_charging_settings(hass: HomeAssistant) -> None:
    entry = make_entry(main_fuse=25.0)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "policies"}
    )
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"new_chargers": "ask", "id_tag_policy": "known", "require_password": False},
    )
    assert entry.options["main_fuse"] == 25.0
    assert entry.options["new_chargers"] == "ask"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"grid_current_sensors": GRID, "grid_power_sensor": GRID_POWER},
            {"grid_power_sensor": "one_meter"},
        ),
        ({"grid_current_sensors": GRID[:2]}, {"grid_current_sensors": "sensors_per_phase"}),
        (
            {"grid_current_sensors": GRID, "supply_phases": "1"},
            {"grid_current_sensors": "sensors_per_phase"},
        ),
        (
            {"grid_current_sensors": [GRID[0], GRID[0], GRID[1]]},
            {"grid_current_sensors": "sensors_per_phase"},
        ),
        (
            {"grid_current_sensors": ["sensor.nothing", *GRID[1:]]},
            {"grid_current_sensors": "sensor_not_found"},
        ),
        ({"grid_power_sensor": "sensor.volts"}, {"grid_power_sensor": "sensor_unit"}),
        ({"main_fuse": 25, "safe_current": 3}, {"safe_current": "safe_current_range"}),
        ({"main_fuse": 10, "safe_current": 16}, {"safe_current": "safe_above_fuse"}),
        (
            {"price_sensor": "sensor.price", "nordpool_entry": "whatever"},
            {"nordpool_entry": "one_price_source"},
        ),
        ({"nordpool_entry": "not-an-entry"}, {"nordpool_entry": "nordpool_not_found"}),
        ({"price_sensor": "sensor.nothing"}, {"price_sensor": "sensor_not_found"}),
    ],
)
async def test_bad_input_is_refused_with_a_reason(
    hass: HomeAssistant, sensors: None, data: dict[str, Any], errors: dict[str, str]
) -> None:
    hass.states.async_set("sensor.volts", "230", {"unit_of_measurement": "V"})
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await open_step(hass, entry)
    result = await hass.config_entries.options.async_configure(result["flow_id"], data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not any(key in entry.options for key in SMART_CHARGING_FIELDS)
    # The form keeps what was typed.
    assert {k: v for k, v in suggested(result).items() if v is not None} == data


async def test_nordpool_entry_of_the_nord_pool_integration(hass: HomeAssistant) -> None:
    nordpool = MockConfigEntry(domain="nordpool", title="Nord Pool")
    nordpool.add_to_hass(hass)
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await open_step(hass, entry)
    selector = next(
        value for key, value in form_schema(result).schema.items() if key == "nordpool_entry"
    )
    assert selector.config["integration"] == "nordpool"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"nordpool_entry": nordpool.entry_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["nordpool_entry"] == nordpool.entry_id


async def test_sensor_selectors_are_filtered_by_device_class(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await open_step(hass, entry)
    selectors = {str(key): value.config for key, value in form_schema(result).schema.items()}
    current, power = selectors["grid_current_sensors"], selectors["grid_power_sensor"]
    assert (current["domain"], current["device_class"]) == (["sensor"], ["current"])
    assert current["multiple"] is True
    assert (power["domain"], power["device_class"]) == (["sensor"], ["power"])


async def test_charger_phase_and_battery_capacity(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": "user"}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_CHARGER_ID: "CP1", "lenient": False}
    )
    sub = next(iter(entry.subentries.values()))
    result = await entry.start_subentry_reconfigure_flow(hass, SUBENTRY_CHARGER, sub.subentry_id)
    assert result["data_schema"]({})["phase"] == "L1"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"lenient": False, "phases": 1, "phase": "L2", "battery_capacity": 77}
    )
    assert result["reason"] == "reconfigure_successful"
    data = entry.subentries[sub.subentry_id].data
    assert data["phase"] == "L2"
    assert data["battery_capacity"] == 77

    result = await entry.start_subentry_reconfigure_flow(hass, SUBENTRY_CHARGER, sub.subentry_id)
    assert result["data_schema"]({})["phase"] == "L2"
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"lenient": False, "phase": "L2"}
    )
    assert "battery_capacity" not in entry.subentries[sub.subentry_id].data  # cleared


def keys(tree: Any, prefix: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return {prefix}
    return set().union(*(keys(value, f"{prefix}/{key}") for key, value in tree.items()))


def test_swedish_has_every_text_english_has() -> None:
    english = json.loads((TRANSLATIONS / "en.json").read_text())
    swedish = json.loads((TRANSLATIONS / "sv.json").read_text())
    assert keys(english) == keys(swedish)
    step = english["options"]["step"]["smart_charging"]
    assert set(step["data"]) == set(SMART_CHARGING_FIELDS)
    assert set(step["data_description"]) == set(SMART_CHARGING_FIELDS)
