"""The session rules: how a session starts and ends on a connector, in any OCPP version.

A connector has at most one open session. One still open when the next starts lost its end
(a StopTransaction or an Ended event that never came, e.g. a charger reset mid-session): it
is closed first, at the new session's start, so the new one starts clean. An ended session
stays as the connector's last session. The rules tell the events they cause, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from .events import SessionEnded, SessionStarted
from .status import snake

if TYPE_CHECKING:
    from .model import Charger, Connector, Transaction


def start_session(
    charger: Charger,
    conn: Connector,
    tx: Transaction,
    publish: Callable[[SessionEnded | SessionStarted], None],
    *,
    meter_start: bool = True,
) -> None:
    """`tx` becomes `conn`'s session (`meter_start`: the charger reported its start reading).

    The stale session's end is published before the new session is attached: what listens
    to it (a limit bound to that session, re-sent as the connector's default) must see the
    connector free, not already holding a session the charger does not know the id of yet.
    """
    if conn.transaction is not None:
        end_session(charger, conn.transaction, tx.start, None, publish)
    conn.transaction = tx
    conn.session_began()
    publish(SessionStarted(tx, meter_start))


def end_session(
    charger: Charger,
    tx: Transaction,
    stop: datetime,
    reason: str | None,
    publish: Callable[[SessionEnded], None],
    *,
    meter_stop_wh: float | None = None,
) -> None:
    """`tx` ends at `stop` (`reason` in OCPP spelling, None when it is not known)."""
    tx.stop = stop
    tx.reason = snake(reason) if reason else None
    conn = charger.connector(tx.connector_id)
    if conn.transaction is tx:
        conn.transaction = None
    conn.last_session = tx
    publish(SessionEnded(tx, reason, meter_stop_wh))
