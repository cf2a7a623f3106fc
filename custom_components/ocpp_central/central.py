"""The central system of one config entry: the composition root of its parts.

CentralSystem owns the server, the chargers' model and their live connections, and composes
the hub's parts (hub/): admission (who may connect, the boot policy, approval), preparation
(a charger made ready on each connection), persistence (the store and when it is written),
announcements (what chargers report, recorded and put on the bus) and the port each
connection's protocol handler talks through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from websockets.asyncio.server import ServerConnection

from .authorization import Authorization
from .cause import update_cause
from .const import (
    CALL_TIMEOUT,
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_MAX_CURRENT,
    CONF_PHASES,
    CONF_REQUIRE_PASSWORD,
    CONF_SSL_CAFILE,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    CONF_VOLTAGE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DOMAIN,
)
from .core.limits import DEFAULT_MAX_CURRENT, DEFAULT_PHASES, DEFAULT_VOLTAGE, ElectricalSettings
from .core.model import Charger
from .devices import ChargerDevices
from .hub.admission import BOOT_NOTIFICATION, Admission, charger_subentries, owner_elsewhere
from .hub.announcements import Announcements
from .hub.charger_port import ChargerPort
from .hub.command_errors import run_command
from .hub.persistence import SAVE_DELAY_TRANSACTIONS, Persistence, central_store
from .hub.preparation import Preparation
from .price_source import PriceSource
from .protocol import ChargerProtocol
from .protocol.v16 import V16Protocol
from .protocol.v201 import V201Protocol
from .session_ledger import CENTRAL_KEY, SessionLedger
from .smart_charging.hub import SmartCharging
from .upstreams import Upstreams
from .wire.connection import Handlers, LogOnce, OcppConnection
from .wire.server import SUPPORTED_SUBPROTOCOLS, OcppServer, ServerSettings, create_ssl_context
from .wire.validation import preload_schemas

# Importable from here, where the rest of the integration has always found them.
__all__ = [
    "CentralSystem",
    "OcppConfigEntry",
    "central_store",
    "charger_subentries",
    "owner_elsewhere",
    "server_settings",
]

_LOGGER = logging.getLogger(__name__)

type OcppConfigEntry = ConfigEntry[CentralSystem]

# OCPP versions whose schemas this process has loaded.
_PRELOADED: set[str] = set()
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


class CentralSystem:
    """Runs the OCPP server of one config entry and keeps its chargers' model."""

    def __init__(self, hass: HomeAssistant, entry: OcppConfigEntry) -> None:
        """Initialize; async_start() loads storage and starts listening."""
        self.hass = hass
        self.entry = entry
        self.chargers: dict[str, Charger] = {}
        self.sessions: dict[str, ChargerProtocol] = {}
        # What is stored of chargers not in the model (yet): restored when they are added.
        self.stored: dict[str, Any] = {}
        self.subentry_ids: dict[str, str] = {}
        # What was logged once for each approved charger, across its connections.
        self.log_once: dict[str, LogOnce] = {}
        # The password each connected charger authenticated with (None: none needed).
        self._session_passwords: dict[str, str | None] = {}
        self._next_transaction_id = 1
        self._next_reservation_id = 1
        self.persistence = Persistence(hass, entry, self._data)
        self.store = self.persistence.store
        # Asked for with every reading: the persistence's own method, no hop in between.
        self.save_soon = self.persistence.save_soon
        self.admission = Admission(self)
        self.pending = self.admission.pending
        self.approve_charger = self.admission.approve_charger
        self.remove_device = self.admission.remove_device
        self.preparation = Preparation(self)
        self.apply_limit = self.preparation.apply_limit
        self.announce = Announcements(self)
        self.authorization = Authorization(self)
        self.server = OcppServer(
            server_settings(entry),
            self._on_connect,
            self.admission.check_password,
            on_auth_failure=self.admission.auth_failed,
            on_auth_success=self.admission.auth_succeeded,
        )
        self.devices = ChargerDevices(self)
        self.smart = SmartCharging(self)
        self.upstreams = Upstreams(self)
        self.prices = PriceSource(hass, entry)
        self.ledger = SessionLedger(self, self.prices)

    # --- lifecycle ---------------------------------------------------------------------

    async def async_start(self) -> None:
        """Load storage, restore approved chargers and start the server (OSError if not)."""
        data = await self.persistence.async_load()
        self.stored = data.get("chargers", {})
        self._next_transaction_id = data.get("next_transaction_id", 1)
        self._next_reservation_id = data.get("next_reservation_id", 1)
        self.authorization.load(data)
        await self.ledger.async_load(data)
        await self.prices.async_start()
        for subentry in charger_subentries(self.entry).values():
            self.admission.add_charger(subentry)
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
        await self.persistence.async_stop()

    @callback
    def _data(self) -> dict[str, Any]:
        chargers = dict(self.stored)
        chargers.update({cid: c.as_dict() for cid, c in self.chargers.items()})
        return {
            "chargers": chargers,
            "next_transaction_id": self._next_transaction_id,
            "next_reservation_id": self._next_reservation_id,
            **self.authorization.as_data(),
            CENTRAL_KEY: self.ledger.central_data(),
        }

    async def async_entry_updated(self) -> None:
        """Apply a changed entry: reload for server settings, else sync chargers live."""
        if server_settings(self.entry) != self.server.settings:
            self.hass.config_entries.async_schedule_reload(self.entry.entry_id)
            return
        approved = charger_subentries(self.entry)
        for charger_id in set(self.chargers) - set(approved):
            await self.admission.remove_charger(charger_id)
        # A connection authenticated under other rules than the current ones must reconnect.
        require = self.entry.options.get(CONF_REQUIRE_PASSWORD, False)
        for charger_id, session in list(self.sessions.items()):
            sub = approved.get(charger_id)
            password = sub.data.get(CONF_PASSWORD) if sub else None
            if password != self._session_passwords.get(charger_id) or (require and not password):
                await session.connection.close()
        for charger_id, subentry in approved.items():
            if charger_id not in self.chargers:
                self.admission.add_charger(subentry)
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

    async def _on_connect(self, websocket: ServerConnection, charger_id: str, version: str) -> None:
        subentry = charger_subentries(self.entry).get(charger_id)
        # An unknown charger whose boot breaks the schema (a long serial number is common)
        # must still be discoverable; it is then added with lenient on. "Logged once" means
        # once per charger, not once per connection.
        lenient_actions = frozenset({BOOT_NOTIFICATION}) if subentry is None else frozenset()
        log_once = self.log_once.get(charger_id) if subentry is not None else None

        def open_connection(handlers: Handlers) -> OcppConnection:
            return OcppConnection(
                websocket,
                charger_id,
                version,
                call_timeout=CALL_TIMEOUT,
                lenient=bool(subentry and subentry.data.get(CONF_LENIENT)),
                lenient_actions=lenient_actions,
                log_once=log_once,
                message_scope=lambda: self._message(charger_id),
                handlers=handlers,
            )

        port = ChargerPort(self, charger_id)
        protocol: ChargerProtocol = (
            V16Protocol(port, open_connection)
            if version == "1.6"
            else V201Protocol(port, open_connection)
        )
        connection = protocol.connection
        if subentry is not None:
            self.log_once.setdefault(charger_id, connection.log_once)
        self._session_passwords[charger_id] = subentry.data.get(CONF_PASSWORD) if subentry else None
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
                self.admission.disconnected(charger_id)

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

    async def run_command[T](
        self, charger_id: str, command: Callable[[ChargerProtocol], Awaitable[T]]
    ) -> T:
        """Run a command on a connected charger, turning protocol failures into HA errors."""
        return await run_command(self.session(charger_id), command)

    # --- a charger's settings ----------------------------------------------------------

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

    # --- counters ----------------------------------------------------------------------

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
