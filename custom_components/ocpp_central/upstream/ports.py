"""What the upstream link needs from the rest of the integration: two small ports."""

from __future__ import annotations

from typing import Any, Protocol

from ..wire.connection import Payload


class ChargerPort(Protocol):
    """The charger, as the backend's commands reach it (shared and billing modes)."""

    async def call(self, action: str, payload: Payload) -> Payload:
        """Send a call to the charger and return its answer's payload.

        Raises connection.CallErrorReceived, CallTimeoutError or NotConnectedError (which
        are relayed to the backend as CallErrors); anything else becomes an InternalError.
        This is also where the wiring clamps or refuses what would override Home
        Assistant's fuse protection (see docs/upstream.md).
        """


class UpstreamStore(Protocol):
    """Where the queue, the transaction id map and the boot payload survive a restart."""

    async def load(self) -> Any:
        """What `save` last stored, or None."""

    async def save(self, data: dict[str, Any]) -> None:
        """Store a plain JSON-able dict (called at most once per Timing.save_delay)."""
