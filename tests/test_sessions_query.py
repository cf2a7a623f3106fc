"""What users read from the ledger: get_sessions, the CSV export, the calendar, diagnostics."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
import io
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous as vol

from custom_components.ocpp_central.core.id_tags import IdTag
from custom_components.ocpp_central.core.ledger_bench import sample_ledger_data
from custom_components.ocpp_central.core.ledger_csv import CSV_COLUMNS
from custom_components.ocpp_central.diagnostics import async_get_config_entry_diagnostics
from custom_components.ocpp_central.session_query import BATCH

from .charger import SimCharger, connected_charger
from .helpers import device_id, iso, make_entry, meter_values, setup_entry, state_of
from .ledger_helpers import get_sessions, parsed
from .test_restart import send

DAY = timedelta(days=1)
CSV = "/api/ocpp_central/sessions.csv"


async def session(
    hass: HomeAssistant,
    cp: SimCharger,
    connector: int,
    id_tag: str,
    start: datetime,
    kwh: float,
    *,
    stop: bool = True,
) -> int:
    """A session of `kwh` over an hour from `start` (the register counts from 100 kWh)."""
    base = 100_000 + connector * 1_000_000
    answer = await cp.call(
        call.StartTransaction(
            connector_id=connector, id_tag=id_tag, meter_start=base, timestamp=iso(start)
        ),
        suppress=False,
    )
    tx: int = answer.transaction_id
    if stop:
        await cp.call(
            call.StopTransaction(
                meter_stop=base + int(kwh * 1000),
                timestamp=iso(start + timedelta(hours=1)),
                transaction_id=tx,
                reason="EVDisconnected",
            ),
            suppress=False,
        )
    else:
        reading = meter_values(
            start + timedelta(minutes=30),
            connector_id=connector,
            transaction_id=tx,
            energy=base + kwh * 1000,
        )
        await send(hass, cp, reading)
    await hass.async_block_till_done()
    return tx


@pytest.fixture
def local_midnight() -> datetime:
    """Today's local midnight (the tests' time zone is HA's test default, US/Pacific)."""
    return dt_util.start_of_local_day()


@pytest.fixture
async def history(hass: HomeAssistant, local_midnight: datetime) -> MockConfigEntry:
    """Two chargers: CP1 with two connectors, CP2 with one; cards TAG1 (Anna) and TAG2.

    Three days ago: CP1/1 TAG1 2 kWh at 22:30 (ends after midnight) · two days ago: CP1/2
    TAG2 3 kWh, CP2 TAG1 4 kWh · now: CP1/1 TAG2 running (1 kWh so far). Fixed price 2.00.
    """
    hass.config.currency = "SEK"
    entry = make_entry(fixed_price=2.0)
    port = await setup_entry(hass, entry)
    entry.runtime_data.authorization.add(IdTag("TAG1", name="Anna's card"))
    entry.runtime_data.authorization.add(IdTag("TAG2"))
    async with connected_charger(port, "CP1") as cp1, connected_charger(port, "CP2") as cp2:
        for cp in (cp1, cp2):
            await cp.boot()
            await cp.status(1, "Available")
        await cp1.status(2, "Available")
        await session(hass, cp1, 1, "TAG1", local_midnight - 3 * DAY + timedelta(hours=22.5), 2)
        await session(hass, cp1, 2, "TAG2", local_midnight - 2 * DAY + timedelta(hours=8), 3)
        await session(hass, cp2, 1, "TAG1", local_midnight - 2 * DAY + timedelta(hours=9), 4)
        await session(hass, cp1, 1, "TAG2", dt_util.utcnow() - timedelta(minutes=40), 1, stop=False)
    return entry


def summary(response: dict[str, Any]) -> list[tuple[str, int, str | None, float]]:
    return [
        (s["charger_id"], s["connector_id"], s["id_tag"], s["energy_kwh"])
        for s in response["sessions"]
    ]


async def test_get_sessions_filters_and_totals(
    hass: HomeAssistant, history: MockConfigEntry, local_midnight: datetime
) -> None:
    three_days_ago = (local_midnight - 3 * DAY).date().isoformat()
    yesterday = (local_midnight - DAY).date().isoformat()
    everything = await get_sessions(hass, start=three_days_ago, end=local_midnight.date())
    assert summary(everything) == [
        ("CP1", 1, "TAG1", 2.0),
        ("CP1", 2, "TAG2", 3.0),
        ("CP2", 1, "TAG1", 4.0),
        ("CP1", 1, "TAG2", 1.0),
    ]
    totals = everything["totals"]
    assert {k: totals["overall"][k] for k in ("count", "energy_kwh", "cost", "currency")} == {
        "count": 4,
        "energy_kwh": 10.0,
        "cost": 20.0,
        "currency": "SEK",
    }
    assert {tag: (t["name"], t["count"], t["cost"]) for tag, t in totals["id_tags"].items()} == {
        "TAG1": ("Anna's card", 2, 12.0),
        "TAG2": (None, 2, 8.0),
    }
    assert totals["users"] == {}
    # An end date includes its day: the session starting at 22:30 three days ago counts there
    # with all of its energy, also the part after midnight.
    assert summary(await get_sessions(hass, start=three_days_ago, end=three_days_ago)) == [
        ("CP1", 1, "TAG1", 2.0)
    ]
    assert summary(await get_sessions(hass, start=yesterday, end=yesterday)) == []
    # A datetime end excludes its moment.
    assert summary(
        await get_sessions(
            hass,
            start=three_days_ago,
            end=(local_midnight - 2 * DAY + timedelta(hours=9)).isoformat(),
        )
    ) == [("CP1", 1, "TAG1", 2.0), ("CP1", 2, "TAG2", 3.0)]
    window = {"start": three_days_ago, "end": local_midnight.date().isoformat()}
    charger = await get_sessions(hass, device_id=device_id(hass, "CP1"), **window)
    assert [s["charger_id"] for s in charger["sessions"]] == ["CP1", "CP1", "CP1"]
    connector = await get_sessions(hass, device_id=device_id(hass, "CP1-connector-2"), **window)
    assert summary(connector) == [("CP1", 2, "TAG2", 3.0)]
    tagged = await get_sessions(hass, id_tag="tag1", **window)
    assert summary(tagged) == [("CP1", 1, "TAG1", 2.0), ("CP2", 1, "TAG1", 4.0)]
    assert tagged["totals"]["overall"]["energy_kwh"] == 6.0
    first = everything["sessions"][0]
    assert first["id_tag_name"] == "Anna's card"
    assert first["stop_reason"] == "EVDisconnected"
    assert first["start"].endswith("-08:00")  # in Home Assistant's time zone, with its offset
    assert everything["sessions"][3]["end"] is None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"start": "2026-02-30", "end": "2026-03-01"}, vol.Invalid),
        ({"start": "yesterday", "end": "2026-03-01"}, vol.Invalid),
        ({"start": "0001-01-01", "end": "2026-03-01"}, vol.Invalid),
        ({"start": "2026-03-01"}, vol.Invalid),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end_before_start"),
        ({"start": "2026-03-01T10:00:00", "end": "2026-03-01T10:00:00"}, "end_before_start"),
        ({"start": "2026-03-01", "end": "2026-03-02", "device_id": "nope"}, "unknown_device"),
        ({"start": "2026-03-01", "end": "2026-03-02", "id_tag": ""}, vol.Invalid),
    ],
)
async def test_get_sessions_refuses_bad_input(
    hass: HomeAssistant, entry: MockConfigEntry, data: dict[str, Any], error: Any
) -> None:
    if isinstance(error, str):
        with pytest.raises(ServiceValidationError) as raised:
            await get_sessions(hass, **data)
        assert raised.value.translation_key == error
        assert str(raised.value)  # a translated message
    else:
        with pytest.raises(error):
            await get_sessions(hass, **data)


async def test_get_sessions_is_for_administrators(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    window = {"start": "2026-01-01", "end": "2026-12-31"}
    with pytest.raises(Unauthorized):
        await get_sessions(hass, Context(user_id=hass_read_only_user.id), **window)
    assert await get_sessions(hass, Context(user_id=hass_admin_user.id), **window) == {
        "sessions": [],
        "totals": {
            "overall": {
                "count": 0,
                "energy_kwh": 0.0,
                "cost": 0.0,
                "currency": None,
                "unpriced_kwh": 0.0,
                "cost_by_currency": {},
            },
            "id_tags": {},
            "users": {},
        },
    }


async def test_the_csv_export(
    hass: HomeAssistant,
    history: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    local_midnight: datetime,
) -> None:
    client = await hass_client()
    start = (local_midnight - 2 * DAY).date().isoformat()
    response = await client.get(CSV, params={"start": start, "id_tag": "TAG1"})
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="ocpp_sessions_{start}.csv"'
    )
    body = await response.read()
    assert body.startswith(b"\xef\xbb\xbf")  # a byte order mark, for Excel
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["charger_id"], r["id_tag"], r["id_tag_name"]) for r in rows] == [
        ("CP2", "TAG1", "Anna's card")
    ]
    assert (rows[0]["energy_kwh"], rows[0]["cost"], rows[0]["currency"]) == ("4.000", "8.00", "SEK")
    assert parsed(rows[0]["start"]) == local_midnight - 2 * DAY + timedelta(hours=9)
    # No filters: everything, the running session too (without an end).
    rows = list(
        csv.DictReader(io.StringIO((await (await client.get(CSV)).read()).decode("utf-8-sig")))
    )
    assert len(rows) == 4 and rows[-1]["end"] == ""
    connector = await client.get(CSV, params={"device_id": device_id(hass, "CP1-connector-2")})
    assert (await connector.text()).count("\r\n") == 2  # the header and one session


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "2026-13-01"}, None),
        ({"end": "not a date"}, None),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end_before_start"),
        ({"device_id": "no such device"}, "unknown_device"),
        ({"id_tag": "x" * 40}, None),
    ],
)
async def test_the_csv_export_refuses_bad_input(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    params: dict[str, str],
    code: str | None,
) -> None:
    response = await (await hass_client()).get(CSV, params=params)
    assert response.status == 400
    answer = await response.json()
    assert answer["message"]
    assert answer.get("code") == code


async def test_the_csv_export_is_for_administrators(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    anonymous = await (await hass_client_no_auth()).get(CSV)
    assert anonymous.status == 401
    read_only = await (await hass_client(hass_read_only_access_token)).get(CSV)
    assert read_only.status == 403
    assert "start" not in await read_only.text()  # no CSV for them


async def test_the_sessions_calendar(
    hass: HomeAssistant, history: MockConfigEntry, local_midnight: datetime
) -> None:
    calendar = state_of(hass, "calendar", "CP1_1_sessions")
    assert calendar is not None
    assert calendar.state == "on"  # a session runs
    # Written again by the reading that passed a whole kWh.
    assert calendar.attributes["message"] == "1.0 kWh · 2.00 SEK · TAG2"
    three_days_ago = local_midnight - 3 * DAY
    response: Any = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": calendar.entity_id,
            "start_date_time": (three_days_ago + timedelta(hours=23)).isoformat(),
            "end_date_time": (local_midnight + DAY).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    events = response[calendar.entity_id]["events"]
    # The 22:30 session reaches into the range; the running one ends now.
    assert [e["summary"] for e in events] == [
        "2.0 kWh · 4.00 SEK · Anna's card",
        "1.0 kWh · 2.00 SEK · TAG2",
    ]
    assert parsed(events[0]["start"]) == three_days_ago + timedelta(hours=22.5)
    assert parsed(events[0]["end"]) == three_days_ago + timedelta(hours=23.5)
    assert events[0]["description"] == "Id tag: Anna's card (TAG1)\nStopped: EVDisconnected"
    assert events[1]["description"].startswith("Charging now")
    assert abs(parsed(events[1]["end"]) - dt_util.now()) < timedelta(minutes=1)
    # Another connector's calendar has its own sessions only.
    other = state_of(hass, "calendar", "CP1_2_sessions")
    assert other is not None and other.state == "off"


async def test_diagnostics_count_sessions_without_their_tags(
    hass: HomeAssistant, history: MockConfigEntry
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, history)
    assert diagnostics["sessions"]["sessions"] == 4
    assert diagnostics["sessions"]["running"] == 1
    assert diagnostics["prices"]["source"] == "fixed"
    assert "TAG1" not in str(diagnostics) and "Anna" not in str(diagnostics)


async def test_a_long_history_comes_out_whole(
    hass: HomeAssistant, hass_storage: dict[str, Any], hass_client: ClientSessionGenerator
) -> None:
    """More sessions than are turned into data between two turns of the event loop."""
    entry = make_entry()
    key = f"ocpp_central.{entry.entry_id}.sessions"
    data = sample_ledger_data(BATCH * 2 + 10, dt_util.utcnow())
    hass_storage[key] = {"version": 2, "minor_version": 1, "key": key, "data": data}
    await setup_entry(hass, entry)
    window = {"start": "2020-01-01", "end": dt_util.now().date().isoformat()}
    response = await get_sessions(hass, **window)
    assert len(response["sessions"]) == response["totals"]["overall"]["count"] == BATCH * 2 + 10
    assert [s["transaction_id"] for s in response["sessions"]] == list(range(BATCH * 2 + 10))
    body = await (await (await hass_client()).get(CSV, params=window)).read()
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [int(row["transaction_id"]) for row in rows] == list(range(BATCH * 2 + 10))
