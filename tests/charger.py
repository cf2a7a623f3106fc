"""A simulated OCPP 1.6 charger for tests: an `ocpp` library charge point over a real websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection, connect


class SimCharger(ChargePoint):
    """Records every call it receives and answers with configurable statuses."""

    def __init__(self, charger_id: str, connection: ClientConnection) -> None:
        super().__init__(charger_id, connection, response_timeout=5)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, str] = {}
        self.silent: set[str] = set()
        self.call_received = asyncio.Event()

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.received.append((action, payload))
        self.call_received.set()

    async def wait_for_call(self, action: str, timeout: float = 5) -> dict[str, Any]:
        """Wait until the central system sent `action`; return its payload."""
        async with asyncio.timeout(timeout):
            while True:
                for name, payload in self.received:
                    if name == action:
                        return payload
                self.call_received.clear()
                await self.call_received.wait()

    def calls(self, action: str) -> list[dict[str, Any]]:
        """Payloads of every `action` received."""
        return [payload for name, payload in self.received if name == action]

    @on(Action.remote_start_transaction)
    def on_remote_start(self, **kwargs: Any) -> call_result.RemoteStartTransaction:
        self._record("RemoteStartTransaction", kwargs)
        return call_result.RemoteStartTransaction(
            status=self.answers.get("RemoteStartTransaction", "Accepted")
        )

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, **kwargs: Any) -> call_result.RemoteStopTransaction:
        self._record("RemoteStopTransaction", kwargs)
        return call_result.RemoteStopTransaction(
            status=self.answers.get("RemoteStopTransaction", "Accepted")
        )

    @on(Action.trigger_message)
    def on_trigger(self, **kwargs: Any) -> call_result.TriggerMessage:
        self._record("TriggerMessage", kwargs)
        return call_result.TriggerMessage(status=self.answers.get("TriggerMessage", "Accepted"))

    async def boot(self, vendor: str = "Acme", model: str = "Wallbox 11", **kwargs: Any) -> Any:
        """Send a BootNotification."""
        return await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **kwargs)
        )

    async def status(self, connector_id: int, status: str, error_code: str = "NoError", **kw: Any) -> None:
        """Send a StatusNotification."""
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code=error_code, status=status, **kw
            )
        )

    async def send_raw(self, frame: str) -> None:
        """Send a frame as is (for malformed input tests)."""
        await self._connection.send(frame)


@contextlib.asynccontextmanager
async def connected_charger(
    port: int,
    charger_id: str = "CP1",
    *,
    subprotocols: list[str] | None = None,
    path_prefix: str = "",
    **connect_kwargs: Any,
) -> AsyncIterator[SimCharger]:
    """Connect a simulated charger and serve its incoming calls while in the block."""
    async with connect(
        f"ws://127.0.0.1:{port}/{path_prefix}{charger_id}",
        subprotocols=subprotocols if subprotocols is not None else ["ocpp1.6"],  # type: ignore[arg-type]
        **connect_kwargs,
    ) as websocket:
        charger = SimCharger(charger_id, websocket)
        task = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
