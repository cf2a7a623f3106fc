"""Nothing smart charging sent outlives the mode, the session, the settings or a restart.

Also: its entities exist only while it is set up, the mode survives restarts, manual mode
only steps in for the fuse, and a 2.0.1 station gets the same limits in its own envelope.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_central.const import DOMAIN

from .charger201 import connected_station
from .helpers import (
    entity_state,
    make_entry,
    registry_entry,
    setup_entry,
    state_of,
    wait_for_state,
)
from .smart_helpers import (
    GRID,
    SMART_ID,
    SMART_STACK_LEVEL,
    boot,
    charger,
    draw,
    limits,
    set_grid,
    set_mode,
    settle,
    shown,
    smart_clears,
    smart_profiles,
    smart_site,
    start,
    stop,
    wait_until,
)

SMART_UNIQUE_IDS = [
    ("select", "CP1_1_charging_mode"),
    ("sensor", "CP1_1_limit_source"),
    ("sensor", "CP1_1_allocated_current"),
]


async def options_step(hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any]) -> None:
    """Save the options flow's smart charging step, as the UI does."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "smart_charging"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], data)
    assert result["type"] == "create_entry", result
    await settle(hass)


def registered(hass: HomeAssistant) -> list[str | None]:
    ent_reg = er.async_get(hass)
    return [ent_reg.async_get_entity_id(p, DOMAIN, uid) for p, uid in SMART_UNIQUE_IDS]


async def test_no_smart_entities_without_settings_then_live_when_saved(hass: HomeAssistant) -> None:
    """An unconfigured system looks as before; saving the step adds the entities, live."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    central = entry.runtime_data
    async with charger(port, "CP1") as cp:
        await boot(hass, cp)
        assert registered(hass) == [None, None, None]

        set_grid(hass, 2, 2, 2)
        await options_step(hass, entry, {"main_fuse": 25, "grid_current_sensors": GRID})
        assert entry.runtime_data is central  # no reload
        assert all(registered(hass))
        assert entity_state(hass, "select", "CP1_1_charging_mode") == "manual"
        for platform, unique_id in SMART_UNIQUE_IDS:
            entity = registry_entry(hass, platform, unique_id)
            assert entity is not None and entity.entity_category is None  # on the dashboard
        source = state_of(hass, "sensor", "CP1_1_limit_source")
        assert source is not None
        assert source.attributes["options"] == [
            "none",
            "user",
            "fuse",
            "solar",
            "plan",
            "schedule",
            "safe",
        ]
        allocated = state_of(hass, "sensor", "CP1_1_allocated_current")
        assert allocated is not None
        assert allocated.attributes["unit_of_measurement"] == "A"
        # The charger stayed connected throughout.
        assert entity_state(hass, "binary_sensor", "CP1_connected") == "on"

        # Cleared: the entities go, and nothing was sent.
        await options_step(hass, entry, {})
        assert registered(hass) == [None, None, None]
        assert not cp.calls("SetChargingProfile")


async def test_manual_mode_steps_in_only_for_the_fuse(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Manual: the user's limit rules; a fuse limit goes out at once, then is raised back
    gradually and cleared once the user's own limit fits again."""
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=25)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": device_id(hass), "limit_amps": 16},
            blocking=True,
        )
        await start(hass, cp)
        await draw(hass, cp, 16, 16, 16)
        set_grid(hass, 18, 18, 18)
        await settle(hass)
        assert not smart_profiles(cp)
        assert shown(hass) == ("16.0", "user")

        set_grid(hass, 28, 28, 28)  # a 10 A heater: 28 A on a 25 A fuse
        await wait_until(cp, lambda: limits(cp) == [13])
        assert shown(hass) == ("13.0", "fuse")
        await draw(hass, cp, 13, 13, 13)
        set_grid(hass, 15, 15, 15)  # the heater is off again
        await settle(hass)
        freezer.tick(timedelta(seconds=31))
        set_grid(hass, 15, 15, 15.1)
        await settle(hass)
        async_fire_time_changed(hass)
        await settle(hass)
        # The next step would reach the user's 16 A: our profile is cleared instead.
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert limits(cp) == [13]
        assert shown(hass) == ("16.0", "user")


def device_id(hass: HomeAssistant, identifier: str = "CP1") -> str:
    from homeassistant.helpers import device_registry as dr

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})
    assert device is not None
    return device.id


async def test_leaving_a_smart_mode_clears_the_profile(hass: HomeAssistant) -> None:
    set_grid(hass, 0, 0, 0)
    entry = await smart_site(hass, main_fuse=63, grid_current_sensors=None)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [32])
        assert shown(hass) == ("32.0", "none")
        await set_mode(hass, "manual")
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert limits(cp) == [32]
        assert shown(hass) == ("32.0", "none")


async def test_a_paused_solar_session_is_not_left_at_0_a(hass: HomeAssistant) -> None:
    """Solar without surplus pauses at 0 A; leaving solar takes the 0 A profile away."""
    set_grid(hass, 3, 3, 3)  # importing: no surplus
    entry = await smart_site(hass, main_fuse=63)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "solar")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [0])
        assert shown(hass) == ("0.0", "solar")
        await set_mode(hass, "manual")
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert limits(cp) == [0]
        assert shown(hass) == ("32.0", "none")


async def test_session_end_clears_the_profile(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        tx = await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])
        await stop(hass, cp, tx)
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert shown(hass) == ("unknown", "unknown")
        model = entry.runtime_data.chargers["CP1"]
        assert model.connectors[1].smart.sent_for is None


async def test_removing_the_settings_clears_every_profile(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass)
    central = entry.runtime_data
    async with charger(central.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])

        await options_step(hass, entry, {})
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert registered(hass) == [None, None, None]
        assert entry.runtime_data is central
        assert "main_fuse" not in entry.options
        assert entry.options["new_chargers"] == "accept"  # the other options stay
        # No new limits while smart charging is off, whatever the meter says.
        set_grid(hass, 40, 40, 40)
        await settle(hass)
        assert limits(cp) == [14]


async def test_restart_restores_the_mode_and_cleans_up(hass: HomeAssistant) -> None:
    """The mode is kept; a session that ended while Home Assistant was down has its profile
    cleared when the charger is back (the record of what was sent survived the restart)."""
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass)
    port = entry.runtime_data.server.port
    async with charger(port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        tx = await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, "select", "CP1_1_charging_mode") == "fast"
    port = entry.runtime_data.server.port

    async with charger(port, "CP1") as cp:
        await boot(hass, cp)
        await stop(hass, cp, tx)  # queued while Home Assistant was down
        await wait_until(cp, lambda: len(smart_clears(cp)) == 1)
        assert entry.runtime_data.chargers["CP1"].connectors[1].smart.sent_for is None


async def test_restart_during_a_session_sends_the_limit_again(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await set_mode(hass, "fast")
        await start(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp)
        await wait_until(cp, lambda: limits(cp) == [14])
        assert not smart_clears(cp)


async def test_a_2_0_1_station_gets_the_same_limits(hass: HomeAssistant) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass)
    async with connected_station(entry.runtime_data.server.port, "CS1", ping_interval=None) as cs:
        cs.variables = {("SmartChargingCtrlr", None, "ProfileStackLevel"): "8"}
        await cs.boot()
        await cs.status(1, "Occupied")
        await hass.async_block_till_done(wait_background_tasks=True)
        await set_mode(hass, "fast", "CS1")

        def profiles() -> list[dict[str, Any]]:
            return [
                p for p in cs.calls("SetChargingProfile") if p["chargingProfile"]["id"] == SMART_ID
            ]

        started = dt_util.utcnow().isoformat()
        await cs.send(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": started,
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "T-1", "chargingState": "Charging"},
                "evse": {"id": 1, "connectorId": 1},
            },
        )
        await wait_until(cs, lambda: len(profiles()) == 1)
        (sent,) = profiles()
        assert sent["evseId"] == 1
        profile = sent["chargingProfile"]
        assert profile["stackLevel"] == SMART_STACK_LEVEL
        assert profile["chargingProfilePurpose"] == "TxProfile"
        assert profile["chargingProfileKind"] == "Absolute"
        assert profile["transactionId"] == "T-1"
        (schedule,) = profile["chargingSchedule"]
        assert schedule["chargingRateUnit"] == "A"
        assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 14.0}]
        assert dt_util.parse_datetime(schedule["startSchedule"]) == dt_util.parse_datetime(started)
        await wait_for_state(hass, "sensor", "CS1_1_allocated_current", lambda s: s.state == "14.0")

        await cs.send(
            "TransactionEvent",
            {
                "eventType": "Ended",
                "timestamp": dt_util.utcnow().isoformat(),
                "triggerReason": "EVCommunicationLost",
                "seqNo": 1,
                "transactionInfo": {"transactionId": "T-1", "stoppedReason": "EVDisconnected"},
            },
        )
        await wait_until(
            cs,
            lambda: any(
                p.get("chargingProfileId") == SMART_ID for p in cs.calls("ClearChargingProfile")
            ),
        )
