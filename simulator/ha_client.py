"""A Home Assistant of its own for development tools, and its REST and websocket APIs.

`running_home_assistant()` starts `hass` as scripts/develop does (the frontend and the same
integrations, our integration symlinked in), but in a temporary configuration directory
and on a free port, and stops it again. `HomeAssistantApi` onboards the first user, runs
data entry flows and sends websocket commands as that user. Used by scripts/screenshots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import socket
import sys
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "ocpp_central"
CONFIGURATION = """\
# The integrations of scripts/develop's configuration (config/configuration.yaml).
frontend:
config:
history:
logbook:
energy:
person:
system_health:
sun:
diagnostics:
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until[T](what: str, check: Callable[[], Awaitable[T | None]], timeout: float) -> T:
    """Poll `check` until it returns something true (errors on the way count as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(aiohttp.ClientError, ConnectionError, KeyError, ValueError):
            if result := await check():
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        await asyncio.sleep(0.5)


class HomeAssistantApi:
    """Home Assistant's APIs, as the user that `onboard` creates."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base
        self.client_id = f"{base}/"  # what the frontend served from `base` uses
        self.tokens: dict[str, Any] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ws_id = 0

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        """One REST call; its JSON answer."""
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}
        async with self.http.request(
            method, self.base + path, json=body, headers=headers
        ) as response:
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {await response.text()}")
            return await response.json()

    async def onboard(self, **core_config: Any) -> None:
        """Create the owner, log in as that user, and finish onboarding."""
        async with self.http.post(
            f"{self.base}/api/onboarding/users",
            json={
                "client_id": self.client_id,
                "name": "Alex",
                "username": "alex",
                "password": "development-only",
                "language": "en",
            },
        ) as response:
            response.raise_for_status()
            code = (await response.json())["auth_code"]
        async with self.http.post(
            f"{self.base}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        ) as response:
            response.raise_for_status()
            self.tokens = await response.json()
        if core_config:
            await self.ws("config/core/update", **core_config)
        await self.rest("POST", "/api/onboarding/core_config")
        await self.rest("POST", "/api/onboarding/analytics")
        await self.rest(
            "POST",
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": f"{self.base}/?auth_callback=1"},
        )

    def frontend_tokens(self) -> dict[str, Any]:
        """What the frontend keeps in local storage ("hassTokens") for a logged-in user."""
        expires = int(time.time() * 1000) + int(self.tokens["expires_in"]) * 1000
        return {**self.tokens, "hassUrl": self.base, "clientId": self.client_id, "expires": expires}

    async def ws(self, command: str, **data: Any) -> Any:
        """One websocket command; its result."""
        if self._ws is None:
            self._ws = await self.http.ws_connect(f"{self.base}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.tokens["access_token"]})
            if (await self._ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("websocket authentication failed")
        self._ws_id += 1
        await self._ws.send_json({"id": self._ws_id, "type": command, **data})
        while True:
            message = await self._ws.receive_json()
            if message.get("id") == self._ws_id and message["type"] == "result":
                if not message["success"]:
                    raise RuntimeError(f"{command}: {message['error']}")
                return message["result"]

    async def flow(self, path: str, start: dict[str, Any], *steps: dict[str, Any]) -> Any:
        """Run a data entry flow (config, options or subentry) through its REST API."""
        result = await self.rest("POST", path, start)
        for step in steps:
            if result["type"] not in ("form", "menu"):
                raise RuntimeError(f"{path}: expected a form, got {result}")
            result = await self.rest("POST", f"{path}/{result['flow_id']}", step)
        if result["type"] not in ("create_entry", "abort"):
            raise RuntimeError(f"{path}: the flow did not finish: {result}")
        return result

    async def entity_ids(self) -> dict[str, str]:
        """Our integration's entity ids by unique id."""
        entries = await self.ws("config/entity_registry/list")
        return {e["unique_id"]: e["entity_id"] for e in entries if e["platform"] == DOMAIN}

    async def state(self, entity_id: str) -> str:
        """An entity's state."""
        return str((await self.rest("GET", f"/api/states/{entity_id}"))["state"])

    async def reload(self) -> None:
        """Reload our integration's entry (as "Reload" in its menu does)."""
        entries = await self.rest("GET", "/api/config/config_entries/entry")
        entry_id = next(e["entry_id"] for e in entries if e["domain"] == DOMAIN)
        await self.rest("POST", f"/api/config/config_entries/entry/{entry_id}/reload")


@dataclass(slots=True)
class Running:
    """A started Home Assistant: its API (not onboarded yet) and its log file."""

    api: HomeAssistantApi
    log_file: Path


@contextlib.asynccontextmanager
async def running_home_assistant(config_dir: Path) -> AsyncIterator[Running]:
    """Start Home Assistant with `config_dir` (made here), wait until it answers, and stop
    it when the block ends. On an error, the end of its log is printed."""
    port = free_port()
    (config_dir / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    (config_dir / "custom_components").symlink_to(ROOT / "custom_components")
    log_file = config_dir / "hass.log"
    # As scripts/develop: keeps the run-time installs of requirements from upgrading pycares.
    env = {**os.environ, "UV_OVERRIDE": ".venv/develop-overrides.txt"}
    with log_file.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv" / "bin" / "hass"),
            "-c",
            str(config_dir),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with aiohttp.ClientSession() as http:
                api = HomeAssistantApi(http, f"http://127.0.0.1:{port}")

                async def up() -> bool:
                    async with http.get(f"{api.base}/api/onboarding") as response:
                        return response.status == 200

                await until("Home Assistant to start", up, timeout=300)
                yield Running(api, log_file)
        except BaseException:
            lines = log_file.read_text(errors="replace").splitlines()
            print(f"--- the last lines of {log_file} ---", *lines[-40:], sep="\n", file=sys.stderr)
            raise
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
