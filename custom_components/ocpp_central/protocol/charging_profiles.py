"""Charging profiles as plain data: the purposes users name, and profiles a charger reports."""

from __future__ import annotations

from typing import Any

from ..core.status import snake
from . import composite_periods

# The profile purposes an action may name, and their OCPP names (2.x; 1.6 calls the
# station maximum ChargePointMaxProfile).
PURPOSES = {
    "station_maximum": "ChargingStationMaxProfile",
    "tx_default": "TxDefaultProfile",
    "tx": "TxProfile",
}
PURPOSE_16 = {**PURPOSES, "station_maximum": "ChargePointMaxProfile"}
# Plug types a 2.x reservation may name (ConnectorEnumType of 2.0.1).
CONNECTOR_TYPES = [
    "cCCS1",
    "cCCS2",
    "cG105",
    "cTesla",
    "cType1",
    "cType2",
    "s309-1P-16A",
    "s309-1P-32A",
    "s309-3P-16A",
    "s309-3P-32A",
    "sBS1361",
    "sCEE-7-7",
    "sType2",
    "sType3",
    "Other1PhMax16A",
    "Other1PhOver16A",
    "Other3Ph",
    "Pan",
    "wInductive",
    "wResonant",
    "Undetermined",
    "Unknown",
]
# Purposes a charger may report, as the snake_case names responses use.
_REPORTED_PURPOSES = {
    **{ocpp: name for name, ocpp in PURPOSES.items()},
    "ChargingStationExternalConstraints": "external_constraints",
}


def reported_profiles(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The profiles of one ReportChargingProfiles message (2.x), as response data."""
    source = report.get("chargingLimitSource", "Other")
    return [
        {
            "connector_id": report.get("evseId"),
            "source": snake(source),
            "id": profile.get("id"),
            "stack_level": profile.get("stackLevel"),
            "purpose": _REPORTED_PURPOSES.get(
                profile.get("chargingProfilePurpose", ""),
                snake(profile.get("chargingProfilePurpose", "")),
            ),
            "kind": snake(profile.get("chargingProfileKind", "")),
            "recurrency": (
                snake(profile["recurrencyKind"]) if profile.get("recurrencyKind") else None
            ),
            "valid_from": profile.get("validFrom"),
            "valid_to": profile.get("validTo"),
            "transaction_id": profile.get("transactionId"),
            "schedules": [
                {
                    "id": schedule.get("id"),
                    "start": schedule.get("startSchedule"),
                    "duration": schedule.get("duration"),
                    "charging_rate_unit": schedule.get("chargingRateUnit"),
                    "periods": composite_periods(schedule.get("chargingSchedulePeriod") or []),
                }
                for schedule in profile.get("chargingSchedule") or ()
            ],
        }
        for profile in report.get("chargingProfile") or ()
    ]
