"""Choosing when to charge: the cheapest time that delivers the energy, in few blocks.

Charging at full power, the cost of a window is its price times the hours used, so the
cheapest plan takes windows cheapest first, the last one only in part (a fractional knapsack:
greedy is optimal). Every start and stop is wear and a chance for the car to fall asleep, so
a plan that costs at most `threshold` per kWh more than the cheapest may trade price for
fewer blocks: first one block if one is cheap enough, otherwise blocks grow from their
cheapest window into neighbours within the threshold. Both keep the plan's cost within
cheapest + threshold x energy.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

EPSILON_HOURS = 1e-9


@dataclass(frozen=True, slots=True)
class Window:
    """Time the car may charge in, at one price per kWh (None: no price is known)."""

    start: datetime
    end: datetime
    price: float | None

    @property
    def hours(self) -> float:
        """Length in hours."""
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class Piece:
    """Part (or all) of a window the plan charges in, at full power."""

    start: datetime
    end: datetime
    price: float | None


def _part(window: Window, hours: float, at_end: bool) -> Piece:
    """`hours` of a window, rounded up to whole minutes, at its start or its end.

    Charging at full power for part of a window (rather than at reduced power for all of it)
    keeps every slot at the one power the connector was given: no current below what cars
    accept (6 A), and the price is the same anywhere in the window.
    """
    length = timedelta(minutes=max(1, math.ceil(hours * 60 - 1e-6)))
    if hours >= window.hours - EPSILON_HOURS or length >= window.end - window.start:
        return Piece(window.start, window.end, window.price)
    if at_end:
        return Piece(window.end - length, window.end, window.price)
    return Piece(window.start, window.start + length, window.price)


def _price(window: Window) -> float:
    return math.inf if window.price is None else window.price


def _cheapest_cost(windows: Sequence[Window], hours: float) -> float:
    """Cost (price x hours) of the cheapest possible choice: cheapest windows first."""
    cost, left = 0.0, hours
    for window in sorted(windows, key=_price):
        used = min(left, window.hours)
        cost += used * _price(window)
        left -= used
        if left <= EPSILON_HOURS:
            break
    return cost


def _runs(windows: Sequence[Window]) -> list[list[Window]]:
    """Windows split where time is not contiguous (a hole in the price data)."""
    runs: list[list[Window]] = []
    for window in windows:
        if runs and runs[-1][-1].end == window.start:
            runs[-1].append(window)
        else:
            runs.append([window])
    return runs


def _block(
    run: Sequence[Window], first: int, last: int, hours: float, backwards: bool
) -> list[Piece]:
    """Windows first..last of a run, the last (or, backwards, the first) one in part."""
    pieces = [Piece(w.start, w.end, w.price) for w in run[first : last + 1]]
    full = (
        sum(w.hours for w in run[first : last + 1]) - (run[first] if backwards else run[last]).hours
    )
    if backwards:
        pieces[0] = _part(run[first], hours - full, at_end=True)
    else:
        pieces[-1] = _part(run[last], hours - full, at_end=False)
    return pieces


def _best_block(windows: Sequence[Window], hours: float) -> tuple[float, list[Piece]]:
    """The cheapest single contiguous block (either end in part); earliest on equal cost.

    Prefix sums of hours and cost make each candidate block O(log n): every window is tried
    as a block's first window (the last one in part) and as its last (the first in part).
    """
    best: tuple[float, datetime, list[Window], int, int, bool] | None = None
    for run in _runs(windows):
        sums, costs = [0.0], [0.0]
        for window in run:
            sums.append(sums[-1] + window.hours)
            costs.append(costs[-1] + window.hours * _price(window))
        for index in range(len(run)):
            # Forward: from window `index` on; `last` is the first one reaching the hours.
            last = bisect_left(sums, sums[index] + hours - EPSILON_HOURS, lo=index + 1) - 1
            if last < len(run):
                used = hours - (sums[last] - sums[index])
                cost = costs[last] - costs[index] + used * _price(run[last])
                candidate = (cost, run[index].start, run, index, last, False)
                best = candidate if _better(candidate, best) else best
            # Backwards: ending with window `index`; `first` is in part, at its end.
            first = bisect_right(sums, sums[index + 1] - hours + EPSILON_HOURS, hi=index + 1) - 1
            if first >= 0:
                used = hours - (sums[index + 1] - sums[first + 1])
                cost = costs[index + 1] - costs[first + 1] + used * _price(run[first])
                start = run[first].end - timedelta(hours=used)
                candidate = (cost, start, run, first, index, True)
                best = candidate if _better(candidate, best) else best
    if best is None:
        return math.inf, []
    cost, _, run, first, last, backwards = best
    return cost, _block(run, first, last, hours, backwards)


def _better(
    candidate: tuple[float, datetime, list[Window], int, int, bool],
    best: tuple[float, datetime, list[Window], int, int, bool] | None,
) -> bool:
    if best is None or candidate[0] < best[0] - 1e-9:
        return True
    return candidate[0] <= best[0] + 1e-9 and candidate[1] < best[1]


def _contiguous(windows: Sequence[Window], index: int, other: int) -> bool:
    """Whether two neighbouring windows touch (no hole in the prices between them)."""
    earlier, later = min(index, other), max(index, other)
    return earlier >= 0 and later < len(windows) and windows[earlier].end == windows[later].start


def _grow(windows: Sequence[Window], hours: float, threshold: float) -> list[Piece]:
    """Cheapest first, but a neighbour of what is taken wins when within the threshold."""
    order = sorted(range(len(windows)), key=lambda index: (_price(windows[index]), index))
    taken: set[int] = set()
    frontier: set[int] = set()  # free windows touching a taken one
    pieces: list[Piece] = []
    left, cursor = hours, 0
    while left > EPSILON_HOURS:
        while cursor < len(order) and order[cursor] in taken:
            cursor += 1
        if cursor == len(order):
            break
        pick = order[cursor]
        if frontier:
            near = min(frontier, key=lambda index: (_price(windows[index]), index))
            if _price(windows[near]) <= _price(windows[pick]) + threshold:
                pick = near
        window = windows[pick]
        used = min(left, window.hours)
        left -= used
        taken.add(pick)
        frontier.discard(pick)
        for neighbour in (pick - 1, pick + 1):
            if neighbour not in taken and _contiguous(windows, pick, neighbour):
                frontier.add(neighbour)
        before = pick - 1 in taken and _contiguous(windows, pick, pick - 1)
        after = pick + 1 in taken and _contiguous(windows, pick, pick + 1)
        pieces.append(_part(window, used, at_end=after and not before))
    return sorted(pieces, key=lambda piece: piece.start)


def choose(windows: Sequence[Window], hours: float, threshold: float) -> list[Piece]:
    """Pieces (in time order) of `windows` adding up to `hours` of charging at full power.

    `windows` are in time order and do not overlap. Windows without a price are used only
    when the priced ones are not enough, earliest first.
    """
    priced = [window for window in windows if window.price is not None]
    priced_hours = sum(window.hours for window in priced)
    if priced_hours + EPSILON_HOURS < hours:
        pieces = [Piece(w.start, w.end, w.price) for w in priced]
        left = hours - priced_hours
        for window in windows:
            if window.price is None and left > EPSILON_HOURS:
                used = min(left, window.hours)
                pieces.append(_part(window, used, at_end=False))
                left -= used
        return sorted(pieces, key=lambda piece: piece.start)
    allowance = _cheapest_cost(priced, hours) + max(threshold, 0.0) * hours + 1e-9
    block_cost, block = _best_block(priced, hours)
    if block and block_cost <= allowance:
        return block
    return _grow(priced, hours, max(threshold, 0.0))


def _blocks(pieces: Sequence[Piece]) -> int:
    """How many slots time-ordered pieces make once contiguous ones are merged."""
    count, previous = 0, None
    for piece in pieces:
        if previous is None or previous.end != piece.start:
            count += 1
        previous = piece
    return count


def choose_at_most(
    windows: Sequence[Window], hours: float, threshold: float, max_blocks: int | None
) -> list[Piece]:
    """As `choose`, widening the threshold (in steps of the price spread) until the pieces
    make at most `max_blocks` blocks: a charger holds only so many schedule periods.

    At the full spread one block is always affordable, so only holes in the prices (or a
    need longer than any run of prices) can leave more blocks than asked.
    """
    pieces = choose(windows, hours, threshold)
    if max_blocks is None:
        return pieces
    prices = [window.price for window in windows if window.price is not None]
    spread = max(prices) - min(prices) if prices else 0.0
    for share in (1 / 32, 1 / 8, 1 / 2, 1):
        if _blocks(pieces) <= max(max_blocks, 1):
            break
        if spread * share > threshold:
            pieces = choose(windows, hours, spread * share)
    return pieces
