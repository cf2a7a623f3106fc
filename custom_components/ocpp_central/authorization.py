"""Who may charge: the known id tags, authorization decisions, and chargers' local lists."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from ocpp.exceptions import OCPPError

from .const import CONF_ID_TAG_POLICY, DEFAULT_REMOTE_ID_TAG, DOMAIN, ID_TAG_POLICY_ACCEPT_ALL
from .core.id_tags import AuthResult, AuthStatus, IdTag, authorize
from .core.model import Charger
from .protocol import ChargerProtocol
from .wire.connection import CallErrorReceived, CallTimeoutError, NotConnectedError

if TYPE_CHECKING:
    from .parts import CentralView

_LOGGER = logging.getLogger(__name__)

# Id tags a second central system (upstream, shared or billing mode) started sessions with,
# remembered per charger: the latest ones only.
MAX_UPSTREAM_TAGS = 32


class Authorization:
    """The id tags of one central system (persisted with it) and what follows from them."""

    def __init__(self, central: CentralView) -> None:
        """Start empty; load() restores the stored tags."""
        self.central = central
        # Known tags by upper-case id: RFID readers differ in how they print hex.
        self.tags: dict[str, IdTag] = {}
        # Tags Home Assistant itself used (remote start, reservation), upper-case.
        self.remote_tags: set[str] = {DEFAULT_REMOTE_ID_TAG.upper()}
        # (charger id, upper-case tag) of the backend's remote starts (see remember_upstream).
        self.upstream_tags: dict[tuple[str, str], None] = {}
        # Version of the local list chargers keep; bumped on every change.
        self.version = 0

    def load(self, data: dict[str, Any]) -> None:
        """Restore from the central system's stored data."""
        self.tags = {tag["id_tag"].upper(): IdTag.from_dict(tag) for tag in data.get("id_tags", [])}
        self.remote_tags.update(tag.upper() for tag in data.get("remote_id_tags", []))
        self.version = data.get("id_tags_version", 0)

    def as_data(self) -> dict[str, Any]:
        """What to store."""
        return {
            "id_tags": [tag.as_dict() for tag in self.tags.values()],
            "id_tags_version": self.version,
            "remote_id_tags": sorted(self.remote_tags),
        }

    # --- decisions -------------------------------------------------------------------------

    def authorize(self, id_tag: str, charger_id: str | None = None) -> AuthResult:
        """Decide an id tag (at a charger, when known).

        Known tags keep their status (a blocked card stays blocked); a tag only Home
        Assistant used, in a remote start or reservation, is accepted, and so is one the
        charger's upstream backend just remote-started a session with on that charger.
        """
        upper = id_tag.upper()
        if upper not in self.tags and (
            upper in self.remote_tags or (charger_id, upper) in self.upstream_tags
        ):
            return AuthResult(AuthStatus.ACCEPTED)
        options = self.central.entry.options
        accept_all = options.get(CONF_ID_TAG_POLICY) == ID_TAG_POLICY_ACCEPT_ALL
        return authorize(self.tags, id_tag, accept_unknown=accept_all, now=dt_util.utcnow())

    def authorize_start(self, id_tag: str, charger: Charger, connector_id: int) -> AuthResult:
        """Decide an id tag starting a session: a known card may run one session at a time."""
        result = self.authorize(id_tag, charger.charger_id)
        if result.status != AuthStatus.ACCEPTED or id_tag.upper() not in self.tags:
            return result
        for other in self.central.chargers.values():
            for conn in other.connectors.values():
                tx = conn.transaction
                busy = (
                    tx is not None and tx.id_tag is not None and tx.id_tag.upper() == id_tag.upper()
                )
                if busy and (other is not charger or conn.connector_id != connector_id):
                    return AuthResult(AuthStatus.CONCURRENT_TX, result.expiry, result.parent)
        return result

    def remember_remote(self, id_tag: str) -> None:
        """Home Assistant used this tag: the charger will ask about it."""
        self.remote_tags.add(id_tag.upper())

    def remember_upstream(self, charger_id: str, id_tag: str) -> None:
        """The charger's backend remote-starts a session with this tag (shared and billing
        mode): the charger will ask about it, at this charger only.

        Unlike Home Assistant's own remote tags these are not stored, and only the latest
        MAX_UPSTREAM_TAGS are kept: the backend's app tokens are its business.
        """
        key = (charger_id, id_tag.upper())
        self.upstream_tags.pop(key, None)
        self.upstream_tags[key] = None
        while len(self.upstream_tags) > MAX_UPSTREAM_TAGS:
            del self.upstream_tags[next(iter(self.upstream_tags))]

    # --- changes ---------------------------------------------------------------------------

    def add(self, tag: IdTag) -> None:
        """Add or replace a known id tag."""
        self.tags[tag.id_tag.upper()] = tag
        self._changed(tag.id_tag)

    def remove(self, id_tag: str) -> None:
        """Forget an id tag; raises if it is unknown."""
        if self.tags.pop(id_tag.upper(), None) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_id_tag",
                translation_placeholders={"id_tag": id_tag},
            )
        self._changed(id_tag)

    def _changed(self, id_tag: str) -> None:
        self.version += 1
        self.central.save_soon(0)
        self.central.entry.async_create_background_task(
            self.central.hass, self._push_change(id_tag), f"{DOMAIN} local list update"
        )

    # --- local lists -----------------------------------------------------------------------

    def local_list(self, tags: list[str] | None = None) -> dict[str, AuthResult | None]:
        """Id tags as a charger's local list holds them (None: removed)."""
        now = dt_util.utcnow()
        wanted = tags if tags is not None else [tag.id_tag for tag in self.tags.values()]
        return {
            tag: (
                authorize(self.tags, tag, accept_unknown=False, now=now)
                if tag.upper() in self.tags
                else None
            )
            for tag in wanted
        }

    async def sync_local_list(self, session: ChargerProtocol, charger: Charger) -> None:
        """Send the whole list when the charger's version differs from ours (not to a
        charger whose upstream backend decides who may charge: the list is the backend's)."""
        if not session.supports_local_list(charger.configuration):
            return
        if self.central.upstreams.billing(charger.charger_id):
            return
        if await session.get_local_list_version() != self.version:
            await session.send_local_list(self.version, self.local_list(), full=True)

    async def _push_change(self, id_tag: str) -> None:
        """Send one changed tag to every charger keeping a local list (all of it on mismatch)."""
        # Children follow their parent's status, so they change with it.
        changed = [id_tag] + [
            tag.id_tag
            for tag in self.tags.values()
            if tag.parent and tag.parent.upper() == id_tag.upper()
        ]
        for charger_id, session in list(self.central.sessions.items()):
            charger = self.central.chargers.get(charger_id)
            if charger is None or not session.supports_local_list(charger.configuration):
                continue
            if self.central.upstreams.billing(charger_id):
                continue
            try:
                status = await session.send_local_list(
                    self.version, self.local_list(changed), full=False
                )
                if status != "accepted":
                    await session.send_local_list(self.version, self.local_list(), full=True)
            except (NotConnectedError, CallTimeoutError, CallErrorReceived, OCPPError) as err:
                _LOGGER.info("%s: could not update the local list: %s", charger_id, err)
