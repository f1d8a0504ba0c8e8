"""Was a role enforcing the RoleSessionName rule at a given time? (trail first, then posture)

The answer decides whether a session's name can be trusted: trust-policy changes seen in
CloudTrail (CreateRole / UpdateAssumeRolePolicy, evaluated by the trust evaluator) say what
held from that moment on; before any such change, the posture scan's verdict is the best
knowledge. Exempt roles (service-linked, Identity Center, Service/Federated-only trust,
configured patterns) are never reported as non-compliant.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from ..cloudtrail.identities import is_identity_center_role, is_service_linked_role
from ..trust.wildcard import glob_match

TimelineLookup = Callable[[str, float], tuple[bool, bool | None]]
PostureLookup = Callable[[str], str | None]


class Compliance(StrEnum):
    ENFORCED = "enforced"
    NOT_ENFORCED = "not_enforced"
    EXEMPT = "exempt"
    UNKNOWN = "unknown"


_POSTURE_TO_COMPLIANCE = {
    "enforced": Compliance.ENFORCED,
    "enforced_by_deny": Compliance.ENFORCED,
    "weak": Compliance.NOT_ENFORCED,
    "not_enforced": Compliance.NOT_ENFORCED,
    "exempt": Compliance.EXEMPT,
    "unsatisfiable": Compliance.EXEMPT,
}


def role_path_and_name(role_arn: str) -> tuple[str, str]:
    """``('/path/', 'Name')`` of a role ARN (``arn:aws:iam::1:role/path/Name``)."""
    resource = role_arn.split(":", 5)[-1]
    rest = resource.split("/", 1)[1] if "/" in resource else resource
    path, _, name = rest.rpartition("/")
    return (f"/{path}/" if path else "/"), name


def matches_exemption(role_arn: str, patterns: tuple[str, ...]) -> bool:
    path, name = role_path_and_name(role_arn)
    candidates = (name.lower(), f"{path}{name}".lower())
    return any(glob_match(p.lower(), c) for p in patterns for c in candidates)


class RoleCompliance:
    """Answers ``at(role_arn, when)`` from the CloudTrail timeline, then posture."""

    def __init__(
        self,
        timeline: TimelineLookup,
        posture_status: PostureLookup,
        exempt_patterns: tuple[str, ...] = (),
    ) -> None:
        self._timeline = timeline
        self._posture_status = posture_status
        self._exempt_patterns = exempt_patterns

    def at(self, role_arn: str | None, when: float | None) -> Compliance:
        if not role_arn:
            return Compliance.UNKNOWN
        if (
            is_service_linked_role(role_arn)
            or is_identity_center_role(role_arn)
            or matches_exemption(role_arn, self._exempt_patterns)
        ):
            return Compliance.EXEMPT
        posture = _POSTURE_TO_COMPLIANCE.get(self._posture_status(role_arn) or "")
        if posture is Compliance.EXEMPT:
            return posture
        if when is not None:
            known, enforced = self._timeline(role_arn, when)
            if known and enforced is not None:
                return Compliance.ENFORCED if enforced else Compliance.NOT_ENFORCED
        return posture or Compliance.UNKNOWN
