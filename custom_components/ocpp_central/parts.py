"""The central system as its parts see it: what each part may ask of the others.

central.py's CentralSystem composes the parts (admission, preparation, announcements, the
chargers' ports, authorization, devices, the sessions ledger, smart charging, the upstream
links, repairs) and hands each of them itself, typed as `CentralView`. A part depends on
these views instead of on central.py or on the modules of the parts it calls, so no part
imports a module that imports it back: the import graph has no cycle, not even under
TYPE_CHECKING. Each view lists only what the other parts use of that part; mypy checks that
CentralSystem and the parts provide it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

    from .core.id_tags import AuthResult, IdTag
    from .core.limits import ElectricalSettings
    from .core.model import Charger, ChargerInfo, Connector, ErrorInfo, Transaction
    from .price_source import PriceSource
    from .protocol import ChargerProtocol
    from .protocol.port import BootDecision
    from .wire.connection import LogOnce


class SaveSoon(Protocol):
    """Persistence's save_soon (hub/persistence.py)."""

    def __call__(self, delay: float = ...) -> None:
        """Save within `delay` seconds (by default the readings' durability window)."""


class AdmissionView(Protocol):
    """Who may connect (hub/admission.py)."""

    def boot(self, charger_id: str, info: ChargerInfo) -> BootDecision:
        """Decide a BootNotification."""


class PreparationView(Protocol):
    """A charger made ready on each connection (hub/preparation.py)."""

    def charger_ready(self, charger_id: str) -> None:
        """The charger takes commands now: prepare it."""

    def session_ended(self, charger: Charger, conn: Connector) -> None:
        """A session ended: a limit bound to it moves back to the connector's default."""

    async def apply_limit(self, session: ChargerProtocol, charger: Charger, conn: Connector) -> str:
        """Send a connector's limit; returns the charger's answer."""


class AnnouncementsView(Protocol):
    """What chargers report, recorded and put on the bus (hub/announcements.py)."""

    def session_started(self, charger: Charger, tx: Transaction, *, meter_start: bool) -> None:
        """A session started."""

    def session_ended(
        self, charger: Charger, tx: Transaction, reason: str | None, meter_stop_wh: float | None
    ) -> None:
        """A session ended."""

    def error(self, charger: Charger, connector_id: int, error: ErrorInfo) -> None:
        """An error started."""

    def id_tag(self, charger: Charger, id_tag: str, status: str) -> None:
        """An id tag was authorized."""

    def security_event(
        self, charger: Charger, event_type: str, tech_info: str | None, timestamp: str | None
    ) -> None:
        """A security event was reported."""


class AuthorizationView(Protocol):
    """Id tags and local lists (authorization.py)."""

    @property
    def tags(self) -> dict[str, IdTag]:
        """The id tags, by upper-cased id."""

    def authorize(self, id_tag: str, charger_id: str | None = None) -> AuthResult:
        """Decide an id tag."""

    def authorize_start(self, id_tag: str, charger: Charger, connector_id: int) -> AuthResult:
        """Decide an id tag starting a session."""

    def remember_upstream(self, charger_id: str, id_tag: str) -> None:
        """An id tag a backend's remote start used."""

    async def sync_local_list(self, session: ChargerProtocol, charger: Charger) -> None:
        """Bring the charger's local list up to date."""


class DevicesView(Protocol):
    """Devices and entities of the chargers (devices.py)."""

    def register(self, charger: Charger) -> None:
        """Create or update a charger's device."""

    def forget(self, charger_id: str) -> None:
        """A charger was removed."""

    def add_entities(self, charger: Charger) -> None:
        """Entities for a charger just added."""

    def add_smart_entities(self) -> None:
        """Smart charging was set up: its connector entities."""

    def remove_smart_entities(self) -> None:
        """Smart charging was turned off: its entities go."""

    def add_upstream_entities(self, charger: Charger) -> None:
        """Entities for upstream settings a charger just got."""

    def on_new_connector(self, charger: Charger, conn: Connector) -> None:
        """A connector appeared."""

    def on_new_measurand(self, charger: Charger, conn: Connector, key: str) -> None:
        """A measurand appeared on a connector."""

    def charger_name(self, charger_id: str) -> str:
        """The charger's title."""

    def device_id(self, charger_id: str) -> str | None:
        """The charger's device id in the device registry."""


class LedgerView(Protocol):
    """The sessions ledger (session_ledger.py)."""

    def session_started(self, charger: Charger, tx: Transaction, *, meter_start: bool) -> None:
        """A session started."""

    def readings(
        self, charger: Charger, tx: Transaction, readings: list[tuple[datetime, float]]
    ) -> None:
        """Energy register readings of a session."""

    def session_ended(
        self, charger: Charger, tx: Transaction, reason: str | None, meter_stop_wh: float | None
    ) -> None:
        """A session ended."""


class SmartView(Protocol):
    """Smart charging (smart_charging/hub.py)."""

    @property
    def enabled(self) -> bool:
        """Whether smart charging is set up."""

    def track(self, charger: Charger) -> None:
        """A charger was added."""

    def forget(self, charger_id: str) -> None:
        """A charger was removed."""

    def charger_ready(self, charger_id: str) -> None:
        """A charger takes commands now."""


class UpstreamsView(Protocol):
    """The links to other central systems (upstreams.py)."""

    def billing(self, charger_id: str) -> bool:
        """Whether the charger's backend decides id tags and sessions."""

    def claim_entity(self, charger_id: str) -> bool:
        """Whether the charger's upstream entities are still to be made (once)."""

    def charger_ready(self, charger_id: str) -> None:
        """A charger takes commands now."""

    def forget(self, charger_id: str) -> None:
        """A charger was removed."""


class CentralView(Protocol):
    """One config entry's central system, as its parts see it."""

    @property
    def hass(self) -> HomeAssistant:
        """Home Assistant."""

    @property
    def entry(self) -> ConfigEntry[Any]:
        """The config entry."""

    @property
    def chargers(self) -> dict[str, Charger]:
        """The approved chargers' model, by charger id."""

    @property
    def sessions(self) -> dict[str, ChargerProtocol]:
        """The connected chargers' protocol handlers, by charger id."""

    @property
    def stored(self) -> dict[str, Any]:
        """What is stored of chargers not in the model (yet)."""

    @property
    def subentry_ids(self) -> dict[str, str]:
        """Each approved charger's subentry id."""

    @property
    def log_once(self) -> dict[str, LogOnce]:
        """What was logged once for each approved charger, across its connections."""

    @property
    def prices(self) -> PriceSource:
        """The electricity prices."""

    @property
    def admission(self) -> AdmissionView:
        """Who may connect."""

    @property
    def preparation(self) -> PreparationView:
        """Chargers made ready."""

    @property
    def announce(self) -> AnnouncementsView:
        """What chargers report."""

    @property
    def authorization(self) -> AuthorizationView:
        """Id tags."""

    @property
    def devices(self) -> DevicesView:
        """Devices and entities."""

    @property
    def ledger(self) -> LedgerView:
        """The sessions ledger."""

    @property
    def smart(self) -> SmartView:
        """Smart charging."""

    @property
    def upstreams(self) -> UpstreamsView:
        """The upstream links."""

    @property
    def save_soon(self) -> SaveSoon:
        """Save within a delay in seconds (the default: the readings' durability window)."""

    def charger_option(self, charger_id: str, key: str) -> Any:
        """A per-charger setting from its subentry."""

    def configuration(self, charger_id: str) -> dict[str, str]:
        """The charger's OCPP configuration as last read."""

    def electrical_settings(self, charger_id: str) -> ElectricalSettings:
        """Limit range and W/A conversion settings of a charger."""

    def next_transaction_id(self) -> int:
        """A transaction id never handed out before."""

    def run_command[T](
        self, charger_id: str, command: Callable[[ChargerProtocol], Awaitable[T]]
    ) -> Awaitable[T]:
        """Run a command on a connected charger, turning protocol failures into HA errors."""
