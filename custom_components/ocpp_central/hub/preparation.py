"""Getting an accepted charger ready on each connection: its configuration read, the meter
interval set, the user's limits re-applied, its local list synced, its open sessions confirmed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
import logging
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util
from ocpp.exceptions import OCPPError

from ..const import CONF_METER_INTERVAL, DOMAIN
from ..core.model import Charger, Connector
from ..protocol import ChargerProtocol
from ..wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError
from .persistence import SAVE_DELAY_TRANSACTIONS

if TYPE_CHECKING:
    from ..parts import CentralView

_LOGGER = logging.getLogger(__name__)


class Preparation:
    """Prepares one central system's chargers, and keeps the user's limits on them."""

    def __init__(self, central: CentralView) -> None:
        """Bind to a central system."""
        self._central = central

    def charger_ready(self, charger_id: str) -> None:
        """An accepted charger (re)connected: learn it and re-apply what the user set."""
        central = self._central
        central.smart.charger_ready(charger_id)
        central.upstreams.charger_ready(charger_id)
        if (session := central.sessions.get(charger_id)) is not None:
            central.entry.async_create_background_task(
                central.hass, self._prepare_charger(session), f"{DOMAIN} prepare {charger_id}"
            )

    async def _prepare_charger(self, session: ChargerProtocol) -> None:
        """Read the configuration once per connection, set the meter interval, re-apply
        limits, sync the local list and confirm the sessions left open.

        Each step runs whatever became of the one before it: a station that never sends
        its report, or refuses one request, still gets its limits and its local list.
        Configuration is written only when the user asked for a different value, never
        in a loop: some chargers reboot after every configuration change.
        """
        central = self._central
        charger = central.chargers.get(session.charger_id)
        if charger is None:
            return
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("read the configuration", lambda: self._read_configuration(session, charger)),
            ("set the meter interval", lambda: self._set_meter_interval(session, charger)),
            *(
                ("re-apply a limit", partial(self._reapply_stored_limit, session, charger, conn))
                for conn in list(charger.connectors.values())
                if conn.limit is not None
            ),
            (
                "send the local list",
                lambda: central.authorization.sync_local_list(session, charger),
            ),
            ("confirm open sessions", lambda: session.confirm_open_sessions(charger)),
        ]
        for what, step in steps:
            await self._prepare_step(session.charger_id, what, step)
        central.save_soon(SAVE_DELAY_TRANSACTIONS)
        charger.notify_all()

    async def _prepare_step(
        self, charger_id: str, what: str, step: Callable[[], Awaitable[None]]
    ) -> None:
        """Run one step of preparing a charger; no failure of it may stop the next ones."""
        try:
            await step()
        except (
            NotConnectedError,
            CallTimeoutError,
            CallErrorReceived,
            TimeoutError,
            OCPPError,
        ) as err:
            _LOGGER.info("%s: could not %s: %s", charger_id, what, str(err) or repr(err))
        except Exception:
            _LOGGER.exception("%s: could not %s", charger_id, what)

    async def _read_configuration(self, session: ChargerProtocol, charger: Charger) -> None:
        charger.configuration = {
            key: value
            for key, value in (await session.read_configuration()).items()
            if key != session.password_key  # a secret: not stored, not in diagnostics
        }
        for connector_id in session.connector_ids(charger.configuration):
            charger.connector(connector_id)

    async def _set_meter_interval(self, session: ChargerProtocol, charger: Charger) -> None:
        interval = self._central.charger_option(session.charger_id, CONF_METER_INTERVAL)
        key = session.meter_interval_key
        if interval and charger.configuration.get(key) != str(interval):
            status = await session.set_configuration(key, str(interval))
            if status in ("accepted", "reboot_required"):
                charger.configuration[key] = str(interval)

    async def _reapply_stored_limit(
        self, session: ChargerProtocol, charger: Charger, conn: Connector
    ) -> None:
        if conn.limit is not None:  # still set
            await self.apply_limit(session, charger, conn)

    async def apply_limit(self, session: ChargerProtocol, charger: Charger, conn: Connector) -> str:
        """Send a connector's limit: bound to the running session, else as the default;
        returns the charger's answer (accepted, rejected, not_supported)."""
        assert conn.limit is not None
        if conn.limit.expired(dt_util.utcnow()):
            # A limit for a while that is over: nothing to re-apply (the charger dropped it).
            conn.limit = None
            self._central.save_soon(SAVE_DELAY_TRANSACTIONS)
            charger.notify((conn.connector_id,))
            return "accepted"
        tx = conn.transaction
        status = await session.set_charging_limit(
            conn.connector_id, conn.limit, tx.transaction_id if tx else None
        )
        if status == "accepted":
            conn.limit_in_transaction = tx is not None
        return status

    def session_ended(self, charger: Charger, conn: Connector) -> None:
        """The charger drops a TxProfile with its session; keep the limit as the default."""
        central = self._central
        session = central.sessions.get(charger.charger_id)
        if conn.limit is not None and conn.limit_in_transaction and session is not None:
            central.entry.async_create_background_task(
                central.hass, self._reapply_limit(session, charger, conn), f"{DOMAIN} reapply limit"
            )

    async def _reapply_limit(
        self, session: ChargerProtocol, charger: Charger, conn: Connector
    ) -> None:
        try:
            await self.apply_limit(session, charger, conn)
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not re-apply the limit: %s", charger.charger_id, err)
