"""Smart charging benchmark: ten chargers on one main fuse, a grid meter stepping into overload.

    scripts/bench --smart [--quick]

A real Home Assistant runs ocpp_central with smart charging set up (a 125 A main fuse, one
grid current sensor per phase, every connector in the default `manual` mode: the fuse is
protected in every mode). The bench probe integration plays the grid meter: this process
posts the meter's readings to it, and it sets the sensor states inside Home Assistant and
answers the wall-clock time it did so. Ten simulated OCPP 1.6 chargers (the simulator's,
which follow the charging profiles they get) charge cars that take 16 A on three phases.
This process also keeps the physics: the grid current per phase is the house plus what the
ten cars draw now, sampled every 10 ms.

1. Steady state: the house draws 25 A per phase with a little noise, so the chargers sit on
   the edge of a whole ampere (100 A for ten cars, 10 A each): the worst case for the number
   of profiles. Profiles per charger per hour are counted.
2. Overloads: the house steps up by 30 A per phase (an oven and a heat pump), stays there
   for 20 s and steps back; then the room must last before the limits go up again. Each
   charger's reaction is the time from the sensor's state change in Home Assistant to the
   SetChargingProfile frame arriving at the charger (wall clocks of one machine).
3. The grid current is checked against the fuse all along: how long it stayed above it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import random
import shutil
import tempfile
import time
from typing import Any

from .base import Options, Outlet
from .bench import REPO, machine, percentile, start_ha
from .charger16 import Charger16, Link16
from .ev import Car, Meter

FUSE = 125.0  # A per phase
HOUSE = 25.0  # A per phase: ten cars then get exactly 10 A each
OVERLOAD = 30.0  # A per phase more: an oven and a heat pump
CHARGERS = 10
METER_PERIOD = 1.0  # s: a P1 / HAN reader reports every second
NOISE = 1.5  # A: how far the house wanders from its draw
# Above the fuse by more than this counts. The simulated cars draw their limit ± a little
# (up to 0.3 A above it), which at the edge of an ampere passes the fuse by a fraction of an
# ampere; a fuse carries that indefinitely (gG fuses are rated to carry 1.13 × for an hour).
TOLERANCE = 0.5  # A
REACTION_BUDGET_MS = 1000  # the meter's state change → the reducing profile at the charger
SENSORS = [f"sensor.bench_grid_l{n}" for n in (1, 2, 3)]
BEGIN = "<!-- bench-smart:begin -->"
END = "<!-- bench-smart:end -->"


class TimedLink(Link16):
    """Notes when each SetChargingProfile frame arrives, before anything handles it."""

    async def route_message(self, raw_msg: str) -> None:
        """Time the frame, then handle it as the simulator does."""
        if '"SetChargingProfile"' in raw_msg:
            with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                msg = json.loads(raw_msg)
                schedule = msg[3]["csChargingProfiles"]["chargingSchedule"]
                limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
                self.sim.received.append((time.time(), limit))  # type: ignore[attr-defined]
        await super().route_message(raw_msg)


@dataclass(slots=True)
class WatchedMeter(Meter):
    """A meter that says when the current it measures changes (the physics checks the fuse
    at that very moment, not on a sampling tick)."""

    on_change: Any = None

    def charge(self, car: Car, limit: float, seconds: float) -> None:
        """Charge, then tell."""
        Meter.charge(self, car, limit, seconds)
        if self.on_change is not None:
            self.on_change()


class BenchCharger(Charger16):
    """A simulated charger whose car always wants 16 A on three phases, all day."""

    link_class = TimedLink

    def __init__(self, options: Options, charger_id: str) -> None:
        """Record the profiles it gets: (arrival wall time, limit A)."""
        super().__init__(options, charger_id)
        self.received: list[tuple[float, float]] = []
        for outlet in self.outlets.values():
            old = outlet.meter
            outlet.meter = WatchedMeter(old.rng, energy_wh=old.energy_wh)

    def limit_at(self, when: float) -> float | None:
        """The last limit it got before `when`."""
        return next((limit for t, limit in reversed(self.received) if t < when), None)

    def plug_in(self, outlet: Outlet) -> tuple[bool, str]:
        """The same big car every time: its draw never tapers during the run."""
        remote, tag = super().plug_in(outlet)
        outlet.car = Car(capacity_kwh=1000.0, soc=30.0, target_soc=100.0, max_current=16.0)
        return remote, tag

    def draw(self) -> list[float]:
        """What its car draws now, per phase."""
        return [sum(o.meter.current[p] for o in self.outlets.values()) for p in range(3)]


@dataclass
class Site:
    """The physics: the house, the cars, the grid meter, and every moment above the fuse."""

    chargers: list[BenchCharger]
    url: str
    house: float = HOUSE
    noise: float = 0.0
    noisy: bool = False
    above_since: float | None = None
    errors: int = 0
    exceeded: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    # (when Home Assistant set the states, the highest phase current in them)
    posts: list[tuple[float, float]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(14))

    def __post_init__(self) -> None:
        """The physics hears of every change of a car's current."""
        for charger in self.chargers:
            for outlet in charger.outlets.values():
                outlet.meter.on_change = self.check  # type: ignore[attr-defined]

    def set_house(self, amps: float) -> None:
        """The house switches something on or off."""
        self.house = amps
        self.check()

    def grid(self) -> list[float]:
        """The grid current per phase now."""
        house = self.house + self.noise
        cars = [c.draw() for c in self.chargers]
        return [house + sum(car[p] for car in cars) for p in range(3)]

    async def post(self, session: Any) -> float:
        """The meter reports; returns when Home Assistant set the states (wall clock)."""
        grid = self.grid()
        states = {
            entity_id: [f"{amps:.2f}", {"unit_of_measurement": "A", "device_class": "current"}]
            for entity_id, amps in zip(SENSORS, grid, strict=True)
        }
        async with session.post(
            f"{self.url}/api/ocpp_bench_probe/states", json={"states": states}
        ) as r:
            when = float((await r.json())["t"])
        self.posts.append((when, max(grid)))
        return when

    def after_shown(self, start: float, seconds: float) -> float:
        """How long a stay above the fuse lasted after the meter first showed it (0 when it
        ended before the meter reported it: the meter's own delay is not the central
        system's)."""
        end = start + seconds
        shown = next(
            (t for t, amps in self.posts if start <= t <= end and amps > FUSE + TOLERANCE),
            None,
        )
        return 0.0 if shown is None else end - shown

    async def meter(self, session: Any) -> None:
        """Report once a second (with the house's noise when it is on)."""
        while True:
            if self.noisy:
                self.noise = max(-NOISE, min(NOISE, self.noise + self.rng.gauss(0.0, 0.3)))
                self.check()
            try:
                await self.post(session)
            except Exception as err:  # a lost reading is what meters do too
                self.errors += 1
                logging.getLogger(__name__).warning("meter post failed: %r", err)
            await asyncio.sleep(METER_PERIOD)

    def check(self) -> None:
        """Whenever a current changes: is the grid above the fuse, and since when."""
        now = time.time()
        if max(self.grid()) > FUSE + TOLERANCE:
            if self.above_since is None:
                self.above_since = now
        elif self.above_since is not None:
            self.exceeded.append((self.above_since, now - self.above_since))
            self.above_since = None


def profiles_between(chargers: list[BenchCharger], start: float, end: float) -> int:
    """Profiles all chargers got in a window."""
    return sum(1 for c in chargers for t, _ in c.received if start <= t < end)


async def client(http_port: int, ocpp_port: int, plan: argparse.Namespace) -> dict[str, Any]:
    """Run the scenario against a running Home Assistant; return the measurements."""
    import aiohttp

    logging.getLogger("simulator").setLevel(logging.WARNING)
    options = Options(
        url=f"ws://127.0.0.1:{ocpp_port}", interval=10, session=1e7, idle=1.0, max_current=16.0
    )
    chargers = [BenchCharger(options, f"SMART{n:02d}") for n in range(1, CHARGERS + 1)]
    site = Site(chargers, f"http://127.0.0.1:{http_port}")
    tasks: list[asyncio.Task[Any]] = []
    async with aiohttp.ClientSession() as session:
        await site.post(session)
        tasks.append(asyncio.create_task(site.meter(session)))
        tasks += [asyncio.create_task(c.run()) for c in chargers]
        try:
            for _ in range(240):
                if all(o.in_session for c in chargers for o in c.outlets.values()):
                    break
                await asyncio.sleep(0.5)
            else:
                raise RuntimeError("the chargers did not all start a session")
            await asyncio.sleep(plan.warmup)

            site.noisy = True
            steady_start = time.time()
            await asyncio.sleep(plan.steady)
            steady_end = time.time()
            site.noisy, site.noise = False, 0.0
            steady_profiles = profiles_between(chargers, steady_start, steady_end)
            steady_exceeded = [d for t, d in site.exceeded if steady_start <= t < steady_end]
            await asyncio.sleep(40)  # the room the noise left has lasted: back to 10 A each

            reactions: list[float] = []
            steps: list[dict[str, Any]] = []
            for _ in range(plan.cycles):
                site.set_house(HOUSE + OVERLOAD)
                t_step = await site.post(session)
                await asyncio.sleep(20)
                before = [c.limit_at(t_step) for c in chargers]
                firsts = [
                    next((t for t, limit in c.received if t >= t_step and limit < (b or 99)), None)
                    for c, b in zip(chargers, before, strict=True)
                ]
                ms = [(t - t_step) * 1000 for t in firsts if t is not None]
                reactions += ms
                spells = [(t, d) for t, d in site.exceeded if t >= t_step - 0.5]
                above = [d for _, d in spells]
                shown = [site.after_shown(t, d) for t, d in spells]
                steps.append(
                    {
                        "limits_before": before,
                        "reacted": len(ms),
                        "slowest_ms": max(ms, default=float("nan")),
                        "above_fuse_ms": max(above, default=0.0) * 1000,
                        "above_fuse_shown_ms": max(shown, default=0.0) * 1000,
                        "spells": len(spells),
                    }
                )
                site.set_house(HOUSE)
                await site.post(session)
                await asyncio.sleep(45)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(c.close() for c in chargers), return_exceptions=True)
    return {
        "chargers": CHARGERS,
        "steady_s": steady_end - steady_start,
        "steady_profiles": steady_profiles,
        "profiles_per_charger_hour": steady_profiles
        / CHARGERS
        / ((steady_end - steady_start) / 3600),
        "steady_above_fuse_ms": [round(d * 1000, 1) for d in steady_exceeded],
        "reactions_ms": reactions,
        "steps": steps,
        "meter_errors": site.errors,
    }


def report(result: dict[str, Any], info: dict[str, str], label: str) -> str:
    """The markdown block for docs/performance.md."""
    reactions = result["reactions_ms"]
    steps = result["steps"]
    worst_above = max((s["above_fuse_ms"] for s in steps), default=0.0)
    worst_shown = max((s["above_fuse_shown_ms"] for s in steps), default=0.0)
    spells = sum(s["spells"] for s in steps)
    longer = sum(1 for s in steps if s["above_fuse_shown_ms"] > REACTION_BUDGET_MS)
    steady_above = result["steady_above_fuse_ms"]
    lines = [
        BEGIN,
        f"### Smart charging{': ' + label if label else ''}",
        "",
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d')} on {info['cpu']} ({info['cores']} cores),"
        f" Python {info['python']}; `scripts/bench --smart`. {result['chargers']} simulated 1.6"
        f" chargers on a {FUSE:.0f} A fuse, grid meter reporting every {METER_PERIOD:g} s.",
        "",
        "| what | result | budget |",
        "|---|---|---|",
        f"| reaction, sensor state change → SetChargingProfile at the charger, p50 "
        f"| {percentile(reactions, 50):.1f} ms | |",
        f"| reaction p99 ({len(reactions)} reductions in {len(steps)} overloads) "
        f"| {percentile(reactions, 99):.1f} ms | < 1000 ms |",
        f"| reaction max | {max(reactions, default=float('nan')):.1f} ms | |",
        f"| chargers reduced per overload | {min((s['reacted'] for s in steps), default=0)}"
        f"–{max((s['reacted'] for s in steps), default=0)} of {result['chargers']} | all |",
        f"| times above the fuse in the overloads (the step itself, and the cars' own "
        f"wander at the edge) | {spells} | |",
        f"| longest time above the fuse, from the moment it started | {worst_above:.0f} ms | |",
        f"| longest time above the fuse after the meter showed it | {worst_shown:.0f} ms "
        f"| one reaction (< {REACTION_BUDGET_MS} ms) |",
        f"| overloads with a longer one | {longer} | 0 |",
        f"| steady state (house at the edge of an ampere, {result['steady_s']:.0f} s): "
        f"profiles per charger per hour | {result['profiles_per_charger_hour']:.1f} | ≤ 360 |",
        f"| steady state: times more than {TOLERANCE:g} A above the fuse (longest) "
        f"| {len(steady_above)} ({max(steady_above, default=0.0):.0f} ms) | |",
        END,
    ]
    return "\n".join(lines)


def write_block(block: str, path: Path) -> None:
    """Replace the smart charging block in `path` (append it if there is none)."""
    text = path.read_text()
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Smart charging\n\n" + block + "\n"
    path.write_text(text)


def orchestrate_smart(args: argparse.Namespace) -> int:
    """Start Home Assistant with smart charging set up, run the scenario, report."""
    args.warmup, args.steady, args.cycles = (45, 120, 4) if args.quick else (60, 600, 12)
    info = machine()
    workdir = Path(tempfile.mkdtemp(prefix="ocpp-bench-smart-"))
    options = {
        "main_fuse": FUSE,
        "supply_phases": 3,
        "grid_current_sensors": SENSORS,
        "safe_current": 6.0,
    }
    try:
        server = start_ha(workdir, args.stalls, args.integration, options)
        time.sleep(5)  # HA keeps loading after the port is bound
        try:
            result = asyncio.run(client(server.http_port, server.port, args))
        finally:
            server.stop()
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    (workdir.parent / "ocpp-bench-smart.json").write_text(json.dumps(result))
    block = report(result, info, args.label)
    print(block)
    if not args.no_write:
        write_block(block, REPO / args.output)
        print(f"\nwritten to {args.output}")
    return 0
