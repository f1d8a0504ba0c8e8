"""What the resolver says about an event: who is behind it, how that was established.

Value types only (JSON-ready), shared by the resolver, the index, the CLI and the alert
builder. Treat them as read-only: one ``Resolution`` serves every event of a session. They
are plain slotted dataclasses rather than frozen ones because a frozen dataclass costs seven
times as much to build, and the resolver builds them on its hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from .events import TrailEvent


class Status(StrEnum):
    RESOLVED = "resolved"  # a human: IAM user, root, SAML / OIDC / Identity Center user
    WORKLOAD = "workload"  # an AWS service, an EC2 instance, a Lambda function, a CI job
    UNRESOLVED = "unresolved"


class Method(StrEnum):
    DIRECT = "direct"  # the signer is the origin (IAM user, root, federated caller)
    ISSUING_EVENT = "issuing_event"  # walked the AssumeRole issuances to the origin
    FEDERATION = "federation"  # SAML / web identity / GetFederationToken origin
    SOURCE_IDENTITY = "source_identity"  # sts:SourceIdentity (immutable) named the origin
    ON_BEHALF_OF = "on_behalf_of"  # identity-enhanced session of an Identity Center user
    IDENTITY_CENTER_SESSION = "identity_center_session"  # session name, role at SSO's path
    CONSOLE_SESSION = "console_session"  # same principalId + creationDate as a known session
    ENFORCED_SESSION_NAME = "enforced_session_name"  # role forced name = ${aws:username}
    AWS_SERVICE = "aws_service"  # AWS service principal or service-linked role
    EC2_INSTANCE_ROLE = "ec2_instance_role"  # credentials delivered to an EC2 instance
    SHARED_EVENT = "shared_event"  # role-account copy of a cross-account call
    NO_ISSUANCE = "no_issuance"  # no issuing event arrived before the hold expired
    CHAIN_LOOP = "chain_loop"  # the issuance chain loops or is deeper than allowed
    NO_IDENTITY = "no_identity"  # the record has no userIdentity
    UNKNOWN_IDENTITY = "unknown_identity"  # an identity type the resolver does not know


class Evidence(StrEnum):
    """What an identity rests on (``Resolution.evidence``)."""

    VERIFIED = "verified"  # fields AWS writes, or a name IAM guaranteed (enforced rule)
    CLAIMED = "claimed"  # a string the caller chose (SourceIdentity, a session name)


PROVISIONAL_METHODS: frozenset[str] = frozenset(
    {
        Method.EC2_INSTANCE_ROLE,
        Method.ENFORCED_SESSION_NAME,
        Method.IDENTITY_CENTER_SESSION,
        Method.SOURCE_IDENTITY,
    }
)
"""Methods that name a session from its own record; its issuing event, read later, outranks
them (docs/identity-resolver.md, order of evidence). Members compare equal to the stored
method strings."""

CLAIMED_METHODS: frozenset[str] = frozenset({Method.SOURCE_IDENTITY})
"""Methods whose identity is a string the caller chose: a SourceIdentity is whatever the
first hop's caller set (a trust policy may constrain it; the resolver does not know that).
Provisional too: the issuing event, when read, names who it was."""

# An origin of this type is a session standing for its caller (a console switch from an
# assumed role): its user name is that session's name, which its caller chose.
_SESSION_ORIGIN = "AssumedRole"


def evidence_of(method: str | None, origin_type: str | None) -> Evidence | None:
    """``Resolution.evidence`` from a resolution's method and origin type (None: no origin),
    also for resolutions stored as JSON before the field existed."""
    if origin_type is None:
        return None
    if method in CLAIMED_METHODS or origin_type == _SESSION_ORIGIN:
        return Evidence.CLAIMED
    return Evidence.VERIFIED


def stored_evidence(resolution: dict[str, Any] | None) -> Evidence | None:
    """``evidence`` of a resolution stored by ``to_json``, derived again from its method and
    origin (windows stored before the field existed have none; a stored value is not
    trusted over what the method says)."""
    data = resolution or {}
    origin = data.get("origin")
    origin_type = origin.get("type") if isinstance(origin, dict) else None
    method = data.get("method")
    return evidence_of(method if isinstance(method, str) else None, origin_type)


@dataclass(slots=True)
class Origin:
    """The identity at the start of a chain of sessions."""

    type: str
    arn: str | None = None
    user_name: str | None = None
    account_id: str | None = None
    principal_id: str | None = None
    provider: str | None = None  # SAML/OIDC provider or Identity Center identity store

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "arn": self.arn,
            "userName": self.user_name,
            "accountId": self.account_id,
        }
        if self.principal_id is not None:
            out["principalId"] = self.principal_id
        if self.provider is not None:
            out["provider"] = self.provider
        return out


@dataclass(slots=True)
class ChainLink:
    """One session walked: the role it is of and the key it was issued as."""

    role_arn: str | None
    session_name: str | None
    access_key_id: str | None
    account_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "roleArn": self.role_arn,
            "sessionName": self.session_name,
            "accessKeyId": self.access_key_id,
            "accountId": self.account_id,
        }


@dataclass(slots=True, eq=False)
class Resolution:
    """Who is behind an event; ``chain`` runs from the origin's first session to the event's.

    ``role_arn``/``session_name``/``access_key_id`` describe the session that signed the event
    (None for events not signed by a session). ``held`` says the event waited for its issuing
    event (it arrived later, or never: then ``method`` is ``no_issuance``).

    One object is shared by all events of a session, so equality is identity (cheap to count
    with a ``Counter``); compare ``to_json()`` to compare contents.
    """

    status: Status
    method: Method
    origin: Origin | None = None
    chain: tuple[ChainLink, ...] = ()
    role_arn: str | None = None
    session_name: str | None = None
    access_key_id: str | None = None
    source_identity: str | None = None
    held: bool = False
    reason: str | None = None

    def after_hold(self) -> Resolution:
        """This resolution, marked as given after the event was held."""
        if self.held:
            return self
        return Resolution(
            self.status,
            self.method,
            self.origin,
            self.chain,
            self.role_arn,
            self.session_name,
            self.access_key_id,
            self.source_identity,
            True,
            self.reason,
        )

    @property
    def evidence(self) -> Evidence | None:
        """``claimed`` when the identity is a string its caller chose (say so, never trust
        it: the issuing event, once read, replaces it), ``verified`` when AWS wrote it or
        IAM guaranteed it; None when no identity was found."""
        origin = self.origin
        return evidence_of(self.method, origin.type if origin is not None else None)

    def to_json(self) -> dict[str, Any]:
        evidence = self.evidence
        out: dict[str, Any] = {
            "status": self.status.value,
            "origin": self.origin.to_json() if self.origin is not None else None,
            "method": self.method.value,
            "chain": [link.to_json() for link in self.chain],
            "roleArn": self.role_arn,
            "sessionName": self.session_name,
            "accessKeyId": self.access_key_id,
        }
        if evidence is not None:
            out["evidence"] = evidence.value
        if self.source_identity is not None:
            out["sourceIdentity"] = self.source_identity
        if self.held:
            out["held"] = True
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class ResolvedEvent(NamedTuple):
    event: TrailEvent
    resolution: Resolution


@dataclass(slots=True)
class AssumptionCheck:
    """One ``AssumeRole`` call: who called it, with which session name, and the outcome.

    ``enforced`` is whether the role enforced ``sts:RoleSessionName = ${aws:username}`` at
    that time (None: unknown). A session name that is not the caller's IAM user name is the
    spoofing signal; on a denied call it is an attempt.
    """

    event: TrailEvent
    caller: Resolution
    role_arn: str | None
    session_name: str | None
    source_identity: str | None
    issued_key: str | None
    error_code: str | None
    enforced: bool | None

    @property
    def denied(self) -> bool:
        return self.error_code is not None

    @property
    def caller_user_name(self) -> str | None:
        """The calling IAM user's name, when the caller is an IAM user (directly or not)."""
        origin = self.caller.origin
        if origin is None or origin.type != "IAMUser":
            return None
        return origin.user_name

    @property
    def name_matches_caller(self) -> bool | None:
        """Whether the requested session name is the caller's user name (None: not a user)."""
        user = self.caller_user_name
        if user is None or self.session_name is None:
            return None
        return self.session_name == user


@dataclass(slots=True)
class LateAttribution:
    """A session given up on (its events emitted unresolved) whose missing issuance arrived
    after all: ``resolution`` is who was behind ``access_key_id``."""

    access_key_id: str
    resolution: Resolution


@dataclass(slots=True)
class UnattributedKey:
    """A session key seen in use whose issuing event never arrived within the hold."""

    access_key_id: str
    role_arn: str | None
    session_name: str | None
    account_id: str | None
    first_seen: str
    last_seen: str
    events: int
