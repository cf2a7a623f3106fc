"""Session rules (core/sessions.py): table tests, no Home Assistant, no charger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_central.core.events import SessionEnded, SessionStarted
from custom_components.ocpp_central.core.model import Charger
from custom_components.ocpp_central.core.sessions import end_session, start_session
from custom_components.ocpp_central.core.transaction import Transaction

T0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


class Heard(list[SessionEnded | SessionStarted]):
    """The events a rule told, with the connector's session at the moment of each."""

    def __init__(self, charger: Charger) -> None:
        super().__init__()
        self.charger = charger
        self.on_connector: list[Transaction | None] = []

    def __call__(self, event: SessionEnded | SessionStarted) -> None:
        self.append(event)
        self.on_connector.append(self.charger.connector(event.tx.connector_id).transaction)


def _tx(transaction_id: int, start: datetime = T0, connector_id: int = 1) -> Transaction:
    return Transaction(transaction_id, connector_id, "TAG", start, 1000.0, 1000.0)


def test_start_on_a_free_connector_attaches_the_session() -> None:
    charger = Charger("CP")
    conn = charger.connector(1)
    tx = _tx(1)
    heard = Heard(charger)
    start_session(charger, conn, tx, heard)
    assert heard == [SessionStarted(tx, True)]
    assert conn.transaction is tx
    assert conn.last_session is None


def test_start_where_a_session_lost_its_end_closes_that_one_first() -> None:
    charger = Charger("CP")
    conn = charger.connector(1)
    stale, new = _tx(1), _tx(2, T0 + timedelta(hours=3))
    start_session(charger, conn, stale, Heard(charger))
    heard = Heard(charger)
    start_session(charger, conn, new, heard, meter_start=False)
    # The stale session ends where the new one starts, its reason unknown; then the new one.
    assert heard == [SessionEnded(stale, None, None), SessionStarted(new, False)]
    # Its end is told while the connector is free (a limit bound to it is re-sent as the
    # connector's default then, not bound to a session the charger has no id for yet).
    assert heard.on_connector == [None, new]
    assert (stale.stop, stale.reason) == (new.start, None)
    assert conn.transaction is new
    assert conn.last_session is stale


@pytest.mark.parametrize(
    ("reason", "stored"),
    [
        ("EVDisconnected", "ev_disconnected"),
        ("Local", "local"),
        ("PowerLoss", "power_loss"),
        ("DeAuthorized", "de_authorized"),
        (None, None),
        ("", None),
    ],
)
def test_end_stores_the_reason_in_our_spelling(reason: str | None, stored: str | None) -> None:
    charger = Charger("CP")
    conn = charger.connector(1)
    tx = _tx(1)
    start_session(charger, conn, tx, Heard(charger))
    stop = T0 + timedelta(hours=1)
    heard = Heard(charger)
    end_session(charger, tx, stop, reason, heard, meter_stop_wh=7000.0)
    # The event keeps the charger's own spelling; the session our entities' spelling.
    assert heard == [SessionEnded(tx, reason, 7000.0)]
    assert (tx.stop, tx.reason) == (stop, stored)
    assert conn.transaction is None
    assert conn.last_session is tx


def test_end_of_a_session_no_longer_on_its_connector_leaves_the_running_one() -> None:
    """A charger that sends the end of an older session (queued while offline) after a
    newer one started: the newer one keeps running; the older becomes the last session."""
    charger = Charger("CP")
    conn = charger.connector(2)
    old, running = _tx(1, connector_id=2), _tx(2, T0 + timedelta(hours=2), connector_id=2)
    conn.transaction = running
    end_session(charger, old, T0 + timedelta(hours=1), "Local", Heard(charger))
    assert conn.transaction is running
    assert conn.last_session is old
