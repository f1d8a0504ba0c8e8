"""Throw-away X.509 material for tests and the local emulators (never for real use).

Why it exists: the proxy/TLS and IAM Roles Anywhere tests need a certificate authority the
system does not trust (to prove that ``ssl_validation`` really verifies), server certificates
for ``127.0.0.1``/``localhost`` (and ``*.invalid`` names only a test proxy can resolve), and
client certificates with RSA and EC keys, some expired or not yet valid, some with encrypted
private keys. Generating keys costs tens of milliseconds each, so the default material is made
once per process and cached in a temporary directory; everything else is made on demand.

``cryptography`` is the only dependency (it is already in the plugin's allowed list).
"""

from __future__ import annotations

import atexit
import ipaddress
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyType = Literal["rsa", "ec256", "ec384"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

DEFAULT_SERVER_NAMES = ("127.0.0.1", "localhost", "splunk.invalid", "rolesanywhere.invalid")


def generate_key(key_type: KeyType = "rsa") -> PrivateKey:
    """A fresh private key: RSA 2048 or EC P-256/P-384 (what IAM Roles Anywhere accepts)."""
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curve: ec.EllipticCurve = ec.SECP256R1() if key_type == "ec256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


def key_pem(key: PrivateKey, passphrase: str | None = None, *, pkcs8: bool = True) -> str:
    """The key as PEM; encrypted with ``passphrase`` when given (PKCS#8 or traditional)."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    form = (
        serialization.PrivateFormat.PKCS8
        if pkcs8
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(serialization.Encoding.PEM, form, encryption).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Issued:
    """A certificate with its private key (and where they were written, when they were)."""

    cert: x509.Certificate
    key: PrivateKey = field(repr=False)
    cert_path: Path | None = None
    key_path: Path | None = None

    @property
    def cert_pem(self) -> str:
        return cert_pem(self.cert)

    def key_pem(self, passphrase: str | None = None, *, pkcs8: bool = True) -> str:
        return key_pem(self.key, passphrase, pkcs8=pkcs8)

    @property
    def serial(self) -> int:
        return self.cert.serial_number

    def write(self, directory: Path, stem: str) -> Issued:
        """Write ``<stem>.crt`` and ``<stem>.key`` (unencrypted) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        self.cert_path = directory / f"{stem}.crt"
        self.key_path = directory / f"{stem}.key"
        self.cert_path.write_text(self.cert_pem, "ascii")
        self.key_path.write_text(self.key_pem(), "ascii")
        self.key_path.chmod(0o600)
        return self


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "devkit throw-away PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(names: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


class CertificateAuthority:
    """A self-signed CA (optionally an intermediate under another) that issues certificates."""

    def __init__(
        self,
        common_name: str = "devkit test CA",
        key_type: KeyType = "ec256",
        *,
        parent: CertificateAuthority | None = None,
    ) -> None:
        self.key: PrivateKey = generate_key(key_type)
        self.parent = parent
        self.cert: x509.Certificate
        now = datetime.now(UTC)
        issuer_key = parent.key if parent else self.key
        issuer_name = parent.cert.subject if parent else _name(common_name)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(issuer_name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
        )
        self.cert = builder.sign(issuer_key, hashes.SHA256())
        self.cert_path: Path | None = None

    @property
    def cert_pem(self) -> str:
        return cert_pem(self.cert)

    def write(self, directory: Path, stem: str = "ca") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.cert_path = directory / f"{stem}.crt"
        self.cert_path.write_text(self.cert_pem, "ascii")
        return self.cert_path

    def issue(
        self,
        common_name: str,
        *,
        key_type: KeyType = "rsa",
        server_names: Iterable[str] = (),
        client: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        serial: int | None = None,
        is_ca: bool = False,
        digital_signature: bool = True,
    ) -> Issued:
        """An end-entity certificate signed by this CA (server, client or both)."""
        key = generate_key(key_type)
        now = datetime.now(UTC)
        usages = []
        if server_names:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(hours=1))
            .not_valid_after(not_after or now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=False,
                    key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=is_ca,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        if server_names:
            builder = builder.add_extension(_san(server_names), critical=False)
        return Issued(builder.sign(self.key, hashes.SHA256()), key)


def self_signed_server(names: Iterable[str] = DEFAULT_SERVER_NAMES) -> Issued:
    """A server certificate that is its own issuer (OpenSSL: 'self-signed certificate')."""
    key = generate_key("ec256")
    now = datetime.now(UTC)
    name = _name("devkit self-signed server")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


@dataclass(eq=False)
class DevPki:
    """The default throw-away material, written under ``directory``."""

    directory: Path
    server_ca: CertificateAuthority
    server: Issued
    self_signed: Issued
    client_ca: CertificateAuthority
    other_ca: CertificateAuthority
    _clients: dict[KeyType, Issued] = field(default_factory=dict, repr=False)

    @property
    def server_ca_path(self) -> Path:
        assert self.server_ca.cert_path is not None
        return self.server_ca.cert_path

    def server_files(self, *, self_signed: bool = False) -> tuple[str, str]:
        """``(cert_path, key_path)`` for an emulator's ``tls_cert``/``tls_key``."""
        issued = self.self_signed if self_signed else self.server
        assert issued.cert_path is not None and issued.key_path is not None
        return str(issued.cert_path), str(issued.key_path)

    def client(self, key_type: KeyType = "rsa") -> Issued:
        """A Roles Anywhere client certificate from the trusted client CA, made once per
        key type and process (key generation is the slow part of a test)."""
        with _lock:
            if key_type not in self._clients:
                self._clients[key_type] = self.client_ca.issue(
                    f"workload-{key_type}", key_type=key_type, client=True
                )
            return self._clients[key_type]


_lock = threading.RLock()
_pki: DevPki | None = None


def dev_pki() -> DevPki:
    """The process-wide default material (made on first use, removed at exit)."""
    global _pki
    with _lock:
        if _pki is None:
            directory = Path(tempfile.mkdtemp(prefix="devkit-pki-"))
            atexit.register(shutil.rmtree, directory, True)
            server_ca = CertificateAuthority("devkit server CA")
            server_ca.write(directory, "server-ca")
            server = server_ca.issue(
                "devkit server", key_type="ec256", server_names=DEFAULT_SERVER_NAMES
            ).write(directory, "server")
            self_signed = self_signed_server().write(directory, "self-signed")
            client_ca = CertificateAuthority("devkit Roles Anywhere CA")
            client_ca.write(directory, "client-ca")
            other_ca = CertificateAuthority("devkit unrelated CA")
            other_ca.write(directory, "other-ca")
            _pki = DevPki(directory, server_ca, server, self_signed, client_ca, other_ca)
        return _pki


__all__ = [
    "CertificateAuthority",
    "Issued",
    "KeyType",
    "DevPki",
    "cert_pem",
    "generate_key",
    "key_pem",
    "self_signed_server",
    "dev_pki",
]
