"""Security: charger passwords, repeated failures, id-tag rules, local lists, random input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from hypothesis import HealthCheck, given, settings, strategies as st
from ocpp.v16 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from custom_components.ocpp_central.const import DOMAIN
from custom_components.ocpp_central.protocol.v16 import KNOWN_ACTIONS

from .charger import connected_charger
from .helpers import (
    add_charger,
    basic,
    capture_events,
    device_id,
    diagnostics,
    entity_state,
    make_entry,
    service,
    setup_entry,
    state_of,
)


async def add_charger_with(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> None:
    """Add a charger through the 'Add charger' subentry flow."""
    result = await add_charger(hass, entry, {"lenient": False, **data})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def set_charger_password(hass: HomeAssistant, *, response: bool = False, **data: Any) -> Any:
    """The set_charger_password action on CP1 (its response when `response`)."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP1")})
    assert device is not None
    return await hass.services.async_call(
        DOMAIN,
        "set_charger_password",
        {"device_id": device.id, **data},
        blocking=True,
        return_response=response,
    )


async def refused(port: int, charger_id: str, **kwargs: Any) -> int:
    """The HTTP status a handshake is refused with."""
    with pytest.raises(InvalidStatus) as err:
        async with connected_charger(port, charger_id, **kwargs):
            pass
    return err.value.response.status_code


async def test_password_required_for_charger_with_password(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    await add_charger_with(hass, entry, charger_id="CP1", password="s3cret")
    assert await refused(port, "CP1") == 401
    assert await refused(port, "CP1", additional_headers=basic("CP1", "wrong")) == 401
    assert await refused(port, "CP1", additional_headers=basic("CP2", "s3cret")) == 401
    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "s3cret")) as cp:
        assert (await cp.boot()).status == "Accepted"
    # Nothing was created for the refused attempts beyond the charger itself.
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP2")}) is None


async def test_approve_with_password_reconnects_charger(hass: HomeAssistant) -> None:
    entry = make_entry(new_chargers="ask")
    port = await setup_entry(hass, entry)
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Pending"
        await hass.async_block_till_done()
        flow = next(f for f in hass.config_entries.flow.async_progress() if f["handler"] == DOMAIN)
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"name": "Garage", "password": "pw-1"}
        )
        assert result["reason"] == "charger_approved"
        await hass.async_block_till_done()
        # The unauthenticated connection is closed: the charger must come back with the password.
        await asyncio.wait_for(cp._connection.wait_closed(), 5)
    assert await refused(port, "CP1") == 401
    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "pw-1")) as cp:
        assert (await cp.boot()).status == "Accepted"


async def test_require_password_option(hass: HomeAssistant) -> None:
    entry = make_entry(require_password=True)
    port = await setup_entry(hass, entry)
    assert await refused(port, "NEW1") == 401
    await hass.async_block_till_done()
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "NEW1")}) is None
    assert [f for f in hass.config_entries.flow.async_progress() if f["handler"] == DOMAIN] == []


async def test_require_password_disconnects_chargers_without_one(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    async with connected_charger(port, "CP1") as cp:
        assert (await cp.boot()).status == "Accepted"
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, "require_password": True}
        )
        await hass.async_block_till_done()
        await asyncio.wait_for(cp._connection.wait_closed(), 5)
    assert await refused(port, "CP1") == 401


async def test_repeated_failures_raise_one_issue(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    await add_charger_with(hass, entry, charger_id="CP1", password="right")
    issues = ir.async_get(hass)
    for _ in range(2):
        await refused(port, "CP1", additional_headers=basic("CP1", "wrong"))
    assert issues.async_get_issue(DOMAIN, "auth_failed_CP1") is None
    await refused(port, "CP1", additional_headers=basic("CP1", "wrong"))
    issue = issues.async_get_issue(DOMAIN, "auth_failed_CP1")
    assert issue is not None
    assert issue.translation_placeholders == {"charger_id": "CP1", "address": "127.0.0.1"}
    async with connected_charger(port, "CP1", additional_headers=basic("CP1", "right")) as cp:
        assert (await cp.boot()).status == "Accepted"
    assert issues.async_get_issue(DOMAIN, "auth_failed_CP1") is None


async def test_concurrent_tx_and_parent_tags(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    await service(hass, "add_id_tag", {"id_tag": "CARD1"})
    await service(hass, "add_id_tag", {"id_tag": "GROUP", "status": "blocked"})
    await service(hass, "add_id_tag", {"id_tag": "CHILD", "parent": "GROUP"})
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        first = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="CARD1", meter_start=0, timestamp="2026-01-01T00:00:00Z"
            )
        )
        assert first.id_tag_info["status"] == "Accepted"
        second = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="card1", meter_start=0, timestamp="2026-01-01T00:00:05Z"
            )
        )
        assert second.id_tag_info["status"] == "ConcurrentTx"
        child = await cp.call(call.Authorize(id_tag="CHILD"))
        assert child.id_tag_info == {"status": "Blocked", "parent_id_tag": "GROUP"}


async def test_local_list_full_on_connect_then_differential(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    await hass.services.async_call(DOMAIN, "add_id_tag", {"id_tag": "AAA"}, blocking=True)
    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {
            "SupportedFeatureProfiles": ("Core,SmartCharging,LocalAuthListManagement", True),
            "LocalAuthListEnabled": ("true", False),
        }
        await cp.boot()
        full = await cp.wait_for_call("SendLocalList")
        assert full == {
            "list_version": 1,
            "update_type": "Full",
            "local_authorization_list": [{"id_tag": "AAA", "id_tag_info": {"status": "Accepted"}}],
        }
        await hass.services.async_call(
            DOMAIN, "add_id_tag", {"id_tag": "BBB", "status": "blocked"}, blocking=True
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        await hass.services.async_call(DOMAIN, "remove_id_tag", {"id_tag": "AAA"}, blocking=True)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert cp.calls("SendLocalList")[1:] == [
            {
                "list_version": 2,
                "update_type": "Differential",
                "local_authorization_list": [
                    {"id_tag": "BBB", "id_tag_info": {"status": "Blocked"}}
                ],
            },
            {
                "list_version": 3,
                "update_type": "Differential",
                "local_authorization_list": [{"id_tag": "AAA"}],
            },
        ]
    # Reconnecting with the same version sends nothing; a charger without the profile gets nothing.
    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {"SupportedFeatureProfiles": ("Core,LocalAuthListManagement", True)}
        cp.local_list_version = 3
        await cp.boot()
        await cp.wait_for_call("GetLocalListVersion")
        await hass.async_block_till_done(wait_background_tasks=True)
        assert cp.calls("SendLocalList") == []


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    [
        "connectorId",
        "idTag",
        "meterStart",
        "timestamp",
        "transactionId",
        "meterValue",
        "status",
        "errorCode",
        "meterStop",
        "chargePointVendor",
        "chargePointModel",
        "sampledValue",
        "value",
    ]
)
_PAYLOAD = st.dictionaries(_FIELDS, _JSON, max_size=6)
_FRAME = (
    st.one_of(
        st.tuples(
            st.just(2),
            st.text(max_size=8),
            st.sampled_from(sorted(KNOWN_ACTIONS) + ["Bogus"]),
            _PAYLOAD,
        ).map(list),
        st.tuples(st.sampled_from([3, 4, 5, "2"]), st.text(max_size=8), _JSON).map(list),
        _JSON,
    ).map(json.dumps)
    | st.text(max_size=40)
    | st.binary(max_size=20).map(lambda b: b.decode("latin-1"))
)


def _frames(count: int) -> list[str]:
    """Frames drawn by hypothesis (deterministic, no shrinking: we replay them over a socket)."""
    drawn: list[str] = []

    @settings(
        max_examples=count, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(_FRAME)
    def collect(frame: str) -> None:
        drawn.append(frame)

    collect()
    return drawn


async def test_random_frames_keep_server_and_model_sound(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Random frames and payloads: every parseable Call is answered, nothing recorded is lost."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag="X", meter_start=5000, timestamp="2026-01-01T00:00:00Z"
            )
        )
        energy_before = float(entity_state(hass, "sensor", "CP1_1_energy"))
    async with connect(f"ws://127.0.0.1:{port}/CP1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        for frame in _frames(300):
            await ws.send(frame)
            try:
                data = json.loads(frame)
            except ValueError:
                continue
            if (
                isinstance(data, list)
                and len(data) == 4
                and data[0] == 2
                and isinstance(data[1], str)
            ):
                answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert answer[0] in (3, 4) and answer[1] == data[1]
        # Still serving: a Heartbeat is answered.
        await ws.send(json.dumps([2, "hb", "Heartbeat", {}]))
        while (answer := json.loads(await asyncio.wait_for(ws.recv(), 5)))[1] != "hb":
            pass
        assert answer[0] == 3
    await hass.async_block_till_done()
    energy = state_of(hass, "sensor", "CP1_1_energy")
    assert energy is not None and float(energy.state) >= energy_before
    connectors = (await diagnostics(hass, entry))["chargers"]["CP1"]["connectors"]
    for connector_id, conn in connectors.items():
        assert conn["energy_kwh"] is None or conn["energy_kwh"] >= 0
        if conn["transaction"] is not None:
            assert conn["transaction"]["connector_id"] == int(connector_id)


async def test_set_charger_password_rotates_it(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """The charger gets the new password first (1.6: hex-encoded), then must use it."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
        result = await set_charger_password(hass, password="0123456789abcdefXYZ", response=True)
        assert result == {"status": "accepted"}
        assert cp.calls("ChangeConfiguration") == [
            {"key": "AuthorizationKey", "value": b"0123456789abcdefXYZ".hex()}
        ]
        await hass.async_block_till_done()
        await asyncio.wait_for(cp._connection.wait_closed(), 5)
    assert await refused(port, "CP1") == 401
    assert await refused(port, "CP1", additional_headers=basic("CP1", "0123456789abcdef")) == 401
    # A charger decodes the key, as the spec says; some use the hex value itself.
    for password in ("0123456789abcdefXYZ", b"0123456789abcdefXYZ".hex()):
        async with connected_charger(port, "CP1", additional_headers=basic("CP1", password)) as cp:
            assert (await cp.boot()).status == "Accepted"


async def test_set_charger_password_generated_and_length(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Without a password one of 20 characters is made; 1.6 takes at most 20 bytes."""
    from homeassistant.exceptions import ServiceValidationError

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as err:
            await set_charger_password(hass, password="x" * 21)
        assert err.value.translation_key == "password_too_long"
        assert cp.calls("ChangeConfiguration") == []
        await set_charger_password(hass)
        (sent,) = cp.calls("ChangeConfiguration")
        password = bytes.fromhex(sent["value"]).decode()
        assert len(password) == 20
    sub = next(iter(entry.subentries.values()))
    assert sub.data["password"] == password


async def test_set_charger_password_rejected_keeps_old(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    from homeassistant.exceptions import HomeAssistantError

    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await hass.async_block_till_done()
        cp.answers["ChangeConfiguration"] = "Rejected"
        with pytest.raises(HomeAssistantError):
            await set_charger_password(hass)
        # Nothing changed: still connected, no password stored.
        assert (await cp.boot()).status == "Accepted"
    sub = next(iter(entry.subentries.values()))
    assert "password" not in sub.data


# --- TLS with client certificates (security profile 3) -----------------------------------


def _pki(directory: Any) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and client certificates for CP1 and CP2."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key: Any, path: Any) -> str:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return str(path)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test CA"))
        .issuer_name(name("Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": str(directory / "ca.pem")}
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(cn: str, server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        (directory / f"{cn}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files[cn] = str(directory / f"{cn}.pem")
        files[f"{cn}.key"] = write_key(key, directory / f"{cn}.key")

    issue("server", True)
    issue("CP1", False)
    issue("CP2", False)
    return files


def _client_context(files: dict[str, str], cn: str | None) -> Any:
    import ssl

    context = ssl.create_default_context(cafile=files["ca"])
    if cn is not None:
        context.load_cert_chain(files[cn], files[f"{cn}.key"])
    return context


async def test_client_certificates(hass: HomeAssistant, tmp_path: Any) -> None:
    files = _pki(tmp_path)
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "host": "127.0.0.1",
            "port": 0,
            "ssl_certfile": files["server"],
            "ssl_keyfile": files["server.key"],
            "ssl_cafile": files["ca"],
        },
        options={"new_chargers": "accept"},
    )
    port = await setup_entry(hass, entry)
    url = f"wss://127.0.0.1:{port}/CP1"
    # The certificate issued to CP1 works for CP1.
    async with connect(url, subprotocols=["ocpp1.6"], ssl=_client_context(files, "CP1")) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                [2, "1", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]
            )
        )
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer[2]["status"] == "Accepted"
    # Another charger's certificate does not.
    with pytest.raises(InvalidStatus) as err:
        async with connect(url, subprotocols=["ocpp1.6"], ssl=_client_context(files, "CP2")):  # type: ignore[list-item]
            pass
    assert err.value.response.status_code == 403
    await hass.config_entries.async_unload(entry.entry_id)


async def test_blocked_tag_stays_blocked_after_remote_use(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A card once used in a remote start is not accepted forever: blocking it counts."""
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        await cp.status(1, "Available")
        await hass.async_block_till_done()
        await service(hass, "start_charging", {"device_id": device_id(hass), "id_tag": "card9"})
        assert (await cp.call(call.Authorize(id_tag="CARD9"))).id_tag_info["status"] == "Accepted"
        await hass.services.async_call(
            DOMAIN, "add_id_tag", {"id_tag": "CARD9", "status": "blocked"}, blocking=True
        )
        assert (await cp.call(call.Authorize(id_tag="card9"))).id_tag_info["status"] == "Blocked"


async def test_local_list_parent_change_and_long_tags(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """Children follow a changed parent; tags longer than 1.6 allows are left out."""
    await service(hass, "add_id_tag", {"id_tag": "FAMILY"})
    await service(hass, "add_id_tag", {"id_tag": "KID", "parent": "FAMILY"})
    await service(hass, "add_id_tag", {"id_tag": "X" * 30})
    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {"SupportedFeatureProfiles": ("Core,LocalAuthListManagement", True)}
        await cp.boot()
        full = await cp.wait_for_call("SendLocalList")
        assert {item["id_tag"] for item in full["local_authorization_list"]} == {"FAMILY", "KID"}
        await hass.services.async_call(
            DOMAIN, "add_id_tag", {"id_tag": "FAMILY", "status": "blocked"}, blocking=True
        )
        await hass.async_block_till_done(wait_background_tasks=True)
        update = cp.calls("SendLocalList")[-1]
        assert update["update_type"] == "Differential"
        assert {
            item["id_tag"]: item["id_tag_info"]["status"]
            for item in update["local_authorization_list"]
        } == {
            "FAMILY": "Blocked",
            "KID": "Blocked",
        }


async def test_password_key_never_stored(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """A charger reporting its AuthorizationKey does not leak it into storage or diagnostics."""

    async with connected_charger(port, "CP1") as cp:
        cp.configuration = {
            "AuthorizationKey": ("super-secret-key-123", False),
            "HeartbeatInterval": ("300", False),
        }
        await cp.boot()
        await cp.wait_for_call("GetConfiguration")
        await hass.async_block_till_done(wait_background_tasks=True)
        data = await diagnostics(hass, entry)
        assert data["chargers"]["CP1"]["configuration"] == {"HeartbeatInterval": "300"}
        assert "super-secret-key-123" not in json.dumps(data)


async def test_security_event_notification_16(
    hass: HomeAssistant, entry: MockConfigEntry, port: int
) -> None:
    """The 1.6 security extension's SecurityEventNotification reaches automations."""
    events = capture_events(hass, f"{DOMAIN}_security_event")
    async with connected_charger(port, "CP1") as cp:
        await cp.boot()
        answer = await cp.raw_call(
            "SecurityEventNotification",
            {"type": "InvalidCentralSystemCertificate", "timestamp": "2026-01-01T00:00:00Z"},
        )
        assert answer.message_type_id == 3 and answer.payload == {}
        bad = await cp.raw_call("SecurityEventNotification", {"type": 42})
        assert bad.message_type_id == 4 and bad.error_code == "TypeConstraintViolation"
    await hass.async_block_till_done()
    assert [e.data["type"] for e in events] == ["InvalidCentralSystemCertificate"]
    assert events[0].data["charge_point_id"] == "CP1"
