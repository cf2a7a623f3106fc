"""Planned charging for scripts/screenshots: tonight's plan of one simulated charger.

A price sensor (a state set through the REST API, as a template sensor would show it: a
generic `prices` list of hourly periods, today's and tomorrow's) with the night of the
worked example in docs/smart-charging.md, smart charging set up through the options flow
(a main fuse and that sensor), and the carport's connector in `planned` mode: 20 kWh by
07:00, set through the same services a dashboard uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .ha_client import DOMAIN, HomeAssistantApi, until

PRICE_SENSOR = "sensor.spot_price"
PLANNED = "carport"  # the charger whose connector plans; the garage stays in `manual`
# SEK/kWh by local hour: the worked example's night (17:00 .. 06:00), a day around it.
PRICES = {
    0: 0.8, 1: 0.6, 2: 0.2, 3: 0.3, 4: 0.7, 5: 0.9, 6: 1.1, 7: 1.4, 8: 1.6, 9: 1.4,
    10: 1.3, 11: 1.2, 12: 1.1, 13: 1.1, 14: 1.2, 15: 1.4, 16: 1.7, 17: 2.0, 18: 2.0,
    19: 1.8, 20: 1.5, 21: 1.2, 22: 1.0, 23: 0.9,
}  # fmt: skip


def price_list(time_zone: str, now: datetime) -> list[dict[str, Any]]:
    """Today's and tomorrow's hours (local days, in real hours across a DST change)."""
    zone = ZoneInfo(time_zone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight.astimezone(UTC)
    end = (midnight + timedelta(days=2)).astimezone(UTC)  # local midnight, two days on
    entries = []
    while start < end:
        local = start.astimezone(zone)
        entries.append(
            {
                "start": local.isoformat(),
                "end": (start + timedelta(hours=1)).astimezone(zone).isoformat(),
                "price": PRICES[local.hour],
            }
        )
        start += timedelta(hours=1)
    return entries


async def plan_tonight(ha: HomeAssistantApi) -> str:
    """Set smart charging up and let the carport plan 20 kWh by 07:00; its calendar's id."""
    config = await ha.rest("GET", "/api/config")
    await ha.rest(
        "POST",
        f"/api/states/{PRICE_SENSOR}",
        {
            "state": "1.0",
            "attributes": {
                "prices": price_list(config["time_zone"], datetime.now(UTC)),
                "unit_of_measurement": "SEK/kWh",
                "friendly_name": "Spot price",
            },
        },
    )
    entries = await ha.rest("GET", "/api/config/config_entries/entry")
    entry_id = next(e["entry_id"] for e in entries if e["domain"] == DOMAIN)
    # A main fuse both sessions fit in, no meter: the garage's session is left as it is.
    await ha.flow(
        "/api/config/config_entries/options/flow",
        {"handler": entry_id},
        {"next_step_id": "smart_charging"},
        {"main_fuse": 40, "supply_phases": "3", "price_sensor": PRICE_SENSOR},
    )

    async def smart_entities() -> dict[str, str] | None:
        ids = await ha.entity_ids()
        return ids if f"{PLANNED}_1_charging_plan" in ids else None

    ids = await until("smart charging's entities", smart_entities, timeout=60)
    connector = f"{PLANNED}_1"
    calls = (
        ("select", "select_option", "charging_mode", {"option": "planned"}),
        ("time", "set_value", "departure", {"time": "07:00:00"}),
        ("number", "set_value", "target_energy", {"value": 20}),
    )
    for domain, service, key, data in calls:
        entity_id = ids[f"{connector}_{key}"]
        await ha.rest("POST", f"/api/services/{domain}/{service}", {"entity_id": entity_id, **data})
    calendar = ids[f"{connector}_charging_plan"]

    async def planned() -> bool:
        state = await ha.rest("GET", f"/api/states/{calendar}")
        return bool(state["attributes"].get("start_time"))

    await until("the plan", planned, timeout=60)
    return calendar
