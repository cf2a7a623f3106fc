"""The range of every number and time a charger sends that reaches the model.

A JSON number can have thousands of digits and a 2.0.1 multiplier is any integer: `10**m`
with m in the millions stalls the event loop for seconds, and a value beyond a float ends in
OverflowError. So handlers check each number here, while they parse a message and before any
arithmetic; a value out of range raises OutOfBounds, which the OCPP layer answers with
PropertyConstraintViolation (a lenient charger's sample is dropped instead). The ranges are
far wider than any real charger needs; docs/security.md lists them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import math
import re
from typing import Any

# Connector (1.6) and EVSE (2.x) ids: more outlets than any real charger has; 0 is the charger.
MAX_CONNECTORS = 32
# Any meter reading, meterStart/meterStop and limit, in the charger's unit after the
# multiplier (10^12 Wh is a million times a charger's lifetime).
MAX_READING = 1e12
# 2.0.1 unitOfMeasure.multiplier (real meters use -3 ... 3).
MAX_MULTIPLIER = 9
# OCPP 1.6 integers (transaction ids, reservation ids ...) are 32-bit.
MAX_INT32 = 2**31 - 1
# Ids a charger names (transaction ids, id tags): the schemas allow 20 (1.6) and 36 (2.0.1)
# characters; lenient chargers get some slack, but no unbounded text kept per session.
MAX_ID_LENGTH = 255
# The longest duration or interval a user may give an action (a limit's duration, the span
# of a composite schedule, a firmware retry interval): a year, far below where datetime
# arithmetic overflows.
MAX_DURATION = timedelta(days=366)
# A time a charger sends may be this far ahead of Home Assistant's clock; a later one is taken
# as "received now", so a clock that jumped to 2999 never freezes the readings after it.
FUTURE_TOLERANCE = timedelta(seconds=60)


# What float() takes for "no number" (1.6 values are text): not shown, like any other word.
_WORDS = re.compile(r"\s*[+-]?(nan|inf|infinity)\s*$", re.IGNORECASE)


# 10**multiplier for every multiplier allowed.
_SCALE = {m: 10.0**m for m in range(-MAX_MULTIPLIER, MAX_MULTIPLIER + 1)}


class OutOfBounds(ValueError):
    """A number (or id) a charger sent is outside what it may be."""


def _number(value: Any, what: str) -> float:
    """A JSON number (or a numeric string a lenient charger sent) as a bounded float."""
    if isinstance(value, bool):
        raise OutOfBounds(f"{what} is not a number")
    if isinstance(value, int):
        # Compared as integers: converting first would fail beyond a float's range.
        if not -MAX_READING <= value <= MAX_READING:
            raise OutOfBounds(f"{what} is out of range (at most {MAX_READING:g})")
        return float(value)
    number = float(value)  # ValueError/TypeError for what is not a number at all
    if not -MAX_READING <= number <= MAX_READING:  # also NaN and the infinities
        raise OutOfBounds(f"{what} is out of range (at most {MAX_READING:g})")
    return number


def reading(value: Any, multiplier: Any = 0) -> float | None:
    """A sampled value scaled by its multiplier; None when it is not a number (signed data,
    "NaN", "inf"): such a value is not shown. A numeral beyond a float ("1e400") is a number
    out of range.

    Raises OutOfBounds for a number or multiplier out of range. (Every sampled value of every
    message comes here: the common case, text or a float with no multiplier, is kept short.)
    """
    if type(multiplier) is not int or not -MAX_MULTIPLIER <= multiplier <= MAX_MULTIPLIER:
        raise OutOfBounds(
            f"multiplier must be an integer from -{MAX_MULTIPLIER} to {MAX_MULTIPLIER}"
        )
    kind = type(value)
    if kind is str:
        try:
            number = float(value)
        except ValueError:
            return None
    elif kind is float:
        number = value
    elif kind is int:
        # Compared as an integer: converting first would fail beyond a float's range.
        if not -MAX_READING <= value <= MAX_READING:
            raise OutOfBounds(f"sampled value is out of range (at most {MAX_READING:g})")
        number = float(value)
    else:
        return None  # not a number at all (lenient input)
    if multiplier:
        number *= _SCALE[multiplier]
    if -MAX_READING <= number <= MAX_READING:
        return number
    if math.isnan(number) or (kind is str and _WORDS.match(value)):
        return None
    raise OutOfBounds(f"sampled value is out of range (at most {MAX_READING:g})")


def meter_wh(value: Any, what: str) -> float:
    """meterStart / meterStop (Wh)."""
    try:
        return _number(value, what)
    except OutOfBounds:
        raise
    except (TypeError, ValueError) as err:
        raise OutOfBounds(f"{what} is not a number") from err


def limit(value: Any) -> float:
    """A limit (A or W) a charger reports."""
    return meter_wh(value, "limit")


def connector_id(value: Any, *, minimum: int = 0) -> int:
    """A connector (1.6) or EVSE (2.x) id."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutOfBounds("connector id is not an integer")
    if not minimum <= value <= MAX_CONNECTORS:
        raise OutOfBounds(f"connector id is out of range ({minimum} to {MAX_CONNECTORS})")
    return value


def int32(value: Any, what: str) -> int:
    """A 1.6 integer id (transaction id ...)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutOfBounds(f"{what} is not an integer")
    if not -MAX_INT32 - 1 <= value <= MAX_INT32:
        raise OutOfBounds(f"{what} is out of range (32-bit)")
    return value


def text_id(value: Any, what: str) -> str:
    """An id a charger names (transaction id, id tag)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise OutOfBounds(f"{what} must be text of 1 to {MAX_ID_LENGTH} characters")
    return value


def not_ahead(moment: datetime, now: datetime) -> datetime:
    """A charger's time, or `now` when it is more than FUTURE_TOLERANCE ahead of now."""
    return now if moment - now > FUTURE_TOLERANCE else moment
