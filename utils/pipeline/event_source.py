"""Which CloudTrail reader a configuration uses, and the Regions it covers."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_session import BotoClientFactory, describe_aws_error
from ..config import SOURCE_LOOKUP, SOURCE_S3, SOURCE_SQS, PluginConfig
from ..exceptions import ConfigurationError
from ..readers.base import Deadline, EventSource
from ..readers.lookup_events import LookupEventsReader
from ..readers.s3_trail import S3TrailReader
from ..readers.sqs_notifications import SqsNotificationReader, queue_region

# Messages stay hidden this long after a pull processed them, until the next pull deletes
# them (two-phase delete); longer than any sensible poll interval.
SQS_HOLD_SECONDS = 900


def enabled_regions(factory: BotoClientFactory, configured: Sequence[str]) -> list[str]:
    """The configured Regions, or every Region enabled in the account."""
    if configured:
        return list(configured)
    try:
        described = factory.client("ec2").describe_regions()["Regions"]
    except (ClientError, BotoCoreError) as error:
        raise ConfigurationError(
            f"Regions: discovering enabled Regions failed ({describe_aws_error(error)}). Grant "
            "ec2:DescribeRegions to the plugin's principal, or list the Regions explicitly."
        ) from None
    return sorted(
        str(r["RegionName"])
        for r in described
        if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    )


def build_event_source(
    config: PluginConfig,
    factories: Sequence[BotoClientFactory],
    sources: MutableMapping[str, Any],
    *,
    accounts: Sequence[str] | None = None,
    deadline: Deadline | None = None,
) -> EventSource | None:
    """The reader for the configured event source (None: posture only).

    ``accounts`` is the configuration's account scope (the account, or the Organization's
    members): a trail bucket shared with accounts outside it is read only for those inside.
    ``deadline`` bounds how long the pull reads; what is left is read by the next pull.
    """
    trail = config.cloudtrail
    home = factories[0]
    regions = config.aws.regions or None
    scope = list(accounts) if accounts else None
    if trail.source == SOURCE_S3:
        return S3TrailReader(
            home,
            sources,
            bucket=trail.bucket_name,
            prefix=trail.bucket_prefix,
            regions=regions,
            accounts=scope,
            lookback_hours=trail.lookback_hours,
            deadline=deadline,
        )
    if trail.source == SOURCE_SQS:
        return SqsNotificationReader(
            home,
            sources,
            queue_url=trail.sqs_queue_url,
            bucket=trail.bucket_name or None,
            regions=regions,
            accounts=scope,
            region=queue_region(trail.sqs_queue_url),
            hold_seconds=SQS_HOLD_SECONDS,
            lookback_hours=trail.lookback_hours,
            deadline=deadline,
        )
    if trail.source == SOURCE_LOOKUP:
        return LookupEventsReader(
            list(factories),
            sources,
            regions=enabled_regions(home, config.aws.regions),
            lookback_hours=trail.lookback_hours,
        )
    return None
