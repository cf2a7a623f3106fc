"""What tests share: a central system to set up, what users see (entities, devices, events),
actions to call, chargers to prepare and the readings they send.

Fixtures are in conftest.py; the chargers themselves in the simulator package (tests/charger.py
and tests/charger201.py name them).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigFlowResult,
    ConfigSubentry,
    SubentryFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.json import json_bytes
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads_object
from ocpp.v16 import call
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion
import voluptuous as vol

from custom_components.ocpp_central.central import CentralSystem
from custom_components.ocpp_central.const import (
    CONF_ID_TAG_POLICY,
    CONF_NEW_CHARGERS,
    DOMAIN,
    ID_TAG_POLICY_KNOWN,
    NEW_CHARGERS_ACCEPT,
    SUBENTRY_CHARGER,
)
from custom_components.ocpp_central.diagnostics import async_get_config_entry_diagnostics

from .charger import SimCharger
from .charger201 import SimStation

type Payload = dict[str, Any]

# --- the central system --------------------------------------------------------------------


def make_entry(*, entry_id: str | None = None, **options: Any) -> MockConfigEntry:
    """A central system entry on a free loopback port that accepts new chargers."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="OCPP Central System",
        data={CONF_HOST: "127.0.0.1", CONF_PORT: 0},
        options={
            CONF_NEW_CHARGERS: NEW_CHARGERS_ACCEPT,
            CONF_ID_TAG_POLICY: ID_TAG_POLICY_KNOWN,
            **options,
        },
        **({"entry_id": entry_id} if entry_id else {}),
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> int:
    """Set up an entry; return the port its server listens on."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return bound_port(entry)


# What no user sees, read from the running central system (entry.runtime_data) in this one
# place: the rest of the suite asserts states, events, action responses, diagnostics and what
# the chargers received.


def bound_port(entry: MockConfigEntry) -> int:
    """The port the entry's server listens on: port 0 in the settings lets the system pick a
    free one, and only the running server knows which."""
    return int(entry.runtime_data.server.port)


def central_system(entry: MockConfigEntry) -> CentralSystem:
    """The entry's running central system, to compare before and after a change: the same
    object means no reload (while no charger is connected, nothing public tells)."""
    central: CentralSystem = entry.runtime_data
    return central


def listening_host(entry: MockConfigEntry) -> str:
    """The host the running server listens on (the settings say what it should be)."""
    return str(entry.runtime_data.server.settings.host)


def open_sessions(entry: MockConfigEntry) -> set[str]:
    """The charger ids the central system holds a connection for, booted or not (a refused
    handshake must leave none; an unknown charger that never booted shows nowhere else)."""
    return set(entry.runtime_data.sessions)


def charger_subentries(entry: MockConfigEntry) -> dict[str, ConfigSubentry]:
    """The entry's charger subentries by charger id."""
    return {
        sub.data["charger_id"]: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CHARGER
    }


def update_charger(
    hass: HomeAssistant, entry: MockConfigEntry, charger_id: str, **data: Any
) -> None:
    """Change a charger's settings (its subentry), as its reconfigure flow does."""
    sub = charger_subentries(entry)[charger_id]
    hass.config_entries.async_update_subentry(entry, sub, data={**sub.data, **data})


async def add_charger(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> SubentryFlowResult:
    """Run the "Add charger" subentry flow with `user_input`; its result."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)


def form_schema(result: ConfigFlowResult | SubentryFlowResult) -> vol.Schema:
    """The schema of the form a flow shows."""
    schema = result["data_schema"]
    assert schema is not None, result
    return schema


# --- what users see ------------------------------------------------------------------------


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """An entity's id, found by unique id through the entity registry."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, f"no {platform} entity {unique_id}"
    return found


def registry_entry(hass: HomeAssistant, platform: str, unique_id: str) -> er.RegistryEntry:
    """An entity's registry entry, found by unique id."""
    entry = er.async_get(hass).async_get(entity_id(hass, platform, unique_id))
    assert entry is not None
    return entry


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> State | None:
    """State of an entity, found by unique id through the entity registry."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    return hass.states.get(found) if found else None


def entity_state(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """The state string of an entity that must exist."""
    found = state_of(hass, platform, unique_id)
    assert found is not None, f"no {platform} entity {unique_id}"
    return found.state


async def diagnostics(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """The entry's diagnostics, as a user downloads them (JSON: connector ids are strings)."""
    data = await async_get_config_entry_diagnostics(hass, entry)
    return json_loads_object(json_bytes(data))


def device_of(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry | None:
    """The device of a charger (its id) or of a connector ("<charger id>_<connector>")."""
    return dr.async_get(hass).async_get_device(identifiers={(DOMAIN, identifier)})


def device_id(hass: HomeAssistant, identifier: str = "CP1") -> str:
    """The device id of a charger (or connector) that must have a device."""
    device = device_of(hass, identifier)
    assert device is not None, f"no device {identifier}"
    return device.id


async def snapshot_entities(
    hass: HomeAssistant, snapshot: SnapshotAssertion, entry: MockConfigEntry
) -> None:
    """Every entity of the entry (one platform loaded) as Home Assistant's own tests show
    them: registry entry and state (attributes included) of each, and the device each is on."""
    ent_reg, dev_reg = er.async_get(hass), dr.async_get(hass)
    await snapshot_platform(hass, ent_reg, snapshot, entry.entry_id)
    devices: dict[str, list[str]] = {}
    for entity in er.async_entries_for_config_entry(ent_reg, entry.entry_id):
        device = dev_reg.async_get(entity.device_id) if entity.device_id else None
        assert device is not None, f"{entity.entity_id} has no device"
        devices[entity.entity_id] = sorted(name for _, name in device.identifiers)
    assert devices == snapshot(name="devices")


def enable_ahead(hass: HomeAssistant, platform: str, *unique_ids: str) -> None:
    """Enable entities that are disabled by default, before the integration creates them
    (a registry entry that exists keeps its enabled state; users enable them in the UI)."""
    ent_reg = er.async_get(hass)
    for unique_id in unique_ids:
        ent_reg.async_get_or_create(platform, DOMAIN, unique_id)


async def wait_for_state(
    hass: HomeAssistant,
    platform: str,
    unique_id: str,
    predicate: Callable[[State], bool],
    timeout: float = 5,
) -> State:
    """Wait until an entity's state satisfies `predicate`.

    Event-driven (pushed state and entity registry updates wake it; no polling sleeps); the
    listener is a `@callback`, so it runs in the event loop.
    """
    changed = asyncio.Event()

    @callback
    def _changed(_: Event[Any]) -> None:
        changed.set()

    unsubs = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _changed),
        hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _changed),
    ]
    try:
        async with asyncio.timeout(timeout):
            while True:
                await hass.async_block_till_done()
                changed.clear()
                found = state_of(hass, platform, unique_id)
                if found is not None and predicate(found):
                    return found
                await changed.wait()
    finally:
        for unsub in unsubs:
            unsub()


def capture_events(hass: HomeAssistant, event_type: str) -> list[Event]:
    """Collect events of one type."""
    events: list[Event] = []

    @callback
    def _append(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(event_type, _append)
    return events


# --- actions -------------------------------------------------------------------------------


async def service(
    hass: HomeAssistant, name: str, data: dict[str, Any], *, response: bool | None = None
) -> Any:
    """Call one of our actions and wait for it; return its response when it has one
    (`response` forces asking for one, or not)."""
    if response is None:
        response = hass.services.supports_response(DOMAIN, name) != "none"
    return await hass.services.async_call(
        DOMAIN, name, data, blocking=True, return_response=response
    )


# --- chargers ------------------------------------------------------------------------------


async def boot_status(cp: SimCharger, **kwargs: str) -> str:
    """Boot a 1.6 charger; the status the central system answered."""
    return str((await cp.boot(**kwargs)).status)


async def prepare_charger(
    hass: HomeAssistant,
    cp: SimCharger,
    connectors: int = 1,
    configuration: Mapping[str, tuple[str, bool]] | None = None,
    **keys: tuple[str, bool],
) -> None:
    """Boot a 1.6 charger with these configuration keys (key -> (value, read-only)) and let
    its preparation (configuration read ...) finish."""
    cp.configuration = {
        "NumberOfConnectors": (str(connectors), True),
        **(configuration or {}),
        **keys,
    }
    await cp.boot()
    await cp.wait_for_call("GetConfiguration")
    # The preparation runs as a background task; let it finish (it talks to the charger).
    await hass.async_block_till_done(wait_background_tasks=True)


async def prepare_station(
    hass: HomeAssistant, station: SimStation, status: str | None = "Available", **boot: Any
) -> None:
    """Boot a 2.x station (report EVSE 1's `status`) and let its preparation (reading the
    device model ...) finish."""
    assert (await station.boot(**boot))["status"] == "Accepted"
    if status is not None:
        await station.status(1, status)
    await station.wait_for_call("GetBaseReport")
    for report in station.report_tasks:
        await report
    await hass.async_block_till_done(wait_background_tasks=True)


async def start_transaction(cp: SimCharger, connector_id: int = 1) -> int:
    """A session started at the charger (id tag HomeAssistant, meter 1000 Wh); its id."""
    result = await cp.call(
        call.StartTransaction(
            connector_id=connector_id,
            id_tag="HomeAssistant",
            meter_start=1000,
            timestamp=dt_util.utcnow().isoformat(),
        )
    )
    return int(result.transaction_id)


def basic(user: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header (OCPP security profile 1/2)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- readings ------------------------------------------------------------------------------


def iso(when: datetime) -> str:
    """A time as OCPP chargers write it."""
    return when.isoformat().replace("+00:00", "Z")


def sv(value: str, measurand: str | None = None, unit: str | None = None, **kw: str) -> Payload:
    """A 1.6 sampledValue; omitted fields are left out of the frame."""
    sampled = {"value": value, **kw}
    if measurand is not None:
        sampled["measurand"] = measurand
    if unit is not None:
        sampled["unit"] = unit
    return sampled


# Short names of the measurands tests send, with the unit they send them in.
MEASURANDS = {
    "energy": ("Energy.Active.Import.Register", "Wh"),
    "power": ("Power.Active.Import", "W"),
    "current": ("Current.Import", "A"),
    "soc": ("SoC", "Percent"),
}


def meter_values(
    at: datetime | str, *, connector_id: int = 1, transaction_id: int | None = None, **values: float
) -> call.MeterValues:
    """A 1.6 MeterValues with one meterValue of the named readings (see MEASURANDS)."""
    sampled = [
        sv(str(value), MEASURANDS[key][0], MEASURANDS[key][1]) for key, value in values.items()
    ]
    return call.MeterValues(
        connector_id=connector_id,
        transaction_id=transaction_id,
        meter_value=[
            {"timestamp": at if isinstance(at, str) else iso(at), "sampledValue": sampled}
        ],
    )


def meter_value_201(
    timestamp: str,
    context: str = "Sample.Periodic",
    *,
    energy_wh: float | None = None,
    power_w: float | None = None,
) -> list[Payload]:
    """A 2.0.1 meterValue list of one: the energy register (Wh) and power (sent in kW)."""
    sampled: list[Payload] = []
    if energy_wh is not None:
        sampled.append(
            {"value": energy_wh, "measurand": "Energy.Active.Import.Register", "context": context}
        )
    if power_w is not None:
        sampled.append(
            {
                "value": power_w / 1000,
                "measurand": "Power.Active.Import",
                "unitOfMeasure": {"unit": "kW"},
                "context": context,
            }
        )
    return [{"timestamp": timestamp, "sampledValue": sampled}]
