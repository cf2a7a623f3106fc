"""The central system of one config entry: chargers, their connections, storage, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
import hmac
import logging
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigSubentry,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from ocpp.exceptions import OCPPError
from websockets.asyncio.server import ServerConnection

from .authorization import Authorization
from .cause import current_cause, update_cause
from .connection import (
    CallErrorReceived,
    CallTimeoutError,
    LogOnce,
    NotConnectedError,
    OcppConnection,
    preload_schemas,
)
from .const import (
    CALL_TIMEOUT,
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_MAX_CURRENT,
    CONF_METER_INTERVAL,
    CONF_NEW_CHARGERS,
    CONF_PHASES,
    CONF_REQUIRE_PASSWORD,
    CONF_SSL_CAFILE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_VOLTAGE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DOMAIN,
    EVENT_ERROR,
    EVENT_ID_TAG,
    EVENT_SECURITY,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
    NEW_CHARGERS_ACCEPT,
    NEW_CHARGERS_ASK,
    NEW_CHARGERS_REJECT,
    STORAGE_VERSION,
    SUBENTRY_CHARGER,
)
from .devices import ChargerDevices
from .hub.charger_port import ChargerPort
from .limits import DEFAULT_MAX_CURRENT, DEFAULT_PHASES, DEFAULT_VOLTAGE, ElectricalSettings
from .model import Charger, ChargerInfo, Connector, ErrorInfo, Transaction
from .price_source import PriceSource
from .protocol import ChargerProtocol, NotInVersion, snake
from .protocol.port import BootDecision
from .protocol.v16 import V16Protocol
from .protocol.v201 import V201Protocol
from .repairs import async_create_auth_issue, async_delete_auth_issue, async_delete_reboot_issue
from .server import SUPPORTED_SUBPROTOCOLS, OcppServer, ServerSettings, create_ssl_context
from .session_ledger import CENTRAL_KEY, SessionLedger
from .smart_charging.hub import SmartCharging
from .upstreams import Upstreams

_LOGGER = logging.getLogger(__name__)

BOOT_NOTIFICATION = "BootNotification"  # the same action name in every OCPP version

type OcppConfigEntry = ConfigEntry[CentralSystem]

# An acknowledged reading is on disk within SAVE_DELAY_READINGS seconds (the durability
# window in docs/security.md): every reading in between joins one write, so the store is
# written at most every 2 s however many chargers report. Transactions and approvals are
# written right away.
SAVE_DELAY_READINGS = 2
SAVE_DELAY_TRANSACTIONS = 0
# Unknown chargers waiting for approval at most (each has a discovered flow).
MAX_PENDING = 20
# OCPP versions whose schemas this process has loaded.
_PRELOADED: set[str] = set()
# Failed handshakes from one address before the user is told.
AUTH_REPORT_AFTER = 3
# last_seen moves on only when it is this much behind (it is no reading: see _message).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def server_settings(entry: ConfigEntry) -> ServerSettings:
    """Server settings from an entry's data."""
    return ServerSettings(
        host=entry.data.get(CONF_HOST, DEFAULT_HOST),
        port=entry.data.get(CONF_PORT, DEFAULT_PORT),
        ssl_certfile=entry.data.get(CONF_SSL_CERTFILE) or None,
        ssl_keyfile=entry.data.get(CONF_SSL_KEYFILE) or None,
        ssl_cafile=entry.data.get(CONF_SSL_CAFILE) or None,
    )


def central_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a central system keeps sessions, registers, id tags and counters."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")


def charger_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Approved chargers of an entry, by charger id."""
    return {
        sub.data[CONF_CHARGER_ID]: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CHARGER
    }


def owner_elsewhere(hass: HomeAssistant, entry_id: str, charger_id: str) -> ConfigEntry | None:
    """The other central system (entry) a charger id already belongs to, if any.

    A charger id is a device identifier, a unique id and a repair id: it can belong to one
    central system only.
    """
    for other in hass.config_entries.async_entries(DOMAIN):
        if other.entry_id != entry_id and charger_id in charger_subentries(other):
            return other
    return None


class CentralSystem:
    """Runs the OCPP server of one config entry and keeps its chargers' model."""

    def __init__(self, hass: HomeAssistant, entry: OcppConfigEntry) -> None:
        """Initialize; async_start() loads storage and starts listening."""
        self.hass = hass
        self.entry = entry
        self.store = central_store(hass, entry.entry_id)
        self.chargers: dict[str, Charger] = {}
        self.sessions: dict[str, ChargerProtocol] = {}
        self.pending: dict[str, ChargerInfo] = {}
        self.authorization = Authorization(self)
        self.server = OcppServer(
            server_settings(entry),
            self._on_connect,
            self._check_password,
            on_auth_failure=self._auth_failed,
            on_auth_success=self._auth_succeeded,
        )
        self._stored: dict[str, Any] = {}
        self._next_transaction_id = 1
        self._next_reservation_id = 1
        self._save_timer: asyncio.TimerHandle | None = None  # the next scheduled save
        self.subentry_ids: dict[str, str] = {}
        # The password each connected charger authenticated with (None: none needed).
        self._session_passwords: dict[str, str | None] = {}
        self._accepting: set[str] = set()  # chargers being accepted by policy in a boot answer
        self.devices = ChargerDevices(self)
        self.smart = SmartCharging(self)
        self.upstreams = Upstreams(self)
        # What was logged once for each approved charger, across its connections.
        self._log_once: dict[str, LogOnce] = {}
        self.prices = PriceSource(hass, entry)
        self.ledger = SessionLedger(self, self.prices)

    # --- lifecycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load storage, restore approved chargers and start the server (OSError if not)."""
        data = await self.store.async_load() or {}
        self._stored = data.get("chargers", {})
        self._next_transaction_id = data.get("next_transaction_id", 1)
        self._next_reservation_id = data.get("next_reservation_id", 1)
        self.authorization.load(data)
        await self.ledger.async_load(data)
        await self.prices.async_start()
        for subentry in charger_subentries(self.entry).values():
            self._add_charger(subentry)
        for version in set(SUPPORTED_SUBPROTOCOLS.values()) - _PRELOADED:
            await self.hass.async_add_executor_job(preload_schemas, version)
            _PRELOADED.add(version)
        settings = self.server.settings
        ssl_context = None
        if settings.ssl_certfile:
            ssl_context = await self.hass.async_add_executor_job(
                create_ssl_context, settings.ssl_certfile, settings.ssl_keyfile, settings.ssl_cafile
            )
        await self.server.start(ssl_context)
        self.smart.start()

    async def async_stop(self) -> None:
        """Stop the server (closing every connection) and save."""
        self.smart.stop()
        await self.server.stop()
        await self.upstreams.async_stop()  # after the chargers: nothing more to forward
        self.prices.stop()
        await self.ledger.async_stop()
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        await self.store.async_save(self._data())

    @callback
    def _data(self) -> dict[str, Any]:
        chargers = dict(self._stored)
        chargers.update({cid: c.as_dict() for cid, c in self.chargers.items()})
        return {
            "chargers": chargers,
            "next_transaction_id": self._next_transaction_id,
            "next_reservation_id": self._next_reservation_id,
            **self.authorization.as_data(),
            CENTRAL_KEY: self.ledger.central_data(),
        }

    @callback
    def save_soon(self, delay: float = SAVE_DELAY_READINGS) -> None:
        """Save within `delay` seconds, coalescing the saves asked for in between.

        One timer, for the earliest due time: Store.async_delay_save restarts its timer on
        every call, so a charger reporting more often than `delay` would postpone the save
        forever.
        """
        due = self.hass.loop.time() + delay
        if self._save_timer is not None:
            if self._save_timer.when() <= due:
                return
            self._save_timer.cancel()
        self._save_timer = self.hass.loop.call_at(due, self._save_now)

    @callback
    def _save_now(self) -> None:
        """Write a snapshot now. It is taken here, in the event loop (a data function given
        to the store would run in its writer thread, while the model may change)."""
        self._save_timer = None
        self.entry.async_create_task(
            self.hass, self.store.async_save(self._data()), f"{DOMAIN} save"
        )

    async def async_entry_updated(self) -> None:
        """Apply a changed entry: reload for server settings, else sync chargers live."""
        if server_settings(self.entry) != self.server.settings:
            self.hass.config_entries.async_schedule_reload(self.entry.entry_id)
            return
        approved = charger_subentries(self.entry)
        for charger_id in set(self.chargers) - set(approved):
            await self._remove_charger(charger_id)
        # A connection authenticated under other rules than the current ones must reconnect.
        require = self.entry.options.get(CONF_REQUIRE_PASSWORD, False)
        for charger_id, session in list(self.sessions.items()):
            sub = approved.get(charger_id)
            password = sub.data.get(CONF_PASSWORD) if sub else None
            if password != self._session_passwords.get(charger_id) or (require and not password):
                await session.connection.close()
        for charger_id, subentry in approved.items():
            if charger_id not in self.chargers:
                self._add_charger(subentry)
            else:
                if (live := self.sessions.get(charger_id)) is not None:
                    live.connection.lenient = bool(subentry.data.get(CONF_LENIENT))
                # Settings such as max_current change what entities show (the limit's range).
                self.chargers[charger_id].notify_all()
        self.smart.settings_changed()
        self.upstreams.settings_changed()

    # --- connections -------------------------------------------------------------------

    @callback
    def set_charger_password(self, charger_id: str, password: str) -> None:
        """Store a charger's new password; its connection is renewed to use it."""
        subentry = charger_subentries(self.entry)[charger_id]
        self.hass.config_entries.async_update_subentry(
            self.entry, subentry, data={**subentry.data, CONF_PASSWORD: password}
        )

    def _check_password(self, charger_id: str, password: str | None) -> bool:
        """Whether a handshake may proceed.

        A charger with a password must send it; without one, it may connect unless the
        entry requires passwords from every charger.
        """
        subentry = charger_subentries(self.entry).get(charger_id)
        required = subentry.data.get(CONF_PASSWORD) if subentry else None
        if required:
            if password is None:
                return False
            # OCPP 1.6 sends a password to the charger hex-encoded (AuthorizationKey); a
            # charger that takes that value as the password itself sends the hex form.
            given = password.encode()
            plain = hmac.compare_digest(given, required.encode())
            hexed = hmac.compare_digest(given, required.encode().hex().encode())
            return plain or hexed
        return not self.entry.options.get(CONF_REQUIRE_PASSWORD, False)

    def _auth_failed(self, charger_id: str, address: str, failures: int) -> None:
        """Surface a charger that keeps failing authentication once, not on every attempt."""
        if failures == AUTH_REPORT_AFTER:
            _LOGGER.warning("%s (%s) keeps failing authentication", charger_id, address)
            async_create_auth_issue(self.hass, charger_id, address)

    def _auth_succeeded(self, charger_id: str) -> None:
        async_delete_auth_issue(self.hass, charger_id)

    async def _on_connect(self, websocket: ServerConnection, charger_id: str, version: str) -> None:
        subentry = charger_subentries(self.entry).get(charger_id)
        connection = OcppConnection(
            websocket,
            charger_id,
            version,
            call_timeout=CALL_TIMEOUT,
            lenient=bool(subentry and subentry.data.get(CONF_LENIENT)),
        )
        if subentry is None:
            # An unknown charger whose boot breaks the schema (a long serial number is
            # common) must still be discoverable; it is then added with lenient on.
            connection.lenient_actions = frozenset({BOOT_NOTIFICATION})
        # "Logged once" means once per charger, not once per connection.
        if subentry is not None:
            connection.log_once = self._log_once.setdefault(charger_id, connection.log_once)
        port = ChargerPort(self, charger_id)
        protocol: ChargerProtocol = (
            V16Protocol(port, connection) if version == "1.6" else V201Protocol(port, connection)
        )
        self._session_passwords[charger_id] = subentry.data.get(CONF_PASSWORD) if subentry else None
        connection.message_scope = lambda: self._message(charger_id)
        # The newest connection takes over at once, before anything is awaited: several
        # connections with one id at the same moment then each replace the one before, and
        # exactly the last survives. A replaced one feeds nothing from here on.
        previous = self.sessions.get(charger_id)
        self.sessions[charger_id] = protocol
        self._set_connected(charger_id, True)
        self.upstreams.attach(protocol)
        try:
            if previous is not None:
                _LOGGER.info("%s reconnected; closing its previous connection", charger_id)
                previous.connection.replaced = True
                await previous.connection.close()
            await connection.run()
        finally:
            if self.sessions.get(charger_id) is protocol:
                del self.sessions[charger_id]
                self.upstreams.detach(charger_id)
                self._set_connected(charger_id, False)
                if self.pending.pop(charger_id, None) is not None:
                    # Only connected chargers wait for approval (and count towards the cap).
                    self._abort_pending_flows(charger_id)

    def _set_connected(self, charger_id: str, connected: bool) -> None:
        if (charger := self.chargers.get(charger_id)) is not None:
            charger.connected = connected
            charger.notify_all()

    @contextmanager
    def _message(self, charger_id: str) -> Iterator[None]:
        """Handle one frame from a charger: one cause, and the charger was seen now."""
        with update_cause(Context(), from_call=False):
            try:
                yield
            finally:
                # After the frame's own changes, so that they (not last_seen) come first
                # in its context; a frame from a charger not added yet adds it.
                if (charger := self.chargers.get(charger_id)) is not None:
                    now = dt_util.utcnow().replace(microsecond=0)
                    seen = charger.last_seen
                    if seen is None or not timedelta(0) <= now - seen < LAST_SEEN_RESOLUTION:
                        charger.last_seen = now
                        # Charger-level entities only (last_seen); at most once a minute,
                        # which keeps it out of the way in the logbook and the recorder.
                        charger.notify()

    def session(self, charger_id: str) -> ChargerProtocol:
        """The connected charger's protocol handler; raises when offline."""
        if (session := self.sessions.get(charger_id)) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="charger_offline",
                translation_placeholders={"charger_id": charger_id},
            )
        return session

    # --- chargers ----------------------------------------------------------------------

    def boot(self, charger_id: str, info: ChargerInfo) -> BootDecision:
        """Decide a BootNotification: accepted, pending or rejected."""
        if (charger := self.chargers.get(charger_id)) is not None:
            async_delete_reboot_issue(self.hass, charger_id)
            if info != charger.info:
                charger.info = info
                self.devices.register(charger)
                self.save_soon(SAVE_DELAY_TRANSACTIONS)
            return BootDecision.ACCEPTED
        policy = self.entry.options.get(CONF_NEW_CHARGERS, NEW_CHARGERS_ASK)
        if policy == NEW_CHARGERS_REJECT:
            return BootDecision.REJECTED
        session = self.sessions.get(charger_id)
        if (owner := owner_elsewhere(self.hass, self.entry.entry_id, charger_id)) is not None:
            if session is not None:
                session.connection.log_once.once(
                    "owned-elsewhere",
                    "refused: this charger id belongs to the central system %s",
                    owner.title,
                )
            return BootDecision.REJECTED
        lenient = session is not None and BOOT_NOTIFICATION in session.connection.non_compliant
        # Flows count too: one started just before its charger went away outlives it.
        flows = self.hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"source": SOURCE_INTEGRATION_DISCOVERY}
        )
        if charger_id not in self.pending and max(len(self.pending), len(flows)) >= MAX_PENDING:
            # A flood of unknown ids must not fill Home Assistant with discovered flows.
            _LOGGER.debug("Too many chargers waiting for approval; %s stays pending", charger_id)
            return BootDecision.PENDING
        self.pending[charger_id] = info
        if policy == NEW_CHARGERS_ACCEPT:
            # Accepted in this very answer: no TriggerMessage(BootNotification) needed (the
            # subentry's update listener may add the charger before approve_charger does).
            self._accepting.add(charger_id)
            try:
                self.approve_charger(charger_id, lenient=lenient)
            finally:
                self._accepting.discard(charger_id)
            return BootDecision.ACCEPTED
        self.entry.async_create_task(
            self.hass,
            self.hass.config_entries.flow.async_init(
                DOMAIN,
                context={"source": SOURCE_INTEGRATION_DISCOVERY},
                data={
                    "entry_id": self.entry.entry_id,
                    CONF_CHARGER_ID: charger_id,
                    "vendor": info.vendor or "",
                    "model": info.model or "",
                    CONF_LENIENT: lenient,
                },
            ),
            f"{DOMAIN} discovered {charger_id}",
            eager_start=False,
        )
        return BootDecision.PENDING

    def charger_ready(self, charger_id: str) -> None:
        """An accepted charger (re)connected: learn it and re-apply what the user set."""
        self.smart.charger_ready(charger_id)
        self.upstreams.charger_ready(charger_id)
        if (session := self.sessions.get(charger_id)) is not None:
            self.entry.async_create_background_task(
                self.hass, self._prepare_charger(session), f"{DOMAIN} prepare {charger_id}"
            )

    async def _prepare_charger(self, session: ChargerProtocol) -> None:
        """Read the configuration once per connection, set the meter interval, re-apply
        limits, sync the local list and confirm the sessions left open.

        Each step runs whatever became of the one before it: a station that never sends
        its report, or refuses one request, still gets its limits and its local list.
        Configuration is written only when the user asked for a different value, never
        in a loop: some chargers reboot after every configuration change.
        """
        charger = self.chargers.get(session.charger_id)
        if charger is None:
            return
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("read the configuration", lambda: self._read_configuration(session, charger)),
            ("set the meter interval", lambda: self._set_meter_interval(session, charger)),
            *(
                ("re-apply a limit", partial(self._reapply_stored_limit, session, charger, conn))
                for conn in list(charger.connectors.values())
                if conn.limit is not None
            ),
            ("send the local list", lambda: self.authorization.sync_local_list(session, charger)),
            ("confirm open sessions", lambda: session.confirm_open_sessions(charger)),
        ]
        for what, step in steps:
            await self._prepare_step(session.charger_id, what, step)
        self.save_soon(SAVE_DELAY_TRANSACTIONS)
        charger.notify_all()

    async def _prepare_step(
        self, charger_id: str, what: str, step: Callable[[], Awaitable[None]]
    ) -> None:
        """Run one step of preparing a charger; no failure of it may stop the next ones."""
        try:
            await step()
        except (
            NotConnectedError,
            CallTimeoutError,
            CallErrorReceived,
            TimeoutError,
            OCPPError,
        ) as err:
            _LOGGER.info("%s: could not %s: %s", charger_id, what, str(err) or repr(err))
        except Exception:
            _LOGGER.exception("%s: could not %s", charger_id, what)

    async def _read_configuration(self, session: ChargerProtocol, charger: Charger) -> None:
        charger.configuration = {
            key: value
            for key, value in (await session.read_configuration()).items()
            if key != session.password_key  # a secret: not stored, not in diagnostics
        }
        for connector_id in session.connector_ids(charger.configuration):
            charger.connector(connector_id)

    async def _set_meter_interval(self, session: ChargerProtocol, charger: Charger) -> None:
        interval = self.charger_option(session.charger_id, CONF_METER_INTERVAL)
        key = session.meter_interval_key
        if interval and charger.configuration.get(key) != str(interval):
            status = await session.set_configuration(key, str(interval))
            if status in ("accepted", "reboot_required"):
                charger.configuration[key] = str(interval)

    async def _reapply_stored_limit(
        self, session: ChargerProtocol, charger: Charger, conn: Connector
    ) -> None:
        if conn.limit is not None:  # still set
            await self.apply_limit(session, charger, conn)

    async def apply_limit(self, session: ChargerProtocol, charger: Charger, conn: Connector) -> str:
        """Send a connector's limit: bound to the running session, else as the default;
        returns the charger's answer (accepted, rejected, not_supported)."""
        assert conn.limit is not None
        if conn.limit.expired(dt_util.utcnow()):
            # A limit for a while that is over: nothing to re-apply (the charger dropped it).
            conn.limit = None
            self.save_soon(SAVE_DELAY_TRANSACTIONS)
            charger.notify((conn.connector_id,))
            return "accepted"
        tx = conn.transaction
        status = await session.set_charging_limit(
            conn.connector_id, conn.limit, tx.transaction_id if tx else None
        )
        if status == "accepted":
            conn.limit_in_transaction = tx is not None
        return status

    def _charger_subentry(self, charger_id: str) -> ConfigSubentry | None:
        """A charger's subentry, found through its id (entities read settings per message:
        scanning every subentry there would cost O(chargers) per message)."""
        sub_id = self.subentry_ids.get(charger_id)
        sub = self.entry.subentries.get(sub_id) if sub_id is not None else None
        if sub is not None and sub.data.get(CONF_CHARGER_ID) == charger_id:
            return sub
        return charger_subentries(self.entry).get(charger_id)

    def charger_option(self, charger_id: str, key: str) -> Any:
        """A per-charger setting from its subentry."""
        subentry = self._charger_subentry(charger_id)
        return subentry.data.get(key) if subentry else None

    def configuration(self, charger_id: str) -> dict[str, str]:
        """The charger's OCPP configuration as last read."""
        charger = self.chargers.get(charger_id)
        return charger.configuration if charger else {}

    def electrical_settings(self, charger_id: str) -> ElectricalSettings:
        """Limit range and W/A conversion settings of a charger."""
        subentry = self._charger_subentry(charger_id)
        data = subentry.data if subentry else {}
        return ElectricalSettings(
            max_current=float(data.get(CONF_MAX_CURRENT, DEFAULT_MAX_CURRENT)),
            phases=int(data.get(CONF_PHASES, DEFAULT_PHASES)),
            voltage=float(data.get(CONF_VOLTAGE, DEFAULT_VOLTAGE)),
        )

    @callback
    def approve_charger(
        self,
        charger_id: str,
        title: str | None = None,
        *,
        password: str | None = None,
        lenient: bool = False,
        flow_id: str | None = None,
    ) -> None:
        """Add a charger (as a subentry) and accept it right away if it is connected.

        `flow_id` is the approving flow: it ends itself, the charger's other flows are aborted.
        """
        data: dict[str, Any] = {CONF_CHARGER_ID: charger_id}
        if password:
            data[CONF_PASSWORD] = password
        if lenient:
            data[CONF_LENIENT] = True
        subentry = ConfigSubentry(
            data=MappingProxyType(data),
            subentry_type=SUBENTRY_CHARGER,
            title=title or charger_id,
            unique_id=charger_id,
        )
        self.hass.config_entries.async_add_subentry(self.entry, subentry)
        self._add_charger(subentry, approving_flow_id=flow_id)

    def _add_charger(self, subentry: ConfigSubentry, approving_flow_id: str | None = None) -> None:
        charger_id: str = subentry.data[CONF_CHARGER_ID]
        if charger_id in self.chargers:
            return
        stored = self._stored.get(charger_id)
        charger = Charger.from_dict(charger_id, stored) if stored else Charger(charger_id)
        if (info := self.pending.pop(charger_id, None)) is not None:
            charger.info = info
        if (live := self.sessions.get(charger_id)) is not None:
            # From now on the charger's own setting decides, also for its next boot.
            live.connection.lenient = bool(subentry.data.get(CONF_LENIENT))
            live.connection.lenient_actions = frozenset()
            self._log_once.setdefault(charger_id, live.connection.log_once)
        charger.on_new_connector = self.devices.on_new_connector
        charger.on_new_measurand = self.devices.on_new_measurand
        charger.on_session_readings = self.ledger.readings
        self.chargers[charger_id] = charger
        self.subentry_ids[charger_id] = subentry.subentry_id
        self.devices.register(charger)
        self.devices.add_entities(charger)
        self.smart.track(charger)
        # A discovered flow for it is moot; abort it once the running flow step is over (that
        # may be the approving flow itself, which the flow manager must finish on its own).
        self.entry.async_create_task(
            self.hass,
            self._abort_discovered_flows(charger_id, approving_flow_id),
            eager_start=False,
        )
        if (session := self.sessions.get(charger_id)) is not None:
            charger.connected = True
            charger.notify_all()
        if session is not None and charger_id not in self._accepting:
            # It was told Pending: ask for a new boot so it is Accepted without waiting.
            self.entry.async_create_background_task(
                self.hass, self._trigger_boot(session), f"{DOMAIN} trigger boot {charger_id}"
            )
        self.save_soon(SAVE_DELAY_TRANSACTIONS)

    @callback
    def _abort_pending_flows(self, charger_id: str) -> None:
        """A charger waiting for approval went away: its discovered flow goes too (it comes
        back with the charger's next boot), so flows never outnumber the pending cap."""
        for flow in self.hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"unique_id": charger_id}
        ):
            if flow["context"].get("source") == SOURCE_INTEGRATION_DISCOVERY:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])

    async def _abort_discovered_flows(self, charger_id: str, approving_flow_id: str | None) -> None:
        for flow in self.hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"unique_id": charger_id}
        ):
            if flow["flow_id"] != approving_flow_id:
                self.hass.config_entries.flow.async_abort(flow["flow_id"])

    async def _trigger_boot(self, session: ChargerProtocol) -> None:
        try:
            await session.trigger_boot()
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not trigger a BootNotification: %s", session.charger_id, err)

    async def _remove_charger(self, charger_id: str) -> None:
        self.chargers.pop(charger_id, None)
        self._stored.pop(charger_id, None)
        self.subentry_ids.pop(charger_id, None)
        self._log_once.pop(charger_id, None)
        self.devices.forget(charger_id)
        self.smart.forget(charger_id)
        self.upstreams.forget(charger_id)
        if (session := self.sessions.get(charger_id)) is not None:
            await session.connection.close()
        self.save_soon(SAVE_DELAY_TRANSACTIONS)

    @callback
    def remove_device(self, device: dr.DeviceEntry) -> bool:
        """Remove the charger a device stands for (its subentry goes with it)."""
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in self.subentry_ids:
                self.hass.config_entries.async_remove_subentry(
                    self.entry, self.subentry_ids[identifier]
                )
                return True
        # A connector device goes with its charger; an orphan may go.
        return not any(
            domain == DOMAIN and identifier.split("-connector-")[0] in self.chargers
            for domain, identifier in device.identifiers
        )

    # --- authorization and transactions ------------------------------------------------

    def next_reservation_id(self) -> int:
        """A reservation id never handed out before (persisted)."""
        reservation_id = self._next_reservation_id
        self._next_reservation_id += 1
        self.save_soon(SAVE_DELAY_TRANSACTIONS)
        return reservation_id

    def next_transaction_id(self) -> int:
        """A transaction id never handed out before (persisted; not clock-based)."""
        transaction_id = self._next_transaction_id
        self._next_transaction_id += 1
        return transaction_id

    def transaction_started(
        self, charger: Charger, tx: Transaction, *, meter_start: bool = True
    ) -> None:
        """Record and announce a new session (`meter_start`: the charger reported its start
        reading, rather than the register being taken for it)."""
        self.ledger.session_started(charger, tx, meter_start=meter_start)
        self.save_soon(SAVE_DELAY_TRANSACTIONS)
        self._fire(
            EVENT_TRANSACTION_STARTED,
            charger,
            tx.connector_id,
            {
                "transaction_id": tx.transaction_id,
                "id_tag": tx.id_tag,
                "meter_start_kwh": (
                    None if tx.meter_start_wh is None else round(tx.meter_start_wh / 1000, 3)
                ),
                "timestamp": tx.start.isoformat(),
            },
        )

    def transaction_ended(
        self, charger: Charger, tx: Transaction, reason: str | None, meter_stop_wh: float | None
    ) -> None:
        """Record and announce a session that ended (the handler closed it in the model)."""
        assert tx.stop is not None
        stop = tx.stop
        self.ledger.session_ended(charger, tx, reason, meter_stop_wh)
        conn = charger.connector(tx.connector_id)
        self.save_soon(SAVE_DELAY_TRANSACTIONS)
        # The charger drops a TxProfile with its session; keep the limit as the default.
        session = self.sessions.get(charger.charger_id)
        if conn.limit is not None and conn.limit_in_transaction and session is not None:
            self.entry.async_create_background_task(
                self.hass, self._reapply_limit(session, charger, conn), f"{DOMAIN} reapply limit"
            )
        self._fire(
            EVENT_TRANSACTION_STOPPED,
            charger,
            tx.connector_id,
            {
                "transaction_id": tx.transaction_id,
                "id_tag": tx.id_tag,
                "energy_kwh": tx.energy_kwh,
                "duration_s": tx.duration_s(stop),
                "reason": tx.reason,
            },
        )

    async def _reapply_limit(
        self, session: ChargerProtocol, charger: Charger, conn: Connector
    ) -> None:
        try:
            await self.apply_limit(session, charger, conn)
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not re-apply the limit: %s", charger.charger_id, err)

    def fire_security_event(
        self, charger: Charger, event_type: str, tech_info: str | None, timestamp: str | None
    ) -> None:
        """Announce a SecurityEventNotification (OCPP 2.x)."""
        self._fire(
            EVENT_SECURITY,
            charger,
            0,
            {"type": event_type, "tech_info": tech_info, "timestamp": timestamp},
        )

    def fire_id_tag(self, charger: Charger, id_tag: str, status: str) -> None:
        """Announce an Authorize; `status` in OCPP spelling (an AuthStatus, or the backend's
        own in billing mode)."""
        self._fire(EVENT_ID_TAG, charger, 0, {"id_tag": id_tag, "status": snake(str(status))})

    def fire_error(self, charger: Charger, connector_id: int, error: ErrorInfo) -> None:
        """Announce an error that just started."""
        self._fire(
            EVENT_ERROR,
            charger,
            connector_id,
            {
                "error_code": error.code,
                "info": error.info,
                "vendor_error_code": error.vendor_error_code,
            },
        )

    def _fire(self, event: str, charger: Charger, connector_id: int, data: dict[str, Any]) -> None:
        self.hass.bus.async_fire(
            event,
            {
                "device_id": self.devices.device_id(charger.charger_id),
                "charge_point_id": charger.charger_id,
                "connector_id": connector_id,
                **data,
            },
            context=cause.context if (cause := current_cause()) else None,
        )

    # --- commands ----------------------------------------------------------------------

    async def run_command[T](self, charger_id: str, command: Callable[[ChargerProtocol], Any]) -> T:
        """Run a command on a connected charger, turning protocol failures into HA errors."""
        session = self.session(charger_id)
        placeholders = {"charger_id": charger_id}
        try:
            result: T = await command(session)
        except NotConnectedError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_offline",
                translation_placeholders=placeholders,
            ) from err
        except (TimeoutError, CallTimeoutError) as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_timeout",
                translation_placeholders=placeholders,
            ) from err
        except CallErrorReceived as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_call_error",
                translation_placeholders={**placeholders, "error": str(err)},
            ) from err
        except NotInVersion as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="action_not_in_version" if err.action else "field_not_in_version",
                translation_placeholders={
                    **placeholders,
                    "name": err.name,
                    "version": session.connection.ocpp_version,
                },
            ) from err
        except OCPPError as err:
            # Our own check of the request (every call is checked against the charger's OCPP
            # schema before it goes out): a value the user gave that this charger cannot take.
            cause = err.details.get("cause") if isinstance(err.details, dict) else None
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_request",
                translation_placeholders={
                    **placeholders,
                    "error": str(cause or err.description or err.code)[:200],
                },
            ) from err
        return result
