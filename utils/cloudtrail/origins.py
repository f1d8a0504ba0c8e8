"""Walking a session's issuances back to its origin; the resolutions the resolver's paths end
in, and the facts of a session identity they use.

Pure functions of the sessions known, an origin or an identity: no state of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .events import (
    ASSUMED_ROLE,
    AWS_SERVICE,
    FEDERATED_USER,
    IAM_USER,
    IDENTITY_CENTER_USER,
    ROOT,
    SAML_USER,
    WEB_IDENTITY_USER,
    TrailEvent,
    UserIdentity,
)
from .identities import (
    is_identity_center_provider,
    is_identity_center_role,
    is_workload_web_identity,
    session_name_of_identity,
)
from .index import IssuedSession
from .resolution import ChainLink, Method, Origin, Resolution, Status, UnattributedKey

STS: Final = "sts.amazonaws.com"
FEDERATION_CALLS: Final = frozenset(
    {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken"}
)
SESSION_TYPES: Final = frozenset({ASSUMED_ROLE, FEDERATED_USER})
HUMAN_ORIGINS: Final = frozenset({IAM_USER, ROOT, SAML_USER, IDENTITY_CENTER_USER})


def is_assume_role(event: TrailEvent) -> bool:
    """An ``sts:AssumeRole`` call: the events whose session-name rule the alerts judge."""
    return event.eventName == "AssumeRole" and event.eventSource == STS


def status_of(origin: Origin) -> Status:
    """How sure a resolution naming ``origin`` is: a person, a workload, or unknown."""
    if origin.type == AWS_SERVICE:
        return Status.WORKLOAD
    if origin.type == WEB_IDENTITY_USER:
        workload = is_workload_web_identity(origin.user_name, origin.provider)
        return Status.WORKLOAD if workload else Status.RESOLVED
    if origin.type in HUMAN_ORIGINS:
        return Status.RESOLVED
    return Status.UNRESOLVED


def terminal(
    origin: Origin,
    kind: str,
    chain: tuple[ChainLink, ...],
    session: IssuedSession,
    source_identity: str | None = None,
) -> Resolution:
    """The resolution of a walk that reached ``origin``, the caller of ``session``'s issuing
    ``kind`` of call, through ``chain``."""
    if (
        kind == "AssumeRoleWithSAML"
        and is_identity_center_role(session.role_arn)
        and is_identity_center_provider(origin.provider)
    ):
        # Identity Center's own issuance: the SAML subject is its user, named as a session
        # of the role read before this issuance names it (``identity_center_session``).
        origin = Origin(
            IDENTITY_CENTER_USER,
            user_name=origin.user_name,
            principal_id=origin.principal_id,
            provider=origin.provider,
        )
    return Resolution(
        status_of(origin),
        Method.FEDERATION if kind in FEDERATION_CALLS else Method.ISSUING_EVENT,
        origin,
        chain=chain,
        role_arn=session.role_arn,
        session_name=session.session_name,
        access_key_id=session.access_key_id,
        source_identity=source_identity or session.source_identity,
    )


def identity_center(user_id: str, store: str | None, identity: UserIdentity) -> Resolution:
    """A session Identity Center opened on behalf of its user ``user_id`` (of ``store``)."""
    return Resolution(
        Status.RESOLVED,
        Method.ON_BEHALF_OF,
        Origin(
            IDENTITY_CENTER_USER, user_name=user_id, account_id=identity.accountId, provider=store
        ),
        role_arn=issuer_arn(identity),
        session_name=session_name_of_identity(identity),
        access_key_id=identity.accessKeyId or None,
    )


def session_of(identity: UserIdentity | None) -> tuple[str | None, str | None]:
    """The role ARN (from the session issuer) and session name of a session identity."""
    if identity is None:
        return None, None
    return issuer_arn(identity), session_name_of_identity(identity)


def issuer_arn(identity: UserIdentity) -> str | None:
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    return issuer.arn if issuer is not None else None


def unattributed_key(
    identity: UserIdentity | None, key: str, events: list[TrailEvent]
) -> UnattributedKey:
    """Session ``key`` (of ``identity``), given up unattributed with ``events``, for alerts."""
    role_arn, session_name = session_of(identity)
    times = sorted(event.eventTime for event in events)
    return UnattributedKey(
        access_key_id=key,
        role_arn=role_arn,
        session_name=session_name,
        account_id=identity.accountId if identity is not None else None,
        first_seen=times[0],
        last_seen=times[-1],
        events=len(events),
    )


class Missing:
    """A walk that stopped at a key with no issuance (yet)."""

    __slots__ = ("key", "source_identity")

    def __init__(self, key: str | None, source_identity: str | None) -> None:
        self.key = key
        self.source_identity = source_identity


def walk(sessions: Mapping[str, IssuedSession], key: str, max_depth: int) -> Resolution | Missing:
    """Follow issuances from ``key`` back to an origin that is not a session (at most
    ``max_depth`` links); where a link is missing, the key that lacks its issuance."""
    links: list[ChainLink] = []
    visited: set[str] = set()
    current: str | None = key
    first: IssuedSession | None = None
    source_identity: str | None = None
    while current:
        session = sessions.get(current)
        if session is None:
            return Missing(current, source_identity)
        if current in visited or len(links) >= max_depth:
            return Resolution(
                Status.UNRESOLVED,
                Method.CHAIN_LOOP,
                chain=tuple(reversed(links)),
                access_key_id=key,
                reason="the issuance chain loops or exceeds max_chain_depth",
            )
        visited.add(current)
        first = first or session
        source_identity = source_identity or session.source_identity
        links.append(ChainLink(session.role_arn, session.session_name, current, session.account_id))
        origin = session.origin
        if origin.type in SESSION_TYPES:
            current = session.parent_key
            continue
        if not session.caller_copy:
            return Missing(current, source_identity)  # await the caller's copy
        return terminal(origin, session.kind, tuple(reversed(links)), first, source_identity)
    return Missing(None, source_identity)
