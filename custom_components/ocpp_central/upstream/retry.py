"""When to try again: reconnect backoff, and the backend's intervals within bounds."""

from __future__ import annotations

from collections.abc import Callable
import random
from typing import Any

# Backend-given intervals (seconds) are bounded; 0 or nonsense means the default.
HEARTBEAT_DEFAULT, HEARTBEAT_BOUNDS = 300, (10, 86400)
RETRY_DEFAULT, RETRY_BOUNDS = 60, (5, 3600)


def bounded(value: Any, default: int, bounds: tuple[int, int]) -> int:
    """A backend-given interval within bounds."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return default
    return max(bounds[0], min(bounds[1], value))


class Backoff:
    """Exponential reconnect delays with jitter: each in [d/2, d], d doubling up to `last`."""

    def __init__(
        self, first: float, last: float, rand: Callable[[], float] = random.random
    ) -> None:
        """Start at `first`."""
        self.first, self.last, self._rand = first, last, rand
        self._failures = 0

    def next(self) -> float:
        """The delay before the next attempt."""
        delay = min(self.last, self.first * 2.0 ** min(self._failures, 32))
        self._failures += 1
        return delay / 2 + self._rand() * delay / 2

    def reset(self) -> None:
        """A link that worked starts over at `first`."""
        self._failures = 0
