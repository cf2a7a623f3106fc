"""Planned mode: a charging plan per connector, made from the site's prices and pushed whole.

The plan is remade when its inputs change (prices, the target, the departure, the session,
the power the connector can get), when delivery drifts from it by more than 10 %, and when
the target is reached. While the charger follows the pushed profile by itself, the regulator
leaves the connector alone unless the fuse needs less than the plan: then a live limit
replaces the profile, and once the fuse lets go the plan is remade (the energy it lost is
planned again) and pushed again. A charger that refuses the profile, or reads it back as
something else, gets the plan's limits live for as long as Home Assistant runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.core import callback

from ..const import DOMAIN
from ..core.model import Charger, Connector
from ..core.plan_schedule import plan_schedule
from ..core.planner import (
    EPSILON_KWH,
    STATUS_CANNOT_FINISH,
    STATUS_CHARGING,
    STATUS_IDLE,
    STATUS_NO_PRICES,
    STATUS_WAITING,
    Plan,
    plan,
)
from ..core.smart import Allocation, ChargingMode, SiteSettings
from ..core.smart.state import SmartConnector
from .inputs import connector_key, plan_cap
from .plan_inputs import (
    contiguity_threshold,
    energy_needed,
    max_slots,
    next_departure,
    plan_current,
    plan_prices,
)
from .plan_push import DIFFERS, PushOutcome, push_plan

if TYPE_CHECKING:
    from ..parts import CentralView

DEVIATION = 0.10  # delivery this far off the plan remakes it
MIN_DEVIATION_KWH = 0.5  # less expected than this: too early to tell
DEVIATION_REPLAN_EVERY = timedelta(minutes=15)
EPSILON_A = 0.05
DEFAULT_SENT = "default"  # `sent_for` of a TxDefaultProfile (before a session)
_ACTIVE = (STATUS_WAITING, STATUS_CHARGING, STATUS_CANNOT_FINISH, STATUS_NO_PRICES)

type Pair = tuple[Charger, Connector]


def expected_kwh(made: Plan, until: datetime) -> float:
    """What the plan meant to deliver from its making until `until`."""
    total = 0.0
    for slot in made.slots:
        start, end = max(slot.start, made.created), min(slot.end, until)
        if end > start:
            total += slot.power_kw * (end - start).total_seconds() / 3600
    return total


class SmartLoop(Protocol):
    """What the planner asks of smart charging's loop (hub.py's SmartCharging, which owns
    the planner: typed here so that the planner does not import it back)."""

    @property
    def central(self) -> CentralView:
        """The central system."""

    @property
    def enabled(self) -> bool:
        """Whether smart charging is set up."""

    def run(self) -> None:
        """Run the loop now."""

    def schedule_run(self) -> None:
        """Run the loop once the current loop turn is over."""

    def notify_quietly(self, charger: Charger, connector_id: int) -> None:
        """Show a connector's change without reacting to it."""


class Planner:
    """The plans of one central system's connectors, and what their chargers were given."""

    def __init__(self, hub: SmartLoop) -> None:
        """Nothing planned yet; `start` follows the prices."""
        self.hub = hub
        self.central = hub.central
        self._prices_version = 0
        self._made_with: dict[str, tuple[Any, ...]] = {}
        self._deviation_at: dict[str, datetime] = {}
        self._pushed: dict[str, tuple[Plan, int | str | None]] = {}  # what the charger has
        self._pushing: set[str] = set()
        self._displaced: set[str] = set()  # a live limit of the fuse replaced the profile
        self._live: dict[str, str] = {}  # charger id -> why it gets the plan's limits live
        self._outcomes: dict[str, dict[str, Any]] = {}  # charger id -> the latest push
        self._unsub_prices: Any = None

    @callback
    def start(self) -> None:
        """Follow the site's prices: new or changed prices remake every plan."""
        if self._unsub_prices is None:
            self._unsub_prices = self.central.prices.subscribe(self._prices_changed)

    @callback
    def stop(self) -> None:
        """Stop following the prices."""
        if self._unsub_prices is not None:
            self._unsub_prices()
            self._unsub_prices = None

    @callback
    def _prices_changed(self) -> None:
        self._prices_version += 1
        self.hub.schedule_run()

    def diagnostics(self, charger_id: str) -> dict[str, Any]:
        """How the charger gets its plans: the profile it follows, or live limits and why."""
        return {
            "live_limits": self._live.get(charger_id),
            "last_push": self._outcomes.get(charger_id),
        }

    # --- the homeowner's settings -------------------------------------------------------

    @callback
    def settings_changed(self, charger: Charger, connector_id: int) -> None:
        """A target or the departure changed: kept across restarts, planned at once."""
        self.central.save_soon(0)
        self.hub.notify_quietly(charger, connector_id)
        self.hub.run()

    # --- lifecycle of chargers ----------------------------------------------------------

    @callback
    def charger_ready(self, charger_id: str) -> None:
        """A charger (re)connected: it may have lost its profile; the plan goes out again."""
        for key in [k for k in self._pushed if k.rsplit("/", 1)[0] == charger_id]:
            del self._pushed[key]
        self._displaced = {k for k in self._displaced if k.rsplit("/", 1)[0] != charger_id}

    @callback
    def forget(self, charger_id: str) -> None:
        """A charger was removed."""
        self.charger_ready(charger_id)
        for store in (self._made_with, self._deviation_at):
            for key in [k for k in store if k.rsplit("/", 1)[0] == charger_id]:
                del store[key]
        self._live.pop(charger_id, None)
        self._outcomes.pop(charger_id, None)

    # --- what the loop asks -------------------------------------------------------------

    def follows(self, charger: Charger, conn: Connector, now: datetime) -> bool:
        """Whether the charger follows a pushed plan by itself (what was sent stays)."""
        smart = conn.smart
        return (
            self.hub.enabled
            and smart.mode is ChargingMode.PLANNED
            and smart.plan is not None
            and smart.plan.departure > now
            and smart.plan.status in _ACTIVE
            and charger.charger_id not in self._live
        )

    def regulated(
        self,
        targets: Mapping[str, Allocation],
        sessions: Mapping[str, tuple[Charger, Connector, Any]],
        now: datetime,
    ) -> dict[str, Allocation]:
        """The targets without the connectors that follow their pushed plan (their charger
        needs nothing live) unless the fuse needs less than the plan now."""
        kept: dict[str, Allocation] = {}
        for key, target in targets.items():
            charger, conn, _ = sessions[key]
            if not self.follows(charger, conn, now):
                kept[key] = target
                continue
            cap = plan_cap(conn.smart, now) or 0.0
            if target.current_a < cap - EPSILON_A:
                self._displaced.add(key)  # the regulator's live limit replaces the profile
                kept[key] = target
            elif key in self._displaced:
                # The fuse let go: remake the plan (it extends over what was lost), push it.
                self._displaced.discard(key)
                self._made_with.pop(key, None)
                self.hub.schedule_run()
                kept[key] = target
        return kept

    def next_wake(self, pairs: list[Pair], now: datetime) -> datetime | None:
        """The next slot boundary or departure of any plan (status, sensors, live limits)."""
        wakes: list[datetime] = []
        for _, conn in pairs:
            made = conn.smart.plan
            if conn.smart.mode is not ChargingMode.PLANNED or made is None:
                continue
            moments = [made.departure]
            if (deferred := made.deferred_start) is not None:
                moments.append(deferred)
            for slot in made.slots:
                moments += [slot.start, slot.end]
            wakes += [m for m in moments if m > now]
        return min(wakes, default=None)

    # --- one round ----------------------------------------------------------------------

    def refresh(self, pairs: list[Pair], site: SiteSettings, now: datetime) -> list[Pair]:
        """Keep every planned connector's plan current and on its charger; the connectors
        whose plan status or next start changed (to be shown)."""
        changed: list[Pair] = []
        running = sum(1 for _, conn in pairs if conn.transaction is not None)
        for charger, conn in pairs:
            smart = conn.smart
            key = connector_key(charger.charger_id, conn.connector_id)
            if smart.mode is ChargingMode.PLANNED:
                sharing = running - (1 if conn.transaction is not None else 0)
                self._keep(charger, conn, key, site, sharing, now)
                if self.follows(charger, conn, now) and key not in self._displaced:
                    self._push(charger, conn, key, now)
            elif smart.plan is not None:
                smart.plan = None  # leaving planned mode drops the plan
                self._made_with.pop(key, None)
                self.central.save_soon(0)
            shown = self._shown(smart, now)
            if (smart.plan_status, smart.planned_start) != shown:
                smart.plan_status, smart.planned_start = shown
                changed.append((charger, conn))
        return changed

    @staticmethod
    def _shown(smart: SmartConnector, now: datetime) -> tuple[str, datetime | None]:
        made = smart.plan
        if smart.mode is not ChargingMode.PLANNED or made is None:
            return STATUS_IDLE, None
        if made.departure <= now:
            return STATUS_IDLE, None
        start = made.next_start_after(now)
        if start is None and (deferred := made.deferred_start) is not None:
            start = deferred
        return made.status_at(now), start

    def _keep(
        self,
        charger: Charger,
        conn: Connector,
        key: str,
        site: SiteSettings,
        sharing: int,
        now: datetime,
    ) -> None:
        """Remake the connector's plan when an input changed or delivery drifted from it."""
        smart = conn.smart
        departure = next_departure(smart.departure, now)
        amps, phases = plan_current(self.central, charger, conn, site, sharing, now)
        tx = conn.transaction
        needed, target_used = energy_needed(self.central, charger, conn, departure)
        made_with = (
            departure,
            target_used,
            smart.target_energy,
            smart.target_soc,
            tx.transaction_id if tx is not None else None,
            amps,
            phases,
            self._prices_version,
        )
        current = smart.plan
        if key not in self._made_with and current is not None and current.departure == departure:
            self._made_with[key] = made_with  # the stored plan, after a restart
        if (
            current is not None
            and self._made_with.get(key) == made_with
            and not self._drifted(key, conn, current, now)
            and not (needed is not None and needed <= EPSILON_KWH and current.status in _ACTIVE)
        ):
            return
        self._made_with[key] = made_with
        smart.plan_base_kwh = (tx.energy_kwh or 0.0) if tx is not None else 0.0
        if needed is None:
            smart.plan = Plan(STATUS_IDLE, now, departure)
        else:
            prices = plan_prices(self.central, now, departure)
            smart.plan = plan(
                prices,
                now,
                departure,
                needed,
                amps * phases * site.voltage / 1000,
                contiguity_threshold=contiguity_threshold(prices),
                phases=phases,
                voltage=site.voltage,
                max_slots=max_slots(self.central, charger.charger_id),
            )
        self.central.save_soon(0)

    def _drifted(self, key: str, conn: Connector, made: Plan, now: datetime) -> bool:
        """Delivery more than 10 % off what the plan expected by the latest reading (at most
        one replan for it per quarter of an hour)."""
        tx = conn.transaction
        if tx is None or made.status not in _ACTIVE or conn.reading_time is None:
            return False
        expected = expected_kwh(made, min(conn.reading_time, now))
        if expected < MIN_DEVIATION_KWH:
            return False
        actual = (tx.energy_kwh or 0.0) - conn.smart.plan_base_kwh
        if abs(actual - expected) <= DEVIATION * expected:
            return False
        if (
            last := self._deviation_at.get(key)
        ) is not None and now - last < DEVIATION_REPLAN_EVERY:
            return False
        self._deviation_at[key] = now
        return True

    # --- pushing ------------------------------------------------------------------------

    def _push(self, charger: Charger, conn: Connector, key: str, now: datetime) -> None:
        """Send the plan whole, unless the charger has it (or is getting it) already."""
        made = conn.smart.plan
        tx = conn.transaction
        session = self.central.sessions.get(charger.charger_id)
        if made is None or session is None or not session.ready or not charger.connected:
            return
        wanted = (made, tx.transaction_id if tx is not None else None)
        if self._pushed.get(key) == wanted or key in self._pushing:
            return
        schedule = plan_schedule(made, unit="W" if session.smart_rate_unit() == "W" else "A")
        if schedule is None:
            return
        marker = wanted[1] if wanted[1] is not None else DEFAULT_SENT
        if conn.smart.sent_for != marker:
            # Recorded (and saved) before it goes out: a restart in between still cleans up.
            conn.smart.sent_for = marker
            self.central.save_soon(0)
        self._pushing.add(key)

        async def push() -> None:
            try:
                outcome = await push_plan(
                    session, conn.connector_id, schedule, wanted[1], made.departure, now
                )
            finally:
                self._pushing.discard(key)
            self._answered(charger, key, wanted, outcome, now)

        self.central.entry.async_create_background_task(
            self.central.hass, push(), f"{DOMAIN} charging plan {key}", eager_start=True
        )

    @callback
    def _answered(
        self,
        charger: Charger,
        key: str,
        wanted: tuple[Plan, int | str | None],
        outcome: PushOutcome,
        now: datetime,
    ) -> None:
        if outcome.result is None:
            return  # offline: it goes out again when the charger is back
        self._outcomes[charger.charger_id] = {
            "at": now.isoformat(),
            "connector": key,
            "result": outcome.result,
            "detail": outcome.detail,
        }
        if outcome.follows:
            self._pushed[key] = wanted
        else:
            # The regulator takes over with each slot's limit (what the charger has of the
            # plan, if anything, is cleared or replaced by it).
            self._live[charger.charger_id] = (
                f"{outcome.result}: {outcome.detail}" if outcome.detail else outcome.result
            )
            if outcome.result == DIFFERS:
                self._pushed.pop(key, None)
        self.hub.schedule_run()
