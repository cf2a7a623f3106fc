"""What the scripted chargers of both OCPP versions share (scripted16.py, scripted201.py).

A scripted charger does nothing by itself: a test (or a script) tells it what to send, step
by step, and reads back what the central system sent it. The autonomous chargers in base.py
instead run sessions on their own, as a real charger does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import json
import logging
from typing import Any, Protocol
import uuid

from ocpp.messages import CallError, CallResult
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

type Payload = dict[str, Any]

# The scripted chargers' own log (the `ocpp` library and websockets would log as "ocpp" and
# "websockets.client"): what the charger side logs in a test is told apart from what the
# central system logs.
LOGGER = logging.getLogger("simulator.scripted")


class Recorder:
    """Mixed into an `ocpp` ChargePoint: keeps every call the central system sent, and sends
    frames the library would refuse to (for malformed-input tests)."""

    _connection: ClientConnection
    _call_lock: asyncio.Lock
    _get_specific_response: Callable[[str, float], Any]

    def start_recording(self) -> None:
        """Start with nothing received."""
        self.received: list[tuple[str, Payload]] = []
        self.call_received = asyncio.Event()

    def record(self, action: str, payload: Payload) -> None:
        """Note a call from the central system (waking wait_for_call)."""
        self.received.append((action, payload))
        self.call_received.set()

    async def wait_for_call(self, action: str, timeout: float = 5) -> Payload:
        """Wait until the central system sent `action`; return its payload."""
        async with asyncio.timeout(timeout):
            while True:
                for name, payload in self.received:
                    if name == action:
                        return payload
                self.call_received.clear()
                await self.call_received.wait()

    def calls(self, action: str) -> list[Payload]:
        """Payloads of every `action` received."""
        return [payload for name, payload in self.received if name == action]

    async def raw_call(
        self, action: str, payload: Any, timeout: float = 5
    ) -> CallResult | CallError:
        """Send a Call frame without validating it; return the answer (CallResult or CallError)."""
        unique_id = uuid.uuid4().hex
        async with self._call_lock:
            await self._connection.send(json.dumps([2, unique_id, action, payload]))
            answer: CallResult | CallError = await self._get_specific_response(unique_id, timeout)
            return answer

    async def send_raw(self, frame: str) -> None:
        """Send a frame as is."""
        await self._connection.send(frame)


class _ChargePoint(Protocol):
    async def start(self) -> None: ...


@contextlib.asynccontextmanager
async def serving[T: _ChargePoint](
    url: str,
    subprotocols: list[str] | None,
    make: Callable[[ClientConnection], T],
    after: Callable[[T], None] = lambda _: None,
    **connect_kwargs: Any,
) -> AsyncIterator[T]:
    """Connect to `url`, build the charge point with `make`, and serve the calls it receives
    while in the block; `after` runs when the block ends, before the connection closes."""
    offered = [Subprotocol(name) for name in subprotocols] if subprotocols else None
    connect_kwargs.setdefault("logger", LOGGER)
    async with connect(url, subprotocols=offered, **connect_kwargs) as websocket:
        charge_point = make(websocket)
        task = asyncio.create_task(charge_point.start())
        try:
            yield charge_point
        finally:
            after(charge_point)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
