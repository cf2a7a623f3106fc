"""Per-version protocol handlers: OCPP messages in, model updates out, commands out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from ..connection import OcppConnection

if TYPE_CHECKING:
    from ..central import CentralSystem


def parse_time(value: Any) -> datetime:
    """Parse an OCPP timestamp; a missing or broken one means now."""
    if isinstance(value, str) and (parsed := dt_util.parse_datetime(value)) is not None:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt_util.UTC)
        return parsed
    return dt_util.utcnow()


def now_iso() -> str:
    """Current time as OCPP wants it."""
    return dt_util.utcnow().isoformat(timespec="seconds").replace("+00:00", "Z")


class ChargerProtocol(ABC):
    """What the rest of the integration may ask of a connected charger, in any version."""

    def __init__(self, central: CentralSystem, connection: OcppConnection) -> None:
        """Bind to a connection; subclasses register their handlers."""
        self.central = central
        self.connection = connection
        self.charger_id = connection.charger_id

    @abstractmethod
    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the charger to start a session; return whether it accepted."""

    @abstractmethod
    async def remote_stop(self, transaction_id: int | str) -> bool:
        """Ask the charger to stop a session; return whether it accepted."""

    @abstractmethod
    async def trigger_boot(self) -> None:
        """Ask the charger for a fresh BootNotification."""
