"""Sending smart charging's limits to chargers and clearing them again.

Every limit goes out in a task of its own that starts at once (eager): the frame is on the
wire before the state change that caused it has finished being handled. A connection
sends one call at a time, in order, so limits for one charger arrive in the order decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING

from ..const import DOMAIN
from ..core.model import Charger, Connector
from ..wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError
from .inputs import connector_key

if TYPE_CHECKING:
    from ..parts import CentralView

_LOGGER = logging.getLogger(__name__)

CLEAR_RETRY = timedelta(seconds=10)  # after a failed ClearChargingProfile
SAVE_NOW = 0


@dataclass(frozen=True, slots=True)
class Answer:
    """How a charger answered a limit: accepted, refused (with why), or not reached."""

    key: str
    seq: int  # which dispatch of this connector it answers
    accepted: bool | None  # None: the charger went offline before it answered
    reason: str | None = None


type AnswerListener = Callable[[Answer], None]


class Dispatcher:
    """Sends and clears smart charging's TxProfile, and records it for a restart."""

    def __init__(self, central: CentralView, on_answer: AnswerListener) -> None:
        """Answers to limits are handed to `on_answer`."""
        self.central = central
        self._on_answer = on_answer
        self._seq: dict[str, int] = {}  # per connector: the latest dispatch
        self._clearing: set[str] = set()
        self._clear_retry: dict[str, datetime] = {}

    def latest(self, key: str) -> int:
        """The sequence number of a connector's latest dispatch."""
        return self._seq.get(key, 0)

    def _next(self, key: str) -> int:
        self._seq[key] = seq = self._seq.get(key, 0) + 1
        return seq

    def next_retry(self) -> datetime | None:
        """When a failed clear is tried again."""
        return min(self._clear_retry.values(), default=None)

    def send(self, charger: Charger, conn: Connector, amps: float) -> None:
        """Send a limit for the session on a connector."""
        tx = conn.transaction
        session = self.central.sessions.get(charger.charger_id)
        if tx is None or session is None:
            return
        key = connector_key(charger.charger_id, conn.connector_id)
        if conn.smart.sent_for != tx.transaction_id:
            # Recorded (and saved) before it goes out: a restart in between still cleans up.
            conn.smart.sent_for = tx.transaction_id
            self.central.save_soon(SAVE_NOW)
        seq = self._next(key)
        self._clear_retry.pop(key, None)

        async def send() -> None:
            try:
                accepted = await session.set_smart_limit(
                    conn.connector_id, amps, tx.transaction_id, tx.start
                )
            except NotConnectedError:
                self._on_answer(Answer(key, seq, None))
            except (CallTimeoutError, CallErrorReceived) as err:
                self._on_answer(Answer(key, seq, False, str(err) or type(err).__name__))
            else:
                self._on_answer(Answer(key, seq, accepted, None if accepted else "Rejected"))

        self.central.entry.async_create_background_task(
            self.central.hass, send(), f"{DOMAIN} smart limit {key}", eager_start=True
        )

    def clear(self, charger: Charger, conn: Connector, now: datetime) -> None:
        """Clear what smart charging sent to a connector (once at a time, retried later)."""
        key = connector_key(charger.charger_id, conn.connector_id)
        session = self.central.sessions.get(charger.charger_id)
        if session is None or key in self._clearing:
            return
        if (retry := self._clear_retry.get(key)) is not None and now < retry:
            return
        self._clear_retry.pop(key, None)
        self._clearing.add(key)
        seq = self._next(key)
        sent_for = conn.smart.sent_for

        async def clear() -> None:
            try:
                done = await session.clear_smart_limit(conn.connector_id)
            except NotConnectedError:
                done = None  # cleared when it is back
            except (CallTimeoutError, CallErrorReceived) as err:
                _LOGGER.info("%s: could not clear a smart charging limit: %s", key, err)
                done = False
            finally:
                self._clearing.discard(key)
            if done is False:
                self._clear_retry[key] = now + CLEAR_RETRY
            if not done or self._seq.get(key) != seq or conn.smart.sent_for != sent_for:
                return  # a newer limit went out meanwhile: that one stands
            conn.smart.sent_for = None
            self.central.save_soon(SAVE_NOW)
            await self._restore_user_limit(charger, conn, session.smart_stack_level()[1])

        self.central.entry.async_create_background_task(
            self.central.hass, clear(), f"{DOMAIN} clear smart limit {key}", eager_start=True
        )

    async def _restore_user_limit(self, charger: Charger, conn: Connector, shared: bool) -> None:
        """On a charger where ours replaced the user's TxProfile (one stack level for both),
        the user's limit goes out again."""
        if not shared or conn.limit is None or conn.transaction is None:
            return
        if (session := self.central.sessions.get(charger.charger_id)) is None:
            return
        try:
            await self.central.preparation.apply_limit(session, charger, conn)
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not re-apply the limit: %s", charger.charger_id, err)

    def forget(self, key: str) -> None:
        """A connector that is gone (its sequence stays: late answers are still told apart)."""
        self._clear_retry.pop(key, None)
