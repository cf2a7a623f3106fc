"""Helpers for tests of the Home Assistant-free core: no HA instance, no sockets, and times.

A test module imports the two fixtures below to override conftest's autouse ones (which start
Home Assistant): pure functions need neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_central.core.prices import PricePeriod

PRICE_FIXTURES = Path(__file__).parent / "fixtures" / "prices"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Pure code: no Home Assistant instance needed."""


@pytest.fixture(autouse=True)
def loopback_sockets() -> None:
    """Pure code: no sockets."""


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Stockholm wall-clock time (the first of a repeated hour)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=STOCKHOLM)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC time."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def series(start: datetime, values: Sequence[float], minutes: int = 60) -> list[PricePeriod]:
    """Back-to-back periods from `start`, stepping in absolute time (as markets do)."""
    first = start.astimezone(UTC)
    step = timedelta(minutes=minutes)
    return [
        PricePeriod(first + index * step, first + (index + 1) * step, value)
        for index, value in enumerate(values)
    ]


def price_fixture(name: str) -> dict[str, Any]:
    """A fixture in the documented shape of a price source (our own values)."""
    data: dict[str, Any] = json.loads((PRICE_FIXTURES / f"{name}.json").read_text())
    return data
