"""Charging control and maintenance: every action and control entity against a simulated 1.6 charger.

Each test checks what the charger received (action and payload), what the user gets back
(state, response data) and the error semantics: ServiceValidationError for bad input and an
offline charger, HomeAssistantError for Rejected/NotSupported answers and timeouts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import RepairsFlowManager, repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
import voluptuous as vol

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger, connected_charger
from .helpers import (
    bound_port,
    central_system,
    device_id,
    entity_id,
    entity_state,
    prepare_charger,
    service,
    start_transaction,
    state_of,
    update_charger,
    wait_for_state,
)

TX_DEFAULT_ID = 101  # stable profile ids of connector 1: TxDefaultProfile / TxProfile
TX_PROFILE_ID = 201


# --- helpers -----------------------------------------------------------------------------


async def set_limit_number(hass: HomeAssistant, value: float) -> None:
    """Set connector 1's charging limit number, as a user does on the entity."""
    number = entity_id(hass, "number", "CP1_1_charging_limit")
    await hass.services.async_call(
        "number", "set_value", {"entity_id": number, "value": value}, blocking=True
    )


async def set_schedule(hass: HomeAssistant, schedule: list[dict[str, Any]]) -> None:
    """set_charging_limit with a daily schedule ({"start": "HH:MM", "limit": amps} periods)."""
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "schedule": schedule})


def limit_state(hass: HomeAssistant, connector_id: int = 1) -> str:
    state = state_of(hass, "number", f"CP1_{connector_id}_charging_limit")
    assert state is not None
    return state.state


def limited(hass: HomeAssistant, connector_id: int = 1) -> bool:
    """Whether the charging_limit number says a limit is in force."""
    state = state_of(hass, "number", f"CP1_{connector_id}_charging_limit")
    assert state is not None
    return bool(state.attributes["limited"])


def only_profile(cp: SimCharger) -> dict[str, Any]:
    profiles = cp.calls("SetChargingProfile")
    assert len(profiles) == 1, profiles
    return profiles[0]


def without_start(payload: dict[str, Any]) -> dict[str, Any]:
    """A SetChargingProfile payload without its (clock-dependent) startSchedule."""
    schedule = dict(payload["cs_charging_profiles"]["charging_schedule"])
    schedule.pop("start_schedule", None)
    return {
        **payload,
        "cs_charging_profiles": {**payload["cs_charging_profiles"], "charging_schedule": schedule},
    }


def assert_not_validation(err: pytest.ExceptionInfo[HomeAssistantError]) -> None:
    """A charger-side failure is a HomeAssistantError, not a validation error."""
    assert not isinstance(err.value, ServiceValidationError), err.value


@pytest.fixture
async def offline(hass: HomeAssistant, port: int) -> None:
    """A known charger (device, entities) that is not connected."""
    async with connected_charger(port, "CP1") as charger:
        await prepare_charger(hass, charger)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)


# --- set_charging_limit --------------------------------------------------------------------


async def test_limit_idle_is_tx_default_profile(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    assert limit_state(hass) == "32.0"  # no limit of ours: the charger's maximum
    before = dt_util.utcnow().replace(microsecond=0)
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})

    payload = only_profile(cp)
    assert payload["connector_id"] == 1
    profile = payload["cs_charging_profiles"]
    assert set(profile) == {
        "charging_profile_id",
        "stack_level",
        "charging_profile_purpose",
        "charging_profile_kind",
        "charging_schedule",
    }
    assert profile["charging_profile_id"] == TX_DEFAULT_ID
    assert profile["charging_profile_purpose"] == "TxDefaultProfile"
    assert profile["charging_profile_kind"] == "Absolute"
    assert "transaction_id" not in profile
    assert "recurrency_kind" not in profile
    schedule = profile["charging_schedule"]
    assert schedule["charging_rate_unit"] == "A"
    assert schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 16}]
    assert "duration" not in schedule
    start = dt_util.parse_datetime(schedule["start_schedule"])
    assert start is not None and before <= start <= dt_util.utcnow()
    assert limit_state(hass) == "16.0"

    # A second limit replaces the first one: same profile id.
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 10})
    first, second = cp.calls("SetChargingProfile")
    assert second["cs_charging_profiles"]["charging_profile_id"] == TX_DEFAULT_ID
    assert second["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 10}
    ]
    assert limit_state(hass) == "10.0"


async def test_limit_during_session_is_tx_profile_then_default_after(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    transaction_id = await start_transaction(cp)
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 12})

    profile = only_profile(cp)["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "TxProfile"
    assert profile["transaction_id"] == transaction_id
    assert profile["charging_profile_id"] == TX_PROFILE_ID
    assert profile["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 12}
    ]
    assert limit_state(hass) == "12.0"

    # The charger drops a TxProfile with its session: the limit goes out again as the default.
    await cp.call(
        call.StopTransaction(
            meter_stop=2000, timestamp=dt_util.utcnow().isoformat(), transaction_id=transaction_id
        )
    )
    async with asyncio.timeout(5):
        while len(cp.calls("SetChargingProfile")) < 2:
            cp.call_received.clear()
            await cp.call_received.wait()
    after = cp.calls("SetChargingProfile")[1]
    assert after["connector_id"] == 1
    profile = after["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "TxDefaultProfile"
    assert profile["charging_profile_id"] == TX_DEFAULT_ID
    assert "transaction_id" not in profile
    assert profile["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 12}
    ]
    assert limit_state(hass) == "12.0"


async def test_limit_with_duration(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await service(
        hass,
        "set_charging_limit",
        {"device_id": device_id(hass), "limit_amps": 8, "duration": {"minutes": 30}},
    )
    schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
    assert schedule["duration"] == 1800
    assert schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 8}]


@pytest.mark.parametrize(
    ("settings", "watts", "amps"),
    [
        ({}, 11040, 16),  # default 3 phases x 230 V
        ({"phases": 1, "voltage": 230}, 3680, 16),
        ({"phases": 3, "voltage": 400}, 7200, 6),
    ],
)
async def test_limit_watts_converted_to_amps(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    cp: SimCharger,
    settings: dict[str, Any],
    watts: float,
    amps: float,
) -> None:
    if settings:
        update_charger(hass, entry, "CP1", **settings)
        await hass.async_block_till_done()
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_watts": watts})
    schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
    assert schedule["charging_rate_unit"] == "A"
    assert schedule["charging_schedule_period"] == [{"start_period": 0, "limit": amps}]
    assert float(limit_state(hass)) == amps


async def test_limit_in_watts_for_power_only_charger(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, ChargingScheduleAllowedChargingRateUnit=("Power", True))
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
        schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
        assert schedule["charging_rate_unit"] == "W"
        assert schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 11040}]
        # The user still sees (and sets) amps.
        assert limit_state(hass) == "16.0"


async def test_limit_in_watts_reaches_power_only_charger_unchanged(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """7000 W is 10.14 A at 3 x 230 V: the charger must get 7000 W, not 10.1 A x 690 V."""
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, ChargingScheduleAllowedChargingRateUnit=("Power", True))
        await service(
            hass, "set_charging_limit", {"device_id": device_id(hass), "limit_watts": 7000}
        )
        schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
        assert schedule["charging_rate_unit"] == "W"
        assert schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 7000}]
        assert float(limit_state(hass)) == pytest.approx(7000 / 690, abs=1e-4)


async def test_limit_in_amps_when_charger_takes_both(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(
            hass, cp, ChargingScheduleAllowedChargingRateUnit=("Current,Power", True)
        )
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
        schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
        assert schedule["charging_rate_unit"] == "A"


def _expected_now(periods: list[tuple[time, float]]) -> float:
    now = dt_util.now().time()
    ordered = sorted(periods)
    value = ordered[-1][1]
    for start, limit in ordered:
        if start <= now:
            value = limit
    return value


async def test_schedule_is_recurring_daily(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    # Cheap night hours: 16 A from 22:00, 6 A from 06:00.
    await set_schedule(hass, [{"start": "22:00", "limit": 16}, {"start": "06:00", "limit": 6}])
    payload = only_profile(cp)
    assert payload["connector_id"] == 1
    profile = payload["cs_charging_profiles"]
    assert profile["charging_profile_kind"] == "Recurring"
    assert profile["recurrency_kind"] == "Daily"
    assert profile["charging_profile_purpose"] == "TxDefaultProfile"
    assert profile["charging_profile_id"] == TX_DEFAULT_ID
    schedule = profile["charging_schedule"]
    assert schedule["duration"] == 86400
    assert schedule["charging_rate_unit"] == "A"
    # Sorted by time of day, starting at 0 with the limit in force at midnight (22:00's).
    assert schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 16},
        {"start_period": 6 * 3600, "limit": 6},
        {"start_period": 22 * 3600, "limit": 16},
    ]
    start = dt_util.parse_datetime(schedule["start_schedule"])
    assert start is not None
    local = dt_util.as_local(start)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == dt_util.now().date()
    # The number shows the limit in force now.
    expected = _expected_now([(time(22), 16), (time(6), 6)])
    assert float(limit_state(hass)) == expected


async def test_schedule_starting_at_midnight_has_no_extra_period(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await set_schedule(hass, [{"start": "00:00", "limit": 10}, {"start": "12:30", "limit": 20}])
    schedule = only_profile(cp)["cs_charging_profiles"]["charging_schedule"]
    assert schedule["charging_schedule_period"] == [
        {"start_period": 0, "limit": 10},
        {"start_period": 12 * 3600 + 30 * 60, "limit": 20},
    ]


@pytest.mark.parametrize("answer", ["Rejected", "NotSupported"])
async def test_limit_refused_keeps_previous(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, answer: str
) -> None:
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
    assert limit_state(hass) == "16.0"
    cp.answers["SetChargingProfile"] = answer
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 6})
    assert_not_validation(err)
    assert len(cp.calls("SetChargingProfile")) == 2
    assert limit_state(hass) == "16.0"


async def test_refused_limit_is_not_reapplied(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
        cp.answers["SetChargingProfile"] = "Rejected"
        with pytest.raises(HomeAssistantError):
            await service(
                hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 6}
            )
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        profile = (await cp.wait_for_call("SetChargingProfile"))["cs_charging_profiles"]
        assert profile["charging_schedule"]["charging_schedule_period"] == [
            {"start_period": 0, "limit": 16}
        ]


@pytest.mark.parametrize(
    "data",
    [
        {"limit_amps": 33},
        {"limit_amps": -1},
        {"limit_watts": 23000},  # > 32 A at 3 x 230 V
        {"schedule": [{"start": "22:00", "limit": 40}]},
    ],
)
async def test_limit_out_of_range(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, data: dict[str, Any]
) -> None:
    with pytest.raises(ServiceValidationError):
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), **data})
    assert not cp.calls("SetChargingProfile")
    assert limit_state(hass) == "32.0"


async def test_limit_range_follows_max_current(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    state = state_of(hass, "number", "CP1_1_charging_limit")
    assert state is not None
    assert (state.attributes["min"], state.attributes["max"]) == (0, 32)

    update_charger(hass, entry, "CP1", max_current=16)
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError):
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 20})
    assert not cp.calls("SetChargingProfile")
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
    state = state_of(hass, "number", "CP1_1_charging_limit")
    assert state is not None
    assert state.state == "16.0"
    assert state.attributes["max"] == 16


async def test_limit_needs_a_limit(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    with pytest.raises(vol.Invalid):
        await service(hass, "set_charging_limit", {"device_id": device_id(hass)})
    with pytest.raises(vol.Invalid):
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device_id(hass), "limit_amps": 6, "limit_watts": 4000},
        )
    assert not cp.calls("SetChargingProfile")


async def test_unknown_device_and_connector(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    with pytest.raises(ServiceValidationError):
        await service(hass, "set_charging_limit", {"device_id": "nope", "limit_amps": 6})
    with pytest.raises(ServiceValidationError):
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device_id(hass), "connector_id": 5, "limit_amps": 6},
        )
    with pytest.raises(ServiceValidationError):
        await service(hass, "unlock_connector", {"device_id": device_id(hass), "connector_id": 5})
    assert not cp.calls("SetChargingProfile")
    assert not cp.calls("UnlockConnector")


# --- clear_charging_limit ------------------------------------------------------------------


async def test_clear_charging_limit(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        assert limited(hass) is False
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 10})
        assert limit_state(hass) == "10.0"
        assert limited(hass) is True
        cp.answers["ClearChargingProfile"] = "Accepted"
        await service(hass, "clear_charging_limit", {"device_id": device_id(hass)})
        # Both of our profiles on the connector go, by their stable ids.
        assert sorted(p["id"] for p in cp.calls("ClearChargingProfile")) == [
            TX_DEFAULT_ID,
            TX_PROFILE_ID,
        ]
        # No limit in force: the slider stands at the maximum, and says it is no limit.
        assert limit_state(hass) == "32.0"
        assert limited(hass) is False
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    # A cleared limit is not re-applied when the charger comes back.
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        assert not cp.calls("SetChargingProfile")


# --- get_composite_schedule ----------------------------------------------------------------


async def test_get_composite_schedule(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    cp.composite = {
        "status": "Accepted",
        "connector_id": 1,
        "schedule_start": "2026-01-01T00:00:00Z",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "duration": 3600,
            "charging_schedule_period": [
                {"start_period": 0, "limit": 16},
                {"start_period": 1800, "limit": 8.5, "number_phases": 1},
            ],
        },
    }
    result = await service(
        hass,
        "get_composite_schedule",
        {"device_id": device_id(hass), "duration": 3600},
        response=True,
    )
    assert cp.calls("GetCompositeSchedule") == [{"connector_id": 1, "duration": 3600}]
    assert result == {
        "status": "accepted",
        "connector_id": 1,
        "schedule_start": "2026-01-01T00:00:00Z",
        "duration": 3600,
        "charging_rate_unit": "A",
        "periods": [
            {"start": 0, "limit": 16.0},
            {"start": 1800, "limit": 8.5, "phases": 1},
        ],
    }

    # Default duration: a day.
    await service(hass, "get_composite_schedule", {"device_id": device_id(hass)}, response=True)
    assert cp.calls("GetCompositeSchedule")[-1] == {"connector_id": 1, "duration": 86400}


async def test_get_composite_schedule_rejected(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    cp.composite = None  # the simulator answers Rejected
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, "get_composite_schedule", {"device_id": device_id(hass)}, response=True)
    assert_not_validation(err)
    assert cp.calls("GetCompositeSchedule")


# --- set_availability ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status"), [("Accepted", "accepted"), ("Scheduled", "scheduled")]
)
async def test_set_availability(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, answer: str, status: str
) -> None:
    cp.answers["ChangeAvailability"] = answer
    result = await service(
        hass, "set_availability", {"device_id": device_id(hass), "available": False}, response=True
    )
    assert result == {"status": status}
    assert cp.calls("ChangeAvailability") == [{"connector_id": 0, "type": "Inoperative"}]
    await service(
        hass,
        "set_availability",
        {"device_id": device_id(hass), "available": True, "connector_id": 1},
    )
    assert cp.calls("ChangeAvailability")[-1] == {"connector_id": 1, "type": "Operative"}


# --- reset ---------------------------------------------------------------------------------


async def test_reset(hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger) -> None:
    await service(hass, "reset", {"device_id": device_id(hass)})
    await service(hass, "reset", {"device_id": device_id(hass), "type": "hard"})
    assert cp.calls("Reset") == [{"type": "Soft"}, {"type": "Hard"}]
    cp.answers["Reset"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, "reset", {"device_id": device_id(hass), "type": "hard"})
    assert_not_validation(err)
    assert len(cp.calls("Reset")) == 3


# --- unlock_connector ----------------------------------------------------------------------


async def test_unlock_connector(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await service(hass, "unlock_connector", {"device_id": device_id(hass)})
    assert cp.calls("UnlockConnector") == [{"connector_id": 1}]


# --- update_firmware -----------------------------------------------------------------------


async def test_update_firmware_and_status(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await service(
        hass,
        "update_firmware",
        {
            "device_id": device_id(hass),
            "location": "https://example.com/fw/acme-2.0.bin",
            "retrieve_at": "2026-03-01T02:00:00+00:00",
            "retries": 3,
            "retry_interval": 60,
        },
    )
    (payload,) = cp.calls("UpdateFirmware")
    assert payload["location"] == "https://example.com/fw/acme-2.0.bin"
    assert dt_util.parse_datetime(payload["retrieve_date"]) == datetime(2026, 3, 1, 2, tzinfo=UTC)
    assert payload["retries"] == 3
    assert payload["retry_interval"] == 60

    await cp.call(call.FirmwareStatusNotification(status="Downloading"))
    await wait_for_state(hass, "sensor", "CP1_firmware_status", lambda s: s.state == "downloading")
    await cp.call(call.FirmwareStatusNotification(status="Installed"))
    await wait_for_state(hass, "sensor", "CP1_firmware_status", lambda s: s.state == "installed")


async def test_update_firmware_now_by_default(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    before = dt_util.utcnow().replace(microsecond=0)
    await service(
        hass, "update_firmware", {"device_id": device_id(hass), "location": "ftp://10.0.0.2/fw.bin"}
    )
    (payload,) = cp.calls("UpdateFirmware")
    assert set(payload) == {"location", "retrieve_date"}
    retrieve = dt_util.parse_datetime(payload["retrieve_date"])
    assert retrieve is not None and before <= retrieve <= dt_util.utcnow()


async def test_update_firmware_bad_location(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    with pytest.raises(vol.Invalid):
        await service(hass, "update_firmware", {"device_id": device_id(hass), "location": "no url"})
    assert not cp.calls("UpdateFirmware")


# --- get_diagnostics -----------------------------------------------------------------------


async def test_get_diagnostics_and_status(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    cp.answers["GetDiagnostics"] = "diag-CP1.tar.gz"
    result = await service(
        hass,
        "get_diagnostics",
        {
            "device_id": device_id(hass),
            "upload_url": "ftp://logs.example.com/upload",
            "start": "2026-01-01T00:00:00+00:00",
            "stop": "2026-01-02T00:00:00+00:00",
        },
        response=True,
    )
    assert result == {"file_name": "diag-CP1.tar.gz"}
    (payload,) = cp.calls("GetDiagnostics")
    assert payload["location"] == "ftp://logs.example.com/upload"
    assert dt_util.parse_datetime(payload["start_time"]) == datetime(2026, 1, 1, tzinfo=UTC)
    assert dt_util.parse_datetime(payload["stop_time"]) == datetime(2026, 1, 2, tzinfo=UTC)

    await cp.call(call.DiagnosticsStatusNotification(status="Uploading"))
    await wait_for_state(hass, "sensor", "CP1_diagnostics_status", lambda s: s.state == "uploading")
    await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"))
    await wait_for_state(hass, "sensor", "CP1_diagnostics_status", lambda s: s.state == "uploaded")


async def test_get_diagnostics_nothing_to_upload(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    result = await service(
        hass,
        "get_diagnostics",
        {"device_id": device_id(hass), "upload_url": "https://logs.example.com/up"},
        response=True,
    )
    assert result == {"file_name": None}
    assert cp.calls("GetDiagnostics") == [{"location": "https://logs.example.com/up"}]


# --- get_configuration ---------------------------------------------------------------------


async def test_get_configuration(hass: HomeAssistant, entry: MockConfigEntry, port: int) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(
            hass,
            cp,
            HeartbeatInterval=("300", False),
            MeterValuesSampledData=("Energy.Active.Import.Register", False),
        )
        result = await service(
            hass,
            "get_configuration",
            {"device_id": device_id(hass), "keys": ["HeartbeatInterval", "NoSuchKey"]},
            response=True,
        )
        assert cp.calls("GetConfiguration")[-1] == {"key": ["HeartbeatInterval", "NoSuchKey"]}
        assert result == {
            "keys": [{"key": "HeartbeatInterval", "value": "300", "readonly": False}],
            "unknown_keys": ["NoSuchKey"],
        }

        everything = await service(
            hass, "get_configuration", {"device_id": device_id(hass)}, response=True
        )
        assert cp.calls("GetConfiguration")[-1] == {}
        assert everything == {
            "keys": [
                {"key": "NumberOfConnectors", "value": "1", "readonly": True},
                {"key": "HeartbeatInterval", "value": "300", "readonly": False},
                {
                    "key": "MeterValuesSampledData",
                    "value": "Energy.Active.Import.Register",
                    "readonly": False,
                },
            ],
            "unknown_keys": [],
        }


# --- set_configuration and the reboot repair -----------------------------------------------


async def test_set_configuration_accepted(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    result = await service(
        hass,
        "set_configuration",
        {"device_id": device_id(hass), "key": "HeartbeatInterval", "value": "120"},
        response=True,
    )
    assert result == {"status": "accepted"}
    assert cp.calls("ChangeConfiguration") == [{"key": "HeartbeatInterval", "value": "120"}]
    assert ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1") is None


@pytest.mark.parametrize("answer", ["Rejected", "NotSupported"])
async def test_set_configuration_refused(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, answer: str
) -> None:
    cp.answers["ChangeConfiguration"] = answer
    with pytest.raises(HomeAssistantError) as err:
        await service(
            hass,
            "set_configuration",
            {"device_id": device_id(hass), "key": "HeartbeatInterval", "value": "120"},
        )
    assert_not_validation(err)
    assert cp.calls("ChangeConfiguration") == [{"key": "HeartbeatInterval", "value": "120"}]
    assert ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1") is None


async def repairs_manager(hass: HomeAssistant) -> RepairsFlowManager:
    """The repairs flow manager, with the repairs integration set up."""
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    return manager


async def _reboot_required(hass: HomeAssistant, cp: SimCharger) -> ir.IssueEntry:
    cp.answers["ChangeConfiguration"] = "RebootRequired"
    result = await service(
        hass,
        "set_configuration",
        {"device_id": device_id(hass), "key": "WebSocketPingInterval", "value": "60"},
        response=True,
    )
    assert result == {"status": "reboot_required"}
    assert cp.calls("ChangeConfiguration") == [{"key": "WebSocketPingInterval", "value": "60"}]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1")
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "reboot_required"
    assert issue.translation_placeholders == {"charger_id": "CP1", "key": "WebSocketPingInterval"}
    return issue


async def test_set_configuration_reboot_required_fix_resets(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await _reboot_required(hass, cp)
    manager = await repairs_manager(hass)

    result = await manager.async_init(DOMAIN, data={"issue_id": "reboot_required_CP1"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert not cp.calls("Reset")  # nothing happens before the user confirms

    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert cp.calls("Reset") == [{"type": "Soft"}]
    assert ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1") is None


async def test_reboot_fix_reset_rejected_keeps_issue(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await _reboot_required(hass, cp)
    manager = await repairs_manager(hass)
    cp.answers["Reset"] = "Rejected"
    result = await manager.async_init(DOMAIN, data={"issue_id": "reboot_required_CP1"})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reset_failed"
    assert cp.calls("Reset") == [{"type": "Soft"}]
    assert ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1") is not None


async def test_reboot_issue_gone_when_charger_boots(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await _reboot_required(hass, cp)
    await cp.boot()
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "reboot_required_CP1") is None


# --- trigger_message -----------------------------------------------------------------------


async def test_trigger_message(hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger) -> None:
    await service(
        hass,
        "trigger_message",
        {"device_id": device_id(hass), "message": "StatusNotification", "connector_id": 1},
    )
    await service(hass, "trigger_message", {"device_id": device_id(hass), "message": "Heartbeat"})
    assert cp.calls("TriggerMessage") == [
        {"requested_message": "StatusNotification", "connector_id": 1},
        {"requested_message": "Heartbeat"},
    ]


async def test_trigger_message_unknown_message(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    with pytest.raises(vol.Invalid):
        await service(hass, "trigger_message", {"device_id": device_id(hass), "message": "Bogus"})
    assert not cp.calls("TriggerMessage")


# --- data_transfer -------------------------------------------------------------------------


async def test_data_transfer(hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger) -> None:
    cp.answers["DataTransferData"] = '{"led": "green"}'
    result = await service(
        hass,
        "data_transfer",
        {"device_id": device_id(hass), "vendor_id": "com.acme", "message_id": "led", "data": "{}"},
        response=True,
    )
    assert result == {"status": "accepted", "data": '{"led": "green"}'}
    assert cp.calls("DataTransfer") == [
        {"vendor_id": "com.acme", "message_id": "led", "data": "{}"}
    ]

    # Without message id and data; without data in the answer.
    cp.answers.pop("DataTransferData")
    result = await service(
        hass,
        "data_transfer",
        {"device_id": device_id(hass), "vendor_id": "com.acme"},
        response=True,
    )
    assert result == {"status": "accepted", "data": None}
    assert cp.calls("DataTransfer")[-1] == {"vendor_id": "com.acme"}


# --- reserve_now / cancel_reservation ------------------------------------------------------


async def test_reserve_and_cancel(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    result = await service(
        hass,
        "reserve_now",
        {"device_id": device_id(hass), "id_tag": "CARD1", "expiry": "2026-01-01T12:00:00+00:00"},
        response=True,
    )
    reservation_id = result["reservation_id"]
    (payload,) = cp.calls("ReserveNow")
    assert payload["connector_id"] == 1
    assert payload["id_tag"] == "CARD1"
    assert payload["reservation_id"] == reservation_id
    assert dt_util.parse_datetime(payload["expiry_date"]) == datetime(2026, 1, 1, 12, tzinfo=UTC)

    # A second reservation gets its own id.
    second = await service(
        hass,
        "reserve_now",
        {"device_id": device_id(hass), "id_tag": "CARD2", "expiry": "2026-01-01T13:00:00+00:00"},
        response=True,
    )
    assert second["reservation_id"] != reservation_id

    await service(
        hass, "cancel_reservation", {"device_id": device_id(hass), "reservation_id": reservation_id}
    )
    assert cp.calls("CancelReservation") == [{"reservation_id": reservation_id}]


# --- refused by the charger ---------------------------------------------------------------

RESERVATION = {"id_tag": "CARD1", "expiry": "2026-01-01T12:00:00+00:00"}

# (action, data beyond device_id, returns response, OCPP action, its refusing answers,
#  the payload the charger got; None: a generated one, checked in test_reserve_and_cancel)
REFUSALS: list[tuple[str, dict[str, Any], bool, str, list[str], dict[str, Any] | None]] = [
    (
        "set_availability",
        {"available": False},
        False,
        "ChangeAvailability",
        ["Rejected"],
        {"connector_id": 0, "type": "Inoperative"},
    ),
    (
        "unlock_connector",
        {},
        False,
        "UnlockConnector",
        ["UnlockFailed", "NotSupported"],
        {"connector_id": 1},
    ),
    (
        "trigger_message",
        {"message": "MeterValues"},
        False,
        "TriggerMessage",
        ["Rejected", "NotImplemented"],
        {"requested_message": "MeterValues"},
    ),
    (
        "data_transfer",
        {"vendor_id": "com.acme"},
        False,
        "DataTransfer",
        ["Rejected", "UnknownVendorId", "UnknownMessageId"],
        {"vendor_id": "com.acme"},
    ),
    (
        "reserve_now",
        RESERVATION,
        True,
        "ReserveNow",
        ["Occupied", "Faulted", "Rejected", "Unavailable"],
        None,
    ),
    (
        "cancel_reservation",
        {"reservation_id": 7},
        False,
        "CancelReservation",
        ["Rejected"],
        {"reservation_id": 7},
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "response", "action", "answer", "payload"),
    [
        pytest.param(name, data, response, action, answer, payload, id=f"{name}-{answer}")
        for name, data, response, action, answers, payload in REFUSALS
        for answer in answers
    ],
)
async def test_action_refused_by_charger(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    cp: SimCharger,
    name: str,
    data: dict[str, Any],
    response: bool,
    action: str,
    answer: str,
    payload: dict[str, Any] | None,
) -> None:
    cp.answers[action] = answer
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, name, {"device_id": device_id(hass), **data}, response=response)
    assert_not_validation(err)
    sent = cp.calls(action)
    assert len(sent) == 1
    if payload is not None:
        assert sent == [payload]


# --- every action: offline charger, charger that never answers -----------------------------

# (action, data beyond device_id, returns response, OCPP action the charger gets)
ACTIONS: list[tuple[str, dict[str, Any], bool, str]] = [
    ("set_charging_limit", {"limit_amps": 10}, False, "SetChargingProfile"),
    ("clear_charging_limit", {}, False, "ClearChargingProfile"),
    ("get_composite_schedule", {"duration": 600}, True, "GetCompositeSchedule"),
    ("set_availability", {"available": False}, False, "ChangeAvailability"),
    ("reset", {"type": "hard"}, False, "Reset"),
    ("unlock_connector", {}, False, "UnlockConnector"),
    ("update_firmware", {"location": "https://example.com/fw.bin"}, False, "UpdateFirmware"),
    ("get_diagnostics", {"upload_url": "https://example.com/up"}, True, "GetDiagnostics"),
    ("get_configuration", {"keys": ["HeartbeatInterval"]}, True, "GetConfiguration"),
    ("set_configuration", {"key": "HeartbeatInterval", "value": "60"}, True, "ChangeConfiguration"),
    ("trigger_message", {"message": "Heartbeat"}, False, "TriggerMessage"),
    ("data_transfer", {"vendor_id": "com.acme"}, True, "DataTransfer"),
    ("reserve_now", RESERVATION, True, "ReserveNow"),
    ("cancel_reservation", {"reservation_id": 3}, False, "CancelReservation"),
]


@pytest.mark.parametrize(
    ("name", "data", "response", "action"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
async def test_action_on_offline_charger(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    offline: None,
    name: str,
    data: dict[str, Any],
    response: bool,
    action: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await service(hass, name, {"device_id": device_id(hass), **data}, response=response)
    assert err.value.translation_key == "charger_offline"


@pytest.mark.parametrize(
    ("name", "data", "response", "action"), ACTIONS, ids=[a[0] for a in ACTIONS]
)
# Long enough that the charger's own preparation (GetConfiguration right after the boot) is
# never the call that times out on a loaded machine: that left the connector unknown.
@pytest.mark.charger(call_timeout=1.0)
async def test_action_charger_never_answers(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    cp: SimCharger,
    name: str,
    data: dict[str, Any],
    response: bool,
    action: str,
) -> None:
    cp.composite = {"status": "Accepted"}
    cp.silent.add(action)
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, name, {"device_id": device_id(hass), **data}, response=response)
    assert_not_validation(err)
    assert err.value.translation_key == "charger_timeout"
    assert cp.unanswered and cp.unanswered[0][0] == action

    # The next call works and gets its own answer.
    cp.silent.clear()
    before = len(cp.calls(action))
    await service(hass, name, {"device_id": device_id(hass), **data}, response=response)
    assert len(cp.calls(action)) > before


@pytest.mark.charger(call_timeout=0.5)
async def test_late_answer_not_taken_for_next_call(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    cp.silent.add("Reset")
    with pytest.raises(HomeAssistantError):
        await service(hass, "reset", {"device_id": device_id(hass)})
    assert len(cp.unanswered) == 1

    task = asyncio.create_task(service(hass, "reset", {"device_id": device_id(hass)}))
    async with asyncio.timeout(5):
        while len(cp.unanswered) < 2:
            cp.call_received.clear()
            await cp.call_received.wait()
    (_, stale_id, _), (_, fresh_id, _) = cp.unanswered
    # The timed-out call's answer arrives late (Rejected), then the real answer (Accepted).
    await cp.answer(stale_id, {"status": "Rejected"})
    await cp.answer(fresh_id, {"status": "Accepted"})
    await task  # would raise if the late Rejected were taken as this call's answer


@pytest.mark.charger(call_timeout=0.3)
async def test_limit_timeout_keeps_previous(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 16})
    cp.silent.add("SetChargingProfile")
    with pytest.raises(HomeAssistantError) as err:
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 6})
    assert_not_validation(err)
    assert limit_state(hass) == "16.0"


# --- entities ------------------------------------------------------------------------------


async def test_number_sets_limit(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await set_limit_number(hass, 13)
    profile = only_profile(cp)["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "TxDefaultProfile"
    assert profile["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 13}
    ]
    assert limit_state(hass) == "13.0"

    # 0 pauses charging.
    await set_limit_number(hass, 0)
    last = cp.calls("SetChargingProfile")[-1]["cs_charging_profiles"]
    assert last["charging_profile_id"] == TX_DEFAULT_ID
    assert last["charging_schedule"]["charging_schedule_period"] == [
        {"start_period": 0, "limit": 0}
    ]
    assert limit_state(hass) == "0.0"


async def test_number_rejected_keeps_value(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    await set_limit_number(hass, 16)
    cp.answers["SetChargingProfile"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await set_limit_number(hass, 8)
    assert_not_validation(err)
    assert limit_state(hass) == "16.0"
    with pytest.raises(ServiceValidationError):
        await set_limit_number(hass, 40)
    assert len(cp.calls("SetChargingProfile")) == 2


async def test_number_unavailable_while_offline(
    hass: HomeAssistant, entry: MockConfigEntry, offline: None
) -> None:
    assert limit_state(hass) == STATE_UNAVAILABLE


async def test_reset_button(hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger) -> None:
    button = entity_id(hass, "button", "CP1_reset")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert cp.calls("Reset") == [{"type": "Soft"}]
    cp.answers["Reset"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert_not_validation(err)


@pytest.mark.charger(call_timeout=0.3)
async def test_reset_button_timeout(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    cp.silent.add("Reset")
    button = entity_id(hass, "button", "CP1_reset")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert_not_validation(err)


async def test_unlock_button(hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger) -> None:
    button = entity_id(hass, "button", "CP1_1_unlock")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert cp.calls("UnlockConnector") == [{"connector_id": 1}]
    cp.answers["UnlockConnector"] = "UnlockFailed"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert_not_validation(err)
    assert len(cp.calls("UnlockConnector")) == 2


async def test_available_switch(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    switch = entity_id(hass, "switch", "CP1_available")
    await cp.status(0, "Available")
    await wait_for_state(hass, "switch", "CP1_available", lambda s: s.state == STATE_ON)

    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert cp.calls("ChangeAvailability") == [{"connector_id": 0, "type": "Inoperative"}]
    # The switch follows what the charger reports.
    await cp.status(0, "Unavailable")
    await wait_for_state(hass, "switch", "CP1_available", lambda s: s.state == STATE_OFF)

    # "Scheduled" (applies after the running session) is a success, not an error.
    cp.answers["ChangeAvailability"] = "Scheduled"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert cp.calls("ChangeAvailability")[-1] == {"connector_id": 0, "type": "Operative"}
    await cp.status(0, "Available")
    await wait_for_state(hass, "switch", "CP1_available", lambda s: s.state == STATE_ON)

    cp.answers["ChangeAvailability"] = "Rejected"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert_not_validation(err)
    assert entity_state(hass, "switch", "CP1_available") == STATE_ON


# --- limits survive reconnects and restarts ------------------------------------------------


async def test_limit_reapplied_after_reconnect(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 14})
        first = only_profile(cp)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        again = await cp.wait_for_call("SetChargingProfile")
        assert without_start(again) == without_start(first)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert len(cp.calls("SetChargingProfile")) == 1
        # Read the configuration first (rate unit, stack level), then the limit.
        assert [name for name, _ in cp.received] == ["GetConfiguration", "SetChargingProfile"]
        assert limit_state(hass) == "14.0"


async def test_schedule_reapplied_after_reconnect(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        await set_schedule(hass, [{"start": "23:00", "limit": 20}, {"start": "07:00", "limit": 6}])
        first = only_profile(cp)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        assert await cp.wait_for_call("SetChargingProfile") == first  # midnight: same start


async def test_limit_survives_restart(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 9})
        first = only_profile(cp)

    # HA restart: unload and set up again; storage survives.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    new_port = bound_port(entry)

    async with connected_charger(new_port, "CP1") as cp:
        cp.configuration = {"NumberOfConnectors": ("1", True)}
        await cp.boot()
        again = await cp.wait_for_call("SetChargingProfile")
        assert without_start(again) == without_start(first)
        await wait_for_state(hass, "number", "CP1_1_charging_limit", lambda s: s.state == "9.0")


async def test_limit_reapplied_during_session_as_tx_profile(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        transaction_id = await start_transaction(cp)
        await service(hass, "set_charging_limit", {"device_id": device_id(hass), "limit_amps": 11})
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        profile = (await cp.wait_for_call("SetChargingProfile"))["cs_charging_profiles"]
        assert profile["charging_profile_purpose"] == "TxProfile"
        assert profile["transaction_id"] == transaction_id


# --- connectors from NumberOfConnectors, per-connector devices -------------------------------


async def test_connectors_from_number_of_connectors(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    central = central_system(entry)
    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {"NumberOfConnectors": ("2", True)}
        await cp.boot()
        await wait_for_state(hass, "number", "CP1_2_charging_limit", lambda s: s.state == "32.0")
        assert state_of(hass, "number", "CP1_1_charging_limit") is not None
        for key in ("connector_status",):
            assert state_of(hass, "sensor", f"CP1_1_{key}") is not None
            assert state_of(hass, "sensor", f"CP1_2_{key}") is not None
        assert state_of(hass, "button", "CP1_2_unlock") is not None
        assert state_of(hass, "switch", "CP1_2_charging") is not None

        dev_reg = dr.async_get(hass)
        charger_device = dev_reg.async_get_device(identifiers={(DOMAIN, "CP1")})
        assert charger_device is not None
        for n in (1, 2):
            child = dev_reg.async_get_device(identifiers={(DOMAIN, f"CP1-connector-{n}")})
            assert child is not None
            assert child.name == f"CP1 Connector {n}"
            assert child.via_device_id == charger_device.id
            ent = er.async_get(hass).async_get(entity_id(hass, "number", f"CP1_{n}_charging_limit"))
            assert ent is not None and ent.device_id == child.id

        # No reload: same central system, same connection.
        assert central_system(entry) is central
        assert entry.state is ConfigEntryState.LOADED
        assert central.sessions["CP1"].connection.closed is False

        # A connector device implies its connector.
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device_id(hass, "CP1-connector-2"), "limit_amps": 7},
        )
        payload = only_profile(cp)
        assert payload["connector_id"] == 2
        assert payload["cs_charging_profiles"]["charging_profile_id"] != TX_DEFAULT_ID
        assert limit_state(hass, 2) == "7.0"
        assert limit_state(hass, 1) == "32.0"
        await service(hass, "unlock_connector", {"device_id": device_id(hass, "CP1-connector-2")})
        assert cp.calls("UnlockConnector") == [{"connector_id": 2}]


# --- meter interval ------------------------------------------------------------------------


async def test_meter_interval_written_once(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, MeterValueSampleInterval=("60", False))
        assert not cp.calls("ChangeConfiguration")  # nothing asked for: nothing written
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    update_charger(hass, entry, "CP1", meter_interval=30)
    await hass.async_block_till_done()

    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, MeterValueSampleInterval=("60", False))
        assert cp.calls("ChangeConfiguration") == [
            {"key": "MeterValueSampleInterval", "value": "30"}
        ]
        configured = dict(cp.configuration)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    # The charger now reports 30: nothing is written again.
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, configuration=configured)
        assert cp.configuration["MeterValueSampleInterval"] == ("30", False)
        assert not cp.calls("ChangeConfiguration")


async def test_meter_interval_already_set(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)
    update_charger(hass, entry, "CP1", meter_interval=30)
    await hass.async_block_till_done()
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp, MeterValueSampleInterval=("30", False))
        assert not cp.calls("ChangeConfiguration")
        assert [name for name, _ in cp.received] == ["GetConfiguration"]


async def test_number_follows_max_current_setting(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger
) -> None:
    assert limit_state(hass) == "32.0"
    update_charger(hass, entry, "CP1", max_current=16)
    state = await wait_for_state(
        hass, "number", "CP1_1_charging_limit", lambda s: s.attributes["max"] == 16
    )
    assert state.state == "16.0"  # no limit of ours: shows the (new) maximum


async def test_limit_with_duration_ends(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, freezer: FrozenDateTimeFactory
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device_id(hass), "limit_amps": 8, "duration": {"minutes": 30}},
        )
        first = only_profile(cp)
        assert limit_state(hass) == "8.0"
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    # Back 10 minutes later: the same profile, ending when it would have ended anyway.
    freezer.tick(timedelta(minutes=10))
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        assert await cp.wait_for_call("SetChargingProfile") == first
        await hass.async_block_till_done(wait_background_tasks=True)
        assert limit_state(hass) == "8.0"

        # When the time is up, the number shows the charger's maximum again.
        freezer.tick(timedelta(minutes=21))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert limit_state(hass) == "32.0"
    await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == STATE_OFF)

    # An ended limit is not sent again.
    async with connected_charger(port, "CP1") as cp:
        await prepare_charger(hass, cp)
        assert not cp.calls("SetChargingProfile")
        assert limit_state(hass) == "32.0"


async def test_number_follows_schedule_over_the_day(
    hass: HomeAssistant, entry: MockConfigEntry, cp: SimCharger, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=5, minutes=59, seconds=50))
    await set_schedule(hass, [{"start": "22:00", "limit": 16}, {"start": "06:00", "limit": 6}])
    assert limit_state(hass) == "16.0"
    # The clock alone (no message from the charger) moves the number to the next period.
    freezer.tick(timedelta(seconds=15))  # 06:00:05
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert limit_state(hass) == "6.0"
    freezer.move_to(dt_util.start_of_local_day() + timedelta(hours=22, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert limit_state(hass) == "16.0"
