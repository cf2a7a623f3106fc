"""Who may connect and who is a charger of this central system: passwords, the boot policy,
chargers waiting for approval and their discovered flows, approval and removal, and the rule
that a charger id belongs to one central system only."""

from __future__ import annotations

import hmac
import logging
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    ConfigEntry,
    ConfigSubentry,
)
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr

from ..const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_NEW_CHARGERS,
    CONF_REQUIRE_PASSWORD,
    DOMAIN,
    NEW_CHARGERS_ACCEPT,
    NEW_CHARGERS_ASK,
    NEW_CHARGERS_REJECT,
    SUBENTRY_CHARGER,
)
from ..core.model import Charger, ChargerInfo
from ..protocol import ChargerProtocol
from ..protocol.port import BootDecision
from ..repairs import async_create_auth_issue, async_delete_auth_issue, async_delete_reboot_issue
from ..wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError
from .persistence import SAVE_DELAY_TRANSACTIONS

if TYPE_CHECKING:
    from ..parts import CentralView

_LOGGER = logging.getLogger(__name__)

BOOT_NOTIFICATION = "BootNotification"  # the same action name in every OCPP version
# Unknown chargers waiting for approval at most (each has a discovered flow).
MAX_PENDING = 20
# Failed handshakes from one address before the user is told.
AUTH_REPORT_AFTER = 3


def charger_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Approved chargers of an entry, by charger id."""
    return {
        sub.data[CONF_CHARGER_ID]: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CHARGER
    }


def owner_elsewhere(hass: HomeAssistant, entry_id: str, charger_id: str) -> ConfigEntry | None:
    """The other central system (entry) a charger id already belongs to, if any.

    A charger id is a device identifier, a unique id and a repair id: it can belong to one
    central system only.
    """
    for other in hass.config_entries.async_entries(DOMAIN):
        if other.entry_id != entry_id and charger_id in charger_subentries(other):
            return other
    return None


class Admission:
    """One central system's doorkeeper."""

    def __init__(self, central: CentralView) -> None:
        """Nobody waiting yet."""
        self._central = central
        self._hass = central.hass
        self._entry = central.entry
        # Unknown chargers that booted and wait for approval (connected ones only).
        self.pending: dict[str, ChargerInfo] = {}
        self._accepting: set[str] = set()  # chargers being accepted by policy in a boot answer

    # --- the handshake -----------------------------------------------------------------

    def check_password(self, charger_id: str, password: str | None) -> bool:
        """Whether a handshake may proceed.

        A charger with a password must send it; without one, it may connect unless the
        entry requires passwords from every charger.
        """
        subentry = charger_subentries(self._entry).get(charger_id)
        required = subentry.data.get(CONF_PASSWORD) if subentry else None
        if required:
            if password is None:
                return False
            # OCPP 1.6 sends a password to the charger hex-encoded (AuthorizationKey); a
            # charger that takes that value as the password itself sends the hex form.
            given = password.encode()
            plain = hmac.compare_digest(given, required.encode())
            hexed = hmac.compare_digest(given, required.encode().hex().encode())
            return plain or hexed
        return not self._entry.options.get(CONF_REQUIRE_PASSWORD, False)

    def auth_failed(self, charger_id: str, address: str, failures: int) -> None:
        """Surface a charger that keeps failing authentication once, not on every attempt."""
        if failures == AUTH_REPORT_AFTER:
            _LOGGER.warning("%s (%s) keeps failing authentication", charger_id, address)
            async_create_auth_issue(self._hass, charger_id, address)

    def auth_succeeded(self, charger_id: str) -> None:
        """A charger got in: a repair about its failures is moot."""
        async_delete_auth_issue(self._hass, charger_id)

    # --- the boot policy ---------------------------------------------------------------

    def boot(self, charger_id: str, info: ChargerInfo) -> BootDecision:
        """Decide a BootNotification: accepted, pending or rejected."""
        central = self._central
        if (charger := central.chargers.get(charger_id)) is not None:
            async_delete_reboot_issue(self._hass, charger_id)
            if info != charger.info:
                charger.info = info
                central.devices.register(charger)
                central.save_soon(SAVE_DELAY_TRANSACTIONS)
            return BootDecision.ACCEPTED
        policy = self._entry.options.get(CONF_NEW_CHARGERS, NEW_CHARGERS_ASK)
        if policy == NEW_CHARGERS_REJECT:
            return BootDecision.REJECTED
        session = central.sessions.get(charger_id)
        if (owner := owner_elsewhere(self._hass, self._entry.entry_id, charger_id)) is not None:
            if session is not None:
                session.connection.log_once.once(
                    "owned-elsewhere",
                    "refused: this charger id belongs to the central system %s",
                    owner.title,
                )
            return BootDecision.REJECTED
        lenient = session is not None and BOOT_NOTIFICATION in session.connection.non_compliant
        # Flows count too: one started just before its charger went away outlives it.
        flows = self._hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"source": SOURCE_INTEGRATION_DISCOVERY}
        )
        if charger_id not in self.pending and max(len(self.pending), len(flows)) >= MAX_PENDING:
            # A flood of unknown ids must not fill Home Assistant with discovered flows.
            _LOGGER.debug("Too many chargers waiting for approval; %s stays pending", charger_id)
            return BootDecision.PENDING
        self.pending[charger_id] = info
        if policy == NEW_CHARGERS_ACCEPT:
            # Accepted in this very answer: no TriggerMessage(BootNotification) needed (the
            # subentry's update listener may add the charger before approve_charger does).
            self._accepting.add(charger_id)
            try:
                self.approve_charger(charger_id, lenient=lenient)
            finally:
                self._accepting.discard(charger_id)
            return BootDecision.ACCEPTED
        self._entry.async_create_task(
            self._hass,
            self._hass.config_entries.flow.async_init(
                DOMAIN,
                context={"source": SOURCE_INTEGRATION_DISCOVERY},
                data={
                    "entry_id": self._entry.entry_id,
                    CONF_CHARGER_ID: charger_id,
                    "vendor": info.vendor or "",
                    "model": info.model or "",
                    CONF_LENIENT: lenient,
                },
            ),
            f"{DOMAIN} discovered {charger_id}",
            eager_start=False,
        )
        return BootDecision.PENDING

    # --- approval and removal ----------------------------------------------------------

    @callback
    def approve_charger(
        self,
        charger_id: str,
        title: str | None = None,
        *,
        password: str | None = None,
        lenient: bool = False,
        flow_id: str | None = None,
    ) -> None:
        """Add a charger (as a subentry) and accept it right away if it is connected.

        `flow_id` is the approving flow: it ends itself, the charger's other flows are aborted.
        """
        data: dict[str, Any] = {CONF_CHARGER_ID: charger_id}
        if password:
            data[CONF_PASSWORD] = password
        if lenient:
            data[CONF_LENIENT] = True
        subentry = ConfigSubentry(
            data=MappingProxyType(data),
            subentry_type=SUBENTRY_CHARGER,
            title=title or charger_id,
            unique_id=charger_id,
        )
        self._hass.config_entries.async_add_subentry(self._entry, subentry)
        self.add_charger(subentry, approving_flow_id=flow_id)

    def add_charger(self, subentry: ConfigSubentry, approving_flow_id: str | None = None) -> None:
        """Make an approved charger's model, entities and devices (once)."""
        central = self._central
        charger_id: str = subentry.data[CONF_CHARGER_ID]
        if charger_id in central.chargers:
            return
        stored = central.stored.get(charger_id)
        charger = Charger.from_dict(charger_id, stored) if stored else Charger(charger_id)
        if (info := self.pending.pop(charger_id, None)) is not None:
            charger.info = info
        if (live := central.sessions.get(charger_id)) is not None:
            # From now on the charger's own setting decides, also for its next boot.
            live.connection.lenient = bool(subentry.data.get(CONF_LENIENT))
            live.connection.lenient_actions = frozenset()
            central.log_once.setdefault(charger_id, live.connection.log_once)
        charger.on_new_connector = central.devices.on_new_connector
        charger.on_new_measurand = central.devices.on_new_measurand
        charger.on_session_readings = central.ledger.readings
        central.chargers[charger_id] = charger
        central.subentry_ids[charger_id] = subentry.subentry_id
        central.devices.register(charger)
        central.devices.add_entities(charger)
        central.smart.track(charger)
        # A discovered flow for it is moot; abort it once the running flow step is over (that
        # may be the approving flow itself, which the flow manager must finish on its own).
        self._entry.async_create_task(
            self._hass,
            self._abort_discovered_flows(charger_id, approving_flow_id),
            eager_start=False,
        )
        if (session := central.sessions.get(charger_id)) is not None:
            charger.connected = True
            charger.notify_all()
        if session is not None and charger_id not in self._accepting:
            # It was told Pending: ask for a new boot so it is Accepted without waiting.
            self._entry.async_create_background_task(
                self._hass, self._trigger_boot(session), f"{DOMAIN} trigger boot {charger_id}"
            )
        central.save_soon(SAVE_DELAY_TRANSACTIONS)

    @callback
    def disconnected(self, charger_id: str) -> None:
        """A charger waiting for approval went away: its discovered flow goes too (it comes
        back with the charger's next boot), so flows never outnumber the pending cap."""
        if self.pending.pop(charger_id, None) is None:
            return  # only connected chargers wait for approval (and count towards the cap)
        for flow in self._hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"unique_id": charger_id}
        ):
            if flow["context"].get("source") == SOURCE_INTEGRATION_DISCOVERY:
                self._hass.config_entries.flow.async_abort(flow["flow_id"])

    async def _abort_discovered_flows(self, charger_id: str, approving_flow_id: str | None) -> None:
        for flow in self._hass.config_entries.flow.async_progress_by_handler(
            DOMAIN, match_context={"unique_id": charger_id}
        ):
            if flow["flow_id"] != approving_flow_id:
                self._hass.config_entries.flow.async_abort(flow["flow_id"])

    async def _trigger_boot(self, session: ChargerProtocol) -> None:
        try:
            await session.trigger_boot()
        except (NotConnectedError, CallTimeoutError, CallErrorReceived) as err:
            _LOGGER.info("%s: could not trigger a BootNotification: %s", session.charger_id, err)

    async def remove_charger(self, charger_id: str) -> None:
        """A charger's subentry went: forget it, and end its connection."""
        central = self._central
        central.chargers.pop(charger_id, None)
        central.stored.pop(charger_id, None)
        central.subentry_ids.pop(charger_id, None)
        central.log_once.pop(charger_id, None)
        central.devices.forget(charger_id)
        central.smart.forget(charger_id)
        central.upstreams.forget(charger_id)
        if (session := central.sessions.get(charger_id)) is not None:
            await session.connection.close()
        central.save_soon(SAVE_DELAY_TRANSACTIONS)

    @callback
    def remove_device(self, device: dr.DeviceEntry) -> bool:
        """Remove the charger a device stands for (its subentry goes with it)."""
        central = self._central
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier in central.subentry_ids:
                self._hass.config_entries.async_remove_subentry(
                    self._entry, central.subentry_ids[identifier]
                )
                return True
        # A connector device goes with its charger; an orphan may go.
        return not any(
            domain == DOMAIN and identifier.split("-connector-")[0] in central.chargers
            for domain, identifier in device.identifiers
        )
