"""Version-independent model: charger -> connectors -> transaction, readings, errors.

Protocol handlers translate OCPP messages into calls on this model; entities read it.
Nothing here knows about Home Assistant or a particular OCPP version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .bounds import MAX_CONNECTORS
from .connector import Connector
from .measurands import ENERGY
from .status import (
    DIAGNOSTICS_STATUSES,
    ERROR_CODES,
    FIRMWARE_STATUSES,
    STATUS_PRIORITY,
    ChargerInfo,
    ConnectorStatus,
    ErrorInfo,
)
from .transaction import Transaction, iso_or_none, stored_time

# The model's values, importable from here with the model itself.
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
