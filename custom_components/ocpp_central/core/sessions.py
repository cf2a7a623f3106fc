"""The session rules: how a session starts and ends on a connector, in any OCPP version.

A connector has at most one open session. One still open when the next starts lost its end
(a StopTransaction or an Ended event that never came, e.g. a charger reset mid-session): it
is closed first, at the new session's start, so the new one starts clean. An ended session
stays as the connector's last session. Each rule returns the events it caused, in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .events import SessionEnded, SessionStarted
from .status import snake

if TYPE_CHECKING:
    from .model import Charger, Connector, Transaction


def start_session(
    charger: Charger, conn: Connector, tx: Transaction, *, meter_start: bool = True
) -> list[SessionEnded | SessionStarted]:
    """`tx` becomes `conn`'s session (`meter_start`: the charger reported its start reading)."""
    events: list[SessionEnded | SessionStarted] = []
    if conn.transaction is not None:
        events.append(end_session(charger, conn.transaction, tx.start, None))
    conn.transaction = tx
    conn.session_began()
    events.append(SessionStarted(tx, meter_start))
    return events


def end_session(
    charger: Charger,
    tx: Transaction,
    stop: datetime,
    reason: str | None,
    *,
    meter_stop_wh: float | None = None,
) -> SessionEnded:
    """`tx` ends at `stop` (`reason` in OCPP spelling, None when it is not known)."""
    tx.stop = stop
    tx.reason = snake(reason) if reason else None
    conn = charger.connector(tx.connector_id)
    if conn.transaction is tx:
        conn.transaction = None
    conn.last_session = tx
    return SessionEnded(tx, reason, meter_stop_wh)
