"""The posture pull: every role's trust policy evaluated, alerts for what changed.

Roles are listed with GetAccountAuthorizationDetails (one call per page) at most once per
Posture Scan Interval; between scans the last verdicts stay in storage, where the identity
resolver reads which roles enforce the rule. A role is alerted on when its verdict is
non-compliant and its (policy, verdict, severity) fingerprint is new, so a changed policy
raises a new alert and an unchanged one is not repeated; a role that was alerted on and is
now compliant (or deleted) gets its alert re-sent with status ``resolved``.

Storage (``storage["posture"]``): ``{"v": 1, "last_scan": iso, "roles": [[arn, status,
fingerprint, alert_id, severity], ...]}`` - lists, not dicts keyed by ARN, because ARNs may
hold dots, which CE's database rejects in field names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..alerts.builder import compact_json, make_alert, short_hash
from ..alerts.catalogue import POSTURE
from ..alerts.posture_alerts import imitation_alert, imitation_resolved_alert, posture_alert
from ..aws_session import describe_aws_error
from ..posture.iam_roles import IamRole, ListingStats, iter_roles
from ..posture.privilege import posture_severity
from ..trust.evaluator import RoleVerdict, TrustOptions, TrustStatus, evaluate_role
from ..trust.findings import Code
from ..trust.reserved import imitation_of_arn
from .accounts import Account

ALERT_STATUSES = frozenset({TrustStatus.WEAK, TrustStatus.NOT_ENFORCED, TrustStatus.UNPARSEABLE})
STORAGE_VERSION = 1


@dataclass(frozen=True)
class RoleRecord:
    arn: str
    status: str
    fingerprint: str
    alert_id: str
    severity: str

    def row(self) -> list[str]:
        return [self.arn, self.status, self.fingerprint, self.alert_id, self.severity]

    @classmethod
    def from_row(cls, row: Any) -> RoleRecord | None:
        if isinstance(row, list) and len(row) == 5 and all(isinstance(v, str) for v in row):
            return cls(*row)
        return None


@dataclass
class PostureOutcome:
    scanned: bool = False
    alerts: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[tuple[IamRole, RoleVerdict, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    roles_evaluated: int = 0
    api_calls: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (account, why)
    notes: list[str] = field(default_factory=list)


class PostureState:
    """Last verdict per role, as kept in storage between scans."""

    def __init__(self, section: dict[str, Any]) -> None:
        self._section = section
        if section.get("v") != STORAGE_VERSION:
            section.clear()
            section.update({"v": STORAGE_VERSION, "last_scan": None, "roles": []})
        self.records: dict[str, RoleRecord] = {}
        for row in section.get("roles", []):
            record = RoleRecord.from_row(row)
            if record is not None:
                self.records[record.arn] = record
        self._by_name: dict[tuple[str, str], RoleRecord] | None = None

    def _lookup(self, account_id: str, role_name: str) -> RoleRecord | None:
        if self._by_name is None:
            self._by_name = {}
            for record in self.records.values():
                parts = record.arn.split(":", 5)
                if len(parts) == 6:
                    name = parts[5].rsplit("/", 1)[-1].lower()
                    self._by_name[(parts[4], name)] = record
        return self._by_name.get((account_id, role_name.lower()))

    def status(self, role_arn: str) -> str | None:
        """The role's last verdict, matched by account and name (session ARNs omit paths)."""
        record = self.records.get(role_arn)
        if record is None:
            parts = role_arn.split(":", 5)
            if len(parts) == 6:
                record = self._lookup(parts[4], parts[5].rsplit("/", 1)[-1])
        return record.status if record is not None else None

    def path_of(self, account_id: str, role_name: str) -> str | None:
        """The role's path (``/`` or ``/a/b/``), when the posture scan saw it."""
        record = self._lookup(account_id, role_name)
        if record is None:
            return None
        resource = record.arn.split(":", 5)[5]
        inner = resource.split("/", 1)[1] if "/" in resource else ""
        head, _, _ = inner.rpartition("/")
        return f"/{head}/" if head else "/"

    @property
    def last_scan(self) -> datetime | None:
        value = self._section.get("last_scan")
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    def save(self, scanned_at: datetime, records: Iterable[RoleRecord]) -> None:
        self.records = {r.arn: r for r in records}
        self._by_name = None
        self._section["last_scan"] = scanned_at.isoformat()
        self._section["roles"] = [r.row() for r in sorted(self.records.values(), key=_by_arn)]


def _by_arn(record: RoleRecord) -> str:
    return record.arn


def fingerprint(role: IamRole, verdict: RoleVerdict, severity: str) -> str:
    return short_hash(
        role.arn,
        verdict.status.value,
        [r.code for r in verdict.reasons],
        role.trust_policy,
        severity,
        length=32,
    )


def scan_due(state: PostureState, now: datetime, interval_minutes: int) -> bool:
    last = state.last_scan
    return last is None or now - last >= timedelta(minutes=interval_minutes) or last > now


def resolved_alert(previous: RoleRecord, now_status: str, observed_at: datetime) -> dict[str, Any]:
    """The earlier alert's id, re-sent with status ``resolved`` (CE upserts it in place)."""
    alert = make_alert(
        POSTURE,
        id_parts=(),
        timestamp=observed_at,
        user=previous.arn,
        severity=previous.severity,
        description=(
            f"IAM role {previous.arn} is no longer reported: its trust policy now evaluates "
            f"'{now_status}'."
        ),
        raw={
            "role_arn": previous.arn,
            "verdict": now_status,
            "account_id": previous.arn.split(":")[4],
        },
        status="resolved",
    )
    alert["id"] = previous.alert_id
    return alert


def run_posture(
    accounts: Iterable[Account],
    state: PostureState,
    *,
    exempt_patterns: tuple[str, ...],
    now: datetime,
    interval_minutes: int,
    force: bool = False,
    lister: Callable[..., Iterable[IamRole]] = iter_roles,
) -> PostureOutcome:
    """Evaluate every role of every account when a scan is due; alerts for what changed."""
    outcome = PostureOutcome()
    if not force and not scan_due(state, now, interval_minutes):
        return outcome
    outcome.scanned = True
    options = TrustOptions(exempt_role_patterns=exempt_patterns)
    records: dict[str, RoleRecord] = {}
    covered_accounts: set[str] = set()
    for account in accounts:
        stats = ListingStats()
        try:
            roles = list(lister(account.factory.client("iam"), account.account_id, stats))
        except (ClientError, BotoCoreError) as error:
            outcome.failures.append(
                (
                    account.account_id,
                    f"listing IAM roles failed ({describe_aws_error(error)}). Grant "
                    "iam:GetAccountAuthorizationDetails (or iam:ListRoles and "
                    "iam:ListAttachedRolePolicies) to the plugin's principal.",
                )
            )
            continue
        finally:
            outcome.api_calls += stats.api_calls
            outcome.notes.extend(stats.errors)
        covered_accounts.add(account.account_id)
        for role in roles:
            verdict = evaluate_role(role.as_role_object(), options)
            severity = posture_severity(verdict, role).value
            outcome.verdicts.append((role, verdict, severity))
            outcome.statuses[verdict.status.value] = (
                outcome.statuses.get(verdict.status.value, 0) + 1
            )
            fp = fingerprint(role, verdict, severity)
            previous = state.records.get(role.arn)
            if Code.TOO_LARGE in verdict.policy_verdict.codes:
                outcome.notes.append(
                    f"role {role.arn}: trust policy larger than IAM allows: not evaluated"
                )
            imitation = imitation_alert(role, verdict, fingerprint=fp, observed_at=now)
            if imitation is not None and (previous is None or previous.fingerprint != fp):
                outcome.alerts.append(imitation)
            if verdict.status in ALERT_STATUSES:
                if previous is not None and previous.fingerprint == fp and previous.alert_id:
                    records[role.arn] = previous
                    continue
                alert = posture_alert(
                    role, verdict, severity=severity, fingerprint=fp, observed_at=now
                )
                outcome.alerts.append(alert)
                records[role.arn] = RoleRecord(
                    role.arn, verdict.status.value, fp, alert["id"], severity
                )
            else:
                if previous is not None and previous.alert_id:
                    outcome.alerts.append(resolved_alert(previous, verdict.status.value, now))
                records[role.arn] = RoleRecord(role.arn, verdict.status.value, fp, "", severity)
        outcome.roles_evaluated += len(roles)
    for arn, previous in state.records.items():
        owner = arn.split(":")[4] if arn.count(":") >= 5 else ""
        if arn in records:
            continue
        if owner not in covered_accounts:
            records[arn] = previous  # account unreachable this scan: keep what we knew
        else:
            if previous.alert_id:
                outcome.alerts.append(resolved_alert(previous, "deleted", now))
            if imitation_of_arn(arn) is not None:
                outcome.alerts.append(imitation_resolved_alert(arn, now))
    state.save(now, records.values())
    return outcome


def posture_table(outcome: PostureOutcome) -> list[dict[str, Any]]:
    """Rows for reports: role, status, severity, reason codes."""
    return [
        {
            "account_id": role.account_id,
            "role": role.name,
            "status": verdict.status.value,
            "severity": severity,
            "reasons": ",".join(r.code for r in verdict.reasons),
            "fixed": compact_json(verdict.fixed_policy) if verdict.fixed_policy else "",
        }
        for role, verdict, severity in outcome.verdicts
    ]
