"""Who started a session from Home Assistant: a remote start's user, matched to its session.

A remote start (the `charging` switch, `start_charging`, the companion app) runs under its
call's context, whose user is the person who asked. The charger then starts the session with
the remote start's id tag on that connector, usually within seconds, or once the car is
plugged in (the charger's connection timeout, a few minutes at most). The first session with
that id tag on that connector within the window is the one the user asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.core import Context, HomeAssistant

# Longer than any charger's connection timeout for a remote start (commonly 30-180 s).
MATCH_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Starter:
    """The Home Assistant user behind a remote start."""

    user_id: str
    user_name: str | None


@dataclass(slots=True, eq=False)
class PendingStart:
    """A remote start sent (or about to be), waiting for its session."""

    charger_id: str
    connector_id: int
    id_tag: str
    starter: Starter
    expires: datetime


class RemoteStarts:
    """Remote starts waiting for their session (a handful at most: one per call)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start with none."""
        self.hass = hass
        self._pending: list[PendingStart] = []

    async def async_starter(self, context: Context | None) -> Starter | None:
        """The person behind a call's context; None for automations and system users."""
        if context is None or context.user_id is None:
            return None
        user = await self.hass.auth.async_get_user(context.user_id)
        if user is None or user.system_generated:
            return None
        return Starter(user.id, user.name)

    def expect(
        self, charger_id: str, connector_id: int, id_tag: str, starter: Starter, now: datetime
    ) -> PendingStart:
        """A remote start is about to be sent; `cancel` it if it fails."""
        self._forget_expired(now)
        pending = PendingStart(
            charger_id, connector_id, id_tag.upper(), starter, now + MATCH_WINDOW
        )
        self._pending.append(pending)
        return pending

    def cancel(self, pending: PendingStart) -> None:
        """The remote start failed or was refused: no session will come of it."""
        if pending in self._pending:
            self._pending.remove(pending)

    def match(
        self, charger_id: str, connector_id: int, id_tag: str | None, now: datetime
    ) -> Starter | None:
        """The user of the remote start this new session answers (used up), if any."""
        self._forget_expired(now)
        if id_tag is None:
            return None
        tag = id_tag.upper()
        for pending in self._pending:
            if (pending.charger_id, pending.connector_id, pending.id_tag) == (
                charger_id,
                connector_id,
                tag,
            ):
                self._pending.remove(pending)
                return pending.starter
        return None

    def _forget_expired(self, now: datetime) -> None:
        self._pending = [pending for pending in self._pending if pending.expires > now]
