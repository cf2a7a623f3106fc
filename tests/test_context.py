"""What caused a change: one charger message or one action call is one Home Assistant context.

Automations and the logbook follow `state.context` to tell what changed a state. Everything a
charger message changes (states and events) shares one context, a new one per message; what
an action changes carries the call's context (its user), also when the charger confirms it a
moment later. One context per message is also what keeps Home Assistant from making a
reference cycle per state write (see docs/performance.md).
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF
from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.ocpp_central.const import DOMAIN

from .charger import SimCharger
from .helpers import (
    capture_events,
    device_id,
    entity_id,
    meter_values,
    start_transaction,
    state_of,
)

pytestmark = pytest.mark.charger(status="Charging")


async def test_one_message_is_one_context(
    hass: HomeAssistant, cp: SimCharger, freezer: FrozenDateTimeFactory
) -> None:
    """A message's state changes and events share a context; the next message has its own."""
    # Entities the message creates (the energy sensor) are written by HA itself.
    existing = set(hass.states.async_entity_ids())
    changes = capture_events(hass, "state_changed")
    started = capture_events(hass, f"{DOMAIN}_transaction_started")
    await start_transaction(cp)
    await hass.async_block_till_done()
    assert len(started) == 1
    start_context = started[0].context
    by_start = [e for e in changes if e.data["entity_id"] in existing]
    assert len(by_start) >= 3  # at least the charging switch, transaction id and id tag
    assert {e.context.id for e in by_start} == {start_context.id}

    await cp.call(
        meter_values(dt_util.utcnow(), energy=1500, power=7000, current=30.4)
    )  # its first report creates power and current
    await hass.async_block_till_done()
    changes.clear()
    freezer.tick(timedelta(minutes=1))  # last_seen changes too (it does once a minute)
    await cp.call(meter_values(dt_util.utcnow(), energy=2000, power=7200, current=31.3))
    await hass.async_block_till_done()
    first = {e.data["entity_id"]: e.context.id for e in changes}
    # The readings come first in the context (it is theirs); last_seen is written last.
    assert changes[-1].data["entity_id"] == entity_id(hass, "sensor", "CP1_last_seen")
    assert {
        entity_id(hass, "sensor", f"CP1_1_{key}") for key in ("energy", "power", "current")
    } <= first.keys()
    assert len(set(first.values())) == 1
    assert start_context.id not in first.values()

    changes.clear()
    await cp.call(meter_values(dt_util.utcnow(), energy=2100, power=7300, current=31.7))
    await hass.async_block_till_done()
    second = {e.context.id for e in changes}
    assert len(second) == 1
    assert second.isdisjoint(first.values())


async def test_action_changes_carry_the_call_context(
    hass: HomeAssistant, cp: SimCharger, hass_admin_user: MockUser
) -> None:
    """An action's changes are the caller's, and the charger confirming it soon after too."""
    context = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        DOMAIN,
        "set_charging_limit",
        {"device_id": device_id(hass), "limit_amps": 10},
        blocking=True,
        context=context,
    )
    limit = state_of(hass, "number", "CP1_1_charging_limit")
    assert limit is not None
    assert limit.state == "10.0"
    assert (limit.context.id, limit.context.user_id) == (context.id, hass_admin_user.id)

    # The user turns the charger off; its StatusNotification confirms it a moment later.
    switch_context = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity_id(hass, "switch", "CP1_available")},
        blocking=True,
        context=switch_context,
    )
    await cp.status(0, "Unavailable")
    await hass.async_block_till_done()
    available = state_of(hass, "switch", "CP1_available")
    assert available is not None
    assert available.state == STATE_OFF
    assert available.context.id == switch_context.id
    # What else the message changed is the message's.
    status = state_of(hass, "sensor", "CP1_status")
    assert status is not None
    assert status.state == "unavailable"
    assert status.context.id not in (switch_context.id, context.id)
