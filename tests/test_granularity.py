"""OCPP 2.0.1 at its proper granularity, through the actions (and what 1.6 makes of it).

The whole station (EVSE 0), the station maximum, limits valid for a while, profiles cleared
and read by criteria, one plug of an EVSE, one EVSE reset, reservations of a plug type or
for a group, several variables at once, device model reports and the security log.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger
from .charger201 import SimStation, connected_station
from .helpers import (
    device_id,
    diagnostics,
    prepare_charger,
    prepare_station,
    service,
    wait_for_state,
)

pytestmark = pytest.mark.charger(boot=None)  # each test boots CP1 itself

V2 = pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])


async def booted_station(
    hass: HomeAssistant, station: SimStation, variables: dict[Any, str] | None = None
) -> str:
    """Boot a two-EVSE station (its device model read); return its device id."""
    station.variables = {
        ("EVSE", 1, "AvailabilityState"): "Available",
        ("EVSE", 2, "AvailabilityState"): "Available",
        **(variables or {}),
    }
    await prepare_station(hass, station, status=None)
    return device_id(hass, "CS1")


async def booted_charger(
    hass: HomeAssistant, cp: SimCharger, **configuration: tuple[str, bool]
) -> str:
    """Boot a two-connector 1.6 charger (its configuration read); return its device id."""
    await prepare_charger(hass, cp, 2, configuration)
    return device_id(hass, "CP1")


@pytest.fixture
async def station(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str, call_timeout: float
) -> Any:
    async with connected_station(port, subprotocol=subprotocol) as station:
        yield station


async def connectors_of(hass: HomeAssistant, charger_id: str) -> dict[str, Any]:
    """A charger's connectors as the diagnostics show them."""
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    return (await diagnostics(hass, entry))["chargers"][charger_id]["connectors"]  # type: ignore[no-any-return]


def assert_not_in_version(err: pytest.ExceptionInfo[ServiceValidationError], name: str) -> None:
    assert err.value.translation_key in ("field_not_in_version", "action_not_in_version")
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["name"] == name
    assert err.value.translation_placeholders["version"] == "1.6"


# --- the whole station: EVSE 0 ----------------------------------------------------------


@V2
async def test_station_wide_limit_201(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    await service(
        hass, "set_charging_limit", {"device_id": device, "connector_id": 0, "limit_amps": 20}
    )
    request = await station.wait_for_call("SetChargingProfile")
    assert request["evseId"] == 0
    profile = request["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["id"] == 100
    station.answers["GetCompositeSchedule"] = {
        "status": "Accepted",
        "schedule": {
            "evseId": 0,
            "duration": 3600,
            "scheduleStart": "2026-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20}],
        },
    }
    result = await service(
        hass, "get_composite_schedule", {"device_id": device, "connector_id": 0, "duration": 3600}
    )
    assert station.calls("GetCompositeSchedule") == [{"evseId": 0, "duration": 3600}]
    assert result["connector_id"] == 0
    assert result["periods"] == [{"start": 0, "limit": 20.0}]
    await service(hass, "clear_charging_limit", {"device_id": device, "connector_id": 0})
    cleared = [c["chargingProfileId"] for c in station.calls("ClearChargingProfile")]
    assert sorted(cleared) == [100, 200, 300]


async def test_station_wide_limit_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    await service(
        hass, "set_charging_limit", {"device_id": device, "connector_id": 0, "limit_amps": 20}
    )
    request = await cp.wait_for_call("SetChargingProfile")
    assert request["connector_id"] == 0
    assert request["cs_charging_profiles"]["charging_profile_purpose"] == "TxDefaultProfile"
    await service(hass, "clear_charging_limit", {"device_id": device, "connector_id": 0})
    assert sorted(c["id"] for c in cp.calls("ClearChargingProfile")) == [100, 200, 300]


# --- the station maximum: an explicit user option ---------------------------------------


@V2
async def test_station_maximum_201(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, subprotocol: str
) -> None:
    async with connected_station(port, subprotocol=subprotocol) as station:
        device = await booted_station(hass, station)
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device, "station_maximum": True, "limit_amps": 25},
        )
        request = await station.wait_for_call("SetChargingProfile")
        assert request["evseId"] == 0
        assert request["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
        assert request["chargingProfile"]["id"] == 300
        assert "transactionId" not in request["chargingProfile"]
        # A connector's own limit is another profile; both stay.
        await service(hass, "set_charging_limit", {"device_id": device, "limit_amps": 10})
    await wait_for_state(hass, "binary_sensor", "CS1_connected", lambda s: s.state == STATE_OFF)
    async with connected_station(port, subprotocol=subprotocol) as station:
        await booted_station(hass, station)
        sent = [
            (c["evseId"], c["chargingProfile"]["chargingProfilePurpose"])
            for c in station.calls("SetChargingProfile")
        ]
        # The connector's limit is re-applied; the station maximum is not written again
        # (the station keeps it; writing it on every reconnect wears some chargers' flash).
        assert sent == [(1, "TxDefaultProfile")]


async def test_station_maximum_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    await service(
        hass, "set_charging_limit", {"device_id": device, "station_maximum": True, "limit_amps": 25}
    )
    request = await cp.wait_for_call("SetChargingProfile")
    assert request["connector_id"] == 0
    profile = request["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "ChargePointMaxProfile"
    assert profile["charging_profile_id"] == 300


@pytest.mark.parametrize("target", [{"connector_id": 1}, {"connector_id": 2}])
async def test_station_maximum_is_for_the_whole_charger(
    hass: HomeAssistant, cp: SimCharger, target: dict[str, int]
) -> None:
    device = await booted_charger(hass, cp)
    with pytest.raises(ServiceValidationError) as err:
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device, "station_maximum": True, "limit_amps": 25, **target},
        )
    assert err.value.translation_key == "station_maximum_needs_charger"
    assert not cp.calls("SetChargingProfile")


async def test_station_maximum_refused(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    cp.answers["SetChargingProfile"] = "Rejected"
    with pytest.raises(HomeAssistantError):
        await service(
            hass,
            "set_charging_limit",
            {"device_id": device, "station_maximum": True, "limit_amps": 25},
        )
    # Nothing of it is kept: the whole charger's own limit is untouched.
    connectors = await connectors_of(hass, "CP1")
    assert connectors["0"]["limit"] is None


# --- a limit for a while is valid for that while ----------------------------------------


@V2
async def test_duration_gives_valid_from_and_to_201(
    hass: HomeAssistant, station: SimStation
) -> None:
    device = await booted_station(hass, station)
    await service(
        hass,
        "set_charging_limit",
        {"device_id": device, "limit_amps": 8, "duration": {"minutes": 30}},
    )
    profile = (await station.wait_for_call("SetChargingProfile"))["chargingProfile"]
    start = profile["chargingSchedule"][0]["startSchedule"]
    assert profile["validFrom"] == start
    assert _seconds_between(profile["validFrom"], profile["validTo"]) == 1800


async def test_duration_gives_valid_from_and_to_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    await service(
        hass,
        "set_charging_limit",
        {"device_id": device, "limit_amps": 8, "duration": {"minutes": 30}},
    )
    profile = (await cp.wait_for_call("SetChargingProfile"))["cs_charging_profiles"]
    assert _seconds_between(profile["valid_from"], profile["valid_to"]) == 1800
    # Without a duration the profile is valid until replaced: no validity at all.
    await service(hass, "set_charging_limit", {"device_id": device, "limit_amps": 9})
    assert "valid_to" not in cp.calls("SetChargingProfile")[-1]["cs_charging_profiles"]


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


# --- GetCompositeSchedule in the station's rate unit ------------------------------------


@V2
@pytest.mark.parametrize(("units", "expected"), [("W", "W"), ("A,W", "A"), (None, None)])
async def test_composite_schedule_in_the_station_unit_201(
    hass: HomeAssistant, station: SimStation, units: str | None, expected: str | None
) -> None:
    variables = {("SmartChargingCtrlr", None, "RateUnit"): units} if units else {}
    device = await booted_station(hass, station, variables)
    with pytest.raises(HomeAssistantError):  # the simulator answers Rejected
        await service(hass, "get_composite_schedule", {"device_id": device, "duration": 600})
    request = station.calls("GetCompositeSchedule")[-1]
    assert request.get("chargingRateUnit") == expected


async def test_composite_schedule_in_the_charger_unit_16(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    device = await booted_charger(hass, cp, ChargingScheduleAllowedChargingRateUnit=("Power", True))
    with pytest.raises(HomeAssistantError):
        await service(hass, "get_composite_schedule", {"device_id": device, "duration": 600})
    assert cp.calls("GetCompositeSchedule")[-1]["charging_rate_unit"] == "W"


# --- ClearChargingProfile by criteria ---------------------------------------------------


@V2
async def test_clear_by_criteria_201(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    await service(hass, "set_charging_limit", {"device_id": device, "limit_amps": 10})
    await service(
        hass,
        "clear_charging_limit",
        {"device_id": device, "connector_id": 1, "purpose": "tx_default", "stack_level": 1},
    )
    assert station.calls("ClearChargingProfile")[-1] == {
        "chargingProfileCriteria": {
            "evseId": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "stackLevel": 1,
        }
    }
    # Our limit went with it: it is not re-applied, the number shows the maximum again.
    connectors = await connectors_of(hass, "CS1")
    assert connectors["1"]["limit"] is None
    # No connector named: every EVSE.
    await service(hass, "clear_charging_limit", {"device_id": device, "purpose": "station_maximum"})
    assert station.calls("ClearChargingProfile")[-1] == {
        "chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile"}
    }


async def test_clear_by_criteria_keeps_limits_it_did_not_match(
    hass: HomeAssistant, cp: SimCharger
) -> None:
    device = await booted_charger(hass, cp)
    await service(hass, "set_charging_limit", {"device_id": device, "limit_amps": 10})
    # Another stack level than ours, and a purpose ours is not: our limit stays.
    await service(hass, "clear_charging_limit", {"device_id": device, "stack_level": 5})
    await service(
        hass, "clear_charging_limit", {"device_id": device, "connector_id": 1, "purpose": "tx"}
    )
    assert cp.calls("ClearChargingProfile") == [
        {"stack_level": 5},
        {"connector_id": 1, "charging_profile_purpose": "TxProfile"},
    ]
    connectors = await connectors_of(hass, "CP1")
    assert connectors["1"]["limit"] is not None


# --- get_charging_profiles -------------------------------------------------------------

PROFILE = {
    "id": 7,
    "stackLevel": 2,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "chargingSchedule": [
        {
            "id": 1,
            "startSchedule": "2026-01-01T00:00:00Z",
            "duration": 86400,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16},
                {"startPeriod": 21600, "limit": 6, "numberPhases": 1},
            ],
        }
    ],
}
MAXIMUM = {
    "id": 300,
    "stackLevel": 1,
    "chargingProfilePurpose": "ChargingStationMaxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 300,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
        }
    ],
}


@V2
async def test_get_charging_profiles(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    station.profiles = [(1, "EMS", PROFILE), (0, "CSO", MAXIMUM)]
    result = await service(hass, "get_charging_profiles", {"device_id": device})
    request = station.calls("GetChargingProfiles")[-1]
    assert "evseId" not in request and request["chargingProfile"] == {}
    assert result == {
        "profiles": [
            {
                "connector_id": 1,
                "source": "ems",
                "id": 7,
                "stack_level": 2,
                "purpose": "tx_default",
                "kind": "recurring",
                "recurrency": "daily",
                "valid_from": None,
                "valid_to": None,
                "transaction_id": None,
                "schedules": [
                    {
                        "id": 1,
                        "start": "2026-01-01T00:00:00Z",
                        "duration": 86400,
                        "charging_rate_unit": "A",
                        "periods": [
                            {"start": 0, "limit": 16.0},
                            {"start": 21600, "limit": 6.0, "phases": 1},
                        ],
                    }
                ],
            },
            {
                "connector_id": 0,
                "source": "cso",
                "id": 300,
                "stack_level": 1,
                "purpose": "station_maximum",
                "kind": "absolute",
                "recurrency": None,
                "valid_from": None,
                "valid_to": None,
                "transaction_id": None,
                "schedules": [
                    {
                        "id": 300,
                        "start": None,
                        "duration": None,
                        "charging_rate_unit": "W",
                        "periods": [{"start": 0, "limit": 11000.0}],
                    }
                ],
            },
        ]
    }
    # Criteria go to the station; NoProfiles is an empty list.
    result = await service(
        hass,
        "get_charging_profiles",
        {"device_id": device, "connector_id": 2, "purpose": "tx", "stack_level": 0},
    )
    assert station.calls("GetChargingProfiles")[-1] == {
        "requestId": station.calls("GetChargingProfiles")[-1]["requestId"],
        "evseId": 2,
        "chargingProfile": {"chargingProfilePurpose": "TxProfile", "stackLevel": 0},
    }
    assert result == {"profiles": []}


async def test_get_charging_profiles_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    with pytest.raises(ServiceValidationError) as err:
        await service(hass, "get_charging_profiles", {"device_id": device})
    assert_not_in_version(err, "get_charging_profiles")


# --- a connector inside an EVSE; one EVSE ----------------------------------------------


@V2
async def test_availability_of_one_plug(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    await service(
        hass,
        "set_availability",
        {"device_id": device, "connector_id": 2, "evse_connector_id": 2, "available": False},
    )
    assert station.calls("ChangeAvailability")[-1] == {
        "operationalStatus": "Inoperative",
        "evse": {"id": 2, "connectorId": 2},
    }
    with pytest.raises(ServiceValidationError) as err:
        await service(
            hass,
            "set_availability",
            {"device_id": device, "evse_connector_id": 1, "available": True},
        )
    assert err.value.translation_key == "evse_connector_needs_connector"
    assert len(station.calls("ChangeAvailability")) == 1


@V2
async def test_reset_of_one_evse(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    await service(hass, "reset", {"device_id": device, "connector_id": 2, "type": "hard"})
    await service(hass, "reset", {"device_id": device})
    assert station.calls("Reset") == [{"type": "Immediate", "evseId": 2}, {"type": "OnIdle"}]


@V2
async def test_reserve_a_plug_type_for_a_group(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    await service(
        hass,
        "reserve_now",
        {
            "device_id": device,
            "connector_id": 2,
            "id_tag": "CARD",
            "expiry": "2026-06-01 18:00:00",
            "parent": "FAMILY",
            "connector_type": "cType2",
        },
    )
    request = station.calls("ReserveNow")[-1]
    assert request["evseId"] == 2
    assert request["connectorType"] == "cType2"
    assert request["groupIdToken"] == {"idToken": "FAMILY", "type": "Central"}


async def test_reserve_for_a_group_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    await service(
        hass,
        "reserve_now",
        {
            "device_id": device,
            "id_tag": "CARD",
            "expiry": "2026-06-01 18:00:00",
            "parent": "FAMILY",
        },
    )
    assert cp.calls("ReserveNow")[-1]["parent_id_tag"] == "FAMILY"


@pytest.mark.parametrize(
    ("action", "data", "name"),
    [
        (
            "set_availability",
            {"connector_id": 1, "evse_connector_id": 1, "available": False},
            "evse_connector_id",
        ),
        ("reset", {"connector_id": 1}, "connector_id"),
        (
            "reserve_now",
            {"id_tag": "CARD", "expiry": "2026-06-01 18:00:00", "connector_type": "cType2"},
            "connector_type",
        ),
        ("get_configuration", {"report_type": "summary_inventory"}, "report_type"),
        ("get_diagnostics", {"upload_url": "ftp://192.0.2.1/", "log_type": "security"}, "log_type"),
    ],
)
async def test_fields_of_2x_refused_for_16(
    hass: HomeAssistant, cp: SimCharger, action: str, data: dict[str, Any], name: str
) -> None:
    """A field that only means something in 2.x is a translated validation error for a 1.6
    charger, and nothing is sent."""
    device = await booted_charger(hass, cp)
    before = len(cp.received)
    with pytest.raises(ServiceValidationError) as err:
        await service(hass, action, {"device_id": device, **data})
    assert_not_in_version(err, name)
    assert len(cp.received) == before


# --- several variables at once; device model reports -----------------------------------


@V2
async def test_set_several_variables_in_one_message(
    hass: HomeAssistant, station: SimStation
) -> None:
    device = await booted_station(
        hass,
        station,
        {
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
            ("AlignedDataCtrlr", None, "Interval"): "900",
        },
    )
    result = await service(
        hass,
        "set_configuration",
        {
            "device_id": device,
            "configuration": {
                "SampledDataCtrlr/TxUpdatedInterval": "30",
                "AlignedDataCtrlr/Interval": 300,
            },
        },
    )
    (request,) = station.calls("SetVariables")
    assert [item["attributeValue"] for item in request["setVariableData"]] == ["30", "300"]
    assert result == {
        "status": "accepted",
        "results": {
            "SampledDataCtrlr/TxUpdatedInterval": "accepted",
            "AlignedDataCtrlr/Interval": "accepted",
        },
    }
    # A key the station does not know, and a malformed one: named in the error.
    with pytest.raises(HomeAssistantError) as err:
        await service(
            hass,
            "set_configuration",
            {
                "device_id": device,
                "key": "AlignedDataCtrlr/Interval",
                "value": "600",
                "configuration": {"Nope/Missing": "1", "bad": "2"},
            },
        )
    assert err.value.translation_key == "configuration_refused"
    assert err.value.translation_placeholders is not None
    assert (
        err.value.translation_placeholders["keys"]
        == "Nope/Missing (not_supported), bad (not_supported)"
    )
    assert station.variables[("AlignedDataCtrlr", None, "Interval")] == "600"


@V2
async def test_set_variables_in_chunks_the_station_takes(
    hass: HomeAssistant, station: SimStation
) -> None:
    device = await booted_station(
        hass,
        station,
        {
            ("DeviceDataCtrlr", None, "ItemsPerMessage/SetVariables"): "1",
            ("SampledDataCtrlr", None, "TxUpdatedInterval"): "60",
            ("AlignedDataCtrlr", None, "Interval"): "900",
        },
    )
    await service(
        hass,
        "set_configuration",
        {
            "device_id": device,
            "configuration": {
                "SampledDataCtrlr/TxUpdatedInterval": "30",
                "AlignedDataCtrlr/Interval": "300",
            },
        },
    )
    assert [len(c["setVariableData"]) for c in station.calls("SetVariables")] == [1, 1]


async def test_set_several_keys_16(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(
        hass, cp, MeterValueSampleInterval=("60", False), ClockAlignedDataInterval=("900", False)
    )
    result = await service(
        hass,
        "set_configuration",
        {
            "device_id": device,
            "configuration": {"MeterValueSampleInterval": "30", "ClockAlignedDataInterval": "300"},
        },
    )
    assert cp.calls("ChangeConfiguration") == [
        {"key": "MeterValueSampleInterval", "value": "30"},
        {"key": "ClockAlignedDataInterval", "value": "300"},
    ]
    assert result["status"] == "accepted"


async def test_set_configuration_needs_a_key(hass: HomeAssistant, cp: SimCharger) -> None:
    device = await booted_charger(hass, cp)
    data: dict[str, Any]
    for data in ({}, {"key": "A"}, {"value": "1"}, {"configuration": {}}):
        with pytest.raises(vol.Invalid):
            await service(hass, "set_configuration", {"device_id": device, **data})
    assert not cp.calls("ChangeConfiguration")


@V2
@pytest.mark.parametrize(
    ("report_type", "base"),
    [
        ("configuration_inventory", "ConfigurationInventory"),
        ("summary_inventory", "SummaryInventory"),
        ("full_inventory", "FullInventory"),
    ],
)
async def test_get_configuration_report_type(
    hass: HomeAssistant, station: SimStation, report_type: str, base: str
) -> None:
    device = await booted_station(
        hass, station, {("SampledDataCtrlr", None, "TxUpdatedInterval"): "60"}
    )
    result = await service(
        hass, "get_configuration", {"device_id": device, "report_type": report_type}
    )
    assert station.calls("GetBaseReport")[-1]["reportBase"] == base
    assert {
        "key": "SampledDataCtrlr/TxUpdatedInterval",
        "value": "60",
        "readonly": False,
    } in result["keys"]


@V2
async def test_get_configuration_report_refused(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    station.answers["GetBaseReport"] = {"status": "NotSupported"}
    with pytest.raises(HomeAssistantError) as err:
        await service(
            hass, "get_configuration", {"device_id": device, "report_type": "summary_inventory"}
        )
    assert not isinstance(err.value, ServiceValidationError)
    with pytest.raises(vol.Invalid):  # keys and a report type do not go together
        await service(
            hass,
            "get_configuration",
            {"device_id": device, "keys": ["A/B"], "report_type": "full_inventory"},
        )


# --- GetLog with the log type ---------------------------------------------------------


@V2
async def test_security_log(hass: HomeAssistant, station: SimStation) -> None:
    device = await booted_station(hass, station)
    result = await service(
        hass,
        "get_diagnostics",
        {"device_id": device, "upload_url": "ftp://192.0.2.1/logs", "log_type": "security"},
    )
    assert station.calls("GetLog")[-1]["logType"] == "SecurityLog"
    assert result == {"file_name": "diagnostics.log"}
    await service(
        hass, "get_diagnostics", {"device_id": device, "upload_url": "ftp://192.0.2.1/logs"}
    )
    assert station.calls("GetLog")[-1]["logType"] == "DiagnosticsLog"


# --- bad input around charging profile reports -----------------------------------------


@V2
async def test_reports_nobody_asked_for_are_acknowledged(
    hass: HomeAssistant, station: SimStation
) -> None:
    await booted_station(hass, station)
    report = {
        "requestId": 999,
        "chargingLimitSource": "EMS",
        "evseId": 1,
        "chargingProfile": [PROFILE],
    }
    assert await station.send("ReportChargingProfiles", report) is not None
    broken = await station.raw_call("ReportChargingProfiles", {"requestId": 1, "evseId": 1})
    assert broken.error_code in (
        "OccurrenceConstraintViolation",
        "FormatViolation",
        "ProtocolError",
    )
    assert "currentTime" in await station.send("Heartbeat", {})


@V2
async def test_garbled_report_from_a_lenient_station_is_a_clear_error(
    hass: HomeAssistant, entry: MockConfigEntry, station: SimStation
) -> None:
    device = await booted_station(hass, station)
    sub = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(entry, sub, data={**sub.data, "lenient": True})
    await hass.async_block_till_done()
    station.answers["GetChargingProfiles"] = {"status": "Accepted"}
    task = hass.async_create_task(service(hass, "get_charging_profiles", {"device_id": device}))
    request = await station.wait_for_call("GetChargingProfiles")
    answer = await station.raw_call(
        "ReportChargingProfiles",
        {
            "requestId": request["requestId"],
            "chargingLimitSource": "EMS",
            "evseId": 1,
            "chargingProfile": [{"id": 1, "chargingSchedule": [{"chargingSchedulePeriod": [{}]}]}],
        },
    )
    assert answer.payload == {}  # taken leniently
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "charger_call_error"


@V2
@pytest.mark.charger(call_timeout=0.3)
async def test_report_that_never_ends_times_out(
    hass: HomeAssistant, entry: MockConfigEntry, station: SimStation
) -> None:
    device = await booted_station(hass, station)
    station.answers["GetChargingProfiles"] = {"status": "Accepted"}
    task = hass.async_create_task(service(hass, "get_charging_profiles", {"device_id": device}))
    request = await station.wait_for_call("GetChargingProfiles")
    await station.send(
        "ReportChargingProfiles",
        {
            "requestId": request["requestId"],
            "chargingLimitSource": "EMS",
            "evseId": 1,
            "tbc": True,
            "chargingProfile": [PROFILE],
        },
    )
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "charger_timeout"


@V2
@pytest.mark.parametrize(
    "data",
    [{"connector_id": 9}, {"stack_level": -1}, {"stack_level": 10**9}, {"purpose": "any"}],
)
async def test_get_charging_profiles_bad_input(
    hass: HomeAssistant, station: SimStation, data: dict[str, Any]
) -> None:
    device = await booted_station(hass, station)
    with pytest.raises((ServiceValidationError, vol.Invalid)):
        await service(hass, "get_charging_profiles", {"device_id": device, **data})
    assert not station.calls("GetChargingProfiles")


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("set_availability", {"connector_id": 1, "evse_connector_id": 0, "available": True}),
        ("reset", {"connector_id": 0}),
        ("reserve_now", {"id_tag": "C", "expiry": "2026-06-01 18:00", "connector_type": "plug"}),
        ("reserve_now", {"id_tag": "C", "expiry": "2026-06-01 18:00", "parent": "P" * 21}),
        ("get_configuration", {"report_type": "everything"}),
        ("get_diagnostics", {"upload_url": "ftp://192.0.2.1/", "log_type": "kernel"}),
        ("set_configuration", {"configuration": {"K": "v" * 501}}),
        ("set_configuration", {"configuration": {"": "1"}}),
        ("set_configuration", {"configuration": ["K", "v"]}),
        ("set_configuration", {"configuration": {f"K{i}": "1" for i in range(101)}}),
        ("clear_charging_limit", {"purpose": "all"}),
        ("clear_charging_limit", {"stack_level": "high"}),
        ("set_charging_limit", {"limit_amps": 6, "station_maximum": "maybe"}),
        ("set_charging_limit", {"limit_amps": 6, "connector_id": -1}),
    ],
)
async def test_new_fields_bad_input(
    hass: HomeAssistant, cp: SimCharger, action: str, data: dict[str, Any]
) -> None:
    device = await booted_charger(hass, cp)
    before = len(cp.received)
    with pytest.raises(vol.Invalid):
        await service(hass, action, {"device_id": device, **data})
    assert len(cp.received) == before
