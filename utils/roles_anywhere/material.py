"""IAM Roles Anywhere certificate material: what the admin configures, checked offline.

``RolesAnywhereSettings`` is the configuration (the certificate, its chain, the private key and
its passphrase, and the trust anchor, profile and role ARNs). ``validate_material`` lists every
problem with it, field first, without any network call, so ``validate_step`` can answer
precisely; ``load_material`` turns it into the ``SigningMaterial`` that signs CreateSession.
PEM text is repaired first, because single-line CE fields and JSON copy-paste mangle its line
breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ..clock import utc_now
from ..exceptions import AwsAuthError

ALGORITHM_RSA: Final = "AWS4-X509-RSA-SHA256"
ALGORITHM_ECDSA: Final = "AWS4-X509-ECDSA-SHA256"
MIN_DURATION_SECONDS: Final = 900
MAX_DURATION_SECONDS: Final = 43200
DEFAULT_DURATION_SECONDS: Final = 3600
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


def material_summary(material: SigningMaterial) -> str:
    """A log-safe description of the certificate in use (no key material)."""
    cert = material.certificate
    return (
        f"certificate serial {material.serial} ({cert.subject.rfc4514_string()[:120]}), "
        f"valid until {_when(cert.not_valid_after_utc)}, {len(material.chain)} chain "
        f"certificate(s), {material.algorithm}"
    )
