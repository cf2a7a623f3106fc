"""What an upstream link is configured with: where, who, how, and its timing."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

# The charger's OCPP version -> the subprotocol we offer the backend (the same one).
SUBPROTOCOLS: dict[str, str] = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}

REDACTED = "**REDACTED**"


class UpstreamMode(StrEnum):
    """Who decides what: see docs/upstream.md."""

    OBSERVE = "observe"
    SHARED = "shared"
    BILLING = "billing"


@dataclass(frozen=True)
class UpstreamSettings:
    """One charger's upstream settings (the charger subentry's `upstream_*` fields).

    Raises ValueError for a URL that is not ws:// or wss:// with a host, an unknown OCPP
    version or an empty id. The message never contains the password.
    """

    url: str
    upstream_id: str
    ocpp_version: str
    password: str | None = field(default=None, repr=False)
    mode: UpstreamMode = UpstreamMode.SHARED

    def __post_init__(self) -> None:
        """Check what a link cannot work without."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("upstream_url must be a ws:// or wss:// URL with a host")
        if parts.username is not None or parts.password is not None:
            # A password belongs in upstream_password, where it is stored and redacted as one.
            raise ValueError("upstream_url must not contain credentials")
        if self.ocpp_version not in SUBPROTOCOLS:
            raise ValueError(f"unsupported OCPP version {self.ocpp_version!r}")
        if not self.upstream_id or len(self.upstream_id) > 48:
            raise ValueError("upstream_id must be 1-48 characters")
        object.__setattr__(self, "mode", UpstreamMode(self.mode))
        if self.password == "":
            object.__setattr__(self, "password", None)

    @property
    def endpoint(self) -> str:
        """The URL to connect to: `url`, with the upstream id as its last path segment."""
        parts = urlsplit(self.url)
        segments = [s for s in parts.path.split("/") if s]
        if segments and unquote(segments[-1]) == self.upstream_id:
            return self.url
        path = parts.path.rstrip("/") + "/" + quote(self.upstream_id, safe="")
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))

    @property
    def secure(self) -> bool:
        """Whether the link uses TLS."""
        return urlsplit(self.url).scheme == "wss"

    @property
    def subprotocol(self) -> str:
        """The websocket subprotocol for the charger's OCPP version."""
        return SUBPROTOCOLS[self.ocpp_version]

    def headers(self) -> dict[str, str]:
        """HTTP headers of the handshake: Basic auth when a password is set."""
        if self.password is None:
            return {}
        token = base64.b64encode(f"{self.upstream_id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def redacted(self) -> dict[str, Any]:
        """The settings for diagnostics and logs: no password, no query string."""
        parts = urlsplit(self.url)
        return {
            "url": urlunsplit(
                (parts.scheme, parts.netloc, parts.path, REDACTED if parts.query else "", "")
            ),
            "upstream_id": self.upstream_id,
            "ocpp_version": self.ocpp_version,
            "mode": self.mode.value,
            "password": REDACTED if self.password is not None else None,
        }

    def __repr__(self) -> str:
        """Never show the password (nor a token in the query string)."""
        return f"UpstreamSettings({self.redacted()})"


@dataclass(frozen=True)
class Timing:
    """How long things take; the defaults are for real backends, tests shorten them."""

    # How long a backend may take to answer one of our calls before the link is redone.
    call_timeout: float = 30.0
    # Billing mode: the longest the charger's Authorize/Start/Stop answer waits for the backend.
    billing_wait: float = 5.0
    # Reconnect delays grow from the first to the last (each halved at random, at most).
    backoff_first: float = 1.0
    backoff_last: float = 300.0
    # How long the websocket handshake may take.
    open_timeout: float = 10.0
    # The length of one second of a backend-given interval (heartbeat, boot retry).
    second: float = 1.0
    # Changes to what is persisted are written at most this often.
    save_delay: float = 1.0
