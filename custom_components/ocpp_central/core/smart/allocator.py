"""The allocator: how much each session may draw now, so the fuse holds and surplus is used.

A pure function of the site, the grid reading, the sessions and the time; see
docs/smart-charging.md, "How the allocator decides".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

from .fill import Claim, water_fill
from .measure import (
    SOLAR_MODES,
    drawn_now,
    household,
    is_blind,
    loaded_phases,
    own_cap,
    surplus_watts,
)
from .model import (
    Allocation,
    ChargingMode,
    GridMeasurement,
    LimitSource,
    Phase,
    SessionInput,
    SiteSettings,
)
from .solar import SolarClaim, solar_shares

# A session drawing this much less than it was allowed, for longer than SETTLE after the
# allowance was sent, is limited by its car; it keeps CAR_HEADROOM above its draw (so it can
# show that it wants more) and leaves the rest to the others while they need it.
CAR_LIMITED_GAP = 1.0
CAR_HEADROOM = 2.0
SETTLE = timedelta(seconds=60)
# A paused session resumes only when this much more than its minimum fits, so a household
# load hovering at the edge doesn't pause and resume it over and over.
RESUME_MARGIN = 1.0
EPSILON = 1e-6


@dataclass(slots=True)
class _Need:
    """A session on its way through the allocator."""

    session: SessionInput
    phases: frozenset[Phase]
    cap: float  # the most it may get from everything but the fuse
    source: LimitSource  # the constraint that sets `cap`
    demand: float  # what it would use now: below `cap` when its car limits it
    hold: bool = False  # solar ended but it may draw its minimum until the stop delay ends


def allocate(
    site: SiteSettings,
    grid: GridMeasurement | None,
    sessions: Sequence[SessionInput],
    now: datetime,
) -> dict[str, Allocation]:
    """Every session's allowed current and the constraint it comes from."""
    ordered = sorted(sessions, key=lambda s: (s.started, s.key))
    if is_blind(site, grid, now):
        return {s.key: _safe(site, s) for s in ordered}
    fuse = site.main_fuse if site.main_fuse is not None else math.inf
    load = household(site, grid, ordered)
    available = {p: fuse - load[p] for p in site.phases}
    result: dict[str, Allocation] = {}
    needs: list[_Need] = []
    for session in ordered:
        if session.ignores_limits:
            # Its draw is a fact, not a choice: the others share what it leaves.
            result[session.key] = _kept(session)
            for p, amps in drawn_now(site, session).items():
                available[p] -= amps
        else:
            needs.append(_need(site, session, now))
    _limit_to_surplus(needs, surplus_watts(site, grid, ordered), site.voltage)
    result.update(_share_fuse(needs, available))
    return {s.key: result[s.key] for s in ordered}


def _need(site: SiteSettings, session: SessionInput, now: datetime) -> _Need:
    phases = loaded_phases(site, session)
    cap, source = _own_limit(session)
    return _Need(session, phases, cap, source, _demand(session, phases, cap, now))


def _own_limit(session: SessionInput) -> tuple[float, LimitSource]:
    """The charger's and the user's limit, and which of them binds."""
    cap = own_cap(session)
    return cap, session.upper_source if cap < session.charger_max else LimitSource.NONE


def _demand(session: SessionInput, phases: frozenset[Phase], cap: float, now: datetime) -> float:
    """What the session would use now: its cap, unless its car has settled below the allowance."""
    if (
        session.drawn is None
        or session.allowed is None
        or session.allowed_since is None
        or now - session.allowed_since < SETTLE
    ):
        return cap
    drawing = max(session.drawn.get(p, 0.0) for p in phases)
    if drawing < session.allowed - CAR_LIMITED_GAP:
        return min(cap, max(session.min_current, drawing + CAR_HEADROOM))
    return cap


def _limit_to_surplus(needs: list[_Need], surplus: float, voltage: float) -> None:
    """Cap each solar session at its share of the surplus."""
    solar = [n for n in needs if n.session.mode in SOLAR_MODES and n.cap >= n.session.min_current]
    claims = [
        SolarClaim(
            always_minimum=n.session.mode is ChargingMode.MIN_SOLAR,
            minimum=n.session.min_current,
            demand=n.demand,
            cap=n.cap,
            phases=len(n.phases),
        )
        for n in solar
    ]
    for need, share in zip(solar, solar_shares(claims, surplus, voltage), strict=True):
        if share is None:
            # Not enough sun to start. One that was charging keeps room for its minimum
            # while the regulator waits out the stop delay.
            allowed = need.session.allowed
            need.hold = allowed is not None and allowed > EPSILON
            need.cap = need.demand = 0.0
            need.source = LimitSource.SOLAR
        elif share < need.cap - EPSILON:
            need.cap, need.source = share, LimitSource.SOLAR
            need.demand = min(need.demand, share)


def _share_fuse(needs: list[_Need], available: dict[Phase, float]) -> dict[str, Allocation]:
    """Admit sessions oldest first while their minimums fit, then share the rest fairly."""
    result: dict[str, Allocation] = {}
    used = dict.fromkeys(available, 0.0)
    admitted: list[tuple[_Need, Claim[Phase]]] = []
    for need in needs:
        session = need.session
        minimum = session.min_current
        running = need.cap >= minimum - EPSILON
        if not running and not need.hold:
            result[session.key] = Allocation(0.0, need.source)
            continue
        margin = RESUME_MARGIN if running and session.allowed == 0 else 0.0
        if any(used[p] + minimum + margin > available[p] + EPSILON for p in need.phases):
            result[session.key] = Allocation(0.0, LimitSource.FUSE)
            continue
        for p in need.phases:
            used[p] += minimum
        weights = dict.fromkeys(need.phases, 1.0)
        if need.hold:
            result[session.key] = Allocation(0.0, LimitSource.SOLAR)
            admitted.append((need, Claim(minimum, minimum, weights)))
        else:
            admitted.append((need, Claim(minimum, need.demand, weights)))
    first = water_fill([claim for _, claim in admitted], available)
    second = water_fill(
        [
            Claim(value, claim.cap if need.hold else need.cap, claim.weights)
            for (need, claim), value in zip(admitted, first, strict=True)
        ],
        available,
    )
    for (need, _), value in zip(admitted, second, strict=True):
        if need.hold:
            continue
        source = LimitSource.FUSE if value < need.cap - EPSILON else need.source
        result[need.session.key] = Allocation(_whole(value, need.session.min_current), source)
    return result


def _whole(current: float, minimum: float) -> float:
    """Whole amperes, rounded down (chargers differ on fractions), never below the minimum."""
    return float(max(math.floor(current + EPSILON), minimum))


def _kept(session: SessionInput) -> Allocation:
    """A charger that ignores its limits keeps the one it has: ignoring them earns no more."""
    cap, source = _own_limit(session)
    told = session.allowed if session.allowed is not None else cap
    if told < cap:
        source = LimitSource.FUSE
    current = min(cap, told)
    if current < session.min_current - EPSILON:
        return Allocation(0.0, source)
    return Allocation(_whole(current, session.min_current), source)


def _safe(site: SiteSettings, session: SessionInput) -> Allocation:
    """Blind: the safe current, or less when the charger's or the user's limit is lower."""
    cap, source = _own_limit(session)
    current = cap
    if site.safe_current <= cap:
        current, source = site.safe_current, LimitSource.SAFE
    if current < session.min_current - EPSILON:
        return Allocation(0.0, source)
    return Allocation(_whole(current, session.min_current), source)
