"""``validate_step``: the schema check, then live probes of the resources a step names.

Each failure message names the field and the fix (the missing IAM permission, the wrong
bucket) and never a secret value. Probes are cheap read calls: sts:GetCallerIdentity,
one-key bucket listings, queue attributes, a one-result LookupEvents, the HEC health
endpoint and token check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws_session import BotoClientFactory, aws_error_code, describe_aws_error
from .config import (
    SCOPE_ORGANIZATION,
    SOURCE_LOOKUP,
    SOURCE_S3,
    SOURCE_SQS,
    PluginConfig,
    split_list,
)
from .config_schema import REGION_PATTERN, schema_errors
from .exceptions import ConfigurationError
from .redaction import redact

ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AWS.SimpleQueueService.AccessDenied",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    }
)


@dataclass(frozen=True)
class StepResult:
    success: bool
    message: str


OK = StepResult(True, "Validation successful.")
FactoryBuilder = Callable[[PluginConfig], BotoClientFactory]
HecProbe = Callable[[PluginConfig], None]


class StepValidator:
    """Validates one step of the configuration (schema first, then live probes)."""

    def __init__(self, factory_builder: FactoryBuilder, hec_probe: HecProbe | None) -> None:
        self._factory_builder = factory_builder
        self._hec_probe = hec_probe

    def validate(self, step: str, configuration: Mapping[str, Any]) -> StepResult:
        values = configuration.get(step)
        if not isinstance(values, Mapping):
            return StepResult(False, f"The '{step}' step is missing from the configuration.")
        errors = schema_errors(step, values) + _extra_errors(step, values)
        config = PluginConfig.from_configuration(configuration)
        if errors:
            return StepResult(False, redact(errors[0], config.secrets))
        probe = {
            "aws": self._probe_aws,
            "cloudtrail": self._probe_cloudtrail,
            "rule": lambda _c: None,
            "splunk": self._probe_splunk,
        }.get(step)
        if probe is None:
            return StepResult(False, f"Unknown configuration step '{step}'.")
        try:
            probe(config)
        except ConfigurationError as error:
            return StepResult(False, redact(str(error), config.secrets))
        return OK

    def _probe_aws(self, config: PluginConfig) -> None:
        factory = self._factory_builder(config)
        _ = factory.account_id  # sts:GetCallerIdentity (and AssumeRole when configured)
        _check_regions(factory, config.aws.regions)
        if config.aws.account_scope == SCOPE_ORGANIZATION:
            try:
                factory.client("organizations").list_accounts(MaxResults=1)
            except (ClientError, BotoCoreError) as error:
                raise ConfigurationError(
                    "Account Scope: listing the organization's accounts failed "
                    f"({describe_aws_error(error)}). Run the plugin with credentials of the "
                    "management account or a delegated administrator that has "
                    "organizations:ListAccounts, or choose 'This account only'."
                ) from None

    def _probe_cloudtrail(self, config: PluginConfig) -> None:
        source = config.cloudtrail.source
        if source not in (SOURCE_S3, SOURCE_SQS, SOURCE_LOOKUP):
            return
        factory = self._factory_builder(config)
        if source in (SOURCE_S3, SOURCE_SQS):
            _probe_bucket(factory, config.cloudtrail.bucket_name, config.cloudtrail.bucket_prefix)
        if source == SOURCE_SQS:
            _probe_queue(factory, config.cloudtrail.sqs_queue_url)
        if source == SOURCE_LOOKUP:
            try:
                factory.client("cloudtrail").lookup_events(MaxResults=1)
            except (ClientError, BotoCoreError) as error:
                raise ConfigurationError(
                    f"Event Source: CloudTrail LookupEvents failed ({describe_aws_error(error)})."
                    " Grant cloudtrail:LookupEvents to the plugin's principal."
                ) from None

    def _probe_splunk(self, config: PluginConfig) -> None:
        if config.splunk.enabled and self._hec_probe is not None:
            self._hec_probe(config)


def _extra_errors(step: str, values: Mapping[str, Any]) -> list[str]:
    """Checks on list-valued text fields that a regular expression cannot name precisely."""
    errors: list[str] = []
    if step == "aws":
        bad = [r for r in split_list(values.get("regions")) if not re.match(REGION_PATTERN, r)]
        if bad:
            errors.append(
                f"Regions: '{bad[0]}' is not an AWS Region code. Use codes such as us-east-1 "
                "or eu-west-1, separated by commas."
            )
    if step == "rule":
        pattern = re.compile(r"^(\*|[a-z0-9*?-]+:[A-Za-z0-9*?]+)$", re.IGNORECASE)
        bad = [a for a in split_list(values.get("sensitive_actions")) if not pattern.match(a)]
        if bad:
            errors.append(
                f"Sensitive Actions: '{bad[0]}' is not an action pattern. Use service:Action "
                "with optional * or ? wildcards, e.g. s3:GetObject or iam:*."
            )
    return errors


def _check_regions(factory: BotoClientFactory, regions: tuple[str, ...]) -> None:
    try:
        described = factory.client("ec2").describe_regions(AllRegions=True)["Regions"]
    except (ClientError, BotoCoreError) as error:
        if regions and aws_error_code(error) in ACCESS_DENIED:
            return  # explicit Regions need no discovery
        raise ConfigurationError(
            f"Regions: discovering enabled Regions failed ({describe_aws_error(error)}). Grant "
            "ec2:DescribeRegions to the plugin's principal, or list the Regions explicitly."
        ) from None
    status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in described}
    for region in regions:
        if region not in status:
            raise ConfigurationError(
                f"Regions: '{region}' is not a Region of this AWS partition. Check the spelling."
            )
        if status[region] == "not-opted-in":
            raise ConfigurationError(
                f"Regions: '{region}' is not enabled in this account. Enable it in the AWS "
                "console (Account > AWS Regions) or remove it from the list."
            )


def _probe_bucket(factory: BotoClientFactory, bucket: str, prefix: str) -> None:
    logs_prefix = f"{prefix}/AWSLogs/" if prefix else "AWSLogs/"
    try:
        factory.client("s3").list_objects_v2(Bucket=bucket, Prefix=logs_prefix, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        code = aws_error_code(error)
        if code == "NoSuchBucket":
            raise ConfigurationError(
                f"Trail Bucket Name: bucket '{bucket}' does not exist. Enter the name of the "
                "bucket your trail delivers to (CloudTrail console > Trails > S3 bucket)."
            ) from None
        if code in ACCESS_DENIED:
            raise ConfigurationError(
                f"Trail Bucket Name: listing bucket '{bucket}' was denied. Grant s3:ListBucket "
                f"on arn:aws:s3:::{bucket} and s3:GetObject on arn:aws:s3:::{bucket}/* to the "
                "plugin's principal (and check the bucket policy)."
            ) from None
        raise ConfigurationError(
            f"Trail Bucket Name: bucket '{bucket}' could not be read ({describe_aws_error(error)})."
        ) from None


def queue_region(queue_url: str, default: str | None = None) -> str | None:
    """The Region in an SQS queue URL (``https://sqs.<region>.amazonaws.com/...``)."""
    match = re.match(r"^https?://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", queue_url)
    if match:
        return match.group(1)
    match = re.match(r"^https?://([a-z0-9-]+)\.queue\.amazonaws\.com", queue_url)
    return match.group(1) if match else default


def _probe_queue(factory: BotoClientFactory, queue_url: str) -> None:
    try:
        factory.client("sqs", queue_region(queue_url)).get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )
    except (ClientError, BotoCoreError) as error:
        code = aws_error_code(error)
        if "NonExistentQueue" in code or code == "QueueDoesNotExist":
            raise ConfigurationError(
                f"SQS Queue URL: queue {queue_url} does not exist. Copy the URL of the queue "
                "that receives the trail bucket's notifications from the SQS console."
            ) from None
        if code in ACCESS_DENIED:
            raise ConfigurationError(
                f"SQS Queue URL: reading queue {queue_url} was denied. Grant "
                "sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and "
                "sqs:GetQueueAttributes on it to the plugin's principal."
            ) from None
        raise ConfigurationError(
            f"SQS Queue URL: queue {queue_url} could not be read ({describe_aws_error(error)})."
        ) from None
