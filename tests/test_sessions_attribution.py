"""A session started from Home Assistant belongs to the user behind the call."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger, connected_charger
from .helpers import device_id, state_of
from .ledger_helpers import get_sessions, wide_range
from .test_restart import now, start_transaction, stop_transaction


async def turn_on_charging(hass: HomeAssistant, context: Context) -> None:
    state = state_of(hass, "switch", "CP1_1_charging")
    assert state is not None
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": state.entity_id}, blocking=True, context=context
    )


async def one_session(hass: HomeAssistant, cp: SimCharger, id_tag: str, wh: int) -> None:
    """1 kWh in the last 10 minutes (each session starts a second after the one before)."""
    start = now() - timedelta(minutes=10) + timedelta(seconds=wh // 1000)
    tx = (await start_transaction(hass, cp, id_tag, wh, at=start)).transaction_id
    await stop_transaction(hass, cp, tx, wh + 1000)


async def test_sessions_started_from_home_assistant_name_the_user(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    admin, other = Context(user_id=hass_admin_user.id), Context(user_id=hass_read_only_user.id)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        # The charging switch (as the dashboard or the companion app turns it on).
        await turn_on_charging(hass, admin)
        await one_session(hass, cp, "HomeAssistant", 0)
        # start_charging with a card's tag, by another user.
        await hass.services.async_call(
            DOMAIN,
            "start_charging",
            {"device_id": device_id(hass), "id_tag": "CARD7"},
            blocking=True,
            context=other,
        )
        await one_session(hass, cp, "card7", 1000)  # id tags match whatever their case
        # A card at the charger right after: nobody asked for it in Home Assistant.
        await one_session(hass, cp, "HomeAssistant", 2000)
        # An automation's start (no user).
        await turn_on_charging(hass, Context())
        await one_session(hass, cp, "HomeAssistant", 3000)

    response = await get_sessions(hass, **wide_range())
    assert [(s["id_tag"], s["user_id"], s["user_name"]) for s in response["sessions"]] == [
        ("HomeAssistant", hass_admin_user.id, hass_admin_user.name),
        ("card7", hass_read_only_user.id, hass_read_only_user.name),
        ("HomeAssistant", None, None),
        ("HomeAssistant", None, None),
    ]
    users = response["totals"]["users"]
    assert users[hass_admin_user.id] == {
        "name": hass_admin_user.name,
        "count": 1,
        "energy_kwh": 1.0,
        "cost": None,
        "currency": None,
        "unpriced_kwh": 1.0,
        "cost_by_currency": {},
    }
    assert set(users) == {hass_admin_user.id, hass_read_only_user.id}
    assert response["totals"]["id_tags"]["HomeAssistant"]["count"] == 3


async def test_a_refused_or_forgotten_remote_start_names_nobody(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    admin = Context(user_id=hass_admin_user.id)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        cp.answers["RemoteStartTransaction"] = "Rejected"
        with pytest.raises(HomeAssistantError):
            await turn_on_charging(hass, admin)
        await one_session(hass, cp, "HomeAssistant", 0)
        cp.answers["RemoteStartTransaction"] = "Accepted"
        await turn_on_charging(hass, admin)
        # Nobody plugged in; much later a session starts with the same tag.
        freezer.tick(timedelta(minutes=6))
        await one_session(hass, cp, "HomeAssistant", 1000)
    sessions = (await get_sessions(hass, **wide_range()))["sessions"]
    assert [s["user_id"] for s in sessions] == [None, None]
