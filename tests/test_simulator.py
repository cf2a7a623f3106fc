"""The charger simulator (scripts/simulate) against the integration: 1.6 and 2.0.1 stations
boot, run sessions whose readings show up, and follow commands from Home Assistant."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.ocpp_central.const import (
    CONF_ID_TAG_POLICY,
    DOMAIN,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
    ID_TAG_POLICY_ACCEPT_ALL,
)
from simulator.base import Options, running
from simulator.charger16 import Charger16
from simulator.charger201 import Charger201

from .helpers import (
    capture_events,
    device_id as find_device_id,
    entity_state,
    make_entry,
    registry_entry,
    setup_entry,
    state_of,
    wait_for_state,
)


@pytest.mark.parametrize("cls", [Charger16, Charger201])
async def test_simulated_sessions(hass: HomeAssistant, cls: type) -> None:
    entry = make_entry(**{CONF_ID_TAG_POLICY: ID_TAG_POLICY_ACCEPT_ALL})
    port = await setup_entry(hass, entry)
    started = capture_events(hass, EVENT_TRANSACTION_STARTED)
    stopped = capture_events(hass, EVENT_TRANSACTION_STOPPED)
    stop_seen = asyncio.Event()
    hass.bus.async_listen(EVENT_TRANSACTION_STOPPED, callback(lambda _: stop_seen.set()))
    options = Options(url=f"ws://127.0.0.1:{port}", interval=1, session=3, idle=1, max_current=16)
    charger = cls(options, "SIM001")
    async with running([charger]):
        await wait_for_state(
            hass, "sensor", "SIM001_1_power", lambda s: float(s.state) > 0, timeout=20
        )
        for key in ("energy", "current_l1", "current_l3", "soc", "current_offered"):
            assert state_of(hass, "sensor", f"SIM001_1_{key}") is not None, key
        # Per-phase voltages are there, disabled by default.
        voltage = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "SIM001_1_voltage_l2")
        assert voltage is not None
        assert registry_entry(hass, "sensor", "SIM001_1_voltage_l2").disabled
        assert entity_state(hass, "sensor", "SIM001_1_connector_status") == "charging"
        await wait_for_state(
            hass,
            "sensor",
            "SIM001_1_session_energy",
            lambda s: s.state not in ("unknown", "0.0"),
            timeout=20,
        )
        async with asyncio.timeout(20):
            await stop_seen.wait()
        assert started and started[0].data["charge_point_id"] == "SIM001"
        assert stopped[0].data["energy_kwh"] > 0

        # A limit from Home Assistant: the charger follows it in its readings.
        device_id = find_device_id(hass, "SIM001")
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": device_id, "limit_amps": 8}, blocking=True
        )
        await wait_for_state(
            hass, "sensor", "SIM001_1_current_offered", lambda s: float(s.state) == 8.0, timeout=30
        )
        await wait_for_state(
            hass, "sensor", "SIM001_1_current_l1", lambda s: 0 < float(s.state) <= 8.5, timeout=30
        )
        # Configuration read and a remote stop of the running session.
        config = await hass.services.async_call(
            DOMAIN,
            "get_configuration",
            {"device_id": device_id},
            blocking=True,
            return_response=True,
        )
        assert config is not None and config["keys"]
        await wait_for_state(
            hass, "sensor", "SIM001_1_connector_status", lambda s: s.state == "charging", timeout=30
        )
        count = len(stopped)
        await hass.services.async_call(
            DOMAIN, "stop_charging", {"device_id": device_id}, blocking=True
        )
        async with asyncio.timeout(10):
            while len(stopped) == count:
                stop_seen.clear()
                await stop_seen.wait()
        assert stopped[-1].data["reason"] == "remote"
