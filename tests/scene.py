"""The scene the snapshot tests show: three chargers online, each mid-session, with every
measurand reported, at a fixed time and with fixed ids, so every run renders the same states.

- CP1: OCPP 1.6, one connector, charging (its connector entities are on the charger device).
- CP2: OCPP 1.6, two connectors (one child device each): connector 1 charging, connector 2
  faulted with a ground failure.
- CS1: OCPP 2.0.1, one EVSE, charging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import CONF_ID_TAG_POLICY, ID_TAG_POLICY_ACCEPT_ALL

from .charger import SimCharger, connected_charger
from .charger201 import SimStation, connected_station
from .helpers import Payload, iso, make_entry, prepare_station, setup_entry, sv

SCENE_TIME = datetime(2026, 3, 14, 18, 30, tzinfo=UTC)
SESSION_START = SCENE_TIME - timedelta(minutes=45)
SCENE_ENTRY_ID = "01JSCENE0CENTRAL0SYSTEM000"


def _readings_16(energy_wh: int, amps: float) -> list[Payload]:
    """One 1.6 sample of every measurand we show, three-phase."""
    phases = [
        reading
        for phase in ("L1", "L2", "L3")
        for reading in (
            sv(str(amps), "Current.Import", "A", phase=phase),
            sv("230.4", "Voltage", "V", phase=f"{phase}-N"),
        )
    ]
    return [
        sv(str(energy_wh), "Energy.Active.Import.Register", "Wh"),
        sv(str(round(amps * 230.4 * 3)), "Power.Active.Import", "W"),
        sv(str(amps * 3), "Current.Import", "A"),
        sv("230.4", "Voltage", "V"),
        *phases,
        sv("16", "Current.Offered", "A"),
        sv("57", "SoC", "Percent", location="EV"),
        sv("31.5", "Temperature", "Celsius", location="Body"),
    ]


async def _charging_16(cp: SimCharger, connector_id: int, meter_start: int, wh: int) -> None:
    await cp.status(connector_id, "Charging")
    started = await cp.call(
        call.StartTransaction(
            connector_id=connector_id,
            id_tag=f"CARD{connector_id}",
            meter_start=meter_start,
            timestamp=iso(SESSION_START),
        ),
        suppress=False,
    )
    await cp.call(
        call.MeterValues(
            connector_id=connector_id,
            transaction_id=started.transaction_id,
            meter_value=[{"timestamp": iso(SCENE_TIME), "sampledValue": _readings_16(wh, 10.0)}],
        ),
        suppress=False,
    )


async def _boot_16(hass: HomeAssistant, cp: SimCharger, connectors: int) -> None:
    cp.configuration = {"NumberOfConnectors": (str(connectors), True)}
    await cp.boot(
        vendor="Acme",
        model=f"Wallbox {connectors}x11",
        charge_point_serial_number=f"ACME-{cp.id}",
        firmware_version="4.2.0",
    )
    await cp.wait_for_call("GetConfiguration")
    await hass.async_block_till_done(wait_background_tasks=True)


def _readings_201(energy_wh: int, context: str) -> list[Payload]:
    def value(measurand: str, number: float, unit: str, **extra: Any) -> Payload:
        return {
            "value": number,
            "measurand": measurand,
            "unitOfMeasure": {"unit": unit},
            "context": context,
            **extra,
        }

    return [
        {
            "timestamp": iso(SCENE_TIME),
            "sampledValue": [
                value("Energy.Active.Import.Register", energy_wh, "Wh"),
                value("Power.Active.Import", 6.9, "kW"),
                *(value("Current.Import", 10.0, "A", phase=p) for p in ("L1", "L2", "L3")),
                *(value("Voltage", 229.8, "V", phase=f"{p}-N") for p in ("L1", "L2", "L3")),
                value("Current.Offered", 16, "A"),
                value("SoC", 64, "Percent", location="EV"),
            ],
        }
    ]


async def _charging_201(hass: HomeAssistant, station: SimStation) -> None:
    await prepare_station(
        hass, station, status=None, serialNumber="ACME-CS1", firmwareVersion="2.0.9"
    )
    await station.status(1, "Occupied")
    await station.send(
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": iso(SESSION_START),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-CS1", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "CARD9", "type": "ISO14443"},
            "meterValue": _readings_201(40_000, "Transaction.Begin"),
        },
    )
    await station.send(
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": iso(SCENE_TIME),
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 1,
            "transactionInfo": {"transactionId": "TX-CS1", "chargingState": "Charging"},
            "meterValue": _readings_201(45_175, "Sample.Periodic"),
        },
    )


@contextlib.asynccontextmanager
async def online_scene(hass: HomeAssistant) -> AsyncIterator[MockConfigEntry]:
    """Set the scene up (the caller has frozen time at SCENE_TIME); the entry while the
    chargers stay connected."""
    entry = make_entry(entry_id=SCENE_ENTRY_ID, **{CONF_ID_TAG_POLICY: ID_TAG_POLICY_ACCEPT_ALL})
    port = await setup_entry(hass, entry)
    async with (
        connected_charger(port, "CP1") as cp1,
        connected_charger(port, "CP2") as cp2,
        connected_station(port, "CS1") as cs1,
    ):
        await _boot_16(hass, cp1, 1)
        await _charging_16(cp1, 1, 1_000_000, 1_007_500)
        await _boot_16(hass, cp2, 2)
        await _charging_16(cp2, 1, 250_000, 253_100)
        await cp2.status(2, "Faulted", "GroundFailure", info="RCD tripped", vendor_error_code="E17")
        await _charging_201(hass, cs1)
        await hass.async_block_till_done(wait_background_tasks=True)
        yield entry
