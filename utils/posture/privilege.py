"""How much a role can do, and so how urgent its RoleSessionName verdict is.

An unattributable session of an administrator role is a far bigger problem than one of a
read-only role, so posture severity combines the trust verdict with a coarse privilege tier:

* ``admin``  - AdministratorAccess, IAMFullAccess, PowerUserAccess, AWSOrganizationsFullAccess,
  ``AdministratorAccess-*`` job-function variants, or an inline policy allowing ``*``/``iam:*``;
* ``write``  - any other ``*FullAccess`` managed policy, or an inline policy allowing actions
  that are not read-only;
* ``read``   - ``ReadOnlyAccess``/``*ReadOnly*``/``ViewOnlyAccess``/``SecurityAudit`` or inline
  policies allowing only Get/List/Describe-style actions;
* ``none``   - nothing attached; ``unknown`` - policies exist whose content was not available
  (customer-managed policies, or inline policies in ListRoles fallback mode).

The tier is a heuristic for ranking, not an authorisation decision: customer-managed policies
are judged by name only.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Final

from ..trust.evaluator import RoleVerdict, TrustStatus
from ..trust.findings import Severity
from .iam_roles import IamRole

ADMIN_POLICY_NAMES: Final = frozenset(
    {"AdministratorAccess", "IAMFullAccess", "PowerUserAccess", "AWSOrganizationsFullAccess"}
)
READ_POLICY_NAMES: Final = frozenset({"ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit"})
_READ_VERBS: Final = ("get", "list", "describe", "view", "read", "lookup", "search", "query")
_ADMIN_ACTIONS: Final = frozenset({"*", "*:*", "iam:*"})


class PrivilegeTier(StrEnum):
    ADMIN = "admin"
    WRITE = "write"
    UNKNOWN = "unknown"
    READ = "read"
    NONE = "none"


_RANK: Final = {
    PrivilegeTier.ADMIN: 4,
    PrivilegeTier.WRITE: 3,
    PrivilegeTier.UNKNOWN: 2,
    PrivilegeTier.READ: 1,
    PrivilegeTier.NONE: 0,
}


def _highest(tiers: Iterable[PrivilegeTier]) -> PrivilegeTier:
    return max(tiers, key=_RANK.__getitem__, default=PrivilegeTier.NONE)


def managed_policy_tier(name: str) -> PrivilegeTier:
    """The tier of an attached managed policy, by name."""
    if name in ADMIN_POLICY_NAMES or name.startswith("AdministratorAccess-"):
        return PrivilegeTier.ADMIN
    if name.endswith("FullAccess"):
        return PrivilegeTier.WRITE
    if name in READ_POLICY_NAMES or "ReadOnly" in name:
        return PrivilegeTier.READ
    return PrivilegeTier.UNKNOWN


def _decode(document: Any) -> Any:
    if isinstance(document, str):
        text = document.strip()
        if text.startswith("%"):
            text = urllib.parse.unquote(text)
        try:
            return json.loads(text)
        except ValueError:
            return None
    return document


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def inline_policy_tier(document: Any) -> PrivilegeTier:
    """The tier of an inline policy document (any form); ``unknown`` if unreadable."""
    decoded = _decode(document)
    if not isinstance(decoded, Mapping):
        return PrivilegeTier.UNKNOWN
    tiers: list[PrivilegeTier] = []
    for statement in _listify(decoded.get("Statement", [])):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            tiers.append(PrivilegeTier.ADMIN)
            continue
        for action in _listify(statement.get("Action", [])):
            if not isinstance(action, str):
                continue
            folded = action.casefold()
            if folded in _ADMIN_ACTIONS:
                tiers.append(PrivilegeTier.ADMIN)
            elif folded.partition(":")[2].startswith(_READ_VERBS):
                tiers.append(PrivilegeTier.READ)
            else:
                tiers.append(PrivilegeTier.WRITE)
    return _highest(tiers)


def privilege_tier(role: IamRole) -> PrivilegeTier:
    """The highest tier among the role's attached and inline policies."""
    tiers = [managed_policy_tier(name) for name in role.attached_policy_names]
    tiers.extend(inline_policy_tier(policy.document) for policy in role.inline_policies)
    if not role.inline_policies_known or not role.attached_policies_known:
        tiers.append(PrivilegeTier.UNKNOWN)
    return _highest(tiers)


#: Severity of a verdict status by privilege tier (admin, write, unknown, read, none).
_MATRIX: Final[Mapping[TrustStatus, tuple[Severity, ...]]] = {
    TrustStatus.NOT_ENFORCED: (
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
    ),
    TrustStatus.WEAK: (Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM, Severity.LOW, Severity.LOW),
    TrustStatus.UNPARSEABLE: (
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.LOW,
    ),
    TrustStatus.UNSATISFIABLE: (Severity.LOW,) * 5,
}
_TIER_COLUMN: Final = {
    PrivilegeTier.ADMIN: 0,
    PrivilegeTier.WRITE: 1,
    PrivilegeTier.UNKNOWN: 2,
    PrivilegeTier.READ: 3,
    PrivilegeTier.NONE: 4,
}


def posture_severity(verdict: RoleVerdict, role: IamRole) -> Severity:
    """Severity of a role's posture finding: the verdict, weighted by what the role can do.

    Compliant and exempt roles are informational, unless publicly assumable (compliant on
    paper, assumable from any account): then high, critical for admin roles.
    """
    tier = privilege_tier(role)
    column = _TIER_COLUMN[tier]
    row = _MATRIX.get(verdict.status)
    severity = row[column] if row is not None else Severity.INFORMATIONAL
    if verdict.policy_verdict.publicly_assumable and verdict.status is not TrustStatus.EXEMPT:
        public = Severity.CRITICAL if tier is PrivilegeTier.ADMIN else Severity.HIGH
        severity = min(severity, public, key=list(Severity).index)
    return severity


#: Policy statuses under which a look-alike role can be assumed under any session name.
_OPEN_STATUSES: Final = frozenset(
    {TrustStatus.WEAK, TrustStatus.NOT_ENFORCED, TrustStatus.UNPARSEABLE}
)


def imitation_severity(verdict: RoleVerdict) -> Severity:
    """Severity of a role name imitating an AWS-managed role: high when its trust policy
    does not enforce the rule (a look-alike anyone can hide behind), medium otherwise."""
    if verdict.policy_verdict.status in _OPEN_STATUSES:
        return Severity.HIGH
    return Severity.MEDIUM
