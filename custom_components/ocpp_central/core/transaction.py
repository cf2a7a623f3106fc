"""One charging session as the model keeps it (and stores it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import parse_datetime, utcnow


def stored_time(value: str | None) -> datetime | None:
    """A time as stored (ISO 8601), or None."""
    return parse_datetime(value) if value else None


def iso_or_none(value: datetime | None) -> str | None:
    """A time as it is stored, or None."""
    return value.isoformat() if value else None


@dataclass(slots=True)
class Transaction:
    """One charging session. Energies are in Wh, as meters report them."""

    transaction_id: int | str
    connector_id: int
    id_tag: str | None
    start: datetime
    meter_start_wh: float | None = None
    meter_last_wh: float | None = None
    stop: datetime | None = None
    reason: str | None = None

    @property
    def energy_kwh(self) -> float | None:
        """Energy delivered in this session."""
        if self.meter_start_wh is None:
            return None
        if self.meter_last_wh is None:
            return 0.0
        return round(max(self.meter_last_wh - self.meter_start_wh, 0.0) / 1000, 3)

    def duration_s(self, now: datetime) -> int:
        """Seconds from start to stop (or to now while it runs)."""
        end = self.stop or now
        return max(int((end - self.start).total_seconds()), 0)

    def add_meter_reading(self, wh: float) -> None:
        """Record a meter reading belonging to this session (queued ones may be old)."""
        if self.meter_last_wh is None or wh > self.meter_last_wh:
            self.meter_last_wh = wh

    def as_dict(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "transaction_id": self.transaction_id,
            "connector_id": self.connector_id,
            "id_tag": self.id_tag,
            "start": iso_or_none(self.start),
            "meter_start_wh": self.meter_start_wh,
            "meter_last_wh": self.meter_last_wh,
            "stop": iso_or_none(self.stop),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transaction:
        """Restore from storage."""
        return cls(
            transaction_id=data["transaction_id"],
            connector_id=data["connector_id"],
            id_tag=data.get("id_tag"),
            start=stored_time(data["start"]) or utcnow(),
            meter_start_wh=data.get("meter_start_wh"),
            meter_last_wh=data.get("meter_last_wh"),
            stop=stored_time(data.get("stop")),
            reason=data.get("reason"),
        )
