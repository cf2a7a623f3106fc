"""What planned mode plans with: the next departure, the energy still needed, the power the
connector can get, the prices (with the surcharge) and how many slots its charger takes."""

from __future__ import annotations

from datetime import datetime, time, timedelta
import math
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..const import CONF_BATTERY_CAPACITY, CONF_PHASE
from ..core.model import Charger, Connector
from ..core.prices import PricePeriod, add_surcharge
from ..core.prices.values import read_number
from ..core.smart import MIN_CURRENT, SiteSettings, charger_phases
from ..core.smart.state import TARGET_ENERGY, TARGET_SOC
from .inputs import phase_setting, user_limit

if TYPE_CHECKING:
    from ..parts import CentralView

MAX_BATTERY_KWH = 500.0
# A plan may cost this share of the average price per kWh more than the cheapest one, to
# charge in fewer blocks (every start and stop is a chance for the car to fall asleep).
CONTIGUITY_SHARE = 0.02
# Configuration keys naming how many periods a charger's schedule holds (1.6, 2.0.1).
_MAX_PERIODS_KEYS = ("ChargingScheduleMaxPeriods", "PeriodsPerSchedule")


def next_departure(departure: time, now: datetime) -> datetime:
    """The next occurrence of the daily departure in Home Assistant's time zone (aware UTC);
    a departure at this very minute or earlier today is tomorrow's."""
    local = dt_util.as_local(now)
    zone = dt_util.get_default_time_zone()
    for days in (0, 1, 2):
        day = local.date() + timedelta(days=days)
        moment = datetime.combine(day, departure, tzinfo=zone)
        if moment > local:
            return dt_util.as_utc(moment)
    raise AssertionError("unreachable")  # pragma: no cover - tomorrow is always later


def delivered_kwh(conn: Connector, departure: datetime) -> float:
    """What the car got toward this departure: the running session, or one that ended
    within the day before it (a car unplugged and plugged in again keeps its progress)."""
    if (tx := conn.transaction) is not None:
        return tx.energy_kwh or 0.0
    last = conn.last_session
    if last is not None and last.stop is not None and last.stop > departure - timedelta(days=1):
        return last.energy_kwh or 0.0
    return 0.0


def soc_target_kwh(central: CentralView, charger: Charger, conn: Connector) -> float | None:
    """kWh to the SoC target, when the car reports its SoC in this session and the charger
    setting `battery_capacity` is known."""
    target = conn.smart.target_soc
    capacity = read_number(central.charger_option(charger.charger_id, CONF_BATTERY_CAPACITY))
    soc = conn.readings.get("soc")
    tx = conn.transaction
    if target is None or capacity is None or soc is None or tx is None:
        return None
    if not 0 < capacity <= MAX_BATTERY_KWH or not 0 <= soc <= 100:
        return None
    if conn.reading_time is None or conn.reading_time < tx.start:
        return None  # a SoC from before this session says nothing about this car
    return max(0.0, target - soc) / 100 * capacity


def energy_needed(
    central: CentralView, charger: Charger, conn: Connector, departure: datetime
) -> tuple[float | None, str]:
    """kWh still needed by departure (None without a target), and by which target."""
    if conn.smart.target_kind == TARGET_SOC:
        by_soc = soc_target_kwh(central, charger, conn)
        if by_soc is not None:
            return by_soc, TARGET_SOC
    if (target := conn.smart.target_energy) is None:
        return None, TARGET_ENERGY
    return max(0.0, target - delivered_kwh(conn, departure)), TARGET_ENERGY


def plan_current(
    central: CentralView,
    charger: Charger,
    conn: Connector,
    site: SiteSettings,
    sharing: int,
    now: datetime,
) -> tuple[float, int]:
    """(A per phase, phases) the connector can expect: the charger's maximum, the user's
    limit, and an equal share of the main fuse with the `sharing` other sessions; whole
    amperes, 0 when that is below what a car accepts."""
    settings = central.electrical_settings(charger.charger_id)
    phase = phase_setting(central.charger_option(charger.charger_id, CONF_PHASE))
    phases = len(charger_phases(settings.phases, phase, site))
    amps = settings.max_current
    if (user := user_limit(conn, now)[0]) is not None:
        amps = min(amps, user)
    if site.main_fuse is not None:
        amps = min(amps, site.main_fuse / (1 + max(sharing, 0)))
    amps = float(math.floor(amps + 1e-6))
    return (amps if amps >= MIN_CURRENT else 0.0), phases


def plan_prices(central: CentralView, now: datetime, departure: datetime) -> list[PricePeriod]:
    """The site's prices with the surcharge (a fixed price: one period up to departure)."""
    source = central.prices
    settings = source.settings
    if settings.kind == "fixed" and settings.fixed_price is not None:
        return [PricePeriod(now, departure, settings.fixed_price + settings.surcharge)]
    if source.currency_matches:
        return list(add_surcharge(source.periods, settings.surcharge))
    # In another currency than the surcharge: still good for choosing the cheapest hours.
    return list(source.periods)


def contiguity_threshold(prices: list[PricePeriod]) -> float:
    """A small share of the average price (the prices' currency, whatever it is)."""
    if not prices:
        return 0.0
    return CONTIGUITY_SHARE * sum(abs(p.price) for p in prices) / len(prices)


def max_slots(central: CentralView, charger_id: str) -> int | None:
    """How many slots fit in the charger's schedule (two periods each, one to start, and
    one block kept for energy that waits for prices), when it says how many periods it takes."""
    configuration = central.configuration(charger_id)
    for key in _MAX_PERIODS_KEYS:
        value = read_number(configuration.get(key))
        if value is not None and value >= 1:
            return max(1, int(min(value, 1024) - 1) // 2 - 1)
    return None
