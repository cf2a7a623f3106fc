"""Bounds on values that come from chargers or from storage: checked, never guessed at."""

from __future__ import annotations

from datetime import datetime
import math
from typing import Any


def is_aware(value: datetime) -> bool:
    """A datetime that names its offset (naive ones are never guessed)."""
    return value.tzinfo is not None and value.utcoffset() is not None


def as_float(value: Any) -> float | None:
    """A finite number as float, else None (bad input is not guessed at, and never raises)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)  # an int too large for a float overflows
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def non_negative(value: Any) -> float | None:
    """A finite, non-negative number as float, else None."""
    number = as_float(value)
    return number if number is not None and number >= 0 else None


def required_number(value: Any) -> float:
    """A stored number that must be there; ValueError for anything else."""
    if (number := as_float(value)) is None:
        raise ValueError("not a finite number")
    return number


def stored_number(value: Any) -> float | None:
    """A stored number (None stays None); ValueError for anything else."""
    if value is None:
        return None
    if (number := as_float(value)) is None:
        raise ValueError("not a finite number")
    return number


def stored_non_negative(value: Any) -> float:
    """A stored number that must be there and not below 0; ValueError for anything else."""
    if (number := required_number(value)) < 0:
        raise ValueError("negative")
    return number


def stored_time(value: Any) -> datetime:
    """An ISO 8601 time with its offset; ValueError or TypeError for anything else."""
    parsed = datetime.fromisoformat(value)
    if not is_aware(parsed):
        raise ValueError("naive time")
    return parsed


def stored_text(value: Any) -> str | None:
    """Text or None; TypeError for anything else."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not text")


def required_text(value: Any, *, allow_empty: bool = False) -> str:
    """Text that must be there; TypeError for anything else."""
    if not isinstance(value, str) or not (value or allow_empty):
        raise TypeError("not text")
    return value
