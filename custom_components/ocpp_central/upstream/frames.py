"""One websocket to the backend, read by two OcppConnections: its calls, and its answers.

An OcppConnection handles incoming calls one at a time inside its read loop. Over a single
connection, a backend command waiting on the charger would hold back the backend's answers
to our own calls (and so the billing-mode answers the charger waits for). Split, the
answers are read at once while a command is being relayed. Framing, validation and errors
stay OcppConnection's; this only routes frames by message type.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..wire.validation import MessageType

_LOGGER = logging.getLogger(__name__)

# Backend calls waiting for the one being handled; more are a flood and are dropped (the
# backend's own timeout then tells it so).
MAX_WAITING_CALLS = 8

_END = object()


class Feed:
    """What an OcppConnection reads (frames routed to it) and writes (the websocket)."""

    def __init__(self, websocket: ClientConnection) -> None:
        """Bind to the shared websocket."""
        self._websocket = websocket
        self._frames: asyncio.Queue[Any] = asyncio.Queue()

    def put(self, frame: str | bytes) -> None:
        """Route a frame here."""
        self._frames.put_nowait(frame)

    def end(self) -> None:
        """No more frames: the reader's loop ends."""
        self._frames.put_nowait(_END)

    @property
    def waiting(self) -> int:
        """Frames not read yet."""
        return self._frames.qsize()

    def __aiter__(self) -> Feed:
        """Iterate over the routed frames."""
        return self

    async def __anext__(self) -> str | bytes:
        """The next frame, until the websocket closes."""
        frame = await self._frames.get()
        if frame is _END:
            self._frames.put_nowait(_END)  # a second reader ends too
            raise StopAsyncIteration
        result: str | bytes = frame
        return result

    async def send(self, text: str) -> None:
        """Send on the shared websocket (ConnectionClosed when it is gone)."""
        await self._websocket.send(text)

    async def close(self) -> None:
        """Close the shared websocket."""
        await self._websocket.close()


def is_answer(frame: str | bytes) -> bool:
    """Whether a frame is a CallResult or CallError (anything else goes to the call side)."""
    try:
        data = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        return False
    return (
        isinstance(data, list)
        and bool(data)
        and data[0] in (MessageType.CallResult, MessageType.CallError)
        and not isinstance(data[0], bool)
    )


class FrameSplitter:
    """Reads the websocket and routes each frame to `calls` or `answers`."""

    def __init__(self, websocket: ClientConnection) -> None:
        """Two feeds over one websocket."""
        self._websocket = websocket
        self.calls = Feed(websocket)
        self.answers = Feed(websocket)

    async def run(self) -> None:
        """Route frames until the websocket closes, then end both feeds."""
        try:
            async for frame in self._websocket:
                if is_answer(frame):
                    self.answers.put(frame)
                elif self.calls.waiting >= MAX_WAITING_CALLS:
                    _LOGGER.debug("dropping a call from a backend that floods us")
                else:
                    self.calls.put(frame)
        except ConnectionClosed:
            pass
        finally:
            self.calls.end()
            self.answers.end()
