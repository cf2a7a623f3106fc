"""Trust, but verify: which chargers keep drawing more than they were allowed.

A charger that draws more than its limit + 1 A on any phase for 60 s without a break is
flagged; it is cleared as soon as a reading shows it within its limit. The allocator then
counts a flagged charger's actual draw as fixed load (`SessionInput.ignores_limits`), and the
caller raises the repair issue "<charger> ignores charging limits" for `newly_flagged`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import SessionInput

TOLERANCE = 1.0  # A above the limit before a draw counts as too much
PATIENCE = timedelta(seconds=60)  # how long it must last


@dataclass(frozen=True, slots=True)
class Watch:
    """A charger seen drawing too much: since when, the latest evidence, and whether flagged."""

    since: datetime
    limit_a: float
    drawn_a: float
    flagged: bool = False


@dataclass(frozen=True, slots=True)
class Verification:
    """The watches to keep, who ignores limits now, and what changed."""

    watches: Mapping[str, Watch]
    ignoring: frozenset[str]
    newly_flagged: tuple[tuple[str, Watch], ...]  # for the repair issue: limit, draw, since
    cleared: tuple[str, ...]
    next_check: datetime | None  # when a watch would become a flag if nothing changes


def verify(
    watches: Mapping[str, Watch], sessions: Sequence[SessionInput], now: datetime
) -> Verification:
    """Compare what each session draws with what it is allowed (`allowed`, the limit sent)."""
    kept: dict[str, Watch] = {}
    newly: list[tuple[str, Watch]] = []
    cleared: list[str] = []
    for session in sessions:
        previous = watches.get(session.key)
        if session.allowed is None or not session.drawn:
            # Nothing was sent, or nothing is known about the draw: no new evidence.
            if previous is not None:
                kept[session.key] = previous
            continue
        drawing = max(session.drawn.values())
        if drawing <= session.allowed + TOLERANCE:
            if previous is not None and previous.flagged:
                cleared.append(session.key)
            continue
        since = previous.since if previous is not None else now
        flagged = (previous is not None and previous.flagged) or now - since >= PATIENCE
        watch = Watch(since, session.allowed, drawing, flagged)
        if flagged and not (previous is not None and previous.flagged):
            newly.append((session.key, watch))
        kept[session.key] = watch
    return Verification(
        watches=kept,
        ignoring=frozenset(key for key, watch in kept.items() if watch.flagged),
        newly_flagged=tuple(newly),
        cleared=tuple(cleared),
        next_check=min((w.since + PATIENCE for w in kept.values() if not w.flagged), default=None),
    )
