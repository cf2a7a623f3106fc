"""Test doubles for upstream tests: a backend central system and the charger behind the link.

The backend is the `ocpp` library's own ChargePoint, used server side inside
`websockets.serve` on 127.0.0.1 (as the library's central system examples do). It records
every call it receives, in order, and answers from settable decisions. The charger is a small
ChargerPort that records the commands it gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
import contextlib
from datetime import UTC, datetime, timedelta
import ipaddress
import json
from pathlib import Path
import socket
import ssl
from typing import Any
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.messages import CallError, CallResult
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16, call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201, call_result as result201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from custom_components.ocpp_central.upstream import Timing, Upstream, UpstreamMode, UpstreamSettings

Payload = dict[str, Any]

# Everything short, so tests take milliseconds (one backend second lasts 10 ms).
FAST = Timing(
    call_timeout=1.0,
    billing_wait=0.3,
    backoff_first=0.01,
    backoff_last=0.05,
    open_timeout=2.0,
    second=0.01,
    save_delay=0.01,
)

BOOT16: Payload = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox 11"}
BOOT201: Payload = {
    "chargingStation": {"vendorName": "Acme", "model": "Wallbox 22"},
    "reason": "PowerUp",
}


def now() -> str:
    """The current time as OCPP writes it."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backend")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "backend.pem", directory / "backend.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


class _Recording:
    """What both versions' backends share: recording, silence, raw calls."""

    backend: Backend

    async def route_message(self, raw_msg: str) -> None:
        """Record every call; swallow those whose action is silent."""
        data = json.loads(raw_msg)
        if isinstance(data, list) and data and data[0] == 2:
            self.backend.record(data[2], data[3])
            if data[2] in self.backend.silent:
                return
            if data[2] in self.backend.refused:
                await self.send_only(json.dumps([4, data[1], "GenericError", "refused", {}]))
                return
        await super().route_message(raw_msg)  # type: ignore[misc]

    async def raw_call(self, action: str, payload: Any, timeout: float = 3) -> Any:
        """Send a call frame as is; return the CallResult or CallError."""
        return await self.send_frame(json.dumps([2, uuid.uuid4().hex, action, payload]), timeout)

    async def send_frame(self, frame: str | bytes, timeout: float = 3) -> Any:
        """Send any frame; when it is a call with a unique id, return its answer."""
        unique_id = None
        with contextlib.suppress(ValueError, TypeError, IndexError, KeyError):
            data = json.loads(frame)
            unique_id = data[1] if data[0] == 2 and isinstance(data[1], str) else None
        async with self._call_lock:  # type: ignore[attr-defined]
            await self.send_only(frame)
            if unique_id is None:
                return None
            return await self._get_specific_response(unique_id, timeout)  # type: ignore[attr-defined]

    async def send_only(self, frame: str | bytes) -> None:
        """Send a frame without waiting for anything."""
        await self._connection.send(frame)  # type: ignore[attr-defined]


class Backend16(_Recording, ChargePoint16):
    """An OCPP 1.6 central system."""

    @on("BootNotification")
    def on_boot(self, **kwargs: Any) -> Any:
        status = self.backend.boot_statuses.pop(0) if self.backend.boot_statuses else "Accepted"
        return result16.BootNotification(
            current_time=now(), interval=self.backend.interval, status=status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **kwargs: Any) -> Any:
        return result16.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status(self, **kwargs: Any) -> Any:
        return result16.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_tag: str, **kwargs: Any) -> Any:
        return result16.Authorize(id_tag_info={"status": self.backend.decision(id_tag)})

    @on("StartTransaction")
    def on_start(self, id_tag: str, **kwargs: Any) -> Any:
        self.backend.next_tx += 1
        return result16.StartTransaction(
            transaction_id=self.backend.next_tx,
            id_tag_info={"status": self.backend.decision(id_tag)},
        )

    @on("StopTransaction")
    def on_stop(self, **kwargs: Any) -> Any:
        return result16.StopTransaction()

    @on("MeterValues")
    def on_meter_values(self, **kwargs: Any) -> Any:
        return result16.MeterValues()


class Backend201(_Recording, ChargePoint201):
    """An OCPP 2.0.1 CSMS."""

    @on("BootNotification")
    def on_boot(self, **kwargs: Any) -> Any:
        status = self.backend.boot_statuses.pop(0) if self.backend.boot_statuses else "Accepted"
        return result201.BootNotification(
            current_time=now(), interval=self.backend.interval, status=status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **kwargs: Any) -> Any:
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    def on_status(self, **kwargs: Any) -> Any:
        return result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: Payload, **kwargs: Any) -> Any:
        return result201.Authorize(
            id_token_info={"status": self.backend.decision(id_token["id_token"])}
        )

    @on("TransactionEvent")
    def on_transaction_event(self, id_token: Payload | None = None, **kwargs: Any) -> Any:
        if id_token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(
            id_token_info={"status": self.backend.decision(id_token["id_token"])}
        )

    @on("MeterValues")
    def on_meter_values(self, **kwargs: Any) -> Any:
        return result201.MeterValues()


class Backend:
    """A backend on 127.0.0.1 that can go away and come back on the same port."""

    def __init__(self, version: str, port: int | None = None) -> None:
        self.version = version
        self.port = port or free_port()
        self.calls: list[tuple[str, Payload]] = []  # every call received, in order
        self.boot_statuses: list[str] = []  # answers to the next boots (then Accepted)
        self.interval = 300
        self.decisions: dict[str, str] = {}  # id tag -> status (default Accepted)
        self.next_tx = 1000
        self.silent: set[str] = set()  # actions received but never answered
        self.refused: set[str] = set()  # actions answered with a CallError
        self.requests: list[Any] = []  # each connection's handshake request
        self.subprotocols: list[str | None] = []
        self.point: Any = None  # the latest connection's ChargePoint
        self.connected = asyncio.Event()
        self._changed = asyncio.Event()
        self._server: Server | None = None
        self._ssl: ssl.SSLContext | None = None

    def decision(self, id_tag: str) -> str:
        return self.decisions.get(id_tag, "Accepted")

    def record(self, action: str, payload: Payload) -> None:
        self.calls.append((action, payload))
        self._changed.set()

    def actions(self, *, heartbeats: bool = False) -> list[str]:
        """The actions received, in order (Heartbeats left out unless asked for)."""
        return [a for a, _ in self.calls if heartbeats or a != "Heartbeat"]

    def payloads(self, action: str) -> list[Payload]:
        return [p for a, p in self.calls if a == action]

    async def wait_for(self, action: str, count: int = 1, timeout: float = 5) -> list[Payload]:
        """Wait until `count` calls of `action` arrived; return their payloads."""
        async with asyncio.timeout(timeout):
            while len(found := self.payloads(action)) < count:
                self._changed.clear()
                await self._changed.wait()
        return found

    @property
    def url(self) -> str:
        scheme = "wss" if self._ssl is not None else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/ocpp"

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context or self._ssl
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            self.port,
            subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")],
            ssl=self._ssl,
            max_size=2**20,
        )

    async def stop(self) -> None:
        """Go away (every connection closes)."""
        self.connected.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_connected(self, timeout: float = 5) -> Any:
        async with asyncio.timeout(timeout):
            await self.connected.wait()
        return self.point

    async def _handle(self, websocket: ServerConnection) -> None:
        self.requests.append(websocket.request)
        self.subprotocols.append(websocket.subprotocol)
        cls = Backend16 if self.version == "1.6" else Backend201
        assert websocket.request is not None
        point = cls(websocket.request.path.rsplit("/", 1)[-1], websocket, response_timeout=3)
        point.backend = self
        self.point = point
        self.connected.set()
        with contextlib.suppress(ConnectionClosed):
            await point.start()


@contextlib.asynccontextmanager
async def running_backend(version: str, **kwargs: Any) -> AsyncIterator[Backend]:
    backend = Backend(version, **kwargs)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()


def answer_of(message: Any) -> Payload | tuple[str, str]:
    """A CallResult's payload, or a CallError's (code, description)."""
    if isinstance(message, CallError):
        return (message.error_code, message.error_description)
    assert isinstance(message, CallResult), message
    payload: Payload = message.payload
    return payload


class FakeCharger:
    """The charger as the backend's commands reach it: records them, answers from `answers`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Payload]] = []
        self.answers: dict[str, Payload | Exception] = {}
        self.release: asyncio.Event | None = None  # when set: answer only once it is set
        self._called = asyncio.Event()

    async def call(self, action: str, payload: Payload) -> Payload:
        self.calls.append((action, payload))
        self._called.set()
        if self.release is not None:
            await self.release.wait()
        answer = self.answers.get(action, {"status": "Accepted"})
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def wait_for(self, count: int = 1, timeout: float = 5) -> None:
        """Wait until `count` commands reached the charger."""
        async with asyncio.timeout(timeout):
            while len(self.calls) < count:
                self._called.clear()
                await self._called.wait()


class MemoryStore:
    """An UpstreamStore in memory (JSON round trip, as a file would do)."""

    def __init__(self, data: Any = None) -> None:
        self.data = data
        self.saves = 0

    async def load(self) -> Any:
        return json.loads(json.dumps(self.data))

    async def save(self, data: dict[str, Any]) -> None:
        self.data = json.loads(json.dumps(data))
        self.saves += 1


class ConnectedWatch:
    """The `on_connected` callback: every value it got, and a way to wait for one."""

    def __init__(self) -> None:
        self.states: list[bool] = []
        self._changed = asyncio.Event()

    def __call__(self, connected: bool) -> None:
        self.states.append(connected)
        self._changed.set()

    async def wait(self, connected: bool = True, timeout: float = 5) -> None:
        async with asyncio.timeout(timeout):
            while not self.states or self.states[-1] is not connected:
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def running_upstream(
    backend: Backend,
    *,
    mode: str = "shared",
    charger: FakeCharger | None = None,
    store: MemoryStore | None = None,
    watch: ConnectedWatch | None = None,
    boot: bool = True,
    timing: Timing = FAST,
    **settings: Any,
) -> AsyncIterator[Upstream]:
    """An Upstream for `backend`'s URL and version, stopped at the end of the block."""
    upstream = Upstream(
        UpstreamSettings(
            settings.pop("url", backend.url),
            settings.pop("upstream_id", "CP1"),
            backend.version,
            mode=UpstreamMode(mode),
            password=settings.pop("password", None),
        ),
        charger or FakeCharger(),
        store or MemoryStore(),
        on_connected=watch,
        timing=timing,
        **settings,
    )
    if boot:
        upstream.set_boot(BOOT16 if backend.version == "1.6" else BOOT201)
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.stop()


async def eventually(predicate: Callable[[], object], timeout: float = 5) -> None:
    """Wait for a state the code under test raises no event for (polled every 5 ms)."""
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def without_waiting[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that must finish without suspending once (adds no latency)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise AssertionError("the coroutine waited")


# --- a charging session as the charger sends it (action, request, Home Assistant's answer)

T0 = "2026-01-01T10:00:00.000Z"
T1 = "2026-01-01T10:05:00.000Z"
T2 = "2026-01-01T10:30:00.000Z"
LOCAL_TX = 7


def session16(tx: int = LOCAL_TX) -> list[tuple[str, Payload, Payload]]:
    accepted = {"idTagInfo": {"status": "Accepted"}}
    return [
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
            {},
        ),
        ("Authorize", {"idTag": "TAG1"}, accepted),
        (
            "StartTransaction",
            {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": T0},
            {"transactionId": tx, **accepted},
        ),
        (
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": tx,
                "meterValue": [{"timestamp": T1, "sampledValue": [{"value": "2500"}]}],
            },
            {},
        ),
        (
            "StopTransaction",
            {"transactionId": tx, "meterStop": 9000, "timestamp": T2, "idTag": "TAG1"},
            {},
        ),
    ]


def session201() -> list[tuple[str, Payload, Payload]]:
    token = {"idToken": "TAG1", "type": "ISO14443"}
    info = {"transactionId": "tx-1"}

    def event(kind: str, seq: int, when: str, **extra: Any) -> Payload:
        return {
            "eventType": kind,
            "timestamp": when,
            "triggerReason": extra.pop("reason", "MeterValuePeriodic"),
            "seqNo": seq,
            "transactionInfo": info,
            **extra,
        }

    return [
        (
            "StatusNotification",
            {"timestamp": T0, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
            {},
        ),
        ("Authorize", {"idToken": token}, {"idTokenInfo": {"status": "Accepted"}}),
        (
            "TransactionEvent",
            event("Started", 0, T0, reason="Authorized", idToken=token, evse={"id": 1}),
            {"idTokenInfo": {"status": "Accepted"}},
        ),
        ("TransactionEvent", event("Updated", 1, T1), {}),
        ("TransactionEvent", event("Ended", 2, T2, reason="StopAuthorized"), {}),
    ]


def session(version: str) -> list[tuple[str, Payload, Payload]]:
    return session16() if version == "1.6" else session201()
