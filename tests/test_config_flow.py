"""Config flow: server setup, reconfigure and discovered chargers (the options flow and the
charger subentry flow have their own modules).

Everything goes through Home Assistant's flow managers, as the UI does, against a real server
and real (simulated) chargers on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import datetime
from pathlib import Path
import socket
import ssl
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from ocpp.messages import CallError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_central.const import (
    CONF_CHARGER_ID,
    CONF_ID_TAG_POLICY,
    CONF_LENIENT,
    CONF_NEW_CHARGERS,
    CONF_REQUIRE_PASSWORD,
    CONF_SSL_CERTFILE,
    CONF_SSL_KEYFILE,
    DOMAIN,
)

from .charger import connected_charger
from .helpers import (
    add_charger,
    boot_status,
    bound_port,
    central_system,
    charger_subentries,
    form_schema,
    listening_host,
    make_entry,
    setup_entry,
    wait_for_state,
)

LOCALHOST = "127.0.0.1"
# TEST-NET-1 (RFC 5737): a valid address that is never one of this machine's.
FOREIGN_HOST = "192.0.2.1"


# --- helpers --------------------------------------------------------------------------------


def free_port(host: str = LOCALHOST) -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def port_taken(host: str = LOCALHOST) -> Iterator[int]:
    """Another program listening on a port (released at the end)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


async def tls_peer_certificate(port: int, cafile: Path) -> dict[str, Any]:
    """Open a TLS connection to the server, trusting only `cafile`; return its certificate."""
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False
    reader, writer = await asyncio.open_connection(LOCALHOST, port, ssl=context)
    try:
        certificate: dict[str, Any] = writer.get_extra_info("peercert")
        return certificate
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()


async def start_user_flow(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert not result["errors"]
    return result


async def start_discovery(
    hass: HomeAssistant, entry_id: str, charger_id: str, **info: str
) -> ConfigFlowResult:
    """What the server does when an unknown charger boots while the policy is `ask`."""
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"entry_id": entry_id, CONF_CHARGER_ID: charger_id, **info},
    )


pytestmark = pytest.mark.usefixtures("unload_entries")


# --- user step ------------------------------------------------------------------------------


async def test_user_only_port(hass: HomeAssistant) -> None:
    """Only the port is required; the server listens on every interface."""
    port = free_port("0.0.0.0")
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: port})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "OCPP Central System"
    assert result["data"] == {CONF_PORT: port, CONF_HOST: "0.0.0.0"}
    assert result["options"] == {
        CONF_NEW_CHARGERS: "ask",
        CONF_ID_TAG_POLICY: "known",
        CONF_REQUIRE_PASSWORD: False,
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert bound_port(entry) == port


async def test_user_port_in_use(hass: HomeAssistant) -> None:
    """A port another program holds is refused on the port field; freed, it works."""
    result = await start_user_flow(hass)
    with port_taken() as port:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: port, CONF_HOST: LOCALHOST}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_PORT: "port_in_use"}
        # The form keeps what the user typed.
        assert form_schema(result)({}) == {CONF_PORT: port, CONF_HOST: LOCALHOST}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_HOST: LOCALHOST}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert bound_port(result["result"]) == port


async def test_user_cannot_bind(hass: HomeAssistant) -> None:
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: free_port(), CONF_HOST: FOREIGN_HOST}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "cannot_bind"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_user_key_without_cert(hass: HomeAssistant, tmp_path: Path) -> None:
    _, keyfile = write_self_signed(tmp_path)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PORT: free_port(), CONF_HOST: LOCALHOST, CONF_SSL_KEYFILE: str(keyfile)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SSL_CERTFILE: "cert_required"}


@pytest.mark.parametrize("content", [None, b"not a certificate\n"], ids=["missing", "garbage"])
async def test_user_invalid_cert(
    hass: HomeAssistant, tmp_path: Path, content: bytes | None
) -> None:
    certfile = tmp_path / "cert.pem"
    if content is not None:
        certfile.write_bytes(content)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PORT: free_port(), CONF_HOST: LOCALHOST, CONF_SSL_CERTFILE: str(certfile)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SSL_CERTFILE: "invalid_cert"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_user_key_not_matching_cert(hass: HomeAssistant, tmp_path: Path) -> None:
    certfile, _ = write_self_signed(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key = write_self_signed(other)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_PORT: free_port(),
            CONF_HOST: LOCALHOST,
            CONF_SSL_CERTFILE: str(certfile),
            CONF_SSL_KEYFILE: str(other_key),
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SSL_CERTFILE: "invalid_cert"}


@pytest.mark.parametrize("combined", [False, True], ids=["key_file", "key_in_cert_file"])
async def test_user_tls(hass: HomeAssistant, tmp_path: Path, combined: bool) -> None:
    """A valid certificate (and key) creates an entry whose server speaks TLS."""
    certfile, keyfile = write_self_signed(tmp_path)
    user_input = {CONF_PORT: free_port(), CONF_HOST: LOCALHOST, CONF_SSL_CERTFILE: str(certfile)}
    if combined:
        bundle = tmp_path / "bundle.pem"
        bundle.write_bytes(certfile.read_bytes() + keyfile.read_bytes())
        user_input[CONF_SSL_CERTFILE] = str(bundle)
    else:
        user_input[CONF_SSL_KEYFILE] = str(keyfile)
    result = await start_user_flow(hass)

    # An empty optional field (as a cleared text box sends) is not stored.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SSL_KEYFILE: "", **user_input}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == user_input
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    peer = await tls_peer_certificate(cast(int, user_input[CONF_PORT]), certfile)
    assert dict(x[0] for x in peer["subject"]) == {"commonName": "localhost"}


async def test_user_duplicate_port(hass: HomeAssistant) -> None:
    port = free_port()
    MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: port}).add_to_hass(hass)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_HOST: LOCALHOST}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- reconfigure ----------------------------------------------------------------------------


async def test_reconfigure_port(hass: HomeAssistant) -> None:
    """A new port: the entry is updated and reloads; chargers connect on the new port."""
    entry = make_entry()
    old_port = await setup_entry(hass, entry)
    old_central = central_system(entry)
    new_port = free_port()

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert form_schema(result)({}) == {CONF_HOST: LOCALHOST, CONF_PORT: 0}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: new_port, CONF_HOST: LOCALHOST}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {CONF_PORT: new_port, CONF_HOST: LOCALHOST}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert central_system(entry) is not old_central
    assert bound_port(entry) == new_port
    with pytest.raises(OSError):
        async with connected_charger(old_port, "CP1"):
            pass
    async with connected_charger(new_port, "CP1") as cp:
        assert await boot_status(cp) == "Accepted"


async def test_reconfigure_same_port_no_bind_check(hass: HomeAssistant, tmp_path: Path) -> None:
    """Our own server holds the port: keeping it (here: adding TLS) must not be refused."""
    port = free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_HOST: LOCALHOST, CONF_PORT: port},
        options={CONF_NEW_CHARGERS: "accept", CONF_ID_TAG_POLICY: "known"},
    )
    await setup_entry(hass, entry)
    old_central = central_system(entry)
    certfile, keyfile = write_self_signed(tmp_path)

    # Unchanged: nothing to apply, the server keeps running.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_HOST: LOCALHOST}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert central_system(entry) is old_central

    # Same port, now with TLS: validated without a bind check, applied by a reload.
    result = await entry.start_reconfigure_flow(hass)
    new_data = {
        CONF_PORT: port,
        CONF_HOST: LOCALHOST,
        CONF_SSL_CERTFILE: str(certfile),
        CONF_SSL_KEYFILE: str(keyfile),
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new_data)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == new_data
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert central_system(entry) is not old_central
    assert bound_port(entry) == port
    assert await tls_peer_certificate(port, certfile)


async def test_reconfigure_host_only(hass: HomeAssistant) -> None:
    """Listening on every interface instead of loopback, same port: neither a duplicate nor busy."""
    port = free_port("0.0.0.0")
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_HOST: LOCALHOST, CONF_PORT: port},
        options={CONF_NEW_CHARGERS: "accept", CONF_ID_TAG_POLICY: "known"},
    )
    await setup_entry(hass, entry)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: port, CONF_HOST: "0.0.0.0"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.data) == {CONF_PORT: port, CONF_HOST: "0.0.0.0"}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert listening_host(entry) == "0.0.0.0"
    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp) == "Accepted"


async def test_reconfigure_host_cannot_bind(hass: HomeAssistant) -> None:
    """Same port, an address this machine does not have: refused, nothing changes."""
    entry = make_entry()
    await setup_entry(hass, entry)
    old_central = central_system(entry)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: 0, CONF_HOST: FOREIGN_HOST}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "cannot_bind"}
    assert dict(entry.data) == {CONF_HOST: LOCALHOST, CONF_PORT: 0}
    await hass.async_block_till_done()
    assert central_system(entry) is old_central


async def test_reconfigure_port_in_use(hass: HomeAssistant) -> None:
    entry = make_entry()
    await setup_entry(hass, entry)
    old_central = central_system(entry)
    result = await entry.start_reconfigure_flow(hass)
    with port_taken() as busy:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: busy, CONF_HOST: LOCALHOST}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert form_schema(result)({}) == {CONF_PORT: busy, CONF_HOST: LOCALHOST}
    assert dict(entry.data) == {CONF_HOST: LOCALHOST, CONF_PORT: 0}
    await hass.async_block_till_done()
    assert central_system(entry) is old_central


async def test_reconfigure_port_of_other_entry(hass: HomeAssistant) -> None:
    other_port = free_port()
    MockConfigEntry(domain=DOMAIN, data={CONF_HOST: LOCALHOST, CONF_PORT: other_port}).add_to_hass(
        hass
    )
    entry = make_entry()
    await setup_entry(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: other_port, CONF_HOST: LOCALHOST}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert dict(entry.data) == {CONF_HOST: LOCALHOST, CONF_PORT: 0}


# --- discovered chargers (approve step) -----------------------------------------------------


async def test_discovery_approve_real_charger(hass: HomeAssistant) -> None:
    """Unknown charger boots -> Pending + discovered flow; approve -> triggered boot -> Accepted."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    central = central_system(entry)
    dev_reg = dr.async_get(hass)

    async with connected_charger(port, "CP1") as cp:
        status = await boot_status(
            cp, vendor="Acme", model="Wallbox 11", charge_point_serial_number="SN1"
        )
        assert status == "Pending"
        await hass.async_block_till_done()

        flows = hass.config_entries.flow.async_progress()
        assert len(flows) == 1
        flow = flows[0]
        assert flow["handler"] == DOMAIN
        assert flow["step_id"] == "approve"
        assert flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        assert flow["context"]["unique_id"] == "CP1"
        assert flow["context"]["title_placeholders"] == {
            "charger_id": "CP1",
            "vendor": "Acme",
            "model": "Wallbox 11",
        }
        assert dev_reg.async_get_device(identifiers={(DOMAIN, "CP1")}) is None
        assert not charger_subentries(entry)

        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_NAME: "Garage"}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "charger_approved"
        assert result["description_placeholders"] == {"charger_id": "CP1"}

        trigger = await cp.wait_for_call("TriggerMessage")
        assert trigger["requested_message"] == "BootNotification"
        assert await boot_status(cp, vendor="Acme", model="Wallbox 11") == "Accepted"
        await hass.async_block_till_done()

        device = dev_reg.async_get_device(identifiers={(DOMAIN, "CP1")})
        assert device is not None
        assert device.manufacturer == "Acme"
        assert device.model == "Wallbox 11"
        assert device.name == "Garage"
        assert entry.entry_id in device.config_entries
        subentries = charger_subentries(entry)
        assert list(subentries) == ["CP1"]
        assert subentries["CP1"].title == "Garage"
        assert subentries["CP1"].data[CONF_CHARGER_ID] == "CP1"
        assert not hass.config_entries.flow.async_progress()
        # No reload: the same central system, and the charger shows as connected.
        assert central_system(entry) is central
        await wait_for_state(hass, "binary_sensor", "CP1_connected", lambda s: s.state == "on")


LONG_SERIAL_BOOT = {
    "chargePointVendor": "Schneider Electric",
    "chargePointModel": "EVlink",
    "chargePointSerialNumber": "3N1234567890123456789012345678",  # over the 25 allowed
}


async def lenient_default(hass: HomeAssistant, flow_id: str) -> bool:
    """The default of the approve form's lenient checkbox (the form shown again)."""
    form = await hass.config_entries.flow.async_configure(flow_id)
    return bool(form_schema(form)({})[CONF_LENIENT])


async def test_discovery_of_charger_whose_boot_breaks_the_schema(hass: HomeAssistant) -> None:
    """An unknown charger's non-compliant boot still gets it discovered, lenient pre-ticked;
    approved so, it is accepted now and at every later boot."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)

    async with connected_charger(port, "CP1") as cp:
        answer = await cp.raw_call("BootNotification", LONG_SERIAL_BOOT)
        assert answer.payload["status"] == "Pending"
        await hass.async_block_till_done()
        (flow,) = hass.config_entries.flow.async_progress()
        assert flow["context"]["title_placeholders"]["vendor"] == "Schneider Electric"
        assert await lenient_default(hass, flow["flow_id"]) is True

        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_NAME: "Garage", CONF_LENIENT: True}
        )
        assert result["reason"] == "charger_approved"
        await cp.wait_for_call("TriggerMessage")
        answer = await cp.raw_call("BootNotification", LONG_SERIAL_BOOT)
        assert answer.payload["status"] == "Accepted"
    assert charger_subentries(entry)["CP1"].data[CONF_LENIENT] is True
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None
    assert device.serial_number == LONG_SERIAL_BOOT["chargePointSerialNumber"]

    # A later connection is a known lenient charger's: its boot is accepted too.
    async with connected_charger(port, "CP1") as cp:
        answer = await cp.raw_call("BootNotification", LONG_SERIAL_BOOT)
        assert answer.payload["status"] == "Accepted"


async def test_discovery_approved_strict_refuses_the_non_compliant_boot(
    hass: HomeAssistant,
) -> None:
    """Unticking lenient is the user's choice: the charger's own setting decides at once."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)

    async with connected_charger(port, "CP1") as cp:
        assert (await cp.raw_call("BootNotification", LONG_SERIAL_BOOT)).payload["status"] == (
            "Pending"
        )
        await hass.async_block_till_done()
        (flow,) = hass.config_entries.flow.async_progress()
        await hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_LENIENT: False})
        await cp.wait_for_call("TriggerMessage")
        answer = await cp.raw_call("BootNotification", LONG_SERIAL_BOOT)
        assert isinstance(answer, CallError)
        assert answer.error_code == "TypeConstraintViolation"  # a string over its maximum
        assert CONF_LENIENT not in charger_subentries(entry)["CP1"].data


async def test_discovery_compliant_charger_is_not_lenient(hass: HomeAssistant) -> None:
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp, vendor="Acme", model="Wallbox 11") == "Pending"
        await hass.async_block_till_done()
        (flow,) = hass.config_entries.flow.async_progress()
        assert await lenient_default(hass, flow["flow_id"]) is False


async def test_discovery_added_by_hand_meanwhile(hass: HomeAssistant) -> None:
    """Adding a pending charger by hand replaces its discovered flow and accepts it at once."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    central = central_system(entry)

    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp) == "Pending"
        await hass.async_block_till_done()
        assert len(hass.config_entries.flow.async_progress()) == 1

        result = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", CONF_LENIENT: False})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()

        assert not hass.config_entries.flow.async_progress()
        assert (await cp.wait_for_call("TriggerMessage"))["requested_message"] == "BootNotification"
        assert await boot_status(cp) == "Accepted"
        assert central_system(entry) is central


async def test_discovery_ignored(hass: HomeAssistant) -> None:
    """An ignored charger keeps being told Pending, and no new flow appears."""
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)

    async with connected_charger(port, "CP1") as cp:
        assert await boot_status(cp) == "Pending"
        await hass.async_block_till_done()
        assert len(hass.config_entries.flow.async_progress()) == 1

        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_IGNORE},
            data={"unique_id": "CP1", "title": "New charger CP1"},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert not hass.config_entries.flow.async_progress()

        assert await boot_status(cp) == "Pending"
        await hass.async_block_till_done()
        assert not hass.config_entries.flow.async_progress()
        assert not charger_subentries(entry)

    result = await start_discovery(hass, entry.entry_id, "CP1")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_duplicate_flow(hass: HomeAssistant) -> None:
    entry = make_entry(new_chargers="ask")
    await setup_entry(hass, entry)
    first = await start_discovery(hass, entry.entry_id, "CP1", vendor="Acme", model="X")
    assert first["type"] is FlowResultType.FORM
    second = await start_discovery(hass, entry.entry_id, "CP1", vendor="Acme", model="X")
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    assert len(hass.config_entries.flow.async_progress()) == 1


@pytest.mark.parametrize("loaded_entry", [False, True], ids=["entry_not_loaded", "unknown_entry"])
async def test_discovery_not_loaded(hass: HomeAssistant, loaded_entry: bool) -> None:
    """Approving for a central system that is not running aborts, adding nothing."""
    entry = make_entry(new_chargers="ask")
    entry.add_to_hass(hass)
    entry_id = entry.entry_id if not loaded_entry else "no-such-entry"
    result = await start_discovery(hass, entry_id, "CP1", vendor="", model="")

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "approve"
    assert result["description_placeholders"] == {"charger_id": "CP1", "vendor": "?", "model": "?"}
    assert form_schema(result)({}) == {CONF_NAME: "CP1", CONF_LENIENT: False}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"
    assert not entry.subentries


async def test_discovery_already_approved(hass: HomeAssistant) -> None:
    """A discovery that raced with adding the charger does not add it twice."""
    entry = make_entry(new_chargers="ask")
    await setup_entry(hass, entry)
    added = await add_charger(hass, entry, {CONF_CHARGER_ID: "CP1", CONF_LENIENT: False})
    assert added["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    result = await start_discovery(hass, entry.entry_id, "CP1", vendor="Acme", model="X")
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_NAME: "Dup"})

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert [sub.title for sub in charger_subentries(entry).values()] == ["CP1"]


async def test_user_client_ca(hass: HomeAssistant, tmp_path: Path) -> None:
    """A client CA needs a server certificate, and must load."""
    certfile, keyfile = write_self_signed(tmp_path)
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    port = free_port()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PORT: port, CONF_HOST: LOCALHOST, "ssl_cafile": str(certfile)},
    )
    assert result["errors"] == {"ssl_certfile": "cert_required"}
    with_cert = {
        CONF_PORT: port,
        CONF_HOST: LOCALHOST,
        "ssl_certfile": str(certfile),
        "ssl_keyfile": str(keyfile),
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**with_cert, "ssl_cafile": str(garbage)}
    )
    assert result["errors"] == {"ssl_cafile": "invalid_ca"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**with_cert, "ssl_cafile": str(certfile)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["ssl_cafile"] == str(certfile)
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(result["result"].entry_id)
    assert entry is not None
    await hass.config_entries.async_unload(entry.entry_id)
