"""A charger's upstream settings: the subentry flow (add and reconfigure, with its checks), the
link and its entity following the settings without a reload or a disconnect, diagnostics and
storage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    CONF_LENIENT,
    CONF_UPSTREAM_ID,
    CONF_UPSTREAM_MODE,
    CONF_UPSTREAM_PASSWORD,
    CONF_UPSTREAM_URL,
    SUBENTRY_CHARGER,
)

from .charger import connected_charger
from .helpers import (
    add_charger,
    bound_port,
    capture_events,
    central_system,
    charger_subentries,
    diagnostics,
    entity_id,
    form_schema,
    make_entry,
    prepare_charger,
    registry_entry,
    setup_entry,
)
from .upstream_backend import answer_of, running_backend
from .upstream_helpers import link_diagnostics, upstream_entry, upstream_state, wait_upstream

pytestmark = pytest.mark.usefixtures("fast_upstream", "unload_entries")

TRANSLATIONS = Path(__file__).parent.parent / "custom_components/ocpp_central/translations"


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any], charger_id: str = "CP1"
) -> Any:
    subentry = charger_subentries(entry)[charger_id]
    result = await entry.start_subentry_reconfigure_flow(
        hass, SUBENTRY_CHARGER, subentry.subentry_id
    )
    assert result["step_id"] == "reconfigure"
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_LENIENT: False, **user_input}
    )


async def test_add_charger_with_upstream(hass: HomeAssistant) -> None:
    """The fields are stored as given; an empty upstream id means the charger id."""
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(
        hass,
        entry,
        {
            CONF_CHARGER_ID: "CP1",
            CONF_UPSTREAM_URL: " wss://backend.example/ocpp ",
            CONF_UPSTREAM_PASSWORD: "s3cret",
            CONF_UPSTREAM_MODE: "billing",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_CHARGER_ID: "CP1",
        CONF_LENIENT: False,
        CONF_UPSTREAM_URL: "wss://backend.example/ocpp",
        CONF_UPSTREAM_PASSWORD: "s3cret",
        CONF_UPSTREAM_MODE: "billing",
    }


async def test_mode_defaults_to_shared(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await add_charger(
        hass, entry, {CONF_CHARGER_ID: "CP1", CONF_UPSTREAM_URL: "ws://backend.example"}
    )
    assert result["data"][CONF_UPSTREAM_MODE] == "shared"


@pytest.mark.parametrize(
    ("user_input", "field", "error"),
    [
        ({CONF_UPSTREAM_URL: "backend.example/ocpp"}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        ({CONF_UPSTREAM_URL: "https://backend.example"}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        ({CONF_UPSTREAM_URL: "ws://"}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        ({CONF_UPSTREAM_URL: "ws://host:99999/x"}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        ({CONF_UPSTREAM_URL: "ws://[::1/x"}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        ({CONF_UPSTREAM_URL: "💥" * 50}, CONF_UPSTREAM_URL, "invalid_upstream_url"),
        (
            {CONF_UPSTREAM_URL: "wss://me:pw@backend.example"},
            CONF_UPSTREAM_URL,
            "upstream_url_credentials",
        ),
        (
            {CONF_UPSTREAM_URL: "ws://localhost:{port}/ocpp"},
            CONF_UPSTREAM_URL,
            "upstream_is_this_server",
        ),
        (
            {CONF_UPSTREAM_URL: "ws://127.0.0.1:{port}"},
            CONF_UPSTREAM_URL,
            "upstream_is_this_server",
        ),
        (
            {CONF_UPSTREAM_URL: "ws://backend.example", CONF_UPSTREAM_ID: "x" * 49},
            CONF_UPSTREAM_ID,
            "invalid_upstream_id",
        ),
        (
            {CONF_UPSTREAM_URL: "ws://backend.example", CONF_UPSTREAM_ID: "a\nb"},
            CONF_UPSTREAM_ID,
            "invalid_upstream_id",
        ),
    ],
)
async def test_bad_upstream_settings(
    hass: HomeAssistant, user_input: dict[str, str], field: str, error: str
) -> None:
    """Refused with a translated error, in both forms; nothing is stored."""
    entry = make_entry()
    port = await setup_entry(hass, entry)
    user_input = {k: v.replace("{port}", str(port)) for k, v in user_input.items()}
    result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", **user_input})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert not entry.subentries
    # The form keeps what was typed.
    assert form_schema(result)({})[CONF_CHARGER_ID] == "CP1"

    await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1"})
    result = await _reconfigure(hass, entry, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}
    assert CONF_UPSTREAM_URL not in charger_subentries(entry)["CP1"].data
    for language in ("en", "sv"):
        strings = json.loads((TRANSLATIONS / f"{language}.json").read_text())
        assert strings["config_subentries"]["charger"]["error"][error]


async def test_settings_follow_without_reload_or_disconnect(hass: HomeAssistant) -> None:
    """Adding, changing and clearing the upstream of a connected charger: its link and its
    entity follow; Home Assistant does not reload, the charger stays connected."""
    async with running_backend("1.6") as backend:
        entry = make_entry()
        port = await setup_entry(hass, entry)
        central = central_system(entry)
        await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1"})
        async with connected_charger(port, "CP1") as cp:
            await prepare_charger(hass, cp)
            connected = capture_events(hass, "state_changed")
            assert upstream_state(hass) is None  # no upstream: no entity

            result = await _reconfigure(hass, entry, {CONF_UPSTREAM_URL: backend.url})
            assert result["reason"] == "reconfigure_successful"
            await hass.async_block_till_done()
            entity = registry_entry(hass, "binary_sensor", "CP1_upstream_connected")
            assert entity.entity_category == "diagnostic"
            assert entity.original_device_class == "connectivity"
            # The charger booted before its upstream was set up: it is asked to again.
            trigger = await cp.wait_for_call("TriggerMessage")
            assert trigger == {"requested_message": "BootNotification"}
            await cp.boot()
            await wait_upstream(hass)

            result = await _reconfigure(
                hass, entry, {CONF_UPSTREAM_URL: backend.url, CONF_UPSTREAM_MODE: "observe"}
            )
            await hass.async_block_till_done()
            await wait_upstream(hass)
            assert len(backend.requests) == 2  # a new link, with the new mode
            answer = await backend.point.raw_call(
                "RemoteStartTransaction", {"idTag": "APP", "connectorId": 1}
            )
            assert answer_of(answer) == {"status": "Rejected"}

            result = await _reconfigure(hass, entry, {})
            await hass.async_block_till_done()
            assert upstream_state(hass) is None
            assert (await diagnostics(hass, entry))["chargers"]["CP1"]["upstream"] is None
            # Still the same connection, still answered.
            await cp.status(1, "Available")
        assert central_system(entry) is central
        assert [
            e.data["new_state"].state
            for e in connected
            if e.data["entity_id"] == entity_id(hass, "binary_sensor", "CP1_connected")
        ] == []  # never went off (nor on again)


async def test_diagnostics_show_the_link_without_secrets(hass: HomeAssistant) -> None:
    async with running_backend("1.6") as backend:
        url = backend.url + "?token=abc123"
        entry = await upstream_entry(hass, url, upstream_password="hunter2", upstream_id="EMP-1")
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            data = await diagnostics(hass, entry)
        text = json.dumps(data)
        assert "hunter2" not in text and "abc123" not in text
        [sub] = data["subentries"]
        assert sub[CONF_UPSTREAM_PASSWORD] == "**REDACTED**"
        link = data["chargers"]["CP1"]["upstream"]
        assert link["connected"] is True and link["boot_state"] == "accepted"
        assert link["settings"]["mode"] == "shared"
        assert link["settings"]["upstream_id"] == "EMP-1"
        assert link["settings"]["password"] == "**REDACTED**"
        assert backend.requests[0].path.endswith("/EMP-1?token=abc123")


async def test_removing_a_charger_deletes_its_queue(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    entry = await upstream_entry(hass, "ws://127.0.0.1:9/ocpp")
    async with connected_charger(bound_port(entry), "CP1") as cp:
        await prepare_charger(hass, cp)
        await cp.status(1, "Available")
        assert (await link_diagnostics(hass, entry))["queued"] == 1
    await hass.async_block_till_done()
    key = f"ocpp_central.{entry.entry_id}.upstream.CP1"
    assert hass_storage[key]["data"]["state"]["queue"][0]["action"] == "StatusNotification"
    hass.config_entries.async_remove_subentry(entry, charger_subentries(entry)["CP1"].subentry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
