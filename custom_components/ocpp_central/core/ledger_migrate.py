"""Older stored forms of the ledger, brought to LEDGER_VERSION."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .ledger_energy import SessionMeter
from .ledger_record import LEDGER_VERSION
from .ledger_values import is_aware, non_negative


def migrate(version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored ledger data of `version` in today's form; ValueError for a version we don't know.

    Version 1 is `{"sessions": [...]}` of the model's Transaction dicts, each with its
    `charger_id`: the sessions the central system's store kept before there was a ledger.
    Nothing priced them, so the ended ones keep their energy without a price (no cost), in
    no currency.
    """
    if version == LEDGER_VERSION:
        return dict(data)
    if version == 1:
        sessions = data.get("sessions")
        if not isinstance(sessions, list):
            return {"sessions": []}
        return {"sessions": [_from_v1(old) for old in sessions if isinstance(old, Mapping)]}
    raise ValueError(f"unknown ledger version {version}")


def _from_v1(old: Mapping[str, Any]) -> dict[str, Any]:
    start_wh, last_wh = (
        non_negative(old.get("meter_start_wh")),
        non_negative(old.get("meter_last_wh")),
    )
    stop = old.get("stop")
    record: dict[str, Any] = {
        "charger_id": old.get("charger_id"),
        "connector_id": old.get("connector_id"),
        "transaction_id": old.get("transaction_id"),
        "id_tag": old.get("id_tag"),
        "id_tag_name": None,
        "user_id": None,
        "user_name": None,
        "start": old.get("start"),
        "end": stop,
        "meter_start_wh": start_wh,
        "meter_stop_wh": last_wh if stop is not None else None,
        "stop_reason": old.get("reason"),
        "currency": "",
    }
    if stop is None:
        meter = SessionMeter(fixed_price=None, surcharge=0.0)
        if start_wh is not None and (start := _time(old.get("start"))) is not None:
            meter.energy.add(start.timestamp(), start_wh)
        record["running"] = meter.as_dict()
        return record
    energy_kwh = 0.0
    if start_wh is not None and last_wh is not None:
        energy_kwh = round(max(last_wh - start_wh, 0.0) / 1000, 3)
    start, end = _time(old.get("start")), _time(stop)
    periods = []
    if energy_kwh and start is not None and end is not None:
        periods.append([0, max((end - start).total_seconds(), 0.0), energy_kwh, None])
    record.update(
        energy_kwh=energy_kwh,
        cost=None if energy_kwh else 0.0,
        priced_cost=0.0,
        unpriced_kwh=energy_kwh,
        priced="unpriced" if energy_kwh else "priced",
        periods=periods,
    )
    return record


def _time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if is_aware(parsed) else None
