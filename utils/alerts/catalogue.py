"""The one catalogue of alert kinds: code, title, type, default severity, words.

Builders emit a kind's key; everything a person reads (title, description, remediation)
comes from here, so a ServiceNow business rule or Splunk search written against ``type``
or ``alertName`` keeps working as the code evolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class AlertKind:
    key: str  # the value in the rule step's "Alert Kinds"
    code: str  # Alert.type: stable finding code for business rules and searches
    title: str  # Alert.alertName
    alert_type: str  # Alert.alertType: posture / activity / identity / configuration
    default_severity: str  # CE values: critical, high, medium, low, informational
    description: str
    remediation: str


POSTURE: Final = AlertKind(
    key="posture",
    code="role_session_name_not_enforced",
    title="Role does not enforce RoleSessionName",
    alert_type="Posture",
    default_severity="medium",
    description=(
        "The role's trust policy lets IAM users assume it without forcing the session name "
        "to be their own user name (sts:RoleSessionName = ${aws:username}). Every action "
        "taken with the role then appears in CloudTrail under a name the caller chose, so "
        "the person behind it can only be found by correlating the AssumeRole event."
    ),
    remediation=(
        "Apply the corrected trust policy in this alert (it adds the condition to the "
        "statements that grant IAM principals sts:AssumeRole) with the command shown, after "
        "checking that every legitimate caller is an IAM user or uses SourceIdentity."
    ),
)

ROLE_NAME_IMITATION: Final = AlertKind(
    key="role_name_imitation",
    code="role_name_imitates_aws_managed_role",
    title="Role name imitates an AWS-managed role",
    alert_type="Posture",
    default_severity="high",
    description=(
        "The role is named like an IAM Identity Center role (AWSReservedSSO_*) or a "
        "service-linked role (AWSServiceRoleFor*), but it is not under the path AWS alone "
        "can create such roles in (/aws-reserved/sso.amazonaws.com/ or /aws-service-role/). "
        "Anyone allowed iam:CreateRole can choose such a name; a look-alike passes for an "
        "AWS-managed role in reviews and in tools that trust names, and its session names "
        "can pass for Identity Center user names."
    ),
    remediation=(
        "Find who created the role (CloudTrail CreateRole) and why. Delete it if nobody owns "
        "it; otherwise recreate it under a name that does not imitate an AWS-managed role. "
        "Exempt AWS-managed roles by their reserved path, never by a name pattern."
    ),
)

NONCOMPLIANT_ACTIVITY: Final = AlertKind(
    key="noncompliant_activity",
    code="noncompliant_role_activity",
    title="Action through a non-compliant role",
    alert_type="Activity",
    default_severity="medium",
    description=(
        "Actions were taken through a role that does not enforce RoleSessionName. CloudTrail "
        "shows only the role and a caller-chosen session name; the plugin resolved the "
        "identity that obtained the session from the issuing AssumeRole event."
    ),
    remediation=(
        "Confirm the actions were expected for the resolved identity, then enforce "
        "sts:RoleSessionName = ${aws:username} on the role so future sessions name their user."
    ),
)

SESSION_SPOOFING: Final = AlertKind(
    key="session_spoofing",
    code="session_name_spoofing",
    title="Session-name spoofing",
    alert_type="Identity",
    default_severity="high",
    description=(
        "An IAM user assumed a role with a session name that is not their own user name, on a "
        "role that does not enforce the rule. Later events of that session carry the chosen "
        "name, which misattributes the activity when it names another user."
    ),
    remediation=(
        "Ask the user why the session was named this way; enforce sts:RoleSessionName = "
        "${aws:username} on the role so IAM rejects such sessions."
    ),
)

DENIED_ASSUME_ROLE: Final = AlertKind(
    key="denied_assume_role",
    code="denied_assume_role",
    title="Denied AssumeRole attempt",
    alert_type="Identity",
    default_severity="medium",
    description=(
        "AssumeRole was denied for a caller whose requested session name is not their own "
        "user name: someone probing an enforced role, or a misconfigured tool."
    ),
    remediation=(
        "Check who made the attempt and with which tool; callers must set RoleSessionName to "
        "their IAM user name (e.g. aws sts assume-role --role-session-name <user name>)."
    ),
)

TRUST_POLICY_WEAKENED: Final = AlertKind(
    key="trust_policy_weakened",
    code="trust_policy_weakened",
    title="Trust policy weakened",
    alert_type="Configuration",
    default_severity="high",
    description=(
        "A CreateRole or UpdateAssumeRolePolicy call set a trust policy that no longer "
        "enforces sts:RoleSessionName = ${aws:username} for IAM principals."
    ),
    remediation=(
        "Review the change with the identity that made it; restore the condition with the "
        "corrected policy and command in this alert."
    ),
)

UNATTRIBUTED_ACTIVITY: Final = AlertKind(
    key="unattributed_activity",
    code="unattributed_session_activity",
    title="Unattributed session activity",
    alert_type="Activity",
    default_severity="low",
    description=(
        "Actions were signed with temporary credentials whose issuing event was not seen "
        "within the look-back window, so the identity behind them is unknown."
    ),
    remediation=(
        "Widen the look-back window or add the Regions/accounts where the session was issued; "
        "check the trail covers every Region (STS events are regional)."
    ),
)

VOLUME_CAPPED: Final = AlertKind(
    key="volume_capped",
    code="alert_volume_capped",
    title="Alert volume cap reached",
    alert_type="Operational",
    default_severity="informational",
    description=(
        "More alerts were found in one pull than Maximum Alerts per Pull allows. The excess "
        "is carried over to the next pulls; this alert counts what was deferred or dropped."
    ),
    remediation="Raise Maximum Alerts per Pull, or narrow the Activity Scope.",
)

KINDS: Final[dict[str, AlertKind]] = {
    kind.key: kind
    for kind in (
        POSTURE,
        ROLE_NAME_IMITATION,
        NONCOMPLIANT_ACTIVITY,
        SESSION_SPOOFING,
        DENIED_ASSUME_ROLE,
        TRUST_POLICY_WEAKENED,
        UNATTRIBUTED_ACTIVITY,
        VOLUME_CAPPED,
    )
}

SEVERITY_ORDER: Final = ("informational", "low", "medium", "high", "critical")


def raise_severity(severity: str, steps: int = 1) -> str:
    """``severity`` moved ``steps`` levels up (or down when negative), within CE's scale."""
    index = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 2
    return SEVERITY_ORDER[max(0, min(len(SEVERITY_ORDER) - 1, index + steps))]


# sn_si_incident.severity choices: 1 High, 2 Medium, 3 Low. CE's ServiceNow receiver copies
# the queue mapping verbatim, so alerts carry the number next to CE's own severity word.
SERVICENOW_SEVERITY: Final[dict[str, str]] = {
    "critical": "1",
    "high": "1",
    "medium": "2",
    "low": "3",
    "informational": "3",
}
