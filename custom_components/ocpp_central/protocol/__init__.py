"""Per-version protocol handlers: OCPP messages in, model updates out, commands out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util

from ..connection import OcppConnection, Payload
from ..id_tags import AuthResult
from ..limits import ChargingLimit

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

    # The configuration key of the periodic meter sample interval in this version.
    meter_interval_key: str
    # The configuration key holding the charger's HTTP Basic password.
    password_key: str

    @abstractmethod
    async def read_configuration(self) -> dict[str, str]:
        """Read every configuration key the charger has, as key -> value."""

    @abstractmethod
    def connector_ids(self, configuration: dict[str, str]) -> list[int]:
        """The connectors (EVSEs) the configuration describes."""

    @abstractmethod
    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the charger to start a session; return whether it accepted."""

    @abstractmethod
    async def remote_stop(self, transaction_id: int | str) -> bool:
        """Ask the charger to stop a session; return whether it accepted."""

    @abstractmethod
    async def trigger_boot(self) -> None:
        """Ask the charger for a fresh BootNotification."""

    @abstractmethod
    async def set_charging_limit(
        self, connector_id: int, limit: ChargingLimit, transaction_id: int | str | None
    ) -> bool:
        """Send a limit (bound to the running transaction, if any); return whether accepted."""

    @abstractmethod
    async def clear_charging_limit(self, connector_id: int) -> bool:
        """Remove our limits from a connector."""

    @abstractmethod
    async def get_composite_schedule(self, connector_id: int, duration: int) -> Payload:
        """The schedule the charger will apply: status, schedule_start, periods ..."""

    @abstractmethod
    async def change_availability(self, connector_id: int, available: bool) -> str:
        """accepted, scheduled or rejected."""

    @abstractmethod
    async def reset(self, hard: bool) -> bool:
        """Reset; return whether accepted."""

    @abstractmethod
    async def unlock(self, connector_id: int) -> str:
        """unlocked, unlock_failed or not_supported."""

    @abstractmethod
    async def update_firmware(
        self, location: str, retrieve_at: datetime, retries: int | None, retry_interval: int | None
    ) -> None:
        """Start a firmware update."""

    @abstractmethod
    async def get_diagnostics(
        self, upload_url: str, start: datetime | None, stop: datetime | None
    ) -> str | None:
        """Start a log upload; return the file name."""

    @abstractmethod
    async def get_configuration(self, keys: list[str] | None) -> Payload:
        """{"keys": [{"key", "value", "readonly"}], "unknown_keys": [...]}."""

    @abstractmethod
    async def set_configuration(self, key: str, value: str) -> str:
        """accepted, reboot_required, rejected or not_supported."""

    @abstractmethod
    async def trigger_message(self, message: str, connector_id: int | None) -> str:
        """accepted, rejected or not_implemented."""

    @abstractmethod
    async def data_transfer(
        self, vendor_id: str, message_id: str | None, data: str | None
    ) -> Payload:
        """{"status", "data"}."""

    @abstractmethod
    async def reserve_now(
        self, connector_id: int, id_tag: str, expiry: datetime, reservation_id: int
    ) -> str:
        """accepted, faulted, occupied, rejected or unavailable."""

    @abstractmethod
    async def cancel_reservation(self, reservation_id: int) -> str:
        """accepted or rejected."""

    @abstractmethod
    def supports_local_list(self, configuration: dict[str, str]) -> bool:
        """Whether the charger keeps a local authorization list we should fill."""

    @abstractmethod
    async def get_local_list_version(self) -> int:
        """The version of the charger's local list."""

    @abstractmethod
    async def send_local_list(
        self, version: int, entries: dict[str, AuthResult | None], *, full: bool
    ) -> str:
        """SendLocalList; None removes a tag (differential). accepted, failed, version_mismatch ..."""
