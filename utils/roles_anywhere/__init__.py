"""IAM Roles Anywhere: an X.509 certificate and its private key become temporary AWS credentials.

Why the plugin does this itself instead of shelling out to AWS's ``aws_signing_helper``:
CE plugins cannot ship binaries, and the official CE AWS plugins that offer Roles Anywhere
refresh credentials only after they expired and send CreateSession without CE's proxy or TLS
settings.

- ``material``: the settings an admin enters and the offline checks of the certificate, chain,
  key and ARNs (``validate_material``), each problem naming its field;
- ``pki``: parsing and checks of the certificate and key, and the ``SigningMaterial`` that
  signs with the key: the only module that needs ``cryptography``;
- ``signing``: the SigV4-X509 signature of CreateSession with the certificate's private key;
- ``client``: CreateSession through CE's proxy and TLS settings, and the botocore
  ``RefreshableCredentials`` (and boto3 session) that call it again before expiry.

Every failure is an ``AwsAuthError`` naming the configuration field to fix (certificate,
chain, private key, passphrase, trust anchor / profile / role ARN) or the CE setting (proxy,
TLS); no message ever carries the private key, its passphrase, a proxy credential or the
returned secret key and session token.

``cryptography`` is optional: it is not in every Cloud Exchange image and only this
authentication method needs it. Importing this package never imports it; ``pki`` is imported
when material is validated or loaded, and without ``cryptography`` both answer with
``CRYPTOGRAPHY_MISSING`` (the Authentication Method field and the fix), so tenants using any
other authentication method are unaffected.
"""

from __future__ import annotations

from .client import (
    CreateSessionClient,
    IssuedCredentials,
    refresh_windows,
    resolve_endpoint,
    roles_anywhere_credentials,
    roles_anywhere_session,
)
from .material import (
    ALGORITHM_ECDSA,
    ALGORITHM_RSA,
    CRYPTOGRAPHY_MISSING,
    FIELD_CERTIFICATE,
    FIELD_CHAIN,
    FIELD_DURATION,
    FIELD_METHOD,
    FIELD_PASSPHRASE,
    FIELD_PRIVATE_KEY,
    FIELD_PROFILE,
    FIELD_ROLE,
    FIELD_TRUST_ANCHOR,
    KEY_CERTIFICATE,
    KEY_CHAIN,
    KEY_DURATION,
    KEY_PASSPHRASE,
    KEY_PRIVATE_KEY,
    KEY_PROFILE,
    KEY_ROLE,
    KEY_TRUST_ANCHOR,
    CryptographyUnavailable,
    RolesAnywhereSettings,
    load_material,
    validate_material,
)
from .signing import host_header, sign_create_session

__all__ = [
    "ALGORITHM_ECDSA",
    "ALGORITHM_RSA",
    "CRYPTOGRAPHY_MISSING",
    "FIELD_CERTIFICATE",
    "FIELD_CHAIN",
    "FIELD_DURATION",
    "FIELD_METHOD",
    "FIELD_PASSPHRASE",
    "FIELD_PRIVATE_KEY",
    "FIELD_PROFILE",
    "FIELD_ROLE",
    "FIELD_TRUST_ANCHOR",
    "KEY_CERTIFICATE",
    "KEY_CHAIN",
    "KEY_DURATION",
    "KEY_PASSPHRASE",
    "KEY_PRIVATE_KEY",
    "KEY_PROFILE",
    "KEY_ROLE",
    "KEY_TRUST_ANCHOR",
    "CreateSessionClient",
    "CryptographyUnavailable",
    "IssuedCredentials",
    "RolesAnywhereSettings",
    "host_header",
    "load_material",
    "refresh_windows",
    "resolve_endpoint",
    "roles_anywhere_credentials",
    "roles_anywhere_session",
    "sign_create_session",
    "validate_material",
]
