"""A plausible AC charging session: meter register, per-phase current and voltage, power, SoC.

Shared by the simulator and the benchmark's load client, so both send the same ~10
sampled values a real three-phase wallbox sends (Energy.Active.Import.Register,
Power.Active.Import, Current.Import L1..L3, Voltage L1-N..L3-N, SoC, Current.Offered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
import random
from typing import Any

type Payload = dict[str, Any]

NOMINAL_VOLTAGE = 230.0
MIN_CURRENT = 6.0  # IEC 61851: below 6 A an EV does not charge
# What the simulated chargers say they sample (their configuration / device model).
MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC,Current.Offered"
)


def now_iso() -> str:
    """Current UTC time as OCPP timestamps are usually written."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Car:
    """The EV plugged in for one session."""

    capacity_kwh: float
    soc: float  # percent
    target_soc: float
    max_current: float  # per phase, A
    phases: int = 3

    @classmethod
    def random(cls, rng: random.Random) -> Car:
        """A car that arrives somewhere between a quarter and half full."""
        return cls(
            capacity_kwh=rng.choice((40.0, 58.0, 64.0, 77.0, 82.0)),
            soc=rng.uniform(15.0, 50.0),
            target_soc=rng.uniform(80.0, 95.0),
            max_current=rng.choice((16.0, 16.0, 32.0)),
            phases=3,
        )

    @property
    def full(self) -> bool:
        """Whether the car reached the SoC it wants."""
        return self.soc >= self.target_soc


@dataclass(slots=True)
class Meter:
    """One outlet's energy meter and live electrical readings."""

    rng: random.Random
    energy_wh: float = 0.0
    current: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    voltage: list[float] = field(default_factory=lambda: [NOMINAL_VOLTAGE] * 3)
    offered: float = 0.0

    @property
    def power_w(self) -> float:
        """Active power: the sum over the phases of V x I (unity power factor)."""
        return sum(v * i for v, i in zip(self.voltage, self.current, strict=True))

    def _drift_voltage(self) -> None:
        # Grid voltage wanders slowly around 230 V and sags a little under load.
        for phase in range(3):
            target = NOMINAL_VOLTAGE + 2.0 - 0.08 * self.current[phase]
            v = self.voltage[phase]
            v += 0.3 * (target - v) + self.rng.gauss(0.0, 0.6)
            self.voltage[phase] = min(max(v, 215.0), 245.0)

    def idle(self, offered: float) -> None:
        """No car drawing power: currents fall to zero."""
        self.current = [0.0, 0.0, 0.0]
        self.offered = offered
        self._drift_voltage()

    def charge(self, car: Car, limit: float, seconds: float) -> None:
        """Advance `seconds` of charging at no more than `limit` A per phase."""
        self.offered = limit
        want = min(car.max_current, limit)
        if car.soc > 80.0:  # constant-voltage phase: the car tapers off
            want *= max(0.15, (100.0 - car.soc) / 20.0)
        if car.full or want < MIN_CURRENT:
            want = 0.0
        for phase in range(3):
            if phase >= car.phases:
                self.current[phase] = 0.0
                continue
            i = self.current[phase]
            # The car ramps its current up (or down to a new limit) over a few seconds.
            step = max(-want, min(want - i, 4.0 * seconds))
            i += step + (self.rng.gauss(0.0, 0.08) if want else 0.0)
            self.current[phase] = max(0.0, min(i, want + 0.3)) if want else 0.0
        self._drift_voltage()
        wh = self.power_w * seconds / 3600.0
        self.energy_wh += wh
        car.soc = min(100.0, car.soc + wh / 1000.0 / car.capacity_kwh * 100.0)

    # --- OCPP sampled values -----------------------------------------------------------

    def _values(self, car: Car | None) -> list[tuple[str, float, str, str | None, str | None]]:
        """(measurand, value, unit, phase, location) of one periodic sample."""
        values: list[tuple[str, float, str, str | None, str | None]] = [
            ("Energy.Active.Import.Register", round(self.energy_wh), "Wh", None, "Outlet"),
            ("Power.Active.Import", round(self.power_w), "W", None, "Outlet"),
        ]
        for n, i in enumerate(self.current, 1):
            values.append(("Current.Import", round(i, 2), "A", f"L{n}", "Outlet"))
        for n, v in enumerate(self.voltage, 1):
            values.append(("Voltage", round(v, 1), "V", f"L{n}-N", "Outlet"))
        if car is not None:
            values.append(("SoC", round(car.soc), "Percent", None, "EV"))
        values.append(("Current.Offered", round(self.offered, 1), "A", None, "Outlet"))
        return values

    def meter_value_16(self, car: Car | None, context: str = "Sample.Periodic") -> Payload:
        """One OCPP 1.6 MeterValue (values are strings)."""
        sampled = []
        for measurand, value, unit, phase, location in self._values(car):
            item = {
                "value": str(value),
                "context": context,
                "measurand": measurand,
                "location": location,
                "unit": unit,
            }
            if phase is not None:
                item["phase"] = phase
            sampled.append(item)
        return {"timestamp": now_iso(), "sampledValue": sampled}

    def meter_value_201(self, car: Car | None, context: str = "Sample.Periodic") -> Payload:
        """One OCPP 2.0.1 MeterValue (values are numbers, units in unitOfMeasure)."""
        sampled = []
        for measurand, value, unit, phase, location in self._values(car):
            item = {
                "value": value,
                "context": context,
                "measurand": measurand,
                "location": location,
                "unitOfMeasure": {"unit": unit},
            }
            if phase is not None:
                item["phase"] = phase
            sampled.append(item)
        return {"timestamp": now_iso(), "sampledValue": sampled}

    def register_16(self, context: str) -> Payload:
        """A MeterValue with just the energy register (transaction begin/end)."""
        return {
            "timestamp": now_iso(),
            "sampledValue": [
                {
                    "value": str(round(self.energy_wh)),
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                }
            ],
        }

    def register_201(self, context: str) -> Payload:
        """A 2.0.1 MeterValue with just the energy register."""
        return {
            "timestamp": now_iso(),
            "sampledValue": [
                {
                    "value": round(self.energy_wh),
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unitOfMeasure": {"unit": "Wh"},
                }
            ],
        }
