"""Shared set-up of the IAM Roles Anywhere tests: ARNs, settings from the throw-away PKI, an
injectable clock, and the emulator wired to moto's STS (so issued keys really work)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.roles_anywhere import (
    RolesAnywhereSettings,
)

from devkit.emulators.rolesanywhere import ProfileSpec, RolesAnywhereEmulator, TrustAnchorSpec
from devkit.tls import DevPki, Issued

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRUST_ANCHOR = (
    f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/4f3c0e1a-ce00-4a10-9d1e-000000000001"
)
PROFILE = f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:profile/9b2d7c40-ce00-4a10-9d1e-000000000002"
ROLE_NAME = "NetskopeCeReader"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
USER_AGENT = "netskope-ce-5.1.0-cto-aws-role-session-identity-v1.0.0"
PASSPHRASE = "c0rrect-H0rse-Battery-Staple"
ROLES_ANYWHERE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "rolesanywhere.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        }
    ],
}


@dataclass
class FakeClock:
    """A clock tests move by hand; shared by the plugin (dates, refresh) and the emulator."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def settings_for(
    issued: Issued,
    *,
    passphrase: str | None = None,
    chain: str = "",
    **overrides: Any,
) -> RolesAnywhereSettings:
    values: dict[str, Any] = {
        "certificate": issued.cert_pem,
        "private_key": issued.key_pem(passphrase),
        "passphrase": passphrase or "",
        "trust_anchor_arn": TRUST_ANCHOR,
        "profile_arn": PROFILE,
        "role_arn": ROLE,
        "certificate_chain": chain,
    }
    values.update(overrides)
    return RolesAnywhereSettings(**values)


def create_role() -> None:
    boto3.client("iam").create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(ROLES_ANYWHERE_TRUST)
    )


def emulator(pki: DevPki, sts_endpoint: str | None, **options: Any) -> RolesAnywhereEmulator:
    """An HTTPS CreateSession endpoint trusting the PKI's client CA (not started)."""
    cert, key = pki.server_files(self_signed=options.pop("self_signed", False))
    return RolesAnywhereEmulator(
        trust_anchors=[TrustAnchorSpec(TRUST_ANCHOR, pki.client_ca.cert_pem)],
        profiles=[ProfileSpec(PROFILE, (ROLE,))],
        region=REGION,
        sts_endpoint=sts_endpoint,
        tls_cert=cert,
        tls_key=key,
        **options,
    )
