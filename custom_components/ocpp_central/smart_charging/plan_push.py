"""Pushing a charging plan whole: one absolute profile, then reading back what the charger
made of it (GetCompositeSchedule) where it can tell.

A charger that refuses the profile, or whose read-back says something else, gets the plan's
limits live instead (the regulator sends each slot's limit as it comes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import math
from typing import TYPE_CHECKING, Any

from ..core.plan_schedule import compare_readback
from ..wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError

if TYPE_CHECKING:
    from ..protocol import ChargerProtocol

# GetCompositeSchedule's duration: until departure, within what chargers take.
MIN_READBACK_S = 60
MAX_READBACK_S = 2 * 86400

# How a push ended (kept in the charger's diagnostics).
VERIFIED = "verified"  # accepted, and the read-back matches
UNVERIFIED = "unverified"  # accepted; the charger cannot tell what it will do
REFUSED = "refused"  # the charger rejected the profile (or failed the call)
DIFFERS = "readback_differs"  # accepted, but the read-back is not the plan


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """Whether the charger follows the plan by itself (`follows`), and the details."""

    result: str | None  # one of the above; None: the charger went away before it answered
    detail: str | None = None

    @property
    def follows(self) -> bool:
        """The charger has the plan: nothing needs to be sent live."""
        return self.result in (VERIFIED, UNVERIFIED)


def readback_seconds(now: datetime, departure: datetime) -> int:
    """How far ahead to read the composite schedule: up to departure, bounded."""
    seconds = math.ceil((departure - now).total_seconds())
    return max(MIN_READBACK_S, min(MAX_READBACK_S, seconds))


async def push_plan(
    session: ChargerProtocol,
    connector_id: int,
    schedule: dict[str, Any],
    transaction_id: int | str | None,
    departure: datetime,
    now: datetime,
) -> PushOutcome:
    """Send the plan's profile and check it; never raises for what the charger does."""
    try:
        accepted = await session.set_smart_schedule(
            connector_id, schedule, transaction_id, departure
        )
    except NotConnectedError:
        return PushOutcome(None)
    except (CallTimeoutError, CallErrorReceived) as err:
        return PushOutcome(REFUSED, str(err) or type(err).__name__)
    if not accepted:
        return PushOutcome(REFUSED, "Rejected")
    try:
        readback = await session.get_composite_schedule(
            connector_id, readback_seconds(now, departure)
        )
    except NotConnectedError:
        return PushOutcome(UNVERIFIED, "offline")
    except (CallTimeoutError, CallErrorReceived) as err:
        # No GetCompositeSchedule (NotImplemented, NotSupported) or a broken answer: the
        # charger accepted the profile, which is all it can say.
        return PushOutcome(UNVERIFIED, str(err) or type(err).__name__)
    if str(readback.get("status", "")).lower() != "accepted":
        return PushOutcome(UNVERIFIED, "readback_rejected")
    check = compare_readback(schedule, readback)
    if check.matches:
        return PushOutcome(VERIFIED)
    detail = check.reason or "differs"
    if check.at is not None:
        detail += f" at {check.at.isoformat()}: {check.expected} != {check.actual}"
    return PushOutcome(DIFFERS, detail)
