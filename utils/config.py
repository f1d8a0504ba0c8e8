"""Typed view of ``self.configuration`` (keyed by manifest step), with manifest defaults applied.

CE hands the plugin a mapping of step mappings; everything downstream reads these frozen
dataclasses instead, so field names and defaults live in one place (the manifest) and
secrets are kept out of ``repr`` (a config object can end up in a traceback or a debug log).

CE resolves Secrets-Manager references (``secret:<name>``, ``plain:<value>``) only when a
value is read with ``[]`` or ``.get()``; iterating, ``.items()``, ``.values()``, ``dict()``
or ``**`` see the reference itself. So every value is read here, one manifest key at a
time, with ``.get()``, and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .constants import MANIFEST
from .roles_anywhere import RolesAnywhereSettings
from .trust.wildcard import glob_match

AUTH_DEFAULT_CHAIN = "deployed_on_aws"
AUTH_ACCESS_KEYS = "access_keys"
AUTH_ROLES_ANYWHERE = "iam_roles_anywhere"
SCOPE_SINGLE = "single_account"
SCOPE_ORGANIZATION = "organization"
SOURCE_S3 = "s3"
SOURCE_SQS = "sqs"
SOURCE_LOOKUP = "lookup_events"
SOURCE_NONE = "none"
# Share of CE's polling interval one pull may spend reading CloudTrail.
PULL_BUDGET_FRACTION = 0.75


def manifest_defaults() -> dict[str, dict[str, Any]]:
    """``{step: {key: default}}`` from the manifest."""
    return {
        step["name"]: {f["key"]: f.get("default") for f in step.get("fields", [])}
        for step in MANIFEST["configuration"]
    }


_DEFAULTS = manifest_defaults()


def _step(configuration: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """The step's manifest fields, each read with ``.get`` (see the module docstring); a
    field CE does not hold, or holds as None, takes the manifest default."""
    defaults = _DEFAULTS.get(name, {})
    given = configuration.get(name) if configuration is not None else None
    if given is None or not hasattr(given, "get"):
        return dict(defaults)
    values: dict[str, Any] = {}
    for key, default in defaults.items():
        value = given.get(key)
        values[key] = default if value is None else value
    return values


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def split_list(value: Any) -> tuple[str, ...]:
    """Comma- or newline-separated text (or a list) as a tuple of non-empty trimmed items."""
    items = value if isinstance(value, list | tuple) else re.split(r"[,\n]", _text(value))
    return tuple(s for s in (str(i).strip() for i in items) if s)


@dataclass(frozen=True)
class AwsConfig:
    authentication_method: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    role_arn: str
    external_id: str = field(repr=False)
    regions: tuple[str, ...]
    account_scope: str
    member_role_name: str
    roles_anywhere: RolesAnywhereSettings | None = field(default=None, repr=False)

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> AwsConfig:
        return cls(
            authentication_method=_text(values.get("authentication_method")) or AUTH_DEFAULT_CHAIN,
            access_key_id=_text(values.get("access_key_id")),
            secret_access_key=_text(values.get("secret_access_key")),
            role_arn=_text(values.get("role_arn")),
            external_id=_text(values.get("external_id")),
            regions=split_list(values.get("regions")),
            account_scope=_text(values.get("account_scope")) or SCOPE_SINGLE,
            member_role_name=_text(values.get("member_role_name")),
            roles_anywhere=(
                RolesAnywhereSettings.from_step(values)
                if _text(values.get("authentication_method")) == AUTH_ROLES_ANYWHERE
                else None
            ),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        values = [self.secret_access_key, self.external_id]
        if self.roles_anywhere is not None:
            values.extend(self.roles_anywhere.secrets)
        return tuple(s for s in values if s)


@dataclass(frozen=True)
class CloudTrailConfig:
    source: str
    bucket_name: str
    bucket_prefix: str
    sqs_queue_url: str
    lookback_hours: int
    index_budget_mb: int
    poll_interval_seconds: int = 60

    @property
    def pull_budget_seconds(self) -> float:
        """How long one pull may read CloudTrail: three quarters of CE's polling interval,
        so a pull that meets a backlog still returns (and commits) before the next is due."""
        return PULL_BUDGET_FRACTION * self.poll_interval_seconds

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> CloudTrailConfig:
        return cls(
            source=_text(values.get("source")) or SOURCE_S3,
            bucket_name=_text(values.get("bucket_name")),
            bucket_prefix=_text(values.get("bucket_prefix")).strip("/"),
            sqs_queue_url=_text(values.get("sqs_queue_url")),
            lookback_hours=int(values.get("lookback_hours") or 24),
            index_budget_mb=int(values.get("index_budget_mb") or 8),
            poll_interval_seconds=int(values.get("poll_interval_seconds") or 60),
        )


@dataclass(frozen=True)
class RuleConfig:
    alert_kinds: frozenset[str]
    activity_scope: str
    sensitive_actions: tuple[str, ...]
    exempt_role_patterns: tuple[str, ...]
    posture_interval_minutes: int
    aggregation_window_minutes: int
    max_alerts_per_pull: int

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> RuleConfig:
        return cls(
            alert_kinds=frozenset(split_list(values.get("alert_kinds"))),
            activity_scope=_text(values.get("activity_scope")) or "all",
            sensitive_actions=split_list(values.get("sensitive_actions")),
            exempt_role_patterns=split_list(values.get("exempt_role_patterns")),
            posture_interval_minutes=int(values.get("posture_interval_minutes") or 60),
            aggregation_window_minutes=int(values.get("aggregation_window_minutes") or 60),
            max_alerts_per_pull=int(values.get("max_alerts_per_pull") or 1000),
        )

    def is_sensitive(self, action: str) -> bool:
        """Whether ``service:Action`` matches a configured pattern (case-insensitive globs)."""
        action = action.lower()
        return any(glob_match(p.lower(), action) for p in self.sensitive_actions)


@dataclass(frozen=True)
class SplunkConfig:
    hec_url: str
    hec_token: str = field(repr=False)
    index: str
    sourcetype: str
    use_ack: bool

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> SplunkConfig:
        return cls(
            hec_url=_text(values.get("hec_url")).rstrip("/"),
            hec_token=_text(values.get("hec_token")),
            index=_text(values.get("index")),
            sourcetype=_text(values.get("sourcetype")) or "netskope:ce:aws:rolesession",
            use_ack=_text(values.get("use_ack")) == "yes",
        )

    @property
    def enabled(self) -> bool:
        return bool(self.hec_url)


@dataclass(frozen=True)
class PluginConfig:
    aws: AwsConfig
    cloudtrail: CloudTrailConfig
    rule: RuleConfig
    splunk: SplunkConfig

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> PluginConfig:
        return cls(
            aws=AwsConfig.from_step(_step(configuration, "aws")),
            cloudtrail=CloudTrailConfig.from_step(_step(configuration, "cloudtrail")),
            rule=RuleConfig.from_step(_step(configuration, "rule")),
            splunk=SplunkConfig.from_step(_step(configuration, "splunk")),
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret value, for redaction."""
        return (*self.aws.secrets, *((self.splunk.hec_token,) if self.splunk.hec_token else ()))
