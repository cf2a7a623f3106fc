"""What a charger's handler reports, recorded and announced: sessions into the ledger and onto
the bus, errors, id tags and security events as events (with the cause's context)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cause import current_cause
from ..const import (
    EVENT_ERROR,
    EVENT_ID_TAG,
    EVENT_SECURITY,
    EVENT_TRANSACTION_STARTED,
    EVENT_TRANSACTION_STOPPED,
)
from ..core.model import Charger, ErrorInfo, Transaction
from ..core.status import snake
from .persistence import SAVE_DELAY_TRANSACTIONS

if TYPE_CHECKING:
    from ..parts import CentralView


class Announcements:
    """Records and announces what one central system's chargers report."""

    def __init__(self, central: CentralView) -> None:
        """Bind to a central system."""
        self._central = central

    def session_started(self, charger: Charger, tx: Transaction, *, meter_start: bool) -> None:
        """Record and announce a new session (`meter_start`: the charger reported its start
        reading, rather than the register being taken for it)."""
        self._central.ledger.session_started(charger, tx, meter_start=meter_start)
        self._central.save_soon(SAVE_DELAY_TRANSACTIONS)
        self._fire(
            EVENT_TRANSACTION_STARTED,
            charger,
            tx.connector_id,
            {
                "transaction_id": tx.transaction_id,
                "id_tag": tx.id_tag,
                "meter_start_kwh": (
                    None if tx.meter_start_wh is None else round(tx.meter_start_wh / 1000, 3)
                ),
                "timestamp": tx.start.isoformat(),
            },
        )

    def session_ended(
        self, charger: Charger, tx: Transaction, reason: str | None, meter_stop_wh: float | None
    ) -> None:
        """Record and announce a session that ended (the handler closed it in the model)."""
        assert tx.stop is not None
        central = self._central
        central.ledger.session_ended(charger, tx, reason, meter_stop_wh)
        central.save_soon(SAVE_DELAY_TRANSACTIONS)
        central.preparation.session_ended(charger, charger.connector(tx.connector_id))
        self._fire(
            EVENT_TRANSACTION_STOPPED,
            charger,
            tx.connector_id,
            {
                "transaction_id": tx.transaction_id,
                "id_tag": tx.id_tag,
                "energy_kwh": tx.energy_kwh,
                "duration_s": tx.duration_s(tx.stop),
                "reason": tx.reason,
            },
        )

    def security_event(
        self, charger: Charger, event_type: str, tech_info: str | None, timestamp: str | None
    ) -> None:
        """Announce a SecurityEventNotification (OCPP 2.x)."""
        self._fire(
            EVENT_SECURITY,
            charger,
            0,
            {"type": event_type, "tech_info": tech_info, "timestamp": timestamp},
        )

    def id_tag(self, charger: Charger, id_tag: str, status: str) -> None:
        """Announce an Authorize; `status` in OCPP spelling (an AuthStatus, or the backend's
        own in billing mode)."""
        self._fire(EVENT_ID_TAG, charger, 0, {"id_tag": id_tag, "status": snake(str(status))})

    def error(self, charger: Charger, connector_id: int, error: ErrorInfo) -> None:
        """Announce an error that just started."""
        self._fire(
            EVENT_ERROR,
            charger,
            connector_id,
            {
                "error_code": error.code,
                "info": error.info,
                "vendor_error_code": error.vendor_error_code,
            },
        )

    def _fire(self, event: str, charger: Charger, connector_id: int, data: dict[str, Any]) -> None:
        central = self._central
        central.hass.bus.async_fire(
            event,
            {
                "device_id": central.devices.device_id(charger.charger_id),
                "charge_point_id": charger.charger_id,
                "connector_id": connector_id,
                **data,
            },
            context=cause.context if (cause := current_cause()) else None,
        )
