"""First end-to-end check: a charger boots, reports status and meter values."""

from homeassistant.core import HomeAssistant

from .charger import connected_charger
from .helpers import entity_state, wait_for_state


async def test_boot_status_meter(hass: HomeAssistant, port: int) -> None:
    async with connected_charger(port, "CP1") as cp:
        result = await cp.boot(charge_point_serial_number="SN1", firmware_version="1.2")
        assert result.status == "Accepted"
        await cp.status(1, "Charging")
        await cp.meter_values(
            1,
            [
                {"value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
            ],
        )
        state = await wait_for_state(hass, "sensor", "CP1_1_power", lambda s: s.state == "7200.0")
        assert state.attributes["unit_of_measurement"] == "W"
        assert entity_state(hass, "sensor", "CP1_1_energy") == "1.5"
        assert entity_state(hass, "sensor", "CP1_1_connector_status") == "charging"
        assert entity_state(hass, "binary_sensor", "CP1_connected") == "on"
