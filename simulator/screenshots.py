"""Remake the pictures in docs/images/ from the code as it is.

    python -m simulator.screenshots        (or scripts/screenshots, which installs its needs)

It starts a Home Assistant of its own (see ha_client), onboards a user through the
onboarding API, adds the integration and two chargers through the config flow API, runs
two simulated chargers (a 1.6 one in the garage, a 2.0.1 one in the carport), waits until
both charge, and creates the recommended dashboard and the Energy settings through the
websocket API. Headless Chromium (the system's, driven by Playwright), logged in with the
user's tokens, then takes the pictures of the integration without smart charging. Only
then is smart charging set up: the carport plans tonight's charging from a price sensor
(see plan_setup), and the calendar panel shows the plan. The last picture is taken after
switching Home Assistant to Swedish. Only docs/images/ and a temporary directory are written.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import shutil
import tempfile
import time
from typing import Any

from PIL import Image
from playwright.async_api import Page, async_playwright

from .base import Options, running
from .charger16 import Charger16
from .charger201 import Charger201
from .ha_client import DOMAIN, ROOT, HomeAssistantApi, free_port, running_home_assistant, until
from .plan_setup import plan_tonight

IMAGES = ROOT / "docs" / "images"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# (charger id, name, simulator class, OCPP version): a home with two chargers.
CHARGERS = (("garage", "Garage", Charger16, "1.6"), ("carport", "Carport", Charger201, "2.0.1"))
WIDTH = 1280
TIME_ZONE = "Europe/Stockholm"  # the home's


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def set_up_chargers(ha: HomeAssistantApi, ocpp_port: int) -> None:
    """The integration on `ocpp_port`, and the chargers added before they connect."""
    entry = await ha.flow(
        "/api/config/config_entries/flow", {"handler": DOMAIN}, {"port": ocpp_port}
    )
    entry_id = entry["result"]["entry_id"]
    await ha.flow(
        "/api/config/config_entries/options/flow",
        {"handler": entry_id},
        {"next_step_id": "policies"},
        {"new_chargers": "ask", "id_tag_policy": "accept_all", "require_password": False},
    )
    for charger_id, name, _, _ in CHARGERS:
        await ha.flow(
            "/api/config/config_entries/subentries/flow",
            {"handler": [entry_id, "charger"]},
            {"charger_id": charger_id, "name": name, "lenient": False},
        )
    for subentry in await ha.ws("config_entries/subentries/list", entry_id=entry_id):
        # These chargers offer 16 A: the limit slider's maximum says so.
        await ha.flow(
            "/api/config/config_entries/subentries/flow",
            {"handler": [entry_id, "charger"], "subentry_id": subentry["subentry_id"]},
            {"lenient": False, "max_current": 16, "phases": 3, "voltage": 230},
        )


def charger_section(ids: dict[str, str], charger_id: str, name: str) -> dict[str, Any]:
    """The recommended section for one charger (docs/dashboard.md shows it as YAML)."""

    def tile(key: str, **extra: Any) -> dict[str, Any]:
        return {"type": "tile", "entity": ids[f"{charger_id}_{key}"], **extra}

    problem = ids[f"{charger_id}_problem"]
    return {
        "type": "grid",
        "cards": [
            {"type": "heading", "heading": name, "icon": "mdi:ev-station"},
            tile("1_charging", features=[{"type": "toggle"}]),
            tile("1_charging_limit", features=[{"type": "numeric-input", "style": "slider"}]),
            tile("status"),
            tile("1_soc"),
            tile("1_power"),
            tile("1_session_energy"),
            tile(
                "problem",
                grid_options={"columns": 12},
                visibility=[{"condition": "state", "entity": problem, "state": "on"}],
            ),
        ],
    }


async def create_dashboard(ha: HomeAssistantApi, ids: dict[str, str]) -> None:
    """The recommended dashboard (a view for one charger, one for two) and Energy settings."""
    await ha.ws(
        "lovelace/dashboards/create",
        url_path="ev-charging",
        title="EV charging",
        icon="mdi:ev-station",
        mode="storage",
        show_in_sidebar=True,
        require_admin=False,
    )
    sections = [charger_section(ids, charger_id, name) for charger_id, name, _, _ in CHARGERS]
    views = [
        {"title": "One charger", "path": "one", "type": "sections", "sections": sections[:1]},
        {"title": "Two chargers", "path": "two", "type": "sections", "sections": sections},
    ]
    await ha.ws("lovelace/config/save", url_path="ev-charging", config={"views": views})
    meters = [ids[f"{charger_id}_1_energy"] for charger_id, _, _, _ in CHARGERS]
    # The Energy settings check that each meter has statistics, which the recorder makes
    # every 5 minutes: an hour of them, imported now, passes that check.
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    for meter in meters:
        await ha.ws(
            "recorder/import_statistics",
            metadata={
                "has_mean": False,
                "has_sum": True,
                "name": None,
                "source": "recorder",
                "statistic_id": meter,
                "unit_of_measurement": "kWh",
            },
            stats=[{"start": hour.isoformat(), "state": float(await ha.state(meter)), "sum": 0}],
        )
    await ha.ws(
        "energy/save_prefs",
        energy_sources=[],
        device_consumption=[{"stat_consumption": meter} for meter in meters],
    )


async def wait_charging(ha: HomeAssistantApi, charger_ids: list[str]) -> dict[str, str]:
    """Until the chargers charge and their sessions have some energy; the entity ids."""
    seen: dict[str, str] = {}

    async def charging() -> dict[str, str] | None:
        ids = await ha.entity_ids()
        for charger_id in charger_ids:
            for key in ("1_connector_status", "1_session_energy", "1_soc"):
                seen[f"{charger_id}_{key}"] = await ha.state(ids[f"{charger_id}_{key}"])
        for charger_id in charger_ids:
            if seen[f"{charger_id}_1_connector_status"] != "charging":
                return None
            if float(seen[f"{charger_id}_1_session_energy"]) < 0.05:
                return None
            float(seen[f"{charger_id}_1_soc"])  # a number by now
        return ids

    try:
        return await until("the chargers to charge", charging, timeout=180)
    except TimeoutError as err:
        raise TimeoutError(f"{err}; last seen: {seen}") from None


async def switch_to_swedish(ha: HomeAssistantApi) -> None:
    """Entity names follow the server's language: change it and reload the integration."""
    await ha.ws("config/core/update", language="sv")
    await ha.reload()

    async def renamed() -> bool:
        ids = await ha.entity_ids()
        state = await ha.rest("GET", f"/api/states/{ids['garage_1_charging_limit']}")
        return bool(state["attributes"].get("friendly_name") == "Garage Laddgräns")

    await until("Swedish entity names", renamed, timeout=60)
    # The reload reconnected the chargers; the Swedish picture shows the garage. (A 2.0.1
    # station back in the middle of a session is "preparing" until its next charging state.)
    await wait_charging(ha, ["garage"])


async def shoot(page: Page, url: str, name: str, texts: list[str], height: int) -> None:
    """Open `url` in a window `height` px high, wait until `texts` show, save a small PNG."""
    await page.set_viewport_size({"width": WIDTH, "height": height})
    await page.goto(url)
    await save(page, name, texts)


async def shoot_plan(page: Page, base: str, calendars: list[str], plan_calendar: str) -> None:
    """The calendar panel's list of the next 7 days, with only `plan_calendar` selected
    (the panel keeps which calendars are deselected in local storage)."""
    await page.set_viewport_size({"width": WIDTH, "height": 400})
    await page.goto(f"{base}/calendar")
    others = [c for c in calendars if c != plan_calendar]
    await page.evaluate(
        "(others) => localStorage.setItem('deSelectedCalendars', JSON.stringify(others))", others
    )
    await page.reload()
    # The view buttons: month, week, day, and the list of the next 7 days.
    await page.locator("ha-button-toggle-group ha-icon-button").last.click(timeout=60_000)
    await save(page, "charging-plan", ["kWh ·"])


async def save(page: Page, name: str, texts: list[str]) -> None:
    """Wait until `texts` show on `page`, save it as a small PNG."""
    for text in texts:
        await page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    await page.wait_for_timeout(2000)  # icons, sliders and fonts settle
    path = IMAGES / f"{name}.png"
    await page.screenshot(path=path)
    # A palette of 256 colours keeps a UI picture sharp at a third of the size.
    with Image.open(path) as image:
        image.convert("RGB").quantize(256).save(path, optimize=True)
    log(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


async def take_pictures(ha: HomeAssistantApi, scratch: Path) -> None:
    """Log in as the onboarded user (its tokens in local storage) and take each picture."""
    devices = await ha.ws("config/device_registry/list")
    garage = next(d["id"] for d in devices if [DOMAIN, "garage"] in d["identifiers"])
    base = ha.base
    async with async_playwright() as playwright:
        for language in ("en", "sv"):
            if language == "sv":
                await switch_to_swedish(ha)
            context = await playwright.chromium.launch_persistent_context(
                str(scratch / f"chromium-{language}"),  # a fresh profile
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": WIDTH, "height": 900},
                locale="sv-SE" if language == "sv" else "en-US",
                timezone_id=TIME_ZONE,  # the browser is at home: times show as the home's
            )
            storage = {
                "hassTokens": json.dumps(ha.frontend_tokens()),
                "selectedLanguage": json.dumps(language),
                "dockedSidebar": json.dumps("auto"),  # the sidebar as icons only
            }
            await context.add_init_script(
                "".join(
                    f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});"
                    for k, v in storage.items()
                )
            )
            page = context.pages[0] if context.pages else await context.new_page()
            if language == "en":
                await shoot(page, f"{base}/ev-charging/one", "dashboard", ["Charging limit"], 560)
                await shoot(page, f"{base}/ev-charging/two", "dashboard-two", ["Carport"], 560)
                await shoot(page, f"{base}/lovelace/0", "overview", ["Session energy"], 620)
                await shoot(
                    page,
                    f"{base}/config/devices/device/{garage}",
                    "device",
                    ["Car state of charge", "Diagnostic"],
                    1400,
                )
                await shoot(page, f"{base}/config/energy", "energy", ["Individual devices"], 1100)
                log("setting up smart charging; the carport plans tonight")
                plan_calendar = await plan_tonight(ha)
                states = await ha.rest("GET", "/api/states")
                calendars = [
                    s["entity_id"] for s in states if s["entity_id"].startswith("calendar.")
                ]
                await shoot_plan(page, base, calendars, plan_calendar)
            else:
                await shoot(page, f"{base}/ev-charging/one", "dashboard-sv", ["Laddgräns"], 560)
            await context.close()


async def run() -> None:
    started = time.monotonic()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ocpp-screenshots-") as tmp:
        scratch = Path(tmp)
        (scratch / "config").mkdir()
        log("starting Home Assistant")
        async with running_home_assistant(scratch / "config") as hass:
            ha = hass.api
            log("Home Assistant is up; onboarding")
            await ha.onboard(
                location_name="Home",
                country="SE",
                currency="SEK",
                time_zone=TIME_ZONE,
                unit_system="metric",
            )
            log("adding the integration and the chargers")
            ocpp_port = free_port()
            await set_up_chargers(ha, ocpp_port)
            url = f"ws://127.0.0.1:{ocpp_port}"
            chargers = [
                cls(Options(url=url, version=version, interval=2, session=3600, idle=1), cid)
                for cid, _, cls, version in CHARGERS
            ]
            async with running(chargers):
                ids = await wait_charging(ha, [cid for cid, _, _, _ in CHARGERS])
                log("the chargers charge; creating the dashboard")
                await create_dashboard(ha, ids)
                await take_pictures(ha, scratch)
    log(f"done in {time.monotonic() - started:.0f} s")


def main() -> None:
    argparse.ArgumentParser(
        prog="scripts/screenshots",
        description="Remake docs/images/*.png: Home Assistant, simulated chargers, Chromium.",
    ).parse_args()
    asyncio.run(run())


if __name__ == "__main__":
    main()
