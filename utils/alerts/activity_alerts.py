"""Alerts from resolved CloudTrail activity: who did what through which role.

Builders for the activity-side kinds: actions through a non-compliant role (per session
window), session-name spoofing, denied AssumeRole attempts, trust-policy changes that weaken
the rule, and unattributed session activity. ``user`` is always the resolved identity (the
origin's ARN, or what is known of it), so CE business rules and tickets name the person.
An identity that is only a string its caller chose (a SourceIdentity, a session name) is
said to be claimed, not verified, in the description and in ``identity_evidence``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from ..cloudtrail.events import TrailEvent
from ..cloudtrail.resolution import (
    AssumptionCheck,
    Evidence,
    Method,
    Resolution,
    UnattributedKey,
    stored_evidence,
)
from ..cloudtrail.timeparse import format_iso, parse_iso
from ..trust.evaluator import RoleVerdict
from ..trust.remediation import mask_external_ids
from .builder import compact_json, make_alert
from .catalogue import (
    DENIED_ASSUME_ROLE,
    NONCOMPLIANT_ACTIVITY,
    SESSION_SPOOFING,
    TRUST_POLICY_WEAKENED,
    UNATTRIBUTED_ACTIVITY,
    raise_severity,
)
from .resources import describe_resources, resources_field
from .session_windows import SessionWindow, service_of


def when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def event_time(event: TrailEvent) -> datetime:
    return when(parse_iso(event.eventTime) or 0.0)


def identity_label(resolution: dict[str, Any] | None) -> str | None:
    """The resolved identity as CE's ``user``: the origin ARN, else its user name. None for
    a claimed identity: business rules and tickets keyed on ``user`` would act on a name
    the caller chose (the claim is in the description and ``origin_user_name``)."""
    if stored_evidence(resolution) is Evidence.CLAIMED:
        return None
    origin = (resolution or {}).get("origin") or {}
    return origin.get("arn") or origin.get("userName") or None


def claim_note(resolution: dict[str, Any]) -> str | None:
    """Why the identity is not to be trusted, when it is a claim (None: it is not)."""
    if stored_evidence(resolution) is not Evidence.CLAIMED:
        return None
    if resolution.get("method") == Method.SOURCE_IDENTITY:
        source = "the session's SourceIdentity, which the first caller of its chain chose"
    else:
        source = "the name of the session it switched from, which that session's caller chose"
    return (
        f"claimed, not verified: {source}; the session's issuing event names who it was "
        "once it is read"
    )


def who(resolution: dict[str, Any], otherwise: str) -> str:
    """The identity as a description names it: its user name (or ARN), a claim marked so."""
    user = identity_label(resolution)
    name = (resolution.get("origin") or {}).get("userName") or user or otherwise
    note = claim_note(resolution)
    return f"{name} ({note})" if note is not None else name


def _origin_fields(resolution: dict[str, Any]) -> dict[str, Any]:
    origin = resolution.get("origin") or {}
    chain = resolution.get("chain") or []
    evidence = stored_evidence(resolution)
    return {
        "identity_evidence": evidence.value if evidence is not None else "none",
        "origin_type": origin.get("type"),
        "origin_arn": origin.get("arn"),
        "origin_user_name": origin.get("userName"),
        "origin_account_id": origin.get("accountId"),
        "resolution_status": resolution.get("status"),
        "resolution_method": resolution.get("method"),
        "chain": " -> ".join(
            f"{link.get('roleArn')} ({link.get('sessionName')})" for link in chain
        ),
        "chain_json": compact_json(chain),
    }


def withdrawn_activity_alert(window: SessionWindow) -> dict[str, Any]:
    """A window's alert re-sent as ``resolved`` (CE upserts it in place): a trust-policy
    change read after the window was raised shows the role enforced the rule when the
    session was created."""
    return noncompliant_activity_alert(window, "enforced", withdrawn=True)


def noncompliant_activity_alert(
    window: SessionWindow, compliance: str, *, withdrawn: bool = False
) -> dict[str, Any]:
    resolution = window.resolution
    user = identity_label(resolution)
    origin = who(resolution, "an unresolved identity")
    evidence = stored_evidence(resolution)
    actions = sorted(window.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    names = ", ".join(f"{name} x{count}" for name, count in actions[:10])
    severity = NONCOMPLIANT_ACTIVITY.default_severity
    if any(name.split(":", 1)[0] in ("iam", "kms", "secretsmanager") for name, _ in actions):
        severity = raise_severity(severity)
    judged = (
        "which did not enforce sts:RoleSessionName = ${aws:username} when the session was "
        "issued, so CloudTrail shows only the role and the session name"
    )
    if withdrawn:
        judged = (
            "which, as a trust-policy change read after this alert was raised shows, did "
            "enforce sts:RoleSessionName = ${aws:username} when the session was issued: "
            "withdrawn, nothing to do"
        )
    description = (
        f"{origin} acted through role {window.role_arn} (session '{window.session_name}'), "
        f"{judged}. Between "
        f"{format_iso(window.first_seen)} and {format_iso(window.last_seen)} the session made "
        f"{window.events} call(s): {names}. Identity resolved by "
        f"{resolution.get('method')} ({resolution.get('status')}"
        + (f", {evidence.value})." if evidence is not None else ").")
    ) + describe_resources(window.resources)
    raw = {
        "resources": resources_field(window.resources),
        "account_id": window.account_id,
        "region": ", ".join(window.regions),
        "role_arn": window.role_arn,
        "role_name": window.role_arn.rsplit("/", 1)[-1],
        "session_name": window.session_name,
        "access_key_id": ", ".join(window.access_keys),
        "source_ip": ", ".join(window.source_ips),
        "user_agent": " | ".join(window.user_agents),
        "event_names": ", ".join(name for name, _ in actions),
        "event_counts": compact_json(dict(actions)),
        "event_count": window.events,
        "error_count": window.errors,
        "first_seen": format_iso(window.first_seen),
        "last_seen": format_iso(window.last_seen),
        "window_start": format_iso(window.window_start),
        "sample_event_ids": ", ".join(window.samples),
        "role_compliance": compliance,
        "session_created": format_iso(window.created) if window.created is not None else None,
        **_origin_fields(resolution),
    }
    return make_alert(
        NONCOMPLIANT_ACTIVITY,
        id_parts=(window.key,),
        timestamp=when(window.last_seen),
        user=user,
        severity=severity,
        description=description,
        raw=raw,
        status="resolved" if withdrawn else "new",
    )


def _assume_raw(check: AssumptionCheck) -> dict[str, Any]:
    event = check.event
    return {
        "account_id": event.recipientAccountId,
        "region": event.awsRegion,
        "role_arn": check.role_arn,
        "role_name": (check.role_arn or "").rsplit("/", 1)[-1] or None,
        "session_name": check.session_name,
        "source_ip": event.sourceIPAddress,
        "user_agent": event.userAgent,
        "event_id": event.eventID,
        "event_time": event.eventTime,
        "event_names": event.eventName,
        "issued_access_key_id": check.issued_key,
        "error_code": check.error_code,
        "caller_user_name": check.caller_user_name,
        **_origin_fields(check.caller.to_json()),
    }


def spoofing_alert(check: AssumptionCheck, known_users: Collection[str]) -> dict[str, Any]:
    caller = check.caller_user_name or "?"
    named = check.session_name or ""
    impersonates = named in known_users and named != caller
    severity = "high" if impersonates else "low"
    what = (
        f"the name of another IAM user ('{named}')"
        if impersonates
        else f"'{named}', which is not their user name"
    )
    description = (
        f"IAM user {caller} assumed role {check.role_arn} with session name {what}. The role "
        "does not enforce sts:RoleSessionName = ${aws:username}, so every later event of the "
        f"session carries '{named}'"
        + (f" and would be attributed to {named}." if impersonates else ".")
    )
    raw = {**_assume_raw(check), "impersonated_user": named if impersonates else None}
    return make_alert(
        SESSION_SPOOFING,
        id_parts=(check.event.recipientAccountId or "unknown", check.event.eventID),
        timestamp=event_time(check.event),
        user=identity_label(check.caller.to_json()),
        severity=severity,
        description=description,
        raw=raw,
    )


def withdrawn_spoofing_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """A spoofing alert re-sent ``resolved`` (CE upserts it in place): a trust-policy change
    read after it was raised shows the role enforced the rule when it was assumed."""
    raw = dict(alert["rawData"])
    raw["status"] = "resolved"
    raw["description"] = (
        f"{raw.get('description', '')} Withdrawn: a trust-policy change read after this alert "
        "was raised shows the role enforced sts:RoleSessionName = ${aws:username} when it was "
        "assumed; nothing to do."
    )
    return {**alert, "rawData": raw}


def denied_alert(check: AssumptionCheck) -> dict[str, Any]:
    caller = check.caller_user_name or who(check.caller.to_json(), "an unknown caller")
    description = (
        f"{caller} was denied sts:AssumeRole on {check.role_arn} with session name "
        f"'{check.session_name}', which is not the caller's user name ({check.error_code})."
    )
    return make_alert(
        DENIED_ASSUME_ROLE,
        id_parts=(check.event.recipientAccountId or "unknown", check.event.eventID),
        timestamp=event_time(check.event),
        user=identity_label(check.caller.to_json()),
        severity=DENIED_ASSUME_ROLE.default_severity,
        description=description,
        raw=_assume_raw(check),
    )


def weakened_alert(
    event: TrailEvent, resolution: Resolution, verdict: RoleVerdict, policy: object
) -> dict[str, Any]:
    changed_by = identity_label(resolution.to_json())
    current, _ = mask_external_ids(policy)
    description = (
        f"{who(resolution.to_json(), 'An unresolved identity')} called {event.eventName} on role "
        f"{verdict.role_arn}, setting a trust policy that evaluates '{verdict.status.value}': "
        "IAM users can assume the role under a session name of their choosing. "
        + (verdict.reasons[0].message if verdict.reasons else "")
    )
    raw = {
        "account_id": event.recipientAccountId,
        "region": event.awsRegion,
        "role_arn": verdict.role_arn,
        "role_name": verdict.role_name,
        "event_id": event.eventID,
        "event_time": event.eventTime,
        "event_names": event.eventName,
        "source_ip": event.sourceIPAddress,
        "user_agent": event.userAgent,
        "verdict": verdict.status.value,
        "reason_codes": ",".join(r.code for r in verdict.reasons),
        "reasons": compact_json([r.to_dict() for r in verdict.reasons]),
        "current_policy": compact_json(current),
        "corrected_policy": compact_json(verdict.fixed_policy) if verdict.fixed_policy else None,
        "remediation_command": verdict.remediation_command,
        **_origin_fields(resolution.to_json()),
    }
    return make_alert(
        TRUST_POLICY_WEAKENED,
        id_parts=(event.recipientAccountId or "unknown", event.eventID),
        timestamp=event_time(event),
        user=changed_by,
        severity=TRUST_POLICY_WEAKENED.default_severity,
        description=description,
        raw=raw,
    )


def unattributed_alert(key: UnattributedKey) -> dict[str, Any]:
    description = (
        f"{key.events} call(s) between {key.first_seen} and {key.last_seen} were signed with "
        f"temporary key {key.access_key_id} of role {key.role_arn} (session "
        f"'{key.session_name}'), whose issuing event was never seen."
    )
    raw = {
        "account_id": key.account_id,
        "role_arn": key.role_arn,
        "role_name": (key.role_arn or "").rsplit("/", 1)[-1] or None,
        "session_name": key.session_name,
        "access_key_id": key.access_key_id,
        "first_seen": key.first_seen,
        "last_seen": key.last_seen,
        "event_count": key.events,
    }
    return make_alert(
        UNATTRIBUTED_ACTIVITY,
        id_parts=(key.account_id or "unknown", key.access_key_id, key.first_seen),
        timestamp=when(parse_iso(key.last_seen) or 0.0),
        user=None,
        severity=UNATTRIBUTED_ACTIVITY.default_severity,
        description=description,
        raw=raw,
    )


__all__ = [
    "denied_alert",
    "noncompliant_activity_alert",
    "service_of",
    "spoofing_alert",
    "unattributed_alert",
    "weakened_alert",
]
