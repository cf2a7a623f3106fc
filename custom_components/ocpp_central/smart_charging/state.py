"""What smart charging keeps per connector: the homeowner's mode, what it sent, what it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.smart import ChargingMode

# The modes the select offers (planned charging comes with its own settings).
SELECTABLE_MODES = (
    ChargingMode.MANUAL,
    ChargingMode.FAST,
    ChargingMode.SOLAR,
    ChargingMode.MIN_SOLAR,
)

# (platform, key) of the entities each connector has while smart charging is set up.
SMART_ENTITIES = (
    ("select", "charging_mode"),
    ("sensor", "limit_source"),
    ("sensor", "allocated_current"),
)


@dataclass(slots=True)
class SmartConnector:
    """One connector's smart charging state; `mode` and `sent_for` are persisted."""

    mode: ChargingMode = ChargingMode.MANUAL
    # The session smart charging sent a profile for. Set before the first one goes out and
    # kept until the charger confirmed it is gone, so that a restart can still clean it up.
    sent_for: int | str | None = None
    # What the homeowner sees (not persisted: worked out again after a restart).
    allocated: float | None = None
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialize what must survive a restart."""
        return {"mode": self.mode.value, "sent_for": self.sent_for}

    @classmethod
    def from_dict(cls, data: Any) -> SmartConnector:
        """Restore from storage; anything unexpected is the default."""
        if not isinstance(data, dict):
            return cls()
        mode = next((m for m in SELECTABLE_MODES if m.value == data.get("mode")), None)
        sent_for = data.get("sent_for")
        return cls(
            mode=mode or ChargingMode.MANUAL,
            sent_for=sent_for if isinstance(sent_for, (int, str)) else None,
        )
