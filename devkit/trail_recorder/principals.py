"""Who signs a recorded call: the principals CloudTrail names, and the directory of keys.

A record's ``userIdentity`` depends only on who signed the call, so each principal kind knows
how to describe itself; the directory maps every access key the scenario uses to its principal
and every role ARN (with or without its path) to the role's id.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devkit.trail_recorder.formats import RecorderError, iso_z


@dataclass(frozen=True)
class Actor:
    """Where a call comes from. ``user_agent=None`` logs the real User-Agent botocore sent."""

    source_ip: str
    user_agent: str | None = None


@dataclass(frozen=True)
class Credentials:
    """A key pair (and token) to sign with; kept out of every record and repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_sts(cls, credentials: Mapping[str, Any]) -> Credentials:
        """From an STS ``Credentials`` structure (AssumeRole and friends)."""
        return cls(
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials.get("SessionToken"),
        )

    @classmethod
    def from_access_key(cls, access_key: Mapping[str, Any]) -> Credentials:
        """From IAM ``CreateAccessKey``'s ``AccessKey`` structure."""
        return cls(access_key["AccessKeyId"], access_key["SecretAccessKey"])


@dataclass(frozen=True)
class RootPrincipal:
    """The account's root (moto's default demo key is treated as root)."""

    account_id: str
    access_key_id: str

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        return {
            "type": "Root",
            "principalId": self.account_id,
            "arn": f"arn:aws:iam::{self.account_id}:root",
            "accountId": self.account_id,
            "accessKeyId": access_key_id or self.access_key_id,
        }


@dataclass(frozen=True)
class UserPrincipal:
    """An IAM user and one of its long-term keys."""

    account_id: str
    user_name: str
    user_id: str
    arn: str

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "type": "IAMUser",
            "principalId": self.user_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if access_key_id is not None:
            identity["accessKeyId"] = access_key_id
        identity["userName"] = self.user_name
        return identity


@dataclass(frozen=True)
class ServicePrincipal:
    """An AWS service acting on the account's behalf (EC2 fetching an instance role)."""

    service: str

    def identity(self, access_key_id: str | None = None) -> dict[str, Any]:
        return {"type": "AWSService", "invokedBy": self.service}


@dataclass(frozen=True)
class RoleInfo:
    """What a session's ``sessionIssuer`` needs: the role ARN *with* its path, and its id."""

    arn: str
    role_id: str

    @property
    def account_id(self) -> str:
        return self.arn.split(":")[4]

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SessionPrincipal:
    """A role session, known by the temporary key its issuance returned."""

    role: RoleInfo
    session_name: str
    access_key_id: str
    created: datetime
    source_identity: str | None = None
    mfa_authenticated: bool = False
    chained: bool = False
    parent_key: str | None = None
    # Console sessions mark each record with a top-level ``sessionCredentialFromConsole``.
    console: bool = False
    # Extra keys of ``sessionContext`` (``ec2RoleDelivery``) and of ``userIdentity``
    # (``onBehalfOf``), as the issuing path adds them.
    context_extra: tuple[tuple[str, Any], ...] = ()
    identity_extra: tuple[tuple[str, Any], ...] = ()

    @property
    def account_id(self) -> str:
        return self.role.account_id

    @property
    def arn(self) -> str:
        """The assumed-role ARN: never carries the role path."""
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role.name}/{self.session_name}"

    @property
    def principal_id(self) -> str:
        return f"{self.role.role_id}:{self.session_name}"

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        context: dict[str, Any] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": self.role.role_id,
                "arn": self.role.arn,
                "accountId": self.account_id,
                "userName": self.role.name,
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": iso_z(self.created),
                "mfaAuthenticated": "true" if self.mfa_authenticated else "false",
            },
        }
        if self.source_identity:
            context["sourceIdentity"] = self.source_identity
        context.update(dict(self.context_extra))
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
            "accessKeyId": access_key_id if access_key_id is not None else self.access_key_id,
            "sessionContext": context,
        }
        identity.update(dict(self.identity_extra))
        return identity


Principal = RootPrincipal | UserPrincipal | ServicePrincipal | SessionPrincipal


def synthetic_user_id(arn: str) -> str:
    """A stable ``AIDA…`` id for an IAM user.

    Why: moto's ``UserId`` is lowercase random text, while CloudTrail's ``principalId`` for an
    IAM user is always ``AIDA`` + 17 base32 characters. Derived from the ARN so it is stable.
    """
    digest = base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()
    return "AIDA" + digest[:17]


def pathless_role_arn(arn: str) -> str:
    """``arn:aws:iam::1:role/a/b/Name`` → ``arn:aws:iam::1:role/Name`` (for lookups)."""
    head, _, rest = arn.partition(":role/")
    return f"{head}:role/{rest.rsplit('/', 1)[-1]}" if rest else arn


def caller_account(caller: Principal, default: str) -> str:
    if isinstance(caller, ServicePrincipal):
        return default
    return caller.account_id


class PrincipalDirectory:
    """Every access key the scenario signs with, and every role a session can name.

    Roles are kept under their ARN with and without the path, because ``AssumeRole`` accepts
    either while ``sessionIssuer`` must always show the path-bearing one.
    """

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self._principals: dict[str, Principal] = {}
        self._roles: dict[str, RoleInfo] = {}

    def register_root(self, access_key_id: str, account_id: str | None = None) -> RootPrincipal:
        """Calls signed with this key are logged as the account root."""
        principal = RootPrincipal(account_id or self.account_id, access_key_id)
        self._principals[access_key_id] = principal
        return principal

    def register_user(
        self, user: Mapping[str, Any], access_key_id: str, *, user_id: str | None = None
    ) -> UserPrincipal:
        """Register an IAM user's key (``user`` = IAM ``CreateUser``/``GetUser`` ``User``)."""
        arn = str(user["Arn"])
        moto_id = str(user.get("UserId", ""))
        principal = UserPrincipal(
            account_id=arn.split(":")[4],
            user_name=str(user["UserName"]),
            user_id=user_id or (moto_id if moto_id.startswith("AIDA") else synthetic_user_id(arn)),
            arn=arn,
        )
        self._principals[access_key_id] = principal
        return principal

    def register_role(self, role: Mapping[str, Any]) -> RoleInfo:
        """Register a role (IAM ``Role`` structure) so sessions show its path-bearing ARN."""
        info = RoleInfo(arn=str(role["Arn"]), role_id=str(role["RoleId"]))
        self._roles[info.arn] = info
        self._roles[pathless_role_arn(info.arn)] = info
        return info

    def principal(self, access_key_id: str) -> Principal:
        try:
            return self._principals[access_key_id]
        except KeyError:
            raise RecorderError(
                f"access key {access_key_id} is unknown to the trail recorder: register its "
                "user (register_user) or obtain it through a recorded AssumeRole"
            ) from None

    def session(self, access_key_id: str) -> SessionPrincipal:
        principal = self.principal(access_key_id)
        if not isinstance(principal, SessionPrincipal):
            raise RecorderError(f"access key {access_key_id} is not a role session key")
        return principal

    def _role(self, role_arn: str, role_id: str | None = None) -> RoleInfo:
        info = self._roles.get(role_arn) or self._roles.get(pathless_role_arn(role_arn))
        if info is not None:
            return info
        if role_id is None:
            raise RecorderError(f"role {role_arn} is unknown: register it with register_role")
        info = RoleInfo(role_arn, role_id)
        self._roles[role_arn] = info
        return info
