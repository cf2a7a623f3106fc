"""The websocket server chargers connect to: handshake checks, then one task per charger."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
import logging
import re
import ssl
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ..const import MAX_FRAME_BYTES, PING_INTERVAL

_LOGGER = logging.getLogger(__name__)


class _HandshakeNoise(logging.Filter):
    """websockets logs a connection that closes before its handshake (a port scan, a
    health check) as an error with a traceback; it is routine, so keep it at debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "opening handshake failed" and record.levelno >= logging.ERROR:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return _WEBSOCKETS_LOGGER.isEnabledFor(logging.DEBUG)
        return True


_WEBSOCKETS_LOGGER = logging.getLogger(f"{__name__}.websockets")
_WEBSOCKETS_LOGGER.addFilter(_HandshakeNoise())

# Subprotocol -> OCPP version understood by the `ocpp` library's schemas.
# In order of preference when a charger offers several.
SUPPORTED_SUBPROTOCOLS: dict[str, str] = {
    "ocpp2.1": "2.1",
    "ocpp2.0.1": "2.0.1",
    "ocpp1.6": "1.6",
}
DEFAULT_VERSION = "1.6"  # a charger that offers no subprotocol speaks 1.6

# OCPP 1.6 identity is CiString20/25; 2.0.1 allows 48. Printable, no path tricks.
_CHARGER_ID = re.compile(r"^[A-Za-z0-9._:*+@#\-]{1,48}$")


def valid_charger_id(charger_id: str) -> bool:
    """Whether a charger id is acceptable (length and characters)."""
    return bool(_CHARGER_ID.match(charger_id)) and charger_id not in (".", "..")


def charger_id_from_path(path: str) -> str | None:
    """Return the charger id (last path segment, percent-decoded), or None if invalid."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        return None
    charger_id = unquote(segments[-1])
    return charger_id if valid_charger_id(charger_id) else None


def basic_auth_password(headers: Headers, charger_id: str) -> str | None:
    """Return the password from an HTTP Basic header for this charger id, if any."""
    value = headers.get("Authorization", "")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8 inside
        return None
    username, sep, password = decoded.partition(":")
    if not sep or username != charger_id:
        return None
    return password


@dataclass(slots=True, frozen=True)
class ServerSettings:
    """Where and how to listen."""

    host: str
    port: int
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    # With a CA, chargers must present a client certificate it signed (security profile 3).
    ssl_cafile: str | None = None


def create_ssl_context(
    certfile: str, keyfile: str | None, cafile: str | None = None
) -> ssl.SSLContext:
    """Build a TLS 1.2+ server context; raises OSError/ssl.SSLError on bad files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile or None)
    if cafile:
        context.load_verify_locations(cafile)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


# Handshakes with a wrong password: this many are answered at once, later ones slower.
AUTH_FREE_FAILURES = 3
AUTH_DELAY_STEP = 0.5
AUTH_MAX_DELAY = 5.0

type ConnectHandler = Callable[[ServerConnection, str, str], Awaitable[None]]
type PasswordCheck = Callable[[str, str | None], bool]


class OcppServer:
    """Accepts charger websockets and hands each to `on_connect`."""

    def __init__(
        self,
        settings: ServerSettings,
        on_connect: ConnectHandler,
        check_password: PasswordCheck,
        *,
        on_auth_failure: Callable[[str, str, int], None] | None = None,
        on_auth_success: Callable[[str], None] | None = None,
    ) -> None:
        """Initialize; call start() to listen."""
        self.settings = settings
        self._on_connect = on_connect
        self._check_password = check_password
        self._server: Server | None = None
        self._failures: dict[str, int] = {}
        self._on_auth_failure = on_auth_failure
        self._on_auth_success = on_auth_success

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        """Start listening; raises OSError when the port cannot be bound."""
        self._server = await serve(
            self._handle,
            self.settings.host or None,
            self.settings.port,
            ssl=ssl_context,
            subprotocols=[Subprotocol(p) for p in SUPPORTED_SUBPROTOCOLS],
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            max_size=MAX_FRAME_BYTES,
            max_queue=8,
            ping_interval=PING_INTERVAL,
            # Some chargers ignore pings; they are still alive, so never drop them for it.
            ping_timeout=None,
            logger=_WEBSOCKETS_LOGGER,
        )

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close every charger connection."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        charger_id = charger_id_from_path(request.path)
        if charger_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Invalid charger id in URL\n")
        if self.settings.ssl_cafile and not _certificate_names(connection, charger_id):
            # Profile 3: the verified client certificate must be issued to this charger.
            return connection.respond(HTTPStatus.FORBIDDEN, "Certificate does not match\n")
        if len(request.headers.get_all("Authorization")) > 1:
            # Which one counts would be a guess (and Headers.get raises on several).
            return connection.respond(HTTPStatus.BAD_REQUEST, "Several Authorization headers\n")
        password = basic_auth_password(request.headers, charger_id)
        address = str(connection.remote_address[0]) if connection.remote_address else "?"
        if self._check_password(charger_id, password):
            self._failures.pop(address, None)
            if self._on_auth_success is not None:
                self._on_auth_success(charger_id)
            return None
        # Repeated failures from one address are answered ever more slowly.
        failures = self._failures[address] = self._failures.get(address, 0) + 1
        if self._on_auth_failure is not None:
            self._on_auth_failure(charger_id, address, failures)
        if failures > AUTH_FREE_FAILURES:
            await asyncio.sleep(
                min(AUTH_DELAY_STEP * (failures - AUTH_FREE_FAILURES), AUTH_MAX_DELAY)
            )
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        charger_id = charger_id_from_path(websocket.request.path)
        assert charger_id is not None  # checked in _process_request
        version = SUPPORTED_SUBPROTOCOLS.get(websocket.subprotocol or "", DEFAULT_VERSION)
        await self._on_connect(websocket, charger_id, version)


def _certificate_names(connection: ServerConnection, charger_id: str) -> bool:
    """Whether the TLS client certificate's common name is the charger id."""
    peer = connection.transport.get_extra_info("peercert") if connection.transport else None
    for rdn in (peer or {}).get("subject", ()):
        for name, value in rdn:
            if name == "commonName" and value == charger_id:
                return True
    return False


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """Pick our best subprotocol; no offer means 1.6, an offer we cannot speak is refused."""
    if not offered:
        return None
    for protocol in SUPPORTED_SUBPROTOCOLS:
        if protocol in offered:
            return Subprotocol(protocol)
    raise NegotiationError(f"unsupported subprotocols: {', '.join(offered)}")
