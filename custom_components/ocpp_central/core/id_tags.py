"""Id tags (RFID cards, app tokens) the central system knows, and who may charge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .clock import parse_datetime


class IdTagStatus(StrEnum):
    """Status of a known id tag, as the user sets it."""

    ACCEPTED = "accepted"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class AuthStatus(StrEnum):
    """Authorization answer, in OCPP 1.6 spelling (2.0.1 maps it)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


@dataclass(slots=True)
class IdTag:
    """A known id tag."""

    id_tag: str
    name: str | None = None
    status: IdTagStatus = IdTagStatus.ACCEPTED
    expiry: datetime | None = None
    parent: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialize for storage."""
        return {
            "id_tag": self.id_tag,
            "name": self.name,
            "status": self.status.value,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "parent": self.parent,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdTag:
        """Restore from storage."""
        expiry = data.get("expiry")
        return cls(
            id_tag=data["id_tag"],
            name=data.get("name"),
            status=IdTagStatus(data.get("status", IdTagStatus.ACCEPTED)),
            expiry=parse_datetime(expiry) if expiry else None,
            parent=data.get("parent"),
        )


@dataclass(slots=True, frozen=True)
class AuthResult:
    """What to answer a charger asking about an id tag."""

    status: AuthStatus
    expiry: datetime | None = None
    parent: str | None = None


def authorize(
    tags: dict[str, IdTag], id_tag: str, *, accept_unknown: bool, now: datetime
) -> AuthResult:
    """Decide whether an id tag may charge.

    Id tags are compared case-insensitively: RFID readers differ in how they print hex.
    """
    tag = tags.get(id_tag.upper())
    if tag is None:
        return AuthResult(AuthStatus.ACCEPTED if accept_unknown else AuthStatus.INVALID)
    # A card is no better than its group (parent) card: blocking the parent blocks all.
    parent = tags.get(tag.parent.upper()) if tag.parent else None
    for candidate in (tag, parent):
        if candidate is None:
            continue
        if candidate.status == IdTagStatus.BLOCKED:
            return AuthResult(AuthStatus.BLOCKED, tag.expiry, tag.parent)
        if candidate.status == IdTagStatus.EXPIRED or (
            candidate.expiry is not None and candidate.expiry <= now
        ):
            return AuthResult(AuthStatus.EXPIRED, tag.expiry, tag.parent)
    return AuthResult(AuthStatus.ACCEPTED, tag.expiry, tag.parent)
