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
    identifiers = {device.id: name for device in devices for _, name in device.identifiers}
    for device in devices:
        assert device == snapshot(name=identifiers[device.id])
    # The snapshots leave device ids out: which device each connector device is under.
    parents = {
        identifiers[device.id]: identifiers[device.via_device_id]
        for device in devices
        if device.via_device_id
    }
    assert parents == {"CP2-connector-1": "CP2", "CP2-connector-2": "CP2"}
