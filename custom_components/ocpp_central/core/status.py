"""What a charger and its connectors report of themselves: status, errors, boot info, and
the status names shown to the user. Plain values, the same in every OCPP version."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Any


class ConnectorStatus(StrEnum):
    """Connector (and charger) status, as shown to the user."""

    AVAILABLE = "available"
    PREPARING = "preparing"
    CHARGING = "charging"
    SUSPENDED_EV = "suspended_ev"
    SUSPENDED_EVSE = "suspended_evse"
    FINISHING = "finishing"
    RESERVED = "reserved"
    UNAVAILABLE = "unavailable"
    FAULTED = "faulted"


# A charger that reports no status of its own shows the most significant connector status.
STATUS_PRIORITY = [
    ConnectorStatus.FAULTED,
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.PREPARING,
    ConnectorStatus.FINISHING,
    ConnectorStatus.RESERVED,
    ConnectorStatus.AVAILABLE,
    ConnectorStatus.UNAVAILABLE,
]

# Longest vendor, model, serial or firmware text kept from a boot message.
INFO_MAX_LENGTH = 100

NO_ERROR = "no_error"
ERROR_CODES = [
    NO_ERROR,
    "connector_lock_failure",
    "ev_communication_error",
    "ground_failure",
    "high_temperature",
    "internal_error",
    "local_list_conflict",
    "other_error",
    "over_current_failure",
    "over_voltage",
    "power_meter_failure",
    "power_switch_failure",
    "reader_failure",
    "reset_failure",
    "under_voltage",
    "weak_signal",
]

FIRMWARE_STATUSES = [
    "idle",
    "downloading",
    "downloaded",
    "download_failed",
    "download_scheduled",
    "download_paused",
    "installing",
    "installed",
    "installation_failed",
    "install_verification_failed",
    "install_rebooting",
    "install_scheduled",
    "invalid_signature",
    "signature_verified",
]

DIAGNOSTICS_STATUSES = ["idle", "uploading", "uploaded", "upload_failed"]


@dataclass(slots=True)
class ErrorInfo:
    """An error reported for the charger or one connector."""

    code: str = NO_ERROR
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None

    @property
    def active(self) -> bool:
        """Return whether this is an error at all."""
        return self.code != NO_ERROR


@dataclass(slots=True)
class ChargerInfo:
    """What a charger told about itself at boot."""

    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None

    @classmethod
    def reported(cls, vendor: Any, model: Any, serial: Any, firmware: Any) -> ChargerInfo:
        """From a boot message: a value that is not text is left out, long text is cut (a
        boot taken leniently, even from an unknown charger, names devices and flows)."""

        def text(value: Any) -> str | None:
            return value[:INFO_MAX_LENGTH] if isinstance(value, str) and value else None

        return cls(text(vendor), text(model), text(serial), text(firmware))


# Statuses of a session that charged (or tried to): once it is over, the EVSE is finishing.
_SESSION_STATUSES = (
    ConnectorStatus.CHARGING,
    ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE,
    ConnectorStatus.FINISHING,
)


def occupied_status(
    in_session: bool,
    had_session: bool,
    current: ConnectorStatus | None,
    charging: ConnectorStatus | None,
) -> ConnectorStatus:
    """What an Occupied EVSE (OCPP 2.x) shows: its session's charging state (preparing until
    one is known); after a session that charged, finishing; else preparing."""
    if in_session:
        return charging or ConnectorStatus.PREPARING
    if had_session and current in _SESSION_STATUSES:
        return ConnectorStatus.FINISHING
    return ConnectorStatus.PREPARING


def snake(value: str) -> str:
    """CamelCase OCPP enum value to the snake_case our entities use."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value).lower()
