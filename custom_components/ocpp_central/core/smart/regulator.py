"""The regulator: turns the allocator's targets into the limits to send, and when.

Fast down, slow up: a lower target goes out at once; a higher one only once it has lasted
30 s (so raises are at least 30 s apart), at least 10 s after the last profile, and by at
most one step. Solar sessions start only after the surplus has lasted the start delay and
stop only after it has been gone for the stop delay, so that passing clouds don't toggle
them. Pure: the state goes in and comes out, time is passed in, and the caller sets a timer
for `next_run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .model import MIN_CURRENT, Allocation, ChargingMode, LimitSource, SessionInput

EPSILON = 0.05  # A: smaller differences are the same limit


@dataclass(frozen=True, slots=True)
class RegulatorSettings:
    """The timings; the defaults are the product's."""

    raise_interval: timedelta = timedelta(seconds=30)
    profile_interval: timedelta = timedelta(seconds=10)
    raise_step: float = 6.0  # A per raise
    solar_start_delay: timedelta = timedelta(minutes=2)
    solar_stop_delay: timedelta = timedelta(minutes=5)


DEFAULT_SETTINGS = RegulatorSettings()


@dataclass(frozen=True, slots=True)
class Channel:
    """What one connector was told, when, and the solar delays running for it."""

    told: float | None = None  # None: nothing sent, or the charger refused the last one
    sent_at: datetime | None = None
    raise_since: datetime | None = None  # the target has been above `told` since
    raise_to: float | None = None  # the lowest target since then
    start_since: datetime | None = None  # solar: surplus above the minimum since
    stop_since: datetime | None = None  # solar: surplus below the minimum since


@dataclass(frozen=True, slots=True)
class RegulatorState:
    """Every connector's channel, by session key."""

    channels: Mapping[str, Channel] = field(default_factory=dict)

    def told(self, key: str) -> float | None:
        """What the connector was last told (the allocator's `SessionInput.allowed`)."""
        channel = self.channels.get(key)
        return channel.told if channel else None

    def told_at(self, key: str) -> datetime | None:
        """When it was told (the allocator's `SessionInput.allowed_since`)."""
        channel = self.channels.get(key)
        return channel.sent_at if channel and channel.told is not None else None

    def without(self, key: str) -> RegulatorState:
        """The state with a connector's channel forgotten (sent afresh next time)."""
        if key not in self.channels:
            return self
        return RegulatorState({k: v for k, v in self.channels.items() if k != key})

    def refused(self, key: str) -> RegulatorState:
        """The charger refused the last limit: what it has is unknown; retry after a pause."""
        if (channel := self.channels.get(key)) is None:
            return self
        return RegulatorState({**self.channels, key: replace(channel, told=None)})


@dataclass(frozen=True, slots=True)
class Regulation:
    """What to send now, the state to keep, and when to run again (None: on the next change)."""

    state: RegulatorState
    sends: tuple[tuple[str, float], ...]
    next_run: datetime | None


def regulate(
    state: RegulatorState,
    targets: Mapping[str, Allocation],
    sessions: Sequence[SessionInput],
    now: datetime,
    settings: RegulatorSettings = DEFAULT_SETTINGS,
) -> Regulation:
    """Step every connector toward its target. Connectors without a target are forgotten."""
    by_key = {s.key: s for s in sessions}
    channels: dict[str, Channel] = {}
    sends: list[tuple[str, float]] = []
    wakes: list[datetime] = []
    for key, target in targets.items():
        session = by_key.get(key)
        solar = session is not None and session.mode is ChargingMode.SOLAR
        minimum = session.min_current if session is not None else MIN_CURRENT
        channel, send, wake = _step(
            state.channels.get(key, Channel()), target, solar, minimum, now, settings
        )
        channels[key] = channel
        if send is not None:
            sends.append((key, send))
        if wake is not None:
            wakes.append(wake)
    return Regulation(RegulatorState(channels), tuple(sends), min(wakes, default=None))


def _step(
    channel: Channel,
    target: Allocation,
    solar: bool,
    minimum: float,
    now: datetime,
    settings: RegulatorSettings,
) -> tuple[Channel, float | None, datetime | None]:
    """One connector: its new channel, the limit to send now (if any), when to look again."""
    told, want = channel.told, target.current_a
    wakes: list[datetime] = []
    stop_since = start_since = None
    if solar and told is not None:
        if want <= EPSILON < told and target.source is LimitSource.SOLAR:
            stop_since = channel.stop_since or now
            if now < stop_since + settings.solar_stop_delay:
                # Keep charging at the minimum until the surplus has been gone long enough.
                want = min(told, minimum)
                wakes.append(stop_since + settings.solar_stop_delay)
        elif told <= EPSILON < want:
            start_since = channel.start_since or now
    channel = replace(channel, start_since=start_since, stop_since=stop_since)

    if told is None:
        # Nothing of ours applies yet (or the charger refused it): the target goes out now,
        # unless a refused one went out less than a profile interval ago.
        retry_at = channel.sent_at + settings.profile_interval if channel.sent_at else now
        if now < retry_at:
            return channel, None, retry_at
        return _sent(channel, want, now), want, _earliest(wakes)
    if want < told - EPSILON:
        return _sent(channel, want, now), want, _earliest(wakes)
    if want <= told + EPSILON:
        return replace(channel, raise_since=None, raise_to=None), None, _earliest(wakes)

    # A raise needs room that lasted a raise interval: a household load hovering at the edge
    # then costs no profiles. It goes to the lowest target seen meanwhile, one step at most.
    raise_since = channel.raise_since or now
    raise_to = want if channel.raise_to is None else min(channel.raise_to, want)
    channel = replace(channel, raise_since=raise_since, raise_to=raise_to)
    ready = raise_since + settings.raise_interval
    if start_since is not None:
        ready = max(ready, start_since + settings.solar_start_delay)
    if channel.sent_at is not None:
        ready = max(ready, channel.sent_at + settings.profile_interval)
    if now < ready:
        return channel, None, _earliest([*wakes, ready])
    step = min(raise_to, max(told + settings.raise_step, minimum))  # resume at the minimum
    channel = _sent(channel, step, now)
    if step < want - EPSILON:
        # More to come: the next window starts now.
        channel = replace(channel, raise_since=now, raise_to=want)
        wakes.append(now + settings.raise_interval)
    return channel, step, _earliest(wakes)


def _sent(channel: Channel, current: float, now: datetime) -> Channel:
    return replace(channel, told=current, sent_at=now, raise_since=None, raise_to=None)


def _earliest(wakes: list[datetime]) -> datetime | None:
    return min(wakes, default=None)
