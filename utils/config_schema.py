"""JSON Schema of each configuration step, derived from the manifest, and admin-facing messages.

The manifest defines the fields (type, choices, mandatory); ``FIELD_RULES`` adds the
constraints a manifest cannot express (formats, ranges) and the fix to suggest; cross-field
requirements live in ``CONDITIONAL_RULES``. jsonschema's own messages quote the offending
value, which could be a secret pasted into the wrong field, so every error is rewritten as
"<Label>: <problem>. <fix>", showing at most ``redaction.excerpt`` of a value (its first few
characters and its length; only its shape when it looks like key material), and nothing of
a password field.

Values are read with ``.get`` (CE resolves Secrets-Manager references only there), text is
trimmed as the plugin trims it, and a value longer than its field allows is reported
before any pattern runs, so validation time is bounded whatever is pasted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from .constants import MANIFEST
from .redaction import excerpt

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$"
ARN_PARTITION = r"arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?"
RA_ARN = r"^\s*(" + ARN_PARTITION + r":rolesanywhere:[a-z0-9-]+:\d{{12}}:{kind}/\S+)?\s*$"


@dataclass(frozen=True)
class FieldRule:
    """Extra JSON Schema keywords for one field and the hint shown when they fail."""

    schema: Mapping[str, Any]
    hint: str


FIELD_RULES: dict[tuple[str, str], FieldRule] = {
    ("aws", "access_key_id"): FieldRule(
        {"pattern": r"^\s*([A-Z0-9]{16,128})?\s*$"},
        "Enter the 20-character access key ID (starts with AKIA) of the IAM user.",
    ),
    ("aws", "role_arn"): FieldRule(
        {"pattern": rf"^\s*({ARN_PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]+)?\s*$"},
        "Enter a role ARN such as arn:aws:iam::123456789012:role/RoleSessionAuditor, or leave "
        "it empty.",
    ),
    ("aws", "external_id"): FieldRule(
        {"pattern": r"^\s*([\w+=,.@:/-]{2,1224})?\s*$"},
        "An External ID is 2 to 1224 characters of letters, digits and +=,.@:/-_.",
    ),
    ("aws", "ra_trust_anchor_arn"): FieldRule(
        {"pattern": RA_ARN.format(kind="trust-anchor")},
        "Copy the trust anchor's ARN from the IAM Roles Anywhere console.",
    ),
    ("aws", "ra_profile_arn"): FieldRule(
        {"pattern": RA_ARN.format(kind="profile")},
        "Copy the profile's ARN from the IAM Roles Anywhere console.",
    ),
    ("aws", "ra_role_arn"): FieldRule(
        {"pattern": rf"^\s*({ARN_PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]+)?\s*$"},
        "Enter the ARN of a role listed in the profile.",
    ),
    ("aws", "ra_session_duration_seconds"): FieldRule(
        {"minimum": 900, "maximum": 43200}, "Enter a whole number of seconds from 900 to 43200."
    ),
    ("aws", "regions"): FieldRule(
        {"pattern": r"^[\sa-z0-9,-]*$"},
        "Enter Region codes separated by commas, e.g. us-east-1, eu-west-1, or leave it empty "
        "for all enabled Regions.",
    ),
    ("aws", "member_role_name"): FieldRule(
        {"pattern": r"^\s*([\w+=,.@-]{1,64})?\s*$"},
        "Enter the role name only (not an ARN), e.g. RoleSessionAuditor.",
    ),
    ("cloudtrail", "bucket_name"): FieldRule(
        {"pattern": r"^\s*([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?\s*$"},
        "Enter the bucket name only (3-63 lowercase letters, digits, dots and hyphens), not "
        "an s3:// URL or ARN.",
    ),
    ("cloudtrail", "sqs_queue_url"): FieldRule(
        {"pattern": r"^\s*(https?://[^\s/]+/\d{12}/[\w-]{1,80}(\.fifo)?)?\s*$"},
        "Copy the queue URL from the SQS console, e.g. "
        "https://sqs.us-east-1.amazonaws.com/123456789012/cloudtrail-notifications.",
    ),
    ("cloudtrail", "lookback_hours"): FieldRule(
        {"minimum": 1, "maximum": 2160}, "Enter a whole number of hours from 1 to 2160 (90 days)."
    ),
    ("cloudtrail", "poll_interval_seconds"): FieldRule(
        {"minimum": 30, "maximum": 3600},
        "Enter this configuration's polling interval in Cloud Exchange, in whole seconds from "
        "30 to 3600.",
    ),
    ("cloudtrail", "index_budget_mb"): FieldRule(
        {"minimum": 1, "maximum": 64}, "Enter a whole number of megabytes from 1 to 64."
    ),
    ("rule", "alert_kinds"): FieldRule({"minItems": 1}, "Select at least one alert kind."),
    ("rule", "sensitive_actions"): FieldRule(
        {"pattern": r"^[\sA-Za-z0-9:*?,-]*$"},
        "Enter action patterns such as s3:GetObject, iam:*, kms:Decrypt separated by commas.",
    ),
    ("rule", "posture_interval_minutes"): FieldRule(
        {"minimum": 5, "maximum": 1440}, "Enter a whole number of minutes from 5 to 1440."
    ),
    ("rule", "aggregation_window_minutes"): FieldRule(
        {"minimum": 1, "maximum": 1440}, "Enter a whole number of minutes from 1 to 1440."
    ),
    ("rule", "max_alerts_per_pull"): FieldRule(
        {"minimum": 10, "maximum": 10000}, "Enter a whole number from 10 to 10000."
    ),
    ("splunk", "hec_url"): FieldRule(
        {"pattern": r"^\s*(https?://[^\s/?#]+(/[^\s?#]*)?)?\s*$"},
        "Enter the collector's base URL, e.g. https://splunk.example.com:8088, or leave it "
        "empty to disable Splunk delivery.",
    ),
    ("splunk", "index"): FieldRule(
        {"pattern": r"^\s*([A-Za-z0-9_][A-Za-z0-9_-]{0,79})?\s*$"},
        "Enter an index name the token may write to, or leave it empty for the token's "
        "default index.",
    ),
}

# (step, JSON Schema "if" on the step, fields then required non-empty, explanation)
CONDITIONAL_RULES: tuple[tuple[str, Mapping[str, Any], tuple[str, ...], str], ...] = (
    (
        "aws",
        {"properties": {"authentication_method": {"const": "access_keys"}}},
        ("access_key_id", "secret_access_key"),
        "when Authentication Method is 'Access keys'",
    ),
    (
        "aws",
        {"properties": {"authentication_method": {"const": "iam_roles_anywhere"}}},
        (
            "ra_certificate",
            "ra_private_key",
            "ra_trust_anchor_arn",
            "ra_profile_arn",
            "ra_role_arn",
        ),
        "when Authentication Method is 'IAM Roles Anywhere'",
    ),
    (
        "aws",
        {"properties": {"account_scope": {"const": "organization"}}},
        ("member_role_name",),
        "when Account Scope is 'All accounts of the AWS Organization'",
    ),
    (
        "cloudtrail",
        {"properties": {"source": {"enum": ["s3", "sqs"]}}},
        ("bucket_name",),
        "when Event Source is the S3 trail bucket or its SQS notifications",
    ),
    (
        "cloudtrail",
        {"properties": {"source": {"const": "sqs"}}},
        ("sqs_queue_url",),
        "when Event Source is SQS notifications",
    ),
    (
        "rule",
        {"properties": {"activity_scope": {"const": "sensitive"}}},
        ("sensitive_actions",),
        "when Activity Scope is 'Sensitive actions only'",
    ),
    (
        "splunk",
        {"required": ["hec_url"], "properties": {"hec_url": {"pattern": r"\S"}}},
        ("hec_token",),
        "when HEC URL is set",
    ),
)

_TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "password": {"type": "string"},
    "textarea": {"type": "string"},
    "number": {"type": "integer"},
    "boolean": {"type": "boolean"},
}


def _steps() -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in MANIFEST["configuration"]}


def _field_schema(step: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = spec["type"]
    choices = [c["value"] for c in spec.get("choices", [])]
    if kind == "choice":
        schema: dict[str, Any] = {"type": "string", "enum": choices}
    elif kind == "multichoice":
        schema = {"type": "array", "items": {"type": "string", "enum": choices}}
    else:
        schema = dict(_TYPE_SCHEMAS[kind])
    if spec.get("mandatory") and kind in ("text", "password", "textarea"):
        schema["pattern"] = r"\S"
    rule = FIELD_RULES.get((step, spec["key"]))
    if rule is not None:
        schema.update(rule.schema)
    return schema


def step_schema(step: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one configuration step."""
    spec = _steps()[step]
    fields = spec.get("fields", [])
    conditions = [
        {
            "if": condition,
            "then": {
                "required": list(required),
                "properties": {key: {"type": "string", "pattern": r"\S"} for key in required},
            },
        }
        for rule_step, condition, required, _ in CONDITIONAL_RULES
        if rule_step == step
    ]
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec["label"],
        "type": "object",
        "properties": {f["key"]: _field_schema(step, f) for f in fields},
        "required": [f["key"] for f in fields if f.get("mandatory")],
    }
    if conditions:
        schema["allOf"] = conditions
    return schema


def _field(step: str, key: str) -> Mapping[str, Any]:
    for spec in _steps()[step].get("fields", []):
        if spec["key"] == key:
            found: Mapping[str, Any] = spec
            return found
    return {"key": key, "label": key, "type": "text"}


def _describe(step: str, error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        # jsonschema reports each missing property separately: "'<key>' is a required property"
        named = re.match(r"^'([^']+)' is a required property", error.message)
        required = [str(k) for k in error.validator_value or ()]  # type: ignore[union-attr]
        return _missing(step, named.group(1) if named else required[0], error)
    path = [p for p in error.absolute_path if isinstance(p, str)]
    if not path:
        return f"{_steps()[step]['label']}: the step's values must be an object of fields."
    key = path[0]
    if error.schema_path and "then" in error.schema_path:
        return _missing(step, key, error)
    spec = _field(step, key)
    label = spec.get("label", key)
    secret = spec.get("type") == "password"
    shown = ""
    if isinstance(error.instance, int) and not secret:
        shown = f" ({error.instance})"
    elif isinstance(error.instance, str) and not secret:
        shown = f" {excerpt(error.instance)}"

    rule = FIELD_RULES.get((step, key))
    if error.validator == "type":
        expected = {"integer": "a whole number", "string": "text", "array": "a list"}.get(
            str(error.validator_value), str(error.validator_value)
        )
        problem = f"must be {expected}"
    elif error.validator == "enum":
        allowed = ", ".join(f"'{c['key']}'" for c in spec.get("choices", []))
        problem = f"value{shown} is not one of the choices {allowed}"
    elif error.validator in ("minimum", "maximum"):
        problem = f"value{shown} is out of range"
    elif error.validator == "minItems":
        problem = "has nothing selected"
    elif error.validator == "pattern" and error.validator_value == r"\S":
        problem = "is required"
    else:
        problem = f"value{shown} is not valid"
    hint = f" {rule.hint}" if rule else ""
    return f"{label}: {problem}.{hint}"


def _missing(step: str, key: str, error: jsonschema.ValidationError) -> str:
    label = _field(step, key).get("label", key)
    for rule_step, _, required, when in CONDITIONAL_RULES:
        if rule_step == step and key in required and "then" in error.schema_path:
            return f"{label} is required {when}."
    return f"{label} is required."


# Longest value a field accepts, by manifest type (characters, after trimming). PEM text
# (certificate chains, private keys) is the longest legitimate input.
MAX_LENGTH: dict[str, int] = {"text": 2048, "password": 65536, "textarea": 65536}  # nosec B105: lengths
MAX_LENGTH_OF_FIELD: dict[tuple[str, str], int] = {("rule", "sensitive_actions"): 8192}
_ABSENT: Any = object()


def step_values(step: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The step's manifest fields as ``values`` holds them, read one by one with ``.get``
    (never ``.items()`` or ``dict()``: CE resolves Secrets-Manager references only in
    ``[]``/``.get``); text trimmed, as ``PluginConfig`` uses it."""
    read: dict[str, Any] = {}
    for spec in _steps()[step].get("fields", []):
        value = values.get(spec["key"], _ABSENT)
        if value is _ABSENT:
            continue
        read[spec["key"]] = value.strip() if isinstance(value, str) else value
    return read


def _too_long(step: str, values: Mapping[str, Any]) -> list[str]:
    errors = []
    for spec in _steps()[step].get("fields", []):
        value = values.get(spec["key"])
        limit = MAX_LENGTH_OF_FIELD.get((step, spec["key"]), MAX_LENGTH.get(spec["type"]))
        if isinstance(value, str) and limit is not None and len(value) > limit:
            errors.append(
                f"{spec['label']}: the value is too long ({len(value):,} characters; at most "
                f"{limit:,}). Check that the right value was pasted into this field."
            )
    return errors


def schema_errors(step: str, values: Mapping[str, Any]) -> list[str]:
    """Admin-facing messages for every schema violation of ``values`` (empty when valid)."""
    too_long = _too_long(step, values)
    if too_long:
        return too_long
    read = step_values(step, values)
    validator = jsonschema.Draft202012Validator(step_schema(step))
    errors = sorted(validator.iter_errors(read), key=lambda e: list(e.absolute_path))
    return [_describe(step, e) for e in errors]


def known_step(step: str) -> bool:
    """Whether ``step`` is one of the manifest's configuration steps."""
    return step in _steps()
