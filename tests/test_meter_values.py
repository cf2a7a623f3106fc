"""OCPP 1.6 MeterValues as real chargers send them, through to the entities users see."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    DOMAIN,
    SUBENTRY_CHARGER,
)

from .charger import SimCharger, connected_charger
from .helpers import enable_ahead, make_entry, registry_entry, setup_entry, state_of, sv

pytestmark = pytest.mark.charger(boot="booted", status="Charging")

# An hour ago: samples a few minutes apart stay in the past (a charger's time more than a
# minute ahead of Home Assistant's clock is taken as "now").
T0 = dt_util.utcnow().replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def phase_voltages(hass: HomeAssistant) -> None:
    """Per-phase voltages are disabled by default; these tests read them."""
    enable_ahead(hass, "sensor", *(f"CP1_1_voltage_l{phase}" for phase in (1, 2, 3)))


def ts(seconds: float = 0) -> str:
    """An OCPP timestamp `seconds` after an hour before the start of the test module."""
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def energy_and_power(wh: str, w: str, **kw: str) -> list[dict[str, str]]:
    """The two readings most chargers send: the energy register (Wh) and active power (W)."""
    return [
        sv(wh, "Energy.Active.Import.Register", "Wh", **kw),
        sv(w, "Power.Active.Import", "W", **kw),
    ]


async def send_meter_values(
    hass: HomeAssistant,
    cp: SimCharger,
    sampled_values: list[dict[str, Any]],
    *,
    connector_id: int = 1,
    at: float = 0,
    **kw: Any,
) -> None:
    """Send one MeterValues with one MeterValue; return once the server processed it."""
    await cp.call(
        call.MeterValues(
            connector_id=connector_id,
            meter_value=[{"timestamp": ts(at), "sampledValue": sampled_values}],
            **kw,
        ),
        suppress=False,
    )
    await hass.async_block_till_done()


def value(hass: HomeAssistant, key: str, connector_id: int = 1) -> str | None:
    """State of a connector entity of CP1, None when there is no such entity."""
    state = state_of(hass, "sensor", f"CP1_{connector_id}_{key}")
    return state.state if state is not None else None


def fvalue(hass: HomeAssistant, key: str, connector_id: int = 1) -> float:
    """Numeric state of a connector entity of CP1."""
    state = value(hass, key, connector_id)
    assert state is not None, f"no entity for {key}"
    return float(state)


# --- measurands and units --------------------------------------------------------------


@pytest.mark.parametrize(
    ("sampled", "key", "expected"),
    [
        (sv("1500", "Energy.Active.Import.Register", "Wh"), "energy", 1.5),
        (sv("12.345", "Energy.Active.Import.Register", "kWh"), "energy", 12.345),
        (sv("7200", "Power.Active.Import", "W"), "power", 7200),
        (sv("7.2", "Power.Active.Import", "kW"), "power", 7200),
        (sv("15.8", "Current.Import", "A"), "current", 15.8),
        (sv("231.5", "Voltage", "V"), "voltage", 231.5),
        (sv("32", "Current.Offered", "A"), "current_offered", 32),
        (sv("57", "SoC", "Percent", location="EV"), "soc", 57),
        (sv("35.5", "Temperature", "Celsius"), "temperature", 35.5),
        # The 1.6 schema's own misspelling, which chargers copy.
        (sv("36.5", "Temperature", "Celcius"), "temperature", 36.5),
        (sv("95", "Temperature", "Fahrenheit"), "temperature", 35),
        (sv("308.15", "Temperature", "K"), "temperature", 35),
        # No unit: the 1.6 defaults (Wh, W, A, V, Percent, Celsius).
        (sv("2500", "Energy.Active.Import.Register"), "energy", 2.5),
        (sv("3680", "Power.Active.Import"), "power", 3680),
        (sv("16", "Current.Import"), "current", 16),
        (sv("230", "Voltage"), "voltage", 230),
        (sv("80", "SoC"), "soc", 80),
        (sv("21", "Temperature"), "temperature", 21),
        # No measurand: the energy register, in Wh.
        (sv("4321"), "energy", 4.321),
        (sv("4.321", unit="kWh"), "energy", 4.321),
    ],
)
async def test_measurand_and_unit(
    hass: HomeAssistant, cp: SimCharger, sampled: dict[str, Any], key: str, expected: float
) -> None:
    await send_meter_values(hass, cp, [sampled])
    assert fvalue(hass, key) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("key", "sampled", "unit", "device_class", "state_class"),
    [
        (
            "energy",
            sv("1000", "Energy.Active.Import.Register", "Wh"),
            "kWh",
            "energy",
            "total_increasing",
        ),
        ("power", sv("1", "Power.Active.Import", "kW"), "W", "power", "measurement"),
        ("current", sv("6", "Current.Import", "A"), "A", "current", "measurement"),
        ("current_l2", sv("6", "Current.Import", "A", phase="L2"), "A", "current", "measurement"),
        ("current_offered", sv("6", "Current.Offered", "A"), "A", "current", "measurement"),
        ("voltage", sv("230", "Voltage", "V"), "V", "voltage", "measurement"),
        ("voltage_l3", sv("230", "Voltage", "V", phase="L3-N"), "V", "voltage", "measurement"),
        # The car's state of charge is no battery of the charger's (no device class).
        ("soc", sv("50", "SoC", "Percent"), "%", None, "measurement"),
        ("temperature", sv("300", "Temperature", "K"), "°C", "temperature", "measurement"),
    ],
)
@pytest.mark.usefixtures("phase_voltages")
async def test_unit_attributes(
    hass: HomeAssistant,
    cp: SimCharger,
    key: str,
    sampled: dict[str, Any],
    unit: str,
    device_class: str | None,
    state_class: str,
) -> None:
    await send_meter_values(hass, cp, [sampled])
    state = state_of(hass, "sensor", f"CP1_1_{key}")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == unit
    assert state.attributes.get("device_class") == device_class
    assert state.attributes["state_class"] == state_class


# --- phases ----------------------------------------------------------------------------


@pytest.mark.usefixtures("phase_voltages")
async def test_phases(hass: HomeAssistant, cp: SimCharger) -> None:
    await send_meter_values(
        hass,
        cp,
        [
            sv("15.9", "Current.Import", "A", phase="L1"),
            sv("16.1", "Current.Import", "A", phase="L2"),
            sv("15.7", "Current.Import", "A", phase="L3"),
            sv("229", "Voltage", "V", phase="L1-N"),
            sv("231", "Voltage", "V", phase="L2-N"),
            sv("233", "Voltage", "V", phase="L3-N"),
            # Line-to-line voltages are no phase voltage: they must not overwrite L1-N ...
            sv("400", "Voltage", "V", phase="L1-L2"),
            sv("401", "Voltage", "V", phase="L2-L3"),
            sv("3650", "Power.Active.Import", "W", phase="L1"),
            sv("3700", "Power.Active.Import", "W", phase="L2"),
            sv("3.6", "Power.Active.Import", "kW", phase="L3"),
        ],
    )
    assert fvalue(hass, "current_l1") == 15.9
    assert fvalue(hass, "current_l2") == 16.1
    assert fvalue(hass, "current_l3") == 15.7
    assert fvalue(hass, "voltage_l1") == 229
    assert fvalue(hass, "voltage_l2") == 231
    assert fvalue(hass, "voltage_l3") == 233
    # No total was sent: power is the sum of the phases.
    assert fvalue(hass, "power") == pytest.approx(10950)
    # ... and only per-phase entities exist for per-phase readings.
    assert value(hass, "current") is None
    assert value(hass, "voltage") is None


async def test_neutral_current_is_not_the_charging_current(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    """Current on the neutral conductor (phase "N") is no total: it must not be shown as `current`."""
    await send_meter_values(
        hass,
        cp,
        [
            sv("16", "Current.Import", "A", phase="L1"),
            sv("16", "Current.Import", "A", phase="L2"),
            sv("16", "Current.Import", "A", phase="L3"),
            sv("0.3", "Current.Import", "A", phase="N"),
        ],
    )
    assert fvalue(hass, "current_l1") == 16
    assert value(hass, "current") in (None, "unknown")
    await send_meter_values(
        hass,
        cp,
        [sv("0.3", "Current.Import", "A", phase="N"), sv("16", "Current.Import", "A")],
        at=10,
    )
    assert fvalue(hass, "current") == 16


async def test_power_total_wins_over_phases(hass: HomeAssistant, cp: SimCharger) -> None:
    await send_meter_values(
        hass,
        cp,
        [
            sv("3000", "Power.Active.Import", "W", phase="L1"),
            sv("11000", "Power.Active.Import", "W"),
            sv("3000", "Power.Active.Import", "W", phase="L2"),
        ],
    )
    assert fvalue(hass, "power") == 11000


@pytest.mark.usefixtures("phase_voltages")
async def test_phase_and_total_current_side_by_side(hass: HomeAssistant, cp: SimCharger) -> None:
    await send_meter_values(
        hass,
        cp,
        [
            sv("16", "Current.Import", "A"),
            sv("10", "Current.Import", "A", phase="L1"),
            sv("230", "Voltage", "V"),
            sv("232", "Voltage", "V", phase="L1"),
        ],
    )
    assert fvalue(hass, "current") == 16
    assert fvalue(hass, "current_l1") == 10
    assert fvalue(hass, "voltage") == 230
    assert fvalue(hass, "voltage_l1") == 232


# --- contexts and locations ------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    ["Sample.Periodic", "Sample.Clock", "Transaction.Begin", "Transaction.End", "Trigger", "Other"],
)
async def test_contexts(hass: HomeAssistant, cp: SimCharger, context: str) -> None:
    await send_meter_values(hass, cp, energy_and_power("123456", "6900", context=context))
    assert fvalue(hass, "energy") == 123.456
    assert fvalue(hass, "power") == 6900


async def test_clock_aligned_and_periodic_in_one_message(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    """A clock-aligned sample (on the quarter hour) and a later periodic one."""
    await cp.call(
        call.MeterValues(
            connector_id=1,
            meter_value=[
                {
                    "timestamp": ts(60),
                    "sampledValue": energy_and_power("10200", "7000", context="Sample.Periodic"),
                },
                {
                    "timestamp": ts(0),
                    "sampledValue": energy_and_power("10100", "5000", context="Sample.Clock"),
                },
            ],
        ),
        suppress=False,
    )
    await hass.async_block_till_done()
    # The newest sample is what is shown, whatever the order in the message.
    assert fvalue(hass, "energy") == 10.2
    assert fvalue(hass, "power") == 7000


@pytest.mark.parametrize(
    ("sampled", "key", "expected"),
    [
        (
            [
                sv("20", "Current.Import", "A", location="Inlet"),
                sv("16", "Current.Import", "A", location="Outlet"),
            ],
            "current",
            16,
        ),
        (
            [
                sv("16", "Current.Import", "A", location="Outlet"),
                sv("20", "Current.Import", "A", location="Inlet"),
            ],
            "current",
            16,
        ),
        (
            [
                sv("7400", "Power.Active.Import", "W", location="EV"),
                sv("7200", "Power.Active.Import", "W", location="Outlet"),
            ],
            "power",
            7200,
        ),
        (
            [
                sv("240", "Voltage", "V", location="Inlet"),
                sv("230", "Voltage", "V", location="Outlet"),
            ],
            "voltage",
            230,
        ),
        (
            [
                sv("99000", "Energy.Active.Import.Register", "Wh", location="Inlet"),
                sv("5000", "Energy.Active.Import.Register", "Wh", location="Outlet"),
            ],
            "energy",
            5,
        ),
        # Only an inlet reading: it is still shown.
        ([sv("12", "Current.Import", "A", location="Inlet")], "current", 12),
        # The charger's own temperature is the body's, not a cable's or the EV's.
        (
            [
                sv("60", "Temperature", "Celsius", location="Outlet"),
                sv("41", "Temperature", "Celsius", location="Body"),
            ],
            "temperature",
            41,
        ),
        (
            [
                sv("41", "Temperature", "Celsius", location="Body"),
                sv("25", "Temperature", "Celsius", location="EV"),
            ],
            "temperature",
            41,
        ),
        ([sv("33", "Temperature", "Celsius", location="Cable")], "temperature", 33),
        ([sv("64", "SoC", "Percent", location="EV")], "soc", 64),
    ],
)
async def test_locations(
    hass: HomeAssistant, cp: SimCharger, sampled: list[dict[str, Any]], key: str, expected: float
) -> None:
    await send_meter_values(hass, cp, sampled)
    assert fvalue(hass, key) == expected


# --- where readings go ------------------------------------------------------------------


async def test_connector_zero_on_single_connector_charger(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    await send_meter_values(hass, cp, energy_and_power("5000", "3600"), connector_id=0)
    assert fvalue(hass, "energy") == 5
    assert fvalue(hass, "power") == 3600
    assert state_of(hass, "sensor", "CP1_0_energy") is None
    assert state_of(hass, "sensor", "CP1_0_power") is None


async def test_connector_zero_before_any_status(hass: HomeAssistant, port: int) -> None:
    """A charger that reports on connector 0 before it ever named connector 1."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await send_meter_values(
            hass, cp, [sv("7777", "Energy.Active.Import.Register", "Wh")], connector_id=0
        )
        assert fvalue(hass, "energy") == 7.777
        await cp.status(1, "Available")
        await hass.async_block_till_done()
        assert value(hass, "connector_status") == "available"
        # Still one connector: no connector devices, the energy entity still on connector 1.
        assert fvalue(hass, "energy") == 7.777


async def test_two_connectors_keep_their_readings_apart(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    await cp.status(2, "Charging")
    await send_meter_values(
        hass, cp, [sv("1000", "Energy.Active.Import.Register", "Wh")], connector_id=1
    )
    await send_meter_values(
        hass, cp, [sv("2000", "Energy.Active.Import.Register", "Wh")], connector_id=2
    )
    assert fvalue(hass, "energy", 1) == 1
    assert fvalue(hass, "energy", 2) == 2


async def test_several_meter_values_in_one_message(hass: HomeAssistant, cp: SimCharger) -> None:
    await cp.call(
        call.MeterValues(
            connector_id=1,
            meter_value=[
                {
                    "timestamp": ts(0),
                    "sampledValue": [
                        sv("10000", "Energy.Active.Import.Register", "Wh"),
                        sv("7000", "Power.Active.Import", "W"),
                        sv("40", "SoC", "Percent"),
                    ],
                },
                {
                    "timestamp": ts(30),
                    "sampledValue": [
                        sv("10060", "Energy.Active.Import.Register", "Wh"),
                        sv("7100", "Power.Active.Import", "W"),
                    ],
                },
                {
                    "timestamp": ts(60),
                    "sampledValue": [
                        sv("10120", "Energy.Active.Import.Register", "Wh"),
                        sv("7200", "Power.Active.Import", "W"),
                        sv("16", "Current.Import", "A"),
                    ],
                },
            ],
        ),
        suppress=False,
    )
    await hass.async_block_till_done()
    assert fvalue(hass, "energy") == 10.12
    assert fvalue(hass, "power") == 7200
    assert fvalue(hass, "current") == 16
    # Reported only in the first entry: still shown.
    assert fvalue(hass, "soc") == 40


async def test_older_message_does_not_overwrite_newer_readings(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    await send_meter_values(hass, cp, energy_and_power("20000", "7000"), at=100)
    # Queued while offline, sent late: older than what is shown.
    await send_meter_values(hass, cp, energy_and_power("19000", "1000"), at=10)
    assert fvalue(hass, "power") == 7000
    assert fvalue(hass, "energy") == 20
    # A newer one is shown again.
    await send_meter_values(hass, cp, [sv("2000", "Power.Active.Import", "W")], at=110)
    assert fvalue(hass, "power") == 2000


# --- what is ignored --------------------------------------------------------------------


async def test_signed_and_non_numeric_values_are_ignored(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    await send_meter_values(hass, cp, [sv("5000", "Energy.Active.Import.Register", "Wh")], at=0)
    await send_meter_values(
        hass,
        cp,
        [
            sv(
                "AP;0;3;ALCV3ABBBISHMA2RYEGAZE3HV5YQBQRQAEHAR3MY",
                "Energy.Active.Import.Register",
                "Wh",
                format="SignedData",
            ),
            sv("n/a", "Power.Active.Import", "W"),
            sv("", "Current.Import", "A"),
            sv("NaN", "Voltage", "V"),
            sv("inf", "Current.Offered", "A"),
            sv("6100", "Energy.Active.Import.Register", "Wh", format="Raw"),
            sv("33", "SoC", "Percent"),
        ],
        at=10,
    )
    assert fvalue(hass, "energy") == 6.1
    assert fvalue(hass, "soc") == 33
    for key in ("power", "current", "voltage", "current_offered"):
        assert value(hass, key) is None, key


async def test_signed_energy_alone_keeps_register(hass: HomeAssistant, cp: SimCharger) -> None:
    await send_meter_values(hass, cp, [sv("5000", "Energy.Active.Import.Register", "Wh")], at=0)
    await send_meter_values(
        hass,
        cp,
        [sv("deadbeef", "Energy.Active.Import.Register", "Wh", format="SignedData")],
        at=10,
    )
    assert fvalue(hass, "energy") == 5


async def test_unmapped_measurands_ignored(hass: HomeAssistant, cp: SimCharger) -> None:
    """Measurands of the spec that have no entity do not break the rest of the message."""
    await send_meter_values(
        hass,
        cp,
        [
            sv("50", "Frequency"),
            sv("0.98", "Power.Factor"),
            sv("1200", "Energy.Active.Export.Register", "Wh"),
            sv("500", "Power.Reactive.Import", "var"),
            sv("3000", "RPM"),
            sv("8500", "Energy.Active.Import.Register", "Wh"),
            sv("16", "Current.Import", "A"),
        ],
    )
    assert fvalue(hass, "energy") == 8.5
    assert fvalue(hass, "current") == 16
    entities = {
        entity.unique_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), hass.config_entries.async_entries(DOMAIN)[0].entry_id
        )
    }
    assert not any(
        unique_id.endswith(("frequency", "power_factor", "rpm")) for unique_id in entities
    )


async def test_unknown_measurand_and_unit_from_lenient_charger(hass: HomeAssistant) -> None:
    """Out-of-spec measurands, units and contexts (seen on Alfen meters) with lenient on."""
    entry = make_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType({CONF_CHARGER_ID: "CP1", CONF_LENIENT: True}),
            subentry_type=SUBENTRY_CHARGER,
            title="CP1",
            unique_id="CP1",
        ),
    )
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {
                        "timestamp": ts(0),
                        "sampledValue": [
                            sv("49.98", "Frequency", "Hz"),
                            sv("1", "Vendor.Specific.Thing"),
                            sv("7", "Power.Active.Import", "W", context="Sample.Bogus"),
                            sv("9100", "Energy.Active.Import.Register", "Wh"),
                            sv("230", "Voltage", "V"),
                        ],
                    }
                ],
            ),
            suppress=False,
            skip_schema_validation=True,
        )
        await hass.async_block_till_done()
        assert fvalue(hass, "energy") == 9.1
        assert fvalue(hass, "voltage") == 230
        assert fvalue(hass, "power") == 7


# --- entities appear once reported --------------------------------------------------------


async def test_measurand_entities_appear_when_first_reported(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    ent_reg = er.async_get(hass)
    measurand_keys = (
        "energy",
        "power",
        "current",
        "voltage",
        "current_offered",
        "soc",
        "temperature",
    )
    for key in measurand_keys:
        assert ent_reg.async_get_entity_id("sensor", DOMAIN, f"CP1_1_{key}") is None, key
    # The session entities exist from the start.
    assert value(hass, "session_energy") is not None

    await send_meter_values(hass, cp, [sv("1000", "Energy.Active.Import.Register", "Wh")], at=0)
    assert fvalue(hass, "energy") == 1
    assert value(hass, "soc") is None
    assert value(hass, "power") is None

    await send_meter_values(hass, cp, [sv("42", "SoC", "Percent")], at=10)
    entity_id = ent_reg.async_get_entity_id("sensor", DOMAIN, "CP1_1_soc")
    assert entity_id is not None
    assert not registry_entry(hass, "sensor", "CP1_1_soc").disabled
    assert fvalue(hass, "soc") == 42
    # Energy was not in this message: it keeps its value.
    assert fvalue(hass, "energy") == 1
    assert value(hass, "power") is None


# --- the lifetime register never glitches ---------------------------------------------------


@pytest.mark.parametrize(
    ("readings_wh", "expected_kwh"),
    [
        # One sample of 0: a glitch.
        ([10000, 0, 10100], [10.0, 10.0, 10.1]),
        # One lower sample: a glitch.
        ([10000, 9000, 10050], [10.0, 10.0, 10.05]),
        # Zero twice: still not a confirmed reset (no rise).
        ([10000, 0, 0], [10.0, 10.0, 10.0]),
        # Lower, then rising from there: a replaced meter / a register reset. The register
        # restarts there; the lifetime total goes on rising by what the new register counts.
        ([10000, 100, 200], [10.0, 10.0, 10.1]),
        ([10000, 0, 50, 80], [10.0, 10.0, 10.05, 10.08]),
        # Steady: unchanged.
        ([10000, 10000, 10000], [10.0, 10.0, 10.0]),
    ],
)
async def test_energy_register_glitches(
    hass: HomeAssistant, cp: SimCharger, readings_wh: list[int], expected_kwh: list[float]
) -> None:
    for i, (reading, expected) in enumerate(zip(readings_wh, expected_kwh, strict=True)):
        await send_meter_values(
            hass, cp, [sv(str(reading), "Energy.Active.Import.Register", "Wh")], at=i * 60
        )
        state = value(hass, "energy")
        assert state not in (None, "unknown", "unavailable")
        assert float(state) == pytest.approx(expected), f"after reading {i}: {readings_wh[: i + 1]}"


async def test_energy_missing_from_message_keeps_value(hass: HomeAssistant, cp: SimCharger) -> None:
    await send_meter_values(hass, cp, [sv("10000", "Energy.Active.Import.Register", "Wh")], at=0)
    await send_meter_values(hass, cp, [sv("7000", "Power.Active.Import", "W")], at=10)
    await send_meter_values(hass, cp, [sv("50", "Frequency")], at=20)
    assert fvalue(hass, "energy") == 10
    assert fvalue(hass, "power") == 7000


async def test_zero_power_is_real_zero_energy_is_a_glitch(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    """Power may legitimately drop to 0; energy may not."""
    await send_meter_values(hass, cp, energy_and_power("10000", "7000"), at=0)
    await send_meter_values(hass, cp, energy_and_power("0", "0"), at=10)
    assert fvalue(hass, "energy") == 10
    assert fvalue(hass, "power") == 0
