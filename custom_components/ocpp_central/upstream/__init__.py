"""Upstream: forward a charger to a second central system (an operator's backend).

Free of Home Assistant: the hub gives it a ChargerPort and an UpstreamStore, the charger's
connection calls `Upstream.forward` / `owns` / `decide`. See docs/upstream.md.
"""

from .commands import COMMANDS, is_protected
from .link import BootState
from .ports import ChargerPort, UpstreamStore
from .queue import MAX_BYTES, MAX_ITEMS, ReplayQueue, is_transactional
from .retry import Backoff
from .settings import SUBPROTOCOLS, Timing, UpstreamMode, UpstreamSettings
from .transactions import TransactionMap
from .upstream import Upstream

__all__ = [
    "COMMANDS",
    "MAX_BYTES",
    "MAX_ITEMS",
    "SUBPROTOCOLS",
    "Backoff",
    "BootState",
    "ChargerPort",
    "ReplayQueue",
    "Timing",
    "TransactionMap",
    "Upstream",
    "UpstreamMode",
    "UpstreamSettings",
    "UpstreamStore",
    "is_protected",
    "is_transactional",
]
