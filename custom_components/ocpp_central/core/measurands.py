"""Turn OCPP sampled values (any version) into entity keys and Home Assistant units."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ENERGY = "energy"

# measurand -> (entity key, has phase variants)
_MEASURANDS: dict[str, tuple[str, bool]] = {
    "Energy.Active.Import.Register": (ENERGY, False),
    "Power.Active.Import": ("power", False),
    "Current.Import": ("current", True),
    "Voltage": ("voltage", True),
    "Current.Offered": ("current_offered", False),
    "SoC": ("soc", False),
    "Temperature": ("temperature", False),
}

# Default unit per measurand when the charger sends none (OCPP 1.6 section 7.31).
_DEFAULT_UNITS = {
    "Energy.Active.Import.Register": "Wh",
    "Power.Active.Import": "W",
    "Current.Import": "A",
    "Voltage": "V",
    "Current.Offered": "A",
    "SoC": "Percent",
    "Temperature": "Celsius",
}

# unit -> (factor to the HA unit, offset), per HA unit the entity uses.
_UNIT_FACTORS: dict[str, tuple[float, float]] = {
    "Wh": (0.001, 0.0),  # energy is shown in kWh
    "kWh": (1.0, 0.0),
    "W": (1.0, 0.0),
    "kW": (1000.0, 0.0),
    "A": (1.0, 0.0),
    "V": (1.0, 0.0),
    "Percent": (1.0, 0.0),
    "Celsius": (1.0, 0.0),
    "Fahrenheit": (5 / 9, -32 * 5 / 9),
    "K": (1.0, -273.15),
}

_PHASES = {
    "L1": "l1",
    "L2": "l2",
    "L3": "l3",
    "L1-N": "l1",
    "L2-N": "l2",
    "L3-N": "l3",
}

# Lower is preferred when one sample carries a measurand for several locations.
_LOCATION_RANK = {None: 0, "Outlet": 0, "Inlet": 1, "EV": 2, "Cable": 3, "Body": 4}


@dataclass(slots=True, frozen=True)
class Reading:
    """One sampled value, normalized."""

    key: str
    value: float
    location: str | None
    phase: str | None


def normalize(
    measurand: str | None,
    value: float,
    *,
    unit: str | None = None,
    phase: str | None = None,
    location: str | None = None,
) -> Reading | None:
    """Return the reading for a sampled value, or None for what we do not show.

    `value` is the charger's number, already bounded and scaled (bounds.reading).
    """
    measurand = measurand or "Energy.Active.Import.Register"
    if (spec := _MEASURANDS.get(measurand)) is None:
        return None
    key, phased = spec
    factor, offset = _UNIT_FACTORS.get(unit or _DEFAULT_UNITS[measurand], (1.0, 0.0))
    number = value * factor + offset
    if phase == "N" and phased:
        return None  # current/voltage on the neutral conductor: no total, no phase
    if phase is not None and phase != "N":
        if not phased:
            # Per-phase power/energy is summed by the caller when no total is given.
            if key != "power":
                return None
        elif (suffix := _PHASES.get(phase)) is None:
            return None  # line-to-line voltages and the like
        else:
            key = f"{key}_{suffix}"
    return Reading(key, number, location, phase)


def merge(readings: Iterable[Reading]) -> dict[str, float]:
    """Reduce one sample's readings to one value per key.

    The outlet's value wins over other locations (temperature prefers the body); a
    power total is derived from per-phase values when the charger sends no total.
    """
    best: dict[str, tuple[int, float]] = {}
    phase_power: dict[str, float] = {}
    for reading in readings:
        if reading.key == "power" and reading.phase not in (None, "N"):
            phase_power[reading.phase] = reading.value
            continue
        rank = _LOCATION_RANK.get(reading.location, 5)
        if reading.key == "temperature" and reading.location == "Body":
            rank = -1
        if reading.key not in best or rank < best[reading.key][0]:
            best[reading.key] = (rank, reading.value)
    values = {key: value for key, (_, value) in best.items()}
    if "power" not in values and phase_power:
        values["power"] = sum(phase_power.values())
    return values
