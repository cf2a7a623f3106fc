"""Home Assistant restarting in the middle of a session.

Two ways to restart, every test runs with both:
- "reload": the config entry is unloaded and set up again in the same Home Assistant;
- "new_home_assistant": the first Home Assistant is stopped the way HA stops (entries are not
  unloaded) and a second instance starts from the same (in-memory) storage: config entries,
  subentries and our Store all come from what the first one wrote.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant
from websockets.exceptions import ConnectionClosed

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger, connected_charger
from .helpers import (
    bound_port,
    capture_events,
    device_id,
    entity_state,
    iso,
    make_entry,
    meter_values,
    setup_entry,
    state_of,
)

STOPPED = "ocpp_central_transaction_stopped"

type Restart = Callable[[MockConfigEntry], Awaitable[tuple[HomeAssistant, int]]]


def now() -> datetime:
    return dt_util.utcnow().replace(microsecond=0)


def st(
    hass: HomeAssistant, key: str, connector_id: int | None = 1, platform: str = "sensor"
) -> str:
    unique_id = f"CP1_{key}" if connector_id is None else f"CP1_{connector_id}_{key}"
    return entity_state(hass, platform, unique_id)


def minutes(hass: HomeAssistant) -> float:
    state = state_of(hass, "sensor", "CP1_1_session_duration")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "min"
    return float(state.state)


async def set_up_from_storage(hass2: HomeAssistant) -> None:
    """Set up our integration in a second Home Assistant from what the first one stored."""
    hass2.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    await hass2.config_entries.async_initialize()
    assert await async_setup_component(hass2, DOMAIN, {})
    await hass2.async_block_till_done()


@pytest.fixture(params=["reload", "new_home_assistant"])
async def restart(request: pytest.FixtureRequest, hass: HomeAssistant) -> AsyncIterator[Restart]:
    """Restart Home Assistant (see the module docstring); returns the new hass and port."""
    stack = contextlib.AsyncExitStack()

    async def do_restart(entry: MockConfigEntry) -> tuple[HomeAssistant, int]:
        if request.param == "reload":
            assert await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            return hass, bound_port(entry)
        await hass.async_stop()
        hass2 = await stack.enter_async_context(async_test_home_assistant())

        async def stop_hass2() -> None:
            for loaded in hass2.config_entries.async_entries(DOMAIN):
                if loaded.state is ConfigEntryState.LOADED:
                    await hass2.config_entries.async_unload(loaded.entry_id)
            await hass2.async_stop(force=True)

        stack.push_async_callback(stop_hass2)
        await set_up_from_storage(hass2)
        entry2 = hass2.config_entries.async_get_entry(entry.entry_id)
        assert entry2 is not None and entry2.state is ConfigEntryState.LOADED
        return hass2, bound_port(entry2)

    yield do_restart
    await stack.aclose()


async def send(hass: HomeAssistant, cp: SimCharger, payload: Any) -> Any:
    """Send a call; once it is answered the server has processed it."""
    result = await cp.call(payload, suppress=False)
    await hass.async_block_till_done()
    return result


async def start_transaction(
    hass: HomeAssistant,
    cp: SimCharger,
    id_tag: str,
    meter_start: int = 0,
    at: datetime | None = None,
) -> Any:
    """A StartTransaction on connector 1 (at `at`, default now); returns its answer."""
    return await send(
        hass,
        cp,
        call.StartTransaction(
            connector_id=1,
            id_tag=id_tag,
            meter_start=meter_start,
            timestamp=iso(now() if at is None else at),
        ),
    )


async def stop_transaction(
    hass: HomeAssistant,
    cp: SimCharger,
    tx_id: int,
    meter_stop: int,
    at: datetime | None = None,
    **kw: Any,
) -> Any:
    """A StopTransaction (at `at`, default now); returns its answer."""
    return await send(
        hass,
        cp,
        call.StopTransaction(
            meter_stop=meter_stop,
            timestamp=iso(now() if at is None else at),
            transaction_id=tx_id,
            **kw,
        ),
    )


async def begin_session(
    hass: HomeAssistant, cp: SimCharger, start: datetime, last_reading: datetime
) -> int:
    """A session of TAG1 from `start` (10 kWh on the register), 12 kWh at `last_reading`."""
    assert (await cp.boot()).status == "Accepted"
    await cp.status(1, "Charging")
    result = await start_transaction(hass, cp, "TAG1", meter_start=10000, at=start)
    tx_id: int = result.transaction_id
    await send(
        hass,
        cp,
        meter_values(
            transaction_id=tx_id, at=last_reading, energy=12000, power=7000, current=16, soc=50
        ),
    )
    assert st(hass, "session_energy") == "2.0"
    return tx_id


async def restart_during_session(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    restart: Restart,
    start: datetime,
    last_reading: datetime,
) -> tuple[HomeAssistant, int, int]:
    """`begin_session` on a connected CP1, then restart; returns the new hass, port, tx id."""
    async with connected_charger(port, "CP1") as cp:
        tx_id = await begin_session(hass, cp, start, last_reading)
        hass, port = await restart(entry)
    return hass, port, tx_id


async def test_session_shown_while_charger_not_back(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    start = now() - timedelta(minutes=30)
    hass, _, tx_id = await restart_during_session(
        hass, entry, port, restart, start, now() - timedelta(minutes=1)
    )

    # Facts keep their last value, available.
    assert st(hass, "connected", None, "binary_sensor") == "off"
    assert st(hass, "energy") == "12.0"
    assert st(hass, "session_energy") == "2.0"
    assert st(hass, "transaction_id") == str(tx_id)
    assert st(hass, "id_tag") == "TAG1"
    assert dt_util.parse_datetime(st(hass, "session_start")) == start
    assert 30 <= minutes(hass) < 35
    # Live readings are unavailable (their entities exist: the measurands are remembered).
    for key in ("power", "current", "soc", "connector_status"):
        assert st(hass, key) == "unavailable", key


async def test_stop_after_restart_closes_the_session(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    start = now() - timedelta(minutes=30)
    hass, port, tx_id = await restart_during_session(
        hass, entry, port, restart, start, now() - timedelta(minutes=1)
    )

    stopped = capture_events(hass, STOPPED)
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Accepted"
        assert st(hass, "connected", None, "binary_sensor") == "on"
        assert st(hass, "charging", platform="switch") == "on"
        stop = start + timedelta(minutes=30)
        result = await stop_transaction(hass, cp, tx_id, 14000, at=stop, id_tag="TAG1")
        assert result is not None
        assert len(stopped) == 1
        assert stopped[0].data["transaction_id"] == tx_id
        assert stopped[0].data["id_tag"] == "TAG1"
        assert stopped[0].data["energy_kwh"] == 4.0
        assert stopped[0].data["duration_s"] == 1800
        assert stopped[0].data["reason"] == "local"
        assert stopped[0].data["charge_point_id"] == "CP1"
        assert stopped[0].data["device_id"] == device_id(hass)
        assert st(hass, "transaction_id") == "unknown"
        assert st(hass, "charging", platform="switch") == "off"
        assert st(hass, "session_energy") == "4.0"
        assert st(hass, "energy") == "14.0"
        assert st(hass, "stop_reason") == "local"
        assert minutes(hass) == 30


async def test_queued_meter_values_after_restart(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    """Old queued samples feed the session but do not overwrite what the charger reports now."""
    start = now() - timedelta(minutes=30)
    hass, port, tx_id = await restart_during_session(
        hass, entry, port, restart, start, now() - timedelta(minutes=20)
    )

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await send(hass, cp, meter_values(transaction_id=tx_id, at=now(), power=3000, current=13))
        assert st(hass, "power") == "3000.0"
        # Queued while Home Assistant was down.
        await send(
            hass,
            cp,
            meter_values(
                transaction_id=tx_id,
                at=now() - timedelta(minutes=10),
                energy=13000,
                power=9999,
                current=40,
            ),
        )
        assert st(hass, "session_energy") == "3.0"
        assert st(hass, "energy") == "13.0"
        assert st(hass, "power") == "3000.0"
        assert st(hass, "current") == "13.0"
        assert st(hass, "transaction_id") == str(tx_id)


async def test_queued_stop_with_old_timestamp(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    """The session ended while Home Assistant was down: its duration comes from its timestamps."""
    start = now() - timedelta(minutes=60)
    hass, port, tx_id = await restart_during_session(
        hass, entry, port, restart, start, start + timedelta(minutes=20)
    )

    stopped = capture_events(hass, STOPPED)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        # The queue, oldest first.
        await send(
            hass,
            cp,
            meter_values(transaction_id=tx_id, at=start + timedelta(minutes=25), energy=13000),
        )
        await stop_transaction(
            hass, cp, tx_id, 13500, at=start + timedelta(minutes=30), reason="EVDisconnected"
        )
        assert len(stopped) == 1
        assert stopped[0].data["transaction_id"] == tx_id
        assert stopped[0].data["duration_s"] == 1800
        assert stopped[0].data["energy_kwh"] == 3.5
        assert stopped[0].data["reason"] == "ev_disconnected"
        assert minutes(hass) == 30
        assert st(hass, "session_energy") == "3.5"
        assert st(hass, "energy") == "13.5"
        assert st(hass, "transaction_id") == "unknown"
        assert st(hass, "stop_reason") == "ev_disconnected"
        assert st(hass, "connector_status") == "available"


async def test_stop_for_unknown_transaction_after_restart(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    restart: Restart,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Answered (so the charger drops it from its queue), logged once, and nothing else changes."""
    start = now() - timedelta(minutes=30)
    hass, port, tx_id = await restart_during_session(
        hass, entry, port, restart, start, now() - timedelta(minutes=1)
    )

    stopped = capture_events(hass, STOPPED)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for unknown in (424242, 424242, 424243):
                result = await stop_transaction(hass, cp, unknown, 99000, id_tag="TAG1")
                assert result is not None
        assert stopped == []
        warnings = [
            r for r in caplog.records if r.levelno >= logging.WARNING and "424242" in r.getMessage()
        ]
        assert len(warnings) <= 1
        assert st(hass, "transaction_id") == str(tx_id)
        assert st(hass, "energy") == "12.0"
        assert st(hass, "session_energy") == "2.0"
        # The real one still closes the session.
        await stop_transaction(hass, cp, tx_id, 12500)
        assert [e.data["transaction_id"] for e in stopped] == [tx_id]
        assert stopped[0].data["energy_kwh"] == 2.5


async def test_retransmitted_meter_values_after_restart(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    """Meter values the charger resends (their answers were lost in the restart) are old:
    they must not be taken for a meter reset and lower the lifetime register."""
    start = now() - timedelta(minutes=30)
    # (minutes after start, energy register Wh, power W)
    readings = [(5, 12500, 7000), (8, 12800, 7100), (10, 13000, 7200)]
    async with connected_charger(port, "CP1") as cp:
        tx_id = await begin_session(hass, cp, start, start + timedelta(minutes=1))
        for minute, energy, power in readings:
            await send(
                hass,
                cp,
                meter_values(
                    transaction_id=tx_id,
                    at=start + timedelta(minutes=minute),
                    energy=energy,
                    power=power,
                ),
            )
        hass, port = await restart(entry)

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        # The first two again.
        for minute, energy, power in readings[:2]:
            await send(
                hass,
                cp,
                meter_values(
                    transaction_id=tx_id,
                    at=start + timedelta(minutes=minute),
                    energy=energy,
                    power=power,
                ),
            )
        assert st(hass, "energy") == "13.0"
        assert st(hass, "session_energy") == "3.0"
        await send(
            hass,
            cp,
            meter_values(
                transaction_id=tx_id, at=start + timedelta(minutes=12), energy=13200, power=7300
            ),
        )
        assert st(hass, "energy") == "13.2"
        assert st(hass, "power") == "7300.0"


async def test_id_tags_and_transaction_ids_survive(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    await hass.services.async_call(
        DOMAIN, "add_id_tag", {"id_tag": "CARD1", "name": "Alice"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "add_id_tag", {"id_tag": "STOLEN", "status": "blocked"}, blocking=True
    )
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        first = (await start_transaction(hass, cp, "CARD1")).transaction_id
        await stop_transaction(hass, cp, first, 1000)
        hass, port = await restart(entry)

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        for id_tag, status in (("CARD1", "Accepted"), ("STOLEN", "Blocked"), ("NOBODY", "Invalid")):
            result = await send(hass, cp, call.Authorize(id_tag=id_tag))
            assert result.id_tag_info["status"] == status, id_tag
        second = (await start_transaction(hass, cp, "CARD1", meter_start=1000)).transaction_id
        assert second > first
        assert st(hass, "transaction_id") == str(second)


async def test_approval_survives_restart(hass: HomeAssistant, restart: Restart) -> None:
    """With the default policy (ask), an approved charger is Accepted on boot after a restart."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Pending"
        await hass.async_block_till_done()
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert len(flows) == 1
        await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {"name": "Garage"})
        await cp.wait_for_call("TriggerMessage")
        assert (await cp.boot()).status == "Accepted"
        hass, port = await restart(entry)

    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Accepted"
        await hass.async_block_till_done()
        assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
        assert device is not None and device.name == "Garage"
        assert st(hass, "connected", None, "binary_sensor") == "on"


async def test_message_during_shutdown_is_not_lost(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_storage: dict[str, Any]
) -> None:
    """When Home Assistant stops, chargers are disconnected: what they send then is queued by
    the charger and delivered after the restart, instead of being acknowledged and lost."""
    start = now() - timedelta(minutes=30)
    async with connected_charger(port, "CP1") as cp:
        tx_id = await begin_session(hass, cp, start, now() - timedelta(minutes=1))
        await hass.async_stop()
        stop = call.StopTransaction(meter_stop=14000, timestamp=iso(now()), transaction_id=tx_id)
        try:
            async with asyncio.timeout(2):
                delivered = await cp.call(stop, suppress=False) is not None
        except (ConnectionClosed, TimeoutError):
            delivered = False

    async with async_test_home_assistant() as hass2:
        await set_up_from_storage(hass2)
        entry2 = hass2.config_entries.async_get_entry(entry.entry_id)
        try:
            stopped = capture_events(hass2, STOPPED)
            async with connected_charger(bound_port(entry2), "CP1") as cp:
                await cp.boot()
                if not delivered:
                    await send(hass2, cp, stop)
            assert [e.data["transaction_id"] for e in stopped] == [tx_id], (
                "the StopTransaction was acknowledged during shutdown and lost" if delivered else ""
            )
            assert st(hass2, "transaction_id") == "unknown"
            assert st(hass2, "session_energy") == "4.0"
        finally:
            await hass2.config_entries.async_unload(entry2.entry_id)
            await hass2.async_stop(force=True)


async def test_remote_start_then_restart_before_session_begins(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, restart: Restart
) -> None:
    """A remote start with a tag Home Assistant chose; HA restarts before the car is plugged in.
    The StartTransaction that follows must not be refused (the charger would stop charging)."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        for id_tag in (None, "GUEST-1"):
            data = {"device_id": device_id(hass)} | ({"id_tag": id_tag} if id_tag else {})
            await hass.services.async_call(DOMAIN, "start_charging", data, blocking=True)
        assert [p["id_tag"] for p in cp.calls("RemoteStartTransaction")] == [
            "HomeAssistant",
            "GUEST-1",
        ]
        hass, port = await restart(entry)

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        for id_tag in ("HomeAssistant", "GUEST-1"):
            result = await start_transaction(hass, cp, id_tag)
            assert result.id_tag_info["status"] == "Accepted", id_tag
        # A tag nobody chose is still refused.
        result = await start_transaction(hass, cp, "NOBODY")
        assert result.id_tag_info["status"] == "Invalid"
