"""Smart charging's vocabulary: the site, its grid measurement, the sessions and their limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math

MIN_CURRENT = 6.0  # A: the lowest current IEC 61851 lets a charger signal to a car
DEFAULT_SAFE_CURRENT = 6.0
DEFAULT_VOLTAGE = 230.0
STALE_AFTER = timedelta(seconds=60)  # a grid reading older than this is treated as missing
# Bounds applied to every number from a sensor or a charger before any arithmetic.
MAX_AMPS = 1000.0
MAX_WATTS = 1_000_000.0


class ChargingMode(StrEnum):
    """What the homeowner wants a connector's sessions to do (`select.charging_mode`)."""

    MANUAL = "manual"
    FAST = "fast"
    SOLAR = "solar"
    MIN_SOLAR = "min_solar"
    PLANNED = "planned"


class LimitSource(StrEnum):
    """Which constraint a connector's allowed current comes from (`sensor.limit_source`)."""

    NONE = "none"
    USER = "user"
    FUSE = "fuse"
    SOLAR = "solar"
    PLAN = "plan"
    SCHEDULE = "schedule"
    SAFE = "safe"


class Phase(StrEnum):
    """A supply phase (also the values of the charger setting `phase`)."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


PHASES = (Phase.L1, Phase.L2, Phase.L3)


class GridKind(StrEnum):
    """What measures the site's grid connection."""

    CURRENTS = "currents"  # one current sensor per phase, A
    POWER = "power"  # one power sensor for the whole connection, W
    NONE = "none"  # no meter: chargers share the fuse as if the household drew nothing


def bounded(value: float | None, limit: float) -> float | None:
    """A finite number clamped to ±limit; None for a missing, NaN or infinite one."""
    if value is None or not math.isfinite(value):
        return None
    return max(-limit, min(limit, float(value)))


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """The options flow's "Smart charging" step, as the allocator needs it."""

    main_fuse: float | None  # A per phase; None: no fuse protection (solar only)
    supply_phases: int = 3
    safe_current: float = DEFAULT_SAFE_CURRENT
    voltage: float = DEFAULT_VOLTAGE
    grid_kind: GridKind = GridKind.CURRENTS
    export_positive: bool = False  # the power sensor reports export as positive

    def __post_init__(self) -> None:
        """Refuse settings the arithmetic cannot work with (the options flow checks first)."""
        if self.supply_phases not in (1, 3):
            raise ValueError(f"supply_phases must be 1 or 3, not {self.supply_phases}")
        if self.main_fuse is not None and not 0 < self.main_fuse <= MAX_AMPS:
            raise ValueError(f"main_fuse out of range: {self.main_fuse}")
        if not 0 <= self.safe_current <= MAX_AMPS:
            raise ValueError(f"safe_current out of range: {self.safe_current}")
        if not 100 <= self.voltage <= 500:
            raise ValueError(f"voltage out of range: {self.voltage}")

    @property
    def phases(self) -> tuple[Phase, ...]:
        """The supply's phases, L1 first."""
        return PHASES[: self.supply_phases]


@dataclass(frozen=True, slots=True)
class GridMeasurement:
    """What the grid meter shows, import positive: per-phase currents or one total power."""

    at: datetime  # when the sensor last reported (HA's `last_reported`), aware UTC
    currents: Mapping[Phase, float] | None = None  # A
    import_power: float | None = None  # W

    def __post_init__(self) -> None:
        """Exactly one of the two readings."""
        if (self.currents is None) == (self.import_power is None):
            raise ValueError("a grid measurement has either currents or a power")

    @classmethod
    def from_currents(cls, values: Sequence[float | None], at: datetime) -> GridMeasurement | None:
        """Per-phase currents L1, L2, L3 (signed, import positive); None when any is missing."""
        readings = [bounded(value, MAX_AMPS) for value in values[: len(PHASES)]]
        if not readings or any(value is None for value in readings):
            return None
        return cls(
            at, currents={p: v for p, v in zip(PHASES, readings, strict=False) if v is not None}
        )

    @classmethod
    def from_power(
        cls, watts: float | None, at: datetime, *, export_positive: bool = False
    ) -> GridMeasurement | None:
        """One power sensor for the whole connection; None when it is missing."""
        if (power := bounded(watts, MAX_WATTS)) is None:
            return None
        return cls(at, import_power=-power if export_positive else power)

    def covers(self, site: SiteSettings) -> bool:
        """Whether it measures every supply phase (a power sensor measures them all)."""
        return self.currents is None or all(p in self.currents for p in site.phases)

    def import_watts(self, site: SiteSettings) -> float:
        """Net power drawn from the grid (negative when exporting)."""
        if self.import_power is not None:
            return self.import_power
        assert self.currents is not None
        return site.voltage * sum(self.currents.get(p, 0.0) for p in site.phases)


@dataclass(frozen=True, slots=True)
class SessionInput:
    """One charging session, as the allocator sees it."""

    key: str
    mode: ChargingMode
    # Supply phases the charger is wired to (see `charger_phases`).
    phases: frozenset[Phase]
    started: datetime  # orders sessions: the newest pause first
    charger_max: float  # A, the charger setting `max_current`
    # The tightest of the user's own limit, their schedule and (planned mode) the plan, now.
    upper: float | None = None
    upper_source: LimitSource = LimitSource.USER
    # Current the session draws now per supply phase, when the charger reports it. A charger
    # that reports one current without phases: that value on each of its phases.
    drawn: Mapping[Phase, float] | None = None
    # What the charger was last told (the regulator's `told`); None: nothing sent yet.
    allowed: float | None = None
    allowed_since: datetime | None = None  # when `allowed` was sent
    min_current: float = MIN_CURRENT
    ignores_limits: bool = False  # flagged by `verify`: its draw is fixed load

    def __post_init__(self) -> None:
        """Bound what came from the charger before any arithmetic sees it."""
        if self.drawn is not None:
            clean = {
                p: max(0.0, v)
                for p, raw in self.drawn.items()
                if (v := bounded(raw, MAX_AMPS)) is not None
            }
            object.__setattr__(self, "drawn", clean or None)
        for name in ("charger_max", "upper", "allowed", "min_current"):
            value = getattr(self, name)
            if value is not None:
                clean_value = bounded(value, MAX_AMPS)
                object.__setattr__(self, name, max(0.0, clean_value or 0.0))


@dataclass(frozen=True, slots=True)
class Allocation:
    """The current a connector may draw now (0 = paused, else at least its minimum)."""

    current_a: float
    source: LimitSource


def charger_phases(phases: int, phase: Phase | None, site: SiteSettings) -> frozenset[Phase]:
    """Supply phases a charger loads: all of them for a 3-phase one, its `phase` setting else."""
    supply = frozenset(site.phases)
    if phases >= 3:
        return supply
    chosen = phase or Phase.L1
    return frozenset({chosen}) if chosen in supply else frozenset({Phase.L1})
