"""The upstream link against a real backend over websockets: handshake, boot, heartbeat,
reconnects, TLS, secrets, and a backend that sends garbage."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
import json
import logging
from pathlib import Path
import ssl

import pytest

from custom_components.ocpp_central.const import MAX_FRAME_BYTES
from custom_components.ocpp_central.upstream.frames import MAX_WAITING_CALLS
from custom_components.ocpp_central.upstream.link import MAX_ATTEMPTS

from .upstream_backend import (
    BOOT16,
    BOOT201,
    FAST,
    T0,
    Backend,
    ConnectedWatch,
    FakeCharger,
    MemoryStore,
    answer_of,
    eventually,
    running_backend,
    running_upstream,
    self_signed_certificate,
)

VERSIONS = ["1.6", "2.0.1"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Upstream is free of Home Assistant: these tests need no hass instance."""


@pytest.mark.parametrize("version", VERSIONS)
async def test_handshake_and_boot(version: str) -> None:
    """The charger's subprotocol, its id appended to the URL, no auth without a password,
    and the charger's BootNotification before anything else."""
    watch = ConnectedWatch()
    async with running_backend(version) as backend, running_upstream(backend, watch=watch) as up:
        await watch.wait(True)
        assert up.connected
        request = backend.requests[0]
        assert request.path == "/ocpp/CP1"
        assert backend.subprotocols == [f"ocpp{version}"]
        assert "Authorization" not in request.headers
        assert backend.calls == [("BootNotification", BOOT16 if version == "1.6" else BOOT201)]
    assert watch.states == [True, False]


async def test_basic_auth_and_upstream_id(caplog: pytest.LogCaptureFixture) -> None:
    """upstream_id:upstream_password as HTTP Basic; the password is in no log line, not even
    websockets' debug log of the handshake headers."""
    caplog.set_level(logging.DEBUG)
    async with (
        running_backend("1.6") as backend,
        running_upstream(backend, upstream_id="OP-42", password="pa:ss wörd") as up,
    ):
        await backend.wait_for("BootNotification")
        request = backend.requests[0]
        assert request.path == "/ocpp/OP-42"
        token = base64.b64encode("OP-42:pa:ss wörd".encode()).decode()
        assert request.headers["Authorization"] == f"Basic {token}"
        assert "pa:ss" not in json.dumps(up.diagnostics())
    ours = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("custom_components")
    )
    assert "> Authorization: **REDACTED**" in ours  # websockets' header log, redacted
    assert "pa:ss" not in ours
    assert token not in ours


async def test_url_ending_with_the_id_is_kept() -> None:
    async with running_backend("1.6") as backend:
        async with running_upstream(backend, url=f"{backend.url}/CP1"):
            await backend.wait_for("BootNotification")
        assert backend.requests[0].path == "/ocpp/CP1"


async def test_waits_for_a_boot_payload() -> None:
    """Without the charger's BootNotification there is nothing to introduce it with."""
    async with running_backend("1.6") as backend, running_upstream(backend, boot=False) as up:
        up.forward(
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
            {},
        )
        await asyncio.sleep(0.05)
        assert backend.requests == []
        up.forward("BootNotification", BOOT16, {"status": "Accepted"})
        await backend.wait_for("StatusNotification")
        assert backend.actions() == ["BootNotification", "StatusNotification"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_boot_pending_and_rejected(version: str) -> None:
    """Only BootNotification is sent until the backend accepts one; a rejected link refuses the
    backend's calls; the retry waits the backend's interval."""
    watch = ConnectedWatch()
    async with running_backend(version) as backend:
        backend.boot_statuses = ["Pending", "Rejected"]
        backend.interval = 20  # 0.2 s in test time
        async with running_upstream(backend, watch=watch) as up:
            up.forward(*_status(version))
            await eventually(lambda: up.diagnostics()["boot_state"] == "rejected")
            point = backend.point
            start = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
            refused = answer_of(await point.raw_call(start, _start(version)))
            assert isinstance(refused, tuple) and refused[0] == "SecurityError"
            assert not up.connected
            await watch.wait(True)
            await backend.wait_for("StatusNotification")
        assert backend.actions() == ["BootNotification"] * 3 + ["StatusNotification"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_heartbeat_when_idle(version: str) -> None:
    """Our own Heartbeat at the backend's interval; the charger's are not forwarded."""
    async with running_backend(version) as backend:
        backend.interval = 10  # the lowest taken: 0.1 s in test time
        async with running_upstream(backend) as up:
            await backend.wait_for("BootNotification")
            up.forward("Heartbeat", {}, {"currentTime": "2026-01-01T00:00:00Z"})
            assert len(up.state.queue) == 0
            await backend.wait_for("Heartbeat", 2)


async def test_reconnects_after_outages() -> None:
    """Down at start, up, down, up: the link keeps trying (with backoff) and reports it."""
    watch = ConnectedWatch()
    backend = Backend("1.6")
    async with running_upstream(backend, watch=watch) as up:
        await asyncio.sleep(0.05)  # a few refused attempts
        assert not up.connected and watch.states == []
        await backend.start()
        await watch.wait(True)
        await backend.stop()
        await watch.wait(False)
        await backend.start()
        await watch.wait(True)
        await backend.stop()
    assert watch.states == [True, False, True, False]
    assert backend.actions() == ["BootNotification", "BootNotification"]


async def test_wss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """wss verifies the backend's certificate: with the system's CAs a self-signed one fails,
    with a context that trusts it the link works."""
    cert_file, key_file = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    backend = Backend("1.6")
    await backend.start(server_context)
    try:
        assert backend.url.startswith("wss://")
        async with running_upstream(backend) as up:
            await eventually(lambda: "cannot connect" in caplog.text)
            assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
            assert not up.connected and backend.calls == []
        trusting = ssl.create_default_context(cafile=cert_file)
        watch = ConnectedWatch()
        async with running_upstream(backend, ssl_context=trusting, watch=watch):
            await watch.wait(True)
    finally:
        await backend.stop()


def _status(version: str) -> tuple[str, dict[str, object], dict[str, object]]:
    if version == "1.6":
        return (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            {},
        )
    return (
        "StatusNotification",
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        },
        {},
    )


def _start(version: str) -> dict[str, object]:
    if version == "1.6":
        return {"idTag": "TAG1", "connectorId": 1}
    return {"idToken": {"idToken": "TAG1", "type": "ISO14443"}, "remoteStartId": 1}


@pytest.mark.parametrize("version", VERSIONS)
async def test_garbage_from_the_backend(version: str) -> None:
    """Malformed frames, unknown or misdirected actions, wrong types, stray answers: each gets a
    CallError or is dropped; the link stays up and forwarding goes on."""
    charger = FakeCharger()
    async with (
        running_backend(version) as backend,
        running_upstream(backend, charger=charger) as up,
    ):
        await backend.wait_for("BootNotification")
        point = backend.point
        start = "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction"
        cases: list[tuple[str | bytes, str | None]] = [
            ("not json", None),
            ("{}", None),
            ('[2, "g1", "Reset"]', "ProtocolError"),
            ('[2, "g2", "NoSuchAction", {}]', "NotImplemented"),
            ('[2, "g3", "BootNotification", {}]', "NotSupported"),
            (json.dumps([2, "g4", start, {"idTag": 5, "idToken": 5}]), "Typed"),
            ('[2, "g5", "Reset", "not an object"]', "FormatViolation"),
            ('[2, "g6", ["Reset"], {}]', "FormatViolation"),
            ('[3, "nobody-asked", {}]', None),
            ('[4, "nobody-asked", "GenericError", "", {}]', None),
            (b"\xff\xfe", None),
        ]
        for frame, code in cases:
            answer = await point.send_frame(frame)
            if code is None:
                assert answer is None
                continue
            got = answer_of(answer)
            assert isinstance(got, tuple), (frame, got)
            if code == "Typed":
                assert got[0] in (
                    "TypeConstraintViolation",
                    "FormatViolation",
                    "OccurrenceConstraintViolation",
                    "OccurenceConstraintViolation",
                ), got
            else:
                assert got[0] == code, (frame, got)
        assert charger.calls == []
        assert up.connected and len(backend.requests) == 1
        up.forward(*_status(version))
        await backend.wait_for("StatusNotification")


async def test_huge_frame_redoes_the_link() -> None:
    """A frame over the size limit closes the websocket; the link comes back by itself."""
    watch = ConnectedWatch()
    async with running_backend("1.6") as backend, running_upstream(backend, watch=watch) as up:
        await watch.wait(True)
        huge = json.dumps(
            [2, "big", "DataTransfer", {"vendorId": "x", "data": "x" * MAX_FRAME_BYTES}]
        )
        await backend.point.send_only(huge)
        await backend.wait_for("BootNotification", 2)
        await watch.wait(True)
        assert watch.states == [True, False, True]
        up.forward(*_status("1.6"))
        await backend.wait_for("StatusNotification")


async def test_flood_of_calls_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    """Calls piling up behind a slow charger are dropped past a bound; the link survives."""
    caplog.set_level(logging.DEBUG, logger="custom_components.ocpp_central.upstream")
    charger = FakeCharger()
    charger.release = asyncio.Event()
    flood = MAX_WAITING_CALLS + 20
    async with running_backend("1.6") as backend, running_upstream(backend, charger=charger) as up:
        await backend.wait_for("BootNotification")
        for n in range(flood):
            await backend.point.send_only(json.dumps([2, f"f{n}", "ClearCache", {}]))
        await charger.wait_for(1)
        # The charger is held until the link has read (almost) all of the flood: one call at
        # the charger and MAX_WAITING_CALLS waiting, the rest dropped (no sleep: a loaded
        # machine reads the websocket late).
        dropped = flood - (MAX_WAITING_CALLS + 2)
        await eventually(lambda: caplog.text.count("backend that floods us") >= dropped)
        charger.release.set()
        up.forward(*_status("1.6"))
        await backend.wait_for("StatusNotification")
        assert 1 < len(charger.calls) <= MAX_WAITING_CALLS + 2
        assert up.connected and len(backend.requests) == 1


async def test_store_failures_do_not_stop_the_link(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore(MemoryStore):
        async def load(self) -> object:
            raise OSError("disk gone")

        async def save(self, data: dict[str, object]) -> None:
            raise OSError("disk gone")

    async with (
        running_backend("1.6") as backend,
        running_upstream(backend, store=BrokenStore()) as up,
    ):
        up.forward(*_status("1.6"))
        await backend.wait_for("StatusNotification")
    assert "cannot load the upstream state" in caplog.text
    assert "cannot save the upstream state" in caplog.text


async def test_refused_and_unsendable_messages_are_not_retried() -> None:
    """A CallError from the backend, a payload that is not valid OCPP (a lenient charger's),
    a StopTransaction of a session the backend never heard of: dropped, the rest goes on."""
    async with running_backend("1.6") as backend, running_upstream(backend) as up:
        backend.refused = {"DataTransfer"}
        up.forward("DataTransfer", {"vendorId": "Acme"}, {"status": "Accepted"})
        up.forward("StatusNotification", {"connectorId": 1, "status": "Available"}, {})
        up.forward("StopTransaction", {"transactionId": 3, "meterStop": 1, "timestamp": T0}, {})
        up.forward(*_status("1.6"))
        await backend.wait_for("StatusNotification")
        await eventually(lambda: len(up.state.queue) == 0)
        assert backend.actions() == ["BootNotification", "DataTransfer", "StatusNotification"]
        assert backend.payloads("StatusNotification")[0]["errorCode"] == "NoError"


async def test_unanswered_message_redoes_the_link_then_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A backend that stops answering is reconnected; a message it never answers is tried in
    MAX_ATTEMPTS sessions, then given up, so it cannot hold back the rest for ever."""
    watch = ConnectedWatch()
    timing = replace(FAST, call_timeout=0.1)
    async with (
        running_backend("1.6") as backend,
        running_upstream(backend, watch=watch, timing=timing) as up,
    ):
        backend.silent = {"DataTransfer"}
        up.forward("DataTransfer", {"vendorId": "Acme"}, {"status": "Accepted"})
        up.forward(*_status("1.6"))
        await backend.wait_for("StatusNotification")
        assert backend.actions() == ["BootNotification", "DataTransfer"] * MAX_ATTEMPTS + [
            "BootNotification",
            "StatusNotification",
        ]
        assert "no answer to DataTransfer" in up.diagnostics()["last_error"]
    assert "dropping DataTransfer, never answered" in caplog.text


async def test_refused_boot_and_heartbeat() -> None:
    """A CallError to our boot counts as Rejected (retried later); one to a Heartbeat is
    taken as a sign of life, not retried at once."""
    watch = ConnectedWatch()
    async with running_backend("1.6") as backend:
        backend.refused = {"BootNotification"}
        backend.interval = 10
        async with running_upstream(backend, watch=watch) as up:
            await eventually(lambda: up.diagnostics()["boot_state"] == "rejected")
            assert "BootNotification refused" in up.diagnostics()["last_error"]
            backend.refused = {"Heartbeat"}
            await watch.wait(True)  # after RETRY_DEFAULT (0.6 s in test time)
            await backend.wait_for("Heartbeat", 2)
            assert len(backend.payloads("Heartbeat")) < 5
