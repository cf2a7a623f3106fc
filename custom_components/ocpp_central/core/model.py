"""Version-independent model: charger -> connectors -> transaction, readings, errors.

Protocol handlers translate OCPP messages into calls on this model; entities read it.
Nothing here knows about Home Assistant or a particular OCPP version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .bounds import FUTURE_TOLERANCE, MAX_CONNECTORS
from .clock import utcnow
from .limits import ChargingLimit
from .measurands import ENERGY
from .smart.state import SmartConnector
from .status import (
    DIAGNOSTICS_STATUSES,
    ERROR_CODES,
    FIRMWARE_STATUSES,
    STATUS_PRIORITY,
    ChargerInfo,
    ConnectorStatus,
    ErrorInfo,
    occupied_status,
)
from .transaction import Transaction, iso_or_none, stored_time

# The model's values, importable from here as they always were.
__all__ = [
    "DIAGNOSTICS_STATUSES",
    "ERROR_CODES",
    "FIRMWARE_STATUSES",
    "Charger",
    "ChargerInfo",
    "Connector",
    "ConnectorStatus",
    "ErrorInfo",
    "Transaction",
]


# Readings compared in Wh after a kWh round trip differ by float noise, not by this.
_WH_TOLERANCE = 0.001


@dataclass(slots=True)
class Connector:
    """One connector (EVSE outlet). Connector 0 stands for the charger as a whole."""

    connector_id: int
    status: ConnectorStatus | None = None
    error: ErrorInfo = field(default_factory=ErrorInfo)
    # Live readings by entity key (power, current_l1 ...), in HA units.
    readings: dict[str, float] = field(default_factory=dict)
    # Timestamp of the newest sample applied; older (queued) samples do not overwrite readings.
    reading_time: datetime | None = None
    # The charger's register, kWh, as its meter counts. Persisted; never lowered by a glitch.
    energy_kwh: float | None = None
    # Added to the register to make the lifetime total: when the register restarts (a meter
    # that counts each session from 0, a replaced meter), the energy counted so far moves
    # here, so the total only rises. Persisted.
    energy_offset_kwh: float = 0.0
    # Whether the register is known to restart at every session. Persisted.
    session_meter: bool = False
    # A lower reading waiting for the next one to confirm it, and whether it opened a session.
    energy_pending_drop: float | None = None
    pending_drop_at_session_start: bool = False
    # The next register reading is the first of a session (set when a session starts).
    session_reading_due: bool = False
    # Every measurand key ever reported (persisted so its entity is created at startup).
    measurands: set[str] = field(default_factory=set)
    transaction: Transaction | None = None
    last_session: Transaction | None = None
    # The limit the user set; re-applied whenever the charger comes back.
    limit: ChargingLimit | None = None
    # Whether it went out as a TxProfile, which the charger drops when the session ends.
    limit_in_transaction: bool = False
    smart: SmartConnector = field(default_factory=SmartConnector)
    # OCPP 2.x: the EVSE reported Occupied, and the status its session's charging state
    # stands for. Live (not stored), but on the model: a station reconnecting mid-session
    # reports Occupied again, and must still show what its session is doing.
    occupied: bool = False
    charging_status: ConnectorStatus | None = None

    def refresh_occupied_status(self) -> None:
        """An Occupied EVSE shows what its session does (see core.status.occupied_status)."""
        if self.occupied:
            self.status = occupied_status(
                self.transaction is not None,
                self.last_session is not None,
                self.status,
                self.charging_status,
            )

    @property
    def session(self) -> Transaction | None:
        """The session in progress, else the last one."""
        return self.transaction or self.last_session

    @property
    def lifetime_energy_kwh(self) -> float | None:
        """The lifetime total: the register plus what it counted before it restarted."""
        if self.energy_kwh is None:
            return None
        return round(self.energy_kwh + self.energy_offset_kwh, 6)

    def session_began(self) -> None:
        """A session started here: its first register reading may restart the register."""
        self.session_reading_due = True

    def update_energy_register(self, kwh: float, *, live: bool) -> bool:
        """Apply a register reading; return whether the register changed.

        A single low or zero reading is a glitch and is dropped. A lower value is taken
        only when the next reading confirms it by rising from there (a replaced meter, or
        a meter that counts each session from 0); the register then restarts and what it
        had counted joins the offset, so the lifetime total never falls. A meter known to
        restart at every session (it fell back when a session opened, or its sessions
        start at 0 one after another) restarts at the session's first reading right away.
        """
        current = self.energy_kwh
        at_session_start, self.session_reading_due = self.session_reading_due, False
        if current is None or kwh >= current:
            self.energy_pending_drop = None
            if kwh == current:
                return False
            self.energy_kwh = kwh
            return True
        if at_session_start and (self.session_meter or self._sessions_start_at_zero(kwh)):
            self.session_meter = True
            self._restart_register(self._session_base(kwh))
            self.energy_kwh = kwh
            return True
        if not live:
            return False
        pending = self.energy_pending_drop
        if pending is not None and pending < kwh:
            if self.pending_drop_at_session_start:
                self.session_meter = True
                pending = self._session_base(pending)
            self._restart_register(pending)
            self.energy_kwh = kwh
            return True
        if pending is None or kwh < pending:
            self.pending_drop_at_session_start = at_session_start
        self.energy_pending_drop = kwh
        return False

    def _sessions_start_at_zero(self, kwh: float) -> bool:
        """meterStart 0 session after session: the meter counts sessions, not a lifetime."""
        last = self.last_session
        return kwh == 0 and last is not None and last.meter_start_wh == 0

    def _session_base(self, kwh: float) -> float:
        """Where a restarted session meter counted from: the session's start reading, or 0
        when the session took its start from the old register (it reported none)."""
        tx = self.transaction
        start = tx.meter_start_wh if tx is not None else None
        if start is not None and abs(start - kwh * 1000) > _WH_TOLERANCE:
            return 0.0
        return kwh

    def _restart_register(self, base: float) -> None:
        """The register restarted from `base`: keep what it counted in the offset."""
        assert self.energy_kwh is not None
        self.energy_offset_kwh = round(self.energy_offset_kwh + self.energy_kwh - base, 6)
        self.energy_kwh = base
        self.energy_pending_drop = None
        tx = self.transaction
        if tx is not None and (
            tx.meter_start_wh is None or tx.meter_start_wh > base * 1000 + _WH_TOLERANCE
        ):
            # The session took its start from the old register: it starts where this one did.
            tx.meter_start_wh = tx.meter_last_wh = base * 1000

    def as_dict(self) -> dict[str, Any]:
        """Serialize what must survive a restart."""
        return {
            "energy_kwh": self.energy_kwh,
            "energy_offset_kwh": self.energy_offset_kwh,
            "session_meter": self.session_meter,
            # Kept so samples a charger resends after a restart are known to be old.
            "reading_time": iso_or_none(self.reading_time),
            "measurands": sorted(self.measurands),
            "transaction": self.transaction.as_dict() if self.transaction else None,
            "last_session": self.last_session.as_dict() if self.last_session else None,
            "limit": self.limit.as_dict() if self.limit else None,
            "smart": self.smart.as_dict(),
        }

    @classmethod
    def from_dict(cls, connector_id: int, data: dict[str, Any]) -> Connector:
        """Restore from storage."""
        tx, last, limit = data.get("transaction"), data.get("last_session"), data.get("limit")
        reading_time = stored_time(data.get("reading_time"))
        if reading_time is not None and reading_time - utcnow() > FUTURE_TOLERANCE:
            # Stored from a charger clock far ahead (before such times were refused as
            # "newest"): kept, it would make every real reading look old.
            reading_time = None
        return cls(
            connector_id=connector_id,
            energy_kwh=data.get("energy_kwh"),
            energy_offset_kwh=float(data.get("energy_offset_kwh") or 0.0),
            session_meter=bool(data.get("session_meter", False)),
            reading_time=reading_time,
            measurands=set(data.get("measurands", [])),
            transaction=Transaction.from_dict(tx) if tx else None,
            last_session=Transaction.from_dict(last) if last else None,
            limit=ChargingLimit.from_dict(limit) if limit else None,
            smart=SmartConnector.from_dict(data.get("smart")),
        )


type UpdateListener = Callable[[], None]
type ConnectorListener = Callable[["Charger", Connector], None]
type MeasurandListener = Callable[["Charger", Connector, str], None]
# Energy register readings (time, Wh) credited to a session, once per message.
type SessionReadingsListener = Callable[
    ["Charger", Transaction, list[tuple[datetime, float]]], None
]


class Charger:
    """A charger and its connectors, and who to tell when they change."""

    def __init__(self, charger_id: str) -> None:
        """Initialize an empty charger."""
        self.charger_id = charger_id
        self.info = ChargerInfo()
        self.connected = False
        # Its second central system (upstream) is connected and accepted it.
        self.upstream_connected = False
        self.last_seen: datetime | None = None
        self.firmware_status: str | None = None
        self.diagnostics_status: str | None = None
        # OCPP configuration keys as last read from the charger (GetConfiguration).
        self.configuration: dict[str, str] = {}
        self.connectors: dict[int, Connector] = {0: Connector(0)}
        # Keyed by connector id; None is the charger-level view, told of every change.
        self._listeners: dict[int | None, list[UpdateListener]] = {}
        self.on_new_connector: ConnectorListener | None = None
        self.on_new_measurand: MeasurandListener | None = None
        self.on_session_readings: SessionReadingsListener | None = None

    # --- structure -------------------------------------------------------------------

    @property
    def outlet_ids(self) -> list[int]:
        """Ids of the physical connectors (not the charger-level connector 0)."""
        return sorted(cid for cid in self.connectors if cid > 0)

    def connector(self, connector_id: int) -> Connector:
        """Return a connector, creating it (and announcing it) on first sight."""
        if (conn := self.connectors.get(connector_id)) is not None:
            return conn
        if (
            not 0 <= connector_id <= MAX_CONNECTORS
        ):  # bad input must not add a (persisted) connector
            raise ValueError(f"invalid connector id {connector_id}")
        conn = self.connectors[connector_id] = Connector(connector_id)
        if connector_id > 0 and self.on_new_connector is not None:
            self.on_new_connector(self, conn)
        return conn

    def meter_target(self, connector_id: int) -> Connector:
        """Where readings for a connector go; a single outlet also takes connector 0's."""
        if connector_id == 0 and len(self.outlet_ids) <= 1:
            return self.connector(self.outlet_ids[0] if self.outlet_ids else 1)
        return self.connector(connector_id)

    def _announce(self, conn: Connector, key: str) -> None:
        if key not in conn.measurands:
            conn.measurands.add(key)
            if self.on_new_measurand is not None:
                self.on_new_measurand(self, conn, key)

    def update_energy(self, conn: Connector, kwh: float, *, live: bool) -> None:
        """Apply a lifetime register reading (see Connector.update_energy_register)."""
        conn.update_energy_register(kwh, live=live)
        self._announce(conn, ENERGY)

    def apply_samples(
        self,
        connector_id: int,
        samples: list[tuple[datetime, dict[str, float]]],
        transaction_id: int | str | None = None,
    ) -> Connector:
        """Apply meter samples; return the connector they were applied to.

        Samples older than what was already applied (queued while offline) only feed
        the energy register and their session; they do not overwrite live readings.
        """
        conn = self.meter_target(connector_id)
        tx = conn.transaction
        if transaction_id is not None:
            tx = self.find_transaction(transaction_id) or tx
        session_readings: list[tuple[datetime, float]] = []
        for timestamp, values in sorted(samples, key=lambda sample: sample[0]):
            live = conn.reading_time is None or timestamp >= conn.reading_time
            for key, value in values.items():
                if key == ENERGY:
                    self.update_energy(conn, value, live=live)
                    if tx is not None and (tx.stop is None or timestamp <= tx.stop):
                        tx.add_meter_reading(value * 1000)
                        session_readings.append((timestamp, value * 1000))
                elif live:
                    conn.readings[key] = value
                    self._announce(conn, key)
            if live:
                conn.reading_time = timestamp
        if session_readings and tx is not None and self.on_session_readings is not None:
            self.on_session_readings(self, tx, session_readings)
        return conn

    def find_transaction(self, transaction_id: int | str) -> Transaction | None:
        """Find a running (or just finished) transaction by id."""
        for conn in self.connectors.values():
            for tx in (conn.transaction, conn.last_session):
                if tx is not None and tx.transaction_id == transaction_id:
                    return tx
        return None

    # --- derived charger-level views ---------------------------------------------------

    @property
    def status(self) -> ConnectorStatus | None:
        """The charger's own status, else the most significant connector status."""
        if (own := self.connectors[0].status) is not None and own != ConnectorStatus.AVAILABLE:
            return own
        statuses = {c.status for cid, c in self.connectors.items() if cid > 0 and c.status}
        for status in STATUS_PRIORITY:
            if status in statuses:
                return status
        return own

    @property
    def error(self) -> ErrorInfo:
        """The charger's own error, else the first connector's error."""
        for cid in sorted(self.connectors):
            if self.connectors[cid].error.active:
                return self.connectors[cid].error
        return self.connectors[0].error

    @property
    def problem(self) -> bool:
        """Whether anything on this charger reports an error or is faulted."""
        return any(
            c.error.active or c.status == ConnectorStatus.FAULTED for c in self.connectors.values()
        )

    # --- listeners ---------------------------------------------------------------------

    def add_listener(
        self, connector_id: int | None, listener: UpdateListener
    ) -> Callable[[], None]:
        """Listen to changes of one connector (or, with None, of the whole charger)."""
        listeners = self._listeners.setdefault(connector_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    def notify(self, connector_ids: Iterable[int] = ()) -> None:
        """Tell listeners of these connectors, and the charger-level ones, to re-read."""
        for cid in {*connector_ids, None}:
            for listener in list(self._listeners.get(cid, ())):
                listener()

    def notify_all(self) -> None:
        """Tell every listener to re-read (connection state changed)."""
        self.notify(self.connectors)

    # --- persistence -------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """Serialize what must survive a restart."""
        return {
            "info": {
                "vendor": self.info.vendor,
                "model": self.info.model,
                "serial": self.info.serial,
                "firmware": self.info.firmware,
            },
            "last_seen": iso_or_none(self.last_seen),
            "firmware_status": self.firmware_status,
            "configuration": dict(self.configuration),
            "connectors": {str(cid): c.as_dict() for cid, c in self.connectors.items()},
        }

    @classmethod
    def from_dict(cls, charger_id: str, data: dict[str, Any]) -> Charger:
        """Restore from storage."""
        charger = cls(charger_id)
        charger.info = ChargerInfo(**data.get("info", {}))
        charger.last_seen = stored_time(data.get("last_seen"))
        charger.firmware_status = data.get("firmware_status")
        charger.configuration = dict(data.get("configuration", {}))
        for cid, conn in data.get("connectors", {}).items():
            charger.connectors[int(cid)] = Connector.from_dict(int(cid), conn)
        return charger
