"""Diagnostics of a central system with the scene's chargers (tests/scene.py): settings,
chargers and what they reported, with passwords and id tags redacted (snapshot in
snapshots/test_diagnostics.ambr).

The integration's diagnostics function is called directly: the download endpoint also reads
the system's info, which imports the Supervisor client, a package this test venv lacks. What
the endpoint adds is the JSON encoding, which is checked here too.

Regenerate after a deliberate change: pytest tests/test_diagnostics.py --snapshot-update
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_bytes, json_loads
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.ocpp_central.diagnostics import async_get_config_entry_diagnostics


async def test_entry_diagnostics(
    hass: HomeAssistant, scene: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, scene)
    assert json_loads(json_bytes(diagnostics)) == snapshot
