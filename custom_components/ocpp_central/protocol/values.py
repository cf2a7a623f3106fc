"""What OCPP messages carry, read into plain values: samples and times; the errors a request
can meet before it goes out. The same in every version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..core import bounds
from ..core.clock import UTC, parse_datetime, utcnow
from ..core.measurands import merge, normalize
from ..wire.connection import CallErrorReceived, Payload

# Reads one sampled value (its number and multiplier): bounded, or None when not shown.
type ReadSample = Callable[[Any, Any], float | None]
# What one sampledValue says in its version's shape: (value, multiplier, unit), or None for
# one that is not a number at all (signed data).
type SampleFields = Callable[[Payload], tuple[Any, Any, Any] | None]


def samples(
    meter_values: Any, read: ReadSample, fields: SampleFields
) -> list[tuple[datetime, dict[str, float]]]:
    """MeterValue list to (timestamp, {key: value}) samples; `read` bounds each number."""
    result = []
    for meter_value in meter_values or ():
        readings = []
        for sampled in meter_value.get("sampledValue") or ():
            if (found := fields(sampled)) is None:
                continue
            value, multiplier, unit = found
            if (number := read(value, multiplier)) is None:
                continue
            reading = normalize(
                sampled.get("measurand"),
                number,
                unit=unit,
                phase=sampled.get("phase"),
                location=sampled.get("location"),
            )
            if reading is not None:
                readings.append(reading)
        result.append((parse_time(meter_value.get("timestamp")), merge(readings)))
    return result


def parse_time(value: Any) -> datetime:
    """Parse an OCPP timestamp; a missing or broken one means now, and so does one far ahead
    of Home Assistant's clock (bounds.FUTURE_TOLERANCE): a charger's clock that jumped years
    ahead must not make that time the newest, or every later reading would look old."""
    now = utcnow()
    if isinstance(value, str) and (parsed := parse_datetime(value)) is not None:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return bounds.not_ahead(parsed, now)
    return now


def now_iso() -> str:
    """Current time as OCPP wants it."""
    return utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")


class NotInVersion(Exception):
    """A request uses a field (or an action) the charger's OCPP version does not have.

    Raised before anything is sent; the user gets a validation error naming it.
    """

    def __init__(self, name: str, *, action: bool = False) -> None:
        """Name the field (or action)."""
        super().__init__(name)
        self.name = name
        self.action = action


def composite_periods(periods: list[Payload]) -> list[Payload]:
    """chargingSchedulePeriod entries as plain data (same shape in 1.6 and 2.x); a limit
    out of range fails the command like any other broken answer."""
    try:
        limits = [bounds.limit(period["limit"]) for period in periods]
    except bounds.OutOfBounds as err:
        raise CallErrorReceived("PropertyConstraintViolation", str(err)) from err
    return [
        {
            "start": period["startPeriod"],
            "limit": limit,
            **({"phases": period["numberPhases"]} if "numberPhases" in period else {}),
        }
        for period, limit in zip(periods, limits, strict=True)
    ]
