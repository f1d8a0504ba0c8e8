"""Posture alerts: one per non-compliant role, re-raised when its policy or verdict changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..posture.iam_roles import IamRole
from ..posture.privilege import imitation_severity, privilege_tier
from ..trust.evaluator import RoleVerdict
from ..trust.findings import Code
from ..trust.remediation import mask_external_ids
from ..trust.reserved import Imitation
from .builder import compact_json, make_alert
from .catalogue import POSTURE, ROLE_NAME_IMITATION


def _principals(verdict: RoleVerdict) -> list[str]:
    seen: dict[str, None] = {}
    for reason in verdict.reasons:
        for principal in reason.principals:
            seen.setdefault(principal, None)
    return list(seen)


def posture_description(verdict: RoleVerdict, role: IamRole, tier: str) -> str:
    principals = _principals(verdict)
    who = ", ".join(principals[:5]) + (" and others" if len(principals) > 5 else "")
    first = verdict.reasons[0].message if verdict.reasons else ""
    fix = (
        " The corrected trust policy and the update-assume-role-policy command are attached."
        if verdict.remediation_command
        else ""
    )
    return (
        f"IAM role {role.arn} in account {role.account_id} is '{verdict.status.value}': its "
        "trust policy does not force callers to name their session after their IAM user name "
        "(sts:RoleSessionName = ${aws:username}), so CloudTrail cannot say who acted with it. "
        + (f"Principals that can assume it without the condition: {who}. " if who else "")
        + (f"{first} " if first else "")
        + f"Privilege of the role: {tier}.{fix}"
    ).strip()


def posture_alert(
    role: IamRole,
    verdict: RoleVerdict,
    *,
    severity: str,
    fingerprint: str,
    observed_at: datetime,
    status: str = "new",
) -> dict[str, Any]:
    tier = privilege_tier(role).value
    current, _ = mask_external_ids(role.trust_policy)
    reasons = [reason.to_dict() for reason in verdict.reasons]
    flags = verdict.policy_verdict.flags()
    raw = {
        "account_id": role.account_id,
        "region": "global",
        "role_arn": role.arn,
        "role_name": role.name,
        "role_path": role.path,
        "verdict": verdict.status.value,
        "reason_codes": ",".join(str(r["code"]) for r in reasons),
        "reasons": compact_json(reasons),
        "principals": ", ".join(_principals(verdict)),
        "privilege_tier": tier,
        "attached_policies": ", ".join(role.attached_policy_names),
        "publicly_assumable": bool(flags.get("publicly_assumable", False)),
        "cross_account_unpinned": ", ".join(flags.get("cross_account_unpinned", []) or []),
        "current_policy": compact_json(current),
        "corrected_policy": compact_json(verdict.fixed_policy) if verdict.fixed_policy else None,
        "remediation_command": verdict.remediation_command,
        "policy_fingerprint": fingerprint,
    }
    return make_alert(
        POSTURE,
        id_parts=(role.account_id, role.name, fingerprint[:12]),
        timestamp=observed_at,
        user=role.arn,  # the finding's subject; no person is involved yet
        severity=severity,
        description=posture_description(verdict, role, tier),
        raw=raw,
        status=status,
    )


def imitation_alert(
    role: IamRole,
    verdict: RoleVerdict,
    *,
    fingerprint: str,
    observed_at: datetime,
) -> dict[str, Any] | None:
    """The alert for a role whose name imitates an AWS-managed role (RSN044), if it does.

    One alert per role (its id names the account and role, not the policy), so a changed
    trust policy updates it in place; severity follows whether the policy enforces the rule.
    """
    found = verdict.imitation
    if found is None:
        return None
    reason = next((r for r in verdict.reasons if r.code is Code.MASQUERADING_NAME), None)
    policy_status = verdict.policy_verdict.status.value
    raw = {
        "account_id": role.account_id,
        "region": "global",
        "role_arn": role.arn,
        "role_name": role.name,
        "role_path": role.path,
        "role_id": role.role_id,
        "imitated_role_kind": found.kind.value,
        "reserved_path": found.reserved_path,
        "verdict": verdict.status.value,
        "policy_status": policy_status,
        "reason_codes": ",".join(str(r.code.value) for r in verdict.reasons),
        "policy_fingerprint": fingerprint,
    }
    return make_alert(
        ROLE_NAME_IMITATION,
        id_parts=(role.account_id, role.name),
        timestamp=observed_at,
        user=role.arn,
        severity=imitation_severity(verdict).value,
        description=_imitation_description(
            role, found, policy_status, reason.message if reason else ""
        ),
        raw=raw,
    )


def _imitation_description(
    role: IamRole, found: Imitation, policy_status: str, message: str
) -> str:
    return (
        f"IAM role {role.arn} in account {role.account_id} is named like an AWS-managed "
        f"{found.kind.value} role, but AWS creates those only under {found.reserved_path}; "
        "anyone allowed iam:CreateRole can choose the name. "
        # The finding's message already states the verdict; without one, state it here.
        + (message if message else f"Its trust policy evaluates as '{policy_status}'.")
    )


def imitation_resolved_alert(role_arn: str, observed_at: datetime) -> dict[str, Any]:
    """The role is gone: its imitation alert (same id) re-sent as resolved."""
    parts = role_arn.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    name = parts[-1].rsplit("/", 1)[-1]
    return make_alert(
        ROLE_NAME_IMITATION,
        id_parts=(account, name),
        timestamp=observed_at,
        user=role_arn,
        severity="informational",
        description=f"IAM role {role_arn} no longer exists.",
        raw={"role_arn": role_arn, "account_id": account, "verdict": "deleted"},
        status="resolved",
    )
