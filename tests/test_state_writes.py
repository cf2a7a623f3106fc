"""How often entities write a new state while a charger streams readings: readings follow
every sample, everything else at most about once a minute (the logbook and the recorder
keep each write; "Last seen changed to …" every few seconds buried everything else)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from ocpp.v16 import call

from custom_components.ocpp_central.const import CONF_ID_TAG_POLICY, ID_TAG_POLICY_ACCEPT_ALL
from simulator.ev import Car, Meter

from .charger import connected_charger
from .helpers import make_entry, setup_entry

SAMPLE_INTERVAL = timedelta(seconds=10)
MINUTES = 10


def unique_id(hass: HomeAssistant, entity_id: str) -> str:
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None
    return entity.unique_id


async def test_only_readings_write_often(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Ten minutes of 10 s samples from the simulator's meter, on the frozen clock."""
    port = await setup_entry(hass, make_entry(**{CONF_ID_TAG_POLICY: ID_TAG_POLICY_ACCEPT_ALL}))
    rng = random.Random(13)
    meter = Meter(rng, energy_wh=1_000_000)
    car = Car.random(rng)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Preparing")
        started = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="TAG1",
                meter_start=round(meter.energy_wh),
                timestamp=dt_util.utcnow().isoformat(),
            )
        )
        await cp.status(1, "Charging")
        await hass.async_block_till_done()

        writes: Counter[str] = Counter()
        readings: set[str] = set()

        @callback
        def count(event: Event[EventStateChangedData]) -> None:
            writes[event.data["entity_id"]] += 1
            state = event.data["new_state"]
            if state is not None and "state_class" in state.attributes:
                readings.add(event.data["entity_id"])

        hass.bus.async_listen(EVENT_STATE_CHANGED, count)
        samples = int(timedelta(minutes=MINUTES) / SAMPLE_INTERVAL)
        for n in range(samples):
            freezer.tick(SAMPLE_INTERVAL)
            meter.charge(car, 16, SAMPLE_INTERVAL.total_seconds())
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[meter.meter_value_16(car)],
                )
            )
            if n % 6 == 0:
                await cp.call(call.Heartbeat())
            await hass.async_block_till_done()

    by_key = {unique_id(hass, entity_id): count for entity_id, count in writes.items()}
    # The stream is real: readings followed nearly every sample ...
    power = next(eid for eid in readings if unique_id(hass, eid) == "CP1_1_power")
    assert writes[power] >= samples * 0.9
    # ... and the slow ones did move on, once a minute.
    assert MINUTES - 1 <= by_key["CP1_last_seen"] <= MINUTES + 1
    assert MINUTES - 1 <= by_key["CP1_1_session_duration"] <= MINUTES + 1
    # Nothing that is not a reading wrote more often than once a minute (the charger going
    # offline at the end adds one write to the live entities).
    too_often = {
        unique_id(hass, entity_id): count
        for entity_id, count in writes.items()
        if entity_id not in readings and count > MINUTES + 2
    }
    assert not too_often
