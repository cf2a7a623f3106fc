"""The framework-free central system of the benchmark (`python -m simulator.bench free`).

The floor that the product's CPU budget is measured against: an OCPP 1.6 central system
made of the `websockets` asyncio server, `json` and `fastjsonschema`, nothing else. The
validators are compiled once at startup from the `ocpp` library's own 1.6 request schemas
(read from the installed package's directory; the library itself is never imported). Per
frame: parse it, check that it is a CALL `[2, id, action, payload]`, validate the payload
and answer what the benchmark's load client expects. No routing layer, no executor
threads, no object per charger, no Home Assistant.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from datetime import UTC, datetime
import importlib.util
import itertools
import json
from pathlib import Path
import signal
from typing import Any

import fastjsonschema
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

CALL, CALL_RESULT, CALL_ERROR = 2, 3, 4
# The library validates 1.6 with a draft-4 validator and no format checker: so do these.
_DRAFT4 = "http://json-schema.org/draft-04/schema#"

Answer = Callable[[], dict[str, Any]]


def schema_folder() -> Path:
    """The installed `ocpp` package's 1.6 JSON schemas (found without importing it)."""
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ocpp package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "v16" / "schemas"


def compile_request_schema(path: Path) -> Callable[[Any], Any]:
    """A compiled validator of one action's request schema."""
    schema = json.loads(path.read_text())
    return fastjsonschema.compile(
        {**schema, "$schema": _DRAFT4},
        use_default=False,
        use_formats=False,
        detailed_exceptions=False,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _error(unique_id: str, code: str, description: str) -> str:
    return json.dumps([CALL_ERROR, unique_id, code, description, {}], separators=(",", ":"))


class FreeCentralSystem:
    """Answers OCPP 1.6 frames; one instance serves every connection."""

    def __init__(self, folder: Path | None = None) -> None:
        """Compile a validator for each action answered (from `folder`, else the library's)."""
        transaction_ids = itertools.count(1)
        accepted = {"status": "Accepted"}
        answers: dict[str, Answer] = {
            "BootNotification": lambda: {
                "currentTime": _now(),
                "interval": 300,
                "status": "Accepted",
            },
            "Heartbeat": lambda: {"currentTime": _now()},
            "StatusNotification": dict,
            "MeterValues": dict,
            "Authorize": lambda: {"idTagInfo": accepted},
            "StartTransaction": lambda: {
                "transactionId": next(transaction_ids),
                "idTagInfo": accepted,
            },
            "StopTransaction": dict,
        }
        folder = folder or schema_folder()
        self._actions: dict[str, tuple[Callable[[Any], Any], Answer]] = {
            action: (compile_request_schema(folder / f"{action}.json"), answer)
            for action, answer in answers.items()
        }

    def reply(self, frame: str | bytes) -> str | None:
        """The frame to send back for one received frame (None: nothing to answer).

        Frames without a CALL's type and string id cannot be answered and are dropped, as
        are CallResults and CallErrors (this central system never calls a charger).
        """
        try:
            message = json.loads(frame)
        except (ValueError, RecursionError):
            return None
        if not (
            isinstance(message, list)
            and len(message) >= 2
            and message[0] == CALL
            and isinstance(message[1], str)
        ):
            return None
        unique_id: str = message[1]
        if len(message) != 4 or not isinstance(message[2], str):
            return _error(unique_id, "FormatViolation", "a CALL is [2, id, action, payload]")
        action = self._actions.get(message[2])
        if action is None:
            return _error(unique_id, "NotImplemented", f"unknown action {message[2]}")
        check, answer = action
        try:
            check(message[3])
        except fastjsonschema.JsonSchemaException as err:
            return _error(unique_id, "FormatViolation", str(err))
        return json.dumps([CALL_RESULT, unique_id, answer()], separators=(",", ":"))


@contextlib.asynccontextmanager
async def serving(central: FreeCentralSystem, host: str, port: int) -> AsyncIterator[Server]:
    """Serve OCPP 1.6 websockets on host:port (0: any free port) while inside."""

    async def handler(websocket: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in websocket:
                if (answer := central.reply(frame)) is not None:
                    await websocket.send(answer)

    async with serve(handler, host, port, subprotocols=[Subprotocol("ocpp1.6")]) as server:
        yield server


async def free_main(args: argparse.Namespace) -> None:
    """The benchmark target: serve on 127.0.0.1:`args.port` with the lag probe, until SIGTERM."""
    from .ocpp_bench_probe import LagProbe

    central = FreeCentralSystem()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    probe = asyncio.create_task(LagProbe(args.lag_file).run())
    async with serving(central, "127.0.0.1", args.port):
        await stop.wait()
    probe.cancel()
