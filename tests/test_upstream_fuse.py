"""The backend's charging profiles never replace Home Assistant's fuse protection: the rules
as a table (pure functions), and a backend's profiles at a real charger (shared mode)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ocpp_central.upstream_charger import (
    Fuse,
    guard_command,
    guard_profile,
    is_smart_profile_id,
    narrow_clear,
)

from .charger import connected_charger
from .helpers import bound_port, prepare_charger
from .upstream_backend import answer_of, running_backend
from .upstream_helpers import upstream_entry, wait_upstream

FUSE16 = Fuse("1.6", 2, lambda profile_id: profile_id == 301)
FUSE201 = Fuse("2.0.1", 2, lambda profile_id: profile_id == 301)
FLAT = Fuse("1.6", 0, lambda profile_id: False)  # a charger with stack level 0 only


def _profile(purpose: str, level: int, profile_id: int = 9, **extra: Any) -> dict[str, Any]:
    return {
        "chargingProfileId": profile_id,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        **extra,
    }


@pytest.mark.parametrize(
    ("fuse", "profile", "expected"),
    [
        # Below smart charging's level: as it is.
        (FUSE16, _profile("TxProfile", 1), _profile("TxProfile", 1)),
        (FUSE16, _profile("TxProfile", 0), _profile("TxProfile", 0)),
        # At or above it: one below (it could otherwise replace ours).
        (FUSE16, _profile("TxProfile", 2), _profile("TxProfile", 1)),
        (FUSE16, _profile("TxProfile", 99), _profile("TxProfile", 1)),
        (FLAT, _profile("TxProfile", 0), None),  # nothing below level 0
        # Smart charging's own id: refused.
        (FUSE16, _profile("TxProfile", 0, 301), None),
        (FUSE16, _profile("TxDefaultProfile", 0, 301), None),
        # A TxProfile overrules these; the station maximum only lowers.
        (FUSE16, _profile("TxDefaultProfile", 9), _profile("TxDefaultProfile", 9)),
        (FUSE16, _profile("ChargePointMaxProfile", 9), _profile("ChargePointMaxProfile", 9)),
        (FUSE16, _profile("ChargingStationMaxProfile", 9), None),  # not 1.6's name
        (FLAT, _profile("TxDefaultProfile", 0), _profile("TxDefaultProfile", 0)),
        # Anything else: refused.
        (
            FUSE201,
            {
                "id": 9,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationExternalConstraints",
            },
            None,
        ),
        (FUSE201, {"id": 9, "stackLevel": 0, "chargingProfilePurpose": "PriorityCharging"}, None),
        (FUSE201, {"id": 301, "stackLevel": 0, "chargingProfilePurpose": "TxProfile"}, None),
        (
            FUSE201,
            {"id": 9, "stackLevel": 5, "chargingProfilePurpose": "TxProfile"},
            {"id": 9, "stackLevel": 1, "chargingProfilePurpose": "TxProfile"},
        ),
        (
            FUSE201,
            {"id": 9, "stackLevel": 5, "chargingProfilePurpose": "ChargingStationMaxProfile"},
            {"id": 9, "stackLevel": 5, "chargingProfilePurpose": "ChargingStationMaxProfile"},
        ),
        (FUSE16, "not a profile", None),
        (FUSE16, {"stackLevel": 5}, None),
    ],
)
def test_guard_profile(fuse: Fuse, profile: Any, expected: Any) -> None:
    assert guard_profile(fuse, profile) == expected


@pytest.mark.parametrize(
    ("profile_id", "smart"),
    [
        (300, False),  # Home Assistant's own station maximum
        (301, True),  # smart charging's TxProfile on connector 1
        (332, True),  # ... on the last connector a charger may have
        (333, False),
        (201, False),  # the user's TxProfile on connector 1
        (101, False),  # the user's TxDefaultProfile on connector 1
    ],
)
def test_smart_profile_ids(profile_id: int, smart: bool) -> None:
    assert is_smart_profile_id(profile_id) is smart


@pytest.mark.parametrize(
    ("fuse", "action", "payload", "expected"),
    [
        (
            FUSE16,
            "RemoteStartTransaction",
            {"idTag": "A", "chargingProfile": _profile("TxProfile", 7)},
            {"idTag": "A", "chargingProfile": _profile("TxProfile", 1)},
        ),
        (FUSE16, "RemoteStartTransaction", {"idTag": "A"}, {"idTag": "A"}),
        (
            FLAT,
            "RemoteStartTransaction",
            {"idTag": "A", "chargingProfile": _profile("TxProfile", 0)},
            None,
        ),
        (
            FUSE16,
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": _profile("TxProfile", 3)},
            {"connectorId": 1, "csChargingProfiles": _profile("TxProfile", 1)},
        ),
        (
            FUSE201,
            "RequestStartTransaction",
            {
                "remoteStartId": 1,
                "chargingProfile": {
                    "id": 9,
                    "stackLevel": 2,
                    "chargingProfilePurpose": "TxProfile",
                },
            },
            {
                "remoteStartId": 1,
                "chargingProfile": {
                    "id": 9,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                },
            },
        ),
    ],
)
def test_guard_command(fuse: Fuse, action: str, payload: Any, expected: Any) -> None:
    assert guard_command(fuse, action, payload) == expected


TX_BELOW_16 = [
    {"chargingProfilePurpose": "TxProfile", "stackLevel": 0},
    {"chargingProfilePurpose": "TxProfile", "stackLevel": 1},
]


@pytest.mark.parametrize(
    ("fuse", "payload", "expected"),
    [
        # Everything: every purpose, and TxProfiles below ours.
        (
            FUSE16,
            {},
            [
                {"chargingProfilePurpose": "TxDefaultProfile"},
                {"chargingProfilePurpose": "ChargePointMaxProfile"},
                *TX_BELOW_16,
            ],
        ),
        (
            FUSE16,
            {"connectorId": 1},
            [
                {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
                {"connectorId": 1, "chargingProfilePurpose": "ChargePointMaxProfile"},
                *({"connectorId": 1, **part} for part in TX_BELOW_16),
            ],
        ),
        (FUSE16, {"chargingProfilePurpose": "TxProfile"}, TX_BELOW_16),
        (FUSE16, {"chargingProfilePurpose": "TxProfile", "stackLevel": 2}, []),
        (
            FUSE16,
            {"stackLevel": 2},
            [
                {"stackLevel": 2, "chargingProfilePurpose": "TxDefaultProfile"},
                {"stackLevel": 2, "chargingProfilePurpose": "ChargePointMaxProfile"},
            ],
        ),
        # What cannot match ours goes as it is.
        (
            FUSE16,
            {"chargingProfilePurpose": "TxProfile", "stackLevel": 1},
            [{"chargingProfilePurpose": "TxProfile", "stackLevel": 1}],
        ),
        (
            FUSE16,
            {"chargingProfilePurpose": "TxDefaultProfile"},
            [{"chargingProfilePurpose": "TxDefaultProfile"}],
        ),
        (FUSE16, {"id": 9}, [{"id": 9}]),
        (FUSE16, {"id": 301}, []),
        (FLAT, {"chargingProfilePurpose": "TxProfile"}, []),
        (
            FUSE201,
            {"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxProfile"}},
            [
                {
                    "chargingProfileCriteria": {
                        "evseId": 1,
                        "chargingProfilePurpose": "TxProfile",
                        "stackLevel": 0,
                    }
                },
                {
                    "chargingProfileCriteria": {
                        "evseId": 1,
                        "chargingProfilePurpose": "TxProfile",
                        "stackLevel": 1,
                    }
                },
            ],
        ),
        (FUSE201, {"chargingProfileId": 301}, []),
        (FUSE201, {"chargingProfileId": 5}, [{"chargingProfileId": 5}]),
    ],
)
def test_narrow_clear(fuse: Fuse, payload: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    assert narrow_clear(fuse, payload) == expected


@pytest.mark.usefixtures("fast_upstream")
async def test_backend_profiles_at_a_charger(hass: HomeAssistant) -> None:
    """Shared mode, a charger allowing stack levels up to 5 (Home Assistant's limits use 1,
    smart charging 2): the backend's TxProfile at 5 arrives at 1, its TxDefaultProfile as
    sent, and its ClearChargingProfile of everything leaves smart charging's level alone."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp, ChargeProfileMaxStackLevel=("5", True))
            await wait_upstream(hass)
            schedule = {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
            }
            for purpose in ("TxProfile", "TxDefaultProfile"):
                profile = {**_profile(purpose, 5), "chargingSchedule": schedule}
                answer = await backend.point.raw_call(
                    "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
                )
                assert answer_of(answer) == {"status": "Accepted"}
            tx_profile, default_profile = cp.calls("SetChargingProfile")
            assert tx_profile["cs_charging_profiles"]["stack_level"] == 1
            assert default_profile["cs_charging_profiles"]["stack_level"] == 5

            answer = await backend.point.raw_call("ClearChargingProfile", {})
            assert answer_of(answer) == {"status": "Accepted"}
            assert cp.calls("ClearChargingProfile") == [
                {"charging_profile_purpose": "TxDefaultProfile"},
                {"charging_profile_purpose": "ChargePointMaxProfile"},
                {"charging_profile_purpose": "TxProfile", "stack_level": 0},
                {"charging_profile_purpose": "TxProfile", "stack_level": 1},
            ]


@pytest.mark.usefixtures("fast_upstream")
async def test_backend_profiles_on_a_charger_with_one_stack_level_above_zero(
    hass: HomeAssistant,
) -> None:
    """A charger allowing stack levels 0 and 1 only: smart charging shares level 1 with Home
    Assistant's own limits, so the backend's TxProfile at 1 arrives at 0, its profile with
    smart charging's id is refused, and clearing smart charging's id clears nothing."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp, ChargeProfileMaxStackLevel=("1", True))
            await wait_upstream(hass)
            schedule = {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
            }
            profile = {**_profile("TxProfile", 1), "chargingSchedule": schedule}
            answer = await backend.point.raw_call(
                "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
            )
            assert answer_of(answer) == {"status": "Accepted"}
            [passed] = cp.calls("SetChargingProfile")
            assert passed["cs_charging_profiles"]["stack_level"] == 0

            smart_id = {**_profile("TxDefaultProfile", 0, 301), "chargingSchedule": schedule}
            answer = await backend.point.raw_call(
                "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": smart_id}
            )
            assert answer_of(answer) == {"status": "Rejected"}
            answer = await backend.point.raw_call("ClearChargingProfile", {"id": 301})
            assert answer_of(answer) == {"status": "Unknown"}
            assert len(cp.calls("SetChargingProfile")) == 1
            assert cp.calls("ClearChargingProfile") == []
