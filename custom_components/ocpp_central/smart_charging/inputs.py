"""A running session as the allocator sees it, read from the model and the charger settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
import math
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..const import CONF_PHASE
from ..core.limits import limit_now
from ..core.model import Charger, Connector, Transaction
from ..core.smart import (
    ChargingMode,
    LimitSource,
    Phase,
    RegulatorState,
    SessionInput,
    SiteSettings,
    charger_phases,
)
from ..core.smart.state import SmartConnector
from ..core.smart.verify import TOLERANCE

if TYPE_CHECKING:
    from ..parts import CentralView

_PHASE_READINGS = ((Phase.L1, "current_l1"), (Phase.L2, "current_l2"), (Phase.L3, "current_l3"))


def connector_key(charger_id: str, connector_id: int) -> str:
    """The key of a connector in the allocator, the regulator and the verifier."""
    return f"{charger_id}/{connector_id}"


def user_limit(conn: Connector, now: datetime) -> tuple[float | None, LimitSource]:
    """The user's own limit in force now (their constant limit or schedule), and its kind."""
    limit = conn.limit
    if limit is None or limit.expired(now):
        return None, LimitSource.USER
    source = LimitSource.SCHEDULE if limit.schedule else LimitSource.USER
    return limit_now(limit, dt_util.as_local(now).time()), source


def drawn(
    charger: Charger, conn: Connector, tx: Transaction, phases: frozenset[Phase], single: bool
) -> dict[Phase, float] | None:
    """What the session draws per supply phase, when the charger reports it.

    A single-phase charger's current, whatever phase it names, is on the supply phase its
    `phase` setting says; a current without a phase is on every phase the charger loads.
    Readings of an offline charger, or from before the session, say nothing about it.
    """
    if not charger.connected or conn.reading_time is None or conn.reading_time < tx.start:
        return None
    readings = conn.readings
    per_phase = {phase: readings[key] for phase, key in _PHASE_READINGS if key in readings}
    total = readings.get("current")
    if single:
        values = list(per_phase.values()) or ([total] if total is not None else [])
        return {phase: max(values) for phase in phases} if values else None
    if per_phase:
        return per_phase
    return dict.fromkeys(phases, total) if total is not None else None


def plan_cap(smart: SmartConnector, now: datetime) -> float | None:
    """The plan's current now (A per phase; 0 between slots); None outside planned mode."""
    if smart.mode is not ChargingMode.PLANNED:
        return None
    current = smart.plan.current_a if smart.plan is not None else None
    if smart.plan is None or current is None or smart.plan.departure <= now:
        return 0.0
    if (slot := smart.plan.slot_at(now)) is not None:
        current = slot.current_a if slot.current_a is not None else current
    elif (deferred := smart.plan.deferred_start) is None or now < deferred:
        return 0.0
    return float(math.floor(current + 1e-6))


def phase_setting(value: object) -> Phase | None:
    """The charger setting `phase`, if it names a phase."""
    return next((phase for phase in Phase if phase.value == value), None)


def session_input(
    central: CentralView,
    charger: Charger,
    conn: Connector,
    tx: Transaction,
    site: SiteSettings,
    state: RegulatorState,
    now: datetime,
) -> SessionInput:
    """The running session on a connector, with what the regulator last told it; in planned
    mode the plan's current now is a limit too (`LimitSource.PLAN`)."""
    settings = central.electrical_settings(charger.charger_id)
    phase = phase_setting(central.charger_option(charger.charger_id, CONF_PHASE))
    phases = charger_phases(settings.phases, phase, site)
    upper, upper_source = user_limit(conn, now)
    if (planned := plan_cap(conn.smart, now)) is not None and (upper is None or planned < upper):
        upper, upper_source = planned, LimitSource.PLAN
    key = connector_key(charger.charger_id, conn.connector_id)
    return SessionInput(
        key=key,
        mode=conn.smart.mode,
        phases=phases,
        started=tx.start,
        charger_max=settings.max_current,
        upper=upper,
        upper_source=upper_source,
        drawn=drawn(charger, conn, tx, phases, single=settings.phases < 3),
        allowed=state.told(key),
        allowed_since=state.told_at(key),
    )


def drawn_above(session: SessionInput, seen: float | None, fresh: bool) -> float | None:
    """Manual mode: the most the session was seen drawing above the user's own limit while
    nothing of ours was on its charger (None: never).

    That is evidence the user's limit is not in force: a backend's TxProfile at the user's
    stack level replaced it, or the charger does not apply it. `fresh`: the reading is new
    and came in long enough after the user's limit changed for the car to follow it.
    """
    if (
        not fresh
        or session.mode is not ChargingMode.MANUAL
        or session.upper is None
        or session.allowed is not None
        or not session.drawn
    ):
        return seen
    drawing = max(session.drawn.values())
    if drawing <= session.upper + TOLERANCE:
        return seen
    return max(seen or 0.0, drawing)


def assumed_cap(session: SessionInput, seen: float | None) -> SessionInput:
    """The session as the allocator reckons with it: in manual mode a user's limit the
    session was seen drawing above does not cap it; what it drew does (at most the
    charger's maximum), so the fuse steps in as soon as its room is below that."""
    if (
        session.mode is not ChargingMode.MANUAL
        or session.upper is None
        or seen is None
        or seen <= session.upper
    ):
        return session
    return replace(session, upper=min(seen, session.charger_max))
