"""The smart charging allocator: the fuse holds, sessions share fairly, surplus goes into cars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ocpp_central.core.smart import (
    Allocation,
    ChargingMode,
    GridKind,
    GridMeasurement,
    LimitSource,
    Phase,
    SessionInput,
    SiteSettings,
    allocate,
    charger_phases,
    household,
)
from custom_components.ocpp_central.core.smart.fill import Claim, water_fill
from custom_components.ocpp_central.core.smart.measure import loaded_phases, own_cap

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
L1, L2, L3 = Phase.L1, Phase.L2, Phase.L3
ALL = frozenset({L1, L2, L3})
MANUAL, FAST = ChargingMode.MANUAL, ChargingMode.FAST
SOLAR, MIN_SOLAR = ChargingMode.SOLAR, ChargingMode.MIN_SOLAR
FUSE, USER, NONE, SAFE = LimitSource.FUSE, LimitSource.USER, LimitSource.NONE, LimitSource.SAFE


def session(key: str, age_min: int, **kw: Any) -> SessionInput:
    """A session started `age_min` minutes ago; `draw=x` draws x A on each of its phases."""
    phases = kw.pop("phases", ALL)
    if "draw" in kw:
        kw["drawn"] = dict.fromkeys(phases, kw.pop("draw"))
    return SessionInput(
        key=key,
        mode=kw.pop("mode", FAST),
        phases=phases,
        started=NOW - timedelta(minutes=age_min),
        charger_max=kw.pop("charger_max", 16.0),
        **kw,
    )


def currents(*amps: float, age_s: float = 0) -> GridMeasurement | None:
    return GridMeasurement.from_currents(amps, NOW - timedelta(seconds=age_s))


def power(watts: float, *, export_positive: bool = False) -> GridMeasurement | None:
    return GridMeasurement.from_power(watts, NOW, export_positive=export_positive)


@dataclass
class Case:
    site: SiteSettings
    grid: GridMeasurement | None
    sessions: list[SessionInput]
    expected: dict[str, tuple[float, LimitSource]]
    notes: dict[str, Any] = field(default_factory=dict)


SITE16 = SiteSettings(main_fuse=16)
SOLAR_SITE = SiteSettings(main_fuse=25, grid_kind=GridKind.POWER)
LONG_AGO = NOW - timedelta(minutes=5)

CASES = {
    # Two chargers on a 16 A fuse; the household draws 2 A, then a three-phase oven 8 A more.
    "oven off: two chargers share 14 A": Case(
        SITE16,
        currents(16, 16, 16),
        [session("a", 60, draw=7, allowed=7), session("b", 30, draw=7, allowed=7)],
        {"a": (7, FUSE), "b": (7, FUSE)},
    ),
    "oven on: the newer pauses, the older keeps 6 A": Case(
        SITE16,
        currents(24, 24, 24),
        [session("a", 60, draw=7, allowed=7), session("b", 30, draw=7, allowed=7)],
        {"a": (6, FUSE), "b": (0, FUSE)},
    ),
    "a one-phase oven on L1 leaves no room for anyone": Case(
        SITE16,
        currents(26, 16, 16),
        [session("a", 60, draw=7, allowed=7), session("b", 30, draw=7, allowed=7)],
        {"a": (0, FUSE), "b": (0, FUSE)},
    ),
    "oven off again: the paused one resumes": Case(
        SITE16,
        currents(8, 8, 8),
        [session("a", 60, draw=6, allowed=6), session("b", 30, draw=0, allowed=0)],
        {"a": (7, FUSE), "b": (7, FUSE)},
    ),
    "a paused session waits for its minimum plus a margin": Case(
        SITE16,
        currents(9.5, 9.5, 9.5),
        [session("a", 60, draw=6, allowed=6), session("b", 30, draw=0, allowed=0)],
        {"a": (12, FUSE), "b": (0, FUSE)},
    ),
    # Unbalanced phases: the three-phase session is held by L1, the one on L3 gets the rest.
    "three phases unbalanced": Case(
        SITE16,
        currents(10, 4, 2),
        [session("a", 60, draw=0), session("b", 30, phases=frozenset({L3}), draw=0)],
        {"a": (6, FUSE), "b": (8, FUSE)},
    ),
    "a single-phase charger on L2 loads only L2": Case(
        SITE16,
        currents(15, 2, 15),
        [session("b", 30, phases=frozenset({L2}), charger_max=32)],
        {"b": (14, FUSE)},
    ),
    "a three-phase charger there would pause": Case(
        SITE16, currents(15, 2, 15), [session("a", 30)], {"a": (0, FUSE)}
    ),
    "a three-phase charger charging a one-phase car takes room on that phase only": Case(
        SITE16,
        currents(12, 15, 15),
        [session("a", 30, drawn={L1: 10, L2: 0, L3: 0}, allowed=10)],
        {"a": (14, FUSE)},
    ),
    "a charger that reports no current is assumed to draw its allowance": Case(
        SITE16,
        currents(12, 12, 12),
        [session("a", 30, allowed=10)],
        {"a": (14, FUSE)},
    ),
    # A charger that ignores its limit: its real draw is fixed load, the other gets less.
    "a charger that ignores limits keeps its limit; the other gets what is left": Case(
        SiteSettings(main_fuse=25),
        currents(20, 20, 20),
        [
            session("a", 60, draw=12, allowed=6, ignores_limits=True),
            session("b", 30, draw=6, allowed=6),
        ],
        {"a": (6, FUSE), "b": (11, FUSE)},
    ),
    "an ignoring charger can push the others into a pause": Case(
        SITE16,
        currents(20, 20, 20),
        [
            session("a", 60, draw=12, allowed=6, ignores_limits=True),
            session("b", 30, draw=6, allowed=6),
        ],
        {"a": (6, FUSE), "b": (0, FUSE)},
    ),
    # Not enough for everyone: oldest first at 6 A, the rest shared.
    "three fit exactly at their minimum": Case(
        SiteSettings(main_fuse=20),
        currents(2, 2, 2),
        [session("a", 90, draw=0), session("b", 60, draw=0), session("c", 30, draw=0)],
        {"a": (6, FUSE), "b": (6, FUSE), "c": (6, FUSE)},
    ),
    "the newest pauses when three don't fit": Case(
        SiteSettings(main_fuse=20),
        currents(5, 5, 5),
        [session("a", 90, draw=0), session("b", 60, draw=0), session("c", 30, draw=0)],
        {"a": (7, FUSE), "b": (7, FUSE), "c": (0, FUSE)},
    ),
    "room for one more: the older paused one resumes first": Case(
        SiteSettings(main_fuse=20),
        currents(9, 9, 9),
        [
            session("a", 90, draw=6, allowed=6),
            session("b", 60, draw=0, allowed=0),
            session("c", 30, draw=0, allowed=0),
        ],
        {"a": (8, FUSE), "b": (8, FUSE), "c": (0, FUSE)},
    ),
    "a newer one-phase session charges on a phase where an older one doesn't fit": Case(
        SITE16,
        currents(2, 2, 10),
        [
            session("a", 90, draw=0),
            session("b", 60, draw=0),
            session("c", 30, phases=frozenset({L1}), draw=0),
        ],
        {"a": (6, FUSE), "b": (0, FUSE), "c": (8, FUSE)},
    ),
    # Water-filling: a car that draws less than its share leaves the rest to the other.
    "a car drawing less leaves the rest to the other": Case(
        SITE16,
        currents(11, 11, 11),
        [
            session("a", 60, draw=3, allowed=8, allowed_since=LONG_AGO),
            session("b", 30, draw=8, allowed=8, allowed_since=LONG_AGO),
        ],
        {"a": (6, FUSE), "b": (10, FUSE)},
    ),
    "right after a change the car gets time to follow": Case(
        SITE16,
        currents(11, 11, 11),
        [
            session("a", 60, draw=3, allowed=8, allowed_since=NOW - timedelta(seconds=10)),
            session("b", 30, draw=8, allowed=8, allowed_since=LONG_AGO),
        ],
        {"a": (8, FUSE), "b": (8, FUSE)},
    ),
    "with room to spare a car drawing less keeps its full limit": Case(
        SiteSettings(main_fuse=40),
        currents(11, 11, 11),
        [
            session("a", 60, draw=3, allowed=16, allowed_since=LONG_AGO),
            session("b", 30, draw=8, allowed=16, allowed_since=LONG_AGO),
        ],
        {"a": (16, NONE), "b": (16, NONE)},
    ),
    # What binds: the user's limit, their schedule, the plan, the charger, the fuse.
    "manual: the user's limit rules when the fuse has room": Case(
        SiteSettings(main_fuse=35),
        currents(2, 2, 2),
        [session("a", 30, mode=MANUAL, upper=10)],
        {"a": (10, USER)},
    ),
    "manual: the fuse caps the user's limit": Case(
        SITE16, currents(6, 6, 6), [session("a", 30, mode=MANUAL, upper=16)], {"a": (10, FUSE)}
    ),
    "a schedule binds": Case(
        SiteSettings(main_fuse=35),
        currents(2, 2, 2),
        [session("a", 30, upper=8, upper_source=LimitSource.SCHEDULE)],
        {"a": (8, LimitSource.SCHEDULE)},
    ),
    "fast: as fast as the charger allows": Case(
        SiteSettings(main_fuse=35),
        currents(2, 2, 2),
        [session("a", 30, charger_max=32)],
        {"a": (32, NONE)},
    ),
    "planned: the plan's current is the bound": Case(
        SiteSettings(main_fuse=35),
        currents(2, 2, 2),
        [session("a", 30, mode=ChargingMode.PLANNED, upper=12, upper_source=LimitSource.PLAN)],
        {"a": (12, LimitSource.PLAN)},
    ),
    "planned: outside the plan's slots it pauses": Case(
        SiteSettings(main_fuse=35),
        currents(2, 2, 2),
        [session("a", 30, mode=ChargingMode.PLANNED, upper=0, upper_source=LimitSource.PLAN)],
        {"a": (0, LimitSource.PLAN)},
    ),
    "a user limit below the minimum pauses, never a current between 0 and 6 A": Case(
        SiteSettings(main_fuse=35), currents(2, 2, 2), [session("a", 30, upper=4)], {"a": (0, USER)}
    ),
    "fractions are rounded down to whole amperes": Case(
        SiteSettings(main_fuse=16),
        currents(3.5, 3.5, 3.5),
        [session("a", 30, draw=0)],
        {"a": (12, FUSE)},
    ),
    "no meter: chargers share the fuse between them": Case(
        SiteSettings(main_fuse=16, grid_kind=GridKind.NONE),
        None,
        [session("a", 60), session("b", 30)],
        {"a": (8, FUSE), "b": (8, FUSE)},
    ),
    "no fuse configured: solar only, nothing capped": Case(
        SiteSettings(main_fuse=None, grid_kind=GridKind.POWER),
        power(40000),
        [session("a", 30)],
        {"a": (16, NONE)},
    ),
    # Safe when blind.
    "sensor unavailable: everyone at the safe current": Case(
        SITE16,
        currents(2, 2, float("nan")),
        [session("a", 60, draw=7), session("b", 30, mode=SOLAR, draw=7)],
        {"a": (6, SAFE), "b": (6, SAFE)},
    ),
    "sensor stale after 60 s": Case(
        SITE16, currents(2, 2, 2, age_s=61), [session("a", 30)], {"a": (6, SAFE)}
    ),
    "sensor 60 s old still counts": Case(
        SITE16, currents(2, 2, 2, age_s=60), [session("a", 30, draw=0)], {"a": (14, FUSE)}
    ),
    "one phase's sensor missing": Case(
        SITE16,
        GridMeasurement.from_currents([2.0, 2.0], NOW),
        [session("a", 30)],
        {"a": (6, SAFE)},
    ),
    "blind: a user limit below the safe current still applies": Case(
        SITE16, None, [session("a", 30, upper=0)], {"a": (0, USER)}
    ),
    "blind: a configured safe current": Case(
        SiteSettings(main_fuse=25, safe_current=10),
        None,
        [session("a", 60), session("b", 30, charger_max=8)],
        {"a": (10, SAFE), "b": (8, NONE)},
    ),
    "blind: a safe current of 0 pauses": Case(
        SiteSettings(main_fuse=25, safe_current=0), None, [session("a", 30)], {"a": (0, SAFE)}
    ),
    # Solar: surplus = export + what the solar sessions draw now.
    "solar: 3 kW export starts a one-phase car at 13 A": Case(
        SOLAR_SITE,
        power(-3000),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}), charger_max=32, allowed=0)],
        {"s": (13, LimitSource.SOLAR)},
    ),
    "solar: 1 kW is below the minimum: paused": Case(
        SOLAR_SITE,
        power(-1000),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}), allowed=0)],
        {"s": (0, LimitSource.SOLAR)},
    ),
    "min_solar: the minimum without surplus": Case(
        SOLAR_SITE,
        power(-1000),
        [session("s", 30, mode=MIN_SOLAR, phases=frozenset({L1}))],
        {"s": (6, LimitSource.SOLAR)},
    ),
    "solar: what the car draws counts as surplus": Case(
        SOLAR_SITE,
        power(-500),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}), draw=10, allowed=10)],
        {"s": (12, LimitSource.SOLAR)},
    ),
    "solar: a three-phase car needs three times the watts": Case(
        SOLAR_SITE,
        power(-5000),
        [session("s", 30, mode=SOLAR, draw=0, allowed=0)],
        {"s": (7, LimitSource.SOLAR)},
    ),
    "solar: two cars share the surplus": Case(
        SOLAR_SITE,
        power(-6000),
        [
            session("s", 60, mode=SOLAR, phases=frozenset({L1}), draw=0, allowed=0),
            session("t", 30, mode=SOLAR, phases=frozenset({L2}), draw=0, allowed=0),
        ],
        {"s": (13, LimitSource.SOLAR), "t": (13, LimitSource.SOLAR)},
    ),
    "solar: enough for one only: the older starts": Case(
        SOLAR_SITE,
        power(-2000),
        [
            session("s", 60, mode=SOLAR, phases=frozenset({L1}), draw=0, allowed=0),
            session("t", 30, mode=SOLAR, phases=frozenset({L2}), draw=0, allowed=0),
        ],
        {"s": (8, LimitSource.SOLAR), "t": (0, LimitSource.SOLAR)},
    ),
    "solar: a fast session's draw is not surplus": Case(
        SOLAR_SITE,
        power(3900),
        [
            session("f", 60, draw=10, allowed=10),
            session("s", 30, mode=SOLAR, phases=frozenset({L1}), draw=0, allowed=0),
        ],
        {"f": (16, NONE), "s": (0, LimitSource.SOLAR)},
    ),
    "solar: the user's limit below the surplus binds": Case(
        SOLAR_SITE,
        power(-5000),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}), upper=10)],
        {"s": (10, USER)},
    ),
    "solar ended: room for its minimum stays reserved during the stop delay": Case(
        SITE16,
        currents(8, 2, 2),
        [
            session("s", 60, mode=SOLAR, phases=frozenset({L1}), draw=6, allowed=6),
            session("f", 30, draw=0),
        ],
        {"s": (0, LimitSource.SOLAR), "f": (8, FUSE)},
    ),
    "export-positive power sensor: +2 kW is export": Case(
        SiteSettings(main_fuse=25, grid_kind=GridKind.POWER, export_positive=True),
        power(2000, export_positive=True),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}))],
        {"s": (8, LimitSource.SOLAR)},
    ),
    "import-positive power sensor: +2 kW is import": Case(
        SiteSettings(main_fuse=25, grid_kind=GridKind.POWER),
        power(2000),
        [session("s", 30, mode=SOLAR, phases=frozenset({L1}))],
        {"s": (0, LimitSource.SOLAR)},
    ),
    "power sensor: the household is spread evenly over the phases": Case(
        SiteSettings(main_fuse=16, grid_kind=GridKind.POWER),
        power(6900),
        [session("a", 30, draw=5, allowed=5)],
        {"a": (11, FUSE)},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_allocate(case: Case) -> None:
    """Each session gets the expected current and the constraint that sets it."""
    result = allocate(case.site, case.grid, case.sessions, NOW)
    assert result == {k: Allocation(float(a), src) for k, (a, src) in case.expected.items()}


@pytest.mark.parametrize(
    ("phases", "phase", "supply", "expected"),
    [
        (3, None, 3, ALL),
        (3, L2, 3, ALL),
        (1, L2, 3, frozenset({L2})),
        (1, None, 3, frozenset({L1})),
        (1, L3, 1, frozenset({L1})),
        (3, None, 1, frozenset({L1})),
    ],
)
def test_charger_phases(
    phases: int, phase: Phase | None, supply: int, expected: frozenset[Phase]
) -> None:
    """A 3-phase charger loads every supply phase; a 1-phase one its `phase` setting."""
    site = SiteSettings(main_fuse=16, supply_phases=supply)
    assert charger_phases(phases, phase, site) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0, 3.0], {L1: 1.0, L2: 2.0, L3: 3.0}),
        ([1.0, None, 3.0], None),
        ([float("inf"), 2.0, 3.0], None),
        ([], None),
        ([1e9, -1e9, 0.0], {L1: 1000.0, L2: -1000.0, L3: 0.0}),
    ],
)
def test_grid_currents_are_bounded(values: list[float | None], expected: Any) -> None:
    """Missing or non-finite readings make the measurement unavailable; huge ones are bounded."""
    grid = GridMeasurement.from_currents(values, NOW)
    assert (grid.currents if grid else None) == expected


def test_hostile_session_values_are_bounded() -> None:
    """NaN, negative and absurd currents from a charger never reach the arithmetic."""
    s = session("a", 30, drawn={L1: float("nan"), L2: -5.0, L3: 1e12}, charger_max=1e9)
    assert s.drawn == {L2: 0.0, L3: 1000.0}
    assert s.charger_max == 1000.0
    result = allocate(SITE16, currents(2, 2, 2), [s], NOW)
    assert 0 <= result["a"].current_a <= 1000.0
    # A limit that is not a number pauses rather than guesses.
    garbage = session("b", 30, upper=float("nan"), allowed=float("inf"))
    assert (garbage.upper, garbage.allowed) == (0.0, 0.0)
    assert allocate(SITE16, currents(2, 2, 2), [garbage], NOW)["b"] == Allocation(0.0, USER)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"main_fuse": 0},
        {"main_fuse": 16, "supply_phases": 2},
        {"main_fuse": 16, "safe_current": -1},
        {"main_fuse": 16, "voltage": 0},
    ],
)
def test_site_settings_refuse_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SiteSettings(**kwargs)


def test_water_fill_is_max_min_fair() -> None:
    """Three claims on two resources: the one alone on the roomier resource gets the rest."""
    claims = [
        Claim(0.0, 100.0, {"x": 1.0}),
        Claim(0.0, 100.0, {"x": 1.0, "y": 1.0}),
        Claim(0.0, 100.0, {"y": 1.0}),
        Claim(0.0, 2.0, {"x": 1.0}),
    ]
    assert water_fill(claims, {"x": 10.0, "y": 20.0}) == pytest.approx([4.0, 4.0, 16.0, 2.0])


# Property: for any household and sessions, the fuse holds and no limit is between 0 and 6 A.

MODES = st.sampled_from(list(ChargingMode))
AMPS = st.floats(min_value=0, max_value=40, allow_nan=False)


@st.composite
def sessions_strategy(draw: st.DrawFn, site: SiteSettings) -> SessionInput:
    three = draw(st.booleans())
    phase = draw(st.sampled_from([L1, L2, L3]))
    phases = charger_phases(3 if three else 1, phase, site)
    drawn = draw(st.none() | st.dictionaries(st.sampled_from(sorted(phases)), AMPS))
    allowed = draw(st.none() | st.just(0.0) | st.floats(min_value=6, max_value=32))
    return SessionInput(
        key=draw(st.uuids()).hex,
        mode=draw(MODES),
        phases=phases,
        started=NOW - timedelta(seconds=draw(st.integers(0, 10_000))),
        charger_max=draw(st.floats(min_value=0, max_value=40)),
        upper=draw(st.none() | AMPS),
        upper_source=draw(st.sampled_from([USER, LimitSource.SCHEDULE, LimitSource.PLAN])),
        drawn=drawn,
        allowed=allowed,
        allowed_since=NOW - timedelta(seconds=draw(st.integers(0, 600))),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SiteSettings, GridMeasurement | None, list[SessionInput]]:
    kind = draw(st.sampled_from([GridKind.CURRENTS, GridKind.POWER]))
    site = SiteSettings(
        main_fuse=draw(st.floats(min_value=6, max_value=63)),
        supply_phases=draw(st.sampled_from([1, 3])),
        grid_kind=kind,
    )
    if kind is GridKind.CURRENTS:
        values = [draw(st.floats(-40, 80)) for _ in site.phases]
        grid = GridMeasurement.from_currents(values, NOW)
    else:
        grid = GridMeasurement.from_power(draw(st.floats(-30_000, 60_000)), NOW)
    return site, grid, draw(st.lists(sessions_strategy(site), max_size=6))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios())
def test_fuse_holds_for_any_household(
    scenario: tuple[SiteSettings, GridMeasurement | None, list[SessionInput]],
) -> None:
    """Household + allocations stay within the fuse on every phase whenever pausing everyone
    would; each allocation is 0 or at least the minimum and never above the session's own cap."""
    site, grid, sessions = scenario
    result = allocate(site, grid, sessions, NOW)
    assert site.main_fuse is not None
    load = household(site, grid, sessions)
    for s in sessions:
        amps = result[s.key].current_a
        assert amps == 0 or amps >= s.min_current
        assert amps <= own_cap(s) + 1e-9
    if all(load[p] <= site.main_fuse for p in site.phases):
        for p in site.phases:
            ours = sum(result[s.key].current_a for s in sessions if p in loaded_phases(site, s))
            assert load[p] + ours <= site.main_fuse + 1e-6
    # Nobody is paused by the fuse while everyone's minimum (plus the resume margin) fits.
    room = {p: site.main_fuse - load[p] for p in site.phases}
    for s in sessions:
        for p in loaded_phases(site, s):
            room[p] -= s.min_current + 1
    if all(r >= 0 for r in room.values()):
        assert all(a.source is not FUSE or a.current_a > 0 for a in result.values())
