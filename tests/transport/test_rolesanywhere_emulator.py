"""The CreateSession emulator verifies what AWS verifies: raw requests signed by the plugin's
signer, then altered one way at a time, are refused with AWS-style errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from netskope.plugins.custom_plugins.aws_role_session_cto.utils import roles_anywhere as ra

from devkit.emulators.base import Fault
from devkit.emulators.rolesanywhere import RolesAnywhereEmulator
from devkit.tls import DevPki

from .ra_helpers import PROFILE, ROLE, TRUST_ANCHOR, emulator, settings_for

BODY = (
    f'{{"durationSeconds":3600,"profileArn":"{PROFILE}","roleArn":"{ROLE}",'
    f'"trustAnchorArn":"{TRUST_ANCHOR}"}}'
).encode()


@pytest.fixture
def server(pki: DevPki) -> Iterator[RolesAnywhereEmulator]:
    with emulator(pki, None) as started:  # made-up keys: no moto needed here
        yield started


def post(
    server: RolesAnywhereEmulator,
    pki: DevPki,
    *,
    body: bytes = BODY,
    sent_body: bytes | None = None,
    when: datetime | None = None,
    region: str = "us-east-1",
    key_type: str = "rsa",
    edit: dict[str, str | None] | None = None,
) -> requests.Response:
    material = ra.load_material(settings_for(pki.client(key_type)))  # type: ignore[arg-type]
    url = f"{server.url}/sessions"
    headers: dict[str, Any] = ra.sign_create_session(
        material, url=url, body=body, region=region, when=when or datetime.now(UTC)
    )
    for name, value in (edit or {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return requests.post(
        url,
        data=sent_body if sent_body is not None else body,
        headers=headers,
        verify=str(pki.server_ca_path),
        timeout=5,
    )


def error(response: requests.Response) -> tuple[int, str, str]:
    return response.status_code, response.headers["x-amzn-ErrorType"], response.json()["message"]


def test_a_correctly_signed_request_gets_credentials(
    server: RolesAnywhereEmulator, pki: DevPki
) -> None:
    response = post(server, pki, key_type="ec256")
    assert response.status_code == 201
    [entry] = response.json()["credentialSet"]
    assert set(entry["credentials"]) == {
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "expiration",
    }
    assert entry["roleArn"] == ROLE
    assert server.sessions_created == 1
    ca = str(pki.server_ca_path)
    listed = requests.get(f"{server.url}/_emulator/sessions", verify=ca, timeout=5).json()
    assert listed["sessions"][0]["role_arn"] == ROLE


def test_a_body_changed_after_signing_is_refused(
    server: RolesAnywhereEmulator, pki: DevPki
) -> None:
    response = post(server, pki, sent_body=BODY.replace(b"3600", b"43200"))
    assert error(response)[:2] == (403, "AccessDeniedException")
    assert "does not match the signature" in error(response)[2]


def test_a_stale_date_is_refused(server: RolesAnywhereEmulator, pki: DevPki) -> None:
    response = post(server, pki, when=datetime.now(UTC) - timedelta(minutes=6))
    status, code, message = error(response)
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature expired")


def test_a_scope_for_another_region_is_refused(server: RolesAnywhereEmulator, pki: DevPki) -> None:
    assert "names Region eu-west-1" in error(post(server, pki, region="eu-west-1"))[2]


def test_a_request_without_authorization_is_refused(
    server: RolesAnywhereEmulator, pki: DevPki
) -> None:
    assert error(post(server, pki, edit={"Authorization": None}))[:2] == (
        403,
        "IncompleteSignatureException",
    )


def test_a_certificate_swapped_after_signing_is_refused(
    server: RolesAnywhereEmulator, pki: DevPki
) -> None:
    other = pki.client("ec256").cert.public_bytes(serialization.Encoding.DER)
    response = post(server, pki, edit={"X-Amz-X509": base64.b64encode(other).decode()})
    assert "serial number is not the signing certificate's" in error(response)[2]


def test_an_unsigned_chain_header_is_refused(server: RolesAnywhereEmulator, pki: DevPki) -> None:
    chain = base64.b64encode(pki.client_ca.cert.public_bytes(serialization.Encoding.DER)).decode()
    response = post(server, pki, edit={"X-Amz-X509-Chain": chain})
    assert "x-amz-x509-chain is sent but not signed" in error(response)[2]


def test_missing_body_fields_are_validation_errors(
    server: RolesAnywhereEmulator, pki: DevPki
) -> None:
    response = post(server, pki, body=b'{"roleArn": "x"}')
    assert error(response)[:2] == (400, "ValidationException")


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("expired_certificate", "Certificate expired"),
        ("untrusted", "Untrusted signing certificate"),
    ],
)
def test_faults_answer_like_aws(
    server: RolesAnywhereEmulator, pki: DevPki, kind: str, fragment: str
) -> None:
    server.add_fault(Fault(kind))
    status, code, message = error(post(server, pki))
    assert (status, code) == (403, "AccessDeniedException") and message.startswith(fragment)
    assert post(server, pki).status_code == 201  # one request affected
    assert server.sessions_created == 1


def test_a_disabled_profile_is_refused(server: RolesAnywhereEmulator, pki: DevPki) -> None:
    server.profiles[PROFILE].enabled = False
    assert error(post(server, pki))[2] == "Profile is disabled."
