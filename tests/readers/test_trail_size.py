"""Validation counts a trail's account/Region folders and, past a stated size, advises SQS."""

from __future__ import annotations

import boto3
import pytest
from netskope.common.utils import Logger
from netskope.integrations.itsm.plugin_base import PluginBase
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.trail_size import (
    LARGE_TRAIL_FOLDERS,
    estimate_trail_size,
)

from devkit.loader import load_plugin
from tests.contract.tenant import configuration, seed_small_tenant

BUCKET = "contract-trail"
ORG = "o-abcdefghij"
REGIONS = ("us-east-1", "eu-west-1")
SEVENTEEN = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
)  # fmt: skip


def _folders(accounts: int, regions: tuple[str, ...] = REGIONS) -> None:
    s3 = boto3.client("s3")
    for number in range(accounts):
        account = f"{100000000000 + number}"
        for region in regions:
            key = (
                f"AWSLogs/{ORG}/{account}/CloudTrail/{region}/2026/12/07/"
                f"{account}_CloudTrail_{region}_20261207T0000Z_x.json.gz"
            )
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"")


def test_an_organization_trail_is_counted_by_account_and_region(aws: object) -> None:
    seed_small_tenant(BUCKET)
    _folders(5)
    size = estimate_trail_size(boto3.client("s3"), BUCKET, "", ())
    assert size is not None
    assert (size.accounts, size.regions, size.folders, size.complete) == (5, 2, 10, True)
    assert not size.large


def test_configured_regions_are_what_is_read(aws: object) -> None:
    seed_small_tenant(BUCKET)
    _folders(3)
    size = estimate_trail_size(boto3.client("s3"), BUCKET, "", SEVENTEEN)
    assert size is not None and size.folders == 3 * 17


def test_an_unlistable_bucket_gives_no_estimate(aws: object) -> None:
    assert estimate_trail_size(boto3.client("s3"), "no-such-bucket", "", ()) is None


@pytest.mark.slow
def test_a_trail_past_the_stated_size_validates_with_sqs_advice(aws: object) -> None:
    seed_small_tenant(BUCKET)
    accounts = LARGE_TRAIL_FOLDERS // 17 + 1
    _folders(accounts, ("us-east-1",))
    plugin_cls: type[PluginBase] = load_plugin()
    logger = Logger()
    plugin = plugin_cls("contract", None, {}, None, logger)
    config = configuration(aws={**configuration()["aws"], "regions": ",".join(SEVENTEEN)})
    result = plugin.validate_step("cloudtrail", config)
    assert result.success, result.message
    assert f"{accounts} account(s) x 17 Region(s)" in result.message
    assert "SQS" in result.message
    assert any(r.level == "warn" and "SQS" in r.message for r in logger.records)


def test_a_small_trail_validates_without_advice(aws: object) -> None:
    seed_small_tenant(BUCKET)
    _folders(2)
    plugin = load_plugin()("contract", None, {}, None, Logger())
    result = plugin.validate_step("cloudtrail", configuration())
    assert result.success and result.message == "Validation successful."
