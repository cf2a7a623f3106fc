"""What loading a full ledger costs at startup, for scripts/bench (never for a timed test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import time
from typing import Any

from .ledger import Ledger, Tariff

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Price:
    start: datetime
    end: datetime
    price: float


def sample_ledger_data(n: int, now: datetime = _NOW) -> dict[str, Any]:
    """Stored data of n ended sessions of 3 h at 15-minute prices, one every 2.5 h (on 3 chargers),
    the last ending before `now`.

    10,000 of them fit in the default three years (before `now`).
    """
    ledger = Ledger(max_count=max(n, 1))
    for i in range(n):
        start = now - timedelta(hours=2.5 * (n - i) + 3)
        prices = [
            _Price(start + timedelta(minutes=15 * q), start + timedelta(minutes=15 * q + 15), 1.25)
            for q in range(13)
        ]
        wh = 1_000_000.0 + 10_000 * i
        ledger.start_session(
            f"charger{i % 3}",
            1,
            i,
            start,
            Tariff("SEK", surcharge=0.5),
            meter_start_wh=wh,
            id_tag=f"tag{i % 5}",
            id_tag_name=f"Card {i % 5}",
            prices=prices,
        )
        steps = [(start + timedelta(minutes=m), wh + 55.0 * m) for m in range(0, 181, 5)]
        ledger.add_readings(f"charger{i % 3}", i, steps, now=start + timedelta(hours=3))
        ledger.end_session(
            f"charger{i % 3}", i, start + timedelta(hours=3), meter_stop_wh=wh + 9900
        )
    return ledger.as_dict()


def bench_load(n: int = 10_000) -> dict[str, float]:
    """Seconds to decode a stored ledger of n sessions from JSON and to build the Ledger."""
    text = json.dumps(sample_ledger_data(n))
    began = time.perf_counter()
    data = json.loads(text)
    decoded = time.perf_counter()
    ledger = Ledger.from_dict(data, now=_NOW, max_count=max(n, 1))
    built = time.perf_counter()
    if len(ledger) != n:
        raise RuntimeError(f"loaded {len(ledger)} of {n} sessions")
    return {
        "sessions": n,
        "json_bytes": len(text),
        "json_decode_s": decoded - began,
        "from_dict_s": built - decoded,
    }
