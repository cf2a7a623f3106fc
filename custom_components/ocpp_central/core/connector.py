"""One connector of a charger: its status, readings, energy register and sessions.

Connector 0 stands for the charger as a whole. model.py's Charger holds its connectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .bounds import FUTURE_TOLERANCE
from .clock import utcnow
from .limits import ChargingLimit
from .smart.state import SmartConnector
from .status import (
    ConnectorStatus,
    ErrorInfo,
    occupied_status,
)
from .transaction import Transaction, iso_or_none, stored_time

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
