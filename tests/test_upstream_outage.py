"""A backend that goes away, a Home Assistant that restarts, a backend that cannot be reached
or sends garbage: the charger never notices, and the backend gets what it missed, in order."""

from __future__ import annotations

from pathlib import Path
import ssl
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from ocpp.v16 import call
import pytest

from .charger import connected_charger
from .charger201 import connected_station
from .helpers import (
    bound_port,
    diagnostics,
    meter_values,
    prepare_charger,
    prepare_station,
    start_transaction,
)
from .upstream_backend import (
    Backend,
    answer_of,
    free_port,
    running_backend,
    self_signed_certificate,
)
from .upstream_helpers import (
    link_diagnostics,
    link_settles,
    upstream_entry,
    upstream_state,
    wait_upstream,
)

pytestmark = pytest.mark.usefixtures("fast_upstream")

T0 = "2026-01-01T10:00:00Z"
T1 = "2026-01-01T10:05:00Z"
T2 = "2026-01-01T10:30:00Z"


def _after_last_boot(backend: Backend) -> list[str]:
    last = max(i for i, (action, _) in enumerate(backend.calls) if action == "BootNotification")
    return [a for a, _ in backend.calls[last + 1 :] if a != "Heartbeat"]


async def test_outage_during_a_session_is_replayed_in_order_1_6(hass: HomeAssistant) -> None:
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            tx = await start_transaction(cp)
            await link_settles(hass, entry)  # the backend answered the StartTransaction
            await backend.stop()
            await wait_upstream(hass, "off")
            # The charger carries on; Home Assistant answers it as ever.
            await cp.call(meter_values(T1, transaction_id=tx, energy=2500))
            await cp.status(1, "Finishing", timestamp=T2)
            await cp.call(call.StopTransaction(transaction_id=tx, meter_stop=9000, timestamp=T2))
            await backend.start()
            await wait_upstream(hass)
            [stop] = await backend.wait_for("StopTransaction")
        assert _after_last_boot(backend) == ["MeterValues", "StatusNotification", "StopTransaction"]
        [meter] = backend.payloads("MeterValues")
        assert meter["meterValue"][0]["timestamp"] == T1  # when it happened, not when sent
        assert meter["transactionId"] == stop["transactionId"] == backend.next_tx


async def test_outage_during_a_session_is_replayed_in_order_2_0_1(hass: HomeAssistant) -> None:
    def event(kind: str, seq: int, when: str) -> dict[str, object]:
        return {
            "eventType": kind,
            "timestamp": when,
            "triggerReason": "Authorized" if kind == "Started" else "MeterValuePeriodic",
            "seqNo": seq,
            "transactionInfo": {"transactionId": "TX-3"},
            **(
                {"idToken": {"idToken": "HomeAssistant", "type": "Central"}, "evse": {"id": 1}}
                if kind == "Started"
                else {}
            ),
        }

    async with running_backend("2.0.1") as backend:
        entry = await upstream_entry(hass, backend.url, charger_id="CS1")
        async with connected_station(bound_port(entry), "CS1") as station:
            await prepare_station(hass, station)
            await wait_upstream(hass, charger_id="CS1")
            await station.send("TransactionEvent", event("Started", 0, T0))
            await link_settles(hass, entry, charger_id="CS1")
            await backend.stop()
            await wait_upstream(hass, "off", charger_id="CS1")
            await station.send("TransactionEvent", event("Updated", 1, T1))
            await station.send("TransactionEvent", event("Ended", 2, T2))
            await backend.start()
            await backend.wait_for("TransactionEvent", 3)
        assert _after_last_boot(backend) == ["TransactionEvent", "TransactionEvent"]
        replayed = backend.payloads("TransactionEvent")[1:]
        assert [(p["eventType"], p["seqNo"], p["timestamp"]) for p in replayed] == [
            ("Updated", 1, T1),
            ("Ended", 2, T2),
        ]


async def test_restart_keeps_the_queue(hass: HomeAssistant) -> None:
    """What the backend missed survives a restart of Home Assistant, and so does the
    charger's boot, which introduces it to the backend after the restart."""
    backend = Backend("1.6", port=free_port())
    entry = await upstream_entry(hass, backend.url)
    try:
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await cp.status(1, "Preparing", timestamp=T0)
            await start_transaction(cp)
            assert (await link_diagnostics(hass, entry))["queued"] == 2
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await backend.start()
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        async with connected_charger(bound_port(entry), "CP1"):  # connects, does not boot
            await wait_upstream(hass)
            await backend.wait_for("StartTransaction")
        assert [a for a, _ in backend.calls if a != "Heartbeat"] == [
            "BootNotification",
            "StatusNotification",
            "StartTransaction",
        ]
        assert backend.calls[0][1]["chargePointVendor"] == "Acme"
    finally:
        await backend.stop()


async def test_unreachable_backend(hass: HomeAssistant) -> None:
    """Nothing listens at the backend's address: the charger works as without upstream,
    the entity is off and the diagnostics say why."""
    entry = await upstream_entry(hass, f"ws://127.0.0.1:{free_port()}/ocpp")
    async with connected_charger(bound_port(entry), "CP1") as cp:
        await prepare_charger(hass, cp)
        await cp.status(1, "Preparing", timestamp=T0)
        assert (await cp.call(call.Authorize(id_tag="HomeAssistant"))).id_tag_info == {
            "status": "Accepted"
        }
        assert upstream_state(hass) == "off"
        link = await link_settles(hass, entry, "last_error")
        assert link["connected"] is False
        assert link["last_error"].startswith("cannot connect")
        assert link["queued"] == 2


async def test_backend_sending_garbage(hass: HomeAssistant) -> None:
    """Frames that are not OCPP, unknown actions and broken payloads from the backend get an
    error or nothing: the charger stays connected and answered, the link stays up."""
    async with running_backend("1.6") as backend:
        entry = await upstream_entry(hass, backend.url)
        async with connected_charger(bound_port(entry), "CP1") as cp:
            await prepare_charger(hass, cp)
            await wait_upstream(hass)
            point = backend.point
            await point.send_only("not json at all")
            await point.send_only(b"\xff\xfe binary")
            await point.send_only("[3, 42, {}]")
            bogus = answer_of(await point.raw_call("Bogus", {}))
            assert isinstance(bogus, tuple) and bogus[0] == "NotImplemented"
            broken = answer_of(await point.raw_call("RemoteStartTransaction", {"idTag": 5}))
            assert isinstance(broken, tuple) and broken[0] in (
                "TypeConstraintViolation",
                "FormatViolation",
            )
            assert cp.calls("RemoteStartTransaction") == []
            await cp.status(1, "Available", timestamp=T0)
            await backend.wait_for("StatusNotification")
            assert upstream_state(hass) == "on"
            assert (await diagnostics(hass, entry))["chargers"]["CP1"]["connected"] is True


async def test_wss_uses_home_assistants_client_context(hass: HomeAssistant, tmp_path: Path) -> None:
    """wss checks the backend's certificate with Home Assistant's client context (the
    system's CAs; here one that trusts the test backend's self-signed certificate). That a
    certificate it does not trust fails is tests/test_upstream_link.py's test_wss: here the
    refused handshake would count as an error of the test's event loop."""
    cert_file, key_file = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=cert_file)
    backend = Backend("1.6")
    await backend.start(server_context)
    try:
        with patch(
            "custom_components.ocpp_central.upstreams.client_context", return_value=trusting
        ):
            entry = await upstream_entry(hass, backend.url)
            assert backend.url.startswith("wss://")
            async with connected_charger(bound_port(entry), "CP1") as cp:
                await prepare_charger(hass, cp)
                await wait_upstream(hass)
        assert backend.actions() == ["BootNotification"]
    finally:
        await backend.stop()
