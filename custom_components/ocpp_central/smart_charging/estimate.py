"""What each session drew when the grid meter last reported: the other half of the
household estimate (household = grid reading − what the sessions draw).

Both halves must be from the same moment. The meter reports every second or so, a charger
its current every 10 to 60 s, and smart charging changes limits in between, so the latest
charger reading is often from another moment than the grid report:

- a reading that arrived after the report, under a limit the report didn't see yet,
  doesn't describe what the report measured;
- a reading from before a limit changed describes the old limit: after a decrease the car
  draws at most the new limit (IEC 61851 gives it a few seconds); after a raise it draws
  the new one if it was using all of the old one, else what it drew.

A car may take a few seconds to follow a new limit (IEC 61851-1 gives it 5 s): until then a
report may have measured the old draw or the new one, and the higher is taken.

Without this, a charger that just lowered its current makes the house look busier than it
is (and the loop lowers every limit again, down to a pause), and one that was just raised
makes it look as if the house had switched something on.

Events are numbered in the order the loop saw them (readings, limits sent, grid reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ..core.smart import Phase

type Drawn = Mapping[Phase, float] | None

KEEP = 6  # readings and limits kept per session
IN_USE = 1.0  # A: a phase drawing at least this much is in use
AT_LIMIT = 1.0  # A: a car drawing within this of its limit uses all of it
FOLLOW = timedelta(seconds=5)  # how long a car may take to follow a new limit


class DrawEstimate:
    """Per session: its recent readings and limits, and the grid reports between them."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        self._tick = 0
        self._report = 0  # the tick of the latest grid report
        self._reported_at: datetime | None = None
        self._readings: dict[str, list[tuple[int, Drawn]]] = {}
        self._limits: dict[str, list[tuple[int, float | None, datetime]]] = {}

    def _next(self) -> int:
        self._tick += 1
        return self._tick

    def reading(self, key: str, drawn: Drawn) -> None:
        """What the session's charger reports now (kept when it changed)."""
        readings = self._readings.setdefault(key, [])
        if not readings or readings[-1][1] != drawn:
            readings.append((self._next(), drawn))
            del readings[:-KEEP]

    def limit(self, key: str, told: float | None, now: datetime) -> None:
        """What the session's charger was told now (kept when it changed)."""
        limits = self._limits.setdefault(key, [])
        if (limits[-1][1] if limits else None) != told:
            limits.append((self._next(), told, now))
            del limits[:-KEEP]

    def grid_report(self, now: datetime) -> None:
        """The grid meter reported: it saw everything recorded so far."""
        self._report = self._next()
        self._reported_at = now

    def forget(self, key: str) -> None:
        """A session that ended."""
        self._readings.pop(key, None)
        self._limits.pop(key, None)

    def at_report(self, key: str, phases: frozenset[Phase]) -> Drawn:
        """What the session drew as the latest grid report measured it (None: unknown).

        While the car may still be following a new limit, the higher of the two draws is
        taken (the old one after a decrease, the new one after a raise): the household then
        never looks busier than it is, which would lower every limit for nothing.
        """
        reported = self._reported_at
        seen = [(t, v, sent) for t, v, sent in self._limits.get(key, ()) if t < self._report]
        settled = [
            (t, v) for t, v, sent in seen if reported is not None and sent + FOLLOW <= reported
        ]
        drawn = self._under(key, phases, settled)
        if len(settled) == len(seen):
            return drawn
        following = self._under(key, phases, [(t, v) for t, v, _ in seen])
        if drawn is None or following is None:
            return drawn or following
        return {p: max(drawn.get(p, 0.0), following.get(p, 0.0)) for p in {*drawn, *following}}

    def _under(
        self, key: str, phases: frozenset[Phase], limits: list[tuple[int, float | None]]
    ) -> Drawn:
        """What the session draws under the last of `limits`."""
        readings = [(t, d) for t, d in self._readings.get(key, ()) if d is not None]
        since, told = limits[-1] if limits else (0, None)
        if told is None:
            # Nothing of ours applied: the car drew what the charger reported, as reported.
            seen = [d for t, d in readings if t < self._report]
            return seen[-1] if seen else None
        later = [t for t, _, _ in self._limits.get(key, ()) if t > since]
        until = later[0] if later else None
        under = [d for t, d in readings if t > since and (until is None or t < until)]
        if under:
            return under[-1]  # read under this very limit
        before = [(t, d) for t, d in readings if t < since]
        if not before:
            return dict.fromkeys(phases, told)
        read_at, reading = before[-1]
        assert reading is not None
        previous = next((v for t, v in reversed(limits[:-1]) if t < read_at), None)
        if previous is None or told < previous:
            return {p: min(amps, told) for p, amps in reading.items()}
        if max(reading.values()) >= previous - AT_LIMIT:
            return {p: told if amps >= IN_USE else amps for p, amps in reading.items()}
        return reading  # limited by the car, not by us
