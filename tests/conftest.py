"""Fixtures: a loaded central system on a free loopback port, and helpers to read what users see."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_ID_TAG_POLICY,
    CONF_NEW_CHARGERS,
    DOMAIN,
    ID_TAG_POLICY_KNOWN,
    NEW_CHARGERS_ACCEPT,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load our integration from custom_components."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Chargers talk to the server over real websockets on 127.0.0.1."""


def make_entry(**options: Any) -> MockConfigEntry:
    """A central system entry on a free loopback port."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP Central System",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={
            CONF_NEW_CHARGERS: NEW_CHARGERS_ACCEPT,
            CONF_ID_TAG_POLICY: ID_TAG_POLICY_KNOWN,
            **options,
        },
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> int:
    """Set up an entry; return the port its server listens on."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry.runtime_data.server.port


@pytest.fixture
async def entry(hass: HomeAssistant) -> MockConfigEntry:
    """A loaded central system that accepts new chargers."""
    entry = make_entry()
    await setup_entry(hass, entry)
    return entry


@pytest.fixture
def port(entry: MockConfigEntry) -> int:
    """The port of the loaded central system."""
    return int(entry.runtime_data.server.port)


def enable_ahead(hass: HomeAssistant, platform: str, *unique_ids: str) -> None:
    """Enable entities that are disabled by default, before the integration creates them
    (a registry entry that exists keeps its enabled state; users enable them in the UI)."""
    ent_reg = er.async_get(hass)
    for unique_id in unique_ids:
        ent_reg.async_get_or_create(platform, DOMAIN, unique_id)


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> State | None:
    """State of an entity, found by unique id through the entity registry."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    return hass.states.get(entity_id) if entity_id else None


async def wait_for_state(
    hass: HomeAssistant,
    platform: str,
    unique_id: str,
    predicate: Callable[[State], bool],
    timeout: float = 5,
) -> State:
    """Wait until an entity's state satisfies `predicate`.

    Event-driven (pushed state and entity registry updates wake it; no polling sleeps); the
    listener is a `@callback`, so it runs in the event loop.
    """
    changed = asyncio.Event()

    @callback
    def _changed(_: Event) -> None:
        changed.set()

    unsubs = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _changed),
        hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _changed),
    ]
    try:
        async with asyncio.timeout(timeout):
            while True:
                await hass.async_block_till_done()
                changed.clear()
                state = state_of(hass, platform, unique_id)
                if state is not None and predicate(state):
                    return state
                await changed.wait()
    finally:
        for unsub in unsubs:
            unsub()


def capture_events(hass: HomeAssistant, event_type: str) -> list[Event]:
    """Collect events of one type."""
    events: list[Event] = []

    @callback
    def _append(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(event_type, _append)
    return events
