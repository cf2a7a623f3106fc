"""What smart charging keeps per connector: the homeowner's mode and plan settings, what it
sent, what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from ..plan_store import plan_from_dict, plan_to_dict
from ..planner import STATUS_IDLE, Plan
from ..prices.values import read_number
from .model import ChargingMode

# The modes the select offers.
SELECTABLE_MODES = (
    ChargingMode.MANUAL,
    ChargingMode.FAST,
    ChargingMode.SOLAR,
    ChargingMode.MIN_SOLAR,
    ChargingMode.PLANNED,
)

# (platform, key) of the entities each connector has while smart charging is set up.
SMART_ENTITIES = (
    ("select", "charging_mode"),
    ("sensor", "limit_source"),
    ("sensor", "allocated_current"),
    ("number", "target_energy"),
    ("number", "target_soc"),
    ("time", "departure"),
    ("sensor", "plan_status"),
    ("sensor", "planned_start"),
    ("calendar", "charging_plan"),
)

# Planned mode's settings: their bounds (the number entities use them too) and defaults.
TARGET_ENERGY_MIN, TARGET_ENERGY_MAX = 1.0, 150.0  # kWh
TARGET_SOC_MIN, TARGET_SOC_MAX = 10.0, 100.0  # %
DEFAULT_DEPARTURE = time(7, 0)
TARGET_ENERGY = "energy"
TARGET_SOC = "soc"


def _bounded(value: object, low: float, high: float) -> float | None:
    number = read_number(value)
    return number if number is not None and low <= number <= high else None


def _time(value: object) -> time | None:
    if not isinstance(value, str):
        return None
    try:
        return time.fromisoformat(value).replace(tzinfo=None, microsecond=0)
    except ValueError:
        return None


@dataclass(slots=True)
class SmartConnector:
    """One connector's smart charging state; the settings, `sent_for` and the plan persist."""

    mode: ChargingMode = ChargingMode.MANUAL
    # The session smart charging sent a profile for ("default": the plan's TxDefaultProfile,
    # before a session). Set before a profile goes out and kept until the charger confirmed
    # it is gone, so that a restart can still clean it up.
    sent_for: int | str | None = None
    # Planned mode: kWh to add or % to reach (whichever was set last), by the daily departure.
    target_energy: float | None = None
    target_soc: float | None = None
    target_kind: str = TARGET_ENERGY
    departure: time = DEFAULT_DEPARTURE
    plan: Plan | None = None
    # The session's energy (kWh) when the plan was made: what it delivered since is compared
    # with what the plan expected.
    plan_base_kwh: float = 0.0
    # What the homeowner sees (not persisted: worked out again after a restart).
    allocated: float | None = None
    source: str | None = None
    plan_status: str = STATUS_IDLE
    planned_start: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialize what must survive a restart."""
        return {
            "mode": self.mode.value,
            "sent_for": self.sent_for,
            "target_energy": self.target_energy,
            "target_soc": self.target_soc,
            "target_kind": self.target_kind,
            "departure": self.departure.isoformat(),
            "plan": plan_to_dict(self.plan) if self.plan is not None else None,
            "plan_base_kwh": self.plan_base_kwh,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SmartConnector:
        """Restore from storage; anything unexpected is the default."""
        if not isinstance(data, dict):
            return cls()
        mode = next((m for m in SELECTABLE_MODES if m.value == data.get("mode")), None)
        sent_for = data.get("sent_for")
        kind = data.get("target_kind")
        return cls(
            mode=mode or ChargingMode.MANUAL,
            sent_for=sent_for if isinstance(sent_for, (int, str)) else None,
            target_energy=_bounded(data.get("target_energy"), TARGET_ENERGY_MIN, TARGET_ENERGY_MAX),
            target_soc=_bounded(data.get("target_soc"), TARGET_SOC_MIN, TARGET_SOC_MAX),
            target_kind=kind if kind in (TARGET_ENERGY, TARGET_SOC) else TARGET_ENERGY,
            departure=_time(data.get("departure")) or DEFAULT_DEPARTURE,
            plan=plan_from_dict(data.get("plan")),
            plan_base_kwh=_bounded(data.get("plan_base_kwh"), 0.0, 1_000_000.0) or 0.0,
        )
