"""Smart charging's heart: share the fuse, follow the sun, pace the profiles, verify chargers.

Everything here is pure: settings, readings, sessions and the time go in; limits, what to send
and when to look again come out. The caller (the hub) reads sensors, sends profiles and keeps
the returned state.
"""

from .allocator import allocate
from .measure import household, is_blind, surplus_watts
from .model import (
    MIN_CURRENT,
    Allocation,
    ChargingMode,
    GridKind,
    GridMeasurement,
    LimitSource,
    Phase,
    SessionInput,
    SiteSettings,
    charger_phases,
)
from .regulator import Channel, Regulation, RegulatorSettings, RegulatorState, regulate
from .verify import Verification, Watch, verify

__all__ = [
    "MIN_CURRENT",
    "Allocation",
    "Channel",
    "ChargingMode",
    "GridKind",
    "GridMeasurement",
    "LimitSource",
    "Phase",
    "Regulation",
    "RegulatorSettings",
    "RegulatorState",
    "SessionInput",
    "SiteSettings",
    "Verification",
    "Watch",
    "allocate",
    "charger_phases",
    "household",
    "is_blind",
    "regulate",
    "surplus_watts",
    "verify",
]
