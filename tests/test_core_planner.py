"""The planner as a table: prices, now, departure, energy, power -> status and slots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import random
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_central.core.planner import (
    STATUS_CANNOT_FINISH,
    STATUS_CHARGING,
    STATUS_COMPLETE,
    STATUS_IDLE,
    STATUS_NO_PRICES,
    STATUS_WAITING,
    plan,
)
from custom_components.ocpp_central.core.prices import (
    PricePeriod,
    parse_energidataservice,
    parse_nordpool_sensor,
)
from tests.core_helpers import (  # noqa: F401 (fixtures)
    auto_enable_custom_integrations,
    local,
    loopback_sockets,
    price_fixture,
    series,
    utc,
)

NIGHT = local(2026, 1, 14, 22)  # a plain winter night, 22:00 -> 07:00 is 9 hours
MORNING = local(2026, 1, 15, 7)
NIGHT_PRICES = series(NIGHT, [5, 4, 3, 1, 2, 6, 7, 8, 9])  # cheapest 01:00-03:00


@dataclass
class Case:
    """One row: inputs and what the plan must say."""

    prices: list[PricePeriod]
    energy: float
    now: datetime = NIGHT
    departure: datetime = MORNING
    power: float = 11.0
    threshold: float = 0.0
    status: str = STATUS_WAITING
    slots: list[tuple[datetime, datetime]] = field(default_factory=list)
    cost: float | None = None
    deferred: float = 0.0


CASES = {
    "hourly, two cheapest hours": Case(
        NIGHT_PRICES, 22, slots=[(local(2026, 1, 15, 1), local(2026, 1, 15, 3))], cost=33
    ),
    "partial hour next to the block, at full power": Case(
        NIGHT_PRICES, 16.5, slots=[(local(2026, 1, 15, 1), local(2026, 1, 15, 2, 30))], cost=22
    ),
    "15-minute prices pick quarters": Case(
        series(NIGHT, [3, 3, 1, 3, 3, 0.5, 0.6, 3] + [3] * 28, minutes=15),
        5.5,  # 30 minutes at 11 kW
        slots=[(local(2026, 1, 14, 23, 15), local(2026, 1, 14, 23, 45))],
        cost=5.5 * 0.55,
    ),
    "negative prices are charged first": Case(
        series(NIGHT, [1, 1, -0.5, 1, 1, 1, 1, 1, 1]),
        11,
        slots=[(local(2026, 1, 15, 0), local(2026, 1, 15, 1))],
        cost=-5.5,
    ),
    "equal prices: one block, as soon as possible": Case(
        series(NIGHT, [1.0] * 9),
        22,
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 15, 0))],
        cost=22,
    ),
    "departure tomorrow, prices for today and tomorrow": Case(
        series(local(2026, 1, 14, 0), [2.0] * 24 + [0.5] * 6 + [3.0] * 18),
        33,
        now=local(2026, 1, 14, 17, 10),
        slots=[(local(2026, 1, 15, 0), local(2026, 1, 15, 3))],
        cost=16.5,
    ),
    "now inside the cheapest hour: charging at once": Case(
        NIGHT_PRICES,
        11,
        now=local(2026, 1, 15, 1, 30),
        status=STATUS_CHARGING,
        slots=[(local(2026, 1, 15, 1, 30), local(2026, 1, 15, 2, 30))],
        cost=5.5 + 11,
    ),
    "target already reached": Case(NIGHT_PRICES, 0.005, status=STATUS_COMPLETE),
    "not enough time: full power from now, whatever the price": Case(
        NIGHT_PRICES, 120, status=STATUS_CANNOT_FINISH, slots=[(NIGHT, MORNING)], cost=11 * 45
    ),
    # Too little time, and prices only until midnight: full power anyway, unknown price.
    "not enough time, prices end before departure": Case(
        NIGHT_PRICES[:2], 120, status=STATUS_CANNOT_FINISH, slots=[(NIGHT, MORNING)], cost=99
    ),
    "no power at all": Case(NIGHT_PRICES, 10, power=0, status=STATUS_CANNOT_FINISH),
    "departure already passed": Case(NIGHT_PRICES, 10, now=MORNING, status=STATUS_IDLE),
    "no prices": Case([], 22, status=STATUS_NO_PRICES, deferred=22),
    "only yesterday's prices": Case(
        series(local(2026, 1, 13, 0), [1] * 24), 22, status=STATUS_NO_PRICES, deferred=22
    ),
    # Known until midnight: 7 unknown hours can still deliver 77 kWh, so nothing is committed.
    "prices end before departure: wait for them": Case(
        NIGHT_PRICES[:2], 22, status=STATUS_WAITING, deferred=22
    ),
    # 90 kWh: 77 can wait for tomorrow's prices, 13 must be charged in the two known hours:
    # all of the cheaper 23:00 and the rest of 22:00 next to it.
    "prices end before departure: only what cannot wait": Case(
        NIGHT_PRICES[:2],
        90,
        slots=[(local(2026, 1, 14, 22, 49), local(2026, 1, 15, 0))],
        deferred=77,
    ),
    # A hole in the prices is used only when priced time is not enough.
    "hole in the prices, last resort": Case(
        NIGHT_PRICES[:3] + NIGHT_PRICES[4:],
        93.5,  # 8.5 hours: all 8 priced hours and half the hole
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 15, 1, 30)), (local(2026, 1, 15, 2), MORNING)],
    ),
    # Two runs of prices around a hole, neither long enough alone: blocks in both.
    "hole in the prices, no single block holds it": Case(
        NIGHT_PRICES[:4] + NIGHT_PRICES[5:],
        55,
        threshold=0.5,
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 15, 2)), (local(2026, 1, 15, 3), local(2026, 1, 15, 4))],
        cost=11 * (5 + 4 + 3 + 1 + 6),
    ),
    "contiguity: cheapest is two blocks without a threshold": Case(
        series(NIGHT, [1.00, 1.02, 5, 1.01, 5, 5, 5, 5, 5]),
        22,
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 14, 23)), (local(2026, 1, 15, 1), local(2026, 1, 15, 2))],
    ),
    "contiguity: one block within the threshold": Case(
        series(NIGHT, [1.00, 1.02, 5, 1.01, 5, 5, 5, 5, 5]),
        22,
        threshold=0.05,
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 15, 0))],
    ),
    "contiguity: the threshold is not a licence to pay much more": Case(
        series(NIGHT, [1.00, 1.50, 5, 1.01, 5, 5, 5, 5, 5]),
        22,
        threshold=0.05,
        status=STATUS_CHARGING,
        slots=[(NIGHT, local(2026, 1, 14, 23)), (local(2026, 1, 15, 1), local(2026, 1, 15, 2))],
    ),
    # Noisy quarters in a valley: without a threshold the cheapest quarters are scattered;
    # with one, the valley is charged as one block.
    "contiguity: noisy quarters become one block": Case(
        series(NIGHT, [3] * 8 + [1.00, 1.03, 1.01, 1.04, 1.00, 1.02] + [3] * 22, minutes=15),
        11,
        threshold=0.05,
        slots=[(local(2026, 1, 15, 0, 30), local(2026, 1, 15, 1, 30))],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan(case: Case) -> None:
    """Status, slots, cost and deferred energy for each situation."""
    result = plan(
        case.prices,
        case.now,
        case.departure,
        case.energy,
        case.power,
        contiguity_threshold=case.threshold,
    )
    assert result.status == case.status
    assert [(slot.start, slot.end) for slot in result.slots] == case.slots
    if case.cost is not None:
        assert result.estimated_cost == pytest.approx(case.cost)
    assert result.deferred_kwh == pytest.approx(case.deferred)
    planned = case.energy - case.deferred
    if case.status in (STATUS_WAITING, STATUS_CHARGING):
        assert planned <= result.energy_kwh < planned + 0.2  # partial slots round up to a minute
        assert all(slot.power_kw == case.power for slot in result.slots)
    assert result.next_start == (case.slots[0][0] if case.slots else None)
    for slot in result.slots:
        assert case.now <= slot.start < slot.end <= case.departure


def test_noisy_quarters_without_threshold_are_scattered() -> None:
    """The counterpart of the last row: the cheapest quarters alone make several blocks."""
    prices = series(NIGHT, [3] * 8 + [1.00, 1.03, 1.01, 1.04, 1.00, 1.02] + [3] * 22, minutes=15)
    result = plan(prices, NIGHT, MORNING, 11, 11)
    assert len(result.slots) > 1


# --- DST nights in Europe/Stockholm ---------------------------------------------------------


def test_autumn_night_has_ten_hours() -> None:
    """22:00 -> 07:00 over the last Sunday of October is 10 hours: 105 kWh at 11 kW fit."""
    prices = parse_nordpool_sensor(price_fixture("nordpool_sensor_dst_october")).periods
    now, departure = local(2025, 10, 25, 22), local(2025, 10, 26, 7)
    result = plan(prices, now, departure, 105, 11)
    assert result.status in (STATUS_WAITING, STATUS_CHARGING)
    # 105 / 11 h = 9 h 33 min: more than the clock shows between 22:00 and 07:00.
    assert sum((s.end - s.start for s in result.slots), timedelta()) == timedelta(minutes=573)
    assert result.slots[-1].end == utc(2025, 10, 26, 6)


def test_autumn_night_picks_both_two_oclock_hours() -> None:
    """The repeated 02:00 hour is two distinct hours, and both are the cheapest."""
    prices = parse_nordpool_sensor(price_fixture("nordpool_sensor_dst_october")).periods
    result = plan(prices, local(2025, 10, 25, 22), local(2025, 10, 26, 7), 22, 11)
    assert [(s.start, s.end) for s in result.slots] == [
        (utc(2025, 10, 26, 0), utc(2025, 10, 26, 2))
    ]
    # (An instant inside the repeated hour compares equal only in its own zone.)
    assert result.slots[0].start == local(2025, 10, 26, 2).astimezone(UTC)
    assert result.slots[0].end == local(2025, 10, 26, 3)  # 03:00 CET, after the second 02:00


def test_spring_night_has_eight_hours() -> None:
    """22:00 -> 07:00 over the last Sunday of March is 8 hours: 90 kWh at 11 kW do not fit."""
    prices = parse_energidataservice(price_fixture("energidataservice_dst_march")).periods
    now, departure = local(2026, 3, 28, 22), local(2026, 3, 29, 7)
    result = plan(prices, now, departure, 90, 11)
    assert result.status == STATUS_CANNOT_FINISH
    assert [(s.start, s.end) for s in result.slots] == [(now, departure)]
    assert result.slots[0].energy_kwh == pytest.approx(88)
    assert plan(prices, now, departure, 87, 11).status in (STATUS_WAITING, STATUS_CHARGING)


def test_spring_night_skips_the_missing_hour() -> None:
    """01:00 and 03:00 are back to back on the spring night: one slot, two hours."""
    prices = parse_energidataservice(price_fixture("energidataservice_dst_march")).periods
    result = plan(prices, local(2026, 3, 28, 22), local(2026, 3, 29, 7), 22, 11)
    assert [(s.start, s.end) for s in result.slots] == [(utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))]
    assert result.slots[0].end == local(2026, 3, 29, 4)


def test_departure_in_another_zone_is_the_same_instant() -> None:
    """Times may come in any zone: the plan works on instants."""
    a = plan(NIGHT_PRICES, NIGHT, MORNING, 22, 11)
    b = plan(
        NIGHT_PRICES, NIGHT.astimezone(UTC), MORNING.astimezone(ZoneInfo("Asia/Tokyo")), 22, 11
    )
    assert a == b


# --- properties over random prices ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("threshold", [0.0, 0.03, 0.2])
def test_cost_bound_and_energy(seed: int, threshold: float) -> None:
    """Enough energy, never in the past or after departure, and at most threshold x energy
    above the cheapest possible cost (computed here independently)."""
    rng = random.Random(seed)
    minutes = rng.choice([15, 60])
    count = 9 * 60 // minutes
    values = [round(rng.uniform(-0.2, 2.0), 2) for _ in range(count)]
    prices = series(NIGHT, values, minutes)
    energy = rng.uniform(1, 80)
    result = plan(prices, NIGHT, MORNING, energy, 11, contiguity_threshold=threshold)
    assert result.status in (STATUS_WAITING, STATUS_CHARGING)
    assert result.energy_kwh >= energy - 1e-6
    # The cheapest cost: periods cheapest first, the last one in part.
    cheapest, left = 0.0, energy
    for value in sorted(values):
        used = min(left, 11 * minutes / 60)
        cheapest += used * value
        left -= used
    rounding = 11 / 60 * max(values)  # the partial slot rounds up to whole minutes
    assert result.estimated_cost <= cheapest + threshold * energy + rounding + 1e-6
    for earlier, later in zip(result.slots, result.slots[1:], strict=False):
        assert earlier.end < later.start  # slots are merged: a gap between any two


# --- the plan over time, and currents -------------------------------------------------------


def test_status_follows_the_slots() -> None:
    """Without a replan the status moves waiting -> charging -> waiting -> ... -> complete."""
    prices = series(NIGHT, [1.00, 1.02, 5, 1.01, 5, 5, 5, 5, 5])
    result = plan(prices, local(2026, 1, 14, 21), MORNING, 22, 11)
    assert result.status == STATUS_WAITING
    assert [
        result.status_at(local(2026, 1, 14, hour) if hour > 12 else local(2026, 1, 15, hour))
        for hour in (21, 22, 23, 0, 1, 2, 7)
    ] == ["waiting", "charging", "waiting", "waiting", "charging", "complete", "complete"]
    assert result.next_start_after(local(2026, 1, 14, 22, 30)) == NIGHT
    assert result.next_start_after(local(2026, 1, 14, 23, 30)) == local(2026, 1, 15, 1)
    assert result.next_start_after(local(2026, 1, 15, 2)) is None
    late = plan(prices, NIGHT, MORNING, 120, 11)
    assert late.status_at(local(2026, 1, 15, 3)) == STATUS_CANNOT_FINISH


def test_deferred_energy_charges_at_the_end_without_a_replan() -> None:
    """Energy left for unknown prices is charged as late as still finishes (that is what the
    pushed schedule does if no replan comes), and the status says so."""
    result = plan(NIGHT_PRICES[:2], NIGHT, MORNING, 90, 11)  # 13 kWh now, 77 deferred
    assert result.deferred_start == local(2026, 1, 15, 0)
    assert [
        result.status_at(moment)
        for moment in (
            local(2026, 1, 14, 22, 30),
            local(2026, 1, 14, 23),
            local(2026, 1, 15, 3),
            MORNING,
        )
    ] == ["waiting", "charging", "charging", "complete"]
    no_prices = plan([], NIGHT, MORNING, 10, 11)
    assert no_prices.deferred_start == local(2026, 1, 15, 6, 5)  # 54.5 min, whole minutes
    assert no_prices.status_at(local(2026, 1, 15, 5)) == STATUS_NO_PRICES
    assert no_prices.status_at(local(2026, 1, 15, 6, 30)) == STATUS_CHARGING
    assert plan(NIGHT_PRICES, NIGHT, MORNING, 10, 11).deferred_start is None


@pytest.mark.parametrize(
    ("power", "phases", "voltage", "current"),
    [
        (11.0, 3, 230.0, 15.942),
        (3.68, 1, 230.0, 16.0),
        (7.4, None, 230.0, None),
        (7.4, 1, None, None),
    ],
)
def test_current_per_phase(
    power: float, phases: int | None, voltage: float | None, current: float | None
) -> None:
    """Slots carry the current per phase when phases and voltage are known."""
    result = plan(NIGHT_PRICES, NIGHT, MORNING, 5, power, phases=phases, voltage=voltage)
    assert result.slots[0].current_a == (
        None if current is None else pytest.approx(current, abs=1e-3)
    )


@pytest.mark.parametrize(
    ("energy", "power", "status"),
    [
        (float("nan"), 11, STATUS_COMPLETE),
        (-5, 11, STATUS_COMPLETE),
        (10, float("inf"), STATUS_CANNOT_FINISH),
        (10, -3, STATUS_CANNOT_FINISH),
    ],
)
def test_nonsense_numbers(energy: float, power: float, status: str) -> None:
    """Non-finite or negative inputs count as nothing rather than breaking the plan."""
    assert plan(NIGHT_PRICES, NIGHT, MORNING, energy, power).status == status


def test_naive_times_are_refused() -> None:
    """Time comes in aware; a naive one is a programming error."""
    with pytest.raises(ValueError, match="aware"):
        plan(NIGHT_PRICES, datetime(2026, 1, 14, 22), MORNING, 10, 11)


def test_overlapping_and_non_finite_prices_are_ignored() -> None:
    """The planner does not trust its input to be clean either."""
    prices = [*NIGHT_PRICES, PricePeriod(local(2026, 1, 15, 1), local(2026, 1, 15, 2), -9)]
    prices.append(PricePeriod(local(2026, 1, 15, 5), local(2026, 1, 15, 6), float("nan")))
    result = plan(prices, NIGHT, MORNING, 22, 11)
    assert [(s.start, s.end) for s in result.slots] == [
        (local(2026, 1, 15, 1), local(2026, 1, 15, 3))
    ]


@pytest.mark.parametrize("max_slots", [None, 6, 3, 1])
def test_max_slots_fits_the_charger(max_slots: int | None) -> None:
    """A charger holding few schedule periods gets a plan with at most that many slots,
    paying a little more the fewer it allows."""
    rng = random.Random(7)
    prices = series(NIGHT, [round(rng.uniform(0.5, 1.5), 2) for _ in range(36)], minutes=15)
    result = plan(prices, NIGHT, MORNING, 33, 11, max_slots=max_slots)
    unlimited = plan(prices, NIGHT, MORNING, 33, 11)
    assert len(unlimited.slots) > 6
    if max_slots is not None:
        assert len(result.slots) <= max_slots
        assert result.estimated_cost >= unlimited.estimated_cost - 1e-9
    assert result.energy_kwh >= 33
