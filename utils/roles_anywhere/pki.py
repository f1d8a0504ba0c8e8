"""The certificate and key half of Roles Anywhere material: the part that needs ``cryptography``.

``cryptography`` is not in every Cloud Exchange image, and only IAM Roles Anywhere needs it, so
this module is imported by ``material`` when Roles Anywhere material is checked or loaded,
never when the plugin is imported. Everything here works on PEM text that ``material`` has
already repaired, and phrases each problem for the admin, field first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .material import (
    ALGORITHM_ECDSA,
    ALGORITHM_RSA,
    FIELD_CERTIFICATE,
    FIELD_CHAIN,
    FIELD_PASSPHRASE,
    FIELD_PRIVATE_KEY,
    KEY_LABELS,
    Problem,
    RolesAnywhereSettings,
    arn_problems,
    pem_blocks,
)

SUPPORTED_CURVES: Final = frozenset({"secp256r1", "secp384r1", "secp521r1"})

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


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

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def chain_der(self) -> tuple[bytes, ...]:
        return tuple(c.public_bytes(serialization.Encoding.DER) for c in self.chain)

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


def _load_certificates(text: str, field_label: str) -> list[x509.Certificate]:
    blocks = list(pem_blocks(text))
    if not blocks:
        raise Problem(
            field_label,
            "no PEM certificate found. Paste the certificate as PEM text, from "
            "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.",
        )
    certificates: list[x509.Certificate] = []
    for label, pem in blocks:
        if label in KEY_LABELS:
            raise Problem(
                field_label,
                "this field holds a private key; paste the certificate here and the key in "
                f"{FIELD_PRIVATE_KEY}.",
            )
        if label != "CERTIFICATE":
            continue
        try:
            certificates.append(x509.load_pem_x509_certificate(pem))
        except ValueError:
            raise Problem(
                field_label,
                f"certificate #{len(certificates) + 1} is not a valid X.509 certificate "
                "(damaged PEM text). Paste it again from the original file.",
            ) from None
    if not certificates:
        raise Problem(field_label, "no -----BEGIN CERTIFICATE----- block found.")
    return certificates


def _is_encrypted(label: str, pem: bytes) -> bool:
    return label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem


def _load_key(text: str, passphrase: str) -> SigningKey:
    blocks = [(label, pem) for label, pem in pem_blocks(text) if label in KEY_LABELS]
    if not blocks:
        if any(label == "CERTIFICATE" for label, _ in pem_blocks(text)):
            raise Problem(
                FIELD_PRIVATE_KEY,
                "this field holds a certificate, not a private key. Paste the PEM private key "
                "(-----BEGIN PRIVATE KEY----- or -----BEGIN RSA/EC PRIVATE KEY-----).",
            )
        raise Problem(
            FIELD_PRIVATE_KEY,
            "no PEM private key found. Paste the key as PEM text, e.g. from "
            "-----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.",
        )
    label, pem = blocks[0]
    encrypted = _is_encrypted(label, pem)
    if encrypted and not passphrase:
        raise Problem(FIELD_PASSPHRASE, "the private key is encrypted; enter its passphrase.")
    password = passphrase.encode() if encrypted else None
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError):
        if encrypted:
            raise Problem(
                FIELD_PASSPHRASE,
                "the passphrase does not decrypt the private key. Enter the passphrase the "
                "key was encrypted with.",
            ) from None
        raise Problem(
            FIELD_PRIVATE_KEY,
            "the PEM text is not a readable private key (damaged or truncated). Paste it "
            "again from the original file.",
        ) from None
    except UnsupportedAlgorithm:
        raise Problem(
            FIELD_PRIVATE_KEY,
            "the key is encrypted with a cipher this system cannot read; re-encrypt it with "
            "AES-256 (openssl pkcs8 -topk8 -v2 aes-256-cbc) or paste it unencrypted.",
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise Problem(
                FIELD_PRIVATE_KEY, f"RSA keys need at least 2048 bits (this one: {key.key_size})."
            )
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name not in SUPPORTED_CURVES:
            raise Problem(
                FIELD_PRIVATE_KEY,
                f"EC curve {key.curve.name} is not supported; use P-256, P-384 or P-521.",
            )
        return key
    raise Problem(
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


def material_or_problems(
    settings: RolesAnywhereSettings, now: datetime
) -> tuple[SigningMaterial | None, list[str]]:
    """The signing material when nothing is wrong, else ``None`` and every problem found."""
    problems = arn_problems(settings)
    certificates: list[x509.Certificate] = []
    chain: list[x509.Certificate] = []
    key: SigningKey | None = None
    try:
        certificates = _load_certificates(settings.certificate, FIELD_CERTIFICATE)
    except Problem as problem:
        problems.append(str(problem))
    if settings.certificate_chain:
        try:
            chain = _load_certificates(settings.certificate_chain, FIELD_CHAIN)
        except Problem as problem:
            problems.append(str(problem))
    try:
        key = _load_key(settings.private_key, settings.passphrase)
    except Problem as problem:
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


def material_summary(material: SigningMaterial) -> str:
    """A log-safe description of the certificate in use (no key material)."""
    cert = material.certificate
    return (
        f"certificate serial {material.serial} ({cert.subject.rfc4514_string()[:120]}), "
        f"valid until {_when(cert.not_valid_after_utc)}, {len(material.chain)} chain "
        f"certificate(s), {material.algorithm}"
    )
