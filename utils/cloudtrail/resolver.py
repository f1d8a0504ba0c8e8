"""Names the human (or workload) behind every CloudTrail event: the identity resolver.

Pure: events in, resolutions out; no I/O, no clock, no logging. Time comes from the events
(the *watermark*, the latest ``eventTime`` seen) or from the caller (``expire_held(now)``).

How an event signed by a session is resolved (``docs/identity-resolver.md`` has the why):

1. its ``accessKeyId`` was issued by an event in the index → walk the issuances (role chains
   of any depth, loop-guarded) to an origin that is not a session: ``issuing_event`` or, for
   SAML / web identity / federation tokens, ``federation``;
2. otherwise (no issuance yet, or a link of its chain missing) facts of the event itself:
   ``source_identity`` (immutable, short-circuits the walk; a claim), ``on_behalf_of``
   (Identity Center), the session name of a role at Identity Center's reserved path (the
   path, never the name, is the evidence), EC2 instance credentials, a service-linked role,
   a federation token's issuing user, the console group (``principalId`` + ``creationDate``)
   of a known session or a ``SwitchRole``, or a role that enforced
   ``sts:RoleSessionName = ${aws:username}`` when the session was created;
3. otherwise the event is **held** until the missing issuance arrives (a later file, a
   later pull) and emitted then, marked ``held``; at its deadline (``hold_seconds`` of event
   time, but never past ``hold_expiry_ceiling``: data the caller knows of and has not read)
   or when the hold is full it is emitted ``unresolved`` / ``no_issuance``.

Each ``resolve(batch)`` first learns every issuance, trust-policy change and role switch in
the batch, so the order of records inside a batch (a trail file) does not matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress, repeat
from operator import attrgetter
from typing import Any, Final

from .events import (
    AWS_ACCOUNT,
    AWS_SERVICE,
    FEDERATED_USER,
    IAM_USER,
    IDENTITY_CENTER_USER,
    ROOT,
    SAML_USER,
    WEB_IDENTITY_USER,
    Addendum,
    TrailEvent,
    UserIdentity,
)
from .fast_model import DECODERS
from .hold_queue import HeldGroup, describe_wait
from .identities import (
    IDENTITY_CENTER_PATH,
    arn_account,
    is_identity_center_role,
    is_service_linked_role,
    is_workload_web_identity,
    origin_of,
    role_of_session,
)
from .index import IssuanceIndex, IssuedSession
from .index_storage import (
    DEFAULT_BUDGET_BYTES,
    LoadReport,
    SaveReport,
    from_storage,
    restore_given_up,
    to_storage,
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
from .origins import (
    SESSION_TYPES,
    STS,
    Missing,
    identity_center,
    is_assume_role,
    session_of,
    status_of,
    unattributed_key,
    walk,
)
from .resolution import (
    PROVISIONAL_METHODS,
    AssumptionCheck,
    ChainLink,
    LateAttribution,
    Method,
    Origin,
    Resolution,
    Status,
)
from .resolver_api import (
    PolicyEnforces,
    ResolveResult,
    ResolverSettings,
    ResolverStats,
    RoleEnforces,
    RolePath,
)
from .seen_window import SeenWindow
from .stdlib_model import pack_held, unpack_held
from .timeparse import parse_iso

__all__ = [
    "STS",
    "IdentityResolver",
    "PolicyEnforces",
    "ResolveResult",
    "ResolverSettings",
    "ResolverStats",
    "RoleEnforces",
    "RolePath",
]

IAM: Final = "iam.amazonaws.com"
SIGNIN: Final = "signin.amazonaws.com"
_LEARN_NAMES: Final = ISSUING_CALLS | frozenset(TRUST_CHANGES) | {"SwitchRole"}
_END_OF_TIME: Final = float("inf")
_event_time = attrgetter("eventTime")
_event_id = attrgetter("eventID")
_event_name = attrgetter("eventName")


class IdentityResolver:
    """Resolves batches of events against an ``IssuanceIndex`` it keeps up to date."""

    def __init__(
        self,
        index: IssuanceIndex | None = None,
        *,
        policy_enforces: PolicyEnforces | None = None,
        role_enforces: RoleEnforces | None = None,
        role_path: RolePath | None = None,
        settings: ResolverSettings | None = None,
    ) -> None:
        self.index = index if index is not None else IssuanceIndex()
        self.holds = self.index.holds
        self.holds.pack, self.holds.unpack = pack_held, unpack_held
        if DECODERS is not None:
            self.holds.detach = DECODERS.detach
        self.settings = settings if settings is not None else ResolverSettings()
        self.stats = ResolverStats()
        self._policy_enforces = policy_enforces
        self._role_enforces = role_enforces
        self._role_path = role_path
        self._seen = SeenWindow(self.settings.dedupe_window, self.settings.dedupe_window_max)
        self._by_key: dict[str | None, Resolution] = {}  # never a None key; None looks up
        self._services: dict[str | None, Resolution] = {}
        self._arrived: set[str] = set()
        # ``holds.next_number`` when something last arrived: a group held from that number on
        # was resolved with every arrival known, so the arrivals need not release it.
        self._arrival_mark = 0
        self._issued: list[str] = []  # caller-copy issuances learnt in this call
        # Event time (epoch s) of the oldest trail object the caller knows of and has not read
        # (None: none): held events are never given up past it, so an issuance there still
        # finds them.
        self.hold_expiry_ceiling: float | None = None

    # persistence ---------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        stored: object,
        *,
        policy_enforces: PolicyEnforces | None = None,
        role_enforces: RoleEnforces | None = None,
        role_path: RolePath | None = None,
        settings: ResolverSettings | None = None,
    ) -> tuple[IdentityResolver, LoadReport]:
        """A resolver continuing from ``storage["index"]`` (None or unusable: a fresh one)."""
        index, report = from_storage(stored)
        resolver = cls(
            index,
            policy_enforces=policy_enforces,
            role_enforces=role_enforces,
            role_path=role_path,
            settings=settings,
        )
        # A held event waits across pulls, the stored id window only for one: without this,
        # a copy delivered again later would be resolved beside it and handed on twice.
        resolver._seen.seed(index.holds.held_event_ids())
        return resolver, report

    def save(
        self, storage: dict[str, Any], *, budget_bytes: int = DEFAULT_BUDGET_BYTES
    ) -> tuple[SaveReport, ResolveResult]:
        """Store the index under ``storage["index"]`` within ``budget_bytes``.

        Held events the budget cannot keep are emitted now, unresolved, in the returned
        result (report them like any other).
        """
        document, report = to_storage(
            self.index,
            budget_bytes=budget_bytes,
            retention_seconds=self.settings.session_retention_seconds,
            timeline_retention_seconds=self.settings.timeline_retention_seconds,
        )
        if report.live_evicted:
            self._by_key.clear()
        result = ResolveResult()
        if report.held_overflow:
            self._emit_unresolved(
                report.held_overflow, "the stored index had no room to hold it", result
            )
            self.stats.overflowed += sum(map(len, report.held_overflow))
            # What was just given up must be saved too, or no later pull attributes it.
            restore_given_up(self.index, document, budget_bytes=budget_bytes, report=report)
        storage["index"] = document
        return report, result

    # resolving -----------------------------------------------------------------------

    def resolve(self, events: Iterable[TrailEvent]) -> ResolveResult:
        """Resolve one batch (a trail file, a LookupEvents page); see the module docstring.

        One pass over the batch answers most events from the key cache, drops repeats and
        learns issuances as it meets them; what the cache cannot answer waits until the pass
        is over, so every issuance of the batch is known before any event is held. This
        is the hot path: at CloudTrail volume it must cost a fraction of decoding a record.
        """
        batch = events if isinstance(events, list) else list(events)
        result = ResolveResult()
        count = len(batch)
        if not count:
            return result
        self.stats.events += count
        resolutions, misses, learnt = self._first_pass(batch)
        self._advance_watermark(batch)
        self._resolve_misses(batch, misses, resolutions)
        if None in resolutions:  # held or repeated events: leave them out
            result.events = list(compress(batch, resolutions))
            result.resolutions = list(compress(resolutions, resolutions))  # type: ignore[arg-type]
        else:
            result.events = list(batch)
            result.resolutions = resolutions  # type: ignore[assignment]
        self.stats.emitted += len(result.events)
        for position in learnt:
            outcome = resolutions[position]
            if outcome is not None:
                self._check_assumption(batch[position], outcome, result)
        if self._arrived:
            self._release(result)
        self._expire(self.index.watermark, result)
        result.issued, self._issued = self._issued, []
        return result

    def attribution_or_link(self, key: str) -> Resolution | str | None:
        """Who is behind session ``key`` by its issuances, as far as they are known now; or
        else the key whose issuance (or caller's copy) the walk still lacks; None when the
        chain loops. One walk answers both, for a caller that retries on the missing link."""
        walked = self._walk(key)
        if isinstance(walked, Missing):
            return walked.key
        if walked.origin is not None and walked.method is not Method.CHAIN_LOOP:
            return walked
        return None

    def _first_pass(
        self, batch: list[TrailEvent]
    ) -> tuple[list[Resolution | None], list[int], list[int]]:
        """Cache answers, repeats dropped, issuances learnt; the positions left to resolve.

        One lean loop: per event three attribute reads and one cache lookup. The events
        it cannot answer (no key, a key not cached, an issuance or trust change to learn,
        a correction) are collected and handled after the loop — the learning first, in
        batch order, so the misses are resolved with every issuance of the batch known.
        Asking the cache before learning gives the answers asking after would: a cached
        key's session is known from its caller's copy, which learning never replaces.
        (A loop beats ``map``/``attrgetter`` passes here: CPython 3.11 specialises slot
        reads in bytecode, while ``getattr`` from C takes the generic path — measured with
        cachegrind, the passes cost about twice the instructions.)
        """
        seen = self._seen
        first = batch[0]
        if not seen.chosen:
            seen.choose_for(first)
        seen.note_batch(first.recipientAccountId, first.awsRegion, len(batch))
        cached = self._by_key.get
        learn_names = _LEARN_NAMES
        resolutions: list[Resolution | None] = []
        keep = resolutions.append
        misses: list[int] = []
        miss = misses.append
        ids: list[str] = []
        remember = ids.append
        for event in batch:
            remember(event.eventID)
            identity = event.userIdentity
            if identity is not None and event.eventName not in learn_names:
                resolution = cached(identity.accessKeyId)
                if resolution is not None and event.addendum is None:
                    keep(resolution)
                    continue
            miss(len(resolutions))
            keep(None)
        learnt: list[int] = []
        repeats = self._seen.repeats(ids)
        if repeats:
            self.stats.duplicates += len(repeats)
            misses = [position for position in misses if position not in repeats]
            for position in repeats:
                resolutions[position] = None
        for position in misses:
            event = batch[position]
            if event.addendum is None and event.eventName in learn_names:
                learnt.append(position)
                self._learn(event)
        return resolutions, misses, learnt

    def _resolve_misses(
        self, batch: list[TrailEvent], misses: list[int], resolutions: list[Resolution | None]
    ) -> None:
        """The events the first pass could not answer, once every issuance of the batch is
        known: the key cache again, a session already waiting, an AWS service, a
        correction, the slow path. About one event in eight comes here (AWS services, later
        events of held sessions, new keys), so the common answers are given inline."""
        cached = self._by_key.get
        services = self._services.get
        pending = self.holds.pending.get
        arrived = self._arrived
        add_to = self.holds.add_to
        hold_seconds = self.settings.hold_seconds
        held = 0
        for position in misses:
            event = batch[position]
            addendum = event.addendum
            if addendum is not None:
                resolutions[position] = self._resolve_correction(event, addendum)
                continue
            identity = event.userIdentity
            if identity is None:
                resolution = (
                    services(event.eventSource) if event.eventType == "AwsServiceEvent" else None
                )
                resolutions[position] = resolution or self._resolve_unsigned(event)
                continue
            key = identity.accessKeyId
            if key:
                resolution = cached(key)
                if resolution is not None:
                    resolutions[position] = resolution
                    continue
                group = pending(key)
                if (
                    group is not None
                    and group.held
                    and (group.number >= self._arrival_mark or arrived.isdisjoint(group.awaited))
                ):
                    at = parse_iso(event.eventTime)  # its session is still waiting
                    add_to(group, event, at + hold_seconds if at is not None else None)
                    held += 1
                    continue
            elif identity.type == AWS_SERVICE:
                resolution = services(identity.invokedBy)
                if resolution is not None:
                    resolutions[position] = resolution
                    continue
            resolutions[position] = self._resolve_signed(event, identity, key)
        self.stats.held += held

    def _resolve_correction(self, event: TrailEvent, addendum: Addendum) -> Resolution | None:
        """A late correction: a repeat of its original unless it updates the original's data."""
        original = addendum.originalEventID
        if original and original != event.eventID:
            if original in self._seen:
                if addendum.reason != "UPDATED_DATA":
                    self.stats.duplicates += 1
                    return None
                self.stats.addendum_updates += 1
            self._seen.add(original)
        if event.eventName in _LEARN_NAMES:
            self._learn(event)
        return self._resolve_one(event)

    def _resolve_one(self, event: TrailEvent, group: HeldGroup | None = None) -> Resolution | None:
        identity = event.userIdentity
        if identity is None:
            return self._resolve_unsigned(event)
        key = identity.accessKeyId
        resolution = self._by_key.get(key) if key else None
        if resolution is not None:
            return resolution
        return self._resolve_signed(event, identity, key, group)

    def expire_held(self, now: float) -> ResolveResult:
        """Emit, unresolved, the held events whose deadline is at or before ``now`` (and at
        or before ``hold_expiry_ceiling``, when set)."""
        result = ResolveResult()
        self._expire(now, result)
        return result

    def drain(self) -> ResolveResult:
        """Emit every held event as unresolved (the end of an offline run; no ceiling)."""
        result = ResolveResult()
        self._expire(float("inf"), result, bounded=False)
        return result

    def _advance_watermark(self, batch: list[TrailEvent]) -> None:
        """Move the watermark to (nearly) the batch's latest event time and prune with it.

        The maximum is taken over every sixteenth event: records in a file are minutes
        apart at most, so it is seconds early at worst — it only decides expiry — at a
        sixteenth of the cost per event.
        """
        latest = parse_iso(max(map(_event_time, batch[::16])))
        if latest is None:
            times = [t for t in map(parse_iso, map(_event_time, batch)) if t is not None]
            latest = max(times, default=None)
        index = self.index
        if latest is not None and latest > index.watermark:
            index.watermark = latest
            pruned = index.prune(latest - self.settings.session_retention_seconds)
            if pruned:
                self.stats.sessions_pruned += len(pruned)
                for key in pruned:
                    self._by_key.pop(key, None)
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
        if not session.caller_copy:
            return  # the role account's copy: what waits for this key still waits for its caller
        self._arrived.add(key)
        self._issued.append(key)
        if session.shared_event_id:
            self._arrived.add(shared_wait_key(session.shared_event_id))
        if session.assumed_role_id and self.holds.console_waits:
            for delta in (-1, 0, 1):
                created = session.issued_at + delta
                self._arrived.add(console_wait_key(session.assumed_role_id, created))
        self._arrival_mark = self.holds.next_number

    def _learn_trust_change(self, event: TrailEvent) -> None:
        change = trust_change(event)
        if change is None:
            return
        account, role_name, at, document = change
        verdict = self._policy_enforces(document) if self._policy_enforces else None
        self.index.timeline.record(account, role_name, at, verdict)
        self.holds.forget_pending()  # a session name may be trusted now

    def _learn_switch(self, event: TrailEvent) -> None:
        switch = console_switch(event, self.index.watermark)
        if switch is None:
            return
        self.index.add_console_switch(switch)
        self._arrived.add(console_wait_key(switch.principal_id, switch.created_at))
        self._arrival_mark = self.holds.next_number

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
        group: HeldGroup | None = None,
    ) -> Resolution | None:
        """The slow path: everything the key cache did not answer. None: the event is held.

        ``group``: the held group ``event`` heads, when re-resolving it after an arrival.
        """
        kind = identity.type
        if kind in SESSION_TYPES:
            return self._resolve_session(event, identity, key, group)
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
                return identity_center(on_behalf.userId, on_behalf.identityStoreArn, identity)
        if kind == AWS_ACCOUNT:
            return self._resolve_role_account_copy(event, identity, group)
        return Resolution(
            Status.UNRESOLVED, Method.UNKNOWN_IDENTITY, reason=f"identity type {kind!r}"
        )

    def _resolve_session(
        self,
        event: TrailEvent,
        identity: UserIdentity,
        key: str | None,
        group: HeldGroup | None,
    ) -> Resolution | None:
        """An assumed-role or federated session: its issuances, else its facts, else hold."""
        walked: Resolution | Missing | None = self._walk(key) if key else None
        if isinstance(walked, Resolution):
            if walked.method is not Method.CHAIN_LOOP and key:
                self._by_key[key] = walked
            return walked
        context = identity.sessionContext
        attributes = context.attributes if context is not None else None
        created = attributes.creationDate if attributes is not None else None
        created_at = parse_iso(created)
        resolution = self._session_facts(event, identity, key, walked, created_at)
        if resolution is not None:
            if key and resolution.method in PROVISIONAL_METHODS and is_assume_role(event):
                # A role-chain step by a session named from its own record: its issuance, if
                # it comes, names the caller better, so the call is kept to be judged again
                # then, as for a session given up (the pipeline re-raises its windows itself).
                missing = walked.key if walked is not None and walked.key else key
                at = parse_iso(event.eventTime)
                deadline = (at if at is not None else self.index.watermark) + (
                    self.settings.hold_seconds
                )
                self.holds.give_up(missing, key, deadline, [event])
            return resolution
        awaited: list[str] = []
        if key:
            awaited.append(walked.key if walked is not None and walked.key else key)
        if identity.principalId and created_at is not None:
            awaited.append(console_wait_key(identity.principalId, created_at))
        if awaited:
            self._hold(event, tuple(awaited), key, group)
            return None
        issuer_arn, session_name = session_of(identity)
        return Resolution(
            Status.UNRESOLVED,
            Method.NO_ISSUANCE,
            role_arn=issuer_arn,
            session_name=session_name,
            reason="the event carries no access key and no session facts",
        )

    def _session_facts(
        self,
        event: TrailEvent,
        identity: UserIdentity,
        key: str | None,
        walked: Missing | None,
        created_at: float | None,
    ) -> Resolution | None:
        """What the session's own record says, when its issuances are not (all) known."""
        context = identity.sessionContext
        issuer = context.sessionIssuer if context is not None else None
        issuer_arn, session_name = session_of(identity)
        source_identity = (context.sourceIdentity if context is not None else None) or (
            walked.source_identity if walked is not None else None
        )
        status = Status.RESOLVED
        origin: Origin | None = None
        if source_identity:
            method = Method.SOURCE_IDENTITY
            origin = Origin("SourceIdentity", user_name=source_identity)
        elif identity.onBehalfOf is not None and identity.onBehalfOf.userId:
            return identity_center(
                identity.onBehalfOf.userId, identity.onBehalfOf.identityStoreArn, identity
            )
        elif session_name and self._identity_center_role(identity, issuer_arn):
            # Identity Center names the session after its user, and only Identity Center
            # can assume a role at its reserved path. The issuing AssumeRoleWithSAML, if it
            # is read later, names the user from the SAML assertion (provisional).
            method = Method.IDENTITY_CENTER_SESSION
            origin = Origin(
                IDENTITY_CENTER_USER, user_name=session_name, account_id=identity.accountId
            )
        elif context is not None and context.ec2RoleDelivery:
            status, method = Status.WORKLOAD, Method.EC2_INSTANCE_ROLE
            origin = Origin(AWS_SERVICE, user_name="ec2.amazonaws.com")
        elif is_service_linked_role(issuer_arn) and (identity.invokedBy or not key):
            status, method = Status.WORKLOAD, Method.AWS_SERVICE
            origin = Origin(AWS_SERVICE, user_name=identity.invokedBy)
        elif (
            identity.type == FEDERATED_USER
            and issuer is not None
            and issuer.type in (IAM_USER, ROOT)
        ):
            # Named as the issuing GetFederationToken names it (``terminal``): the token's
            # session, which has no role, is the chain's one link.
            origin = Origin(
                issuer.type,
                arn=issuer.arn,
                user_name=issuer.userName or ("root" if issuer.type == ROOT else None),
                account_id=issuer.accountId or arn_account(issuer.arn),
                principal_id=issuer.principalId,
            )
            return Resolution(
                status,
                Method.FEDERATION,
                origin,
                chain=(ChainLink(None, session_name, key, identity.accountId),),
                session_name=session_name,
                access_key_id=key,
                source_identity=source_identity,
            )
        else:
            grouped = self._console_group(identity, created_at, key, session_name)
            if grouped is not None:
                return grouped
            at = created_at if created_at is not None else parse_iso(event.eventTime)
            if not session_name or at is None or not self._enforced(issuer_arn, at):
                return None
            method = Method.ENFORCED_SESSION_NAME
            origin = Origin(IAM_USER, user_name=session_name)
        return Resolution(
            status,
            method,
            origin,
            role_arn=issuer_arn,
            session_name=session_name,
            access_key_id=key,
            source_identity=source_identity,
        )

    def _console_group(
        self,
        identity: UserIdentity,
        created_at: float | None,
        key: str | None,
        session_name: str | None,
    ) -> Resolution | None:
        """A session of the same ``principalId`` and ``creationDate`` as a known one."""
        principal = identity.principalId
        if not principal or created_at is None:
            return None
        index = self.index
        switch = index.console_switch(principal, created_at)
        if switch is not None:
            return Resolution(
                status_of(switch.origin),
                Method.CONSOLE_SESSION,
                switch.origin,
                chain=(ChainLink(switch.role_arn, switch.session_name, None, switch.account_id),),
                role_arn=switch.role_arn,
                session_name=switch.session_name,
                access_key_id=key,
            )
        session = index.group_session(principal, created_at)
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
        self, event: TrailEvent, identity: UserIdentity, group: HeldGroup | None
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
                self._hold(event, (caller.key,), None, group)
                return None
        if shared and (session is None or not session.caller_copy):
            self._hold(event, (shared_wait_key(shared),), None, group)
            return None
        return Resolution(
            Status.UNRESOLVED,
            Method.SHARED_EVENT,
            origin_of(identity),
            reason="the caller's copy of this cross-account call was not seen",
        )

    def _caller_of(self, session: IssuedSession) -> Resolution | Missing | None:
        """Who called the API that issued ``session`` (its signer's resolution)."""
        origin = session.origin
        if origin.type in SESSION_TYPES:
            return self._walk(session.parent_key) if session.parent_key else None
        return Resolution(status_of(origin), Method.DIRECT, origin)

    def _walk(self, key: str) -> Resolution | Missing:
        return walk(self.index.sessions, key, self.settings.max_chain_depth)

    def _identity_center_role(self, identity: UserIdentity, issuer_arn: str | None) -> bool:
        """Is the session's role at Identity Center's reserved path? The session issuer's
        ARN (written by AWS) carries the role's path; a record without one is looked up in
        the posture scan's roles by the assumed-role ARN's account and role name, which
        carries no path. The role's name says nothing: anyone may call a role
        ``AWSReservedSSO_…``."""
        if issuer_arn:
            return is_identity_center_role(issuer_arn)
        if self._role_path is None:
            return False
        role = role_of_session(identity.arn)
        path = self._role_path(*role) if role is not None else None
        return path is not None and path.startswith(IDENTITY_CENTER_PATH)

    def _enforced(self, role_arn: str | None, at: float) -> bool:
        """May the session name of a session of ``role_arn`` created at ``at`` name its
        user? Only if the role enforced the rule then: the trail's trust timeline at
        ``at``, else the posture scan's verdict, which says what the policy is now and so
        speaks for ``at`` only while no change after ``at`` is known (a role opened, used
        under another's name, then fixed: the session waits for its issuance instead)."""
        if not role_arn or (not self.index.timeline and self._role_enforces is None):
            return False
        timeline = self.index.timeline
        known, verdict = timeline.knows(role_arn, at)
        if not known:
            if self._role_enforces is None or timeline.knows(role_arn, _END_OF_TIME)[0]:
                return False
            verdict = self._role_enforces(role_arn, at)
        return verdict is True

    # holding ---------------------------------------------------------------------------

    def _hold(
        self,
        event: TrailEvent,
        awaited: tuple[str, ...],
        key: str | None,
        group: HeldGroup | None,
    ) -> None:
        """Hold ``event`` (and, when re-resolving, the rest of its group) until ``awaited``."""
        watermark, hold_seconds = self.index.watermark, self.settings.hold_seconds
        if self.holds.hold_event(
            event, awaited, key, group, watermark=watermark, hold_seconds=hold_seconds
        ):
            self.stats.held += 1

    def _release(self, result: ResolveResult) -> None:
        """Re-resolve the groups waiting for what arrived; one resolution serves a group."""
        arrived = self._arrived
        self._arrived = set()
        holds = self.holds
        while arrived:
            self._attribute_late(holds.take_given_up(arrived), result)
            for group in holds.release_all(arrived, self._arrival_mark):
                resolution = self._resolve_one(group.head, group)
                if resolution is None:
                    continue  # held again, waiting for another link
                holds.unpend(group)
                self.stats.released += len(group)
                self._emit_all(holds.events_of(group), resolution.after_hold(), result)
            arrived = self._arrived
            self._arrived = set()
        self._make_room(result)

    def _attribute_late(self, given_up: list[tuple[str, float]], result: ResolveResult) -> None:
        """Sessions given up on whose missing link just arrived: attributed now if the walk
        reaches an origin, or given up again on the next missing link of their chain."""
        for key, deadline in given_up:
            walked = self._walk(key)
            if isinstance(walked, Missing) and walked.key:
                self.holds.give_up(walked.key, key, deadline)  # its checks stay kept
                continue
            checks = self.holds.take_checks(key)
            if (
                isinstance(walked, Resolution)
                and walked.origin is not None
                and walked.method is not Method.CHAIN_LOOP
            ):
                self._by_key.setdefault(key, walked)
                result.late.append(LateAttribution(key, walked))
                self.stats.attributed_late += 1
                for event in checks:  # AssumeRole calls it made: judged now
                    self._check_assumption(event, walked, result)

    def _make_room(self, result: ResolveResult) -> None:
        evicted = self.holds.make_room(self.settings.max_held)
        if evicted:
            self.stats.overflowed += sum(map(len, evicted))
            self._emit_unresolved(evicted, "the hold was full", result)

    def _expire(self, deadline: float, result: ResolveResult, *, bounded: bool = True) -> None:
        """Give up the events due at ``deadline`` — never past ``hold_expiry_ceiling``
        unless ``bounded`` is False. The hold's size limit applies either way."""
        self._make_room(result)
        ceiling = self.hold_expiry_ceiling
        if bounded and ceiling is not None and ceiling < deadline:
            deadline = ceiling
        due = self.holds.expire(deadline, self.settings.hold_seconds)
        if due:
            self.stats.expired += sum(map(len, due))
            self._emit_unresolved(due, "no issuing event arrived within the hold", result)

    def _emit_unresolved(self, groups: list[HeldGroup], why: str, result: ResolveResult) -> None:
        """Emit held groups (no longer pending) as unresolved, one ``UnattributedKey`` per
        session key, and remember the sessions given up for a late attribution."""
        for group in groups:
            head = group.head.userIdentity
            key = head.accessKeyId if head is not None else None
            role_arn, session_name = session_of(head)
            partial = self._partial_origin(group.awaited)
            if partial is None:
                waited = " or ".join(describe_wait(awaited) for awaited in group.awaited)
                reason = f"{why} (waited for {waited})"
            else:
                reason = f"{why}; only the role account's copy of the issuance was seen"
            resolution = Resolution(
                Status.UNRESOLVED,
                Method.NO_ISSUANCE,
                partial,
                role_arn=role_arn,
                session_name=session_name,
                access_key_id=key or None,
                held=True,
                reason=reason,
            )
            events = self.holds.events_of(group)
            self._emit_all(events, resolution, result)
            if key:
                checks = [event for event in events if is_assume_role(event)]
                self.holds.give_up_group(group, key, checks)
                result.unattributed.append(unattributed_key(head, key, events))

    def _partial_origin(self, awaited: tuple[str, ...]) -> Origin | None:
        """The caller as the role account saw it, when only that copy of an issuance arrived."""
        for key in awaited:
            session = self.index.get(key)
            if session is not None and not session.caller_copy:
                return session.origin
        return None

    def _emit(self, event: TrailEvent, resolution: Resolution, result: ResolveResult) -> None:
        self._emit_all([event], resolution, result)

    def _emit_all(
        self, events: list[TrailEvent], resolution: Resolution, result: ResolveResult
    ) -> None:
        """Emit events of one session (one resolution), with their AssumeRole checks."""
        result.events.extend(events)
        result.resolutions.extend(repeat(resolution, len(events)))
        self.stats.emitted += len(events)
        if "AssumeRole" in map(_event_name, events):
            for event in events:
                if is_assume_role(event):
                    self._check_assumption(event, resolution, result)

    # alert facts -----------------------------------------------------------------------

    def _check_assumption(
        self, event: TrailEvent, caller: Resolution, result: ResolveResult
    ) -> None:
        if not is_assume_role(event):
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

    def enforcement_at(self, role_arn: str, at: float) -> bool | None:
        """Did ``role_arn`` enforce the rule at ``at``, as now known (None: unknown)?"""
        return self._enforcement(role_arn, at)

    def _enforcement(self, role_arn: str | None, at: float | None) -> bool | None:
        if not role_arn or at is None:
            return None
        known, verdict = self.index.timeline.knows(role_arn, at)
        if known:
            return verdict
        return self._role_enforces(role_arn, at) if self._role_enforces is not None else None
