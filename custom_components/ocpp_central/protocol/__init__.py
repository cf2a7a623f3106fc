"""Per-version protocol handlers: OCPP messages in, model updates out, commands out.

A handler talks to the outside only through its port (port.py); base.py is what every version
shares, v16.py and v201.py (with its parts v201_*.py) what each adds.
"""

from .base import ChargerProtocol
from .profiles import (
    SMART_PROFILE_BASE,
    STATION_MAX_PROFILE_ID,
    profile_id,
    smart_profile_id,
    stack_levels,
)
from .values import (
    NotInVersion,
    ReadSample,
    SampleFields,
    composite_periods,
    now_iso,
    parse_time,
    samples,
)

__all__ = [
    "SMART_PROFILE_BASE",
    "STATION_MAX_PROFILE_ID",
    "ChargerProtocol",
    "NotInVersion",
    "ReadSample",
    "SampleFields",
    "composite_periods",
    "now_iso",
    "parse_time",
    "profile_id",
    "samples",
    "smart_profile_id",
    "stack_levels",
]
