"""The upstream links of one central system: one per connected charger with upstream settings.

A link runs while its charger is connected (the backend sees the charger online exactly when
it is), and is replaced when the charger's upstream settings change: without an entry reload
and without disconnecting the charger. What a link has not delivered is stored, per charger,
through Home Assistant's Store and picked up by the next link. See docs/upstream.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from functools import partial
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.storage import Store
from homeassistant.util.ssl import client_context

from .const import (
    CONF_UPSTREAM_ID,
    CONF_UPSTREAM_MODE,
    CONF_UPSTREAM_PASSWORD,
    CONF_UPSTREAM_URL,
    DEFAULT_UPSTREAM_MODE,
    DOMAIN,
    UPSTREAM_FIELDS,
)
from .upstream import Timing, Upstream, UpstreamMode, UpstreamSettings
from .upstream_charger import Fuse, UpstreamCharger, fuse_of
from .wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError

if TYPE_CHECKING:
    from .parts import CentralView
    from .protocol import ChargerProtocol

_LOGGER = logging.getLogger(__name__)

# How long links wait and retry (the defaults; tests shorten them).
TIMING = Timing()
STORE_VERSION = 1
UPSTREAM_CONNECTED = "upstream_connected"  # the binary sensor's key


def upstream_settings(
    data: Mapping[str, Any], charger_id: str, ocpp_version: str
) -> UpstreamSettings | None:
    """A charger's upstream settings from its subentry data; None without a URL.

    Raises ValueError for settings a link cannot work with (see UpstreamSettings).
    """
    url = data.get(CONF_UPSTREAM_URL)
    if not url:
        return None
    return UpstreamSettings(
        str(url).strip(),
        data.get(CONF_UPSTREAM_ID) or charger_id,
        ocpp_version,
        password=data.get(CONF_UPSTREAM_PASSWORD) or None,
        mode=UpstreamMode(data.get(CONF_UPSTREAM_MODE) or DEFAULT_UPSTREAM_MODE),
    )


def upstream_store(hass: HomeAssistant, entry_id: str, charger_id: str) -> Store[dict[str, Any]]:
    """Where one charger's link keeps its queue (charger ids may hold : * + @ #)."""
    key = f"{DOMAIN}.{entry_id}.upstream.{quote(charger_id, safe='')}"
    return Store(hass, STORE_VERSION, key)


class LinkStore:
    """The upstream package's UpstreamStore on Home Assistant's Store.

    What was queued for one backend is not replayed to another: the data names the backend
    (its endpoint and OCPP version), and a link for another one starts empty.
    """

    def __init__(self, store: Store[dict[str, Any]], settings: UpstreamSettings) -> None:
        """Bind to the charger's store and the link's backend."""
        self._store = store
        self._target = f"{settings.subprotocol} {settings.endpoint}"

    async def load(self) -> Any:
        """The state a link for this backend saved, or None."""
        data = await self._store.async_load()
        if isinstance(data, dict) and data.get("target") == self._target:
            return data.get("state")
        return None

    async def save(self, data: dict[str, Any]) -> None:
        """Write a link's state (the upstream package saves at most once a second)."""
        await self._store.async_save({"target": self._target, "state": data})


class Upstreams:
    """Makes, replaces and stops the links of one central system's chargers."""

    def __init__(self, central: CentralView) -> None:
        """No links until chargers connect."""
        self.central = central
        self._links: dict[str, Upstream] = {}
        # One change at a time per charger: a link's queue is saved before the next loads it.
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Chargers whose upstream_connected entity exists.
        self._shown: set[str] = set()
        self._invalid_logged: set[str] = set()

    # --- what the rest of the integration asks --------------------------------------------

    def configured(self, charger_id: str) -> bool:
        """Whether a charger has upstream settings (it then has an upstream_connected entity)."""
        return bool(self.central.charger_option(charger_id, CONF_UPSTREAM_URL))

    def connected(self, charger_id: str) -> bool:
        """Whether the charger's backend is connected and accepted it."""
        link = self._links.get(charger_id)
        return link is not None and link.connected

    def billing(self, charger_id: str) -> bool:
        """Whether the charger's backend decides who may charge (then Home Assistant sends
        the charger no local list: that is the backend's)."""
        mode = self.central.charger_option(charger_id, CONF_UPSTREAM_MODE)
        return self.configured(charger_id) and mode == UpstreamMode.BILLING

    def claim_entity(self, charger_id: str) -> bool:
        """Whether the charger gets an upstream_connected entity now (it then has one)."""
        if not self.configured(charger_id):
            return False
        self._shown.add(charger_id)
        return True

    def diagnostics(self, charger_id: str) -> dict[str, Any] | None:
        """The link's state (nothing secret), None without one."""
        if (link := self._links.get(charger_id)) is None:
            return {"configured": True, "running": False} if self.configured(charger_id) else None
        return {"configured": True, "running": True, **link.diagnostics()}

    # --- lifecycle ----------------------------------------------------------------------------

    def attach(self, session: ChargerProtocol) -> None:
        """A charger connected (before its first frame is read)."""
        self._reconcile(session.charger_id)

    def detach(self, charger_id: str) -> None:
        """A charger disconnected: its link goes (what it did not deliver is stored)."""
        self._swap(charger_id, None, None)

    def charger_ready(self, charger_id: str) -> None:
        """An accepted charger is ready for commands: introduce it if its link cannot yet."""
        link = self._links.get(charger_id)
        if link is not None and link.state.boot is None:
            self._spawn(charger_id, self._trigger_boot(charger_id))

    def settings_changed(self) -> None:
        """Subentries changed: links and entities follow every charger's settings."""
        for charger_id in list(self._links):
            if charger_id not in self.central.chargers:
                self.forget(charger_id)
        for charger_id, charger in self.central.chargers.items():
            self._reconcile(charger_id)
            wanted = self.configured(charger_id)
            if wanted and charger_id not in self._shown:
                self.central.devices.add_upstream_entities(charger)
            elif not wanted and charger_id in self._shown:
                self._shown.discard(charger_id)
                self._remove_entity(charger_id)

    def forget(self, charger_id: str) -> None:
        """A charger was removed: its link stops and its stored queue is deleted (after the
        link stored it: one change at a time per charger)."""
        self._shown.discard(charger_id)
        self._swap(charger_id, None, None)
        self._spawn(charger_id, self._remove_store(charger_id))

    async def async_stop(self) -> None:
        """Stop every link and wait until each has stored its queue."""
        for charger_id in list(self._links):
            self._swap(charger_id, None, None)
        while self._tasks:  # changes may start changes (a stopped link saving)
            tasks = list(self._tasks)
            self._tasks.difference_update(tasks)
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals ----------------------------------------------------------------------------

    def _wanted(self, charger_id: str) -> UpstreamSettings | None:
        """The settings a link should run with now: None when the charger is not connected,
        not approved, or has no (valid) upstream settings."""
        session = self.central.sessions.get(charger_id)
        if session is None or charger_id not in self.central.chargers:
            return None
        data = {key: self.central.charger_option(charger_id, key) for key in UPSTREAM_FIELDS}
        try:
            return upstream_settings(data, charger_id, session.connection.ocpp_version)
        except ValueError as err:
            if charger_id not in self._invalid_logged:
                self._invalid_logged.add(charger_id)
                _LOGGER.warning("%s: upstream settings not used: %s", charger_id, err)
            return None

    def _reconcile(self, charger_id: str) -> None:
        wanted = self._wanted(charger_id)
        session = self.central.sessions.get(charger_id)
        link = self._links.get(charger_id)
        if link is not None and wanted is not None and link.settings == wanted:
            if session is not None:
                session.connection.relay = link  # a new connection of the same charger
            return
        if link is None and wanted is None:
            return
        self._swap(charger_id, wanted, session)

    def _swap(
        self,
        charger_id: str,
        wanted: UpstreamSettings | None,
        session: ChargerProtocol | None,
    ) -> None:
        """Put a new link (or none) in place at once; the old one stops, then the new starts.

        The new link takes the charger's messages from this moment on and holds them in
        memory until it starts; starting loads what the old one stored, ahead of them.
        """
        old = self._links.pop(charger_id, None)
        if old is None and wanted is None:
            return
        new = None
        if wanted is not None:
            store = upstream_store(self.central.hass, self.central.entry.entry_id, charger_id)
            new = Upstream(
                wanted,
                UpstreamCharger(self.central, charger_id, partial(self._fuse, charger_id)),
                LinkStore(store, wanted),
                on_connected=partial(self._connected_changed, charger_id),
                ssl_context=client_context(),
                timing=TIMING,
            )
            self._links[charger_id] = new
        if session is not None:
            session.connection.relay = new
        elif (live := self.central.sessions.get(charger_id)) is not None and (
            live.connection.relay is old
        ):
            live.connection.relay = None
        self._spawn(charger_id, self._transition(charger_id, old, new))
        self._connected_changed(charger_id, False)

    async def _transition(
        self, charger_id: str, old: Upstream | None, new: Upstream | None
    ) -> None:
        async with self._locks.setdefault(charger_id, asyncio.Lock()):
            if old is not None:
                await old.stop()
            if new is None:
                return
            # Started even when already replaced: starting keeps what it took meanwhile,
            # and the next transition stops (and stores) it.
            await new.start()
            session = self.central.sessions.get(charger_id)
            if new.state.boot is None and session is not None and session.ready:
                await self._trigger_boot(charger_id)

    async def _remove_store(self, charger_id: str) -> None:
        async with self._locks.setdefault(charger_id, asyncio.Lock()):
            store = upstream_store(self.central.hass, self.central.entry.entry_id, charger_id)
            await store.async_remove()
        if charger_id not in self._links:
            self._locks.pop(charger_id, None)

    async def _trigger_boot(self, charger_id: str) -> None:
        """Until the charger's BootNotification is known, a link cannot introduce it."""
        if (session := self.central.sessions.get(charger_id)) is None:
            return
        try:
            await session.trigger_boot()
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not trigger a BootNotification: %s", charger_id, err)

    def _fuse(self, charger_id: str) -> Fuse | None:
        """What the backend's commands must leave alone on this charger now."""
        if (session := self.central.sessions.get(charger_id)) is None:
            return None
        return fuse_of(session)

    def _connected_changed(self, charger_id: str, _connected: bool) -> None:
        """A link's connected flag changed (or the link did): the entity shows the current
        link's, so an old link going down after a new one came up shows nothing wrong."""
        if (charger := self.central.chargers.get(charger_id)) is None:
            return
        connected = self.connected(charger_id)
        if charger.upstream_connected != connected:
            charger.upstream_connected = connected
            charger.notify()

    def _remove_entity(self, charger_id: str) -> None:
        ent_reg = er.async_get(self.central.hass)
        unique_id = f"{charger_id}_{UPSTREAM_CONNECTED}"
        if entity_id := ent_reg.async_get_entity_id(Platform.BINARY_SENSOR, DOMAIN, unique_id):
            ent_reg.async_remove(entity_id)

    def _spawn(self, charger_id: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run a change now (eager: up to its first wait); tracked, so that Home Assistant
        waits for it, and async_stop too."""
        task = self.central.entry.async_create_task(
            self.central.hass, coro, f"{DOMAIN} upstream {charger_id}", eager_start=True
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
