"""OCPP 2.0.1 (and 2.1) sessions: TransactionEvent to the model, and what an EVSE shows.

A session may start before its EVSE is known: `evse` is only required in the first event after
the EV is connected, so a station that authorizes first sends Started without it. Such a session
waits here, unplaced, until an event names its EVSE; only then does it become the connector's
session (and is announced). A session that ends before that never charged anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError, TypeConstraintViolationError

from ..core import bounds
from ..core.id_tags import AuthResult, AuthStatus
from ..core.measurands import ENERGY
from ..core.model import Charger, ConnectorStatus, Transaction
from ..wire.connection import Apply, Payload
from . import ChargerProtocol, parse_time, samples

# Sessions waiting for their EVSE, and remote starts waiting for their session, at most.
MAX_UNPLACED = 8
MAX_REMOTE_STARTS = 16

_CHARGING_STATES = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
    "Idle": ConnectorStatus.PREPARING,
}

# idTokenInfo status for each of our authorization results.
_AUTH = {
    AuthStatus.ACCEPTED: "Accepted",
    AuthStatus.BLOCKED: "Blocked",
    AuthStatus.EXPIRED: "Expired",
    AuthStatus.INVALID: "Invalid",
    AuthStatus.CONCURRENT_TX: "ConcurrentTx",
}

_EVENT_TYPES = ("Started", "Updated", "Ended")


def id_token_info(result: AuthResult) -> Payload:
    """IdTokenInfo for an authorization result."""
    info: Payload = {"status": _AUTH[result.status]}
    if result.expiry is not None:
        info["cacheExpiryDateTime"] = result.expiry.isoformat()
    if result.parent is not None:
        info["groupIdToken"] = {"idToken": result.parent, "type": "Central"}
    return info


def sample_fields(sampled: Payload) -> tuple[Any, Any, Any]:
    """A 2.x sampledValue: its value (a number), and the multiplier and unit it comes in."""
    unit = sampled.get("unitOfMeasure") or {}
    return sampled.get("value"), unit.get("multiplier"), unit.get("unit")


def _optional_text(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeConstraintViolationError(description=f"{what} must be a string")
    return value


def _meter_start_wh(parsed: list[tuple[datetime, dict[str, float]]]) -> float | None:
    """The energy register of a session's first event, in Wh."""
    energy = next((values[ENERGY] for _, values in parsed if ENERGY in values), None)
    return None if energy is None else energy * 1000


class V201Sessions(ChargerProtocol):
    """The session part of a 2.x station's protocol handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """No session known yet."""
        super().__init__(*args, **kwargs)
        # Sessions started without an EVSE, by transaction id (oldest first).
        self._unplaced: dict[int | str, Transaction] = {}
        # The id tag of each remote start we sent, by its remoteStartId (oldest first): the
        # station echoes the id in the session's events, which may carry no idToken.
        self._remote_starts: dict[int, str] = {}

    def remember_remote_start(self, remote_start_id: int, id_tag: str) -> None:
        """A RequestStartTransaction is about to go out."""
        self._remote_starts[remote_start_id] = id_tag
        while len(self._remote_starts) > MAX_REMOTE_STARTS:
            del self._remote_starts[next(iter(self._remote_starts))]

    def _transaction_event(self, payload: Payload) -> Apply:
        charger = self._charger()
        info = payload["transactionInfo"]
        transaction_id = bounds.text_id(info["transactionId"], "transactionId")
        event = payload["eventType"]
        if event not in _EVENT_TYPES:
            raise PropertyConstraintViolationError(description="eventType is not known")
        timestamp = parse_time(payload.get("timestamp"))
        token_info = payload.get("idToken")
        token = None if token_info is None else bounds.text_id(token_info["idToken"], "idToken")
        evse_info = payload.get("evse")
        evse = None if evse_info is None else bounds.connector_id(evse_info["id"], minimum=1)
        parsed = samples(payload.get("meterValue"), self._read_sample, sample_fields)
        state = _optional_text(info.get("chargingState"), "chargingState")
        charging = None if state is None else _CHARGING_STATES.get(state, ConnectorStatus.PREPARING)
        reason = _optional_text(info.get("stoppedReason"), "stoppedReason") or "Local"
        remote_start_id = info.get("remoteStartId")
        remote_tag = (
            self._remote_starts.get(remote_start_id) if type(remote_start_id) is int else None
        )
        tx = charger.find_transaction(transaction_id)
        # A known session stays on its EVSE; a new or unplaced one goes where this event says.
        target = tx.connector_id if tx is not None else evse

        def apply() -> Payload:
            response: Payload = {}
            known = tx or self._unplaced.get(transaction_id)
            if token is not None:
                response["idTokenInfo"] = self._decided("idTokenInfo") or id_token_info(
                    self.port.authorize_start(token, target or 0)
                    if known is None
                    else self.port.authorize(token)
                )
            id_tag = token or remote_tag
            if known is None and event == "Ended":
                self._ended_unknown(charger, transaction_id, target, parsed, timestamp, reason)
                return response
            if tx is None:
                session = known or Transaction(
                    transaction_id=transaction_id,
                    connector_id=0,
                    id_tag=id_tag,
                    start=timestamp,
                    meter_start_wh=_meter_start_wh(parsed),
                )
                if target is None:
                    self._wait_for_evse(session, id_tag, parsed, ended=event == "Ended")
                    return response
                self._place(charger, session, target, id_tag, parsed)
                current = session
            else:
                current = tx
                if id_tag is not None and current.id_tag is None:
                    current.id_tag = id_tag  # authorized after the session started
            self._apply_event(
                charger, current, parsed, charging, event == "Ended", timestamp, reason
            )
            return response

        return apply

    def _wait_for_evse(
        self,
        tx: Transaction,
        id_tag: str | None,
        parsed: list[tuple[datetime, dict[str, float]]],
        *,
        ended: bool,
    ) -> None:
        """Keep a session whose EVSE is not known yet (a session ending so never charged)."""
        self._unplaced.pop(tx.transaction_id, None)
        if ended:
            return
        if tx.id_tag is None:
            tx.id_tag = id_tag
        if tx.meter_start_wh is None:
            tx.meter_start_wh = _meter_start_wh(parsed)
        self._unplaced[tx.transaction_id] = tx
        while len(self._unplaced) > MAX_UNPLACED:
            del self._unplaced[next(iter(self._unplaced))]

    def _place(
        self,
        charger: Charger,
        tx: Transaction,
        evse: int,
        id_tag: str | None,
        parsed: list[tuple[datetime, dict[str, float]]],
    ) -> None:
        """A session becomes its EVSE's session (a previous one there was not ended: close it)."""
        self._unplaced.pop(tx.transaction_id, None)
        conn = charger.connector(evse)
        tx.connector_id = evse
        if tx.id_tag is None:
            tx.id_tag = id_tag
        if tx.meter_start_wh is None:
            tx.meter_start_wh = _meter_start_wh(parsed)
        # The station's own start reading, or else the register as it stood (a guess).
        reported = tx.meter_start_wh is not None
        if tx.meter_start_wh is None and conn.energy_kwh is not None:
            tx.meter_start_wh = conn.energy_kwh * 1000
        tx.meter_last_wh = tx.meter_start_wh
        self._start_session(charger, conn, tx, meter_start=reported)

    def _apply_event(
        self,
        charger: Charger,
        tx: Transaction,
        parsed: list[tuple[datetime, dict[str, float]]],
        charging: ConnectorStatus | None,
        ended: bool,
        timestamp: datetime,
        reason: str,
    ) -> None:
        """An event of a placed session: its readings, its charging state, its end."""
        evse = tx.connector_id
        charger.apply_samples(evse, parsed, tx.transaction_id)
        conn = charger.connector(evse)
        if charging is not None:
            conn.charging_status = charging
        if ended and tx.stop is None:
            self._end_session(charger, tx, timestamp, reason)
            conn.charging_status = None
        conn.refresh_occupied_status()
        charger.notify((evse,))

    def _ended_unknown(
        self,
        charger: Charger,
        transaction_id: str,
        evse: int | None,
        parsed: list[tuple[datetime, dict[str, float]]],
        timestamp: datetime,
        reason: str,
    ) -> None:
        """Ended for a session never seen (Home Assistant lost or restored its storage): the
        station retries refused transaction messages, so it is acknowledged; what it carries
        is recorded: with its EVSE, as a session; without, its readings as the station's."""
        self.connection.log_once.once(
            "unknown-tx", "TransactionEvent Ended for unknown transaction %s", transaction_id
        )
        if not any(values for _, values in parsed):
            return
        if evse is None:
            conn = charger.apply_samples(0, parsed)
            self.port.save_soon()
            charger.notify((conn.connector_id,))
            return
        tx = Transaction(
            transaction_id=transaction_id,
            connector_id=evse,
            id_tag=None,
            start=timestamp,
            meter_start_wh=_meter_start_wh(parsed),
        )
        self._place(charger, tx, evse, None, parsed)
        self._apply_event(charger, tx, parsed, None, True, timestamp, reason)
