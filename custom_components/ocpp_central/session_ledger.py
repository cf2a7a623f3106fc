"""The central system's ledger of charging sessions: fed as sessions run, priced, stored.

Two places keep it, so that a 10,000-session history is written only when a session ends:
- its own Store (`ocpp_central.<entry>.sessions`, atomic writes) holds the ended sessions and
  is written the moment one ends;
- the running sessions (and ended ones whose write has not finished yet) ride along in the
  central system's own store, which is written as readings arrive anyway.
Loading merges the two: an ended record wins over a running one of the same session, else
the central system's (newer) copy does. The first load seeds the ledger from the sessions the
central system kept before there was a ledger (the core's stored version 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
import logging
import time
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .attribution import RemoteStarts, Starter
from .const import DOMAIN
from .core.ledger import LEDGER_VERSION, Ledger, SessionRecord, Tariff, migrate
from .core.model import Charger, Transaction
from .price_source import PriceSource

if TYPE_CHECKING:
    from .parts import CentralView

_LOGGER = logging.getLogger(__name__)

# The key under which running sessions ride along in the central system's store.
CENTRAL_KEY = "ledger"

type Identity = tuple[Any, str, Any]


class LedgerStore(Store[dict[str, Any]]):
    """The ended sessions; older stored forms are brought up to date by the core's migrate."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        return migrate(old_major_version, old_data)


def ledger_store(hass: HomeAssistant, entry_id: str) -> LedgerStore:
    """Where a central system keeps its ended sessions."""
    return LedgerStore(hass, LEDGER_VERSION, f"{DOMAIN}.{entry_id}.sessions", atomic_writes=True)


def _identity(item: Any) -> Identity | None:
    """One session however stored: charger, transaction id (as text) and start."""
    if not isinstance(item, Mapping):
        return None
    return item.get("charger_id"), str(item.get("transaction_id")), item.get("start")


def _v1_sessions(central_data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sessions the central system kept before the ledger (one running, one last per
    connector), in the core's stored version 1."""
    sessions: list[dict[str, Any]] = []
    chargers = central_data.get("chargers")
    for charger_id, charger in chargers.items() if isinstance(chargers, Mapping) else ():
        connectors = charger.get("connectors") if isinstance(charger, Mapping) else None
        for conn in connectors.values() if isinstance(connectors, Mapping) else ():
            for key in ("last_session", "transaction"):
                if isinstance(conn, Mapping) and isinstance(tx := conn.get(key), Mapping):
                    sessions.append({**tx, "charger_id": charger_id})
    return sessions


def combine(stored: Iterable[Any], carried: Any) -> tuple[list[Any], bool]:
    """The ledger store's sessions with those the central store carried (see the module doc),
    and whether any of those had ended (so the ledger store must be written)."""
    merged: dict[Identity | None, Any] = {}
    extra: list[Any] = []
    for item in stored:
        if (identity := _identity(item)) is None:
            extra.append(item)  # unreadable: from_dict counts it as skipped
        else:
            merged[identity] = item
    sessions: list[Any] = []
    if isinstance(carried, Mapping) and isinstance(carried.get("sessions"), list):
        try:
            sessions = migrate(carried.get("version", LEDGER_VERSION), carried)["sessions"]
        except (TypeError, ValueError):
            sessions = []
    ended = False
    for item in sessions:
        identity = _identity(item)
        known = merged.get(identity)
        if identity is not None and (known is None or known.get("end") is None):
            merged[identity] = item
            ended = ended or item.get("end") is not None
    return [*merged.values(), *extra], ended


class SessionLedger:
    """The ledger of one central system, and what keeps it fed, priced and stored."""

    def __init__(self, central: CentralView, prices: PriceSource) -> None:
        """Empty until async_load()."""
        self.central = central
        self.hass = central.hass
        self.prices = prices
        self.ledger = Ledger()
        self.store = ledger_store(self.hass, central.entry.entry_id)
        self.remote_starts = RemoteStarts(self.hass)
        self.load_seconds = 0.0
        # Ended sessions whose ledger-store write has not finished (the central store keeps them).
        self._unsaved: dict[Identity, SessionRecord] = {}
        self._unsubs: list[CALLBACK_TYPE] = []

    # --- lifecycle ----------------------------------------------------------------------------

    async def async_load(self, central_data: Mapping[str, Any]) -> None:
        """Load (or seed) the ledger, prune it, and start following prices and the calendar."""
        began = time.perf_counter()
        stored = await self.store.async_load()
        seeded = stored is None
        if stored is None:
            stored = migrate(1, {"sessions": _v1_sessions(central_data)})
        sessions, carried_ended = combine(
            stored.get("sessions") or (), central_data.get(CENTRAL_KEY)
        )
        # Building 10,000 records takes a tenth of a second or so: not in the event loop.
        self.ledger = await self.hass.async_add_executor_job(
            partial(Ledger.from_dict, {"sessions": sessions}, now=dt_util.utcnow())
        )
        self.load_seconds = time.perf_counter() - began
        _LOGGER.debug(
            "Loaded %s sessions (%s skipped) in %.3f s",
            len(self.ledger),
            self.ledger.skipped,
            self.load_seconds,
        )
        self._unsubs.append(self.prices.subscribe(self._prices_changed))
        self._unsubs.append(
            async_track_time_change(self.hass, self._daily_prune, hour=4, minute=7, second=0)
        )
        if carried_ended or (seeded and len(self.ledger) > len(self.ledger.running())):
            self.save_now()  # the ended sessions that are not in the ledger store yet

    async def async_stop(self) -> None:
        """Stop following; finish the write of any session that ended."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._unsaved:
            await self._async_save()

    def central_data(self) -> dict[str, Any]:
        """What rides along in the central system's store: running and not yet saved sessions."""
        records = [*self.ledger.running(), *self._unsaved.values()]
        return {"version": LEDGER_VERSION, "sessions": [record.as_dict() for record in records]}

    @callback
    def save_now(self) -> None:
        """Write the ended sessions now: a task of the entry's, which unloading the entry
        waits for (only background tasks are cancelled), as HA does when it stops."""
        self.central.entry.async_create_task(
            self.hass, self._async_save(), f"{DOMAIN} save sessions"
        )

    async def _async_save(self) -> None:
        written = list(self._unsaved.items())
        data = {"sessions": [record.as_dict() for record in self.ledger if not record.running]}
        await self.store.async_save(data)
        for identity, record in written:
            if self._unsaved.get(identity) is record:
                del self._unsaved[identity]
        if written:
            self.central.save_soon()  # the central store no longer needs to carry them

    # --- fed by the central system -----------------------------------------------------------

    def session_started(self, charger: Charger, tx: Transaction, *, meter_start: bool) -> None:
        """A session started; `meter_start` says the charger reported its start reading."""
        starter = self.remote_starts.match(
            charger.charger_id, tx.connector_id, tx.id_tag, dt_util.utcnow()
        )
        self._start(charger.charger_id, tx, starter, meter_start=meter_start)

    def readings(
        self, charger: Charger, tx: Transaction, readings: list[tuple[datetime, float]]
    ) -> None:
        """Energy register readings (time, Wh) of a session (one call per message)."""
        charger_id = charger.charger_id
        if self.ledger.add_readings(charger_id, tx.transaction_id, readings, now=dt_util.utcnow()):
            return
        record = self.ledger.get(charger_id, tx.transaction_id)
        if tx.stop is None and (record is None or record.start != tx.start):
            # A session the ledger never saw start (lost before its record was stored).
            self._start(charger_id, tx, None, meter_start=True)
            self.ledger.add_readings(charger_id, tx.transaction_id, readings, now=dt_util.utcnow())

    def session_ended(
        self, charger: Charger, tx: Transaction, reason: str | None, meter_stop_wh: float | None
    ) -> None:
        """A session ended (`tx.stop` is set), also one a charger queued while offline."""
        assert tx.stop is not None
        charger_id = charger.charger_id
        record = self.ledger.get(charger_id, tx.transaction_id)
        if record is None or (not record.running and record.start != tx.start):
            record = self._start(charger_id, tx, None, meter_start=True)
        if not record.running:
            return  # the first stop wins
        if record.id_tag is None and tx.id_tag is not None:  # authorized after it started
            record.id_tag, record.id_tag_name = tx.id_tag, self._tag_name(tx.id_tag)
        if record.meter_start_wh is None:
            record.meter_start_wh = tx.meter_start_wh
        stop_wh = meter_stop_wh if meter_stop_wh is not None else tx.meter_last_wh
        self.ledger.end_session(
            charger_id, tx.transaction_id, tx.stop, meter_stop_wh=stop_wh, stop_reason=reason
        )
        self._unsaved[record.charger_id, str(record.transaction_id), record.start.isoformat()] = (
            record
        )
        self.save_now()

    def _start(
        self, charger_id: str, tx: Transaction, starter: Starter | None, *, meter_start: bool
    ) -> SessionRecord:
        settings = self.prices.settings
        tariff = Tariff(
            self.prices.currency,
            fixed_price=None if settings.has_source else settings.fixed_price,
            surcharge=settings.surcharge,
        )
        return self.ledger.start_session(
            charger_id,
            tx.connector_id,
            tx.transaction_id,
            tx.start,
            tariff,
            meter_start_wh=tx.meter_start_wh if meter_start else None,
            id_tag=tx.id_tag,
            id_tag_name=self._tag_name(tx.id_tag),
            user_id=starter.user_id if starter else None,
            user_name=starter.user_name if starter else None,
            prices=self.prices.periods_for_cost() if settings.has_source else (),
        )

    def _tag_name(self, id_tag: str | None) -> str | None:
        tag = self.central.authorization.tags.get(id_tag.upper()) if id_tag else None
        return tag.name if tag is not None else None

    # --- prices and retention -----------------------------------------------------------------

    @callback
    def _prices_changed(self) -> None:
        if not self.prices.settings.has_source:
            return
        repriced = self.ledger.note_prices(self.prices.periods_for_cost())
        for record in repriced:
            if (charger := self.central.chargers.get(record.charger_id)) is not None:
                charger.notify((record.connector_id,))
        if repriced:
            self.central.save_soon()

    @callback
    def _daily_prune(self, now: datetime) -> None:
        if self.ledger.prune(dt_util.utcnow()):
            self.save_now()

    # --- what entities, actions and diagnostics read -------------------------------------------

    def latest(self, charger_id: str, connector_id: int) -> SessionRecord | None:
        """The connector's session running or last started."""
        return self.ledger.latest(charger_id, connector_id)

    def diagnostics(self) -> dict[str, Any]:
        """Counts only: never id tags or users."""
        return {
            "sessions": len(self.ledger),
            "running": len(self.ledger.running()),
            "skipped": self.ledger.skipped,
            "unsaved": len(self._unsaved),
        }
