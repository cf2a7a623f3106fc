"""What the site draws: our sessions' share of the grid reading, the household's, the surplus."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .model import (
    STALE_AFTER,
    ChargingMode,
    GridKind,
    GridMeasurement,
    Phase,
    SessionInput,
    SiteSettings,
)

ACTIVE_PHASE = 1.0  # A: a phase a charger reports at least this much current on is in use
SOLAR_MODES = frozenset({ChargingMode.SOLAR, ChargingMode.MIN_SOLAR})


def is_blind(site: SiteSettings, grid: GridMeasurement | None, now: datetime) -> bool:
    """Whether the grid reading is missing, incomplete or stale (a site without a meter never is)."""
    if site.grid_kind is GridKind.NONE:
        return False
    return grid is None or not grid.covers(site) or now - grid.at > STALE_AFTER


def configured_phases(site: SiteSettings, session: SessionInput) -> frozenset[Phase]:
    """The supply phases a session's charger is wired to (L1 on a single-phase supply)."""
    return (session.phases & frozenset(site.phases)) or frozenset({Phase.L1})


def loaded_phases(site: SiteSettings, session: SessionInput) -> frozenset[Phase]:
    """Phases the session draws from: those the charger reports current on, else its wiring.

    A three-phase charger charging a single-phase car then only takes room on that one phase.
    """
    configured = configured_phases(site, session)
    if session.drawn:
        active = frozenset(p for p in configured if session.drawn.get(p, 0.0) >= ACTIVE_PHASE)
        if active:
            return active
    return configured


def own_cap(session: SessionInput) -> float:
    """The most a session may draw regardless of the site: the charger's and the user's limits."""
    if session.upper is not None:
        return min(session.upper, session.charger_max)
    return session.charger_max


def drawn_now(site: SiteSettings, session: SessionInput) -> dict[Phase, float]:
    """Per phase, what the session draws now; what it is allowed when the charger doesn't say.

    Before anything was sent the allowance is unknown: 0 is assumed, which counts the session's
    real draw as household load, so the first allocation errs on the safe side.
    """
    configured = configured_phases(site, session)
    if session.drawn is not None:
        return {p: session.drawn.get(p, 0.0) for p in configured}
    return dict.fromkeys(configured, session.allowed or 0.0)


def household(
    site: SiteSettings, grid: GridMeasurement | None, sessions: Iterable[SessionInput]
) -> dict[Phase, float]:
    """Per phase, the grid reading minus our sessions: the load nobody here controls.

    A power sensor cannot tell phases apart; its household share is spread evenly over them.
    Solar export makes it negative, which leaves the sessions more than the fuse.
    """
    if site.grid_kind is GridKind.NONE or grid is None:
        return dict.fromkeys(site.phases, 0.0)
    ours = dict.fromkeys(site.phases, 0.0)
    for session in sessions:
        for p, amps in drawn_now(site, session).items():
            ours[p] += amps
    if grid.currents is not None:
        return {p: grid.currents.get(p, 0.0) - ours[p] for p in site.phases}
    rest = grid.import_watts(site) / site.voltage - sum(ours.values())
    return dict.fromkeys(site.phases, rest / len(site.phases))


def surplus_watts(
    site: SiteSettings, grid: GridMeasurement | None, sessions: Iterable[SessionInput]
) -> float:
    """Export at the grid plus what the solar sessions draw now: what solar could give them."""
    if site.grid_kind is GridKind.NONE or grid is None:
        return 0.0
    solar_amps = sum(
        sum(drawn_now(site, s).values())
        for s in sessions
        if s.mode in SOLAR_MODES and not s.ignores_limits
    )
    return site.voltage * solar_amps - grid.import_watts(site)
