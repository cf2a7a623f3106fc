"""The smart charging loop of one central system: measure, verify, allocate, regulate, send.

It runs when a grid sensor reports (in that very callback: an overload is answered before
anything else is done), when a charger's session or readings change (once per loop turn),
and when a timer it set runs out (a raise that waited long enough, a stale meter, a solar
delay). It never polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import asdict, replace
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    callback,
)
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util

from ..core.model import Charger, Connector
from ..core.smart import (
    Allocation,
    ChargingMode,
    RegulatorState,
    is_blind,
    regulate,
    verify,
)
from ..core.smart.model import STALE_AFTER
from ..core.smart.verify import Watch
from .decide import allocate_with_margin, log_round, next_wake, regulated, settle, view
from .dispatch import Answer, Dispatcher
from .estimate import DrawEstimate
from .inputs import assumed_cap, connector_key, drawn_above, session_input, user_limit
from .plan import Planner
from .settings import SmartSettings, read_grid, smart_settings
from .tracking import GIVE_UP_AFTER, Issues, Session, Track
from .wake import WakeTimer

if TYPE_CHECKING:
    from ..parts import CentralView

_LOGGER = logging.getLogger(__name__)


class SmartCharging:
    """Keeps every smart-charged session within the fuse, on the sun, and verified."""

    def __init__(self, central: CentralView) -> None:
        """Off until `start` reads the settings."""
        self.central = central
        self.hass = central.hass
        self.settings: SmartSettings | None = None
        self.dispatcher = Dispatcher(central, self._answered)
        self.issues = Issues(central)
        self.planner = Planner(self)
        self._state = RegulatorState()
        self._watches: dict[str, Watch] = {}
        self._tracks: dict[str, Track] = {}
        self._drawn = DrawEstimate()
        self._grid_reported = False  # a grid sensor reported since the last run
        self._listeners: dict[str, Callable[[], None]] = {}
        self._unsub_grid: list[CALLBACK_TYPE] = []
        self._wake = WakeTimer(central.hass, self.run)
        self._scheduled: asyncio.Handle | None = None
        self._quiet = False  # our own entity updates are not changes to react to

    @property
    def enabled(self) -> bool:
        """Whether the site settings exist (the smart entities exist then too)."""
        return self.settings is not None

    def diagnostics(self) -> dict[str, Any]:
        """What the loop holds now, per connector: what was told and when, and its session."""
        return {
            "enabled": self.enabled,
            "told": {k: (c.told, c.sent_at) for k, c in self._state.channels.items()},
            "sessions": {k: asdict(t) for k, t in self._tracks.items()},
            "watches": {k: asdict(w) for k, w in self._watches.items()},
        }

    # --- lifecycle ---------------------------------------------------------------------

    @callback
    def start(self) -> None:
        """Read the settings and follow the grid sensors and the prices."""
        self.planner.start()
        self._apply(smart_settings(self.central.entry.options))

    @callback
    def stop(self) -> None:
        """Stop following anything (what was sent stays recorded for the next start)."""
        self._unsubscribe_grid()
        self.planner.stop()
        self._wake.arm(None)
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        for unsub in self._listeners.values():
            unsub()
        self._listeners.clear()

    @callback
    def settings_changed(self) -> None:
        """The entry changed: new site settings apply at once; charger settings too."""
        settings = smart_settings(self.central.entry.options)
        if settings != self.settings:
            self._apply(settings)
        else:
            self.run()

    def _apply(self, settings: SmartSettings | None) -> None:
        was_enabled = self.enabled
        self.settings = settings
        self._unsubscribe_grid()
        if settings is None:
            self._state = RegulatorState()
            self._watches.clear()
            self._tracks.clear()
            self.issues.clear_all()
            if was_enabled:
                self.central.devices.remove_smart_entities()
        else:
            if settings.sensors:
                self._unsub_grid = [
                    async_track_state_change_event(
                        self.hass, settings.sensors, self._on_grid_change
                    ),
                    async_track_state_report_event(
                        self.hass, settings.sensors, self._on_grid_report
                    ),
                ]
            if not was_enabled:
                self.central.devices.add_smart_entities()
        self.run()

    def _unsubscribe_grid(self) -> None:
        for unsub in self._unsub_grid:
            unsub()
        self._unsub_grid = []

    @callback
    def track(self, charger: Charger) -> None:
        """Follow a charger's sessions and readings."""
        if charger.charger_id not in self._listeners:
            self._listeners[charger.charger_id] = charger.add_listener(
                None, self._on_charger_change
            )

    @callback
    def forget(self, charger_id: str) -> None:
        """A charger was removed: nothing of it is kept."""
        if (unsub := self._listeners.pop(charger_id, None)) is not None:
            unsub()
        for key in [k for k in self._tracks if k.rsplit("/", 1)[0] == charger_id]:
            self._drop(key)
        self.issues.forget(charger_id)
        self.planner.forget(charger_id)
        self.schedule_run()

    @callback
    def charger_ready(self, charger_id: str) -> None:
        """A charger (re)connected and was accepted: its limits go out afresh (it may have
        rebooted and lost them), and what a previous run left behind is cleared."""
        for key in [k for k in self._state.channels if k.rsplit("/", 1)[0] == charger_id]:
            self._state = self._state.without(key)
        self.planner.charger_ready(charger_id)
        self.schedule_run()

    @callback
    def set_mode(self, charger: Charger, connector_id: int, mode: ChargingMode) -> None:
        """The homeowner chose a mode for a connector (kept across restarts)."""
        conn = charger.connectors[connector_id]
        if conn.smart.mode == mode:
            return
        conn.smart.mode = mode
        key = connector_key(charger.charger_id, connector_id)
        if (track := self._tracks.get(key)) is not None:
            track.held = False  # leaving a smart mode clears our limit unless the fuse needs it
        # The homeowner's choice applies at once, up or down (pacing is for measurements).
        self._state = self._state.without(key)
        self.central.save_soon(0)
        self.notify_quietly(charger, connector_id)
        self.run()

    # --- what makes it run -------------------------------------------------------------

    @callback
    def _on_grid_change(self, event: Event[EventStateChangedData]) -> None:
        # At once, in this callback: a reduction must not wait for anything.
        self._grid_reported = True
        self.run()

    @callback
    def _on_grid_report(self, event: Event[EventStateReportedData]) -> None:
        # The same value again: the meter saw the sessions' draw as it is now (an overload
        # that persists after a limit that was not enough is answered again).
        self._grid_reported = True
        self.schedule_run()

    @callback
    def _on_charger_change(self) -> None:
        if not self._quiet and self.enabled:
            self.schedule_run()

    @callback
    def schedule_run(self) -> None:
        """Run once the current loop turn is over (changes arriving together: one run)."""
        if self._scheduled is None:
            self._scheduled = self.hass.loop.call_soon(self.run)

    def notify_quietly(self, charger: Charger, connector_id: int) -> None:
        """Show a connector's change (our own change: not one to react to)."""
        with self._quietly():
            charger.notify((connector_id,))

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    # --- one round -----------------------------------------------------------------------

    @callback
    def run(self) -> None:
        """Measure, verify, allocate, regulate; send and clear; show; set the next timer."""
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        now = dt_util.utcnow()
        pairs = [
            (charger, charger.connectors[cid])
            for charger in self.central.chargers.values()
            for cid in charger.outlet_ids
        ]
        if (settings := self.settings) is None:
            self._clear_unregulated(pairs, now)
            self._wake.arm(self.dispatcher.next_retry())
            return
        grid = read_grid(self.hass, settings)
        for charger, conn in self.planner.refresh(pairs, settings.site, now):
            self.notify_quietly(charger, conn.connector_id)
        sessions = self._sessions(pairs, settings, now)
        if self._grid_reported:
            # After recording the readings that arrived before it: the report includes them.
            self._grid_reported = False
            self._drawn.grid_report(now)
        verification = verify(self._watches, [s for _, _, s in sessions.values()], now)
        self._watches = dict(verification.watches)
        self.issues.verified(verification, sessions, now)
        ignoring = verification.ignoring | {k for k, t in self._tracks.items() if t.gave_up}
        inputs = [
            replace(
                s,
                ignores_limits=s.key in ignoring,
                drawn=self._drawn.at_report(s.key, s.phases) if settings.sensors else s.drawn,
            )
            for _, _, s in sessions.values()
        ]
        allocation = allocate_with_margin(settings.site, grid, inputs, now, self._state)
        targets = self.planner.regulated(regulated(inputs, allocation, self._tracks), sessions, now)
        regulation = regulate(self._state, targets, inputs, now)
        self._state, out = settle(
            self._state, regulation, sessions, allocation, self._tracks, self._sendable
        )
        for charger, conn, amps in out:
            self.dispatcher.send(charger, conn, amps)
        for key in sessions:
            self._drawn.limit(key, self._state.told(key), now)
        self._clear_unregulated(pairs, now)
        self._show(pairs, allocation)
        stale_at = None
        if grid is not None and not is_blind(settings.site, grid, now):
            stale_at = grid.at + STALE_AFTER
        due = [regulation.next_run, verification.next_check, self.dispatcher.next_retry()]
        due.append(self.planner.next_wake(pairs, now))
        running = [(conn, session) for _, conn, session in sessions.values()]
        self._wake.arm(next_wake(now, due, stale_at, running))
        log_round(grid, inputs, allocation, regulation.sends, self._wake.at)

    def _sessions(
        self, pairs: list[tuple[Charger, Connector]], settings: SmartSettings, now: datetime
    ) -> dict[str, Session]:
        """The running sessions; a new session on a connector starts with a clean slate."""
        sessions: dict[str, Session] = {}
        for charger, conn in pairs:
            if (tx := conn.transaction) is None:
                continue
            key = connector_key(charger.charger_id, conn.connector_id)
            track = self._tracks.get(key)
            if track is None or track.transaction_id != tx.transaction_id:
                self._drop(key)
                track = self._tracks[key] = Track(tx.transaction_id)
            upper = user_limit(conn, now)[0]
            if upper != track.upper:
                # The user's own limit or schedule changed: that applies at once, either way.
                track.upper, track.upper_at, track.drawn_above = upper, now, None
                self._state = self._state.without(key)
            session = session_input(
                self.central, charger, conn, tx, settings.site, self._state, now
            )
            fresh = track.new_reading(conn.reading_time, now)
            track.drawn_above = drawn_above(session, track.drawn_above, fresh)
            self._drawn.reading(key, session.drawn)
            sessions[key] = (charger, conn, assumed_cap(session, track.drawn_above))
        for key in set(self._tracks) - set(sessions):
            self._drop(key)
        return sessions

    def _sendable(self, charger: Charger) -> bool:
        session = self.central.sessions.get(charger.charger_id)
        return charger.connected and session is not None and session.ready

    def _clear_unregulated(self, pairs: list[tuple[Charger, Connector]], now: datetime) -> None:
        """Nothing smart charging sent outlives the mode, the session or the settings."""
        for charger, conn in pairs:
            if conn.smart.sent_for is None or not self._sendable(charger):
                continue
            if self.planner.follows(charger, conn, now):
                continue  # the charger follows the plan it was given
            if connector_key(charger.charger_id, conn.connector_id) not in self._state.channels:
                self.dispatcher.clear(charger, conn, now)

    def _show(
        self, pairs: list[tuple[Charger, Connector]], allocation: dict[str, Allocation]
    ) -> None:
        """The current each connector may draw now, and why (what the charger was told)."""
        for charger, conn in pairs:
            key = connector_key(charger.charger_id, conn.connector_id)
            shown = view(
                allocation.get(key) if conn.transaction is not None else None,
                self._state.told(key),
                self._tracks.get(key),
            )
            if (conn.smart.allocated, conn.smart.source) != shown:
                conn.smart.allocated, conn.smart.source = shown
                with self._quietly():
                    charger.notify((conn.connector_id,))

    # --- bookkeeping ---------------------------------------------------------------------

    def _drop(self, key: str) -> None:
        """Forget a connector's session: its channel, its watch, its track."""
        self._state = self._state.without(key)
        self._watches.pop(key, None)
        self._tracks.pop(key, None)
        self._drawn.forget(key)
        self.dispatcher.forget(key)

    @callback
    def _answered(self, answer: Answer) -> None:
        """A charger answered a limit (or went away before it did)."""
        charger_id = answer.key.rsplit("/", 1)[0]
        track = self._tracks.get(answer.key)
        if answer.accepted:
            if track is not None:
                track.refusals = 0
            self.issues.accepted(charger_id)
            return
        if track is None or answer.seq != self.dispatcher.latest(answer.key):
            return  # a newer limit went out meanwhile: its answer decides
        if answer.accepted is None:
            self._state = self._state.without(answer.key)  # sent afresh when it is back
            return
        self._state = self._state.refused(answer.key)
        track.refusals += 1
        if track.refusals >= GIVE_UP_AFTER and not track.gave_up:
            # Don't insist for the rest of the session; the others get less meanwhile.
            track.gave_up = True
            self.issues.refused(charger_id, answer.reason or "")
        self.schedule_run()
