"""The policies in docs/iam/, ready for a tenant, and a small evaluator for what the plugin calls.

* ``plugin_policy(mode, tenant)`` is ``docs/iam/plugin-policy.json`` with its placeholders
  filled in and only the statements the README keeps for that event source.
* ``for_moto(policy)`` adds what moto needs to authorize what AWS authorizes with the same
  policy: moto checks SQS batch calls under their own names (``sqs:DeleteMessageBatch``),
  AWS under the single-message action (SQS API reference: "the permission for
  DeleteMessageBatch is sqs:DeleteMessage"). Nothing else is changed.
* ``required_permission(call)`` maps one botocore call to the IAM action, resource and
  condition keys AWS evaluates for it; ``granting_statements`` evaluates Allow statements
  (Action/Resource wildcards, ``StringLike``/``StringEquals`` conditions) the way IAM does
  for the keys it sees. It is how calls moto cannot authorize (LookupEvents, stubbed) or
  authorizes too loosely (moto ignores conditions of identity policies, e.g. ``s3:prefix``)
  are checked against the policy text.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parents[2]
IAM_DIR = REPO_ROOT / "docs" / "iam"
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9_]{3,}\b")  # TRAIL_BUCKET, REGION, ... (not "AWS")

# The README's table: the statements of plugin-policy.json kept for each event source.
BASE = ("ReadRoleTrustPolicies", "DiscoverEnabledRegions")
MODE_STATEMENTS: dict[str, tuple[str, ...]] = {
    "none": BASE,
    "s3": (*BASE, "ListTrailBucket", "ReadTrailFiles"),
    "sqs": (*BASE, "ListTrailBucket", "ReadTrailFiles", "ReadTrailNotifications"),
    "lookup_events": (*BASE, "LookupCloudTrailEvents"),
}
# The member audit role's statements kept for each event source (LookupEvents reads every
# account; trail files and notifications are read once, in the plugin's own account).
MEMBER_STATEMENTS: dict[str, tuple[str, ...]] = {
    "none": ("ReadRoleTrustPolicies",),
    "s3": ("ReadRoleTrustPolicies",),
    "sqs": ("ReadRoleTrustPolicies",),
    "lookup_events": ("ReadRoleTrustPolicies", "LookupCloudTrailEvents"),
}
MOTO_BATCH_ALIASES = {
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}


@dataclass(frozen=True)
class Placeholders:
    """Values for the placeholders of the policy files."""

    account_id: str
    region: str = "us-east-1"
    trail_bucket: str = "TRAIL_BUCKET"
    trail_prefix: str = ""
    queue_name: str = "QUEUE_NAME"
    management_account_id: str = ""
    external_id: str = ""

    def fill(self, text: str) -> str:
        # "TRAIL_PREFIX/" disappears for a trail without a key prefix (README).
        prefix = f"{self.trail_prefix.strip('/')}/" if self.trail_prefix.strip("/") else ""
        values = {
            "TRAIL_PREFIX/": prefix,
            "TRAIL_BUCKET": self.trail_bucket,
            "QUEUE_NAME": self.queue_name,
            "MANAGEMENT_ACCOUNT_ID": self.management_account_id or self.account_id,
            "EXTERNAL_ID": self.external_id,
            "ACCOUNT_ID": self.account_id,
            "REGION": self.region,
        }
        for name, value in values.items():  # longest names first: ACCOUNT_ID is in another
            text = text.replace(name, value)
        return text


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((IAM_DIR / name).read_text("utf-8"))
    return document


def filled(name: str, values: Placeholders) -> dict[str, Any]:
    """The file with its placeholders replaced (see ``complete`` for what may be left)."""
    document: dict[str, Any] = json.loads(values.fill((IAM_DIR / name).read_text("utf-8")))
    return document


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document, after checking that no placeholder is left in it."""
    left = PLACEHOLDER.findall(json.dumps(document))
    if left:
        raise AssertionError(f"placeholders left after filling: {left}")
    return document


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return list(found) if isinstance(found, list) else [found]


def sids(document: Mapping[str, Any]) -> list[str]:
    return [str(s.get("Sid")) for s in statements(document)]


def keep(document: Mapping[str, Any], wanted: Iterable[str]) -> dict[str, Any]:
    """The document with only the statements named (in the file's order)."""
    names = set(wanted)
    missing = names - set(sids(document))
    if missing:
        raise AssertionError(f"statements {sorted(missing)} are not in the policy")
    kept = [s for s in statements(document) if s.get("Sid") in names]
    return {"Version": document["Version"], "Statement": copy.deepcopy(kept)}


def without(document: Mapping[str, Any], sid: str) -> dict[str, Any]:
    return keep(document, [s for s in sids(document) if s != sid])


def plugin_policy(mode: str, values: Placeholders) -> dict[str, Any]:
    return complete(keep(filled("plugin-policy.json", values), MODE_STATEMENTS[mode]))


def member_policy(mode: str, values: Placeholders) -> dict[str, Any]:
    document = filled("member-audit-role-permissions.json", values)
    return complete(keep(document, MEMBER_STATEMENTS[mode]))


def actions_of(statement: Mapping[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def for_moto(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document with moto's names of SQS batch calls added next to AWS's actions."""
    adapted = copy.deepcopy(dict(document))
    for statement in statements(adapted):
        actions = actions_of(statement)
        extra = [MOTO_BATCH_ALIASES[a] for a in actions if a in MOTO_BATCH_ALIASES]
        if extra:
            statement["Action"] = [*actions, *extra]
    adapted["Statement"] = statements(adapted)
    return adapted


# --------------------------------------------------------------------------- evaluation


def _wildcard(pattern: str, *, fold: bool) -> re.Pattern[str]:
    text = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(f"^{text}$", re.DOTALL | (re.IGNORECASE if fold else 0))


def _values(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, entries in condition.items():
        for key, expected in entries.items():
            actual = context.get(key)
            if actual is None:
                return False  # a positive operator on an absent key does not match
            if operator == "StringLike":
                ok = any(_wildcard(v, fold=False).match(actual) for v in _values(expected))
            elif operator == "StringEquals":
                ok = actual in _values(expected)
            else:
                raise NotImplementedError(f"condition operator {operator} in a plugin policy")
            if not ok:
                return False
    return True


def statement_allows(
    statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> bool:
    if statement.get("Effect") != "Allow" or "NotAction" in statement:
        raise AssertionError(f"plugin policies hold only Allow/Action statements: {statement}")
    if not any(_wildcard(a, fold=True).match(action) for a in actions_of(statement)):
        return False
    if not any(_wildcard(r, fold=False).match(resource) for r in _values(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition") or {}, context)


def granting_statements(
    document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]
) -> list[str]:
    """Sids of the statements that allow the request (empty: implicitly denied)."""
    return [
        str(s.get("Sid"))
        for s in statements(document)
        if statement_allows(s, action, resource, context)
    ]


# --------------------------------------------------------------------------- calls


@dataclass
class Call:
    """One botocore call the plugin made, as recorded by the client event hooks."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str
    principal: str  # "user" or the ARN of the assumed role
    status: int | None = None
    error_code: str = ""
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class Permission:
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


# Operations whose IAM action differs from "<service>:<operation>".
ACTION_OF = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
# Every operation this plugin is known to call. A new call fails the tests until it is
# added here and to the policy (or shown to need no permission).
KNOWN_OPERATIONS = frozenset(
    {
        "sts:GetCallerIdentity",
        "sts:AssumeRole",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListRoles",
        "iam:ListAttachedRolePolicies",
        "ec2:DescribeRegions",
        "organizations:ListAccounts",
        "s3:ListObjectsV2",
        "s3:GetObject",
        "s3:HeadObject",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:DeleteMessageBatch",
        "sqs:ChangeMessageVisibility",
        "sqs:ChangeMessageVisibilityBatch",
        "sqs:GetQueueAttributes",
        "cloudtrail:LookupEvents",
    }
)
NO_PERMISSION = frozenset({"sts:GetCallerIdentity"})  # AWS: always allowed


def queue_arn(queue_url: str, region: str) -> str:
    account, name = urlparse(queue_url).path.strip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def required_permission(call: Call) -> Permission | None:
    """What IAM authorizes for the call (None: nothing, e.g. sts:GetCallerIdentity)."""
    if call.name not in KNOWN_OPERATIONS:
        raise AssertionError(
            f"the plugin calls {call.name}, which no policy statement was written for: add it "
            "to KNOWN_OPERATIONS and to docs/iam/ (or remove the call)"
        )
    if call.name in NO_PERMISSION:
        return None
    action = ACTION_OF.get(call.name, call.name)
    params = call.params
    if call.service == "s3":
        if action == "s3:ListBucket":
            context = (("s3:prefix", str(params["Prefix"])),) if "Prefix" in params else ()
            return Permission(action, f"arn:aws:s3:::{params['Bucket']}", context)
        return Permission(action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")
    if call.service == "sqs":
        return Permission(action, queue_arn(str(params["QueueUrl"]), call.region))
    if call.name == "sts:AssumeRole":
        return Permission(action, str(params["RoleArn"]))
    return Permission(action, "*")  # services without resource-level permissions here
