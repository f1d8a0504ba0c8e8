"""SigV4-X509 signing of IAM Roles Anywhere's CreateSession request.

CreateSession (``POST /sessions`` on ``rolesanywhere.<region>.amazonaws.com``, the Region of
the trust anchor) is signed with the certificate's private key rather than an access key:
SigV4 canonicalisation with algorithm ``AWS4-X509-RSA-SHA256`` or ``AWS4-X509-ECDSA-SHA256``,
the certificate (and its chain) in ``X-Amz-X509``/``X-Amz-X509-Chain`` as base64 DER, and the
certificate's serial number (decimal) in place of an access key id in the credential scope.

Only the stdlib is needed here: the key operation is ``SigningMaterial.sign`` (in ``pki``), so
the plugin imports this module whether or not ``cryptography`` is installed.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .pki import SigningMaterial

SERVICE: Final = "rolesanywhere"


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")


def host_header(url: str) -> str:
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
        "host": host_header(url),
        "x-amz-date": amz_date,
        "x-amz-x509": _b64(material.certificate_der),
    }
    if material.chain:
        headers["x-amz-x509-chain"] = ",".join(_b64(der) for der in material.chain_der)
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
