"""The site's electricity price: one source for the session ledger and for smart charging.

The central system's entry options name it (the options flow's smart_charging step): a price
sensor (Nord Pool or Energi Data Service from HACS, or a template sensor) or the config entry
of Home Assistant's own Nord Pool integration, asked with its `nordpool.get_prices_for_date`
action for today and tomorrow; a surcharge per kWh; and a fixed price per kWh for a site
without a price source.

Periods are kept as the source gives them, without the surcharge: whoever prices energy adds
it once (the ledger's Tariff, or `prices.add_surcharge`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import CONF_FIXED_PRICE, CONF_NORDPOOL_ENTRY, CONF_PRICE_SENSOR, CONF_PRICE_SURCHARGE
from .core.prices import (
    PriceParse,
    PricePeriod,
    merge,
    parse_nordpool_action,
    parse_price_sensor,
    sensor_currency,
)
from .core.prices.period import MAX_ABS_PRICE
from .core.prices.values import read_number

_LOGGER = logging.getLogger(__name__)

NORDPOOL_DOMAIN = "nordpool"
NORDPOOL_SERVICE = "get_prices_for_date"
# Nord Pool publishes the next day's prices at about 12:45 CET: ask for them from 13:00
# local time, every hour until they are there.
TOMORROW_FROM_HOUR = 13
# Today's prices missing (Nord Pool not loaded yet, no network): ask again, less and less often.
RETRY_FIRST = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)

type PriceListener = Callable[[], None]


def _price(value: Any) -> float | None:
    number = read_number(value)
    return number if number is not None and abs(number) <= MAX_ABS_PRICE else None


def _counted(dropped: Mapping[str, int]) -> dict[str, int]:
    """Why entries were dropped, for diagnostics (reasons that dropped none left out)."""
    return {reason: count for reason, count in dropped.items() if count}


@dataclass(frozen=True, slots=True)
class PriceSettings:
    """The site's price settings, read (and bounded) from the entry options."""

    sensor: str | None = None
    nordpool_entry: str | None = None
    surcharge: float = 0.0
    fixed_price: float | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PriceSettings:
        """Settings from entry options; a value that is not a sane number is left out."""
        sensor = options.get(CONF_PRICE_SENSOR)
        nordpool = options.get(CONF_NORDPOOL_ENTRY)
        return cls(
            sensor=sensor if isinstance(sensor, str) and sensor else None,
            nordpool_entry=nordpool if isinstance(nordpool, str) and nordpool else None,
            surcharge=_price(options.get(CONF_PRICE_SURCHARGE)) or 0.0,
            fixed_price=_price(options.get(CONF_FIXED_PRICE)),
        )

    @property
    def kind(self) -> str:
        """sensor, nordpool, fixed or none (a sensor wins if both are set)."""
        if self.sensor:
            return "sensor"
        if self.nordpool_entry:
            return "nordpool"
        return "fixed" if self.fixed_price is not None else "none"

    @property
    def has_source(self) -> bool:
        """Whether prices come from a source (and the fixed price is not used)."""
        return self.kind in ("sensor", "nordpool")


class PriceSource:
    """Price periods of the configured source, kept current; listeners hear of every change."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Read the settings; async_start() begins listening or asking."""
        self.hass = hass
        self.entry = entry
        self.settings = PriceSettings.from_options(entry.options)
        self.periods: tuple[PricePeriod, ...] = ()
        self.dropped: dict[str, int] = {}
        self.source_currency: str | None = None  # what the source names, if anything
        self.last_error: str | None = None
        self._listeners: list[PriceListener] = []
        self._unsubs: list[CALLBACK_TYPE] = []
        self._follow: list[CALLBACK_TYPE] = []  # the source's listener or timer
        self._retry: CALLBACK_TYPE | None = None
        self._retry_delay = RETRY_FIRST
        self._days: dict[date, PriceParse] = {}  # Nord Pool: one answer per delivery day
        self._refreshing = False
        self._started = False

    # --- what users of the prices read ------------------------------------------------------

    @property
    def currency(self) -> str:
        """Home Assistant's currency: costs are in it, and so is the surcharge."""
        return self.hass.config.currency

    @property
    def currency_matches(self) -> bool:
        """Whether the periods are in Home Assistant's currency (or the source doesn't say)."""
        return self.source_currency is None or self.source_currency == self.currency.upper()

    def periods_for_cost(self) -> tuple[PricePeriod, ...]:
        """The periods, when they may price energy in HA's currency (never converted)."""
        return self.periods if self.currency_matches else ()

    @callback
    def subscribe(self, listener: PriceListener) -> CALLBACK_TYPE:
        """Call `listener` whenever the periods (or the settings) change; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def diagnostics(self) -> dict[str, Any]:
        """What the source gave and what was dropped (no secrets in it)."""
        return {
            "source": self.settings.kind,
            "sensor": self.settings.sensor,
            "periods": len(self.periods),
            "first_start": self.periods[0].start.isoformat() if self.periods else None,
            "last_end": self.periods[-1].end.isoformat() if self.periods else None,
            "dropped": dict(self.dropped),
            "source_currency": self.source_currency,
            "currency": self.currency,
            "surcharge": self.settings.surcharge,
            "fixed_price": self.settings.fixed_price,
            "last_error": self.last_error,
        }

    # --- lifecycle --------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Read the source once and follow it; listen for changed settings."""
        self._started = True
        self._unsubs.append(self.entry.add_update_listener(self._async_entry_updated))
        await self._async_follow()

    @callback
    def stop(self) -> None:
        """Stop listening and asking."""
        self._started = False
        self._unfollow()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    async def _async_entry_updated(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        settings = PriceSettings.from_options(entry.options)
        if settings == self.settings or not self._started:
            return
        self.settings = settings
        self._unfollow()
        self.periods, self.dropped, self.source_currency, self.last_error = (), {}, None, None
        self._days.clear()
        await self._async_follow()
        self._notify()

    async def _async_follow(self) -> None:
        kind = self.settings.kind
        if kind == "sensor":
            assert self.settings.sensor is not None
            self._follow = [
                async_track_state_change_event(
                    self.hass, [self.settings.sensor], self._sensor_changed
                )
            ]
            self._read_sensor(notify=False)
        elif kind == "nordpool":
            self._follow = [async_track_time_change(self.hass, self._hourly, minute=0, second=30)]
            # In the background: the first answer may wait on the network, and HA's start
            # must not wait on it.
            self.entry.async_create_background_task(
                self.hass, self._async_refresh(first=True), "ocpp_central nordpool prices"
            )
        else:
            self._follow = []

    @callback
    def _unfollow(self) -> None:
        for unsub in self._follow:
            unsub()
        self._follow = []
        if self._retry is not None:
            self._retry()
            self._retry = None

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _set(self, periods: tuple[PricePeriod, ...], currency: str | None, *, notify: bool) -> None:
        changed = periods != self.periods or currency != self.source_currency
        self.periods, self.source_currency = periods, currency
        if changed and notify:
            self._notify()

    # --- a price sensor ---------------------------------------------------------------------

    @callback
    def _sensor_changed(self, event: Event[EventStateChangedData]) -> None:
        self._read_sensor(notify=True)

    @callback
    def _read_sensor(self, *, notify: bool) -> None:
        assert self.settings.sensor is not None
        state = self.hass.states.get(self.settings.sensor)
        if state is None or state.state == STATE_UNAVAILABLE:
            # The source is down (or not loaded yet): what it last said still holds.
            self.last_error = "unavailable" if state is not None else "not_found"
            return
        self.last_error = None
        parse = parse_price_sensor(state.attributes, default_tz=dt_util.get_default_time_zone())
        self.dropped = _counted(parse.dropped)
        self._set(parse.periods, sensor_currency(state.attributes), notify=notify)

    # --- Home Assistant's Nord Pool -----------------------------------------------------------

    @callback
    def _hourly(self, now: datetime) -> None:
        self.entry.async_create_background_task(
            self.hass, self._async_refresh(), f"ocpp_central nordpool prices {now.hour}"
        )

    @callback
    def _retry_now(self, now: datetime) -> None:
        self._retry = None
        self._hourly(now)

    async def _async_refresh(self, *, first: bool = False) -> None:
        """Ask for today's and (after publication, or at start) tomorrow's prices not yet had."""
        if self._refreshing:
            return
        self._refreshing = True
        try:
            now = dt_util.now()
            today = now.date()
            days_before = set(self._days)
            for stale in [day for day in self._days if day < today]:
                del self._days[stale]
            wanted = [today]
            if first or now.hour >= TOMORROW_FROM_HOUR:
                wanted.append(today + timedelta(days=1))
            for day in wanted:
                if day not in self._days and (parse := await self._async_ask(day)) is not None:
                    self._days[day] = parse
        finally:
            self._refreshing = False
        if not self._started:
            return
        if set(self._days) != days_before:
            merged = merge(self._days[day] for day in sorted(self._days))
            self.dropped = _counted(merged.dropped)
            self._set(merged.periods, self._nordpool_currency(), notify=True)
        if today not in self._days:
            self._schedule_retry()
        else:
            self._retry_delay = RETRY_FIRST

    def _schedule_retry(self) -> None:
        if self._retry is None:
            self._retry = async_call_later(self.hass, self._retry_delay, self._retry_now)
            self._retry_delay = min(self._retry_delay * 2, RETRY_MAX)

    def _nordpool_entry(self) -> ConfigEntry | None:
        entry_id = self.settings.nordpool_entry
        return self.hass.config_entries.async_get_entry(entry_id) if entry_id else None

    def _nordpool_currency(self) -> str | None:
        """The currency of the answers: the entry's, unless HA's was asked for instead."""
        entry = self._nordpool_entry()
        currency = entry.data.get("currency") if entry is not None else None
        if not isinstance(currency, str):
            return None
        return (
            self.currency.upper() if currency.upper() != self.currency.upper() else currency.upper()
        )

    async def _async_ask(self, day: date) -> PriceParse | None:
        """One delivery day from the action; None when it has none (yet)."""
        data: dict[str, Any] = {
            "config_entry": self.settings.nordpool_entry,
            "date": day.isoformat(),
        }
        area: str | None = None
        if (entry := self._nordpool_entry()) is not None:
            areas = entry.data.get("areas")
            if isinstance(areas, list) and areas and isinstance(areas[0], str):
                area = areas[0]
                if len(areas) > 1:
                    data["areas"] = [area]  # one area's prices: the first configured
            currency = entry.data.get("currency")
            if isinstance(currency, str) and currency.upper() != self.currency.upper():
                data["currency"] = self.currency.upper()
        try:
            response = await self.hass.services.async_call(
                NORDPOOL_DOMAIN,
                NORDPOOL_SERVICE,
                data,
                blocking=True,
                return_response=True,
            )
        except (HomeAssistantError, vol.Invalid) as err:
            # Tomorrow's prices before publication, Nord Pool not loaded yet, no network.
            self.last_error = f"{day.isoformat()}: {err}"
            _LOGGER.debug("No Nord Pool prices for %s: %s", day, err)
            return None
        parse = parse_nordpool_action(response, area)
        if not parse.periods:
            self.last_error = f"{day.isoformat()}: no prices"
            return None
        self.last_error = None
        return parse
