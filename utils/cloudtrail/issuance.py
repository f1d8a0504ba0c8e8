"""The facts an event establishes for later events: issued keys, trust changes, role switches.

Pure readers, one per kind of event; the resolver records what they return in the index.
A failed call (``errorCode``) establishes nothing and never reaches these functions.
"""

from __future__ import annotations

from sys import intern
from typing import Final

from .events import (
    ASSUMED_ROLE,
    AWS_ACCOUNT,
    FEDERATED_USER,
    SAML_USER,
    WEB_IDENTITY_USER,
    TrailEvent,
    UserIdentity,
)
from .identities import (
    arn_account,
    origin_from_arn,
    origin_of,
    session_name_of,
    session_name_of_identity,
)
from .index import CONSOLE_WAIT, ConsoleSwitch, IssuedSession
from .resolution import Origin
from .timeparse import parse_expiration, parse_iso

ISSUING_CALLS: Final = frozenset(
    {"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken"}
)
FEDERATION_CALLS: Final = frozenset(
    {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken"}
)
TRUST_CHANGES: Final = {
    "CreateRole": "assumeRolePolicyDocument",
    "UpdateAssumeRolePolicy": "policyDocument",
}
# STS defaults when an expiration cannot be read: AssumeRole* 1 h, GetFederationToken 12 h.
_DEFAULT_DURATION: Final = {"GetFederationToken": 43200.0}
_DEFAULT_SESSION_SECONDS: Final = 3600.0
CONSOLE_SESSION_SECONDS: Final = 43200.0
_SESSION_TYPES: Final = frozenset({ASSUMED_ROLE, FEDERATED_USER})
# Callers seen issuing, each kept once: a trail where sessions are short re-issues sessions
# to the same few hundred users and roles all day, and every stored session pointed at its
# own copy of its caller (an ``Origin`` and four strings, about 400 bytes, kept for the
# session's retention). Role ARNs, accounts, Regions and API names are interned for the
# same reason; interned strings are freed with their last user (CPython >= 3.10), so a
# hostile trail cannot grow that table beyond what the index keeps anyway. Bounded: emptied
# when full (then shared again as met).
_ORIGINS: dict[tuple[str | None, ...], Origin] = {}
_MAX_ORIGINS: Final = 4096


def shared_origin(origin: Origin) -> Origin:
    """One ``Origin`` object per distinct caller (read-only, like every ``Origin``)."""
    key = (
        origin.type,
        origin.arn,
        origin.user_name,
        origin.account_id,
        origin.principal_id,
        origin.provider,
    )
    known = _ORIGINS.get(key)
    if known is not None:
        return known
    if len(_ORIGINS) >= _MAX_ORIGINS:
        _ORIGINS.clear()
    _ORIGINS[key] = origin
    return origin


def _caller(identity: UserIdentity) -> Origin:
    """``origin_of(identity)``, shared, without building it again for a caller already met.

    A session caller (a role chain's next hop) is only its kind and account: a walk goes on
    to its own issuance through ``parent_key``, and nothing reads more of it. Its ARN and
    principal id name that one session, so keeping them would cost every chained session an
    ``Origin`` and two strings of its own for as long as it is kept.
    """
    if identity.type in _SESSION_TYPES:
        return shared_origin(Origin(identity.type, account_id=identity.accountId))
    key = (
        identity.type,
        identity.arn,
        identity.principalId,
        identity.accountId,
        identity.userName,
        identity.invokedBy,
    )
    known = _CALLERS.get(key)
    if known is None:
        if len(_CALLERS) >= _MAX_ORIGINS:
            _CALLERS.clear()
        known = _CALLERS[key] = shared_origin(origin_of(identity))
    return known


_CALLERS: dict[tuple[str | None, ...], Origin] = {}


def _role_account(role_arn: str | None) -> tuple[str | None, str | None]:
    """A role ARN as one shared string, and its account (a trail names a few hundred roles)."""
    if role_arn is None:
        return None, None
    known = _ROLES.get(role_arn)
    if known is None:
        if len(_ROLES) >= _MAX_ORIGINS:
            _ROLES.clear()
        known = _ROLES[role_arn] = (intern(role_arn), arn_account(role_arn))
    return known


_ROLES: dict[str, tuple[str | None, str | None]] = {}


def issued_session(event: TrailEvent, fallback_time: float) -> IssuedSession | None:
    """The session an STS issuing call created (None: no key in its response).

    ``fallback_time`` stands in for an unreadable ``eventTime``. The caller is the signer,
    except for SAML / web identity, where the identity provider's subject is.
    """
    response = event.responseElements
    credentials = response.credentials if response is not None else None
    key = credentials.accessKeyId if credentials is not None else None
    if not key or response is None or credentials is None:
        return None
    request = event.requestParameters
    identity = event.userIdentity
    kind = event.eventName
    issued_at = parse_iso(event.eventTime) or fallback_time
    duration = request.durationSeconds if request is not None else None
    expires_at = parse_expiration(credentials.expiration) or issued_at + (
        duration or _DEFAULT_DURATION.get(kind, _DEFAULT_SESSION_SECONDS)
    )
    assumed = response.assumedRoleUser
    assumed_arn = assumed.arn if assumed is not None else None
    role_arn = request.roleArn if request is not None else None
    session_name = session_name_of(assumed_arn)
    if kind == "GetFederationToken":
        federated = response.federatedUser
        role_arn = None
        session_name = request.name if request is not None else None
        if session_name is None and federated is not None and federated.arn:
            session_name = federated.arn.rsplit("/", 1)[-1]
    elif session_name is None and request is not None:
        session_name = request.roleSessionName
    parent_key: str | None = None
    caller_copy = True
    if kind == "AssumeRoleWithSAML":
        origin = Origin(
            SAML_USER,
            user_name=response.subject or (identity.userName if identity else None),
            principal_id=identity.principalId if identity else None,
            provider=(request.principalArn if request else None)
            or (identity.identityProvider if identity else None),
        )
    elif kind == "AssumeRoleWithWebIdentity":
        origin = Origin(
            WEB_IDENTITY_USER,
            user_name=response.subjectFromWebIdentityToken
            or (identity.userName if identity else None),
            principal_id=identity.principalId if identity else None,
            provider=response.provider or (identity.identityProvider if identity else None),
        )
    elif identity is None:
        origin = Origin("Unknown")
    else:
        origin = _caller(identity)
        caller_copy = identity.type != AWS_ACCOUNT
        if identity.type in _SESSION_TYPES:
            parent_key = identity.accessKeyId or None
    source_identity = response.sourceIdentity or (request.sourceIdentity if request else None)
    if source_identity is None and identity is not None:
        context = identity.sessionContext
        source_identity = context.sourceIdentity if context is not None else None
    role_arn, account_id = _role_account(role_arn)
    account_id = account_id or arn_account(assumed_arn) or event.recipientAccountId
    region = event.awsRegion
    return IssuedSession(
        key,
        intern(kind),
        shared_origin(origin),
        parent_key,
        role_arn,
        session_name,
        intern(account_id) if account_id else account_id,
        intern(region) if region else region,
        issued_at,
        expires_at,
        source_identity,
        assumed.assumedRoleId if assumed is not None else None,
        event.sharedEventID,
        caller_copy,
    )


def trust_change(event: TrailEvent) -> tuple[str, str, float, str] | None:
    """``(account, role name, time, trust policy document)`` of a CreateRole or
    UpdateAssumeRolePolicy event."""
    request = event.requestParameters
    field = TRUST_CHANGES.get(event.eventName)
    if request is None or field is None or not request.roleName:
        return None
    document = getattr(request, field)
    at = parse_iso(event.eventTime)
    identity = event.userIdentity
    account = event.recipientAccountId or (identity.accountId if identity else None)
    if not isinstance(document, str) or not document or at is None or not account:
        return None
    return account, request.roleName, at, document


def console_switch(event: TrailEvent, fallback_time: float) -> ConsoleSwitch | None:
    """The console session group a ``SwitchRole`` opened, and who switched (``SwitchFrom``)."""
    identity = event.userIdentity
    extra = event.additionalEventData
    source = extra.SwitchFrom if extra is not None else None
    if identity is None or not identity.principalId or not source:
        return None
    context = identity.sessionContext
    attributes = context.attributes if context is not None else None
    created = (attributes.creationDate if attributes is not None else None) or event.eventTime
    issuer = context.sessionIssuer if context is not None else None
    at = parse_iso(created) or fallback_time
    return ConsoleSwitch(
        principal_id=identity.principalId,
        created_at=float(int(at)),
        origin=origin_from_arn(source),
        role_arn=issuer.arn if issuer is not None else None,
        session_name=session_name_of_identity(identity),
        account_id=identity.accountId,
        expires_at=at + CONSOLE_SESSION_SECONDS,
    )


def shared_wait_key(shared_event_id: str) -> str:
    """What a role account's copy waits for: the caller's copy of the same call."""
    return f"shared:{shared_event_id}"


def console_wait_key(principal_id: str, created_at: float) -> str:
    """What a console request waits for: a known session of its group."""
    return f"{CONSOLE_WAIT}{principal_id}@{int(created_at)}"
