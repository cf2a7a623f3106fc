"""What a protocol handler may ask of the outside: the one narrow port to the hub.

A handler (ChargerProtocol and its versions) is given a CentralPort for its charger and uses
nothing else of the central system: it decides and parses OCPP, applies what a message says to
the charger's model, and tells the port what happened. The hub implements the port (see
hub/charger_port.py); tests give a handler a fake one, without Home Assistant.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from ..core.events import ChargerEvent

if TYPE_CHECKING:
    from ..core.id_tags import AuthResult
    from ..core.limits import ElectricalSettings
    from ..core.model import Charger, ChargerInfo


class BootDecision(StrEnum):
    """The central system's answer to a BootNotification (each version spells it alike)."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    REJECTED = "rejected"


class CentralPort(Protocol):
    """The outside, as one charger's handler sees it."""

    @property
    def charger(self) -> Charger | None:
        """The approved charger's model; None while it is not approved (it may only boot)."""

    @property
    def configuration(self) -> dict[str, str]:
        """The charger's OCPP configuration as last read (empty when not known)."""

    def electrical_settings(self) -> ElectricalSettings:
        """The charger's limit range and W/A conversion settings."""

    def boot(self, info: ChargerInfo) -> BootDecision:
        """Decide a BootNotification of a charger that told this about itself."""

    def charger_ready(self) -> None:
        """The accepted charger had its first message answered: it takes commands now."""

    def authorize(self, id_tag: str) -> AuthResult:
        """Decide an id tag at this charger."""

    def authorize_start(self, id_tag: str, connector_id: int) -> AuthResult:
        """Decide an id tag starting a session on a connector (one session per known tag)."""

    def next_transaction_id(self) -> int:
        """A transaction id never handed out before."""

    def publish(self, event: ChargerEvent) -> None:
        """Report what happened (the hub records, announces and persists it)."""

    def save_soon(self) -> None:
        """The model changed in what is persisted: save it within the durability window."""

    def start_of_local_day(self) -> datetime:
        """Today's local midnight (where daily recurring limits start), in UTC."""
