"""Whether a role enforced the rule when a session was created: CloudTrail's trust-policy
changes first, the posture scan otherwise; exempt roles are never non-compliant."""

from __future__ import annotations

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts.compliance import (
    Compliance,
    RoleCompliance,
    matches_exemption,
    role_path_and_name,
)

ROLE = "arn:aws:iam::123456789012:role/team/DriftRole"
CHANGED_AT = 1_000.0


def timeline(role_arn: str, at: float) -> tuple[bool, bool | None]:
    """DriftRole stopped enforcing at CHANGED_AT; nothing known before."""
    if role_arn.endswith("/DriftRole") and at >= CHANGED_AT:
        return True, False
    return False, None


def compliance(posture: dict[str, str], patterns: tuple[str, ...] = ()) -> RoleCompliance:
    return RoleCompliance(timeline, posture.get, patterns)


def test_a_trust_change_seen_in_cloudtrail_overrides_the_posture_scan() -> None:
    check = compliance({ROLE: "enforced"})
    assert check.at(ROLE, CHANGED_AT - 1) is Compliance.ENFORCED
    assert check.at(ROLE, CHANGED_AT + 1) is Compliance.NOT_ENFORCED


def test_without_a_trust_change_the_posture_verdict_decides() -> None:
    other = "arn:aws:iam::123456789012:role/Open"
    assert compliance({other: "weak"}).at(other, 5.0) is Compliance.NOT_ENFORCED
    assert compliance({other: "enforced_by_deny"}).at(other, 5.0) is Compliance.ENFORCED
    assert compliance({}).at(other, 5.0) is Compliance.UNKNOWN


def test_service_linked_identity_center_and_configured_roles_are_exempt() -> None:
    check = compliance({}, ("break-glass*",))
    slr = "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"
    sso = (
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/"
        "AWSReservedSSO_Admin_0123456789abcdef"
    )
    assert check.at(slr, 1.0) is Compliance.EXEMPT
    assert check.at(sso, 1.0) is Compliance.EXEMPT
    assert check.at("arn:aws:iam::123456789012:role/Break-Glass-1", 1.0) is Compliance.EXEMPT


def test_an_exempt_posture_verdict_wins_over_a_trust_change() -> None:
    assert compliance({ROLE: "exempt"}).at(ROLE, CHANGED_AT + 1) is Compliance.EXEMPT


def test_exemption_patterns_match_name_or_path_and_name_case_insensitively() -> None:
    assert role_path_and_name(ROLE) == ("/team/", "DriftRole")
    assert matches_exemption(ROLE, ("/TEAM/*",))
    assert matches_exemption(ROLE, ("driftrole",))
    assert not matches_exemption(ROLE, ("/other/*",))
