"""OCPP-J framing over one websocket: incoming calls to handlers, outgoing calls to answers.

Built on the `ocpp` library's message classes and JSON schemas. We do not use its
`ChargePoint` class: it validates in executor threads (slow under load), converts every
payload to snake_case dataclasses, and matches answers through one shared queue, which
can hand a late answer to the wrong call after a timeout. Here every outgoing call has
its own future keyed by unique id, and validation runs inline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
import json
import logging
import re
from typing import Any, Protocol
import uuid

from ocpp.exceptions import (
    FormatViolationError,
    InternalError,
    NotImplementedError as OcppNotImplementedError,
    NotSupportedError,
    OCPPError,
    PropertyConstraintViolationError,
    ProtocolError,
)
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ..core.bounds import OutOfBounds
from .validation import Call, CallError, CallResult, MessageType, unpack, validate

_LOGGER = logging.getLogger(__name__)

type Payload = dict[str, Any]
# A refused message changes nothing: a handler first parses and checks all of a message and
# raises (an OCPPError, or OutOfBounds) without touching anything; only then does it return
# the step that applies the message and makes the answer. That step takes parsed values only
# and does not fail, so a message is applied entirely or not at all.
type Apply = Callable[[], Payload]
type CallHandler = Callable[[Payload], Apply | Awaitable[Apply]]
type AfterHandler = Callable[[Any, Payload], None]


class Relay(Protocol):
    """A second central system the charger's messages are forwarded to (upstream/)."""

    def owns(self, action: str, request: Payload) -> bool:
        """Whether that system answers this message (billing mode), not Home Assistant."""

    async def decide(self, action: str, request: Payload) -> Payload | None:
        """Its answer to an owned message, or None: Home Assistant decides (bounded wait)."""

    def forward(self, action: str, request: Payload, response: Payload) -> None:
        """A copy of a message the charger was answered (no I/O, no waiting, never raises)."""


# What json.loads raises besides JSONDecodeError: integers beyond Python's digit limit
# (ValueError) and nesting deeper than the recursion limit (RecursionError).
_PARSE_ERRORS = (ValueError, RecursionError)
# The unique id of a Call frame that cannot be parsed, read from its start.
_CALL_ID = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')


class NotConnectedError(Exception):
    """The charger is not connected (anymore)."""


class CallTimeoutError(Exception):
    """The charger did not answer in time."""


class CallErrorReceived(Exception):
    """The charger answered a call with a CallError."""

    def __init__(self, code: str, description: str) -> None:
        """Keep the OCPP error code and description."""
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class LogOnce:
    """Log a warning once per key instead of once per message.

    Keys may come from what a charger sends (a DataTransfer vendor id), so at most MAX_KEYS
    are kept per connection; after that, new ones are logged at debug level only.
    """

    MAX_KEYS = 64

    def __init__(self, logger: logging.Logger, prefix: str) -> None:
        """Initialize."""
        self._logger = logger
        self._prefix = prefix
        self._seen: set[str] = set()

    def once(self, key: str, msg: str, *args: Any) -> None:
        """Log `msg` if `key` was not logged before."""
        if key in self._seen:
            return
        if len(self._seen) >= self.MAX_KEYS:
            self._logger.debug("%s: " + msg, self._prefix, *args)
            return
        self._seen.add(key)
        if len(self._seen) == self.MAX_KEYS:
            msg += " (further kinds of problem are logged at debug level)"
        self._logger.warning("%s: " + msg, self._prefix, *args)


@dataclass(frozen=True, slots=True)
class Handlers:
    """How a protocol handler answers what a charger sends (given to its connection)."""

    calls: Mapping[str, CallHandler]
    # Actions of the version without a handler here: NotSupported rather than unknown.
    known_actions: frozenset[str]
    # Handled actions the ocpp library has no schema for; their handlers check input.
    without_schema: frozenset[str] = frozenset()
    # Told of each call answered (action, response).
    on_call_handled: AfterHandler | None = None


class OcppConnection:
    """One charger's websocket, speaking OCPP-J."""

    def __init__(
        self,
        websocket: ServerConnection,
        charger_id: str,
        ocpp_version: str,
        *,
        call_timeout: float,
        lenient: bool = False,
        lenient_actions: frozenset[str] = frozenset(),
        log_once: LogOnce | None = None,
        message_scope: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
        handlers: Handlers | None = None,
    ) -> None:
        """Initialize with everything it needs: the charger's protocol handler's `handlers`,
        and how the central system wants it run (`log_once`: shared across the charger's
        connections; `message_scope`: wraps the handling of each frame)."""
        self.websocket = websocket
        self.charger_id = charger_id
        self.ocpp_version = ocpp_version
        self.call_timeout = call_timeout
        self.lenient = lenient
        # Actions taken leniently even when `lenient` is off (an unknown charger's boot),
        # and the actions that were taken despite breaking their schema.
        self.lenient_actions = lenient_actions
        self.non_compliant: set[str] = set()
        self.handlers: dict[str, CallHandler] = dict(handlers.calls) if handlers else {}
        self.after: dict[str, AfterHandler] = {}
        self.known_actions = handlers.known_actions if handlers else frozenset()
        self.without_schema = handlers.without_schema if handlers else frozenset()
        # Wraps the handling of each frame the charger sends (the central system records
        # that it was seen and what the frame changes).
        self.message_scope = message_scope
        self.on_call_handled = handlers.on_call_handled if handlers else None
        # Where the charger's messages are forwarded (a charger with upstream settings), and
        # the answer it decided for the message being applied (billing mode; see _handle_call).
        self.relay: Relay | None = None
        self.decision: Payload | None = None
        self.log_once = log_once if log_once is not None else LogOnce(_LOGGER, charger_id)
        self._pending: dict[str, asyncio.Future[CallResult | CallError]] = {}
        # OCPP allows one outstanding call per direction.
        self._call_lock = asyncio.Lock()
        self.closed = False
        # Set when a newer connection with the same charger id took over: frames still
        # arriving here are dropped, so that nothing but the newest connection feeds the model.
        self.replaced = False

    async def run(self) -> None:
        """Serve frames until the websocket closes."""
        try:
            async for frame in self.websocket:
                if self.replaced:
                    _LOGGER.debug("%s: dropping a frame of a replaced connection", self.charger_id)
                    continue
                with self.message_scope():
                    await self._on_frame(frame)
                # A flooding charger must not starve the event loop or other chargers.
                await asyncio.sleep(0)
        except (ConnectionClosed, NotConnectedError):
            pass  # closed while we read, or while we answered: the same end
        finally:
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(NotConnectedError())
            self._pending.clear()

    async def close(self) -> None:
        """Close the websocket (the run loop then ends)."""
        await self.websocket.close()

    async def _send(self, text: str) -> None:
        try:
            await self.websocket.send(text)
        except ConnectionClosed as err:
            raise NotConnectedError from err

    async def _on_frame(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            try:
                frame = frame.decode()
            except UnicodeDecodeError:
                self.log_once.once("binary", "ignoring a binary frame that is not UTF-8")
                return
        try:
            msg = unpack(frame)
        except OCPPError as err:
            await self._answer_unparsable(frame, err)
            return
        except _PARSE_ERRORS as err:
            await self._answer_unreadable(frame, err)
            return
        if msg.message_type_id == MessageType.Call:
            if not isinstance(msg.action, str):
                # e.g. a list: not even a key to look up (a TypeError would end the connection).
                await self._answer_unparsable(
                    frame, FormatViolationError(description="Action must be a string")
                )
                return
            await self._handle_call(msg)
            return
        future = self._pending.get(msg.unique_id) if isinstance(msg.unique_id, str) else None
        if future is None or future.done():
            self.log_once.once(
                "stray", "ignoring an answer to no pending call (a late answer?): %s", frame[:200]
            )
            return
        future.set_result(msg)

    async def _answer_unreadable(self, frame: str, err: Exception) -> None:
        """Answer a frame JSON cannot represent (an integer of thousands of digits, nesting
        deeper than the parser goes) with FormatViolation, when its start names a unique id."""
        if (match := _CALL_ID.match(frame)) is None:
            _LOGGER.debug("%s: dropping a frame that cannot be parsed: %r", self.charger_id, err)
            return
        _LOGGER.debug("%s: cannot parse frame %s: %r", self.charger_id, match[1], err)
        await self._send_error(match[1], FormatViolationError(description="Frame cannot be parsed"))

    async def _answer_unparsable(self, frame: str, err: OCPPError) -> None:
        """Answer a frame `unpack` refused, when it carries a unique id to answer to."""
        try:
            data = json.loads(frame)
        except (*_PARSE_ERRORS, TypeError):
            data = None
        if not isinstance(data, list) or len(data) < 2 or not isinstance(data[1], str):
            self.log_once.once(f"malformed-{err.code}", "ignoring a malformed frame: %s", err)
            return
        if data[0] != MessageType.Call:
            self.log_once.once(f"malformed-{err.code}", "ignoring a malformed frame: %s", err)
            return
        if not isinstance(err, (FormatViolationError, ProtocolError)):
            err = FormatViolationError(description=str(err.description))
        await self._send_error(data[1], err)

    async def _send_error(self, unique_id: str, err: OCPPError) -> None:
        details = err.details if isinstance(err.details, dict) else {}
        details = {k: str(v) for k, v in details.items() if k == "cause"}
        await self._send(CallError(unique_id, err.code, err.description or "", details).to_json())

    def _check(self, msg: Call | CallResult) -> None:
        """Validate against the schema; in lenient mode log once and carry on."""
        try:
            validate(msg, self.ocpp_version)
        except OCPPError as err:
            if not (self.lenient or msg.action in self.lenient_actions):
                raise
            self.non_compliant.add(msg.action)
            cause = err.details.get("cause") if isinstance(err.details, dict) else err
            self.log_once.once(
                f"lenient-{msg.action}-{err.code}",
                "accepting a non-compliant %s (%s); further ones are not logged",
                msg.action,
                cause,
            )

    async def _handle_call(self, msg: Call) -> None:
        handler = self.handlers.get(msg.action)
        try:
            if handler is None:
                if msg.action in self.known_actions:
                    raise NotSupportedError(description=f"{msg.action} is not supported")
                raise OcppNotImplementedError(description=f"Unknown action {msg.action}")
            if not isinstance(msg.payload, dict):
                raise FormatViolationError(description="Payload must be an object")
            if msg.action not in self.without_schema:
                self._check(msg)
            # Parse and check: nothing has changed if this raises.
            parsed = handler(msg.payload)
            apply = parsed if callable(parsed) else await parsed
        except OCPPError as err:
            await self._send_error(msg.unique_id, err)
            return
        except OutOfBounds as err:
            await self._send_error(
                msg.unique_id, PropertyConstraintViolationError(description=str(err))
            )
            return
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as err:
            # Only reachable for payloads lenient mode let through (or nested beyond reason).
            _LOGGER.debug("%s: cannot process %s: %r", self.charger_id, msg.action, err)
            await self._send_error(
                msg.unique_id,
                FormatViolationError(description=f"Cannot process payload: {type(err).__name__}"),
            )
            return
        except Exception:
            _LOGGER.exception("%s: error handling %s", self.charger_id, msg.action)
            await self._send_error(msg.unique_id, InternalError(description="Internal error"))
            return
        if (relay := self.relay) is not None and relay.owns(msg.action, msg.payload):
            # Billing mode: the backend decides (a refused message never reaches it: it was
            # parsed above); the apply step reads its answer from `decision`.
            self.decision = await relay.decide(msg.action, msg.payload)
        try:
            response = apply()  # one step, from parsed values only
        except Exception:
            _LOGGER.exception("%s: error applying %s", self.charger_id, msg.action)
            await self._send_error(msg.unique_id, InternalError(description="Internal error"))
            return
        finally:
            self.decision = None
        await self._send(CallResult(msg.unique_id, response).to_json())
        if (relay := self.relay) is not None:  # the current one (settings may have changed)
            relay.forward(msg.action, msg.payload, response)
        if (after := self.after.get(msg.action)) is not None:
            after(msg.payload, response)
        if self.on_call_handled is not None:
            self.on_call_handled(msg.action, response)

    async def call(self, action: str, payload: Payload, timeout: float | None = None) -> Payload:
        """Send a call and return the answer's payload.

        Raises NotConnectedError, CallTimeoutError or CallErrorReceived.
        """
        if self.closed:
            raise NotConnectedError
        msg = Call(uuid.uuid4().hex, action, payload)
        validate(msg, self.ocpp_version)  # our own payloads must be right
        text = msg.to_json()
        future: asyncio.Future[CallResult | CallError] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(timeout or self.call_timeout):
                async with self._call_lock:
                    self._pending[msg.unique_id] = future
                    await self._send(text)
                    answer = await future
        except TimeoutError as err:
            raise CallTimeoutError(action) from err
        finally:
            self._pending.pop(msg.unique_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a close after a failed send must not warn
        if isinstance(answer, CallError):
            raise CallErrorReceived(answer.error_code, answer.error_description)
        answer.action = action
        if not isinstance(answer.payload, dict):
            raise CallErrorReceived("FormatViolation", "answer payload is not an object")
        try:
            self._check(answer)
        except OCPPError as err:
            raise CallErrorReceived(err.code, f"invalid answer: {err.description}") from err
        return answer.payload
