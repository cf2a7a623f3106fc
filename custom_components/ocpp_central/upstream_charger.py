"""The charger as the commands of its upstream backend reach it: the fuse comes first.

In OCPP a charger applies, per purpose, the profile with the highest stack level (not the
lowest limit); across purposes the lowest limit wins, and a TxProfile overrules a
TxDefaultProfile. Smart charging's fuse protection is a TxProfile one stack level above the
user's (the user's own on a charger without a higher one: protocol.stack_levels), with profile
ids of its own (protocol.smart_profile_id). So that no backend profile can replace it:

- a backend TxProfile at or above smart charging's level is passed on one level below it
  (refused where smart charging uses level 0), and one with smart charging's profile id is
  refused; the same for the profile a remote start carries;
- TxDefaultProfile and the station maximum pass unchanged (they cannot lift a TxProfile's
  limit); any other purpose (2.x ChargingStationExternalConstraints, 2.1's newer ones) is
  refused: the charger itself sets those, or they overrule TxProfiles;
- a ClearChargingProfile that could clear smart charging's profile is narrowed to what it
  cannot: the same request per purpose, and for TxProfiles per stack level below ours.

Remote starts that reach the charger make their id tag acceptable at this charger
(Authorization.remember_upstream): with the `known` id-tag policy the session the backend
starts would otherwise be refused when the charger asks about its tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .core.bounds import MAX_CONNECTORS
from .protocol import SMART_PROFILE_BASE
from .wire.connection import NotConnectedError, Payload

if TYPE_CHECKING:
    from .parts import CentralView
    from .protocol import ChargerProtocol

# The station-wide maximum's purpose in each version family.
_STATION_MAX = {"1.6": "ChargePointMaxProfile"}
_STATION_MAX_2X = "ChargingStationMaxProfile"
TX_PROFILE = "TxProfile"
TX_DEFAULT = "TxDefaultProfile"

REJECTED: Payload = {"status": "Rejected"}
UNKNOWN: Payload = {"status": "Unknown"}


@dataclass(frozen=True, slots=True)
class Fuse:
    """What a backend command must leave alone on one charger."""

    version: str
    smart_level: int  # smart charging's stack level on this charger
    is_smart_id: Callable[[int], bool]  # whether a profile id is smart charging's

    @property
    def station_max(self) -> str:
        """The station maximum's purpose in this version."""
        return _STATION_MAX.get(self.version, _STATION_MAX_2X)

    @property
    def is_16(self) -> bool:
        """OCPP 1.6 (else 2.x)."""
        return self.version == "1.6"


def is_smart_profile_id(profile_id: int) -> bool:
    """Whether a profile id is one of smart charging's TxProfiles (one per connector)."""
    return SMART_PROFILE_BASE < profile_id <= SMART_PROFILE_BASE + MAX_CONNECTORS


def fuse_of(session: ChargerProtocol) -> Fuse:
    """The rules for a connected charger: smart charging's stack level and profile ids.

    Its level is one above the user's, or the user's own on a charger whose highest level
    is 0 or 1 (protocol.stack_levels): a backend TxProfile must then go below that one.
    """
    level, _shared = session.smart_stack_level()
    return Fuse(session.connection.ocpp_version, level, is_smart_profile_id)


def _profile_field(fuse: Fuse, action: str) -> str:
    if action == "SetChargingProfile":
        return "csChargingProfiles" if fuse.is_16 else "chargingProfile"
    return "chargingProfile"  # RemoteStartTransaction / RequestStartTransaction


def guard_profile(fuse: Fuse, profile: Any) -> Payload | None:
    """A backend's charging profile as it may reach the charger; None: refused."""
    if not isinstance(profile, dict):
        return None
    profile_id = profile.get("chargingProfileId" if fuse.is_16 else "id")
    if isinstance(profile_id, int) and fuse.is_smart_id(profile_id):
        return None
    purpose = profile.get("chargingProfilePurpose")
    if purpose in (TX_DEFAULT, fuse.station_max):
        return profile
    if purpose != TX_PROFILE:
        return None
    level = profile.get("stackLevel")
    if not isinstance(level, int) or level < fuse.smart_level:
        return profile
    if fuse.smart_level == 0:
        return None  # nothing below ours to move it to
    return {**profile, "stackLevel": fuse.smart_level - 1}


def guard_command(fuse: Fuse, action: str, payload: Payload) -> Payload | None:
    """A SetChargingProfile or remote start as it may reach the charger; None: refused."""
    field = _profile_field(fuse, action)
    if field not in payload:
        return payload
    if (profile := guard_profile(fuse, payload[field])) is None:
        return None
    return {**payload, field: profile}


def narrow_clear(fuse: Fuse, payload: Payload) -> list[Payload]:
    """The ClearChargingProfile requests that do what the backend's does, except clearing
    smart charging's profile (an empty list: nothing left to clear)."""
    id_field = "id" if fuse.is_16 else "chargingProfileId"
    if (profile_id := payload.get(id_field)) is not None:
        return [] if isinstance(profile_id, int) and fuse.is_smart_id(profile_id) else [payload]
    if fuse.is_16:
        criteria: Payload = {k: v for k, v in payload.items() if k != id_field}
    else:
        raw = payload.get("chargingProfileCriteria")
        criteria = dict(raw) if isinstance(raw, dict) else {}
    purpose, level = criteria.get("chargingProfilePurpose"), criteria.get("stackLevel")
    if purpose not in (None, TX_PROFILE) or (level is not None and level != fuse.smart_level):
        return [payload]  # cannot match ours
    parts: list[Payload] = []
    if purpose is None:
        parts += [{**criteria, "chargingProfilePurpose": p} for p in (TX_DEFAULT, fuse.station_max)]
    if level is None:
        parts += [
            {**criteria, "chargingProfilePurpose": TX_PROFILE, "stackLevel": below}
            for below in range(fuse.smart_level)
        ]
    if fuse.is_16:
        return parts
    return [{"chargingProfileCriteria": part} for part in parts]


def remote_start_tag(version: str, action: str, payload: Payload) -> str | None:
    """The id tag a backend's remote start names."""
    if version == "1.6":
        tag = payload.get("idTag") if action == "RemoteStartTransaction" else None
    elif action == "RequestStartTransaction" and isinstance(payload.get("idToken"), dict):
        tag = payload["idToken"].get("idToken")
    else:
        tag = None
    return tag if isinstance(tag, str) else None


class UpstreamCharger:
    """The upstream package's ChargerPort for one charger: whichever connection it has now."""

    def __init__(
        self, central: CentralView, charger_id: str, fuse: Callable[[], Fuse | None]
    ) -> None:
        """`fuse` gives the charger's current rules (None while it is not connected)."""
        self._central = central
        self._charger_id = charger_id
        self._fuse = fuse

    async def call(self, action: str, payload: Payload) -> Payload:
        """Pass a backend command on, within the fuse rules (see the module docstring)."""
        session = self._central.sessions.get(self._charger_id)
        fuse = self._fuse()
        if session is None or fuse is None:
            raise NotConnectedError
        if action == "ClearChargingProfile":
            return await self._clear(fuse, payload)
        if action in ("SetChargingProfile", "RemoteStartTransaction", "RequestStartTransaction"):
            guarded = guard_command(fuse, action, payload)
            if guarded is None:
                return dict(REJECTED)
            payload = guarded
        if (tag := remote_start_tag(fuse.version, action, payload)) is not None:
            # Before it goes out: the charger may ask about the tag before it answers.
            self._central.authorization.remember_upstream(self._charger_id, tag)
        return await session.connection.call(action, payload)

    async def _clear(self, fuse: Fuse, payload: Payload) -> Payload:
        parts = narrow_clear(fuse, payload)
        if parts == [payload]:
            return await self._send("ClearChargingProfile", payload)
        accepted = False
        for part in parts:
            answer = await self._send("ClearChargingProfile", part)
            accepted |= answer.get("status") == "Accepted"
        return {"status": "Accepted"} if accepted else dict(UNKNOWN)

    async def _send(self, action: str, payload: Payload) -> Payload:
        if (session := self._central.sessions.get(self._charger_id)) is None:
            raise NotConnectedError
        return await session.connection.call(action, payload)
