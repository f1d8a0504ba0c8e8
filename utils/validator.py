"""``validate_step``: the schema check, then live probes of the resources a step names.

Each failure message names the field and the fix (the missing IAM permission and the
statement of the README's least-privilege policy that grants it, the wrong bucket) and never
a secret value. Probes are cheap read calls that change nothing:

* AWS Tenant: sts:GetCallerIdentity; ec2:DescribeRegions; one role of
  iam:GetAccountAuthorizationDetails (iam:ListRoles as the fallback the posture pull also
  uses); in Organizations mode organizations:ListAccounts, then the member audit role of a
  few member accounts (sts:AssumeRole, and the role's own iam:GetAccountAuthorizationDetails);
* Event Source: a one-key listing under ``<prefix>/AWSLogs/`` (s3:ListBucket) and a one-byte
  read of a trail object (s3:GetObject; a missing key answers NoSuchKey only when the read is
  allowed); the queue's attributes (sqs:GetQueueAttributes), and sqs:DeleteMessage and
  sqs:ChangeMessageVisibility called with a receipt handle that cannot name a message (AWS
  authorizes before it reads the handle, so these answer AccessDenied or
  ReceiptHandleIsInvalid and touch nothing); a one-result LookupEvents (in every reachable
  member account too in Organizations mode);
* Splunk: the HEC health endpoint and token check.

sqs:ReceiveMessage is deliberately not probed: receiving counts towards the queue's
redrive ``maxReceiveCount`` even when nothing is processed. A pull reports its denial.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws_session import BotoClientFactory, aws_error_code, describe_aws_error
from .config import (
    SCOPE_ORGANIZATION,
    SOURCE_LOOKUP,
    SOURCE_S3,
    SOURCE_SQS,
    AwsConfig,
    PluginConfig,
    split_list,
)
from .config_schema import REGION_PATTERN, known_step, schema_errors
from .exceptions import AwsAuthError, ConfigurationError
from .readers.layout import logs_root
from .readers.sqs_notifications import queue_region
from .readers.trail_size import LARGE_TRAIL_FOLDERS, TrailSize, estimate_trail_size
from .redaction import excerpt, mask_key_material, redact
from .text import inert

ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AWS.SimpleQueueService.AccessDenied",
        "KMS.AccessDeniedException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "403",  # S3 HEAD and some query-protocol errors carry only the HTTP status
        "Forbidden",
    }
)
NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})
# Never a real receipt handle: SQS rejects it after authorizing the call.
PROBE_RECEIPT_HANDLE = "aws-rsi-permission-probe"
# Member accounts whose audit role the AWS Tenant step tries (one success is enough: a
# rollout in progress must not block the configuration; a pull reports the rest).
MEMBER_PROBES = 3

OK_MESSAGE = "Validation successful."
POLICY = "the README's least-privilege IAM policy"
ORGANIZATIONS_POLICY = "the README's Organizations policy"
MEMBER_POLICY = "the README's member audit role permissions"


def statement(sid: str, policy: str = POLICY) -> str:
    """How a message names the policy statement that grants a permission."""
    return f"statement {sid} of {policy}"


@dataclass(frozen=True)
class StepResult:
    success: bool
    message: str


OK = StepResult(True, OK_MESSAGE)
MESSAGE_CAP = 1024


def safe_message(text: str, secrets: tuple[str, ...]) -> str:
    """A message for the admin and CE's log: no configured secret, nothing shaped like key
    material, one inert bounded line."""
    return inert(mask_key_material(redact(text, secrets)), MESSAGE_CAP)


FactoryBuilder = Callable[[PluginConfig], BotoClientFactory]
HecProbe = Callable[[PluginConfig], None]


class StepValidator:
    """Validates one step of the configuration (schema first, then live probes)."""

    def __init__(self, factory_builder: FactoryBuilder, hec_probe: HecProbe | None) -> None:
        self._factory_builder = factory_builder
        self._hec_probe = hec_probe

    def validate(self, step: str, configuration: Mapping[str, Any]) -> StepResult:
        """The step's result. A step the manifest does not declare succeeds: CE validates
        every key it holds, including its own (CE 6's ``mapping_config``), as the official
        plugins do."""
        if not known_step(step):
            return OK
        values = configuration.get(step)
        if not isinstance(values, Mapping):
            return StepResult(
                False, f"The '{inert(step, 64)}' step is missing from the configuration."
            )
        errors = schema_errors(step, values) + _extra_errors(step, values)
        config = PluginConfig.from_configuration(configuration)
        if errors:
            return StepResult(False, safe_message(errors[0], config.secrets))
        probe = {
            "aws": self._probe_aws,
            "cloudtrail": self._probe_cloudtrail,
            "rule": lambda _c: None,
            "splunk": self._probe_splunk,
        }[step]
        try:
            advice = probe(config)
        except ConfigurationError as error:
            return StepResult(False, safe_message(str(error), config.secrets))
        return StepResult(True, safe_message(advice, config.secrets)) if advice else OK

    def _probe_aws(self, config: PluginConfig) -> None:
        factory = self._factory_builder(config)
        _ = factory.account_id  # sts:GetCallerIdentity (and AssumeRole when configured)
        _check_regions(factory, config.aws.regions)
        _check_role_listing(factory)
        if config.aws.account_scope == SCOPE_ORGANIZATION:
            try:
                factory.client("organizations").list_accounts(MaxResults=1)
            except (ClientError, BotoCoreError) as error:
                raise ConfigurationError(
                    "Account Scope: listing the organization's accounts failed "
                    f"({describe_aws_error(error)}). Run the plugin with credentials of the "
                    "management account or a delegated administrator that has "
                    "organizations:ListAccounts "
                    f"({statement('ListMemberAccounts', ORGANIZATIONS_POLICY)}), "
                    "or choose 'This account only'."
                ) from None
            _check_member_roles(factory, config.aws)

    def _probe_cloudtrail(self, config: PluginConfig) -> str | None:
        """Raises what blocks the step; returns advice that does not (a large S3 trail)."""
        source = config.cloudtrail.source
        if source not in (SOURCE_S3, SOURCE_SQS, SOURCE_LOOKUP):
            return None
        factory = self._factory_builder(config)
        trail = config.cloudtrail
        if source in (SOURCE_S3, SOURCE_SQS):
            _probe_bucket(factory, trail.bucket_name, trail.bucket_prefix)
        if source == SOURCE_S3:
            size = estimate_trail_size(
                factory.client("s3"), trail.bucket_name, trail.bucket_prefix, config.aws.regions
            )
            if size is not None and size.large:
                return _large_trail_advice(size)
        if source == SOURCE_SQS:
            _probe_queue(factory, config.cloudtrail.sqs_queue_url)
        if source == SOURCE_LOOKUP:
            _probe_lookup(factory)
            if config.aws.account_scope == SCOPE_ORGANIZATION:
                _probe_member_lookup(factory, config.aws)
        return None

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
                f"Regions: {excerpt(bad[0])} is not an AWS Region code. Use codes such as "
                "us-east-1 or eu-west-1, separated by commas."
            )
    if step == "rule":
        pattern = re.compile(r"^(\*|[a-z0-9*?-]+:[A-Za-z0-9*?]+)$", re.IGNORECASE)
        bad = [a for a in split_list(values.get("sensitive_actions")) if not pattern.match(a)]
        if bad:
            errors.append(
                f"Sensitive Actions: {excerpt(bad[0])} is not an action pattern. Use "
                "service:Action with optional * or ? wildcards, e.g. s3:GetObject or iam:*."
            )
    return errors


def _denied(error: BaseException) -> bool:
    return aws_error_code(error) in ACCESS_DENIED


def _check_regions(factory: BotoClientFactory, regions: tuple[str, ...]) -> None:
    try:
        described = factory.client("ec2").describe_regions(AllRegions=True)["Regions"]
    except (ClientError, BotoCoreError) as error:
        if regions and _denied(error):
            return  # explicit Regions need no discovery
        raise ConfigurationError(
            f"Regions: discovering enabled Regions failed ({describe_aws_error(error)}). Grant "
            "ec2:DescribeRegions to the plugin's principal "
            f"({statement('DiscoverEnabledRegions')}), or list the Regions explicitly."
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


def _read_one_role(iam: Any) -> None:
    """One role through GAAD, or through ListRoles when GAAD is denied (the posture
    pull's own fallback). Raises the GAAD error when neither is allowed."""
    try:
        iam.get_account_authorization_details(Filter=["Role"], MaxItems=1)
        return
    except ClientError as error:
        if not _denied(error):
            raise
        gaad_error = error
    try:
        iam.list_roles(MaxItems=1)
    except ClientError as error:
        if _denied(error):
            raise gaad_error from None
        raise


def _check_role_listing(factory: BotoClientFactory) -> None:
    try:
        _read_one_role(factory.client("iam"))
    except (ClientError, BotoCoreError) as error:
        if _denied(error):
            raise ConfigurationError(
                "AWS Tenant: reading IAM roles and their trust policies was denied "
                f"({describe_aws_error(error)}). Grant iam:GetAccountAuthorizationDetails to "
                f"the plugin's principal ({statement('ReadRoleTrustPolicies')}); "
                "iam:ListRoles with iam:ListAttachedRolePolicies is the slower alternative."
            ) from None
        raise ConfigurationError(
            f"AWS Tenant: IAM roles could not be listed ({describe_aws_error(error)})."
        ) from None


def _member_account_ids(factory: BotoClientFactory, limit: int) -> list[str]:
    """Up to ``limit`` active member accounts (not the plugin's own), from the first page."""
    try:
        page = factory.client("organizations").list_accounts(MaxResults=20)
    except (ClientError, BotoCoreError):
        return []  # the ListAccounts probe already reported it
    home = factory.account_id
    found = [
        str(a.get("Id"))
        for a in page.get("Accounts") or []
        if a.get("Id") and str(a.get("Id")) != home and a.get("Status") in (None, "ACTIVE")
    ]
    return sorted(found)[:limit]


def _member_role_arn(factory: BotoClientFactory, account_id: str, role_name: str) -> str:
    parts = factory.caller_arn.split(":")
    partition = parts[1] if len(parts) > 1 and parts[1] else "aws"
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def _assume_failure(role_arn: str, role_name: str, error: AwsAuthError) -> str:
    return (
        f"Member Audit Role Name: {error} Grant sts:AssumeRole on "
        f"arn:aws:iam::*:role/{role_name} to the plugin's principal "
        f"({statement('AssumeMemberAuditRole', ORGANIZATIONS_POLICY)}) and deploy the role in "
        "every member account with the README's member audit role trust policy (it trusts "
        "this account and requires the External ID and sts:RoleSessionName = "
        "${aws:username})."
    )


def _members(factory: BotoClientFactory, aws: AwsConfig) -> Iterator[tuple[str, Any]]:
    """``(role ARN, member factory or the AwsAuthError)`` for the probed member accounts."""
    for account_id in _member_account_ids(factory, MEMBER_PROBES):
        role_arn = _member_role_arn(factory, account_id, aws.member_role_name)
        try:
            member = factory.assume(role_arn, external_id=aws.external_id)
            _ = member.account_id
        except AwsAuthError as error:
            yield role_arn, error
            continue
        yield role_arn, member


def _check_member_roles(factory: BotoClientFactory, aws: AwsConfig) -> None:
    """At least one probed member account's audit role can be assumed and can read roles."""
    first_failure = ""
    for role_arn, member in _members(factory, aws):
        if isinstance(member, AwsAuthError):
            first_failure = first_failure or _assume_failure(role_arn, aws.member_role_name, member)
            continue
        try:
            _read_one_role(member.client("iam"))
        except (ClientError, BotoCoreError) as error:
            first_failure = first_failure or (
                f"Member Audit Role Name: role {role_arn} may not read IAM roles "
                f"({describe_aws_error(error)}). Give it iam:GetAccountAuthorizationDetails "
                f"({statement('ReadRoleTrustPolicies', MEMBER_POLICY)})."
            )
            continue
        return
    if first_failure:
        raise ConfigurationError(first_failure)


def _lookup_failure(error: BaseException, sid_policy: str, who: str) -> ConfigurationError:
    return ConfigurationError(
        f"Event Source: CloudTrail LookupEvents failed{who} ({describe_aws_error(error)})."
        f" Grant cloudtrail:LookupEvents to the {sid_policy}."
    )


def _probe_lookup(factory: BotoClientFactory) -> None:
    try:
        factory.client("cloudtrail").lookup_events(MaxResults=1)
    except (ClientError, BotoCoreError) as error:
        raise _lookup_failure(
            error, f"plugin's principal ({statement('LookupCloudTrailEvents')})", ""
        ) from None


def _probe_member_lookup(factory: BotoClientFactory, aws: AwsConfig) -> None:
    """LookupEvents as the first member audit role that can be assumed (the AWS Tenant
    step reports roles that cannot)."""
    for role_arn, member in _members(factory, aws):
        if isinstance(member, AwsAuthError):
            continue
        try:
            member.client("cloudtrail").lookup_events(MaxResults=1)
        except (ClientError, BotoCoreError) as error:
            raise _lookup_failure(
                error,
                f"member audit role ({statement('LookupCloudTrailEvents', MEMBER_POLICY)})",
                f" as {role_arn}",
            ) from None
        return


def _probe_bucket(factory: BotoClientFactory, bucket: str, prefix: str) -> None:
    root = logs_root(prefix)
    client = factory.client("s3")
    try:
        listing = client.list_objects_v2(Bucket=bucket, Prefix=root, MaxKeys=1)
    except (ClientError, BotoCoreError) as error:
        code = aws_error_code(error)
        if code == "NoSuchBucket":
            raise ConfigurationError(
                f"Trail Bucket Name: bucket '{bucket}' does not exist. Enter the name of the "
                "bucket your trail delivers to (CloudTrail console > Trails > S3 bucket)."
            ) from None
        if _denied(error):
            raise ConfigurationError(
                f"Trail Bucket Name: listing bucket '{bucket}' was denied. Grant s3:ListBucket "
                f"on arn:aws:s3:::{bucket} for the prefix {root} "
                f"({statement('ListTrailBucket')}) and s3:GetObject on "
                f"arn:aws:s3:::{bucket}/{root}* ({statement('ReadTrailFiles')}) to the "
                "plugin's principal (and check the bucket policy)."
            ) from None
        raise ConfigurationError(
            f"Trail Bucket Name: bucket '{bucket}' could not be read ({describe_aws_error(error)})."
        ) from None
    contents = listing.get("Contents") or []
    key = str(contents[0]["Key"]) if contents else f"{root}{PROBE_RECEIPT_HANDLE}.json.gz"
    _probe_trail_read(client, bucket, root, key)


def _large_trail_advice(size: TrailSize) -> str:
    more = "" if size.complete else " or more"
    return (
        f"Validation successful. Trail Bucket Name: the trail holds {size.accounts}{more} "
        f"account(s) x {size.regions} Region(s) = {size.folders:,}{more} folders. The S3 "
        "source lists each folder about every five minutes, so above "
        f"{LARGE_TRAIL_FOLDERS:,} folders the SQS source is cheaper and reads new files "
        "sooner: send the trail's S3 event notifications (or its SNS topic) to an SQS queue "
        "and choose 'SQS notifications' (see the README's sizing table)."
    )


def _probe_trail_read(client: Any, bucket: str, root: str, key: str) -> None:
    """One byte of a trail object (a missing key answers NoSuchKey only when reading is
    allowed, so an empty trail still proves the permission)."""
    try:
        client.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")["Body"].close()
    except (ClientError, BotoCoreError) as error:
        code = aws_error_code(error)
        if code in NOT_FOUND or code == "InvalidRange":
            return  # authorized: the object is missing or empty
        if _denied(error):
            raise ConfigurationError(
                f"Trail Bucket Name: reading trail files in bucket '{bucket}' was denied "
                f"({describe_aws_error(error)}). Grant s3:GetObject on "
                f"arn:aws:s3:::{bucket}/{root}* to the plugin's principal "
                f"({statement('ReadTrailFiles')}), and kms:Decrypt on the trail's KMS key if "
                "the trail is encrypted with SSE-KMS (and check the bucket policy)."
            ) from None
        raise ConfigurationError(
            f"Trail Bucket Name: trail files in bucket '{bucket}' could not be read "
            f"({describe_aws_error(error)})."
        ) from None


QUEUE_ACTIONS = (
    "sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes"
)


def _queue_denied(queue_url: str, error: BaseException, action: str) -> ConfigurationError:
    return ConfigurationError(
        f"SQS Queue URL: {action} on queue {queue_url} was denied "
        f"({describe_aws_error(error)}). Grant {QUEUE_ACTIONS} on it to the plugin's "
        f"principal ({statement('ReadTrailNotifications')})."
    )


def _probe_queue(factory: BotoClientFactory, queue_url: str) -> None:
    sqs = factory.client("sqs", queue_region(queue_url))
    try:
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    except (ClientError, BotoCoreError) as error:
        code = aws_error_code(error)
        if "NonExistentQueue" in code or code == "QueueDoesNotExist":
            raise ConfigurationError(
                f"SQS Queue URL: queue {queue_url} does not exist. Copy the URL of the queue "
                "that receives the trail bucket's notifications from the SQS console."
            ) from None
        if _denied(error):
            raise _queue_denied(queue_url, error, "sqs:GetQueueAttributes") from None
        raise ConfigurationError(
            f"SQS Queue URL: queue {queue_url} could not be read ({describe_aws_error(error)})."
        ) from None
    probes: tuple[tuple[str, Callable[[], Any]], ...] = (
        (
            "sqs:DeleteMessage",
            lambda: sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=PROBE_RECEIPT_HANDLE),
        ),
        (
            "sqs:ChangeMessageVisibility",
            lambda: sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=PROBE_RECEIPT_HANDLE, VisibilityTimeout=0
            ),
        ),
    )
    for action, call in probes:
        try:
            call()
        except ClientError as error:
            if _denied(error):
                raise _queue_denied(queue_url, error, action) from None
            # ReceiptHandleIsInvalid (or any other refusal of the handle): authorized.
        except BotoCoreError as error:
            raise ConfigurationError(
                f"SQS Queue URL: queue {queue_url} could not be reached "
                f"({describe_aws_error(error)})."
            ) from None
