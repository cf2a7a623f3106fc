"""The hub's side of protocol.port.CentralPort: one charger's handler talking to its central
system. Everything a handler asks of the outside goes through here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..core.events import (
    ChargerEvent,
    ErrorRaised,
    IdTagSeen,
    SecurityEventReported,
    SessionEnded,
    SessionStarted,
)
from ..core.id_tags import AuthResult
from ..core.limits import ElectricalSettings
from ..core.model import Charger, ChargerInfo
from ..protocol.port import BootDecision

if TYPE_CHECKING:
    from ..parts import CentralView


class ChargerPort:
    """CentralPort for one charger id (a connection's handler)."""

    __slots__ = ("_central", "_charger_id", "save_soon")

    def __init__(self, central: CentralView, charger_id: str) -> None:
        """Bind to a central system and a charger id."""
        self._central = central
        self._charger_id = charger_id
        # Called for every reading: the central system's own method, no hop in between.
        self.save_soon = central.save_soon

    @property
    def charger(self) -> Charger | None:
        """The approved charger's model, if approved."""
        return self._central.chargers.get(self._charger_id)

    @property
    def configuration(self) -> dict[str, str]:
        """The charger's configuration as last read."""
        return self._central.configuration(self._charger_id)

    def electrical_settings(self) -> ElectricalSettings:
        """The charger's limit range and W/A settings."""
        return self._central.electrical_settings(self._charger_id)

    def boot(self, info: ChargerInfo) -> BootDecision:
        """The central system's boot policy."""
        return self._central.admission.boot(self._charger_id, info)

    def charger_ready(self) -> None:
        """Prepare the charger (configuration, limits, local list) and tell its parts."""
        self._central.preparation.charger_ready(self._charger_id)

    def authorize(self, id_tag: str) -> AuthResult:
        """The id tags' decision at this charger."""
        return self._central.authorization.authorize(id_tag, self._charger_id)

    def authorize_start(self, id_tag: str, connector_id: int) -> AuthResult:
        """The id tags' decision for a session start (one session per known tag)."""
        if (charger := self._central.chargers.get(self._charger_id)) is None:
            return self.authorize(id_tag)  # removed while its message was being answered
        return self._central.authorization.authorize_start(id_tag, charger, connector_id)

    def next_transaction_id(self) -> int:
        """A new, persisted transaction id."""
        return self._central.next_transaction_id()

    def publish(self, event: ChargerEvent) -> None:
        """Record, announce and persist what a handler reports."""
        announce = self._central.announce
        if (charger := self._central.chargers.get(self._charger_id)) is None:
            return  # removed while its message was being answered: nothing left to record
        match event:
            case SessionStarted(tx, meter_start):
                announce.session_started(charger, tx, meter_start=meter_start)
            case SessionEnded(tx, reason, meter_stop_wh):
                announce.session_ended(charger, tx, reason, meter_stop_wh)
            case ErrorRaised(connector_id, error):
                announce.error(charger, connector_id, error)
            case IdTagSeen(id_tag, status):
                announce.id_tag(charger, id_tag, status)
            case SecurityEventReported(event_type, tech_info, timestamp):
                announce.security_event(charger, event_type, tech_info, timestamp)

    def start_of_local_day(self) -> datetime:
        """Local midnight in Home Assistant's time zone, in UTC."""
        return dt_util.start_of_local_day().astimezone(dt_util.UTC)
