"""Bounded work for every number and time a charger sends, over real websockets.

A number out of range is refused with PropertyConstraintViolation before any arithmetic (never
an InternalError, never seconds of CPU); a lenient charger's out-of-range sample is dropped and
the rest of its message applies. A reading dated far ahead of Home Assistant's clock is taken as
received now, so it never freezes the readings that follow.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
import logging
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from ocpp.messages import CallError, CallResult
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.ocpp_central.const import DOMAIN, EVENT_TRANSACTION_STARTED

from .charger import SimCharger, connected_charger
from .charger201 import connected_station
from .helpers import (
    capture_events,
    entity_state,
    make_entry,
    update_charger,
    wait_for_state,
)

BIG = 10**400  # a JSON integer far beyond a float


def iso(seconds: float = 0, *, year: int | None = None) -> str:
    when = dt_util.utcnow().replace(microsecond=0) + timedelta(seconds=seconds)
    if year is not None:
        when = when.replace(year=year)
    return when.isoformat().replace("+00:00", "Z")


def sampled16(wh: Any, w: Any = "100") -> list[dict[str, Any]]:
    return [
        {"value": wh, "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": w, "measurand": "Power.Active.Import", "unit": "W"},
    ]


def sampled201(wh: Any, w: Any = 100, multiplier: Any = 0) -> list[dict[str, Any]]:
    return [
        {"value": wh, "measurand": "Energy.Active.Import.Register"},
        {
            "value": w,
            "measurand": "Power.Active.Import",
            "unitOfMeasure": {"unit": "W", "multiplier": multiplier},
        },
    ]


def shows(expected: str, state: State) -> bool:
    return state.state == expected


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def booted16(hass: HomeAssistant, cp: SimCharger) -> None:
    await cp.boot()
    await cp.status(1, "Charging")
    answer = await cp.raw_call(
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("1500")}]},
    )
    assert isinstance(answer, CallResult)
    await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "1.5")


OUT_OF_RANGE_16 = [
    pytest.param(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("1e400")}],
        },
        id="value_beyond_float",
    ),
    pytest.param(
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("5e13")}]},
        id="value_beyond_any_meter",
    ),
    pytest.param(
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("1", "9" * 5000)}],
        },
        id="value_of_5000_digits",
    ),
    pytest.param(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": BIG, "timestamp": iso()},
        id="meter_start_of_400_digits",
    ),
    pytest.param(
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 10**13, "timestamp": iso()},
        id="meter_start_beyond_any_meter",
    ),
    pytest.param(
        "StopTransaction",
        {"transactionId": 1, "meterStop": BIG, "timestamp": iso()},
        id="meter_stop_of_400_digits",
    ),
    pytest.param(
        "StopTransaction",
        {"transactionId": 2**40, "meterStop": 1, "timestamp": iso()},
        id="transaction_id_beyond_32_bits",
    ),
    pytest.param(
        "StatusNotification",
        {"connectorId": 1000, "errorCode": "NoError", "status": "Available"},
        id="connector_id_1000",
    ),
    pytest.param(
        "MeterValues",
        {
            "connectorId": BIG,
            "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("1")}],
        },
        id="connector_id_of_400_digits",
    ),
]


@pytest.mark.parametrize(("action", "payload"), OUT_OF_RANGE_16)
async def test_out_of_range_number_refused_16(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
    action: str,
    payload: dict[str, Any],
) -> None:
    started = capture_events(hass, EVENT_TRANSACTION_STARTED)
    async with connected_charger(port, "CP1") as cp:
        await booted16(hass, cp)
        answer = await cp.raw_call(action, payload)
        assert isinstance(answer, CallError), answer
        assert answer.error_code == "PropertyConstraintViolation"
        # Nothing changed, and the connection serves the next message.
        assert (await cp.call(call.Heartbeat())) is not None
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CP1_1_energy") == "1.5"
        assert entity_state(hass, "sensor", "CP1_1_power") == "100.0"
        assert entity_state(hass, "switch", "CP1_1_charging") == "off"
        assert sorted(entry.runtime_data.chargers["CP1"].connectors) == [0, 1]
    assert started == []
    no_errors_logged(caplog)


async def test_lenient_drops_out_of_range_sample_and_logs_once(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await booted16(hass, cp)
        update_charger(hass, entry, "CP1", lenient=True)
        await hass.async_block_till_done()
        for second, wh in ((1, "2500"), (2, "3500")):
            answer = await cp.raw_call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "meterValue": [
                        {"timestamp": iso(second), "sampledValue": sampled16(wh, "1e400")}
                    ],
                },
            )
            assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_1_energy", lambda s: s.state == "3.5")
        # The power sample was dropped: the last good one stays.
        assert entity_state(hass, "sensor", "CP1_1_power") == "100.0"
    logged = [r for r in caplog.records if "out of range" in r.getMessage()]
    assert len(logged) == 1
    no_errors_logged(caplog)


@pytest.mark.parametrize(
    ("multiplier", "value"),
    [
        pytest.param(400, 1, id="multiplier_400"),
        pytest.param(10_000_000, 1, id="multiplier_of_ten_million"),
        pytest.param(-(10**9), 1, id="multiplier_minus_a_billion"),
        pytest.param(BIG, 1, id="multiplier_of_400_digits"),
        pytest.param(0, BIG, id="value_of_400_digits"),
        pytest.param(3, 10**10, id="value_times_multiplier_beyond_any_meter"),
    ],
)
async def test_out_of_range_number_refused_201(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
    multiplier: int,
    value: int,
) -> None:
    async with connected_station(port) as station:
        await station.boot()
        await station.status(1, "Available")
        good = await station.raw_call(
            "MeterValues",
            {"evseId": 1, "meterValue": [{"timestamp": iso(), "sampledValue": sampled201(1500)}]},
        )
        assert isinstance(good, CallResult)
        await wait_for_state(hass, "sensor", "CS1_1_power", lambda s: s.state == "100.0")
        answer = await station.raw_call(
            "MeterValues",
            {
                "evseId": 1,
                "meterValue": [
                    {"timestamp": iso(1), "sampledValue": sampled201(2000, value, multiplier)}
                ],
            },
        )
        assert isinstance(answer, CallError), answer
        assert answer.error_code == "PropertyConstraintViolation"
        await hass.async_block_till_done()
        assert entity_state(hass, "sensor", "CS1_1_energy") == "1.5"
        assert entity_state(hass, "sensor", "CS1_1_power") == "100.0"
        # A TransactionEvent with the same sample starts no session.
        answer = await station.raw_call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": iso(2),
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "TX1"},
                "evse": {"id": 1},
                "meterValue": [
                    {"timestamp": iso(2), "sampledValue": sampled201(2000, value, multiplier)}
                ],
            },
        )
        assert isinstance(answer, CallError), answer
        assert answer.error_code == "PropertyConstraintViolation"
        await hass.async_block_till_done()
        assert entity_state(hass, "switch", "CS1_1_charging") == "off"
        assert entry.runtime_data.chargers["CS1"].connectors[1].transaction is None
    no_errors_logged(caplog)


async def test_evse_id_out_of_range_refused(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_station(port) as station:
        await station.boot()
        for action, payload in (
            (
                "StatusNotification",
                {
                    "timestamp": iso(),
                    "connectorStatus": "Available",
                    "evseId": 99,
                    "connectorId": 1,
                },
            ),
            (
                "MeterValues",
                {
                    "evseId": BIG,
                    "meterValue": [{"timestamp": iso(), "sampledValue": sampled201(1)}],
                },
            ),
        ):
            answer = await station.raw_call(action, payload)
            assert isinstance(answer, CallError), (action, answer)
            assert answer.error_code == "PropertyConstraintViolation"
        assert sorted(entry.runtime_data.chargers["CS1"].connectors) == [0]


async def test_composite_schedule_limit_beyond_float_is_a_clear_error(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A limit in a charger's answer is bounded too: the action fails with a clear error."""
    async with connected_station(port) as station:
        await station.boot()
        await station.status(1, "Available")
        station.answers["GetCompositeSchedule"] = {
            "status": "Accepted",
            "schedule": {
                "evseId": 1,
                "duration": 60,
                "scheduleStart": iso(),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": BIG}],
            },
        }
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CS1")})
        assert device is not None
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN,
                "get_composite_schedule",
                {"device_id": device.id, "duration": 60},
                blocking=True,
                return_response=True,
            )
        assert err.value.translation_key == "charger_call_error"


# --- time that lies ----------------------------------------------------------------------


async def test_reading_from_the_far_future_does_not_freeze_later_ones(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, hass_storage: dict[str, Any]
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await booted16(hass, cp)
        for timestamp, watts in ((iso(year=2999), "7000"), (iso(1), "3000"), (iso(2), "2000")):
            answer = await cp.raw_call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "meterValue": [
                        {"timestamp": timestamp, "sampledValue": sampled16("1600", watts)}
                    ],
                },
            )
            assert isinstance(answer, CallResult)
            await wait_for_state(hass, "sensor", "CP1_1_power", partial(shows, f"{float(watts)}"))
    # Nor is the future time kept as the newest reading's.
    conn = entry.runtime_data.chargers["CP1"].connectors[1]
    assert conn.reading_time is not None
    assert conn.reading_time <= dt_util.utcnow() + timedelta(minutes=1)


async def test_stored_future_reading_time_is_ignored(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A reading time from the far future stored by an earlier version does not freeze readings."""
    entry = make_entry()
    hass_storage[f"ocpp_central.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"ocpp_central.{entry.entry_id}",
        "data": {
            "chargers": {
                "CP1": {
                    "connectors": {
                        "1": {
                            "energy_kwh": 1.0,
                            "reading_time": "2999-01-01T00:00:00+00:00",
                            "measurands": ["energy", "power"],
                        }
                    }
                }
            }
        },
    }
    entry.add_to_hass(hass)
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType({"charger_id": "CP1"}),
            subentry_type="charger",
            title="CP1",
            unique_id="CP1",
        ),
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    async with connected_charger(entry.runtime_data.server.port, "CP1") as cp:
        await cp.boot()
        answer = await cp.raw_call(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": iso(), "sampledValue": sampled16("2000", "4200")}],
            },
        )
        assert isinstance(answer, CallResult)
        await wait_for_state(hass, "sensor", "CP1_1_power", lambda s: s.state == "4200.0")
        assert entity_state(hass, "sensor", "CP1_1_energy") == "2.0"


# --- what users give actions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [
        pytest.param(
            "set_charging_limit",
            {"limit_amps": 10, "duration": 10**12},
            id="duration_of_30000_years",
        ),
        pytest.param(
            "set_charging_limit",
            {"limit_amps": 10, "duration": 10**20},
            id="duration_beyond_timedelta",
        ),
        pytest.param("get_composite_schedule", {"duration": 10**30}, id="composite_duration"),
        pytest.param(
            "cancel_reservation", {"reservation_id": 2**40}, id="reservation_id_beyond_32_bits"
        ),
        pytest.param(
            "update_firmware",
            {"location": "https://example.com/fw", "retry_interval": 10**30},
            id="retry_interval",
        ),
    ],
)
async def test_out_of_range_action_input_is_invalid(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, action: str, data: dict[str, Any]
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await booted16(hass, cp)
        received = len(cp.received)
        device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
        assert device is not None
        with pytest.raises(vol.Invalid):
            await hass.services.async_call(
                DOMAIN,
                action,
                {"device_id": device.id, **data},
                blocking=True,
                return_response=action == "get_composite_schedule",
            )
        assert len(cp.received) == received
        assert entry.runtime_data.chargers["CP1"].connectors[1].limit is None
