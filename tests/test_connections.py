"""Connections under attack: same-id races, frames no parser can read, broken handshakes,
connect-boot-disconnect rounds, and what a charger can make us log."""

from __future__ import annotations

import asyncio
import json
import logging

from homeassistant.core import HomeAssistant
from ocpp.messages import CallError, CallResult
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from custom_components.ocpp_central.const import CONF_NEW_CHARGERS, DOMAIN, NEW_CHARGERS_ASK

from .charger import connected_charger
from .helpers import add_charger, basic, entity_state, make_entry, setup_entry


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def call_over(ws: ClientConnection, unique_id: str, action: str) -> list[object]:
    """Send a Call on a raw websocket; return the answer to it."""
    await ws.send(json.dumps([2, unique_id, action, {}]))
    async with asyncio.timeout(5):
        while (answer := json.loads(await ws.recv()))[1] != unique_id:
            pass
    return answer  # type: ignore[no-any-return]


# --- several connections with one charger id ---------------------------------------------


async def test_simultaneous_connections_leave_only_the_newest(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    url = f"ws://127.0.0.1:{port}/CP1"
    sockets = await asyncio.gather(
        *(connect(url, subprotocols=["ocpp1.6"]) for _ in range(5))  # type: ignore[list-item]
    )
    try:
        pending = {asyncio.ensure_future(ws.wait_closed()) for ws in sockets}
        with pytest.raises(TimeoutError):  # the survivor stays open
            async with asyncio.timeout(2):
                while sum(ws.state is State.OPEN for ws in sockets) > 1:
                    _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                await asyncio.wait(pending)
        alive = [ws for ws in sockets if ws.state is State.OPEN]
        assert len(alive) == 1
        # The survivor is the connection the central system serves, and it works.
        served = entry.runtime_data.sessions["CP1"].connection.websocket
        assert served.remote_address == alive[0].local_address
        await alive[0].send(
            json.dumps(
                [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}]
            )
        )
        async with asyncio.timeout(5):
            answer = json.loads(await alive[0].recv())
        assert answer[0] == 3 and answer[2]["status"] == "Accepted"
        await hass.async_block_till_done()
        assert entity_state(hass, "binary_sensor", "CP1_connected") == "on"
    finally:
        for ws in sockets:
            await ws.close()


# --- frames no parser can read ------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "unique_id"),
    [
        pytest.param(
            '[2,"big","Heartbeat",{"x":' + "1" * 5000 + "}]", "big", id="int_of_5000_digits"
        ),
        pytest.param(
            '[2,"deep","DataTransfer",{"vendorId":"x","data":' + "[" * 10_000 + "]" * 10_000 + "}]",
            "deep",
            id="nesting_of_10000_levels",
        ),
        pytest.param(
            '[2,"mid","DataTransfer",{"vendorId":"x","data":' + "[" * 900 + "]" * 900 + "}]",
            "mid",
            id="nesting_of_900_levels",
        ),
        pytest.param("[" * 10_000 + "]" * 10_000, None, id="nesting_without_unique_id"),
        pytest.param("1" * 5000, None, id="bare_int_of_5000_digits"),
    ],
)
async def test_unparsable_frame_answered_or_dropped(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: int,
    caplog: pytest.LogCaptureFixture,
    frame: str,
    unique_id: str | None,
) -> None:
    async with connect(f"ws://127.0.0.1:{port}/CP1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(frame)
        if unique_id is not None:
            async with asyncio.timeout(5):
                answer = json.loads(await ws.recv())
            assert answer[:2] == [4, unique_id]
            assert answer[2] in ("FormatViolation", "TypeConstraintViolation")
        # The connection stays open and serves the next message.
        answer = await call_over(ws, "hb", "Heartbeat")
        assert answer[0] == 3
    assert errors_logged(caplog) == []


# --- handshakes -----------------------------------------------------------------------------


async def handshake(port: int, *headers: tuple[str, str], path: str = "/CP1") -> int:
    """The HTTP status a raw websocket handshake with these extra headers gets."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: ocpp1.6",
        *(f"{name}: {value}" for name, value in headers),
    ]
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        async with asyncio.timeout(5):
            status = await reader.readline()
        return int(status.split()[1])
    finally:
        writer.close()


async def test_malformed_handshakes_never_get_500(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    await add_charger(
        hass, entry, {"charger_id": "PW1", "password": "s3cret-s3cret", "lenient": False}
    )
    await hass.async_block_till_done()
    good = basic("PW1", "s3cret-s3cret")["Authorization"]
    wrong = basic("PW1", "wrong")["Authorization"]
    cases = [
        # (path, headers, status): CP1 needs no password, PW1 does.
        ("/CP1", [("Authorization", good), ("Authorization", wrong)], 400),
        ("/PW1", [("Authorization", good), ("Authorization", wrong)], 400),
        ("/PW1", [("Authorization", good), ("Authorization", good)], 400),
        ("/PW1", [("Authorization", "Basic")], 401),
        ("/PW1", [("Authorization", "Basic \xff\xfe")], 401),
        ("/PW1", [("Authorization", "Bearer x")], 401),
        ("/CP1", [("Authorization", "Basic \xff\xfe")], 101),  # ignored: none needed
        ("/PW1", [("Authorization", good)], 101),
    ]
    for path, headers, expected in cases:
        assert await handshake(port, *headers, path=path) == expected, (path, headers)
    assert errors_logged(caplog) == []


# --- chargers waiting for approval ----------------------------------------------------------


async def test_pending_cap_holds_over_connect_boot_disconnect_rounds(hass: HomeAssistant) -> None:
    entry = make_entry(**{CONF_NEW_CHARGERS: NEW_CHARGERS_ASK})
    port = await setup_entry(hass, entry)

    def flows() -> list[str | None]:
        return [
            flow["context"].get("unique_id")
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        ]

    for round_number in range(25):
        async with connected_charger(port, f"ROUND{round_number}") as cp:
            assert (await cp.boot()).status == "Pending"
            await hass.async_block_till_done()
        await hass.async_block_till_done()
    assert len(flows()) <= 20
    # A charger that stays connected keeps its flow.
    async with connected_charger(port, "STAYS") as cp:
        assert (await cp.boot()).status == "Pending"
        await hass.async_block_till_done()
        assert "STAYS" in flows()
    await hass.async_block_till_done()
    assert "STAYS" not in flows()


# --- what a charger can make us log --------------------------------------------------------


async def test_data_transfer_vendor_warnings_are_bounded(
    hass: HomeAssistant, entry: MockConfigEntry, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            for number in range(300):
                answer = await cp.raw_call("DataTransfer", {"vendorId": f"vendor-{number}"})
                assert isinstance(answer, CallResult)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert 1 <= len(warnings) <= 64
        # Still served as before.
        assert (await cp.call(call.Heartbeat())) is not None
        answer = await cp.raw_call("DataTransfer", {"vendorId": "vendor-0"})
        assert not isinstance(answer, CallError)
