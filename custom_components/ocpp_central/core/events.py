"""What happens at a charger that the rest of the system hears about.

Rare events only (a session, an error, an id tag, a security event), never every reading:
readings reach entities through the model's listeners. The protocol handlers publish these
through their port; the hub records, announces and persists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ErrorInfo, Transaction


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """A session became its connector's session (`meter_start`: the charger reported its
    start reading, rather than the register being taken for it)."""

    tx: Transaction
    meter_start: bool = True


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session ended (`tx.stop` and `tx.reason` are set; `reason` in OCPP spelling)."""

    tx: Transaction
    reason: str | None
    meter_stop_wh: float | None = None


@dataclass(frozen=True, slots=True)
class ErrorRaised:
    """An error that just started on a connector (0: the charger)."""

    connector_id: int
    error: ErrorInfo


@dataclass(frozen=True, slots=True)
class IdTagSeen:
    """An id tag was authorized; `status` in OCPP spelling (ours, or the backend's)."""

    id_tag: str
    status: str


@dataclass(frozen=True, slots=True)
class SecurityEventReported:
    """A SecurityEventNotification."""

    event_type: str
    tech_info: str | None
    timestamp: str | None


type ChargerEvent = SessionStarted | SessionEnded | ErrorRaised | IdTagSeen | SecurityEventReported
