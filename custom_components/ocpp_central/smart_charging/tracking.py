"""What the loop remembers per session, and the repair issues about chargers and limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..core.model import Charger, Connector
from ..core.smart import LimitSource, SessionInput, Verification
from ..core.smart.verify import PATIENCE, TOLERANCE
from ..repairs import (
    LIMITS_IGNORED,
    LIMITS_REFUSED,
    async_create_limits_issue,
    async_delete_limits_issue,
)
from .estimate import FOLLOW

if TYPE_CHECKING:
    from ..parts import CentralView

type Session = tuple[Charger, Connector, SessionInput]

# Refused limits in a row before a charger is left alone for the rest of its session.
GIVE_UP_AFTER = 3


@dataclass(slots=True)
class Track:
    """The session on one connector, as the loop follows it."""

    transaction_id: int | str
    # Manual mode: a fuse (or safe) limit of ours is out; it is raised back gradually and
    # cleared once the user's own limit fits again.
    held: bool = False
    source: LimitSource | None = None  # why the last limit sent was what it was
    upper: float | None = None  # the user's own limit last seen
    upper_at: datetime | None = None  # when it last changed
    reading_at: datetime | None = None  # the charger's reading last looked at
    # Manual mode: the most it drew above the user's limit with nothing of ours in force
    # (see `drawn_above`); until the user's limit changes.
    drawn_above: float | None = None
    refusals: int = 0  # in a row
    gave_up: bool = False

    def new_reading(self, reading_time: datetime | None, now: datetime) -> bool:
        """Whether the charger's reading is new and came in long enough after the user's
        limit changed for the car to have followed it (one from before says nothing)."""
        new = reading_time != self.reading_at
        self.reading_at = reading_time
        return new and (self.upper_at is None or now >= self.upper_at + FOLLOW)


def charger_of(key: str) -> str:
    """The charger id of a connector key."""
    return key.rsplit("/", 1)[0]


def complies(session: SessionInput, now: datetime) -> bool:
    """Whether a session has drawn within its limit since the limit had time to apply."""
    if session.allowed is None or session.allowed_since is None or not session.drawn:
        return False
    return (
        now - session.allowed_since >= PATIENCE
        and max(session.drawn.values()) <= session.allowed + TOLERANCE
    )


class Issues:
    """Repair issues: a charger that ignores its limits, one that refuses them."""

    def __init__(self, central: CentralView) -> None:
        """No issue is open yet."""
        self.central = central
        self._ignoring: set[str] = set()
        self._refusing: set[str] = set()

    def _charger(self, charger_id: str) -> dict[str, str]:
        charger = self.central.chargers.get(charger_id)
        firmware = charger.info.firmware if charger is not None else None
        return {
            "charger": self.central.devices.charger_name(charger_id),
            "firmware": firmware or "?",
        }

    def verified(
        self, verification: Verification, sessions: Mapping[str, Session], now: datetime
    ) -> None:
        """Open an issue for a charger newly caught ignoring its limit; close it once the
        charger is seen within a limit (in this session or a later one)."""
        for key, watch in verification.newly_flagged:
            charger_id = charger_of(key)
            if charger_id not in self._ignoring:
                self._ignoring.add(charger_id)
                async_create_limits_issue(
                    self.central.hass,
                    LIMITS_IGNORED,
                    charger_id,
                    {
                        **self._charger(charger_id),
                        "limit": f"{watch.limit_a:g}",
                        "drawn": f"{watch.drawn_a:.1f}",
                    },
                )
        for charger_id in list(self._ignoring):
            if any(
                watch.flagged and charger_of(key) == charger_id
                for key, watch in verification.watches.items()
            ):
                continue
            keys = [key for key in sessions if charger_of(key) == charger_id]
            if any(charger_of(key) == charger_id for key in verification.cleared) or any(
                complies(sessions[key][2], now) for key in keys
            ):
                self._ignoring.discard(charger_id)
                async_delete_limits_issue(self.central.hass, LIMITS_IGNORED, charger_id)

    def refused(self, charger_id: str, reason: str) -> None:
        """A charger refused limits too often."""
        self._refusing.add(charger_id)
        async_create_limits_issue(
            self.central.hass,
            LIMITS_REFUSED,
            charger_id,
            {**self._charger(charger_id), "reason": reason},
        )

    def accepted(self, charger_id: str) -> None:
        """A charger accepted a limit."""
        if charger_id in self._refusing:
            self._refusing.discard(charger_id)
            async_delete_limits_issue(self.central.hass, LIMITS_REFUSED, charger_id)

    def forget(self, charger_id: str) -> None:
        """A charger was removed."""
        self._ignoring.discard(charger_id)
        self._refusing.discard(charger_id)
        for kind in (LIMITS_IGNORED, LIMITS_REFUSED):
            async_delete_limits_issue(self.central.hass, kind, charger_id)

    def clear_all(self) -> None:
        """Smart charging was turned off: its issues are moot."""
        for charger_id in self._ignoring | self._refusing:
            self.forget(charger_id)
