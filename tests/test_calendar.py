"""The calendar platform: every sessions calendar of the scene's chargers (tests/scene.py) as users
see it: state, attributes, registry entry and device (snapshots in snapshots/test_calendar.ambr).

Regenerate after a deliberate change: pytest tests/test_calendar.py --snapshot-update
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from .helpers import snapshot_entities


@pytest.mark.parametrize("platforms", [[Platform.CALENDAR]], ids=["calendar"])
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant, scene: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    await snapshot_entities(hass, snapshot, scene)
