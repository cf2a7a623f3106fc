"""One charger's upstream: what the charger's connection and the hub call.

- `forward(action, request, response)` after every call the charger made was answered
  (fire-and-forget: no I/O, no waiting).
- `owns(action, request)` / `await decide(action, request)` before answering, in billing
  mode: the backend's answer, or None for Home Assistant's own decision.
- `start()` / `stop()`, `connected` (+ `on_connected`), `set_boot()`, `diagnostics()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
import json
import logging
import ssl
from typing import Any

from ..wire.connection import Payload
from .commands import CommandGate
from .link import Link
from .ports import ChargerPort, UpstreamStore
from .queue import Item
from .settings import Timing, UpstreamMode, UpstreamSettings
from .state import UpstreamState

_LOGGER = logging.getLogger(__name__)

# Billing mode: what the backend answers instead of Home Assistant.
OWNED_16 = frozenset({"Authorize", "StartTransaction", "StopTransaction"})
# Optional timestamps filled in with the time the charger sent the message.
OPTIONAL_TIMESTAMPS = {("1.6", "StatusNotification"): "timestamp"}
# decide() calls remembered until their forward() (a wiring bug must not leak memory).
MAX_AWAITING = 16


def _plain(payload: Payload) -> Payload:
    """A JSON-only copy (the charger's payload may hold Decimals, and may change later)."""
    plain: Payload = json.loads(json.dumps(payload, default=float))
    return plain


def _key(action: str, payload: Payload) -> str:
    return action + json.dumps(payload, sort_keys=True, default=str)


def ocpp_time(moment: datetime) -> str:
    """An OCPP timestamp (UTC, milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Upstream:
    """Forwards one charger to a second central system, as its settings say."""

    def __init__(
        self,
        settings: UpstreamSettings,
        charger: ChargerPort,
        store: UpstreamStore,
        *,
        on_connected: Callable[[bool], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timing: Timing | None = None,
    ) -> None:
        """Nothing runs until `start()`; `ssl_context` replaces the system's CAs for wss."""
        self.settings = settings
        self.state = UpstreamState()
        self._store = store
        self._timing = timing or Timing()
        self._on_connected = on_connected
        gate = CommandGate(settings, charger, self.state.ids, lambda: self._link.registered)
        self._link = Link(
            settings,
            self._timing,
            self.state,
            gate,
            on_change=self._changed,
            on_connected=self._connected_changed,
            ssl_context=ssl_context,
        )
        self._task: asyncio.Task[None] | None = None
        self._awaiting: dict[str, Item] = {}
        self._loaded = False
        self._dirty = False
        self._save_task: asyncio.Task[None] | None = None
        self._saved: str | None = None

    @property
    def connected(self) -> bool:
        """The backend is connected and accepted our BootNotification."""
        return self._link.accepted

    @property
    def mode(self) -> UpstreamMode:
        """observe, shared or billing."""
        return self.settings.mode

    async def start(self) -> None:
        """Restore the persisted state and start connecting."""
        try:
            self.state.load(await self._store.load())
        except Exception:
            _LOGGER.exception("%s: cannot load the upstream state", self.settings.upstream_id)
        self._loaded = True
        if self.state.queue or self.state.boot is not None:
            self._changed()
        self._task = asyncio.create_task(
            self._link.run(), name=f"upstream {self.settings.upstream_id}"
        )
        self._link.wake()

    async def stop(self) -> None:
        """Disconnect and write what is still queued."""
        for task in (self._task, self._save_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._save_task = None
        if self._loaded:
            await self._save()

    def set_boot(self, payload: Payload) -> None:
        """The charger's BootNotification payload, which introduces it to the backend."""
        self.state.boot = _plain(payload)
        self._changed()
        self._link.wake()

    def owns(self, action: str, request: Payload) -> bool:
        """Billing mode: whether the backend answers this call (see `decide`).

        2.x TransactionEvents are owned when they carry an idToken (their answer's
        idTokenInfo is the decision); the others are only forwarded.
        """
        if self.settings.mode is not UpstreamMode.BILLING:
            return False
        if self.settings.ocpp_version == "1.6":
            return action in OWNED_16
        return action == "Authorize" or (action == "TransactionEvent" and "idToken" in request)

    async def decide(self, action: str, request: Payload) -> Payload | None:
        """The backend's answer to an owned call, within Timing.billing_wait; else None.

        None means: answer from Home Assistant's own rules. Call `forward` with the same
        request afterwards either way (it is then not sent twice). A 1.6 StartTransaction
        answer carries the backend's transactionId: the charger still gets ours.
        """
        try:
            if not self.owns(action, request) or not self._link.accepted:
                return None
            item = Item(action, _plain(request))
            item.answer = asyncio.get_running_loop().create_future()
            self._awaiting[_key(action, request)] = item
            while len(self._awaiting) > MAX_AWAITING:
                del self._awaiting[next(iter(self._awaiting))]
            self._enqueue(item)
            async with asyncio.timeout(self._timing.billing_wait):
                return await asyncio.shield(item.answer)
        except TimeoutError:
            return None
        except Exception:
            _LOGGER.exception("%s: upstream decision failed", self.settings.upstream_id)
            return None

    def forward(
        self,
        action: str,
        request: Payload,
        response: Payload,
        *,
        received_at: datetime | None = None,
    ) -> None:
        """A copy of a call the charger made (`response`: what it was answered)."""
        try:
            self._forward(action, request, response, received_at or datetime.now(UTC))
        except Exception:
            _LOGGER.exception("%s: cannot forward %s", self.settings.upstream_id, action)

    def _forward(
        self, action: str, request: Payload, response: Payload, received_at: datetime
    ) -> None:
        if action == "Heartbeat":
            return  # the link sends its own, at the backend's interval
        if action == "BootNotification":
            self.set_boot(request)
            if self._link.accepted:  # introduce the rebooted charger in its place in line
                self._enqueue(Item(action, self.state.boot or {}))
            return
        local_tx = response.get("transactionId") if action == "StartTransaction" else None
        if not isinstance(local_tx, int) or isinstance(local_tx, bool):
            local_tx = None
        if (item := self._awaiting.pop(_key(action, request), None)) is not None:
            item.local_tx = local_tx  # already queued (and maybe answered) by decide()
            self.state.settle(item)
            self._changed()
            return
        payload = _plain(request)
        field = OPTIONAL_TIMESTAMPS.get((self.settings.ocpp_version, action))
        if field is not None and field not in payload:
            payload[field] = ocpp_time(received_at)
        self._enqueue(Item(action, payload, local_tx=local_tx))

    def diagnostics(self) -> dict[str, Any]:
        """The link's state, with nothing secret (no password, no id tags)."""
        queue = self.state.queue
        return {
            "settings": self.settings.redacted(),
            "connected": self.connected,
            "boot_state": self._link.boot_state.value,
            "last_error": self._link.last_error,
            "boot_known": self.state.boot is not None,
            "queued": len(queue),
            "queued_bytes": queue.bytes,
            "queued_transaction_messages": sum(1 for i in queue if i.transactional),
            "dropped": queue.dropped,
            "mapped_transactions": len(self.state.ids),
        }

    # --- internals --------------------------------------------------------------------

    def _enqueue(self, item: Item) -> None:
        self.state.queue.append(item)
        self._link.wake()
        self._changed()

    def _connected_changed(self, connected: bool) -> None:
        if self._on_connected is not None:
            try:
                self._on_connected(connected)
            except Exception:
                _LOGGER.exception("%s: on_connected failed", self.settings.upstream_id)

    def _changed(self) -> None:
        """Persist soon (coalesced); never before the stored state was loaded."""
        self._dirty = True
        if self._loaded and (self._save_task is None or self._save_task.done()):
            self._save_task = asyncio.get_running_loop().create_task(self._save_later())

    async def _save_later(self) -> None:
        while self._dirty:
            await asyncio.sleep(self._timing.save_delay)
            await self._save()

    async def _save(self) -> None:
        self._dirty = False
        data = self.state.as_json()
        text = json.dumps(data, sort_keys=True)
        if text == self._saved:
            return
        try:
            await self._store.save(data)
        except Exception:
            _LOGGER.exception("%s: cannot save the upstream state", self.settings.upstream_id)
            return
        self._saved = text
