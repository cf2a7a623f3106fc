"""The devices of the scene's chargers (tests/scene.py): a device per charger with what its
BootNotification said, and a child device per connector of the two-connector charger
(snapshot in snapshots/test_devices.ambr).

Regenerate after a deliberate change: pytest tests/test_devices.py --snapshot-update
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion


async def test_devices(
    hass: HomeAssistant, scene: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), scene.entry_id)
    assert len(devices) == 5  # CP1, CP2 and its two connectors, CS1
    for device in devices:
        ((_, identifier),) = device.identifiers
        assert device == snapshot(name=identifier)
