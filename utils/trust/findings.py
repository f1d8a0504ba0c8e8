"""The one catalogue of RoleSessionName findings: code, title, severity, IAM rule, remediation.

Code elsewhere emits a ``Code`` and named parameters; every word a user reads comes from
here, so wording, severities and citations are reviewed in one place and finding codes stay
stable across releases (alerts, tickets and Splunk searches key on them).

Sources cited (AWS documentation, IAM User Guide unless noted):

* ``[VAR]``   reference_policies_variables.html - policy variables, defaults, Version gating
* ``[VER]``   reference_policies_elements_version.html
* ``[OPS]``   reference_policies_elements_condition_operators.html - operators, ``IfExists``,
  ``Null``, negated operators on a missing key, several values OR'ed
* ``[SET]``   reference_policies_condition-single-vs-multi-valued-context-keys.html
* ``[KEYS]``  reference_policies_condition-keys.html - ``aws:username`` (IAM users only),
  ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``
* ``[STSK]``  reference_policies_iam-condition-keys.html - ``sts:RoleSessionName``,
  ``sts:SourceIdentity``
* ``[PRIN]``  reference_policies_elements_principal.html - account principals, unique ids of
  deleted principals, ``NotPrincipal``
* ``[EVAL]``  reference_policies_evaluation-logic.html - an explicit Deny overrides any Allow
* ``[ARAPI]`` STS API reference, AssumeRole - ``RoleSessionName`` is required, 2-64 characters
  of ``[\\w+=,.@-]``
* ``[SRCID]`` id_credentials_temp_control-access_monitor.html - source identity
* ``[SLR]``   using-service-linked-roles.html; Identity Center: ``/aws-reserved/sso.amazonaws.com/``
* ``[QUOTA]`` reference_iam-quotas.html - role trust policy length (2,048 characters, 8,192
  when raised)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFORMATIONAL = "informational"


class Code(StrEnum):
    """Stable finding codes. Never renumber; retire a code by leaving it unused."""

    # Why the rule is not enforced (status not_enforced / weak).
    MISSING_CONDITION = "RSN001"
    NOT_BOUND_TO_USERNAME = "RSN002"
    WILDCARD_AROUND_USERNAME = "RSN003"
    EXTRA_VALUES = "RSN004"
    IGNORE_CASE = "RSN005"
    FOR_ALL_VALUES_VACUOUS = "RSN006"
    DEFAULT_VALUE_HOLE = "RSN007"
    NEGATED_OPERATOR_IN_ALLOW = "RSN008"
    DENY_GUARD_GAP = "RSN009"
    DECORATED_USERNAME = "RSN016"  # weak; numbered after RSN001-RSN009 filled up
    # Grants that can never be used (status unsatisfiable, or side notes).
    VARIABLE_NOT_SUBSTITUTED = "RSN010"
    ROLE_PRINCIPAL_NO_USERNAME = "RSN011"
    PRINCIPAL_NEVER_MATCHES = "RSN012"
    ONE_CHARACTER_USER_NAME = "RSN013"
    NOTHING_GRANTS_ASSUMPTION = "RSN014"
    EVERY_GRANT_DEAD = "RSN015"
    # Why the rule is enforced.
    ENFORCED_BY_CONDITION = "RSN020"
    ENFORCED_BY_DENY = "RSN021"
    IF_EXISTS_EQUIVALENT = "RSN022"
    # Side flags reported beside the status.
    PUBLICLY_ASSUMABLE = "RSN030"
    CROSS_ACCOUNT_UNPINNED = "RSN031"
    FOR_ANY_VALUE_MISUSE = "RSN032"
    OLD_OR_MISSING_VERSION = "RSN033"
    NOT_PRINCIPAL_IN_ALLOW = "RSN034"
    DUPLICATE_KEYS = "RSN035"
    UNEVALUATED_CONDITION = "RSN036"
    # Exemptions.
    EXEMPT_SERVICE_LINKED = "RSN040"
    EXEMPT_IDENTITY_CENTER = "RSN041"
    EXEMPT_NON_AWS_PRINCIPALS = "RSN042"
    EXEMPT_CONFIGURED = "RSN043"
    MASQUERADING_NAME = "RSN044"
    # Input problems.
    UNPARSEABLE = "RSN050"
    NO_TRUST_POLICY = "RSN051"
    TOO_COMPLEX = "RSN052"
    TOO_LARGE = "RSN053"


@dataclass(frozen=True, slots=True)
class Finding:
    """Catalogue entry. ``message`` is a ``str.format`` template over the reason's params."""

    code: Code
    title: str
    severity: Severity
    explanation: str
    remediation: str
    message: str


_THE_CONDITION = '{"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}'
_ADD_CONDITION = (
    f"Add {_THE_CONDITION} to every Allow statement that lets AWS principals call "
    'sts:AssumeRole, and set "Version": "2012-10-17" (see fixed_policy and '
    "remediation_command)."
)
_SOURCE_IDENTITY = (
    "Role sessions have no aws:username. To attribute role-chained sessions, require "
    "sts:SourceIdentity instead: allow sts:SetSourceIdentity in this trust policy and in the "
    "calling role's, and have the first hop set it to the user's name; it is immutable and "
    "appears on every later event as userIdentity.sessionContext.sourceIdentity [SRCID]."
)

_ENTRIES: Final = (
    Finding(
        Code.MISSING_CONDITION,
        "AssumeRole allowed without a session-name condition",
        Severity.HIGH,
        "Any Allow statement that grants sts:AssumeRole to an AWS principal without "
        "constraining sts:RoleSessionName lets the caller pick any session name; IAM grants "
        "access if any Allow matches and no Deny does [EVAL], so one such statement breaks "
        "the rule even when another statement has the condition.",
        _ADD_CONDITION,
        "{statement} allows {principals} to call sts:AssumeRole without requiring "
        "sts:RoleSessionName to equal ${{aws:username}}.",
    ),
    Finding(
        Code.NOT_BOUND_TO_USERNAME,
        "Session name constrained, but not to the caller's user name",
        Severity.HIGH,
        "The statement constrains sts:RoleSessionName [STSK] with values that do not tie it "
        "to ${aws:username} (fixed names, wildcards or other variables), so the session name "
        "does not identify the person.",
        _ADD_CONDITION,
        "{statement} constrains sts:RoleSessionName to {values} ({operator}), which does not "
        "tie the session name to ${{aws:username}}; {principals} can choose names that are "
        "not theirs (for example {example!r}).",
    ),
    Finding(
        Code.WILDCARD_AROUND_USERNAME,
        "Wildcard around ${aws:username}",
        Severity.MEDIUM,
        "StringLike treats * and ? as wildcards [OPS]; a value such as '${aws:username}*' "
        "also matches other users' names extended by a suffix, so one user can impersonate "
        "another whose name starts with theirs.",
        "Use StringEquals (or StringLike without wildcards) with the single value ${aws:username}.",
        "{statement} matches sts:RoleSessionName with {values} ({operator}); the wildcard "
        "lets a user choose names other than their own (for example {example!r}).",
    ),
    Finding(
        Code.EXTRA_VALUES,
        "Extra session-name values OR'ed with ${aws:username}",
        Severity.MEDIUM,
        "Several values for one condition key are OR'ed [OPS]: a caller may use any listed "
        "value as session name, not only their own name.",
        "Keep ${aws:username} as the only value of the sts:RoleSessionName condition.",
        "{statement} accepts {values} for sts:RoleSessionName ({operator}); any caller may "
        "use the extra value(s) (for example {example!r}).",
    ),
    Finding(
        Code.IGNORE_CASE,
        "Case-insensitive session-name match",
        Severity.MEDIUM,
        "StringEqualsIgnoreCase ignores case [OPS] while IAM user names are case-preserving "
        "and CloudTrail records the session name as given; the name then need not be "
        "exactly the user's.",
        "Use StringEquals instead of StringEqualsIgnoreCase.",
        "{statement} compares sts:RoleSessionName with {operator}; a caller can use a "
        "differently cased name (for example {example!r}).",
    ),
    Finding(
        Code.FOR_ALL_VALUES_VACUOUS,
        "ForAllValues on the single-valued sts:RoleSessionName",
        Severity.MEDIUM,
        "ForAllValues is meant for multivalued keys and evaluates to true when the key is "
        "absent from the request [SET]; on sts:RoleSessionName the condition is vacuous on "
        "any request path that does not carry the key, so it cannot be relied on.",
        f"Replace the ForAllValues condition with {_THE_CONDITION}.",
        "{statement} uses {operator} on sts:RoleSessionName; ForAllValues is true when the "
        "key is absent, so the rule depends on every request carrying it.",
    ),
    Finding(
        Code.DEFAULT_VALUE_HOLE,
        "Default value of ${aws:username} lets other callers in",
        Severity.MEDIUM,
        "${aws:username, 'default'} resolves to the default for callers without a user name "
        "(roles, root, federated users) [VAR]; they can assume the role under that fixed "
        "name, which identifies nobody.",
        "Remove the default from the variable: ${aws:username}.",
        "{statement} uses {values}: callers without an IAM user name ({principals}) can use "
        "the session name {example!r}.",
    ),
    Finding(
        Code.NEGATED_OPERATOR_IN_ALLOW,
        "Negated session-name operator in an Allow",
        Severity.HIGH,
        "Negated operators match when no listed value matches, and also when the variable "
        "or key is missing [OPS]; in an Allow, StringNotEquals ${aws:username} grants every "
        "session name except the caller's own.",
        f"Use {_THE_CONDITION} in the Allow, or move the negated condition into a Deny statement.",
        "{statement} allows sts:AssumeRole when the session name is NOT ${{aws:username}} "
        "({operator}); {principals} can pick any other name (for example {example!r}).",
    ),
    Finding(
        Code.DENY_GUARD_GAP,
        "Deny guard does not cover an Allow",
        Severity.MEDIUM,
        "A Deny with StringNotEquals sts:RoleSessionName ${aws:username} enforces the rule "
        "only where its Principal and Action cover the Allow and no extra AND-ed condition "
        "can be false [EVAL][OPS].",
        'Give the Deny Principal {"AWS": "*"}, Action sts:AssumeRole and no other '
        "condition, or add the condition to the Allow itself.",
        "{deny} does not stop {principals} using {statement}: {why}.",
    ),
    Finding(
        Code.DECORATED_USERNAME,
        "Session name is the user name plus fixed text",
        Severity.LOW,
        "A value such as '${aws:username}@corp' or 'adm-${aws:username}' forces a name derived "
        "from the user name [VAR][OPS], but not the user name itself, which is what "
        "userIdentity.arn must show for the session to be attributed without a lookup table.",
        "Use the single value ${aws:username}, without prefix or suffix.",
        "{statement} requires sts:RoleSessionName to be {values} ({operator}): derived from "
        "the user name but not equal to it (for example {example!r}).",
    ),
    Finding(
        Code.VARIABLE_NOT_SUBSTITUTED,
        "${aws:username} is not substituted in this policy version",
        Severity.MEDIUM,
        'Policy variables are substituted only when "Version" is "2012-10-17" [VAR][VER]. '
        "Otherwise ${aws:username} is a literal string, and no session name can equal it ($ "
        "{ } are not legal session-name characters [ARAPI]): the statement never grants.",
        'Set "Version": "2012-10-17" at the top of the trust policy.',
        "{statement} compares sts:RoleSessionName with {values} but the policy Version is "
        "{version}: the variable is literal text and the statement can never grant.",
    ),
    Finding(
        Code.ROLE_PRINCIPAL_NO_USERNAME,
        "Role principals have no ${aws:username}",
        Severity.MEDIUM,
        "aws:username exists only for IAM users [KEYS]; role sessions can never satisfy a "
        "session-name condition on ${aws:username}. With the condition the statement is dead "
        "for them; without it, it is an attribution gap.",
        _SOURCE_IDENTITY,
        "{principals} in {statement} can never satisfy ${{aws:username}} ({effect}); "
        "consider sts:SourceIdentity to attribute role-chained sessions.",
    ),
    Finding(
        Code.PRINCIPAL_NEVER_MATCHES,
        "Principal can never assume the role",
        Severity.LOW,
        "IAM shows a deleted principal as its unique id (AIDA.../AROA...), which never "
        "matches a new principal of the same name [PRIN]; principals of another partition, "
        "federated-user sessions and malformed entries cannot assume the role either.",
        "Remove the entry, or replace it with the current ARN of the intended principal.",
        "{principals} in {statement} can never assume the role: {why}.",
    ),
    Finding(
        Code.ONE_CHARACTER_USER_NAME,
        "One-character user name cannot satisfy the rule",
        Severity.LOW,
        "A session name must be 2-64 characters [ARAPI]; an IAM user whose name has one "
        "character can never use it as the session name.",
        "Rename the user (IAM user names may be changed) or grant them another way.",
        "{principals} in {statement} can never assume the role under the rule: the user name "
        "is one character and session names need at least two.",
    ),
    Finding(
        Code.NOTHING_GRANTS_ASSUMPTION,
        "Nothing allows the role to be assumed",
        Severity.LOW,
        "Without an Allow statement that grants sts:AssumeRole, no caller can assume the "
        "role [EVAL]; a document without statements is valid.",
        "Nothing to fix for the rule; delete the role if it is unused.",
        "No statement allows any principal to assume this role.",
    ),
    Finding(
        Code.EVERY_GRANT_DEAD,
        "No AWS principal can satisfy the policy",
        Severity.LOW,
        "IAM grants a request only through an Allow that matches it [EVAL]; every Allow for "
        "AWS principals is unusable (see the other reasons), so no AWS principal can assume "
        "the role and the intended access is broken.",
        "Fix the statements named in the other reasons so the intended users can assume the "
        "role under the condition.",
        "No AWS principal can assume this role under this policy.",
    ),
    Finding(
        Code.ENFORCED_BY_CONDITION,
        "Session name forced to the caller's user name",
        Severity.INFORMATIONAL,
        "StringEquals (or StringLike without wildcards) sts:RoleSessionName ${aws:username} "
        "in a 2012-10-17 policy matches only when the session name is exactly the caller's "
        "IAM user name, and never for callers without one [VAR][OPS][KEYS].",
        "Nothing to fix.",
        "{statement} lets {principals} assume the role only with their own IAM user name as "
        "session name.",
    ),
    Finding(
        Code.ENFORCED_BY_DENY,
        "Session name forced by a Deny guard",
        Severity.INFORMATIONAL,
        "An explicit Deny overrides any Allow [EVAL]; StringNotEquals sts:RoleSessionName "
        "${aws:username} denies every caller whose session name differs and every caller "
        "without aws:username [OPS][KEYS].",
        "Nothing to fix; keep the Deny's scope covering every Allow.",
        "{deny} denies {principals} unless the session name is their IAM user name, covering "
        "{statement}.",
    ),
    Finding(
        Code.IF_EXISTS_EQUIVALENT,
        "IfExists on the session-name condition",
        Severity.INFORMATIONAL,
        "...IfExists is true when the key is absent [OPS]. RoleSessionName is mandatory in "
        "AssumeRole [ARAPI], so for sts:AssumeRole it behaves like the plain operator; it is "
        "weaker on request paths that lack the key.",
        "Prefer the plain operator (StringEquals).",
        "{statement} uses {operator}: equivalent here because AssumeRole always carries a "
        "session name, but prefer StringEquals.",
    ),
    Finding(
        Code.PUBLICLY_ASSUMABLE,
        "Publicly assumable",
        Severity.HIGH,
        'Principal {"AWS": "*"} (or "*") trusts every AWS account [PRIN]. With the '
        "session-name condition the role is compliant on paper, yet an IAM user of any "
        "account can assume it by choosing a session name equal to their own user name, "
        "which may be the same as one of yours.",
        "Replace the wildcard with your account(s), or add aws:PrincipalOrgID / "
        "aws:PrincipalAccount conditions.",
        "{statement} lets principals of any AWS account assume the role ({principals}).",
    ),
    Finding(
        Code.CROSS_ACCOUNT_UNPINNED,
        "Cross-account trust without an account pin",
        Severity.LOW,
        "IAM user names are unique only within an account [KEYS]; a session name alone does "
        "not say which account's user it is. Pin aws:PrincipalAccount or aws:PrincipalOrgID "
        "on cross-account trust.",
        "Add a condition on aws:PrincipalAccount (or aws:PrincipalOrgID) listing the trusted "
        "account(s).",
        "{statement} trusts principals of other accounts ({principals}) without an "
        "aws:PrincipalAccount or aws:PrincipalOrgID condition.",
    ),
    Finding(
        Code.FOR_ANY_VALUE_MISUSE,
        "Set operator on a single-valued key",
        Severity.LOW,
        "ForAnyValue/ForAllValues are meant for multivalued keys [SET]; sts:RoleSessionName is "
        "single-valued. ForAnyValue is false when the key is absent, so in a Deny it can stop "
        "the guard from applying.",
        "Use the operator without the set qualifier.",
        "{statement} uses {operator} on the single-valued key sts:RoleSessionName.",
    ),
    Finding(
        Code.OLD_OR_MISSING_VERSION,
        "Old or missing policy Version",
        Severity.LOW,
        'Without "Version": "2012-10-17" IAM uses the 2008-10-17 language, which does not '
        "substitute policy variables [VER][VAR].",
        'Set "Version": "2012-10-17".',
        "The policy Version is {version}; policy variables are not substituted.",
    ),
    Finding(
        Code.NOT_PRINCIPAL_IN_ALLOW,
        "NotPrincipal with Allow",
        Severity.MEDIUM,
        "NotPrincipal with Allow grants every principal except the listed ones, including "
        "anonymous and other accounts' principals [PRIN]; AWS recommends against it.",
        "Use Principal with the accounts or principals that may assume the role.",
        "{statement} uses NotPrincipal with Allow: every principal except {principals} is trusted.",
    ),
    Finding(
        Code.DUPLICATE_KEYS,
        "Duplicate JSON keys",
        Severity.MEDIUM,
        "IAM rejects duplicate keys when a policy is written, but stored and recorded "
        "documents contain them, and which copy applied is undocumented. The verdict is the "
        "worse of the first-wins and last-wins readings.",
        "Rewrite the policy without duplicate keys (fixed_policy does).",
        "The document repeats the key(s) {keys}; the verdict assumes the {reading} reading.",
    ),
    Finding(
        Code.UNEVALUATED_CONDITION,
        "Condition the evaluator cannot decide",
        Severity.INFORMATIONAL,
        "Conditions on keys or operators that do not involve the session name are not decided "
        "offline. AND-ed to an Allow they can only restrict it, so the verdict assumes they "
        "can be met; on a Deny they may not apply, so the guard is not relied on [OPS][EVAL].",
        "None needed; review the condition if the verdict depends on it.",
        "{statement} has {operator} on {key}, which is assumed satisfiable for an Allow and "
        "possibly false for a Deny.",
    ),
    Finding(
        Code.EXEMPT_SERVICE_LINKED,
        "Service-linked role",
        Severity.INFORMATIONAL,
        "Service-linked roles (path /aws-service-role/) are created and assumed by AWS "
        "services only; their trust policy cannot be edited [SLR].",
        "None.",
        "Service-linked role (path {path}): exempt from the rule.",
    ),
    Finding(
        Code.EXEMPT_IDENTITY_CENTER,
        "IAM Identity Center role",
        Severity.INFORMATIONAL,
        "IAM Identity Center provisions AWSReservedSSO_* roles under "
        "/aws-reserved/sso.amazonaws.com/, assumed through SAML; their sessions are "
        "attributed by Identity Center (onBehalfOf), not by a session name [SLR].",
        "None.",
        "IAM Identity Center role ({why}): exempt from the rule.",
    ),
    Finding(
        Code.EXEMPT_NON_AWS_PRINCIPALS,
        "Trusted only by services or identity providers",
        Severity.INFORMATIONAL,
        "Only AWS principals (IAM users, roles, accounts) can have aws:username; roles "
        "trusted only by Service or Federated principals can neither satisfy nor need the "
        "rule [KEYS][PRIN].",
        "None.",
        "Trusted only by {principals}: exempt from the rule.",
    ),
    Finding(
        Code.EXEMPT_CONFIGURED,
        "Exempted by configuration",
        Severity.INFORMATIONAL,
        "The role matches an exempt-role pattern of the plugin configuration.",
        "Remove the pattern to evaluate the role.",
        "Matches the configured exemption {pattern!r}: exempt from the rule (the policy "
        "itself evaluates as {policy_status}).",
    ),
    Finding(
        Code.MASQUERADING_NAME,
        "Role name imitates an AWS-managed role",
        Severity.HIGH,
        "AWS creates Identity Center roles (AWSReservedSSO_*) only under the path "
        "/aws-reserved/sso.amazonaws.com/ and service-linked roles (AWSServiceRoleFor*) only "
        "under /aws-service-role/; nobody else can create roles there [SLR]. The names are "
        "not reserved: anyone allowed iam:CreateRole can give a role such a name at another "
        "path, where it passes for an AWS-managed role in consoles, reviews and tools that "
        "trust the name. The role is judged on its trust policy like any other.",
        "Find out who created the role and why (CloudTrail CreateRole); delete it if nobody "
        "owns it, or rename it (create a new role) so it no longer imitates an AWS-managed "
        "role. Exempt AWS-managed roles by their reserved path, never by name.",
        "Role {name} imitates an AWS-managed {imitated} role, but its path {path} is not the "
        "reserved path {reserved} that AWS alone can create roles under; its trust policy "
        "evaluates as {policy_status}.",
    ),
    Finding(
        Code.UNPARSEABLE,
        "Trust policy cannot be read",
        Severity.MEDIUM,
        "The document is not a valid IAM policy, so how IAM treats it cannot be decided.",
        "Inspect the role's AssumeRolePolicyDocument and rewrite it as valid policy JSON.",
        "The trust policy cannot be read: {error}.",
    ),
    Finding(
        Code.NO_TRUST_POLICY,
        "No trust policy in the record",
        Severity.MEDIUM,
        "The role record carries no AssumeRolePolicyDocument (some API responses and "
        "recordings omit it), so the role cannot be evaluated from it.",
        "Fetch the role with iam:GetRole or iam:GetAccountAuthorizationDetails.",
        "The role record has no AssumeRolePolicyDocument.",
    ),
    Finding(
        Code.TOO_COMPLEX,
        "Trust policy too complex to decide in full",
        Severity.MEDIUM,
        "The evaluator tries witness requests (callers × session names) against every "
        "statement, within a fixed work bound so that no document can stall a scan. This "
        "document needs more requests than the bound allows [EVAL]; requests not tried "
        "cannot show that the rule holds, so it is not reported as enforced.",
        "Simplify the trust policy: fewer session-name values and principals per statement; "
        "the rule needs one condition, sts:RoleSessionName = ${aws:username}.",
        "Evaluation stopped after {work} work units (bound {budget}): the verdict is based "
        "on the requests tried so far.",
    ),
    Finding(
        Code.TOO_LARGE,
        "Trust policy larger than IAM allows",
        Severity.MEDIUM,
        "IAM accepts role trust policies of at most 2,048 characters by default, 8,192 when "
        "the quota is raised [QUOTA]. A larger document cannot be a role's "
        "trust policy as IAM stores it, so it is not evaluated.",
        "Check where the document came from; a real role's AssumeRolePolicyDocument is "
        "never this large.",
        "The trust policy has {size} characters; IAM allows at most {limit}: not evaluated.",
    ),
)

CATALOGUE: Final[Mapping[Code, Finding]] = {entry.code: entry for entry in _ENTRIES}


def finding(code: Code) -> Finding:
    """The catalogue entry of ``code``."""
    return CATALOGUE[code]


def render(code: Code, params: Mapping[str, str]) -> str:
    """The user-facing message of ``code`` filled with ``params``."""
    return CATALOGUE[code].message.format_map(params)
