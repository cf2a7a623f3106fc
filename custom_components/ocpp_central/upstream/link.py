"""The websocket to the backend: connect, boot, deliver the queue in order, heartbeat, redo.

One task does all the sending, so the backend gets one call at a time, in queue order, and
only a BootNotification until it accepts one. Calls from the backend are answered by the
CommandGate on their own reader (see frames.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum
import logging
import ssl
from typing import Any, cast

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from ..const import MAX_FRAME_BYTES, PING_INTERVAL
from ..wire.connection import (
    CallErrorReceived,
    CallTimeoutError,
    NotConnectedError,
    OcppConnection,
    Payload,
)
from .commands import ACTIONS, CommandGate
from .frames import FrameSplitter
from .queue import Item
from .retry import (
    HEARTBEAT_BOUNDS,
    HEARTBEAT_DEFAULT,
    RETRY_BOUNDS,
    RETRY_DEFAULT,
    Backoff,
    bounded,
)
from .settings import REDACTED, Timing, UpstreamSettings
from .state import UpstreamState
from .transactions import to_backend

_LOGGER = logging.getLogger(__name__)

# A message the backend never answers is tried in this many sessions, then dropped.
MAX_ATTEMPTS = 3
# How long closing may wait for the backend's part of the closing handshake.
CLOSE_TIMEOUT = 2.0


class _RedactAuthorization(logging.Filter):
    """websockets logs the handshake's headers at debug level: never the password."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and str(args[0]).lower() == "authorization":
            record.args = (args[0], REDACTED)
        return True


_WEBSOCKETS_LOGGER = logging.getLogger(f"{__name__}.websockets")
_WEBSOCKETS_LOGGER.addFilter(_RedactAuthorization())


class BootState(StrEnum):
    """Where the backend's answer to our BootNotification left us."""

    NONE = "none"
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class _SessionOver(Exception):
    """The websocket closed, or the backend stopped answering: connect again."""


class Link:
    """Keeps one charger's upstream connection, forever (until cancelled)."""

    def __init__(
        self,
        settings: UpstreamSettings,
        timing: Timing,
        state: UpstreamState,
        gate: CommandGate,
        *,
        on_change: Callable[[], None],
        on_connected: Callable[[bool], None],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """`on_change`: persisted state changed; `on_connected`: the connected flag did."""
        self._settings = settings
        self._timing = timing
        self._state = state
        self._gate = gate
        self._on_change = on_change
        self._on_connected = on_connected
        self._ssl = ssl_context
        self._name = f"{settings.upstream_id} (upstream)"
        self.boot_state = BootState.NONE
        self.backoff = Backoff(timing.backoff_first, timing.backoff_last)
        self._wake = asyncio.Event()
        self._heartbeat = HEARTBEAT_DEFAULT
        self._last_sent = 0.0
        self._down_reported = False
        self.last_error: str | None = None  # why the link is (or was last) down

    @property
    def accepted(self) -> bool:
        """Connected, and the backend accepted our BootNotification."""
        return self.boot_state is BootState.ACCEPTED

    @property
    def registered(self) -> bool:
        """The backend answered our boot Accepted or Pending: it may send us calls."""
        return self.boot_state in (BootState.ACCEPTED, BootState.PENDING)

    def wake(self) -> None:
        """Something was queued (or a boot payload arrived)."""
        self._wake.set()

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff; until cancelled."""
        while True:
            while self._state.boot is None:  # nothing to introduce the charger with yet
                self._wake.clear()
                await self._wake.wait()
            try:
                websocket = await self._connect()
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as err:
                self._report_down("cannot connect", err)
            except Exception:  # a bug of ours must not end the link for good
                _LOGGER.exception("%s: cannot connect", self._name)
            else:
                try:
                    await self._session(websocket)
                except Exception:
                    _LOGGER.exception("%s: link failed", self._name)
            await asyncio.sleep(self.backoff.next())

    def _report_down(self, reason: str, err: object) -> None:
        """Warn once per outage (then debug); the URL only as redacted (no query string)."""
        url = self._settings.redacted()["url"]
        self.last_error = f"{reason}: {err}".replace(self._settings.endpoint, url)
        level = logging.DEBUG if self._down_reported else logging.WARNING
        self._down_reported = True
        _LOGGER.log(level, "%s %s: %s", self._name, url, self.last_error)

    async def _connect(self) -> ClientConnection:
        context = None
        if self._settings.secure:
            if self._ssl is None:  # reads the system's CA files: not in the event loop
                loop = asyncio.get_running_loop()
                self._ssl = await loop.run_in_executor(None, ssl.create_default_context)
            context = self._ssl
        return await connect(
            self._settings.endpoint,
            subprotocols=[Subprotocol(self._settings.subprotocol)],
            additional_headers=self._settings.headers(),
            ssl=context,
            open_timeout=self._timing.open_timeout,
            max_size=MAX_FRAME_BYTES,
            ping_interval=PING_INTERVAL,
            close_timeout=CLOSE_TIMEOUT,
            logger=_WEBSOCKETS_LOGGER,
        )

    def _connection(self, feed: Any) -> OcppConnection:
        # OcppConnection only iterates, sends and closes: a Feed does all three.
        return OcppConnection(
            cast(ServerConnection, feed),
            self._name,
            self._settings.ocpp_version,
            call_timeout=self._timing.call_timeout,
        )

    async def _session(self, websocket: ClientConnection) -> None:
        if websocket.subprotocol != self._settings.subprotocol:
            _LOGGER.debug("%s: backend chose subprotocol %s", self._name, websocket.subprotocol)
        splitter = FrameSplitter(websocket)
        commands = self._connection(splitter.calls)
        commands.handlers = self._gate.handlers()
        commands.known_actions = ACTIONS[self._settings.ocpp_version]
        answers = self._connection(splitter.answers)
        reader = asyncio.create_task(splitter.run())
        workers = [asyncio.create_task(commands.run()), asyncio.create_task(answers.run())]
        try:
            await self._boot(answers, reader)
            if self._down_reported:
                _LOGGER.info("%s: connected again", self._name)
            self._down_reported = False
            self.backoff.reset()
            await self._pump(answers, reader)
        except _SessionOver as err:
            if isinstance(err.__cause__, CallTimeoutError):
                self._report_down("connection dropped", f"no answer to {err.__cause__}")
            else:
                self._report_down("connection lost", f"close code {websocket.close_code}")
        finally:
            self._set_boot_state(BootState.NONE)
            self._state.queue.release_waiters()
            for task in (reader, *workers):
                task.cancel()
            await asyncio.gather(reader, *workers, return_exceptions=True)
            await websocket.close()

    def _set_boot_state(self, boot_state: BootState) -> None:
        was = self.accepted
        self.boot_state = boot_state
        if was != self.accepted:
            self._on_connected(self.accepted)

    async def _idle(self, reader: asyncio.Task[None], seconds: float, *, wakeable: bool) -> bool:
        """Wait `seconds`, or less when woken; False when the time ran out."""
        waker = asyncio.create_task(self._wake.wait()) if wakeable else None
        try:
            done, _ = await asyncio.wait(
                [t for t in (reader, waker) if t is not None],
                timeout=max(0.0, seconds),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if waker is not None:
                waker.cancel()
        if reader in done:
            raise _SessionOver
        return bool(done)

    async def _call(self, conn: OcppConnection, action: str, payload: Payload) -> Payload:
        try:
            answer = await conn.call(action, payload)
        except (NotConnectedError, CallTimeoutError) as err:
            raise _SessionOver from err
        self._last_sent = asyncio.get_running_loop().time()
        return answer

    async def _boot(self, conn: OcppConnection, reader: asyncio.Task[None]) -> None:
        """BootNotification until the backend accepts it; Pending/Rejected wait its interval."""
        self._state.queue.discard("BootNotification")  # this boot is the latest
        while True:
            assert self._state.boot is not None
            try:
                answer = await self._call(conn, "BootNotification", self._state.boot)
            except (CallErrorReceived, OCPPError) as err:
                self._report_down("BootNotification refused", err)
                answer = {"status": "Rejected"}
            status = answer.get("status")
            if status == "Accepted":
                self._heartbeat = bounded(
                    answer.get("interval"), HEARTBEAT_DEFAULT, HEARTBEAT_BOUNDS
                )
                self._set_boot_state(BootState.ACCEPTED)
                return
            self._set_boot_state(BootState.PENDING if status == "Pending" else BootState.REJECTED)
            retry = bounded(answer.get("interval"), RETRY_DEFAULT, RETRY_BOUNDS)
            await self._idle(reader, retry * self._timing.second, wakeable=False)

    async def _pump(self, conn: OcppConnection, reader: asyncio.Task[None]) -> None:
        """Deliver the queue, oldest first; a Heartbeat when nothing was sent for a while."""
        queue = self._state.queue
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            if (item := queue.head()) is None:
                quiet = loop.time() - self._last_sent
                left = self._heartbeat * self._timing.second - quiet
                if left > 0 and await self._idle(reader, left, wakeable=True):
                    continue
                try:
                    await self._call(conn, "Heartbeat", {})
                except (CallErrorReceived, OCPPError) as err:
                    _LOGGER.debug("%s: Heartbeat refused: %s", self._name, err)
                    self._last_sent = loop.time()
            elif item.action == "BootNotification":  # the charger booted again
                queue.remove(item)
                await self._boot(conn, reader)
            else:
                await self._deliver(conn, item)
                self._on_change()

    async def _deliver(self, conn: OcppConnection, item: Item) -> None:
        queue = self._state.queue
        payload: Payload | None = item.payload
        if self._settings.ocpp_version == "1.6":
            payload = to_backend(item.action, item.payload, self._state.ids)
        if payload is None:
            queue.remove(item)
            item.resolve(None)
            return
        try:
            answer = await self._call(conn, item.action, payload)
        except _SessionOver:
            item.attempts += 1
            if item.attempts >= MAX_ATTEMPTS:
                _LOGGER.warning("%s: dropping %s, never answered", self._name, item.action)
                queue.remove(item)
            raise
        except (CallErrorReceived, OCPPError) as err:
            # Refused (or not valid OCPP to begin with): sending it again would not help.
            _LOGGER.debug("%s: %s not delivered: %s", self._name, item.action, err)
            queue.remove(item)
            item.resolve(None)
            return
        queue.remove(item)
        if item.action == "StartTransaction" and self._settings.ocpp_version == "1.6":
            item.upstream_tx = answer.get("transactionId")
            self._state.settle(item)
        item.resolve(answer)
