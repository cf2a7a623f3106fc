"""OCPP 1.6 transaction ids, both ways: the charger knows Home Assistant's, the backend its own.

The charger always gets Home Assistant's id (it may have started while the backend was away,
and the backend's ids could collide with ours). When the backend answers the forwarded
StartTransaction, its id is bound to ours; messages going up carry the backend's id, commands
coming down carry ours. 2.x transaction ids are the charger's own: nothing to map.
"""

from __future__ import annotations

import logging
from typing import Any

from ..wire.connection import Payload

_LOGGER = logging.getLogger(__name__)

# Sessions remembered (the latest ones); a home charger has one running at a time.
MAX_MAPPED = 64


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TransactionMap:
    """Home Assistant's transaction id <-> the backend's, for the latest sessions."""

    def __init__(self, max_mapped: int = MAX_MAPPED) -> None:
        """Start empty."""
        self.max_mapped = max_mapped
        self._upstream: dict[int, int] = {}  # local -> upstream, oldest first
        self._local: dict[int, int] = {}  # upstream -> local

    def __len__(self) -> int:
        """How many sessions are mapped."""
        return len(self._upstream)

    def bind(self, local: int, upstream: int) -> None:
        """Map a session; a newer binding of either id replaces the older one."""
        self._forget(local)
        if (other := self._local.get(upstream)) is not None:
            self._forget(other)
        self._upstream[local] = upstream
        self._local[upstream] = local
        while len(self._upstream) > self.max_mapped:
            self._forget(next(iter(self._upstream)))

    def _forget(self, local: int) -> None:
        if (upstream := self._upstream.pop(local, None)) is not None:
            self._local.pop(upstream, None)

    def upstream_of(self, local: Any) -> int | None:
        """The backend's id of one of ours."""
        return self._upstream.get(local) if _is_int(local) else None

    def local_of(self, upstream: Any) -> int | None:
        """Our id of one of the backend's."""
        return self._local.get(upstream) if _is_int(upstream) else None

    def as_json(self) -> list[list[int]]:
        """What is persisted: [local, upstream] pairs, oldest first."""
        return [[local, upstream] for local, upstream in self._upstream.items()]

    def load(self, data: Any) -> None:
        """Restore persisted pairs; skip malformed ones."""
        if not isinstance(data, list):
            return
        for pair in data:
            if isinstance(pair, list) and len(pair) == 2 and all(_is_int(v) for v in pair):
                self.bind(pair[0], pair[1])


def to_backend(action: str, payload: Payload, ids: TransactionMap) -> Payload | None:
    """A 1.6 message with the backend's transaction id; None when it cannot be sent.

    A StopTransaction of a session the backend never got (it started before the link was
    configured, or its StartTransaction was refused) is not sent: our id could name another
    of the backend's sessions. MeterValues of such a session go without a transaction id.
    """
    if action == "StopTransaction":
        if (upstream := ids.upstream_of(payload.get("transactionId"))) is None:
            _LOGGER.debug("not forwarding StopTransaction of a session the backend does not know")
            return None
        return {**payload, "transactionId": upstream}
    if action == "MeterValues" and "transactionId" in payload:
        upstream = ids.upstream_of(payload["transactionId"])
        if upstream is None:
            return {k: v for k, v in payload.items() if k != "transactionId"}
        return {**payload, "transactionId": upstream}
    return payload


def to_charger(action: str, payload: Payload, ids: TransactionMap) -> Payload | None:
    """A 1.6 command from the backend with our transaction id; None for an unknown session.

    An unknown id is refused rather than passed on: it could name another session of ours.
    """
    if action == "RemoteStopTransaction":
        if (local := ids.local_of(payload.get("transactionId"))) is None:
            return None
        return {**payload, "transactionId": local}
    if action == "SetChargingProfile":
        profile = payload.get("csChargingProfiles")
        if isinstance(profile, dict) and "transactionId" in profile:
            if (local := ids.local_of(profile["transactionId"])) is None:
                return None
            return {**payload, "csChargingProfiles": {**profile, "transactionId": local}}
    return payload
