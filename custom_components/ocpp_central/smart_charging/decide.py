"""What the loop makes of the core's answers: which allocations it regulates, when manual
mode lets go of a limit, and what the homeowner is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
import logging

from homeassistant.util import dt as dt_util

from ..core.limits import next_change
from ..core.model import Charger, Connector
from ..core.smart import (
    Allocation,
    ChargingMode,
    GridMeasurement,
    LimitSource,
    Regulation,
    RegulatorState,
    SessionInput,
    SiteSettings,
    allocate,
)
from ..core.smart.allocator import SETTLE
from .tracking import Session, Track

_LOGGER = logging.getLogger(__package__)

# In manual mode smart charging only steps in for these.
PROTECTIVE = frozenset({LimitSource.FUSE, LimitSource.SAFE})
EPSILON = 0.05  # A
MIN_WAKE = timedelta(milliseconds=100)  # a timer never fires sooner than this after a run
# A raise leaves this much of the fuse free (A per phase). Without it a house hovering at the
# edge of a whole ampere lowers the limits by one ampere and raises them again every
# half minute; with it they stay one ampere lower, and the fuse still holds.
RAISE_MARGIN = 1.0


def with_raise_margin(
    allocation: Mapping[str, Allocation],
    spare: Mapping[str, Allocation],
    state: RegulatorState,
) -> dict[str, Allocation]:
    """Decreases as far as the fuse needs (`allocation`); raises only as far as fits with
    the margin to spare (`spare`: the allocation for a fuse that much smaller)."""
    targets = dict(allocation)
    for key, target in allocation.items():
        told, margin = state.told(key), spare[key]
        if told is None or target.current_a <= told + EPSILON:
            continue
        if margin.current_a < target.current_a - EPSILON:
            raised = max(told, margin.current_a)
            targets[key] = Allocation(raised, LimitSource.FUSE)
    return targets


def allocate_with_margin(
    site: SiteSettings,
    grid: GridMeasurement | None,
    inputs: Sequence[SessionInput],
    now: datetime,
    state: RegulatorState,
) -> dict[str, Allocation]:
    """The allocation, with raises kept `RAISE_MARGIN` below the fuse."""
    allocation = allocate(site, grid, inputs, now)
    if (fuse := site.main_fuse) is not None and fuse > RAISE_MARGIN:
        spare = allocate(replace(site, main_fuse=fuse - RAISE_MARGIN), grid, inputs, now)
        allocation = with_raise_margin(allocation, spare, state)
    return allocation


def log_round(
    grid: GridMeasurement | None,
    inputs: Sequence[SessionInput],
    allocation: Mapping[str, Allocation],
    sends: Sequence[tuple[str, float]],
    next_run: datetime | None,
) -> None:
    """One round in the debug log."""
    if _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug(
            "smart charging: grid %s, drawn %s: %s; sent %s; next run %s",
            grid,
            {s.key: dict(s.drawn) if s.drawn else None for s in inputs},
            {k: (a.current_a, a.source.value) for k, a in allocation.items()},
            sends,
            next_run,
        )


def regulated(
    inputs: list[SessionInput], allocation: Mapping[str, Allocation], tracks: Mapping[str, Track]
) -> dict[str, Allocation]:
    """The allocations to regulate: every smart mode's; manual's only to protect the fuse
    (and then until the room is back); none of a charger that refuses its limits."""
    targets: dict[str, Allocation] = {}
    for session in inputs:
        track = tracks[session.key]
        target = allocation[session.key]
        if track.gave_up:
            continue
        if session.mode is ChargingMode.MANUAL:
            if target.source in PROTECTIVE:
                track.held = True
            elif not track.held:
                continue
        targets[session.key] = target
    return targets


def released(session: SessionInput, target: Allocation, told: float, track: Track) -> bool:
    """Manual mode: the fuse no longer needs our limit; the user's own applies again."""
    if (
        session.mode is not ChargingMode.MANUAL
        or target.source in PROTECTIVE
        or told < target.current_a - EPSILON
    ):
        return False
    track.held = False
    return True


def settle(
    previous: RegulatorState,
    regulation: Regulation,
    sessions: Mapping[str, Session],
    allocation: Mapping[str, Allocation],
    tracks: Mapping[str, Track],
    sendable: Callable[[Charger], bool],
) -> tuple[RegulatorState, list[tuple[Charger, Connector, float]]]:
    """The state that results from a regulation, and what really goes out.

    An offline charger gets nothing (it keeps what it had, and so does its channel). In
    manual mode a limit that reaches what the user's own limit allows clears our profile
    instead (the connector leaves the regulator).
    """
    channels = dict(regulation.state.channels)
    out: list[tuple[Charger, Connector, float]] = []
    for key, amps in regulation.sends:
        charger, conn, session = sessions[key]
        target = allocation[key]
        if not sendable(charger):
            if (before := previous.channels.get(key)) is not None:
                channels[key] = before
            else:
                channels.pop(key, None)
        elif released(session, target, amps, tracks[key]):
            channels.pop(key, None)
        else:
            tracks[key].source = target.source
            out.append((charger, conn, amps))
    for key, channel in list(channels.items()):
        session = sessions[key][2]
        if channel.told is not None and released(
            session, allocation[key], channel.told, tracks[key]
        ):
            del channels[key]
    return RegulatorState(channels), out


def view(
    target: Allocation | None, told: float | None, track: Track | None
) -> tuple[float | None, str | None]:
    """(allocated current, limit source) of a connector: what its charger was told, and why;
    nothing without a session."""
    if target is None:
        return None, None
    allocated, source = target.current_a, target.source
    if told is not None:
        if told < target.current_a - EPSILON and track is not None and track.source is not None:
            # A raise waits for lasting room: the reason for the lower limit still holds.
            source = track.source
        allocated = told
    return allocated, source.value


def next_wake(
    now: datetime,
    due: Iterable[datetime | None],
    stale_at: datetime | None,
    sessions: Iterable[tuple[Connector, SessionInput]],
) -> datetime | None:
    """When to run again without an event: what the core asked for, the moment the meter
    reading turns stale, a car's settling time, the user's schedule or duration changing."""
    wakes = list(due)
    if stale_at is not None:
        wakes.append(stale_at + timedelta(milliseconds=1))
    for conn, session in sessions:
        if session.allowed_since is not None and now < session.allowed_since + SETTLE:
            wakes.append(session.allowed_since + SETTLE)  # a car limited by itself
        if conn.limit is not None:
            wakes.append(next_change(conn.limit, dt_util.as_local(now)))
    earliest = min((w for w in wakes if w is not None), default=None)
    return max(earliest, now + MIN_WAKE) if earliest is not None else None
