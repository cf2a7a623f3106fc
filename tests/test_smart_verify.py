"""Trust, but verify: a charger that ignores or refuses its limits gets a repair issue, and
the other chargers get less so that the fuse still holds."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.diagnostics import async_get_config_entry_diagnostics

from .smart_helpers import (
    boot,
    charger,
    draw,
    follow,
    limits,
    set_grid,
    set_mode,
    settle,
    shown,
    smart_profiles,
    smart_site,
    start,
    stop,
    tick,
    wait_until,
)


def issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def test_a_charger_that_ignores_its_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=20)
    port = entry.runtime_data.server.port
    async with charger(port, "CP1") as cp1, charger(port, "CP2") as cp2:
        await boot(hass, cp1, firmware="6.4.2")
        await boot(hass, cp2)
        await set_mode(hass, "fast", "CP1")
        await set_mode(hass, "fast", "CP2")
        await start(hass, cp1)
        await wait_until(cp1, lambda: limits(cp1) == [18])
        await follow(hass, 2, cp1)
        await start(hass, cp2)
        await wait_until(cp1, lambda: limits(cp1) == [18, 9])
        await wait_until(cp2, lambda: limits(cp2) == [9])

        # CP1 keeps drawing 18 A. The fuse is exceeded (29 A): it is watched for a minute.
        await draw(hass, cp1, 18, 18, 18)
        await draw(hass, cp2, 9, 9, 9)
        set_grid(hass, 29, 29, 29)
        await tick(hass, freezer, 30)
        set_grid(hass, 29, 29, 28.9)
        await draw(hass, cp1, 18, 18, 18.1)
        assert issue(hass, "ignores_limits_CP1") is None
        await tick(hass, freezer, 31)

        found = issue(hass, "ignores_limits_CP1")
        assert found is not None
        assert found.translation_key == "ignores_limits"
        assert found.severity is ir.IssueSeverity.WARNING
        assert found.translation_placeholders == {
            "charger": "CP1",
            "charger_id": "CP1",
            "firmware": "6.4.2",
            "limit": "9",
            "drawn": "18.1",
        }
        # Its 18 A are fixed load now: CP2 is paused so that the fuse holds (2 + 18 = 20).
        await wait_until(cp2, lambda: limits(cp2) == [9, 0])
        assert shown(hass, "CP2") == ("0.0", "fuse")
        assert limits(cp1) == [18, 9]  # ignoring its limit earns it no more
        diagnostics = await async_get_config_entry_diagnostics(hass, entry)
        smart = diagnostics["smart_charging"]
        assert smart["enabled"] is True
        assert smart["watches"]["CP1/1"]["flagged"] is True
        assert smart["told"]["CP1/1"][0] == 9
        assert smart["told"]["CP2/1"][0] == 0

        # It follows its limit after all: the issue is gone.
        await draw(hass, cp1, 9, 9, 9)
        assert issue(hass, "ignores_limits_CP1") is None


async def test_a_charger_that_refuses_limits(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    set_grid(hass, 2, 2, 2)
    entry = await smart_site(hass, main_fuse=20)
    async with charger(entry.runtime_data.server.port, "CP1") as cp:
        await boot(hass, cp, firmware="1.8.0")
        await set_mode(hass, "fast")
        cp.answers["SetChargingProfile"] = "Rejected"
        tx = await start(hass, cp)
        await wait_until(cp, lambda: len(smart_profiles(cp)) == 1)
        await tick(hass, freezer, 11)  # tried again after 10 s
        await wait_until(cp, lambda: len(smart_profiles(cp)) == 2)
        set_grid(hass, 2, 2, 2.1)
        await tick(hass, freezer, 11)
        await wait_until(cp, lambda: len(smart_profiles(cp)) == 3)
        found = issue(hass, "limits_refused_CP1")
        assert found is not None
        assert found.translation_key == "limits_refused"
        assert (found.translation_placeholders or {}).get("firmware") == "1.8.0"
        # It is left alone for the rest of the session.
        set_grid(hass, 2, 2, 2)
        await tick(hass, freezer, 30)
        assert len(smart_profiles(cp)) == 3
        await stop(hass, cp, tx)

        # A later session whose limit it accepts ends the issue.
        cp.answers["SetChargingProfile"] = "Accepted"
        await start(hass, cp)
        await wait_until(cp, lambda: len(smart_profiles(cp)) == 4)
        await settle(hass)
        assert issue(hass, "limits_refused_CP1") is None
