"""The messages the backend has not received yet, in the order the charger sent them.

Bounded by count and size. When full, the oldest message that is not part of a transaction
goes first; transaction messages (what billing is made of) go only when nothing else is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
import json
import logging
from typing import Any

from ..wire.connection import Payload

_LOGGER = logging.getLogger(__name__)

MAX_ITEMS = 5000
MAX_BYTES = 2 * 1024 * 1024

_TRANSACTION_ACTIONS = frozenset({"StartTransaction", "StopTransaction", "TransactionEvent"})


def is_transactional(action: str, payload: Payload) -> bool:
    """1.6 Start/StopTransaction and MeterValues of a transaction; 2.x TransactionEvent."""
    if action in _TRANSACTION_ACTIONS:
        return True
    return action == "MeterValues" and payload.get("transactionId") is not None


@dataclass(eq=False)
class Item:
    """One message for the backend."""

    action: str
    payload: Payload
    # 1.6 StartTransaction: the transaction id Home Assistant gave the charger, and the one
    # the backend answered (whichever is known first waits for the other).
    local_tx: int | None = None
    upstream_tx: int | None = None
    # Billing mode: resolved with the backend's answer, or None once it will not come soon.
    answer: asyncio.Future[Payload | None] | None = field(default=None, repr=False)
    # Times the backend did not answer it at all.
    attempts: int = 0
    size: int = field(init=False)
    transactional: bool = field(init=False)

    def __post_init__(self) -> None:
        """Size and priority, computed once."""
        self.size = len(self.action) + len(json.dumps(self.payload, separators=(",", ":")))
        self.transactional = is_transactional(self.action, self.payload)

    def resolve(self, answer: Payload | None) -> None:
        """Give a billing-mode waiter the answer (or None: decide locally)."""
        if self.answer is not None and not self.answer.done():
            self.answer.set_result(answer)

    def as_json(self) -> dict[str, Any]:
        """What is persisted."""
        data: dict[str, Any] = {"action": self.action, "payload": self.payload}
        if self.local_tx is not None:
            data["local_tx"] = self.local_tx
        return data

    @classmethod
    def from_json(cls, data: Any) -> Item | None:
        """An item from persisted data; None for anything malformed."""
        if not isinstance(data, dict):
            return None
        action, payload, local_tx = data.get("action"), data.get("payload"), data.get("local_tx")
        if not isinstance(action, str) or not isinstance(payload, dict):
            return None
        if local_tx is not None and (not isinstance(local_tx, int) or isinstance(local_tx, bool)):
            return None
        return cls(action, payload, local_tx=local_tx)


class ReplayQueue:
    """FIFO of items, bounded by `max_items` and `max_bytes`."""

    def __init__(self, max_items: int = MAX_ITEMS, max_bytes: int = MAX_BYTES) -> None:
        """Start empty."""
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: list[Item] = []
        self.bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        """How many items wait."""
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        """The items, oldest first."""
        return iter(list(self._items))

    def head(self) -> Item | None:
        """The oldest item, which is sent next."""
        return self._items[0] if self._items else None

    def append(self, item: Item) -> list[Item]:
        """Add an item at the end; return the items dropped to stay within the bounds."""
        self._items.append(item)
        self.bytes += item.size
        dropped: list[Item] = []
        while self._items and (len(self._items) > self.max_items or self.bytes > self.max_bytes):
            victim = next((i for i in self._items if not i.transactional), self._items[0])
            self.remove(victim)
            victim.resolve(None)
            dropped.append(victim)
        if dropped:
            self.dropped += len(dropped)
            _LOGGER.debug("upstream queue full: dropped %s message(s)", len(dropped))
        return dropped

    def remove(self, item: Item) -> None:
        """Take an item out (sent, refused or dropped); nothing if it is gone already."""
        for index, queued in enumerate(self._items):
            if queued is item:
                del self._items[index]
                self.bytes -= item.size
                return

    def discard(self, action: str) -> None:
        """Drop every item of one action (boots already sent by a new session)."""
        for item in [i for i in self._items if i.action == action]:
            self.remove(item)
            item.resolve(None)

    def release_waiters(self) -> None:
        """The link is down: billing waiters decide locally; their items stay for replay."""
        for item in self._items:
            item.resolve(None)

    def as_json(self) -> list[dict[str, Any]]:
        """What is persisted, oldest first."""
        return [item.as_json() for item in self._items]

    def load(self, data: Any) -> None:
        """Restore persisted items (after anything already queued); skip malformed ones."""
        if not isinstance(data, list):
            return
        restored = [item for raw in data if (item := Item.from_json(raw)) is not None]
        if len(restored) != len(data):
            _LOGGER.warning(
                "skipped %s malformed upstream queue item(s)", len(data) - len(restored)
            )
        existing, self._items, self.bytes = self._items, [], 0
        for item in [*restored, *existing]:
            self.append(item)
