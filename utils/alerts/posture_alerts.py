"""Posture alerts: one per non-compliant role, re-raised when its policy or verdict changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..posture.iam_roles import IamRole
from ..posture.privilege import privilege_tier
from ..trust.evaluator import RoleVerdict
from ..trust.remediation import mask_external_ids
from .builder import compact_json, make_alert
from .catalogue import POSTURE


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
