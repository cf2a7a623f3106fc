"""Smart charging's regulator and limit verifier: fast down, slow up, solar delays, trust but verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import random

import pytest

from custom_components.ocpp_central.core.smart import (
    Allocation,
    ChargingMode,
    GridMeasurement,
    LimitSource,
    Phase,
    Regulation,
    RegulatorState,
    SessionInput,
    SiteSettings,
    Watch,
    allocate,
    regulate,
    verify,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ALL = frozenset(Phase)
FUSE, NONE, SOLAR = LimitSource.FUSE, LimitSource.NONE, LimitSource.SOLAR

Step = tuple[int, float, LimitSource]  # seconds from NOW, target A, its source
Seen = tuple[float | None, int | None]  # what was sent, when it wants to run next (s)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def session(key: str = "a", mode: ChargingMode = ChargingMode.FAST) -> SessionInput:
    return SessionInput(key=key, mode=mode, phases=ALL, started=NOW, charger_max=32)


def run(steps: list[Step], mode: ChargingMode) -> list[Seen]:
    state = RegulatorState()
    seen: list[Seen] = []
    for seconds, amps, source in steps:
        result = regulate(state, {"a": Allocation(amps, source)}, [session(mode=mode)], at(seconds))
        state = result.state
        wake = result.next_run
        seen.append(
            (dict(result.sends).get("a"), None if wake is None else int((wake - NOW).seconds))
        )
    return seen


TIMELINES: dict[str, tuple[ChargingMode, list[tuple[Step, Seen]]]] = {
    "fast down, slow up": (
        ChargingMode.FAST,
        [
            ((0, 16, NONE), (16, None)),  # nothing of ours yet: at once
            ((5, 10, FUSE), (10, None)),  # overload: at once
            ((6, 6, FUSE), (6, None)),  # again: no pacing for decreases
            ((8, 16, NONE), (None, 38)),  # room must last 30 s
            ((20, 16, NONE), (None, 38)),
            ((38, 16, NONE), (12, 68)),  # one step of 6 A, then the next window
            ((47, 16, NONE), (None, 68)),
            ((50, 9, FUSE), (9, None)),  # 12 s after a raise, still at once
            ((55, 16, NONE), (None, 85)),
            ((70, 10, NONE), (None, 85)),  # the room shrank meanwhile
            ((85, 16, NONE), (10, 115)),  # to the lowest target seen
            ((115, 16, NONE), (16, None)),
            ((116, 16.04, NONE), (None, None)),  # the same limit: nothing to send
        ],
    ),
    "room that doesn't last raises nothing": (
        ChargingMode.FAST,
        [
            ((0, 6, FUSE), (6, None)),
            ((10, 7, FUSE), (None, 40)),
            ((25, 6, FUSE), (None, None)),
            ((30, 7, FUSE), (None, 60)),
            ((45, 6, FUSE), (None, None)),
        ],
    ),
    "a pause goes out at once; it resumes at the minimum": (
        ChargingMode.FAST,
        [
            ((0, 0, FUSE), (0, None)),
            ((5, 16, NONE), (None, 35)),
            ((35, 16, NONE), (6, 65)),
            ((65, 16, NONE), (12, 95)),
            ((95, 16, NONE), (16, None)),
        ],
    ),
    "solar: start only after 2 min of surplus": (
        ChargingMode.SOLAR,
        [
            ((0, 0, SOLAR), (0, None)),
            ((10, 8, SOLAR), (None, 130)),
            ((60, 8, SOLAR), (None, 130)),
            ((130, 8, SOLAR), (6, 160)),
            ((160, 8, SOLAR), (8, None)),
        ],
    ),
    "solar: a cloud restarts the start delay": (
        ChargingMode.SOLAR,
        [
            ((0, 0, SOLAR), (0, None)),
            ((10, 8, SOLAR), (None, 130)),
            ((60, 0, SOLAR), (None, None)),
            ((70, 8, SOLAR), (None, 190)),
            ((130, 8, SOLAR), (None, 190)),
            ((190, 8, SOLAR), (6, 220)),
        ],
    ),
    "solar: at the minimum for 5 min before stopping": (
        ChargingMode.SOLAR,
        [
            ((0, 10, SOLAR), (10, None)),
            ((40, 0, SOLAR), (6, 340)),
            ((100, 0, SOLAR), (None, 340)),
            ((340, 0, SOLAR), (0, None)),
            ((400, 0, SOLAR), (None, None)),
        ],
    ),
    "solar: the sun returns during the stop delay": (
        ChargingMode.SOLAR,
        [
            ((0, 10, SOLAR), (10, None)),
            ((40, 0, SOLAR), (6, 340)),
            ((100, 9, SOLAR), (None, 130)),  # the stop is off, the raise waits for room
            ((130, 9, SOLAR), (9, None)),
            ((200, 0, SOLAR), (6, 500)),  # a new stop delay
        ],
    ),
    "solar: the fuse pauses at once, no stop delay": (
        ChargingMode.SOLAR,
        [
            ((0, 10, SOLAR), (10, None)),
            ((40, 0, FUSE), (0, None)),
        ],
    ),
    "min_solar: no start delay": (
        ChargingMode.MIN_SOLAR,
        [
            ((0, 0, LimitSource.USER), (0, None)),
            ((10, 6, SOLAR), (None, 40)),
            ((40, 6, SOLAR), (6, None)),
        ],
    ),
}


@pytest.mark.parametrize(("mode", "timeline"), TIMELINES.values(), ids=TIMELINES.keys())
def test_regulate(mode: ChargingMode, timeline: list[tuple[Step, Seen]]) -> None:
    """What goes out when, step by step."""
    assert run([step for step, _ in timeline], mode) == [seen for _, seen in timeline]


def test_refused_limit_is_retried_after_a_pause() -> None:
    """A refused profile leaves the charger's limit unknown: sent again, but not at once."""
    state = regulate(RegulatorState(), {"a": Allocation(16, NONE)}, [session()], at(0)).state
    assert state.told("a") == 16
    assert state.told_at("a") == at(0)
    state = state.refused("a")
    assert (state.told("a"), state.told_at("a")) == (None, None)
    early = regulate(state, {"a": Allocation(16, NONE)}, [session()], at(3))
    assert (early.sends, early.next_run) == ((), at(10))
    retry = regulate(early.state, {"a": Allocation(16, NONE)}, [session()], at(10))
    assert retry.sends == (("a", 16),)
    assert RegulatorState().refused("x") == RegulatorState()


def test_a_forgotten_channel_is_sent_afresh_and_the_others_kept() -> None:
    """RegulatorState.without: a connector whose limit was cleared (or whose user limit
    changed) is told again at once; the other connectors keep what they were told."""
    allocation = {"a": Allocation(16, NONE), "b": Allocation(10, NONE)}
    both = [session(), session("b")]
    state = regulate(RegulatorState(), allocation, both, at(0)).state
    forgotten = state.without("a")
    assert (forgotten.told("a"), forgotten.told("b")) == (None, 10)
    assert regulate(forgotten, allocation, both, at(1)).sends == (("a", 16),)
    assert state.without("x") is state


def test_ended_sessions_are_forgotten_and_chargers_are_paced_apart() -> None:
    """Each connector has its own pacing; the next run is the earliest any of them wants."""
    sessions = [session("a"), session("b")]

    def step(state: RegulatorState, seconds: int, a: float, b: float) -> Regulation:
        targets = {"a": Allocation(a, NONE), "b": Allocation(b, NONE)}
        return regulate(state, targets, sessions, at(seconds))

    first = step(RegulatorState(), 0, 6, 6)
    assert first.sends == (("a", 6), ("b", 6))
    waiting = step(step(first.state, 20, 16, 6).state, 25, 16, 16)
    assert (waiting.sends, waiting.next_run) == ((), at(50))  # a's room since 20, b's since 25
    a_raised = step(waiting.state, 50, 16, 16)
    assert (a_raised.sends, a_raised.next_run) == ((("a", 12),), at(55))
    assert regulate(a_raised.state, {}, [], at(60)).state == RegulatorState()


# Trust, but verify: (seconds, allowed, drawn) -> (ignoring, newly flagged, cleared)
VerifyStep = tuple[int, float | None, float | None]
Verdict = tuple[bool, bool, bool]

VERIFY: dict[str, list[tuple[VerifyStep, Verdict]]] = {
    "more than limit + 1 A for 60 s is flagged, complying clears it": [
        ((0, 6, 8), (False, False, False)),
        ((30, 6, 8), (False, False, False)),
        ((59, 6, 12), (False, False, False)),
        ((60, 6, 8), (True, True, False)),
        ((90, 6, 8), (True, False, False)),
        ((100, 6, 6.5), (False, False, True)),
    ],
    "within 1 A of the limit is fine": [
        ((0, 6, 7), (False, False, False)),
        ((120, 6, 7), (False, False, False)),
    ],
    "a compliant reading restarts the 60 s": [
        ((0, 6, 8), (False, False, False)),
        ((30, 6, 6), (False, False, False)),
        ((40, 6, 8), (False, False, False)),
        ((90, 6, 8), (False, False, False)),
        ((100, 6, 8), (True, True, False)),
    ],
    "a charger drawing while paused": [
        ((0, 0, 5), (False, False, False)),
        ((60, 0, 5), (True, True, False)),
    ],
    "no reading keeps what is known": [
        ((0, 6, 8), (False, False, False)),
        ((30, 6, None), (False, False, False)),
        ((60, 6, 8), (True, True, False)),
        ((70, None, 8), (True, False, False)),
    ],
}


@pytest.mark.parametrize("timeline", VERIFY.values(), ids=VERIFY.keys())
def test_verify(timeline: list[tuple[VerifyStep, Verdict]]) -> None:
    """Flag a charger that keeps drawing more than its limit + 1 A for 60 s; clear on compliance."""
    watches: dict[str, Watch] = {}
    for (seconds, allowed, drawn), expected in timeline:
        s = SessionInput(
            key="a",
            mode=ChargingMode.FAST,
            phases=ALL,
            started=NOW,
            charger_max=32,
            allowed=allowed,
            drawn=None if drawn is None else {Phase.L1: drawn, Phase.L2: 0.0},
        )
        result = verify(watches, [s], at(seconds))
        watches = dict(result.watches)
        got = ("a" in result.ignoring, bool(result.newly_flagged), bool(result.cleared))
        assert got == expected, seconds


def test_verify_reports_evidence_and_next_check() -> None:
    """The repair issue gets what was sent and what the charger draws; a timer can replace polling."""
    s = SessionInput("a", ChargingMode.FAST, ALL, NOW, 32, allowed=6, drawn={Phase.L2: 14})
    first = verify({}, [s], at(0))
    assert first.next_check == at(60)
    flagged = verify(first.watches, [s], at(60))
    assert flagged.newly_flagged == (("a", Watch(at(0), 6, 14, flagged=True)),)
    assert flagged.next_check is None
    assert verify(flagged.watches, [], at(70)).watches == {}


def test_closed_loop_oven_keeps_the_fuse_and_spares_the_flash() -> None:
    """Two cars on a 16 A fuse, a noisy household and an oven from 2 to 5 minutes.

    Cars draw what they are told. After each step's profiles the fuse holds whenever the
    household leaves room for one car's minimum; the paused car resumes within a minute of the
    oven going off; and a household hovering at a whole-ampere edge costs no profiles.
    """
    site = SiteSettings(main_fuse=16)
    rng = random.Random(14)
    draws = {"a": 0.0, "b": 0.0}
    state = RegulatorState()
    sends: list[tuple[int, str]] = []
    for t in range(600):
        base = 2.0 + rng.uniform(-0.3, 0.3) + (7.5 if 120 <= t < 300 else 0.0)
        grid = GridMeasurement.from_currents([base + draws["a"] + draws["b"]] * 3, at(t))
        sessions = [
            SessionInput(
                key=key,
                mode=ChargingMode.FAST,
                phases=ALL,
                started=NOW + timedelta(seconds=i),
                charger_max=16,
                drawn=dict.fromkeys(ALL, draws[key]),
                allowed=state.told(key),
                allowed_since=state.told_at(key),
            )
            for i, key in enumerate(draws)
        ]
        result = regulate(state, allocate(site, grid, sessions, at(t)), sessions, at(t))
        state = result.state
        for key, amps in result.sends:
            draws[key] = amps
            sends.append((t, key))
        assert base + draws["a"] + draws["b"] <= 16 + 1e-6, t
        if 150 <= t < 300:
            assert draws["b"] == 0 and draws["a"] >= 6, t
    assert any(key == "b" and 300 < t <= 360 for t, key in sends)
    assert 12 <= draws["a"] + draws["b"] <= 14
    for key in draws:
        assert sum(1 for t, k in sends if k == key and t >= 400) <= 1
