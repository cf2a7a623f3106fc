"""The session ledger (core/ledger*): energy per price period, cost, keys, retention, queries.

Pure functions and plain objects: no Home Assistant instance, no charger, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
import itertools
import json
import math
import random
from typing import Any, NamedTuple

import pytest

from custom_components.ocpp_central.core.ledger import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_COUNT,
    LEDGER_VERSION,
    Ledger,
    PricedStatus,
    PriceLike,
    SessionRecord,
    Tariff,
    migrate,
    totals,
)
from custom_components.ocpp_central.core.ledger_bench import bench_load
from custom_components.ocpp_central.core.ledger_energy import TAIL

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SEK = Tariff("SEK")
FAR = T0 + timedelta(days=30)  # "now" for readings: after all of them


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Plain Python: no Home Assistant instance (overrides the conftest's autouse fixture)."""


@dataclass(frozen=True)
class Period:
    """The shape of the price module's PricePeriod."""

    start: datetime
    end: datetime
    price: float


class TuplePeriod(NamedTuple):
    """Another shape with the same attributes: fits PriceLike too."""

    start: datetime
    end: datetime
    price: float


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def grid(length: int, *prices: float, first: float = 0) -> list[Period]:
    """Consecutive periods of `length` minutes from minute `first`."""
    return [
        Period(at(first + i * length), at(first + (i + 1) * length), price)
        for i, price in enumerate(prices)
    ]


def charge(
    readings: list[tuple[float, float]],
    *,
    tariff: Tariff = SEK,
    prices: Sequence[PriceLike] = (),
    stop: tuple[float, float | None] | None = None,
) -> SessionRecord:
    """An ended session: started at the first reading (its meterStart), stopped at the latest."""
    ledger = Ledger()
    first_minute, first_wh = readings[0]
    ledger.start_session(
        "c1", 1, 1, at(first_minute), tariff, meter_start_wh=first_wh, prices=prices
    )
    ledger.add_readings("c1", 1, timed(readings[1:]), now=FAR)
    end_minute, stop_wh = stop or (max(minute for minute, _ in readings), None)
    record = ledger.end_session("c1", 1, at(end_minute), meter_stop_wh=stop_wh)
    assert record is not None
    return record


def shape(record: SessionRecord) -> list[tuple[float, float, float, float | None]]:
    """Periods as (start minute, end minute, kWh, price)."""
    return [
        (
            (p.start - T0).total_seconds() / 60,
            (p.end - T0).total_seconds() / 60,
            round(p.kwh, 6),
            None if p.price is None else round(p.price, 9),
        )
        for p in record.periods
    ]


def steady(minutes: int, kw: float, every: float = 15) -> list[tuple[float, float]]:
    """Readings every `every` minutes of a constant power, from 0 Wh at minute 0."""
    count = round(minutes / every)
    return [(i * every, kw * 1000 * i * every / 60) for i in range(count + 1)]


def timed(readings: list[tuple[float, float]]) -> list[tuple[datetime, float]]:
    return [(at(minute), wh) for minute, wh in readings]


COST_TABLE = [
    pytest.param(
        steady(120, 6), SEK, grid(60, 1.0, 2.0),
        [(0, 60, 6.0, 1.0), (60, 120, 6.0, 2.0)], 18.0, PricedStatus.PRICED,
        id="hourly",
    ),
    pytest.param(
        steady(60, 4), Tariff("SEK", surcharge=0.25), grid(15, 0.5, 1.5, 2.5, 3.5),
        [(0, 15, 1.0, 0.75), (15, 30, 1.0, 1.75), (30, 45, 1.0, 2.75), (45, 60, 1.0, 3.75)],
        9.0, PricedStatus.PRICED,
        id="15-minute-with-surcharge",
    ),
    pytest.param(
        [(30, 0), (70, 4000)], SEK, grid(60, 1.0, 3.0),
        [(0, 60, 3.0, 1.0), (60, 120, 1.0, 3.0)], 6.0, PricedStatus.PRICED,
        id="a-step-across-a-price-change-is-shared-by-time",
    ),
    pytest.param(
        steady(60, 4), SEK, grid(15, -0.5, -1.0, 0.2, 0.3),
        [(0, 15, 1.0, -0.5), (15, 30, 1.0, -1.0), (30, 45, 1.0, 0.2), (45, 60, 1.0, 0.3)],
        -1.0, PricedStatus.PRICED,
        id="negative-prices",
    ),
    pytest.param(
        steady(60, 6), Tariff("SEK", surcharge=0.5), grid(60, -0.4),
        [(0, 60, 6.0, 0.1)], 0.6, PricedStatus.PRICED,
        id="negative-price-plus-surcharge",
    ),
    pytest.param(
        steady(90, 5), Tariff("SEK", fixed_price=2.0, surcharge=0.5), [],
        [(0, 90, 7.5, 2.5)], 18.75, PricedStatus.PRICED,
        id="fixed-price",
    ),
    pytest.param(
        steady(60, 6), Tariff("SEK", fixed_price=1.0), grid(60, 5.0),
        [(0, 60, 6.0, 1.0)], 6.0, PricedStatus.PRICED,
        id="fixed-price-ignores-a-price-table",
    ),
    pytest.param(
        steady(45, 4), SEK, grid(15, 0.004, 0.004, 0.004),
        [(0, 15, 1.0, 0.004), (15, 30, 1.0, 0.004), (30, 45, 1.0, 0.004)], 0.01,
        PricedStatus.PRICED,
        id="rounded-once-at-the-end",
    ),
    pytest.param(
        steady(15, 4), SEK, grid(15, 0.125),
        [(0, 15, 1.0, 0.125)], 0.13, PricedStatus.PRICED,
        id="half-a-cent-rounds-up",
    ),
    pytest.param(
        steady(15, 4), SEK, grid(15, -0.125),
        [(0, 15, 1.0, -0.125)], -0.13, PricedStatus.PRICED,
        id="half-a-cent-rounds-away-from-zero",
    ),
    pytest.param(
        steady(60, 6), Tariff("JPY"), grid(60, 30.4),
        [(0, 60, 6.0, 30.4)], 182.0, PricedStatus.PRICED,
        id="yen-have-no-minor-unit",
    ),
    pytest.param(
        steady(60, 6), Tariff("KWD"), grid(60, 0.0255),
        [(0, 60, 6.0, 0.0255)], 0.153, PricedStatus.PRICED,
        id="dinar-have-three-decimals",
    ),
    pytest.param(
        [(0, 0), (15, 1500)], SEK, [Period(at(0), at(5), 1.0), Period(at(5), at(20), 2.0)],
        [(0, 5, 0.5, 1.0), (5, 20, 1.0, 2.0)], 2.5, PricedStatus.PRICED,
        id="periods-off-the-quarter-hour-share-by-time",
    ),
    pytest.param(
        [(0, 0), (15, 1000), (30, 0), (45, 3000), (60, 4000)], SEK, grid(15, 1, 2, 3, 4),
        [(0, 15, 1.0, 1), (15, 30, 1.0, 2), (30, 45, 1.0, 3), (45, 60, 1.0, 4)], 10.0,
        PricedStatus.PRICED,
        id="a-glitch-reading-is-left-out",
    ),
    pytest.param(
        [(0, 0), (1, 5_000_000), (60, 5_003_000)], SEK, grid(60, 1.0),
        [(0, 60, 3.0, 1.0)], 3.0, PricedStatus.PRICED,
        id="a-jump-no-meter-could-make-is-not-energy",
    ),
    pytest.param(
        steady(60, 6), SEK, [],
        [(0, 60, 6.0, None)], None, PricedStatus.UNPRICED,
        id="no-price",
    ),
    pytest.param(
        steady(120, 6), SEK, grid(60, 1.0),
        [(0, 60, 6.0, 1.0), (60, 120, 6.0, None)], None, PricedStatus.PARTIAL,
        id="partly-priced",
    ),
    pytest.param(
        steady(180, 6), SEK, [*grid(60, 1.0), *grid(60, 2.0, first=120)],
        [(0, 60, 6.0, 1.0), (60, 120, 6.0, None), (120, 180, 6.0, 2.0)], None,
        PricedStatus.PARTIAL,
        id="a-gap-in-the-prices",
    ),
    pytest.param(
        [(0, 1000), (60, 1000)], SEK, [],
        [], 0.0, PricedStatus.PRICED,
        id="no-energy-costs-nothing",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("readings", "tariff", "prices", "periods", "cost", "status"), COST_TABLE)
def test_cost(
    readings: list[tuple[float, float]],
    tariff: Tariff,
    prices: list[Period],
    periods: list[tuple[float, float, float, float | None]],
    cost: float | None,
    status: PricedStatus,
) -> None:
    """Energy per price period and its cost, rounded to the currency's minor unit at the end."""
    record = charge(readings, tariff=tariff, prices=prices)
    assert shape(record) == periods
    assert record.cost == cost
    assert record.priced is status
    assert record.energy_kwh == pytest.approx(sum(kwh for _, _, kwh, _ in periods))
    if cost is not None:
        assert record.priced_cost == cost


def test_partly_priced_session_keeps_what_it_knows() -> None:
    """No cost is invented: the priced part and the kWh without a price are both shown."""
    record = charge(steady(120, 6), prices=grid(60, 1.5))
    assert (record.cost, record.priced) == (None, PricedStatus.PARTIAL)
    assert (record.priced_cost, record.unpriced_kwh) == (9.0, 6.0)


def test_glitch_at_the_stop() -> None:
    """A stop meter value of 0 (a glitch) does not undo the session's energy."""
    record = charge([(0, 5000), (60, 11000)], prices=grid(120, 1.0), stop=(61, 0))
    assert (record.energy_kwh, record.cost, record.meter_stop_wh) == (6.0, 6.0, 0.0)


@pytest.mark.parametrize("seed", range(6))
def test_readings_in_any_order(seed: int) -> None:
    """Queued readings arrive late and out of order: the result is the same."""
    readings = [(float(m), 1000.0 + m * m) for m in range(0, 61, 5)]  # rising power, 13 readings
    shuffled = readings[1:]
    random.Random(seed).shuffle(shuffled)
    prices = grid(15, 1.0, 2.0, 3.0, 4.0)
    assert shape(charge([readings[0], *shuffled], prices=prices)) == shape(
        charge(readings, prices=prices)
    )


def test_many_readings_fold_into_the_same_periods() -> None:
    """A long session keeps few raw readings; its energy per period is still exact."""
    readings = steady(240, 6, every=1)  # 241 readings
    assert len(readings) > 10 * TAIL
    record = charge(readings, prices=grid(15, *range(16)))
    assert shape(record) == [(15 * q, 15 * q + 15, 1.5, q) for q in range(16)]
    assert record.cost == 1.5 * sum(range(16))


@pytest.mark.parametrize("seed", range(4))
def test_the_running_total_agrees_with_the_periods(seed: int) -> None:
    """While a session runs its cost is a running total; it matches the periods' sum."""
    rng = random.Random(seed)
    ledger = Ledger()
    record = ledger.start_session(
        "c1", 1, 1, at(0), Tariff("SEK", surcharge=0.3), meter_start_wh=0,
        prices=grid(15, *(rng.uniform(-1, 3) for _ in range(12))),
    )  # fmt: skip
    minute, wh = 0.0, 0.0
    for step in range(150):
        minute += rng.uniform(0.1, 2.5)
        wh += rng.uniform(0, 300)
        when, value = minute, wh
        if rng.random() < 0.1:
            when -= rng.uniform(0, 10)  # a queued reading, late
        if rng.random() < 0.05:
            value = 0  # a glitch
        ledger.add_readings("c1", 1, [(at(when), value)], now=FAR)
        if step == 80:  # prices for the rest arrive
            ledger.note_prices(grid(15, *(rng.uniform(-1, 3) for _ in range(12)), first=180))
        if rng.random() < 0.3 or step == 149:
            cost = sum(p.kwh * p.price for p in record.periods if p.price is not None)
            unpriced = sum(p.kwh for p in record.periods if p.price is None)
            assert record.priced_cost == pytest.approx(round(cost, 2), abs=0.011)
            assert record.unpriced_kwh == pytest.approx(unpriced, abs=0.001)
            assert record.energy_kwh == pytest.approx(sum(p.kwh for p in record.periods), abs=1e-3)


def test_a_long_session_read_rarely() -> None:
    """Thousands of readings between two looks at the cost: it is recomputed, still right."""
    ledger = Ledger()
    record = ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0, prices=grid(60, 1, 2))
    assert record.cost == 0.0
    ledger.add_readings("c1", 1, timed(steady(120, 6, every=0.04)[1:]), now=FAR)  # 3000
    assert (record.cost, record.energy_kwh) == (18.0, 12.0)


def test_glitches_among_many_readings() -> None:
    readings = steady(120, 6, every=1)
    glitched = [(m, 0.0 if m % 7 == 3 else wh) for m, wh in readings]
    assert shape(charge(glitched, prices=grid(60, 1, 2))) == [(0, 60, 6.0, 1), (60, 120, 6.0, 2)]


def test_queued_readings_refine_a_gap() -> None:
    """After an offline gap, queued readings put the gap's energy in the right hours."""
    ledger = Ledger()
    ledger.start_session("c1", 1, 7, at(0), SEK, meter_start_wh=0, prices=grid(60, 1.0, 2.0))
    ledger.add_readings("c1", 7, [(at(120), 7000)], now=at(120))  # live, after reconnecting
    record = ledger.get("c1", 7)
    assert record is not None
    assert record.cost == 3.5 * 1 + 3.5 * 2
    ledger.add_readings("c1", 7, [(at(30), 500), (at(60), 1000), (at(90), 4000)], now=at(121))
    assert record.cost == 1.0 * 1 + 6.0 * 2


def test_too_late_to_place() -> None:
    """A reading older than what has been folded is ignored (its energy is counted anyway)."""
    ledger = Ledger()
    ledger.start_session("c1", 1, 7, at(0), SEK, meter_start_wh=0)
    ledger.add_readings("c1", 7, timed(steady(60, 6, every=1)[1:]), now=FAR)
    assert ledger.add_readings("c1", 7, [(at(0.5), 10)], now=FAR) is None
    record = ledger.get("c1", 7)
    assert record is not None and record.energy_kwh == 6.0


@pytest.mark.parametrize(
    ("when", "wh"),
    [
        (at(30), math.nan),
        (at(30), math.inf),
        (at(30), -1.0),
        (at(30), 2e12),
        (at(30), 10**400),  # too large for a float
        (at(30), True),
        (at(30), "3000"),
        (at(30), None),
        (at(30).replace(tzinfo=None), 3000.0),  # naive: never guessed
        (at(-1), 3000.0),  # before the start
        (at(60 + 11), 3000.0),  # later than now + 10 minutes: a wrong clock
        (at(20), 1000.0),  # the same reading again
        ("2026-03-02T10:30:00Z", 3000.0),  # not parsed: not a time
        (1772447400, 3000.0),
    ],
)
def test_bad_readings_change_nothing(when: datetime, wh: Any) -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0)
    ledger.add_readings("c1", 1, [(at(20), 1000.0)], now=at(60))
    assert ledger.add_readings("c1", 1, [(when, wh)], now=at(60)) is None
    record = ledger.get("c1", 1)
    assert record is not None and record.energy_kwh == 1.0


def test_a_later_higher_reading_at_the_same_time_wins() -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0)
    ledger.add_readings("c1", 1, [(at(20), 1000.0)], now=at(60))
    assert ledger.add_readings("c1", 1, [(at(20), 1500.0)], now=at(60)) is not None


def test_running_session_cost_grows_as_readings_arrive() -> None:
    ledger = Ledger()
    record = ledger.start_session(
        "c1", 1, 1, at(0), SEK, meter_start_wh=0, prices=grid(60, 1.0, 2.0)
    )
    assert (record.running, record.energy_kwh, record.cost) == (True, 0.0, 0.0)
    costs = []
    for minutes, wh in steady(120, 6, every=30)[1:]:
        assert ledger.add_readings("c1", 1, [(at(minutes), wh)], now=at(minutes)) is record
        costs.append(record.cost)
    assert costs == [3.0, 6.0, 12.0, 18.0]


def test_prices_that_arrive_after_the_energy_still_price_it() -> None:
    """A price source that loads after us (HA restart) prices the energy already charged."""
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0)
    ledger.start_session("c1", 2, 2, at(0), Tariff("SEK", fixed_price=1.0), meter_start_wh=0)
    for tx in (1, 2):
        ledger.add_readings("c1", tx, timed(steady(60, 6)[1:]), now=at(60))
    sourced, fixed = ledger.get("c1", 1), ledger.get("c1", 2)
    assert sourced is not None and fixed is not None
    assert sourced.priced is PricedStatus.UNPRICED
    assert ledger.note_prices([TuplePeriod(at(0), at(60), 2.0)]) == [sourced]
    assert (sourced.cost, fixed.cost) == (12.0, 6.0)
    ended = ledger.end_session("c1", 1, at(60))
    assert ended is not None and ended.cost == 12.0
    assert ledger.note_prices(grid(60, 9.0)) == []  # neither the ended nor the fixed one


@pytest.mark.parametrize(
    "bad",
    [
        Period(at(0), at(60), math.nan),
        Period(at(60), at(0), 1.0),
        Period(at(0), at(0), 1.0),
        Period(at(0).replace(tzinfo=None), at(60).replace(tzinfo=None), 1.0),
        Period(at(0), at(0) + timedelta(days=40), 1.0),
        TuplePeriod(at(0), at(60), "1.0"),  # type: ignore[arg-type]
        TuplePeriod("10:00", at(60), 1.0),  # type: ignore[arg-type]
        TuplePeriod(at(0), at(60), 10**400),
    ],
)
def test_bad_prices_are_ignored(bad: PriceLike) -> None:
    record = charge(steady(60, 6), prices=[bad])
    assert (record.cost, record.priced) == (None, PricedStatus.UNPRICED)


def test_of_overlapping_periods_in_one_table_the_first_is_kept() -> None:
    prices = [Period(at(0), at(60), 1.0), Period(at(30), at(90), 9.0), *grid(30, 2.0, first=60)]
    assert shape(charge(steady(90, 6), prices=prices)) == [(0, 60, 6.0, 1.0), (60, 90, 3.0, 2.0)]


def test_newer_prices_replace_older_ones_where_they_overlap() -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0, prices=grid(60, 1.0, 1.0))
    ledger.note_prices(grid(15, 4.0, 4.0, first=30))  # 10:30-11:00 revised
    ledger.add_readings("c1", 1, timed(steady(120, 6)[1:]), now=FAR)
    record = ledger.end_session("c1", 1, at(120))
    assert record is not None
    assert shape(record) == [
        (0, 30, 3.0, 1.0),
        (30, 45, 1.5, 4.0),
        (45, 60, 1.5, 4.0),
        (60, 120, 6.0, 1.0),
    ]


def test_offline_queued_stop_updates_the_right_record() -> None:
    """A charger offline during a session delivers its readings and the stop later."""
    ledger = Ledger()
    ledger.start_session("c1", 1, 41, at(0), SEK, meter_start_wh=100_000, prices=grid(60, 1, 2))
    ledger.start_session("c2", 1, 41, at(0), SEK, meter_start_wh=0)  # same id, other charger
    ledger.add_readings("c1", 41, [(at(15), 101_500)], now=at(15))
    # offline from 10:15; after reconnecting, the other connector starts a session first
    ledger.start_session("c1", 2, 42, at(100), SEK, meter_start_wh=5_000)
    queued = [(at(30), 103_000), (at(45), 104_500), (at(60), 106_000)]
    record = ledger.end_session(
        "c1", 41, at(90), meter_stop_wh=109_000, stop_reason="EVDisconnected", readings=queued
    )
    assert record is not None and record.key == ("c1", "41")
    assert (record.start, record.end, record.stop_reason) == (at(0), at(90), "EVDisconnected")
    assert (record.energy_kwh, record.meter_stop_wh) == (9.0, 109_000)
    assert record.cost == 6.0 * 1 + 3.0 * 2
    assert [r.running for r in ledger] == [False, True, True]
    # a repeated stop and late readings change nothing: the first stop wins
    again = ledger.end_session("c1", 41, at(200), meter_stop_wh=200_000, stop_reason="Other")
    assert again is record and (record.end, record.energy_kwh) == (at(90), 9.0)
    assert ledger.add_readings("c1", 41, [(at(95), 120_000)], now=at(200)) is None
    assert ledger.end_session("c1", 99, at(90)) is None


def test_readings_after_the_stop_time_are_not_the_sessions() -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0)
    ledger.add_readings("c1", 1, [(at(30), 3000), (at(60), 6000)], now=at(60))
    record = ledger.end_session("c1", 1, at(30))  # the stop, queued, says 10:30
    assert record is not None and record.energy_kwh == 3.0


def test_a_stop_stamped_before_the_start_ends_at_the_start() -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(10), SEK, meter_start_wh=0)
    record = ledger.end_session("c1", 1, at(5), meter_stop_wh=0)
    assert record is not None and record.end == at(10)


def test_keys_repeated_start_and_reused_transaction_id() -> None:
    ledger = Ledger()
    first = ledger.start_session("c1", 1, 5, at(0), SEK)
    assert ledger.start_session("c1", 1, "5", at(3), SEK) is first  # a retried start
    ledger.end_session("c1", 5, at(30))
    reused = ledger.start_session("c1", 1, 5, at(60), SEK)  # the charger reuses the id
    assert reused is not first and ledger.get("c1", 5) is reused
    assert ledger.latest("c1", 1) is reused and ledger.latest("c1", 2) is None
    assert len(ledger.sessions(at(0), at(120))) == 2


def test_naive_times_are_refused() -> None:
    ledger = Ledger()
    naive = at(0).replace(tzinfo=None)
    with pytest.raises(ValueError):
        ledger.start_session("c1", 1, 1, naive, SEK)
    ledger.start_session("c1", 1, 1, at(0), SEK)
    with pytest.raises(ValueError):
        ledger.end_session("c1", 1, naive)
    with pytest.raises(ValueError):
        ledger.sessions(naive, at(60))
    with pytest.raises(ValueError):
        ledger.prune(naive)
    with pytest.raises(ValueError):
        Tariff("SEK", fixed_price=math.nan)


def _day(
    ledger: Ledger,
    day: float,
    tx: int,
    *,
    charger: str = "c1",
    connector: int = 1,
    tariff: Tariff = SEK,
    **who: str,
) -> SessionRecord:
    """A session of 5 kWh in the hour from 10:00 on day `day`, priced at 2.0."""
    start = T0 + timedelta(days=day)
    end = start + timedelta(hours=1)
    ledger.start_session(
        charger, connector, tx, start, tariff, meter_start_wh=0,
        prices=[Period(start - timedelta(hours=1), end + timedelta(hours=1), 2.0)], **who,
    )  # fmt: skip
    ledger.add_readings(charger, tx, [(end, 5000)], now=end)
    record = ledger.end_session(charger, tx, end)
    assert record is not None
    return record


def test_retention_by_count_drops_the_oldest() -> None:
    ledger = Ledger(max_count=3)
    records = [_day(ledger, day, tx=day) for day in (4, 0, 3, 1, 2)]  # queued starts: any order
    assert [r.transaction_id for r in ledger] == [2, 3, 4]
    assert ledger.get("c1", 0) is None and ledger.get("c1", 4) is records[0]
    assert ledger.latest("c1", 1) is records[0]


def test_retention_drops_a_forgotten_running_session_too() -> None:
    ledger = Ledger(max_count=2)
    stale = ledger.start_session("c1", 1, 1, at(0), SEK)  # its stop never came
    _day(ledger, 1, tx=2)
    _day(ledger, 2, tx=3)
    assert stale not in list(ledger) and ledger.get("c1", 1) is None
    assert ledger.add_readings("c1", 1, [(at(10), 5.0)], now=FAR) is None
    assert ledger.end_session("c1", 1, at(20)) is None


def test_retention_by_age() -> None:
    ledger = Ledger(max_age=timedelta(days=30))
    for day in (0, 20, 40):
        _day(ledger, day, tx=day)
    assert ledger.prune(T0 + timedelta(days=55)) == 2
    assert [r.transaction_id for r in ledger] == [40]
    assert ledger.prune(T0 + timedelta(days=55)) == 0
    assert ledger.prune(T0 + timedelta(days=80)) == 1
    assert ledger.latest("c1", 1) is None and len(ledger) == 0


def test_retention_defaults_and_bounds_at_load() -> None:
    assert (timedelta(days=1096), 10_000) == (DEFAULT_MAX_AGE, DEFAULT_MAX_COUNT)
    ledger = Ledger()
    for day in range(6):
        _day(ledger, day * 10, tx=day)
    data = json.loads(json.dumps(ledger.as_dict()))
    loaded = Ledger.from_dict(
        data, now=T0 + timedelta(days=45), max_age=timedelta(days=30), max_count=2
    )
    assert [r.transaction_id for r in loaded] == [4, 5]
    assert len(Ledger.from_dict(data, now=T0 + timedelta(days=60))) == 6


def test_sessions_count_by_start_and_filter() -> None:
    ledger = Ledger()
    before = _day(ledger, -1 / 48, tx=1)  # from 09:30 to 10:30: overlaps, starts before
    first = _day(ledger, 0, tx=2, id_tag="A")
    other = _day(ledger, 1, tx=3, charger="c2", id_tag="A")
    second_connector = _day(ledger, 2, tx=4, connector=2, id_tag="B")
    _day(ledger, 3, tx=5)  # starts exactly at the window's end: not in it
    window = (T0, T0 + timedelta(days=3))
    assert ledger.sessions(*window) == [first, other, second_connector]
    assert before not in ledger.sessions(*window)
    assert ledger.sessions(*window, charger_ids=["c1"]) == [first, second_connector]
    assert ledger.sessions(*window, charger_ids={"c1"}, connector_id=2) == [second_connector]
    assert ledger.sessions(*window, id_tag="A") == [first, other]
    assert ledger.sessions(*window, charger_ids=[]) == []
    assert ledger.sessions(window[1], window[0]) == []


def test_totals_per_id_tag_per_user_and_overall() -> None:
    ledger = Ledger()
    _day(ledger, 0, tx=1, id_tag="A", id_tag_name="Old name")
    _day(ledger, 1, tx=2, id_tag="A", id_tag_name="Anna's card")
    _day(ledger, 2, tx=3, id_tag="HA", user_id="u1", user_name="Anna")
    _day(ledger, 3, tx=4)  # no id tag, no user: counted overall only
    result = totals(ledger.sessions(T0, FAR))
    assert result.as_dict() == {
        "overall": {
            "count": 4, "energy_kwh": 20.0, "cost": 40.0, "currency": "SEK",
            "unpriced_kwh": 0.0, "cost_by_currency": {"SEK": 40.0},
        },
        "id_tags": {
            "A": {
                "name": "Anna's card", "count": 2, "energy_kwh": 10.0, "cost": 20.0,
                "currency": "SEK", "unpriced_kwh": 0.0, "cost_by_currency": {"SEK": 20.0},
            },
            "HA": {
                "name": None, "count": 1, "energy_kwh": 5.0, "cost": 10.0,
                "currency": "SEK", "unpriced_kwh": 0.0, "cost_by_currency": {"SEK": 10.0},
            },
        },
        "users": {
            "u1": {
                "name": "Anna", "count": 1, "energy_kwh": 5.0, "cost": 10.0,
                "currency": "SEK", "unpriced_kwh": 0.0, "cost_by_currency": {"SEK": 10.0},
            },
        },
    }  # fmt: skip


def test_totals_never_add_currencies_or_invent_a_cost() -> None:
    ledger = Ledger()
    _day(ledger, 0, tx=1)
    _day(ledger, 1, tx=2, tariff=Tariff("EUR"))
    mixed = totals(ledger).overall
    assert (mixed.cost, mixed.currency) == (None, None)
    assert mixed.cost_by_currency == {"SEK": 10.0, "EUR": 10.0}
    partial = totals([charge(steady(120, 6), prices=grid(60, 1.5)), *ledger.sessions(T0, at(60))])
    overall = partial.overall
    assert (overall.cost, overall.currency, overall.unpriced_kwh) == (None, "SEK", 6.0)
    assert overall.cost_by_currency == {"SEK": 19.0} and overall.energy_kwh == 17.0
    empty = totals([]).overall
    assert (empty.count, empty.cost, empty.currency, empty.energy_kwh) == (0, 0.0, None, 0.0)


def test_totals_count_a_running_session_so_far() -> None:
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0, prices=grid(60, 1.0))
    ledger.add_readings("c1", 1, [(at(30), 3000)], now=at(30))
    assert totals(ledger).overall.as_dict(with_name=False)["energy_kwh"] == 3.0


def _roundtrip(ledger: Ledger, now: datetime = FAR) -> Ledger:
    return Ledger.from_dict(json.loads(json.dumps(ledger.as_dict())), now=now)


def test_storage_round_trip() -> None:
    ledger = Ledger()
    _day(ledger, 0, tx=1, id_tag="A", id_tag_name="Anna", user_id="u1", user_name="Anna")
    ledger.start_session("c1", 1, "tx-2", at(60 * 24 * 2), SEK)
    ledger.start_session("c2", 1, 3, at(0), SEK, meter_start_wh=0, prices=grid(60, 1.5))
    ledger.add_readings("c2", 3, timed(steady(120, 6)[1:]), now=FAR)
    ledger.end_session("c2", 3, at(120))  # partly priced
    loaded = _roundtrip(ledger)
    assert [r.as_dict() for r in loaded] == [r.as_dict() for r in ledger]
    assert [shape(r) for r in loaded] == [shape(r) for r in ledger]
    assert [(r.cost, r.priced_cost, r.unpriced_kwh, r.priced) for r in loaded] == [
        (r.cost, r.priced_cost, r.unpriced_kwh, r.priced) for r in ledger
    ]
    assert loaded.get("c1", "tx-2") is not None and loaded.skipped == 0


def test_a_session_running_across_a_restart() -> None:
    """Stored mid-session and loaded again, it ends exactly as if nothing had happened."""
    readings = [(at(m), 1000 + m * m) for m in range(0, 181, 3)]
    prices = grid(15, *(q % 5 - 1.0 for q in range(12)))
    results = []
    for restart_after in (None, 2, 30):
        ledger = Ledger()
        ledger.start_session("c1", 1, 1, readings[0][0], SEK, meter_start_wh=1000, prices=prices)
        for i, reading in enumerate(readings[1:], 1):
            if i == restart_after:
                ledger = _roundtrip(ledger, now=reading[0])
            ledger.add_readings("c1", 1, [reading], now=reading[0])
        record = ledger.end_session("c1", 1, readings[-1][0])
        assert record is not None
        results.append((shape(record), record.cost, record.energy_kwh))
    assert results[0] == results[1] == results[2]


def test_migrate_version_1() -> None:
    """Version 1: the sessions the central system's store kept before there was a ledger."""
    v1 = {
        "sessions": [
            {
                "charger_id": "c1", "transaction_id": 3, "connector_id": 1, "id_tag": "A",
                "start": "2026-03-01T10:00:00+00:00", "meter_start_wh": 1000.0,
                "meter_last_wh": 13400.0, "stop": "2026-03-01T12:00:00+00:00", "reason": "Local",
            },
            {
                "charger_id": "c1", "transaction_id": 4, "connector_id": 1, "id_tag": None,
                "start": "2026-03-02T09:00:00+00:00", "meter_start_wh": 13400.0,
                "meter_last_wh": 14000.0, "stop": None, "reason": None,
            },
            {"charger_id": "c1", "transaction_id": 5},  # broken: skipped at load
            {"charger_id": "c1", "transaction_id": 6, "start": "?", "stop": "?", "connector_id": 1},
            "garbage",
        ]
    }  # fmt: skip
    ledger = Ledger.from_dict(migrate(1, v1), now=T0)
    assert ledger.skipped == 2
    ended, running = list(ledger)
    assert (ended.energy_kwh, ended.cost, ended.priced) == (12.4, None, PricedStatus.UNPRICED)
    assert (ended.stop_reason, ended.meter_stop_wh, ended.currency) == ("Local", 13400.0, "")
    assert [(p.start, p.end, p.kwh, p.price) for p in ended.periods] == [
        (T0 - timedelta(hours=24), T0 - timedelta(hours=22), 12.4, None)
    ]
    assert running.running and ledger.get("c1", 4) is running
    ledger.add_readings(
        "c1", 4, [(T0 + timedelta(minutes=30), 15_400)], now=T0 + timedelta(hours=1)
    )
    assert running.energy_kwh == 2.0
    # unpriced, currency-less sessions don't make a total's currencies "mixed"
    _day(ledger, 1, tx=9)
    assert totals(ledger).overall.cost_by_currency == {"SEK": 10.0}


def test_migrate_other_versions() -> None:
    data: dict[str, Any] = {"sessions": []}
    assert migrate(LEDGER_VERSION, data) == data
    assert migrate(1, {"sessions": "nonsense"}) == {"sessions": []}
    with pytest.raises(ValueError):
        migrate(LEDGER_VERSION + 1, data)


def _stored_sessions() -> list[dict[str, Any]]:
    ledger = Ledger()
    _day(ledger, 0, tx=1, id_tag="A")
    ledger.start_session("c1", 1, 2, at(60 * 24 * 2), SEK, meter_start_wh=10)
    result: list[dict[str, Any]] = json.loads(json.dumps(ledger.as_dict()))["sessions"]
    return result


BROKEN = [
    ("ended", lambda d: d.pop("start")),
    ("ended", lambda d: d.update(start="2026-03-02T10:00:00")),  # naive
    ("ended", lambda d: d.update(start="yesterday")),
    ("ended", lambda d: d.update(charger_id="")),
    ("ended", lambda d: d.update(connector_id="1")),
    ("ended", lambda d: d.update(transaction_id=[1])),
    ("ended", lambda d: d.update(connector_id=True)),
    ("ended", lambda d: d.update(meter_start_wh=10**400)),
    ("ended", lambda d: d.update(energy_kwh=math.nan)),
    ("ended", lambda d: d.update(cost="12")),
    ("ended", lambda d: d.update(priced="maybe")),
    ("ended", lambda d: d.update(periods={})),
    ("ended", lambda d: d.update(id_tag=5)),
    ("running", lambda d: d.pop("running")),
    ("running", lambda d: d["running"].update(surcharge=None)),
    ("running", lambda d: d["running"]["energy"].update(tail=[[2, 1], [1, 1]])),
    ("running", lambda d: d["running"]["energy"].update(folded_wh=math.inf)),
    ("running", lambda d: d["running"].update(prices=[[0, 10, 1], [5, 20, 1]])),
    ("running", lambda d: d["running"].update(prices=[[0, 10, "x"]])),
]


@pytest.mark.parametrize(("which", "damage"), BROKEN)
def test_a_broken_stored_record_is_skipped(which: str, damage: Any) -> None:
    sessions = _stored_sessions()
    damage(sessions[0 if which == "ended" else 1])
    ledger = Ledger.from_dict({"sessions": sessions}, now=FAR)
    assert (len(ledger), ledger.skipped) == (1, 1)


def test_broken_stored_periods_are_left_out() -> None:
    sessions = _stored_sessions()
    good = sessions[0]["periods"][0]
    sessions[0]["periods"] = [good, [0, -5, 1.0, 2.0], ["x", 1, 1, 1], [0, 1e300, 1, 1], [1]]
    (record, _) = Ledger.from_dict({"sessions": sessions}, now=FAR)
    assert len(record.periods) == 1 and record.cost == 10.0


def test_times_keep_their_offset() -> None:
    """A session stored with a local offset comes back as the same instant."""
    local = timezone(timedelta(hours=2))
    ledger = Ledger()
    ledger.start_session("c1", 1, 1, T0.astimezone(local), SEK, meter_start_wh=0)
    ledger.end_session("c1", 1, at(60).astimezone(local), meter_stop_wh=1000)
    (record,) = _roundtrip(ledger)
    assert record.start == T0 and record.start.utcoffset() == timedelta(hours=2)


def test_bench_load_reports_its_figures() -> None:
    """scripts/bench calls bench_load(10_000); a small one here keeps it working."""
    figures = bench_load(12)
    assert figures["sessions"] == 12 and figures["json_bytes"] > 12 * 300
    assert {"json_decode_s", "from_dict_s"} <= set(figures)


def test_price_periods_of_any_shape_fit() -> None:
    """Both a dataclass and a NamedTuple with start, end and price are PriceLike."""
    shapes: list[PriceLike] = [Period(at(0), at(30), 1.0), TuplePeriod(at(30), at(60), 3.0)]
    assert charge(steady(60, 6), prices=shapes).cost == 12.0


def test_permutations_of_a_few_readings() -> None:
    readings = [(at(m), wh) for m, wh in [(10, 500), (20, 900), (40, 2500), (50, 2600)]]
    results = set()
    for order in itertools.permutations(readings):
        ledger = Ledger()
        ledger.start_session("c1", 1, 1, at(0), SEK, meter_start_wh=0, prices=grid(30, 1, 2))
        ledger.add_readings("c1", 1, order, now=FAR)
        record = ledger.end_session("c1", 1, at(60))
        assert record is not None
        results.add(tuple(shape(record)))
    assert results == {((0, 30, 1.7, 1), (30, 60, 0.9, 2))}
