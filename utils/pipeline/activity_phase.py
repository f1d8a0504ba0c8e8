"""CloudTrail attribution: read, decode, resolve, and turn what was found into alerts.

Each batch (a trail object, a LookupEvents page) is decoded and resolved as it arrives, so
memory stays bounded by one object plus the issuance index. A corrupt object is reported to
its reader (counted, skipped, never fatal); the reader's checkpoint is committed by the
pipeline after the alerts are handed on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..alerts.activity_alerts import (
    denied_alert,
    noncompliant_activity_alert,
    spoofing_alert,
    unattributed_alert,
    weakened_alert,
    withdrawn_activity_alert,
    withdrawn_spoofing_alert,
)
from ..alerts.compliance import Compliance, RoleCompliance
from ..alerts.judged_checks import JudgedChecks
from ..alerts.session_windows import SessionWindows, action_names, is_write
from ..aws_session import BotoClientFactory
from ..cloudtrail.decode import (
    DEFAULT_MAX_DECODE_BYTES,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    DEFAULT_MAX_RECORDS,
    RecordError,
    TrailObjectError,
    default_decoder,
)
from ..cloudtrail.events import TrailEvent
from ..cloudtrail.issuance import trust_change
from ..cloudtrail.resolution import Resolution
from ..cloudtrail.resolver import IdentityResolver, ResolveResult, ResolverSettings
from ..cloudtrail.timeparse import parse_iso
from ..config import PluginConfig
from ..readers.base import Deadline, EventSource, RawBatch
from ..trust.evaluator import (
    TrustOptions,
    TrustStatus,
    enforces_rule,
    evaluate_policy,
    evaluate_role,
)
from .context import storage_section
from .event_source import build_event_source
from .posture_phase import PostureState
from .storage_budget import index_room
from .stored_state import PREFIX as STORED_STATE

# Per trail object (docs/soak.md, hostile mode): these keep a pull's peak RSS under 200 MB
# whatever one object holds; an object over them is skipped and reported, never retried.
MAX_DECOMPRESSED_BYTES = DEFAULT_MAX_DECOMPRESSED_BYTES
MAX_RECORDS_PER_OBJECT = DEFAULT_MAX_RECORDS
MAX_DECODE_BYTES = DEFAULT_MAX_DECODE_BYTES
MAX_OPEN_WINDOWS = 5_000
MAX_KNOWN_USERS = 5_000
TRUST_CHANGE_EVENTS = frozenset({"CreateRole", "UpdateAssumeRolePolicy"})
WEAK_STATUSES = frozenset({TrustStatus.WEAK, TrustStatus.NOT_ENFORCED})
STORAGE_VERSION = 1


@dataclass
class ActivityOutcome:
    source: EventSource | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    events: int = 0
    record_errors: int = 0
    objects_failed: int = 0
    resolutions: Counter[str] = field(default_factory=Counter)
    held_denied_unnamed: int = 0
    index_bytes: int = 0
    index_evictions: int = 0
    windows_evicted: int = 0
    attributed_late: int = 0  # windows given their identity when a late issuance arrived
    windows_judged_again: int = 0  # withdrawn, restored or raised by a late trust change
    checks_judged_again: int = 0  # spoofing alerts raised or withdrawn by a late change
    shadows_dropped: int = 0  # shadow windows the storage bound had no room for
    problems: list[str] = field(default_factory=list)


def policy_enforces(document: str) -> bool | None:
    """For the resolver's trust timeline: does this policy text enforce the rule?"""
    status = evaluate_policy(document).status
    if status in (TrustStatus.UNPARSEABLE, TrustStatus.EXEMPT):
        return None
    return enforces_rule(status)


class ActivityRun:
    """One pull's pass over CloudTrail."""

    def __init__(
        self,
        config: PluginConfig,
        storage: dict[str, Any],
        posture: PostureState,
        *,
        now: float,
    ) -> None:
        self.config = config
        self.rule = config.rule
        self.now = now
        lookback = config.cloudtrail.lookback_hours * 3600  # how late a trail file may be read
        self.storage = storage
        self.section = storage_section(storage, "activity")
        if self.section.get("v") != STORAGE_VERSION:
            self.section.clear()
            self.section["v"] = STORAGE_VERSION
        self.posture = posture

        def role_enforces(role_arn: str, _at: float) -> bool | None:
            status = posture.status(role_arn)
            if status in ("enforced", "enforced_by_deny"):
                return True
            if status in ("weak", "not_enforced"):
                return False
            return None

        # A session stays in the index as long after it expires as a trail file may be read
        # late (the look-back): a file delivered hours behind the newest one read (an SQS
        # backlog received in no particular order, a late S3 delivery) still finds the
        # sessions that signed its events. The index budget drops expired sessions first.
        retention = max(ResolverSettings().session_retention_seconds, lookback)
        self.resolver, report = IdentityResolver.load(
            storage.get("index"),
            policy_enforces=policy_enforces,
            role_enforces=role_enforces,
            # Where a record does not say a session's role path (no session issuer), the
            # scan's roles do: the path, not the name, makes a role Identity Center's.
            role_path=posture.path_of,
            settings=ResolverSettings(session_retention_seconds=retention),
        )
        self.compliance = RoleCompliance(
            self.resolver.index.timeline.knows, posture.status, self.rule.exempt_role_patterns
        )
        self.windows = SessionWindows(
            self.rule.aggregation_window_minutes * 60,
            MAX_OPEN_WINDOWS,
            retention_seconds=lookback,
        )
        self.windows.load(
            self.section.get("open"), self.section.get("counted"), self.section.get("shadows")
        )
        self.checks = JudgedChecks(retention_seconds=lookback)
        self.checks.load(self.section.get("checks"))
        self.known_users: dict[str, None] = dict.fromkeys(self.section.get("users") or [])
        # Provisionally named sessions -> the key their walk lacked when last tried.
        self._lacking: dict[str, str] = {}
        self.outcome = ActivityOutcome()
        if report.skipped:
            self.outcome.problems.append(index_rows_skipped(report.skipped))
        self.decoder = default_decoder()
        self.kinds = self.rule.alert_kinds

    # reading ------------------------------------------------------------------------

    def read(self, source: EventSource) -> None:
        """Resolve every batch; held events are given up by event time only as far as the
        source has read (``unread_since``: a trail object that failed to read, in this pull
        or an earlier one, may still hold their issuance)."""
        self.outcome.source = source
        resolver = self.resolver
        for batch in source.batches():
            events = self._decode(source, batch)
            if events is None:
                continue
            self.outcome.batches += 1
            self.outcome.events += len(events)
            resolver.hold_expiry_ceiling = source.unread_since()
            self._absorb(resolver.resolve(events))
        # What the last batches left due (a LookupEvents window read newest first, a
        # ceiling lifted by the last object read), under what is still unread now.
        resolver.hold_expiry_ceiling = source.unread_since()
        self._absorb(resolver.expire_held(resolver.index.watermark))

    def _decode(self, source: EventSource, batch: RawBatch) -> list[TrailEvent] | None:
        """The events of one batch. Whatever one object or event holds, what fails stops
        at its own boundary: an object is reported to its source (``mark_failed``: counted,
        named, not retried), an event or record is skipped and counted, never the pull."""
        if isinstance(batch.payload, bytes):
            try:
                decoded = self.decoder.decode_object(
                    batch.payload,
                    name=batch.name,
                    max_decompressed_bytes=MAX_DECOMPRESSED_BYTES,
                    max_records=MAX_RECORDS_PER_OBJECT,
                    max_decode_bytes=MAX_DECODE_BYTES,
                )
            except TrailObjectError as error:
                source.mark_failed(batch.batch_id, str(error))
                self.outcome.objects_failed += 1
                return None
            except Exception as error:  # any decoder failure is the object's, not the pull's
                source.mark_failed(
                    batch.batch_id, f"{batch.name}: cannot be decoded ({type(error).__name__})"
                )
                self.outcome.objects_failed += 1
                return None
            self.outcome.record_errors += len(decoded.errors)
            self.outcome.problems.extend(decoded.errors[:3])
            return decoded.events
        events: list[TrailEvent] = []
        ids = batch.event_ids
        for number, text in enumerate(batch.payload):
            try:
                events.append(self.decoder.decode_event_json(text))
                continue
            except RecordError as error:
                why = str(error)
            except Exception as error:  # any decoder failure is the event's, not the pull's
                why = f"cannot be decoded ({type(error).__name__})"
            event_id = ids[number] if number < len(ids) else f"#{number}"
            self.outcome.record_errors += 1
            source.mark_failed(batch.batch_id, f"event {event_id[:64]!r}: {why}")
        return events

    # findings -----------------------------------------------------------------------

    def _absorb(self, result: ResolveResult) -> None:
        """Findings of one resolved batch. A ``Resolution`` is shared by every event of a
        session, so per-session work (status counts, compliance) is done once per distinct
        resolution and only the events of non-compliant sessions are looked at one by one."""
        events, resolutions = result.events, result.resolutions
        sessions = Counter(resolutions)
        for resolution, count in sessions.items():
            key = f"{resolution.status.value}/{resolution.method.value}"
            self.outcome.resolutions[key] += count
            origin = resolution.origin
            if origin is not None and origin.type == "IAMUser" and origin.user_name:
                self.known_users.setdefault(origin.user_name, None)
        changes: list[TrailEvent] = []
        for event, resolution in zip(events, resolutions, strict=True):
            if event.eventName in TRUST_CHANGE_EVENTS and not event.errorCode:
                self._trust_change(event, resolution)
                changes.append(event)
        for event in changes:  # what was judged before, then this batch
            self._judge_again(event)
        if "noncompliant_activity" in self.kinds:
            self._activity(events, resolutions, sessions)
        for check in result.assumptions:
            self._assumption(check)
        if "unattributed_activity" in self.kinds:
            self.outcome.alerts.extend(unattributed_alert(key) for key in result.unattributed)
        for late in result.late:
            origin = late.resolution.origin
            if origin is not None and origin.type == "IAMUser" and origin.user_name:
                self.known_users.setdefault(origin.user_name, None)
            self.outcome.attributed_late += self.windows.attribute_late(
                late.access_key_id, late.resolution
            )
        if result.issued:
            self._provisional_named_again(set(result.issued))

    def _provisional_named_again(self, issued: set[str]) -> None:
        """Sessions named from their own record (EC2 delivery, an enforced session name, an
        Identity Center session name, a SourceIdentity: ``PROVISIONAL_METHODS``) before
        their issuances were all read: once the last missing one
        arrives, whether the session's own or that of a session up its chain, they are
        named as an in-order read names them. Each session's walk is redone only when what
        it lacked (remembered for the pull; "": its chain loops) is among ``issued``."""
        lacking = self._lacking
        for key in self.windows.provisional_keys():
            link = lacking.get(key)
            if link is not None and link not in issued:
                continue
            found = self.resolver.attribution_or_link(key)
            if isinstance(found, Resolution):
                lacking.pop(key, None)
                self.outcome.attributed_late += self.windows.attribute_late(key, found)
            else:
                lacking[key] = found or ""

    def _activity(
        self,
        events: list[TrailEvent],
        resolutions: list[Resolution],
        sessions: Counter[Resolution],
    ) -> None:
        representative = dict(zip(resolutions, events, strict=True))
        # session -> (when it was created, whether its role enforced the rule then). Sessions
        # of roles that enforced it, as far as is known now, are counted in shadow windows:
        # a trust-policy change read later may show the role open at that time.
        flagged: dict[Resolution, tuple[float | None, bool]] = {}
        for resolution in sessions:
            if resolution.role_arn:
                created = _created_at(representative[resolution])
                compliance = self.compliance.at(resolution.role_arn, created)
                if compliance is not Compliance.EXEMPT:
                    flagged[resolution] = (created, compliance is not Compliance.NOT_ENFORCED)
        scope = self.rule.activity_scope
        for event, resolution in zip(events, resolutions, strict=True):
            if resolution not in flagged:
                continue
            if scope == "writes" and not is_write(event):
                continue
            if scope == "sensitive" and not any(
                self.rule.is_sensitive(a) for a in action_names(event)
            ):
                continue
            identity = event.userIdentity
            account = (identity.accountId if identity is not None else None) or (
                event.recipientAccountId or "unknown"
            )
            created, compliant = flagged[resolution]
            self.windows.add(event, resolution, account, created, compliant)

    def _noncompliant(self, role_arn: str | None, at: float | None) -> bool:
        """Did the role not enforce the rule at ``at`` (a session's creation)?"""
        return self.compliance.at(role_arn, at) is Compliance.NOT_ENFORCED

    def _judge_again(self, event: TrailEvent) -> None:
        """Windows of sessions created after this trust-policy change, counted before the
        change was read, judged again with it, whichever way the change turned the verdict."""
        change = trust_change(event)
        if change is None:
            return
        account, role_name, at, _ = change
        if "noncompliant_activity" in self.kinds:
            self.outcome.windows_judged_again += self.windows.judge_again(
                account, role_name, at, self._noncompliant
            )
        again = self.checks.judge_again(
            account, role_name, at, self._spoofing_stands, withdrawn_spoofing_alert
        )
        self.outcome.checks_judged_again += len(again)
        self.outcome.alerts.extend(again)

    def _spoofing_stands(self, role_arn: str, at: float) -> bool:
        """Does a session-name check of a call at ``at`` raise its alert, as now known?"""
        return self.resolver.enforcement_at(role_arn, at) is not True

    def _assumption(self, check: Any) -> None:
        if check.denied:
            if "denied_assume_role" not in self.kinds:
                return
            if check.session_name is None:
                self.outcome.held_denied_unnamed += 1  # real trails often omit it
                return
            if check.name_matches_caller is False or check.caller_user_name is None:
                self.outcome.alerts.append(denied_alert(check))
            return
        if "session_spoofing" not in self.kinds or check.name_matches_caller is not False:
            return
        at = parse_iso(check.event.eventTime)
        if self.compliance.at(check.role_arn, at) is Compliance.EXEMPT:
            return
        alert = spoofing_alert(check, self.known_users)
        raised = check.enforced is not True
        if check.role_arn and at is not None:  # kept for a trust change read later
            account = check.event.recipientAccountId or "unknown"
            self.checks.remember(alert, account, check.role_arn, at, raised)
        if raised:
            self.outcome.alerts.append(alert)

    def _trust_change(self, event: TrailEvent, resolution: Resolution) -> None:
        if "trust_policy_weakened" not in self.kinds or event.requestParameters is None:
            return
        params = event.requestParameters
        document = params.assumeRolePolicyDocument or params.policyDocument
        name = params.roleName
        if not document or not name or event.recipientAccountId is None:
            return
        path = params.path or self.posture.path_of(event.recipientAccountId, name) or "/"
        arn = f"arn:aws:iam::{event.recipientAccountId}:role{path}{name}"
        verdict = evaluate_role(
            {"RoleName": name, "Path": path, "Arn": arn, "AssumeRolePolicyDocument": document},
            TrustOptions(exempt_role_patterns=self.rule.exempt_role_patterns),
        )
        if verdict.status in WEAK_STATUSES:
            self.outcome.alerts.append(weakened_alert(event, resolution, verdict, document))

    # finishing ----------------------------------------------------------------------

    def finish(self, caught_up: bool) -> ActivityOutcome:
        if caught_up:
            # A held event waits for its issuing event; trail files can arrive up to the
            # look-back late, so it is given up (emitted unresolved) only beyond it. The
            # resolver also expires held events as event time advances past their deadline.
            horizon = self.config.cloudtrail.lookback_hours * 3600
            self._absorb(self.resolver.expire_held(self.now - horizon))
        configured = int(self.config.cloudtrail.index_budget_mb * 1024 * 1024)
        budget = index_room(self.storage, configured)
        if budget < configured:
            self.outcome.problems.append(
                f"The Session Index Budget ({configured // (1024 * 1024)} MB) does not fit "
                f"in CE's plugin storage beside the other state; the index was kept within "
                f"{budget // 1000} kB. Lower the Session Index Budget in the CloudTrail "
                "settings to at most that."
            )
        report, overflow = self.resolver.save(self.storage, budget_bytes=budget)
        self._absorb(overflow)
        self.outcome.index_bytes = int(getattr(report, "bytes", 0) or 0)
        self.outcome.index_evictions = int(getattr(report, "live_evicted", 0) or 0)
        for key in sorted(self.windows.touched):
            window = self.windows.windows[key]
            if not window.withdrawn:
                compliance = Compliance.NOT_ENFORCED.value
                self.outcome.alerts.append(noncompliant_activity_alert(window, compliance))
                window.raised = True
            elif window.raised:
                self.outcome.alerts.append(withdrawn_activity_alert(window))
        self.section["open"] = self.windows.save(self.now)
        self.section["counted"] = self.windows.counted_ids()
        self.section["shadows"] = self.windows.shadow_counted_ids()
        self.section["checks"] = self.checks.save(self.now)
        self.outcome.windows_evicted = self.windows.evicted
        self.outcome.shadows_dropped = self.windows.shadows_dropped
        self.section["users"] = list(self.known_users)[-MAX_KNOWN_USERS:]
        return self.outcome


def index_rows_skipped(count: int) -> str:
    """The problem for stored index rows its loader could not read (and dropped)."""
    return (
        f"{STORED_STATE} 'index' held {count} unreadable entries; they were dropped. Lost: "
        "the sessions, held events or trust-policy changes they stood for."
    )


def _created_at(event: TrailEvent) -> float | None:
    """When the session that signed ``event`` was created (its event time if not said)."""
    identity = event.userIdentity
    context = identity.sessionContext if identity is not None else None
    created = context.attributes.creationDate if context and context.attributes else None
    return parse_iso(created) or parse_iso(event.eventTime)


def run_activity(
    config: PluginConfig,
    storage: dict[str, Any],
    posture: PostureState,
    factories: Sequence[BotoClientFactory],
    *,
    now: float,
    accounts: Sequence[str] | None = None,
    deadline: Deadline | None = None,
) -> ActivityOutcome:
    """Read the configured source and return the activity alerts (source not committed)."""
    source = build_event_source(
        config,
        factories,
        storage_section(storage, "sources"),
        accounts=accounts,
        deadline=deadline,
    )
    run = ActivityRun(config, storage, posture, now=now)
    if source is None:
        return run.outcome
    run.read(source)
    # A pull stopped by its time budget has not seen everything delivered: held events are
    # not given up on its account.
    return run.finish(caught_up=not source.stats.budget_exhausted)
