"""The RoleSessionName verdict of a trust policy or an IAM role: the package's public API.

``evaluate_policy`` takes a trust policy in any form (dict, JSON or URL-encoded string) and
never raises; ``evaluate_role`` adds the role-level exemptions (service-linked, Identity
Center, configured patterns) and the remediation; ``fix_policy`` gives the minimal corrected
policy; ``enforces_rule`` tells the identity resolver whether a session name can be trusted.
How a verdict is reached is described in ``analysis``; the words of every finding are in
``findings``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .analysis import analyse_cached
from .findings import Code
from .policy import (
    MAX_TRUST_POLICY_CHARS,
    Effect,
    PolicyParseError,
    PolicyTooLargeError,
    TrustPolicy,
    clear_parse_cache,
    parse_policy,
)
from .remediation import corrected_document, mask_external_ids, update_command
from .reserved import (
    SERVICE_LINKED_PATH_PREFIX,
    SSO_PATH_PREFIX,
    Imitation,
    ManagedKind,
    imitation,
    managed_kind,
)
from .verdict import (
    RISK_ORDER,
    PolicyVerdict,
    Reason,
    RoleVerdict,
    StatementRef,
    TrustStatus,
    enforces_rule,
)
from .wildcard import glob_match
from .witness import covers_assume_role

__all__ = [
    "SERVICE_LINKED_PATH_PREFIX",
    "SSO_PATH_PREFIX",
    "TrustStatus",
    "enforces_rule",
    "Reason",
    "StatementRef",
    "PolicyVerdict",
    "RoleVerdict",
    "TrustOptions",
    "evaluate_policy",
    "evaluate_role",
    "verdict_for",
    "fix_policy",
    "policy_report",
    "role_account",
    "clear_caches",
]

_ROLE_ARN: Final = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/.*", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TrustOptions:
    """Role name/path glob patterns (``*``, ``?``; case-insensitive) exempt from the rule,
    and the largest trust policy evaluated (IAM's maximum unless a caller lowers it)."""

    exempt_role_patterns: tuple[str, ...] = ()
    max_policy_chars: int = MAX_TRUST_POLICY_CHARS


def clear_caches() -> None:
    """Forget memoised parses and analyses (benchmarks use it to measure cold runs)."""
    analyse_cached.cache_clear()
    _correction_enforces.cache_clear()
    clear_parse_cache()


def _worse(a: PolicyVerdict, b: PolicyVerdict) -> PolicyVerdict:
    return b if RISK_ORDER.index(b.status) < RISK_ORDER.index(a.status) else a


def verdict_for(
    policy: TrustPolicy, *, account_id: str | None = None, partition: str | None = None
) -> PolicyVerdict:
    """The verdict on an already parsed policy (both readings when keys are duplicated)."""
    verdict = analyse_cached(policy, partition).for_account(account_id, policy)
    if policy.duplicate_keys:
        reading = "last-wins"
        if policy.alternative is not None:
            alternative = analyse_cached(policy.alternative, partition).for_account(
                account_id, policy
            )
            if _worse(verdict, alternative) is alternative:
                verdict, reading = alternative, "first-wins"
        duplicate = Reason(
            Code.DUPLICATE_KEYS,
            params=(
                ("keys", ", ".join(sorted(set(policy.duplicate_keys)))),
                ("reading", reading),
            ),
        )
        verdict = dataclasses.replace(verdict, reasons=(*verdict.reasons, duplicate))
    return verdict


def _unparseable(
    code: Code, params: tuple[tuple[str, str], ...], account_id: str | None, partition: str | None
) -> PolicyVerdict:
    return PolicyVerdict(
        status=TrustStatus.UNPARSEABLE,
        reasons=(Reason(code, params=params),),
        account_id=account_id,
        partition=partition,
    )


def evaluate_policy(
    document: object,
    *,
    account_id: str | None = None,
    partition: str | None = None,
    max_chars: int = MAX_TRUST_POLICY_CHARS,
) -> PolicyVerdict:
    """The verdict on a trust policy in any form (dict, JSON or URL-encoded string).

    Never raises: a document that cannot be read is ``unparseable`` with the reason, and so
    is one larger than ``max_chars`` (IAM's maximum trust-policy size by default; RSN053),
    which is not evaluated at all. ``account_id``/``partition`` (the role's, from its ARN)
    enable the cross-account flag and the partition check; without them those facts are
    treated as unknown.
    """
    try:
        policy = parse_policy(document, max_chars)
    except PolicyTooLargeError as exc:
        params = (("size", str(exc.size)), ("limit", str(exc.limit)))
        return _unparseable(Code.TOO_LARGE, params, account_id, partition)
    except PolicyParseError as exc:
        return _unparseable(Code.UNPARSEABLE, (("error", str(exc)),), account_id, partition)
    return verdict_for(policy, account_id=account_id, partition=partition)


def fix_policy(verdict: PolicyVerdict) -> dict[str, Any] | None:
    """The minimal corrected policy for a weak/not_enforced verdict, if one enforces the rule.

    Returns ``None`` when no correction can be ``enforced`` (for example when only role
    principals are trusted: they never have ``aws:username``; see RSN011).
    """
    if verdict.status not in (TrustStatus.WEAK, TrustStatus.NOT_ENFORCED):
        return None
    policy = verdict.policy
    if policy is None:
        return None
    every_aws_grant = tuple(
        s.index
        for s in policy.statements
        if s.effect is Effect.ALLOW
        and covers_assume_role(s)
        and (s.principals.everyone or s.principals.aws or s.not_principal)
    )
    for targets in (verdict.offending_statements, every_aws_grant):
        if _correction_enforces(policy, targets, verdict.account_id, verdict.partition):
            return corrected_document(policy.document, targets)
    return None


@lru_cache(maxsize=2048)
def _correction_enforces(
    policy: TrustPolicy, targets: tuple[int, ...], account_id: str | None, partition: str | None
) -> bool:
    """Whether correcting ``targets`` yields an ``enforced`` policy.

    Equal models give corrected documents with equal models (the correction works on what the
    model holds), so the answer computed on one document holds for every equal one.
    """
    document = corrected_document(policy.document, targets)
    check = evaluate_policy(document, account_id=account_id, partition=partition)
    return check.status is TrustStatus.ENFORCED


# --------------------------------------------------------------------------- roles


def role_account(arn: object) -> tuple[str | None, str | None]:
    """(partition, account id) of a role ARN, or (None, None)."""
    if not isinstance(arn, str):
        return None, None
    match = _ROLE_ARN.fullmatch(arn)
    if match is None:
        return None, None
    return match.group(1), match.group(2)


_SERVICE_LINKED: Final = ManagedKind.SERVICE_LINKED
_IDENTITY_CENTER: Final = ManagedKind.IDENTITY_CENTER


def _exemption(
    name: str, path: str, options: TrustOptions, policy_status: TrustStatus
) -> Reason | None:
    """Why the role is exempt: its reserved path (evidence AWS made it), or a pattern the
    administrator configured. Never its name: anyone can name a role ``AWSReservedSSO_…``."""
    kind = managed_kind(path)
    if kind is _SERVICE_LINKED:
        return Reason(Code.EXEMPT_SERVICE_LINKED, params=(("path", path),))
    if kind is _IDENTITY_CENTER:
        return Reason(Code.EXEMPT_IDENTITY_CENTER, params=(("why", f"path {path}"),))
    if not options.exempt_role_patterns:
        return None
    folded_name, folded_full = name.casefold(), (path + name).casefold()
    for pattern in options.exempt_role_patterns:
        folded = pattern.casefold()
        if glob_match(folded, folded_name) or glob_match(folded, folded_full):
            return Reason(
                Code.EXEMPT_CONFIGURED,
                params=(("pattern", pattern), ("policy_status", policy_status.value)),
            )
    return None


def _masquerade(
    name: str, path: str, found: Imitation | None, policy_status: TrustStatus
) -> tuple[Reason, ...]:
    if found is None:
        return ()
    return (
        Reason(
            Code.MASQUERADING_NAME,
            params=(
                ("name", name),
                ("imitated", found.kind.value),
                ("path", path),
                ("reserved", found.reserved_path),
                ("policy_status", policy_status.value),
            ),
        ),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


_DEFAULT_OPTIONS: Final = TrustOptions()


def evaluate_role(role: Mapping[str, Any], options: TrustOptions | None = None) -> RoleVerdict:
    """The verdict on an IAM role object (ListRoles/GetRole/GAAD shape). Never raises.

    Exempt roles keep the policy's own verdict (``policy_verdict``) and flags, so an exempt
    but publicly assumable role is still visible.
    """
    options = options or _DEFAULT_OPTIONS
    get = role.get  # runs once per role of every scan: plain checks, no helper calls
    name = get("RoleName")
    name = name if isinstance(name, str) else ""
    path = get("Path")
    path = path if isinstance(path, str) and path else "/"
    arn = get("Arn")
    arn = arn if isinstance(arn, str) and arn else None
    partition, account_id = role_account(arn)
    document = role.get("AssumeRolePolicyDocument")
    if document is None:
        policy_verdict = _unparseable(Code.NO_TRUST_POLICY, (), account_id, partition)
    else:
        policy_verdict = evaluate_policy(
            document,
            account_id=account_id,
            partition=partition,
            max_chars=options.max_policy_chars,
        )
    exemption = _exemption(name, path, options, policy_verdict.status)
    found = imitation(name, path)
    masquerade = _masquerade(name, path, found, policy_verdict.status)
    role_id = _text(role.get("RoleId"))
    if exemption is not None:
        return RoleVerdict(
            name,
            arn,
            path,
            role_id,
            account_id,
            TrustStatus.EXEMPT,
            (exemption, *masquerade, *policy_verdict.reasons),
            policy_verdict,
            imitation=found,
        )
    fixed = fix_policy(policy_verdict)
    command = None
    masked = False
    if fixed is not None:
        fixed, masked = mask_external_ids(fixed)
        if name:
            command = update_command(name, fixed)
    return RoleVerdict(
        name,
        arn,
        path,
        role_id,
        account_id,
        policy_verdict.status,
        (*masquerade, *policy_verdict.reasons) if masquerade else policy_verdict.reasons,
        policy_verdict,
        fixed_policy=fixed,
        remediation_command=command,
        external_ids_masked=masked,
        imitation=found,
    )


def policy_report(verdict: PolicyVerdict) -> dict[str, Any]:
    """The JSON of a bare policy's verdict, with its corrected policy when one exists."""
    return verdict.to_dict(fix_policy(verdict))
