"""Names the human (or workload) behind every CloudTrail event: the identity resolver.

Pure: events in, resolutions out; no I/O, no clock, no logging. Time comes from the events
(the *watermark*, the latest ``eventTime`` seen) or from the caller (``expire_held(now)``).

How an event signed by a session is resolved (``docs/identity-resolver.md`` has the why):

1. its ``accessKeyId`` was issued by an event in the index → walk the issuances (role chains
   of any depth, loop-guarded) to an origin that is not a session: ``issuing_event`` or, for
   SAML / web identity / federation tokens, ``federation``;
2. otherwise (no issuance yet, or a link of its chain missing) facts of the event itself:
   ``source_identity`` (immutable, short-circuits the walk), ``on_behalf_of`` (Identity
   Center), an ``AWSReservedSSO_`` role's session name, EC2 instance credentials, a
   service-linked role, a federation token's issuing user, the console group
   (``principalId`` + ``creationDate``) of a known session or a ``SwitchRole``, or a role
   that enforced ``sts:RoleSessionName = ${aws:username}`` when the session was created;
3. otherwise the event is **held** until the missing issuance arrives (a later file, a
   later pull) and emitted then, marked ``held``; at its deadline (``hold_seconds`` of event
   time) or when the hold is full it is emitted ``unresolved`` / ``no_issuance``.

Each ``resolve(batch)`` first learns every issuance, trust-policy change and role switch in
the batch, so the order of records inside a batch (a trail file) does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter
from typing import Any, Final

from .events import (
    ASSUMED_ROLE,
    AWS_ACCOUNT,
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
    arn_account,
    is_identity_center_role,
    is_service_linked_role,
    is_workload_web_identity,
    origin_of,
    session_name_of_identity,
)
from .index import (
    DEFAULT_BUDGET_BYTES,
    HeldEvent,
    IssuanceIndex,
    IssuedSession,
    LoadReport,
    SaveReport,
)
from .issuance import (
    ISSUING_CALLS,
    TRUST_CHANGES,
    console_switch,
    console_wait_key,
    issued_session,
    shared_wait_key,
    trust_change,
)
from .resolution import (
    AssumptionCheck,
    ChainLink,
    Method,
    Origin,
    Resolution,
    ResolvedEvent,
    Status,
    UnattributedKey,
)
from .timeparse import format_iso, parse_iso

PolicyEnforces = Callable[[str], bool | None]
"""Whether a trust-policy document (JSON text) enforces the session-name rule (None: unknown)."""
RoleEnforces = Callable[[str, float], bool | None]
"""Whether the role (ARN) enforced the rule at a time (epoch seconds); None: unknown."""

STS: Final = "sts.amazonaws.com"
IAM: Final = "iam.amazonaws.com"
SIGNIN: Final = "signin.amazonaws.com"
_LEARN_SOURCES: Final = frozenset({STS, IAM, SIGNIN})
_FEDERATION_CALLS: Final = frozenset(
    {"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "GetFederationToken"}
)
_HUMAN_ORIGINS: Final = frozenset({IAM_USER, ROOT, SAML_USER, IDENTITY_CENTER_USER})
_SESSION_TYPES: Final = frozenset({ASSUMED_ROLE, FEDERATED_USER})
_event_time = attrgetter("eventTime")


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    hold_seconds: float = 3600.0  # event time a key may be used before its issuance is read
    max_held: int = 20_000  # events held at once; beyond, the oldest is emitted unresolved
    session_retention_seconds: float = 7200.0  # keep sessions this long after they expire
    max_chain_depth: int = 16
    dedupe_window: int = 200_000  # event ids remembered (two generations of half)
    cache_size: int = 100_000  # keys whose resolution is remembered


@dataclass(slots=True)
class ResolverStats:
    events: int = 0  # events given to resolve()
    emitted: int = 0
    duplicates: int = 0
    addendum_updates: int = 0
    issued: int = 0  # sessions learnt (or upgraded to the caller's copy)
    held: int = 0
    released: int = 0  # held events emitted after their issuance arrived
    expired: int = 0  # held events emitted unresolved at their deadline
    overflowed: int = 0  # held events emitted unresolved because the hold was full
    sessions_pruned: int = 0


@dataclass(slots=True)
class ResolveResult:
    """What one call produced, in parallel lists: ``events[i]`` resolved as
    ``resolutions[i]`` (held events appear in the call that releases them); the AssumeRole
    checks and the keys that stayed unattributed, for alerts."""

    events: list[TrailEvent] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    assumptions: list[AssumptionCheck] = field(default_factory=list)
    unattributed: list[UnattributedKey] = field(default_factory=list)

    @property
    def resolved(self) -> list[ResolvedEvent]:
        """The events with their resolutions, as pairs."""
        return [ResolvedEvent(e, r) for e, r in zip(self.events, self.resolutions, strict=True)]

    def add(self, event: TrailEvent, resolution: Resolution) -> None:
        self.events.append(event)
        self.resolutions.append(resolution)

    def extend(self, other: ResolveResult) -> None:
        self.events.extend(other.events)
        self.resolutions.extend(other.resolutions)
        self.assumptions.extend(other.assumptions)
        self.unattributed.extend(other.unattributed)


class _Missing:
    """A walk that stopped at a key with no issuance (yet)."""

    __slots__ = ("key", "source_identity")

    def __init__(self, key: str | None, source_identity: str | None) -> None:
        self.key = key
        self.source_identity = source_identity


class IdentityResolver:
    """Resolves batches of events against an ``IssuanceIndex`` it keeps up to date."""

    def __init__(
        self,
        index: IssuanceIndex | None = None,
        *,
        policy_enforces: PolicyEnforces | None = None,
        role_enforces: RoleEnforces | None = None,
        settings: ResolverSettings | None = None,
    ) -> None:
        self.index = index if index is not None else IssuanceIndex()
        self.settings = settings if settings is not None else ResolverSettings()
        self.stats = ResolverStats()
        self._policy_enforces = policy_enforces
        self._role_enforces = role_enforces
        self._seen: set[str] = set()
        self._seen_before: set[str] = set()
        self._by_key: dict[str, Resolution] = {}
        self._services: dict[str | None, Resolution] = {}
        self._arrived: set[str] = set()
        # Keys found waiting (no issuance, no session facts) since the index last learnt
        # something: further events of those sessions are held without the slow path.
        self._pending: dict[str, tuple[str, ...]] = {}

    # persistence ---------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        stored: object,
        *,
        policy_enforces: PolicyEnforces | None = None,
        role_enforces: RoleEnforces | None = None,
        settings: ResolverSettings | None = None,
    ) -> tuple[IdentityResolver, LoadReport]:
        """A resolver continuing from ``storage["index"]`` (None or unusable: a fresh one)."""
        index, report = IssuanceIndex.from_storage(stored)
        resolver = cls(
            index, policy_enforces=policy_enforces, role_enforces=role_enforces, settings=settings
        )
        return resolver, report

    def save(
        self, storage: dict[str, Any], *, budget_bytes: int = DEFAULT_BUDGET_BYTES
    ) -> tuple[SaveReport, ResolveResult]:
        """Store the index under ``storage["index"]`` within ``budget_bytes``.

        Held events the budget cannot keep are emitted now, unresolved, in the returned
        result (report them like any other).
        """
        document, report = self.index.to_storage(
            budget_bytes=budget_bytes, retention_seconds=self.settings.session_retention_seconds
        )
        storage["index"] = document
        if report.live_evicted:
            self._by_key.clear()
        result = ResolveResult()
        self._emit_unresolved(
            report.held_overflow, "the stored index had no room to hold it", result
        )
        self.stats.overflowed += len(report.held_overflow)
        return report, result

    # resolving -----------------------------------------------------------------------

    def resolve(self, events: Iterable[TrailEvent]) -> ResolveResult:
        """Resolve one batch (a trail file, a LookupEvents page); see the module docstring."""
        batch = events if isinstance(events, list) else list(events)
        result = ResolveResult()
        if not batch:
            return result
        self.stats.events += len(batch)
        learning = [i for i, ev in enumerate(batch) if ev.eventSource in _LEARN_SOURCES]
        for position in learning:
            self._learn(batch[position])
        if self._arrived:
            self._pending.clear()
        self._advance_watermark(batch)
        self._rotate_seen()

        seen = self._seen
        seen_before = self._seen_before
        remember = seen.add
        cached = self._by_key.get
        slow = self._resolve_signed
        unsigned = self._resolve_unsigned
        resolutions: list[Resolution | None] = []
        keep = resolutions.append
        for event in batch:
            event_id = event.eventID
            if event.addendum is not None:
                event_id = self._addendum_id(event)
            if event_id in seen or event_id in seen_before:
                keep(self._duplicate(event))
                continue
            remember(event_id)
            identity = event.userIdentity
            if identity is None:
                keep(unsigned(event))
                continue
            key = identity.accessKeyId
            resolution = cached(key) if key else None
            keep(resolution if resolution is not None else slow(event, identity, key, None))
        result.events = list(compress(batch, resolutions))
        result.resolutions = list(compress(resolutions, resolutions))  # type: ignore[arg-type]
        self.stats.emitted += len(result.events)
        for position in learning:
            outcome = resolutions[position]
            if outcome is not None:
                self._check_assumption(batch[position], outcome, result)
        if self._arrived:
            self._release(result)
        self._expire(self.index.watermark, result)
        return result

    def expire_held(self, now: float) -> ResolveResult:
        """Emit, unresolved, the held events whose deadline is at or before ``now``."""
        result = ResolveResult()
        self._expire(now, result)
        return result

    def drain(self) -> ResolveResult:
        """Emit every held event as unresolved (the end of an offline run)."""
        result = ResolveResult()
        self._expire(float("inf"), result)
        return result

    def _duplicate(self, event: TrailEvent) -> Resolution | None:
        addendum = event.addendum
        if addendum is not None and addendum.reason == "UPDATED_DATA":
            self.stats.addendum_updates += 1
            identity = event.userIdentity
            if identity is None:
                return self._resolve_unsigned(event)
            return self._resolve_signed(event, identity, identity.accessKeyId, None)
        self.stats.duplicates += 1
        return None

    @staticmethod
    def _addendum_id(event: TrailEvent) -> str:
        addendum = event.addendum
        original = addendum.originalEventID if addendum is not None else None
        return original or event.eventID

    def _rotate_seen(self) -> None:
        if len(self._seen) >= self.settings.dedupe_window // 2:
            self._seen_before = self._seen
            self._seen = set()

    def _advance_watermark(self, batch: list[TrailEvent]) -> None:
        latest = parse_iso(max(map(_event_time, batch)))
        if latest is None:
            times = [t for t in map(parse_iso, map(_event_time, batch)) if t is not None]
            latest = max(times, default=None)
        index = self.index
        if latest is not None and latest > index.watermark:
            index.watermark = latest
            pruned = index.prune(latest - self.settings.session_retention_seconds)
            if pruned:
                self.stats.sessions_pruned += pruned
                self._by_key.clear()
        if len(self._by_key) > self.settings.cache_size:
            self._by_key.clear()

    # learning ------------------------------------------------------------------------

    def _learn(self, event: TrailEvent) -> None:
        if event.errorCode:
            return  # a failed call issues nothing and changes nothing
        name = event.eventName
        source = event.eventSource
        if source == STS and name in ISSUING_CALLS:
            self._learn_issuance(event)
        elif source == IAM and name in TRUST_CHANGES:
            self._learn_trust_change(event)
        elif source == SIGNIN and name == "SwitchRole":
            self._learn_switch(event)

    def _learn_issuance(self, event: TrailEvent) -> None:
        session = issued_session(event, self.index.watermark)
        if session is None or not self.index.add(session):
            return
        self.stats.issued += 1
        key = session.access_key_id
        self._by_key.pop(key, None)
        self._arrived.add(key)
        if session.shared_event_id:
            self._arrived.add(shared_wait_key(session.shared_event_id))
        if session.assumed_role_id:
            for delta in (-1, 0, 1):
                created = format_iso(session.issued_at + delta)
                self._arrived.add(console_wait_key(session.assumed_role_id, created))

    def _learn_trust_change(self, event: TrailEvent) -> None:
        change = trust_change(event)
        if change is None:
            return
        account, role_name, at, document = change
        verdict = self._policy_enforces(document) if self._policy_enforces else None
        self.index.timeline.record(account, role_name, at, verdict)
        self._pending.clear()  # a session name may be trusted now

    def _learn_switch(self, event: TrailEvent) -> None:
        switch = console_switch(event, self.index.watermark)
        if switch is None:
            return
        self.index.console[(switch.principal_id, switch.creation_date)] = switch
        self._arrived.add(console_wait_key(switch.principal_id, switch.creation_date))

    # resolving one event ---------------------------------------------------------------

    def _resolve_unsigned(self, event: TrailEvent) -> Resolution:
        """Records without ``userIdentity``: AWS service events, or nothing to go on."""
        if event.eventType == "AwsServiceEvent":
            return self._service(event.eventSource)
        return Resolution(Status.UNRESOLVED, Method.NO_IDENTITY, reason="no userIdentity")

    def _service(self, service: str | None) -> Resolution:
        resolution = self._services.get(service)
        if resolution is None:
            resolution = Resolution(
                Status.WORKLOAD, Method.AWS_SERVICE, Origin(AWS_SERVICE, user_name=service)
            )
            self._services[service] = resolution
        return resolution

    def _resolve_signed(
        self,
        event: TrailEvent,
        identity: UserIdentity,
        key: str | None,
        deadline: float | None,
    ) -> Resolution | None:
        """The slow path: everything the key cache did not answer. None: the event is held."""
        kind = identity.type
        if kind in _SESSION_TYPES:
            return self._resolve_session(event, identity, key, deadline)
        if kind in (IAM_USER, ROOT):
            resolution = Resolution(Status.RESOLVED, Method.DIRECT, origin_of(identity))
            if key:
                self._by_key[key] = resolution
            return resolution
        if kind == AWS_SERVICE or (kind is None and identity.invokedBy):
            return self._service(identity.invokedBy)
        if kind == SAML_USER:
            request = event.requestParameters
            return Resolution(
                Status.RESOLVED,
                Method.FEDERATION,
                Origin(
                    SAML_USER,
                    user_name=identity.userName,
                    principal_id=identity.principalId,
                    provider=(request.principalArn if request is not None else None)
                    or identity.identityProvider,
                ),
            )
        if kind == WEB_IDENTITY_USER:
            workload = is_workload_web_identity(identity.userName, identity.identityProvider)
            return Resolution(
                Status.WORKLOAD if workload else Status.RESOLVED,
                Method.FEDERATION,
                Origin(
                    WEB_IDENTITY_USER,
                    user_name=identity.userName,
                    principal_id=identity.principalId,
                    provider=identity.identityProvider,
                ),
            )
        if kind == IDENTITY_CENTER_USER:
            on_behalf = identity.onBehalfOf
            if on_behalf is not None and on_behalf.userId:
                return _identity_center(on_behalf.userId, on_behalf.identityStoreArn, identity)
        if kind == AWS_ACCOUNT:
            return self._resolve_role_account_copy(event, identity, deadline)
        return Resolution(
            Status.UNRESOLVED, Method.UNKNOWN_IDENTITY, reason=f"identity type {kind!r}"
        )

    def _resolve_session(
        self,
        event: TrailEvent,
        identity: UserIdentity,
        key: str | None,
        deadline: float | None,
    ) -> Resolution | None:
        if key:
            pending = self._pending.get(key)
            if pending is not None:
                self._hold(event, pending, deadline)
                return None
        walked: Resolution | _Missing | None = self._walk(key) if key else None
        if isinstance(walked, Resolution):
            if walked.method is not Method.CHAIN_LOOP and key:
                self._by_key[key] = walked
            return walked
        context = identity.sessionContext
        issuer = context.sessionIssuer if context is not None else None
        issuer_arn = issuer.arn if issuer is not None else None
        session_name = session_name_of_identity(identity)
        source_identity = (context.sourceIdentity if context is not None else None) or (
            walked.source_identity if walked is not None else None
        )

        def resolved(status: Status, method: Method, origin: Origin) -> Resolution:
            return Resolution(
                status,
                method,
                origin,
                role_arn=issuer_arn,
                session_name=session_name,
                access_key_id=key,
                source_identity=source_identity,
            )

        if source_identity:
            return resolved(
                Status.RESOLVED,
                Method.SOURCE_IDENTITY,
                Origin("SourceIdentity", user_name=source_identity),
            )
        on_behalf = identity.onBehalfOf
        if on_behalf is not None and on_behalf.userId:
            return _identity_center(on_behalf.userId, on_behalf.identityStoreArn, identity)
        if is_identity_center_role(issuer_arn) and session_name:
            return resolved(
                Status.RESOLVED,
                Method.IDENTITY_CENTER_SESSION,
                Origin(IDENTITY_CENTER_USER, user_name=session_name, account_id=identity.accountId),
            )
        if context is not None and context.ec2RoleDelivery:
            return resolved(
                Status.WORKLOAD,
                Method.EC2_INSTANCE_ROLE,
                Origin(AWS_SERVICE, user_name="ec2.amazonaws.com"),
            )
        if is_service_linked_role(issuer_arn) and (identity.invokedBy or not key):
            return resolved(
                Status.WORKLOAD,
                Method.AWS_SERVICE,
                Origin(AWS_SERVICE, user_name=identity.invokedBy),
            )
        if (
            identity.type == FEDERATED_USER
            and issuer is not None
            and issuer.type in (IAM_USER, ROOT)
        ):
            origin = Origin(
                issuer.type,
                arn=issuer.arn,
                user_name=issuer.userName or ("root" if issuer.type == ROOT else None),
                account_id=issuer.accountId or arn_account(issuer.arn),
            )
            return resolved(Status.RESOLVED, Method.FEDERATION, origin)
        attributes = context.attributes if context is not None else None
        created = attributes.creationDate if attributes is not None else None
        grouped = self._console_group(identity, created, key, session_name)
        if grouped is not None:
            return grouped
        created_at = parse_iso(created) or parse_iso(event.eventTime)
        if session_name and created_at is not None and self._enforced(issuer_arn, created_at):
            return resolved(
                Status.RESOLVED,
                Method.ENFORCED_SESSION_NAME,
                Origin(IAM_USER, user_name=session_name),
            )
        awaited: list[str] = []
        if key:
            awaited.append(walked.key if walked is not None and walked.key else key)
        if identity.principalId and created:
            awaited.append(console_wait_key(identity.principalId, created))
        if awaited:
            waiting = tuple(awaited)
            if key:
                self._pending[key] = waiting
            self._hold(event, waiting, deadline)
            return None
        return Resolution(
            Status.UNRESOLVED,
            Method.NO_ISSUANCE,
            role_arn=issuer_arn,
            session_name=session_name,
            reason="the event carries no access key and no session facts",
        )

    def _console_group(
        self,
        identity: UserIdentity,
        created: str | None,
        key: str | None,
        session_name: str | None,
    ) -> Resolution | None:
        """A session of the same ``principalId`` and ``creationDate`` as a known one."""
        principal = identity.principalId
        if not principal or not created:
            return None
        index = self.index
        switch = index.console.get((principal, created))
        if switch is None:
            at = parse_iso(created)
            if at is not None:
                switch = index.console.get((principal, format_iso(at)))
        if switch is not None:
            return Resolution(
                _status_of(switch.origin),
                Method.CONSOLE_SESSION,
                switch.origin,
                chain=(ChainLink(switch.role_arn, switch.session_name, None, switch.account_id),),
                role_arn=switch.role_arn,
                session_name=switch.session_name,
                access_key_id=key,
            )
        session = index.group_session(principal, created)
        if session is None:
            return None
        walked = self._walk(session.access_key_id)
        if not isinstance(walked, Resolution) or walked.method is Method.CHAIN_LOOP:
            return None
        return Resolution(
            walked.status,
            Method.CONSOLE_SESSION,
            walked.origin,
            chain=walked.chain,
            role_arn=walked.role_arn,
            session_name=session_name or walked.session_name,
            access_key_id=key,
            source_identity=walked.source_identity,
        )

    def _resolve_role_account_copy(
        self, event: TrailEvent, identity: UserIdentity, deadline: float | None
    ) -> Resolution | None:
        """The role account's copy of a cross-account call: resolved as the caller's copy."""
        response = event.responseElements
        credentials = response.credentials if response is not None else None
        shared = event.sharedEventID
        key = credentials.accessKeyId if credentials is not None else None
        if not key and shared:
            key = self.index.key_of_shared_event(shared)
        session = self.index.get(key) if key else None
        if session is not None and session.caller_copy:
            caller = self._caller_of(session)
            if isinstance(caller, Resolution):
                return Resolution(
                    caller.status,
                    Method.SHARED_EVENT,
                    caller.origin,
                    chain=caller.chain,
                    role_arn=caller.role_arn,
                    session_name=caller.session_name,
                    access_key_id=caller.access_key_id,
                    source_identity=caller.source_identity,
                )
            if caller is not None and caller.key:
                self._hold(event, (caller.key,), deadline)
                return None
        if shared and (session is None or not session.caller_copy):
            self._hold(event, (shared_wait_key(shared),), deadline)
            return None
        return Resolution(
            Status.UNRESOLVED,
            Method.SHARED_EVENT,
            origin_of(identity),
            reason="the caller's copy of this cross-account call was not seen",
        )

    def _caller_of(self, session: IssuedSession) -> Resolution | _Missing | None:
        """Who called the API that issued ``session`` (its signer's resolution)."""
        origin = session.origin
        if origin.type in _SESSION_TYPES:
            return self._walk(session.parent_key) if session.parent_key else None
        return Resolution(_status_of(origin), Method.DIRECT, origin)

    def _walk(self, key: str) -> Resolution | _Missing:
        """Follow issuances from ``key`` back to an origin that is not a session."""
        sessions = self.index.sessions
        links: list[ChainLink] = []
        visited: set[str] = set()
        current: str | None = key
        first: IssuedSession | None = None
        source_identity: str | None = None
        while current:
            session = sessions.get(current)
            if session is None:
                return _Missing(current, source_identity)
            if current in visited or len(links) >= self.settings.max_chain_depth:
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
            links.append(
                ChainLink(session.role_arn, session.session_name, current, session.account_id)
            )
            origin = session.origin
            if origin.type in _SESSION_TYPES:
                current = session.parent_key
                continue
            if not session.caller_copy:
                return _Missing(current, source_identity)  # await the caller's copy
            return _terminal(origin, session.kind, tuple(reversed(links)), first, source_identity)
        return _Missing(None, source_identity)

    def _enforced(self, role_arn: str | None, at: float) -> bool:
        if not role_arn:
            return False
        known, verdict = self.index.timeline.knows(role_arn, at)
        if not known and self._role_enforces is not None:
            verdict = self._role_enforces(role_arn, at)
        return verdict is True

    # holding ---------------------------------------------------------------------------

    def _hold(self, event: TrailEvent, awaited: tuple[str, ...], deadline: float | None) -> None:
        """Hold ``event``; ``deadline`` is None the first time (a re-held event keeps its own)."""
        if deadline is None:
            at = parse_iso(event.eventTime)
            deadline = (at if at is not None else self.index.watermark) + self.settings.hold_seconds
            self.stats.held += 1
        self.index.hold(HeldEvent(event, awaited, deadline))

    def _release(self, result: ResolveResult) -> None:
        arrived = self._arrived
        self._arrived = set()
        index = self.index
        while arrived:
            key = arrived.pop()
            for held in index.release(key):
                resolution = self._reresolve(held)
                if resolution is None:
                    continue  # waiting for another key now
                self.stats.released += 1
                self._emit(held.event, resolution.after_hold(), result)
            arrived |= self._arrived
            self._arrived = set()
        self._make_room(result)

    def _reresolve(self, held: HeldEvent) -> Resolution | None:
        event = held.event
        identity = event.userIdentity
        if identity is None:
            return self._resolve_unsigned(event)
        return self._resolve_signed(event, identity, identity.accessKeyId, held.deadline)

    def _make_room(self, result: ResolveResult) -> None:
        excess = self.index.held_count - self.settings.max_held
        if excess > 0:
            evicted = self.index.evict_oldest(excess)
            self.stats.overflowed += len(evicted)
            self._emit_unresolved(evicted, "the hold was full", result)

    def _expire(self, deadline: float, result: ResolveResult) -> None:
        self._make_room(result)
        due = self.index.expire(deadline)
        if due:
            self.stats.expired += len(due)
            self._emit_unresolved(due, "no issuing event arrived within the hold", result)

    def _emit_unresolved(self, held: list[HeldEvent], why: str, result: ResolveResult) -> None:
        """Emit held events as unresolved, and one ``UnattributedKey`` per key among them."""
        by_key: dict[str, list[TrailEvent]] = {}
        for item in held:
            event = item.event
            identity = event.userIdentity
            key = identity.accessKeyId if identity is not None else None
            partial = self._partial_origin(item.awaited)
            if partial is None:
                waited = " or ".join(_describe_wait(awaited) for awaited in item.awaited)
                reason = f"{why} (waited for {waited})"
            else:
                reason = f"{why}; only the role account's copy of the issuance was seen"
            role_arn, session_name = _session_of(identity)
            resolution = Resolution(
                Status.UNRESOLVED,
                Method.NO_ISSUANCE,
                partial,
                role_arn=role_arn,
                session_name=session_name,
                access_key_id=key,
                held=True,
                reason=reason,
            )
            self._emit(event, resolution, result)
            if key:
                by_key.setdefault(key, []).append(event)
        for key, events in by_key.items():
            times = sorted(event.eventTime for event in events)
            identity = events[0].userIdentity
            role_arn, session_name = _session_of(identity)
            result.unattributed.append(
                UnattributedKey(
                    access_key_id=key,
                    role_arn=role_arn,
                    session_name=session_name,
                    account_id=identity.accountId if identity is not None else None,
                    first_seen=times[0],
                    last_seen=times[-1],
                    events=len(events),
                )
            )

    def _partial_origin(self, awaited: tuple[str, ...]) -> Origin | None:
        """The caller as the role account saw it, when only that copy of an issuance arrived."""
        for key in awaited:
            session = self.index.get(key)
            if session is not None and not session.caller_copy:
                return session.origin
        return None

    def _emit(self, event: TrailEvent, resolution: Resolution, result: ResolveResult) -> None:
        result.add(event, resolution)
        self.stats.emitted += 1
        if event.eventSource == STS and event.eventName == "AssumeRole":
            self._check_assumption(event, resolution, result)

    # alert facts -----------------------------------------------------------------------

    def _check_assumption(
        self, event: TrailEvent, caller: Resolution, result: ResolveResult
    ) -> None:
        if event.eventName != "AssumeRole" or event.eventSource != STS:
            return
        identity = event.userIdentity
        if identity is not None and identity.type == AWS_ACCOUNT:
            return  # the caller's copy carries the check
        request = event.requestParameters
        response = event.responseElements
        credentials = response.credentials if response is not None else None
        role_arn = request.roleArn if request is not None else None
        at = parse_iso(event.eventTime)
        result.assumptions.append(
            AssumptionCheck(
                event=event,
                caller=caller,
                role_arn=role_arn,
                session_name=request.roleSessionName if request is not None else None,
                source_identity=request.sourceIdentity if request is not None else None,
                issued_key=credentials.accessKeyId if credentials is not None else None,
                error_code=event.errorCode,
                enforced=self._enforcement(role_arn, at),
            )
        )

    def _enforcement(self, role_arn: str | None, at: float | None) -> bool | None:
        if not role_arn or at is None:
            return None
        known, verdict = self.index.timeline.knows(role_arn, at)
        if known:
            return verdict
        return self._role_enforces(role_arn, at) if self._role_enforces is not None else None


def _status_of(origin: Origin) -> Status:
    if origin.type == AWS_SERVICE:
        return Status.WORKLOAD
    if origin.type == WEB_IDENTITY_USER:
        workload = is_workload_web_identity(origin.user_name, origin.provider)
        return Status.WORKLOAD if workload else Status.RESOLVED
    if origin.type in _HUMAN_ORIGINS:
        return Status.RESOLVED
    return Status.UNRESOLVED


def _terminal(
    origin: Origin,
    kind: str,
    chain: tuple[ChainLink, ...],
    session: IssuedSession,
    source_identity: str | None = None,
) -> Resolution:
    return Resolution(
        _status_of(origin),
        Method.FEDERATION if kind in _FEDERATION_CALLS else Method.ISSUING_EVENT,
        origin,
        chain=chain,
        role_arn=session.role_arn,
        session_name=session.session_name,
        access_key_id=session.access_key_id,
        source_identity=source_identity or session.source_identity,
    )


def _identity_center(user_id: str, store: str | None, identity: UserIdentity) -> Resolution:
    return Resolution(
        Status.RESOLVED,
        Method.ON_BEHALF_OF,
        Origin(
            IDENTITY_CENTER_USER, user_name=user_id, account_id=identity.accountId, provider=store
        ),
        role_arn=_issuer_arn(identity),
        session_name=session_name_of_identity(identity),
        access_key_id=identity.accessKeyId or None,
    )


def _session_of(identity: UserIdentity | None) -> tuple[str | None, str | None]:
    """The role ARN (from the session issuer) and session name of a session identity."""
    if identity is None:
        return None, None
    return _issuer_arn(identity), session_name_of_identity(identity)


def _issuer_arn(identity: UserIdentity) -> str | None:
    context = identity.sessionContext
    issuer = context.sessionIssuer if context is not None else None
    return issuer.arn if issuer is not None else None


def _describe_wait(awaited: str) -> str:
    if awaited.startswith("shared:"):
        return f"the caller's copy of shared event {awaited[7:]}"
    if awaited.startswith("console:"):
        return f"a session of {awaited[8:]}"
    return f"the issuance of {awaited}"
