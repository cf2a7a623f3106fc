"""What an upstream link keeps across restarts: its queue, the id map, the charger's boot."""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from typing import Any

from ..wire.connection import Payload
from .queue import Item, ReplayQueue
from .transactions import TransactionMap

_LOGGER = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass
class UpstreamState:
    """The queue, the 1.6 transaction id map and the charger's last BootNotification."""

    queue: ReplayQueue = field(default_factory=ReplayQueue)
    ids: TransactionMap = field(default_factory=TransactionMap)
    boot: Payload | None = None

    def settle(self, item: Item) -> None:
        """Bind a StartTransaction's two ids once both are known."""
        if item.local_tx is not None and item.upstream_tx is not None:
            self.ids.bind(item.local_tx, item.upstream_tx)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for the store."""
        return {
            "version": FORMAT_VERSION,
            "boot": self.boot,
            "queue": self.queue.as_json(),
            "transactions": self.ids.as_json(),
        }

    def load(self, data: Any) -> None:
        """Restore what `as_json` gave; anything unreadable is skipped, never raised."""
        if data is None:
            return
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            _LOGGER.warning("ignoring unreadable upstream state")
            return
        if isinstance(boot := data.get("boot"), dict) and self.boot is None:
            self.boot = boot
        self.queue.load(data.get("queue"))
        self.ids.load(data.get("transactions"))
