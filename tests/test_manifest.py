"""The manifest's promises: requirements that the tested versions satisfy, and `loggers` that
name every library logger the integration's messages can come from (none: the libraries it
logs through log under the integration's own name)."""

from __future__ import annotations

from importlib.metadata import version
import json
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
from packaging.requirements import Requirement
import pytest

from .charger import connected_charger

ROOT = Path(__file__).parent.parent
MANIFEST = json.loads((ROOT / "custom_components/ocpp_central/manifest.json").read_text())


def test_requirements_hold_for_the_tested_versions() -> None:
    """Each manifest requirement is met by the version requirements_test.txt pins, and
    websockets is a range (Home Assistant and other integrations share one websockets)."""
    pins = {
        Requirement(line).name: Requirement(line)
        for line in (ROOT / "requirements_test.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for line in MANIFEST["requirements"]:
        requirement = Requirement(line)
        (pinned,) = (str(spec.version) for spec in pins[requirement.name].specifier)
        assert requirement.specifier.contains(pinned), (line, pinned)
        assert requirement.specifier.contains(version(requirement.name)), line
    websockets = Requirement(next(r for r in MANIFEST["requirements"] if "websockets" in r))
    assert not any(spec.operator == "==" for spec in websockets.specifier)


async def test_libraries_log_under_the_integration(
    hass: HomeAssistant, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A charger's visit at debug level: what websockets logs of the server side arrives under
    custom_components.ocpp_central, and nothing under a library's own logger (the scripted
    charger logs as simulator.scripted), so `loggers` has nothing to name."""
    caplog.set_level(logging.DEBUG)
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.call(call.Heartbeat())
    await hass.async_block_till_done()
    names = {record.name for record in caplog.records}
    assert "custom_components.ocpp_central.wire.server.websockets" in names
    libraries = ("ocpp", "websockets", "fastjsonschema")
    assert not [name for name in names if name.split(".")[0] in libraries]
    assert MANIFEST["loggers"] == []
