"""Fixtures: a loaded central system on a free loopback port, a connected charger, and the
three chargers the platform snapshots show. Helpers are in helpers.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.ocpp_central import (
    PLATFORMS,
    central as central_module,
    upstreams as upstreams_module,
)
from custom_components.ocpp_central.const import CALL_TIMEOUT, DOMAIN

from .charger import SimCharger, connected_charger
from .helpers import (  # noqa: F401  (test modules of other branches import these from here)
    bound_port,
    capture_events,
    enable_ahead,
    make_entry,
    prepare_charger,
    setup_entry,
    state_of,
    wait_for_state,
)
from .scene import SCENE_TIME, online_scene
from .upstream_backend import FAST


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load our integration from custom_components."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Chargers talk to the server over real websockets on 127.0.0.1."""


@pytest.fixture
async def entry(hass: HomeAssistant) -> MockConfigEntry:
    """A loaded central system that accepts new chargers."""
    entry = make_entry()
    await setup_entry(hass, entry)
    return entry


@pytest.fixture
def port(entry: MockConfigEntry) -> int:
    """The port of the loaded central system."""
    return bound_port(entry)


def charger_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The test's `charger` marks (its module's, its class's, its own), merged."""
    settings: dict[str, Any] = {}
    for mark in reversed(list(request.node.iter_markers("charger"))):
        settings.update(mark.kwargs)
    return settings


@pytest.fixture
def call_timeout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> float:
    """How long the central system waits for a charger's answer: the `charger` mark's
    `call_timeout` (a short one for tests of unanswered calls), else the real CALL_TIMEOUT.
    Chargers connected from here on get it."""
    seconds = charger_settings(request).get("call_timeout")
    if seconds is not None:
        monkeypatch.setattr(central_module, "CALL_TIMEOUT", seconds)
    return float(seconds if seconds is not None else CALL_TIMEOUT)


@pytest.fixture
def fast_upstream(monkeypatch: pytest.MonkeyPatch) -> None:
    """Upstream links with short waits and retries (a backend's second lasts 10 ms)."""
    monkeypatch.setattr(upstreams_module, "TIMING", FAST)


@pytest.fixture
async def cp(
    hass: HomeAssistant, port: int, call_timeout: float, request: pytest.FixtureRequest
) -> AsyncIterator[SimCharger]:
    """CP1, a one-connector 1.6 charger, connected for the test.

    How far it is brought up is the test's (or its module's) `charger` mark:
    `boot="prepared"` (the default: booted, its configuration read), `"booted"` (a
    BootNotification only) or `None` (connected only); `status`: the StatusNotification then
    sent for connector 1, if any; `call_timeout`: see the call_timeout fixture.
    """
    settings = charger_settings(request)
    boot, status = settings.get("boot", "prepared"), settings.get("status")
    async with connected_charger(port, "CP1") as charger:
        if boot == "prepared":
            await prepare_charger(hass, charger)
        elif boot == "booted":
            await charger.boot()
        if status is not None:
            await charger.status(1, status)
            await hass.async_block_till_done()
        yield charger


@pytest.fixture
async def unload_entries(hass: HomeAssistant) -> AsyncIterator[None]:
    """Stop every server a test started (entries created by a flow set themselves up)."""
    yield
    for config_entry in hass.config_entries.async_entries(DOMAIN):
        if config_entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format, in tests/snapshots/ (as in Home Assistant's tests:
    ids, times and contexts that differ per run are left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Every entity enabled, also those disabled by default (as in Home Assistant's tests)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform]:
    """The platforms `scene` loads (a platform's snapshot test loads only its own)."""
    return PLATFORMS


@pytest.fixture
async def scene(
    hass: HomeAssistant, platforms: list[Platform], freezer: FrozenDateTimeFactory
) -> AsyncIterator[MockConfigEntry]:
    """A 1.6 charger, a two-connector 1.6 charger and a 2.0.1 station, online, mid-session,
    at a fixed time and with fixed ids (see scene.py); the entry while they stay connected."""
    freezer.move_to(SCENE_TIME)
    with patch("custom_components.ocpp_central.PLATFORMS", platforms):
        async with online_scene(hass) as entry:
            yield entry
