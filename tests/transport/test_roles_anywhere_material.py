"""``validate_material`` and the signer, offline: what an admin can get wrong in the
certificate, key, passphrase, chain and ARNs is named field first, and the signature follows
SigV4's canonicalisation exactly (checked against botocore's own implementation)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from netskope.plugins.custom_plugins.aws_role_session_cto.utils import roles_anywhere as ra
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import AwsAuthError

from devkit.tls import CertificateAuthority, DevPki, Issued, KeyType, key_pem

from .ra_helpers import PASSPHRASE, PROFILE, REGION, ROLE, TRUST_ANCHOR, settings_for

NOW = datetime.now(UTC)


def problems(settings: ra.RolesAnywhereSettings) -> list[str]:
    found = ra.validate_material(settings, now=NOW)
    for secret in settings.secrets:
        assert all(secret not in p for p in found)
    return list(found)


def only(settings: ra.RolesAnywhereSettings) -> str:
    found = problems(settings)
    assert len(found) == 1, found
    return found[0]


def test_good_material_has_no_problems(pki: DevPki) -> None:
    key_types: tuple[KeyType, ...] = ("rsa", "ec256", "ec384")
    for key_type in key_types:
        assert problems(settings_for(pki.client(key_type))) == []


def test_a_key_from_another_certificate_is_named(pki: DevPki) -> None:
    settings = settings_for(pki.client("rsa"), private_key=pki.client("ec256").key_pem())
    assert only(settings).startswith(f"{ra.FIELD_PRIVATE_KEY}: the private key does not belong")


def test_an_expired_certificate_says_when(pki: DevPki) -> None:
    expired = pki.client_ca.issue(
        "old",
        key_type="ec256",
        not_before=NOW - timedelta(days=9),
        not_after=NOW - timedelta(days=2),
    )
    message = only(settings_for(expired))
    assert message.startswith(f"{ra.FIELD_CERTIFICATE}: the certificate expired on ")
    assert (NOW - timedelta(days=2)).strftime("%Y-%m-%d") in message


def test_a_certificate_not_yet_valid_is_named(pki: DevPki) -> None:
    future = pki.client_ca.issue(
        "future",
        key_type="ec256",
        not_before=NOW + timedelta(days=1),
        not_after=NOW + timedelta(days=9),
    )
    assert "is not valid before" in only(settings_for(future))


def test_a_ca_certificate_is_not_a_workload_certificate(pki: DevPki) -> None:
    ca = CertificateAuthority("pasted CA")
    settings = settings_for(Issued(ca.cert, ca.key))
    assert any("this is a CA certificate" in p for p in problems(settings))


def test_a_certificate_without_digital_signature_usage_is_named(pki: DevPki) -> None:
    no_sign = pki.client_ca.issue("enc-only", key_type="ec256", digital_signature=False)
    assert "Digital Signature" in only(settings_for(no_sign))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("certificate", "not a certificate", f"{ra.FIELD_CERTIFICATE}: no PEM certificate found"),
        (
            "certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            f"{ra.FIELD_CERTIFICATE}: certificate #1 is not a valid X.509 certificate",
        ),
        ("private_key", "", f"{ra.FIELD_PRIVATE_KEY}: no PEM private key found"),
        (
            "private_key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            f"{ra.FIELD_PRIVATE_KEY}: the PEM text is not a readable private key",
        ),
        (
            "certificate_chain",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
            f"{ra.FIELD_CHAIN}: certificate #1 is not a valid X.509 certificate",
        ),
    ],
)
def test_unreadable_pem_is_named_by_field(
    pki: DevPki, field: str, value: str, expected: str
) -> None:
    found = problems(settings_for(pki.client("rsa"), **{field: value}))
    assert any(p.startswith(expected) for p in found), found


def test_a_key_pasted_into_the_certificate_field_is_not_echoed(pki: DevPki) -> None:
    client = pki.client("rsa")
    settings = settings_for(client, certificate=client.key_pem())
    found = problems(settings)
    assert any("this field holds a private key" in p for p in found)
    key_lines = [line for line in client.key_pem().splitlines() if "-----" not in line]
    assert not any(line in p for p in found for line in key_lines)


def test_a_certificate_pasted_into_the_key_field_is_named(pki: DevPki) -> None:
    client = pki.client("rsa")
    found = problems(settings_for(client, private_key=client.cert_pem))
    assert any("holds a certificate, not a private key" in p for p in found)


def test_an_encrypted_key_without_passphrase_asks_for_it(pki: DevPki) -> None:
    client = pki.client("ec256")
    settings = settings_for(client, private_key=client.key_pem(PASSPHRASE))
    assert (
        only(settings)
        == f"{ra.FIELD_PASSPHRASE}: the private key is encrypted; enter its passphrase."
    )


def test_a_passphrase_for_an_unencrypted_key_is_ignored(pki: DevPki) -> None:
    assert problems(settings_for(pki.client("ec256"), passphrase="not-needed")) == []


def test_unsupported_keys_are_named(pki: DevPki) -> None:
    small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    edwards = ed25519.Ed25519PrivateKey.generate()
    client = pki.client("rsa")
    assert any(
        "at least 2048 bits" in p
        for p in problems(settings_for(client, private_key=key_pem(small_rsa)))
    )
    assert any(
        "use an RSA or EC" in p
        for p in problems(settings_for(client, private_key=key_pem(edwards)))  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("override", "field_label"),
    [
        (
            {"trust_anchor_arn": "arn:aws:rolesanywhere:us-east-1:123:trust-anchor/x"},
            ra.FIELD_TRUST_ANCHOR,
        ),
        ({"profile_arn": TRUST_ANCHOR}, ra.FIELD_PROFILE),
        ({"role_arn": "arn:aws:iam::123456789012:user/alice"}, ra.FIELD_ROLE),
        ({"profile_arn": PROFILE.replace(REGION, "eu-west-1")}, ra.FIELD_PROFILE),
        ({"duration_seconds": 600}, ra.FIELD_DURATION),
    ],
)
def test_arns_and_duration_are_checked(
    pki: DevPki, override: dict[str, Any], field_label: str
) -> None:
    assert only(settings_for(pki.client("rsa"), **override)).startswith(f"{field_label}:")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: " ".join(pem.split("\n")),  # a single-line CE field
        lambda pem: pem.replace("\n", "\\n"),  # escaped through JSON
        lambda pem: pem.replace("\n", "\r\n"),  # Windows line ends
        lambda pem: pem.replace("\n", ""),  # a browser's password input strips them
    ],
    ids=["spaces", "escaped", "crlf", "stripped"],
)
def test_pem_with_damaged_line_breaks_still_reads(
    pki: DevPki, mangle: Callable[[str], str]
) -> None:
    client = pki.client("ec384")
    fix = mangle
    settings = settings_for(
        client,
        certificate=fix(client.cert_pem),
        private_key=fix(client.key_pem(PASSPHRASE, pkcs8=False)),
        passphrase=PASSPHRASE,
        certificate_chain=fix(pki.client_ca.cert_pem),
    )
    assert problems(settings) == []


def test_a_fullchain_paste_splits_leaf_and_chain(pki: DevPki) -> None:
    intermediate = CertificateAuthority("issuing", parent=pki.client_ca)
    leaf = intermediate.issue("leaf", key_type="ec256")
    settings = settings_for(leaf, certificate=leaf.cert_pem + intermediate.cert_pem)
    material = ra.load_material(settings, now=NOW)
    assert material.certificate.serial_number == leaf.serial
    assert [c.subject for c in material.chain] == [intermediate.cert.subject]


def test_load_material_raises_one_error_listing_every_problem(pki: DevPki) -> None:
    settings = settings_for(pki.client("rsa"), private_key="", role_arn="nope")
    with pytest.raises(AwsAuthError) as failure:
        ra.load_material(settings, now=NOW)
    assert ra.FIELD_PRIVATE_KEY in str(failure.value) and ra.FIELD_ROLE in str(failure.value)


def test_secrets_cover_the_key_line_by_line(pki: DevPki) -> None:
    settings = settings_for(pki.client("rsa"), passphrase="pp-secret")
    body = [line for line in settings.private_key.splitlines() if "-----" not in line]
    assert set(body) <= set(settings.secrets)
    assert "pp-secret" in settings.secrets
    assert settings.private_key not in repr(settings) and "pp-secret" not in repr(settings)
    collapsed = settings_for(pki.client("rsa"), private_key=" ".join(settings.private_key.split()))
    assert set(body) <= set(collapsed.secrets)  # re-wrapped lines are secrets too


def test_settings_from_the_aws_step(pki: DevPki) -> None:
    client = pki.client("rsa")
    settings = ra.RolesAnywhereSettings.from_step(
        {
            ra.KEY_CERTIFICATE: client.cert_pem,
            ra.KEY_PRIVATE_KEY: client.key_pem(),
            ra.KEY_TRUST_ANCHOR: f" {TRUST_ANCHOR} ",
            ra.KEY_PROFILE: PROFILE,
            ra.KEY_ROLE: ROLE,
            ra.KEY_DURATION: 1800,
        }
    )
    assert settings.trust_anchor_arn == TRUST_ANCHOR and settings.duration_seconds == 1800
    assert settings.region == REGION
    assert problems(settings) == []


# ----------------------------------------------------------------------------- signing


@pytest.mark.parametrize("with_chain", [False, True])
@pytest.mark.parametrize("key_type", ["rsa", "ec256"])
def test_the_signature_covers_botocores_sigv4_canonical_request(
    pki: DevPki, key_type: str, with_chain: bool
) -> None:
    """Our canonical request is botocore's SigV4 one: the signature verifies over a string to
    sign built from botocore's canonicalisation of the same request."""
    client = pki.client(key_type)  # type: ignore[arg-type]
    chain = pki.client_ca.cert_pem if with_chain else ""
    material = ra.load_material(settings_for(client, chain=chain), now=NOW)
    url = "https://rolesanywhere.us-east-1.amazonaws.com/sessions"
    body = b'{"durationSeconds":3600,"profileArn":"p","roleArn":"r","trustAnchorArn":"t"}'
    when = datetime(2026, 11, 29, 12, 0, 1, tzinfo=UTC)
    headers = ra.sign_create_session(material, url=url, body=body, region=REGION, when=when)
    authorization = headers.pop("Authorization")
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    signer = SigV4Auth(Credentials("x", "y"), "rolesanywhere", REGION)
    canonical = signer.canonical_request(request)
    scope = f"20261129/{REGION}/rolesanywhere/aws4_request"
    string_to_sign = "\n".join(
        (
            material.algorithm,
            "20261129T120001Z",
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        )
    )
    expected_signed = "content-type;host;x-amz-date;x-amz-x509" + (
        ";x-amz-x509-chain" if with_chain else ""
    )
    assert authorization.startswith(
        f"{material.algorithm} Credential={client.serial}/{scope}, "
        f"SignedHeaders={expected_signed}, Signature="
    )
    assert signer.signed_headers(signer.headers_to_sign(request)) == expected_signed
    signature = bytes.fromhex(authorization.rsplit("Signature=", 1)[1])
    public_key = client.cert.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        public_key.verify(signature, string_to_sign.encode(), ec.ECDSA(hashes.SHA256()))


def test_the_host_header_matches_what_requests_sends() -> None:
    assert ra.host_header("https://rolesanywhere.eu-west-1.amazonaws.com") == (
        "rolesanywhere.eu-west-1.amazonaws.com"
    )
    assert ra.host_header("https://127.0.0.1:8443/") == "127.0.0.1:8443"
    assert ra.host_header("http://Example.invalid:80") == "example.invalid"


def test_refresh_windows_scale_with_the_session() -> None:
    assert ra.refresh_windows(timedelta(hours=1)) == (900, 450)
    assert ra.refresh_windows(timedelta(hours=12)) == (900, 600)
    assert ra.refresh_windows(timedelta(minutes=15)) == (225, 112)


def test_the_endpoint_follows_the_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ROLESANYWHERE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert ra.resolve_endpoint("eu-west-1") == "https://rolesanywhere.eu-west-1.amazonaws.com"
    assert ra.resolve_endpoint("cn-north-1").endswith(".amazonaws.com.cn")
    assert ra.resolve_endpoint("us-east-1", "http://127.0.0.1:1/") == "http://127.0.0.1:1"
