"""IAM Roles Anywhere: an X.509 certificate and its private key become temporary AWS credentials.

Why the plugin does this itself instead of shelling out to AWS's ``aws_signing_helper``:
CE plugins cannot ship binaries, and the official CE AWS plugins that offer Roles Anywhere
refresh credentials only after they expired and send CreateSession without CE's proxy or TLS
settings. Here:

- **CreateSession** (``POST /sessions`` on ``rolesanywhere.<region>.amazonaws.com``, the Region
  of the trust anchor) is signed with the certificate's private key: SigV4 canonicalisation
  with algorithm ``AWS4-X509-RSA-SHA256`` or ``AWS4-X509-ECDSA-SHA256``, the certificate (and
  its chain) in ``X-Amz-X509``/``X-Amz-X509-Chain`` as base64 DER, and the certificate's serial
  number (decimal) in place of an access key id in the credential scope.
- It goes through ``requests`` with CE's ``proxies`` and ``verify``, a timeout and the
  plugin's user agent, with a few bounded retries of transient failures.
- The endpoint honours ``endpoint_url``, then ``AWS_ENDPOINT_URL_ROLESANYWHERE`` /
  ``AWS_ENDPOINT_URL`` and the shared config file, exactly as boto3 resolves them (botocore
  resolves it), so a local emulator works without plugin changes.
- The returned session's credentials are botocore ``RefreshableCredentials`` whose refresh
  calls CreateSession again *before* expiry (advisory and mandatory windows scaled to the
  session's lifetime), never after.
- Every failure is an ``AwsAuthError`` naming the configuration field to fix (certificate,
  chain, private key, passphrase, trust anchor / profile / role ARN) or the CE setting (proxy,
  TLS); no message ever carries the private key, its passphrase, a proxy credential or the
  returned secret key and session token.

``validate_material`` checks the certificate material offline (parsing, key/certificate match,
validity window, chain, ARNs) so ``validate_step`` can answer precisely before any network call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import boto3
import botocore.session
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .clock import Clock, utc_now
from .exceptions import AwsAuthError
from .redaction import redact
from .transport_errors import proxy_reason, ssl_reason

SERVICE: Final = "rolesanywhere"
ALGORITHM_RSA: Final = "AWS4-X509-RSA-SHA256"
ALGORITHM_ECDSA: Final = "AWS4-X509-ECDSA-SHA256"
SESSIONS_PATH: Final = "/sessions"
MIN_DURATION_SECONDS: Final = 900
MAX_DURATION_SECONDS: Final = 43200
DEFAULT_DURATION_SECONDS: Final = 3600
CONNECT_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 30.0
MAX_ATTEMPTS: Final = 3
MAX_RETRY_AFTER: Final = 10.0
SUPPORTED_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})

# Labels of the configuration fields a message can point at (the manifest's labels).
FIELD_CERTIFICATE: Final = "Roles Anywhere Certificate"
FIELD_CHAIN: Final = "Roles Anywhere Certificate Chain"
FIELD_PRIVATE_KEY: Final = "Roles Anywhere Private Key"
FIELD_PASSPHRASE: Final = "Private Key Passphrase"  # noqa: S105 - a field label
FIELD_TRUST_ANCHOR: Final = "Trust Anchor ARN"
FIELD_PROFILE: Final = "Profile ARN"
FIELD_ROLE: Final = "Roles Anywhere Role ARN"
FIELD_DURATION: Final = "Roles Anywhere Session Duration"

# Manifest keys ``RolesAnywhereSettings.from_step`` reads (in the ``aws`` step).
KEY_CERTIFICATE: Final = "ra_certificate"
KEY_CHAIN: Final = "ra_certificate_chain"
KEY_PRIVATE_KEY: Final = "ra_private_key"
KEY_PASSPHRASE: Final = "ra_private_key_passphrase"  # noqa: S105 - a manifest key
KEY_TRUST_ANCHOR: Final = "ra_trust_anchor_arn"
KEY_PROFILE: Final = "ra_profile_arn"
KEY_ROLE: Final = "ra_role_arn"
KEY_DURATION: Final = "ra_session_duration_seconds"

_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_TRUST_ANCHOR_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):rolesanywhere:(?P<region>{_REGION}):"
    r"(?P<account>\d{12}):trust-anchor/[A-Za-z0-9-]{1,64}$"
)
_PROFILE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):rolesanywhere:(?P<region>{_REGION}):"
    r"(?P<account>\d{12}):profile/[A-Za-z0-9-]{1,64}$"
)
_ROLE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):role/[\w+=,.@/-]{{1,512}}$"
)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
# RFC 1421 headers of traditional encrypted keys. The IV's length follows from the cipher's
# block size, so the headers survive even a paste with every line break removed.
_PEM_ENCRYPTED_HEADERS = re.compile(
    r"^\s*Proc-Type:\s*(\d,ENCRYPTED)\s*DEK-Info:\s*([A-Z0-9-]+),\s*", re.S
)
_64_BIT_BLOCK_CIPHERS = ("DES", "BF", "CAST", "IDEA", "RC2")
_KEY_LABELS = frozenset(
    {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
)

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RolesAnywhereSettings:
    """What an admin configures for Roles Anywhere. Secrets stay out of ``repr``.

    ``certificate`` may hold the end-entity certificate followed by its chain (a
    "fullchain" paste); ``certificate_chain`` holds intermediate CA certificates, if any.
    PEM text is accepted with its line breaks collapsed to spaces or escaped as ``\\n``,
    because that is what single-line CE fields and copy-paste through JSON make of it.
    """

    certificate: str
    private_key: str = field(repr=False)
    trust_anchor_arn: str
    profile_arn: str
    role_arn: str
    certificate_chain: str = ""
    passphrase: str = field(default="", repr=False)
    duration_seconds: int = DEFAULT_DURATION_SECONDS
    role_session_name: str = ""

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> RolesAnywhereSettings:
        """Settings from the ``aws`` step's values (the ``KEY_*`` manifest keys)."""

        def text(key: str) -> str:
            value = values.get(key)
            return value.strip() if isinstance(value, str) else ""

        raw_duration = values.get(KEY_DURATION)
        try:
            duration = int(raw_duration) if raw_duration not in (None, "") else 0
        except (TypeError, ValueError):
            duration = -1  # reported by validate_material
        return cls(
            certificate=text(KEY_CERTIFICATE),
            private_key=text(KEY_PRIVATE_KEY),
            trust_anchor_arn=text(KEY_TRUST_ANCHOR),
            profile_arn=text(KEY_PROFILE),
            role_arn=text(KEY_ROLE),
            certificate_chain=text(KEY_CHAIN),
            passphrase=str(values.get(KEY_PASSPHRASE) or ""),
            duration_seconds=duration or DEFAULT_DURATION_SECONDS,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values a log line must never show: the key (whole and line by line) and passphrase.

        The base64 lines of the key, as pasted and re-wrapped, are listed too, so a fragment
        quoted by some library is masked whatever happened to the line breaks.
        """
        lines = {
            line.strip()
            for text in (
                self.private_key.replace("\\n", "\n"),
                *(
                    pem.decode()
                    for label, pem in _pem_blocks(self.private_key)
                    if label in _KEY_LABELS
                ),
            )
            for line in text.splitlines()
            if len(line.strip()) >= 16 and "-----" not in line and ":" not in line
        }
        return tuple(s for s in (self.private_key, self.passphrase, *sorted(lines)) if s)

    @property
    def region(self) -> str:
        """The trust anchor's Region: CreateSession must be called there."""
        match = _TRUST_ANCHOR_ARN.match(self.trust_anchor_arn)
        return match.group("region") if match else ""


@dataclass(frozen=True)
class SigningMaterial:
    """The parsed certificate, chain and key, ready to sign CreateSession requests."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: SigningKey = field(repr=False)

    @property
    def algorithm(self) -> str:
        return ALGORITHM_RSA if isinstance(self.key, rsa.RSAPrivateKey) else ALGORITHM_ECDSA

    @property
    def serial(self) -> str:
        """The certificate's serial number in decimal: the 'access key' of the scope."""
        return str(self.certificate.serial_number)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


# --------------------------------------------------------------------------- PEM parsing


def _pem_blocks(text: str) -> Iterator[tuple[str, bytes]]:
    """``(label, canonical PEM)`` for every PEM block in ``text``, repairing line breaks.

    Base64 never contains whitespace or backslashes, so collapsing all whitespace in the body
    and re-wrapping it at 64 columns is lossless; the two RFC 1421 headers of traditional
    encrypted keys are put back on their own lines. Browsers strip line breaks from
    single-line (password) inputs, escape them through JSON, or turn them into spaces.
    """
    cleaned = text.replace("\\r", "").replace("\\n", "\n").replace("\r", "")
    for match in _PEM_BLOCK.finditer(cleaned):
        label, body = match.group(1), match.group(2)
        headers = ""
        encrypted = _PEM_ENCRYPTED_HEADERS.match(body)
        if encrypted:
            cipher = encrypted.group(2)
            iv_chars = 16 if cipher.startswith(_64_BIT_BLOCK_CIPHERS) else 32
            rest = body[encrypted.end() :]
            iv, body = rest[:iv_chars], rest[iv_chars:]
            headers = f"Proc-Type: {encrypted.group(1)}\nDEK-Info: {cipher},{iv}\n\n"
        b64 = "".join(body.split())
        lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
        yield label, f"-----BEGIN {label}-----\n{headers}{lines}\n-----END {label}-----\n".encode()


class _Problem(Exception):
    """One thing wrong with the material, phrased for the admin (field first)."""

    def __init__(self, field_label: str, message: str) -> None:
        super().__init__(f"{field_label}: {message}")


def _load_certificates(text: str, field_label: str) -> list[x509.Certificate]:
    blocks = list(_pem_blocks(text))
    if not blocks:
        raise _Problem(
            field_label,
            "no PEM certificate found. Paste the certificate as PEM text, from "
            "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.",
        )
    certificates: list[x509.Certificate] = []
    for label, pem in blocks:
        if label in _KEY_LABELS:
            raise _Problem(
                field_label,
                "this field holds a private key; paste the certificate here and the key in "
                f"{FIELD_PRIVATE_KEY}.",
            )
        if label != "CERTIFICATE":
            continue
        try:
            certificates.append(x509.load_pem_x509_certificate(pem))
        except ValueError:
            raise _Problem(
                field_label,
                f"certificate #{len(certificates) + 1} is not a valid X.509 certificate "
                "(damaged PEM text). Paste it again from the original file.",
            ) from None
    if not certificates:
        raise _Problem(field_label, "no -----BEGIN CERTIFICATE----- block found.")
    return certificates


def _is_encrypted(label: str, pem: bytes) -> bool:
    return label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem


def _load_key(text: str, passphrase: str) -> SigningKey:
    blocks = [(label, pem) for label, pem in _pem_blocks(text) if label in _KEY_LABELS]
    if not blocks:
        if any(label == "CERTIFICATE" for label, _ in _pem_blocks(text)):
            raise _Problem(
                FIELD_PRIVATE_KEY,
                "this field holds a certificate, not a private key. Paste the PEM private key "
                "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----).",
            )
        raise _Problem(
            FIELD_PRIVATE_KEY,
            "no PEM private key found. Paste the key as PEM text, e.g. from "
            "-----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.",
        )
    label, pem = blocks[0]
    encrypted = _is_encrypted(label, pem)
    if encrypted and not passphrase:
        raise _Problem(FIELD_PASSPHRASE, "the private key is encrypted; enter its passphrase.")
    password = passphrase.encode() if encrypted else None
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError):
        if encrypted:
            raise _Problem(
                FIELD_PASSPHRASE,
                "the passphrase does not decrypt the private key. Enter the passphrase the "
                "key was encrypted with.",
            ) from None
        raise _Problem(
            FIELD_PRIVATE_KEY,
            "the PEM text is not a readable private key (damaged or truncated). Paste it "
            "again from the original file.",
        ) from None
    except UnsupportedAlgorithm:
        raise _Problem(
            FIELD_PRIVATE_KEY,
            "the key is encrypted with a cipher this system cannot read; re-encrypt it with "
            "AES-256 (openssl pkcs8 -topk8 -v2 aes-256-cbc) or paste it unencrypted.",
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise _Problem(
                FIELD_PRIVATE_KEY, f"RSA keys need at least 2048 bits (this one: {key.key_size})."
            )
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in SUPPORTED_CURVES:
            raise _Problem(
                FIELD_PRIVATE_KEY,
                f"EC curve {key.curve.name} is not supported; use P-256, P-384 or P-521.",
            )
        return key
    raise _Problem(
        FIELD_PRIVATE_KEY,
        f"{type(key).__name__.removesuffix('PrivateKey') or 'this'} keys are not supported by "
        "IAM Roles Anywhere; use an RSA or EC (P-256/P-384) key.",
    )


def _public_der(key: Any) -> bytes:
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _leaf_problems(cert: x509.Certificate, now: datetime) -> list[str]:
    problems: list[str] = []
    if cert.not_valid_after_utc <= now:
        problems.append(
            f"{FIELD_CERTIFICATE}: the certificate expired on {_when(cert.not_valid_after_utc)}. "
            "Issue a new one from the trust anchor's CA and paste it (with its new key)."
        )
    elif cert.not_valid_before_utc > now:
        problems.append(
            f"{FIELD_CERTIFICATE}: the certificate is not valid before "
            f"{_when(cert.not_valid_before_utc)}. Wait until then, or check the clock of the "
            "Cloud Exchange host."
        )
    if cert.version != x509.Version.v3:
        problems.append(f"{FIELD_CERTIFICATE}: IAM Roles Anywhere needs an X.509 v3 certificate.")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if constraints.ca:
            problems.append(
                f"{FIELD_CERTIFICATE}: this is a CA certificate; paste the workload's end-entity "
                "certificate (the CA belongs in the trust anchor)."
            )
    except x509.ExtensionNotFound:
        pass
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            problems.append(
                f"{FIELD_CERTIFICATE}: its Key Usage lacks Digital Signature, which IAM Roles "
                "Anywhere requires to accept the request signature."
            )
    except x509.ExtensionNotFound:
        pass
    return problems


def _arn_problems(settings: RolesAnywhereSettings) -> list[str]:
    problems: list[str] = []
    anchor = _TRUST_ANCHOR_ARN.match(settings.trust_anchor_arn)
    profile = _PROFILE_ARN.match(settings.profile_arn)
    if not anchor:
        problems.append(
            f"{FIELD_TRUST_ANCHOR}: value ('{settings.trust_anchor_arn[:200]}') is not a trust "
            "anchor ARN, e.g. arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>."
        )
    if not profile:
        problems.append(
            f"{FIELD_PROFILE}: value ('{settings.profile_arn[:200]}') is not a Roles Anywhere "
            "profile ARN, e.g. arn:aws:rolesanywhere:us-east-1:123456789012:profile/<id>."
        )
    if not _ROLE_ARN.match(settings.role_arn):
        problems.append(
            f"{FIELD_ROLE}: value ('{settings.role_arn[:200]}') is not an IAM role ARN, e.g. "
            "arn:aws:iam::123456789012:role/NetskopeCE."
        )
    if anchor and profile and anchor.group("region") != profile.group("region"):
        problems.append(
            f"{FIELD_PROFILE}: the profile is in {profile.group('region')} but the trust anchor "
            f"is in {anchor.group('region')}; use a profile from the trust anchor's Region."
        )
    if not MIN_DURATION_SECONDS <= settings.duration_seconds <= MAX_DURATION_SECONDS:
        problems.append(
            f"{FIELD_DURATION}: must be between {MIN_DURATION_SECONDS} and "
            f"{MAX_DURATION_SECONDS} seconds."
        )
    if settings.role_session_name and not _SESSION_NAME.match(settings.role_session_name):
        problems.append("Role session name: 2-64 characters among letters, digits and _+=,.@- .")
    return problems


def _material_or_problems(
    settings: RolesAnywhereSettings, now: datetime
) -> tuple[SigningMaterial | None, list[str]]:
    problems = _arn_problems(settings)
    certificates: list[x509.Certificate] = []
    chain: list[x509.Certificate] = []
    key: SigningKey | None = None
    try:
        certificates = _load_certificates(settings.certificate, FIELD_CERTIFICATE)
    except _Problem as problem:
        problems.append(str(problem))
    if settings.certificate_chain:
        try:
            chain = _load_certificates(settings.certificate_chain, FIELD_CHAIN)
        except _Problem as problem:
            problems.append(str(problem))
    try:
        key = _load_key(settings.private_key, settings.passphrase)
    except _Problem as problem:
        problems.append(str(problem))
    if not certificates:
        return None, problems
    leaf, extra = certificates[0], certificates[1:]
    problems.extend(_leaf_problems(leaf, now))
    for position, ca in enumerate([*extra, *chain], start=1):
        if ca.not_valid_after_utc <= now:
            problems.append(
                f"{FIELD_CHAIN}: chain certificate #{position} "
                f"({ca.subject.rfc4514_string()[:120]}) "
                f"expired on {_when(ca.not_valid_after_utc)}; paste the CA's current certificate."
            )
    if key is not None and _public_der(key.public_key()) != _public_der(leaf.public_key()):
        problems.append(
            f"{FIELD_PRIVATE_KEY}: the private key does not belong to the certificate (their "
            "public keys differ). Paste the key that was generated with this certificate."
        )
    if key is None or problems:
        return None, problems
    return SigningMaterial(leaf, (*extra, *chain), key), problems


def validate_material(settings: RolesAnywhereSettings, *, now: datetime | None = None) -> list[str]:
    """Every problem found offline (empty when the material can sign), field first.

    Checks: the ARNs' shape and Regions, the session duration, that the certificate, chain and
    key parse (with the passphrase), that the key is RSA >= 2048 or EC P-256/P-384/P-521 and
    belongs to the certificate, that the certificate is an end-entity v3 certificate usable
    for signatures and is valid now, and that no chain certificate has expired.
    """
    _material, problems = _material_or_problems(settings, now or utc_now())
    return problems


def load_material(
    settings: RolesAnywhereSettings, *, now: datetime | None = None
) -> SigningMaterial:
    """The signing material, or ``AwsAuthError`` listing what ``validate_material`` found."""
    material, problems = _material_or_problems(settings, now or utc_now())
    if material is None:
        raise AwsAuthError(
            "IAM Roles Anywhere cannot be used: " + " ".join(problems or ["unknown problem."])
        )
    return material


# --------------------------------------------------------------------------- signing


def _b64_der(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _host_header(url: str) -> str:
    """The Host header requests/urllib3 send for ``url`` (default ports omitted)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _canonical_value(value: str) -> str:
    return " ".join(value.split())


def sign_create_session(
    material: SigningMaterial,
    *,
    url: str,
    body: bytes,
    region: str,
    when: datetime,
) -> dict[str, str]:
    """The headers of a signed CreateSession request (``Authorization`` included).

    Follows SigV4's canonical request with the X.509 variant's differences: the signed
    headers are ``content-type;host;x-amz-date;x-amz-x509`` (plus ``x-amz-x509-chain``), the
    string to sign starts with the X.509 algorithm name, and the signature is the private
    key's signature (PKCS#1 v1.5 or ECDSA, SHA-256) of the string to sign, hex-encoded.
    """
    amz_date = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    headers = {
        "content-type": "application/json",
        "host": _host_header(url),
        "x-amz-date": amz_date,
        "x-amz-x509": _b64_der(material.certificate),
    }
    if material.chain:
        headers["x-amz-x509-chain"] = ",".join(_b64_der(c) for c in material.chain)
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{k}:{_canonical_value(headers[k])}\n" for k in sorted(headers))
    path = urlsplit(url).path or "/"
    canonical_request = "\n".join(
        ("POST", path, "", canonical_headers, signed, hashlib.sha256(body).hexdigest())
    )
    string_to_sign = "\n".join(
        (
            material.algorithm,
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        )
    )
    signature = material.sign(string_to_sign.encode()).hex()
    authorization = (
        f"{material.algorithm} Credential={material.serial}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return {
        "Content-Type": headers["content-type"],
        "Host": headers["host"],
        "X-Amz-Date": amz_date,
        "X-Amz-X509": headers["x-amz-x509"],
        **({"X-Amz-X509-Chain": headers["x-amz-x509-chain"]} if material.chain else {}),
        "Authorization": authorization,
    }


# --------------------------------------------------------------------------- endpoint


def resolve_endpoint(region: str, endpoint_url: str | None = None) -> str:
    """Where CreateSession goes: ``endpoint_url``, else what boto3 would use for the service.

    botocore resolves it, so ``AWS_ENDPOINT_URL_ROLESANYWHERE``, ``AWS_ENDPOINT_URL``,
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``, the shared config file and partitions (China,
    GovCloud) behave exactly as for the plugin's other AWS calls.
    """
    if endpoint_url:
        return endpoint_url.rstrip("/")
    try:
        client = botocore.session.get_session().create_client(
            SERVICE, region_name=region, config=Config(signature_version=UNSIGNED)
        )
    except (BotoCoreError, ValueError):
        raise AwsAuthError(
            f"{FIELD_TRUST_ANCHOR}: no IAM Roles Anywhere endpoint for Region '{region[:40]}'. "
            "Check the Region in the trust anchor ARN."
        ) from None
    url: str = client.meta.endpoint_url
    return url.rstrip("/")


# --------------------------------------------------------------------------- CreateSession


def _error_parts(response: requests.Response) -> tuple[str, str]:
    """``(code, message)`` of an AWS REST-JSON error answer."""
    code = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = code or str(body.get("__type") or body.get("code") or body.get("Code") or "")
        code = code.rsplit("#", 1)[-1]
        message = str(body.get("message") or body.get("Message") or "")
    return code or f"HTTP {response.status_code}", message


def _advice(status: int, code: str, message: str) -> str:
    """Which field to fix for a refused CreateSession, read from AWS's code and message."""
    text = f"{code} {message}".lower()
    if "signature" in text and any(w in text for w in ("expired", "timestamp", "date", "skew")):
        return (
            "The request date was rejected: the clock of the Cloud Exchange host is off by "
            "more than five minutes; synchronise it (NTP)."
        )
    if "signature" in text:
        return (
            f"{FIELD_PRIVATE_KEY}: the signature made with the private key was not accepted; "
            f"check that the key belongs to {FIELD_CERTIFICATE}."
        )
    if "certificate" in text and any(w in text for w in ("expired", "not yet valid")):
        return f"{FIELD_CERTIFICATE}: issue a new certificate from the trust anchor's CA."
    if any(w in text for w in ("untrusted", "chain", "issuer")):
        return (
            f"{FIELD_CERTIFICATE} / {FIELD_TRUST_ANCHOR}: the certificate does not chain to the "
            "CA of the trust anchor. Use a certificate issued by that CA, paste any intermediate "
            f"CAs in {FIELD_CHAIN}, or enter the trust anchor that holds its CA."
        )
    if "trust anchor" in text or "trustanchor" in text:
        return (
            f"{FIELD_TRUST_ANCHOR}: check that the trust anchor exists in this Region and "
            "account and is enabled."
        )
    if "not in the profile" in text or "assume" in text:
        return (
            f"{FIELD_ROLE}: the role must be listed in the profile and its trust policy must "
            "allow rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, "
            "sts:SetSourceIdentity)."
        )
    if "profile" in text:
        return (
            f"{FIELD_PROFILE}: check that the profile exists in the trust anchor's Region and "
            "account and is enabled."
        )
    if "role" in text:
        return f"{FIELD_ROLE}: check the role ARN and that the profile lists it."
    if status == 404:
        return f"Check {FIELD_TRUST_ANCHOR}, {FIELD_PROFILE} and {FIELD_ROLE}."
    return f"Check {FIELD_CERTIFICATE}, {FIELD_TRUST_ANCHOR}, {FIELD_PROFILE} and {FIELD_ROLE}."


def _parse_expiration(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError("no expiration")


@dataclass(frozen=True)
class IssuedCredentials:
    """One CreateSession answer (the secret parts stay out of ``repr``)."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str = field(repr=False)
    expiration: datetime

    def metadata(self) -> dict[str, str]:
        """The shape botocore's ``RefreshableCredentials`` refresh callback returns."""
        return {
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "token": self.token,
            "expiry_time": self.expiration.isoformat(),
        }


class CreateSessionClient:
    """Calls CreateSession with CE's transport settings; one instance per configured session."""

    def __init__(
        self,
        settings: RolesAnywhereSettings,
        material: SigningMaterial,
        *,
        endpoint: str,
        proxy: Mapping[str, str] | None,
        verify: bool,
        user_agent: str,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._material = material
        self._url = endpoint + SESSIONS_PATH
        self._host = _host_header(endpoint)
        self._proxy = dict(proxy or {})
        self._verify = verify
        self._user_agent = user_agent
        self._clock = clock
        self._http = session or requests.Session()
        self._sleep = sleep
        self._secrets = (*settings.secrets, *(v for v in self._proxy.values() if v))

    def _body(self) -> bytes:
        request: dict[str, Any] = {
            "durationSeconds": self._settings.duration_seconds,
            "profileArn": self._settings.profile_arn,
            "roleArn": self._settings.role_arn,
            "trustAnchorArn": self._settings.trust_anchor_arn,
        }
        if self._settings.role_session_name:
            request["roleSessionName"] = self._settings.role_session_name
        return json.dumps(request, separators=(",", ":")).encode()

    def _fail(self, text: str) -> AwsAuthError:
        return AwsAuthError(redact(text, self._secrets)[:1500])

    def create_session(self) -> IssuedCredentials:
        """One CreateSession, retrying 429/5xx and dropped connections a bounded number of times."""
        body = self._body()
        attempt = 0
        while True:
            attempt += 1
            headers = sign_create_session(
                self._material,
                url=self._url,
                body=body,
                region=self._settings.region,
                when=self._clock(),
            )
            headers["User-Agent"] = self._user_agent
            wait: float | None = None
            try:
                response = self._http.post(
                    self._url,
                    data=body,
                    headers=headers,
                    proxies=self._proxy,
                    verify=self._verify,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                )
            except requests.exceptions.SSLError as error:
                raise self._fail(
                    f"IAM Roles Anywhere: the TLS connection to {self._host} failed "
                    f"({ssl_reason(error)}). If Cloud Exchange reaches AWS through a "
                    "TLS-inspecting proxy or a private endpoint, add that CA certificate to "
                    "Cloud Exchange's trusted certificates; or turn SSL validation off for this "
                    "plugin if you accept the risk."
                ) from None
            except requests.exceptions.ProxyError as error:
                raise self._fail(
                    f"IAM Roles Anywhere: Cloud Exchange's proxy did not open the connection to "
                    f"{self._host} ({proxy_reason(error)}). Check Settings > Proxy."
                ) from None
            except (requests.ConnectionError, requests.Timeout) as error:
                reason = (
                    f"no answer within {READ_TIMEOUT:g} s"
                    if isinstance(error, requests.exceptions.ReadTimeout)
                    else "connection refused, reset or name not resolved"
                )
                if attempt >= MAX_ATTEMPTS:
                    raise self._fail(
                        f"IAM Roles Anywhere: could not reach {self._host} after {attempt} "
                        f"attempts ({reason}). Check network access to AWS and Cloud Exchange's "
                        "proxy settings."
                    ) from None
            except requests.RequestException as error:
                raise self._fail(
                    f"IAM Roles Anywhere: the request to {self._host} could not be made "
                    f"({type(error).__name__})."
                ) from None
            else:
                if response.status_code in (200, 201):
                    return self._credentials(response)
                code, message = _error_parts(response)
                retryable = response.status_code == 429 or response.status_code >= 500
                if not retryable or attempt >= MAX_ATTEMPTS:
                    detail = f"HTTP {response.status_code} {code}" + (
                        f": {' '.join(message.split())[:300]}" if message else ""
                    )
                    raise self._fail(
                        f"IAM Roles Anywhere refused CreateSession ({detail}). "
                        + _advice(response.status_code, code, message)
                    )
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.strip().isdigit():
                    wait = float(retry_after.strip())
                    if wait > MAX_RETRY_AFTER:
                        raise self._fail(
                            f"IAM Roles Anywhere is throttling CreateSession (HTTP "
                            f"{response.status_code}, retry after {wait:g} s); try again later."
                        )
            self._sleep(wait if wait is not None else 0.5 * 2 ** (attempt - 1))

    def _credentials(self, response: requests.Response) -> IssuedCredentials:
        try:
            answer = response.json()
            credentials = answer["credentialSet"][0]["credentials"]
            issued = IssuedCredentials(
                access_key=str(credentials["accessKeyId"]),
                secret_key=str(credentials["secretAccessKey"]),
                token=str(credentials["sessionToken"]),
                expiration=_parse_expiration(credentials["expiration"]),
            )
        except (ValueError, KeyError, IndexError, TypeError):
            # The body may hold a secret key: never quote it.
            raise self._fail(
                f"IAM Roles Anywhere: {self._host} answered CreateSession without usable "
                "credentials (credentialSet[0].credentials missing or malformed). Check that "
                "the endpoint is IAM Roles Anywhere."
            ) from None
        if not (issued.access_key and issued.secret_key and issued.token):
            raise self._fail(
                f"IAM Roles Anywhere: {self._host} returned empty credentials for CreateSession."
            )
        return issued


def refresh_windows(lifetime: timedelta) -> tuple[int, int]:
    """``(advisory, mandatory)`` seconds before expiry at which botocore refreshes.

    botocore's defaults (15 and 10 minutes) suit hour-long sessions; a 15-minute session
    would be renewed on every call. Both windows shrink with shorter lifetimes so renewal
    always happens well before expiry and at most a few times per session.
    """
    seconds = max(int(lifetime.total_seconds()), 1)
    return min(15 * 60, max(seconds // 4, 1)), min(10 * 60, max(seconds // 8, 1))


def roles_anywhere_credentials(
    settings: RolesAnywhereSettings,
    *,
    proxy: Mapping[str, str] | None,
    verify: bool,
    user_agent: str,
    endpoint_url: str | None = None,
    clock: Clock = utc_now,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RefreshableCredentials:
    """Credentials from a first CreateSession, renewed by calling it again before expiry."""
    material = load_material(settings, now=clock())
    client = CreateSessionClient(
        settings,
        material,
        endpoint=resolve_endpoint(settings.region, endpoint_url),
        proxy=proxy,
        verify=verify,
        user_agent=user_agent,
        clock=clock,
        session=session,
        sleep=sleep,
    )
    first = client.create_session()
    advisory, mandatory = refresh_windows(first.expiration - clock())

    def refresh() -> dict[str, str]:
        return client.create_session().metadata()

    return RefreshableCredentials(
        access_key=first.access_key,
        secret_key=first.secret_key,
        token=first.token,
        expiry_time=first.expiration,
        refresh_using=refresh,
        method="iam-roles-anywhere",
        time_fetcher=clock,
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )


def roles_anywhere_session(
    settings: RolesAnywhereSettings,
    *,
    region: str,
    proxy: Mapping[str, str] | None,
    verify: bool,
    user_agent: str,
    endpoint_url: str | None = None,
    clock: Clock = utc_now,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> boto3.Session:
    """A boto3 session acting as ``settings.role_arn`` through IAM Roles Anywhere.

    ``region`` is the session's default Region (CreateSession itself always goes to the trust
    anchor's Region). ``proxy``/``verify``/``user_agent`` are CE's settings for the
    CreateSession call; clients built from the session take their own (``BotoClientFactory``).
    ``clock`` drives request dates and refresh decisions (tests inject one); ``session``
    replaces the ``requests`` session (tests, connection reuse). Raises ``AwsAuthError``.
    """
    credentials = roles_anywhere_credentials(
        settings,
        proxy=proxy,
        verify=verify,
        user_agent=user_agent,
        endpoint_url=endpoint_url,
        clock=clock,
        session=session,
        sleep=sleep,
    )
    core = botocore.session.get_session()
    # botocore has no public setter for refreshable credentials on a session; this attribute
    # is the hook its own assume-role provider relies on (as in aws_session.py).
    setattr(core, "_credentials", credentials)  # noqa: B010
    return boto3.Session(botocore_session=core, region_name=region)


def material_summary(material: SigningMaterial) -> str:
    """A log-safe description of the certificate in use (no key material)."""
    cert = material.certificate
    return (
        f"certificate serial {material.serial} ({cert.subject.rfc4514_string()[:120]}), "
        f"valid until {_when(cert.not_valid_after_utc)}, {len(material.chain)} chain "
        f"certificate(s), {material.algorithm}"
    )


__all__ = [
    "ALGORITHM_ECDSA",
    "ALGORITHM_RSA",
    "CreateSessionClient",
    "IssuedCredentials",
    "RolesAnywhereSettings",
    "SigningMaterial",
    "load_material",
    "material_summary",
    "refresh_windows",
    "resolve_endpoint",
    "roles_anywhere_credentials",
    "roles_anywhere_session",
    "sign_create_session",
    "validate_material",
]
