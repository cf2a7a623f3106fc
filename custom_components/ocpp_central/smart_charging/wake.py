"""The loop's one timer: run again at a point in time, re-armed (or cancelled) at will."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time


class WakeTimer:
    """Calls `wake` once at the time last armed; arming the same time again changes nothing."""

    def __init__(self, hass: HomeAssistant, wake: Callable[[], None]) -> None:
        """Not armed."""
        self._hass = hass
        self._wake = wake
        self._unsub: CALLBACK_TYPE | None = None
        self._at: datetime | None = None

    @property
    def at(self) -> datetime | None:
        """When it wakes next (None: not armed)."""
        return self._at

    def arm(self, when: datetime | None) -> None:
        """Wake at `when` instead of the time armed before (None: not at all)."""
        if when == self._at:
            return
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        self._at = when
        if when is not None:
            self._unsub = async_track_point_in_utc_time(self._hass, self._fire, when)

    @callback
    def _fire(self, _now: datetime) -> None:
        self._unsub = None
        self._at = None
        self._wake()
