"""The demo scenario's script: who is in the tenant, and what the performed scenario must yield.

Kept apart from the code that performs it (``demo_seeding``) so the expectations a test asserts
(``ExpectedFinding``, ``RoleVerdict``) and the table the demo prints can be read in one place,
without the boto3 calls in between.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ACCOUNT_ID = "123456789012"  # moto's default account
PARTNER_ACCOUNT_ID = "999988887777"
SENSITIVE_BUCKET = "mysensitivebucket"
USERS = ("support_user", "alice", "bob", "mallory", "carol", "dave")
SENSITIVE_OBJECTS = {
    "customers/customer-records.csv": b"id,name,email\n1,Ada,ada@example.com\n",
    "finance/q3-forecast.csv": b"quarter,revenue\nQ3,1200000\n",
    "reports/2026-q3-summary.txt": b"Quarterly summary (demo data).\n",
}
SESSION_NAME_CONDITION = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
SSO_ROLE_NAME = "AWSReservedSSO_AdminAccess_abc123"
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
#: An attacker's look-alike of an Identity Center role: the name AWS would give a permission
#: set's role, but at path ``/``, where anyone allowed iam:CreateRole can create it.
LOOKALIKE_ROLE_NAME = "AWSReservedSSO_AdministratorAccess_0c4f"
LOOKALIKE_PATH = "/"
EC2_INSTANCE_ID = "i-0a1b2c3d4e5f67890"
IDENTITY_STORE_ID = "d-9067a1b2c3"

FindingKind = Literal[
    "posture",
    "noncompliant_activity",
    "session_spoofing",
    "denied_assume_role",
    "trust_policy_weakened",
    "role_name_imitation",
]


class DemoTenantError(RuntimeError):
    """The demo tenant could not be seeded; the message says what to fix."""


@dataclass(frozen=True)
class ExpectedFinding:
    """One finding the seeded data implies (or, in ``DemoTenant.absent``, must not produce).

    ``identity_arn``/``user_name`` are the *resolved* origin (the person), not the session.
    ``event_names`` must all appear among the finding's actions (it may list more, e.g. the
    console's ``SwitchRole``). ``details`` holds kind-specific facts (spoofed name, chain,
    cross-account origin) so a test can assert them without guessing.
    """

    kind: FindingKind
    role_name: str
    role_arn: str
    identity_arn: str | None = None
    user_name: str | None = None
    session_name: str | None = None
    access_key_id: str | None = None
    event_names: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["event_names"] = list(self.event_names)
        data["details"] = dict(self.details)
        return data


@dataclass(frozen=True)
class Imitated:
    """The AWS-managed role a look-alike's name imitates, and the alert that implies."""

    kind: str
    reserved_path: str
    severity: str


@dataclass(frozen=True)
class RoleVerdict:
    """The posture a role should get, in the vocabulary of aws-semantics.md §1.

    ``alert`` is whether a posture alert is implied; ``None`` where either is defensible
    (``unsatisfiable`` roles: nobody can assume them, so there is no attribution gap, but
    the trust policy is still broken). ``exempt_by`` is what an exemption rests on
    (``reserved_path`` or ``trust_policy``; never the name), ``None`` for a role that is
    not exempt. ``imitates`` is set for a role named like an AWS-managed one outside the
    reserved path, which raises its own alert besides any posture alert.
    """

    status: str | None
    alert: bool | None
    why: str
    exempt_by: str | None = None
    imitates: Imitated | None = None


@dataclass(frozen=True)
class ScenarioStep:
    """One row of the scenario table the demo prints: who did what, and what it should yield."""

    who: str
    role: str
    session_name: str
    what: str
    expected: str


def scenario_table(sdk_session: str) -> list[ScenarioStep]:
    """The scenario as a table (same order as it is performed, times relative to start)."""
    rows = [
        ("support_user", "MyBucketRole", sdk_session,
         "+0:05 AssumeRole (4 h); +3:10 ListObjects mysensitivebucket",
         "noncompliant_activity → support_user (the seed's case)"),
        ("alice", "CompliantRole", "alice", "+0:20 AssumeRole; ListBuckets, GetObject",
         "none (role enforces the rule)"),
        ("bob", "ChainIntermediateRole → ChainTargetRole", "bob → deploy-pipeline",
         "+1:00 two-hop chain; ListUsers, ListBuckets with the final key (issuance late)",
         "noncompliant_activity → bob via the chain"),
        ("mallory", "MyBucketRole", "alice",
         "+1:30 AssumeRole as 'alice'; GetObject customers/… (issuance late)",
         "session_spoofing + noncompliant_activity → mallory"),
        ("carol", "EnforcedRole", "admin, then carol",
         "+2:00 AssumeRole denied (AccessDenied); retries with her own name",
         "denied_assume_role → carol"),
        ("dave", "DriftRole", "dave",
         "+4:00 CreateRole (compliant), AssumeRole, ListBuckets",
         "none (enforced at the time)"),
        ("dave", "DriftRole", "-", "+5:00 UpdateAssumeRolePolicy removes the condition",
         "trust_policy_weakened → dave"),
        ("alice", "DriftRole", "nightly-job", "+6:00 AssumeRole; ListObjects, GetObject",
         "noncompliant_activity → alice"),
        ("dave", "OpsAdminRole", "dave",
         "+7:00 ConsoleLogin, SwitchRole; ListRoles, ListBuckets (fresh key per request)",
         "noncompliant_activity → dave (via SwitchFrom)"),
        ("erin@example.com (Identity Center)", SSO_ROLE_NAME, "erin@example.com",
         "+8:00 GetRoleCredentials (redacted); ListBuckets, GetObject",
         "none (exempt role)"),
        ("EC2 instance " + EC2_INSTANCE_ID, "Ec2AppRole", EC2_INSTANCE_ID,
         "+9:00 AWSService AssumeRole; ListObjects, GetObject", "none (exempt role)"),
        (f"partner-ci ({PARTNER_ACCOUNT_ID})", "PartnerAuditRole", "audit-run",
         "+10:00 cross-account AssumeRole; ListBuckets, GetBucketAcl",
         "noncompliant_activity → partner-ci"),
    ]  # fmt: skip
    return [ScenarioStep(*row) for row in rows]


def role_posture(role_arns: Mapping[str, str]) -> dict[str, RoleVerdict]:
    """The verdict each role's *current* trust policy implies (aws-semantics.md §1)."""
    verdicts = {
        "MyBucketRole": RoleVerdict(
            "not_enforced", True, "account root may assume it without the condition"
        ),
        "CompliantRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "ChainIntermediateRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "ChainTargetRole": RoleVerdict(
            "not_enforced", True, "a role principal may assume it; no condition can bind a user"
        ),
        "EnforcedRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "DriftRole": RoleVerdict(
            "not_enforced", True, "UpdateAssumeRolePolicy removed the condition"
        ),
        "WeakPrefixRole": RoleVerdict(
            "weak", True, "StringLike ${aws:username}* lets alice use alice-anything"
        ),
        "OpsAdminRole": RoleVerdict("not_enforced", True, "account root, no condition, admin"),
        "PartnerAuditRole": RoleVerdict(
            "not_enforced", True, "another account's root, no condition"
        ),
        SSO_ROLE_NAME: RoleVerdict(
            "exempt", False, "IAM Identity Center role (SAML, reserved path)", "reserved_path"
        ),
        LOOKALIKE_ROLE_NAME: RoleVerdict(
            "not_enforced",
            True,
            "named like an Identity Center role at path /: the name exempts nothing; "
            "account root, no condition, admin",
            imitates=Imitated("IAM Identity Center", SSO_PATH, "high"),
        ),
        "Ec2AppRole": RoleVerdict(
            "exempt", False, "trusted only by a Service principal", "trust_policy"
        ),
        "AWSServiceRoleForAutoScaling": RoleVerdict(
            "exempt", False, "service-linked role (reserved path)", "reserved_path"
        ),
        "NoStatementRole": RoleVerdict(
            "unsatisfiable", None, "no statement: nobody can assume it (valid document)"
        ),
        "LegacyVersionRole": RoleVerdict(
            "unsatisfiable",
            None,
            "Version 2008-10-17: ${aws:username} is a literal, the only Allow never matches",
        ),
    }
    return {name: verdict for name, verdict in verdicts.items() if name in role_arns}
