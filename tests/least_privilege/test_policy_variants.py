"""The documented variants of the policy: ListRoles instead of GAAD, explicit Regions without
ec2:DescribeRegions, a trail without key prefix; and the scoping of trail reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import PLUGIN_USER, LeastPrivilegeTenant, install_recorder, lookup_pages, merged
from .iam_policy import (
    Placeholders,
    complete,
    filled,
    granting_statements,
    keep,
    plugin_policy,
    without,
)


def denied_calls(recorder: Any) -> list[str]:
    return [c.name for c in recorder.calls if c.status == 403 or "AccessDenied" in c.error_code]


def plugin_session(lp: LeastPrivilegeTenant) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=lp.user_keys["AccessKeyId"],
        aws_secret_access_key=lp.user_keys["SecretAccessKey"],
        region_name="us-east-1",
    )


def test_listroles_instead_of_gaad_validates_and_evaluates_every_role(
    lp: LeastPrivilegeTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/iam/posture-without-gaad.json replaces ReadRoleTrustPolicies; the plugin tries
    GAAD once per scan (denied) and falls back to ListRoles + ListAttachedRolePolicies."""
    values = lp.values()
    base = without(plugin_policy("none", values), "ReadRoleTrustPolicies")
    lp.grant(merged(base, complete(filled("posture-without-gaad.json", values))))
    recorder = install_recorder(lp, monkeypatch, None)

    result = lp.pull(tmp_path, lp.configuration(tmp_path, "none"))

    health = result.storage["health"]
    assert health["problems"] == []
    assert health["roles_evaluated"] == len(lp.demo.role_arns) == 15
    assert set(denied_calls(recorder)) == {"iam:GetAccountAuthorizationDetails"}
    assert "iam:ListAttachedRolePolicies" in {c.name for c in recorder.calls}


def test_explicit_regions_need_no_describe_regions(
    lp: LeastPrivilegeTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without DiscoverEnabledRegions, validation cannot check the listed Regions and skips
    that check (one denied ec2:DescribeRegions per validation); the pull needs nothing."""
    lp.grant(without(plugin_policy("s3", lp.values()), "DiscoverEnabledRegions"))
    recorder = install_recorder(lp, monkeypatch, None)

    result = lp.pull(tmp_path, lp.configuration(tmp_path, "s3", aws={"regions": "us-east-1"}))

    assert result.storage["health"]["problems"] == []
    assert denied_calls(recorder) == ["ec2:DescribeRegions"]


def test_a_trail_without_key_prefix_uses_the_policy_without_trail_prefix(
    lp: LeastPrivilegeTenant, tmp_path: Path
) -> None:
    bucket = "lp-plain-trail"
    lp.admin.client("s3").create_bucket(Bucket=bucket)
    values = Placeholders(account_id=lp.account_id, trail_bucket=bucket, trail_prefix="")
    policy = plugin_policy("s3", values)
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["ReadTrailFiles"] == f"arn:aws:s3:::{bucket}/AWSLogs/*"
    lp.grant(policy)
    config = lp.configuration(
        tmp_path, "s3", cloudtrail={"bucket_name": bucket, "bucket_prefix": ""}
    )
    result = lp.validate_step("cloudtrail", config)
    assert result.success, result.message


def test_trail_reads_are_confined_to_the_awslogs_prefix(lp: LeastPrivilegeTenant) -> None:
    bucket = lp.demo.bucket
    lp.admin.client("s3").put_object(Bucket=bucket, Key="exports/finance.csv", Body=b"x")
    lp.grant(plugin_policy("s3", lp.values()))
    s3 = plugin_session(lp).client("s3")

    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=bucket, Key="exports/finance.csv")

    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key=lp.demo.trail_keys[0])["ContentLength"] > 0


def test_trail_listing_is_confined_to_the_awslogs_prefix_by_its_condition(
    lp: LeastPrivilegeTenant,
) -> None:
    """moto ignores conditions of identity policies, so the s3:prefix condition is checked
    on the policy text (every listing the plugin makes passes it: test_policy_suffices)."""
    policy = keep(plugin_policy("s3", lp.values()), ["ListTrailBucket"])
    bucket = f"arn:aws:s3:::{lp.demo.bucket}"
    allowed = granting_statements(
        policy, "s3:ListBucket", bucket, {"s3:prefix": "org-trail/AWSLogs/"}
    )
    assert allowed == ["ListTrailBucket"]
    assert granting_statements(policy, "s3:ListBucket", bucket, {"s3:prefix": "exports/"}) == []
    assert granting_statements(policy, "s3:ListBucket", bucket, {}) == []


def test_moto_authorizes_lookup_events_by_the_statement(lp: LeastPrivilegeTenant) -> None:
    """moto has no LookupEvents, but it authorizes the call before looking for the
    operation: with the statement the request gets past authorization (and fails as not
    implemented), without it moto answers AccessDenied."""
    from botocore.config import Config

    client = plugin_session(lp).client(
        "cloudtrail", config=Config(retries={"total_max_attempts": 1})
    )
    lp.grant(plugin_policy("lookup_events", lp.values()))
    with pytest.raises(ClientError) as unimplemented:
        client.lookup_events(MaxResults=1)
    lp.grant(without(plugin_policy("lookup_events", lp.values()), "LookupCloudTrailEvents"))
    with pytest.raises(ClientError) as denied:
        client.lookup_events(MaxResults=1)

    assert unimplemented.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException" or (
        "not authorized to perform: cloudtrail:LookupEvents" in str(denied.value)
    )
    assert PLUGIN_USER in str(denied.value)


def test_moto_checks_every_request_of_this_suite(lp: LeastPrivilegeTenant) -> None:
    """Authorization is on: unknown keys are rejected, and the plugin user gets nothing
    beyond its policy."""
    stranger = boto3.client("sts")  # moto's default example keys: no IAM user holds them
    with pytest.raises(ClientError) as unknown:
        stranger.get_caller_identity()
    lp.grant(plugin_policy("none", lp.values()))
    with pytest.raises(ClientError) as beyond:
        plugin_session(lp).client("iam").list_users()

    assert unknown.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert beyond.value.response["Error"]["Code"] == "AccessDenied"


def test_lookup_events_with_no_regions_listed_reads_every_enabled_region(
    lp: LeastPrivilegeTenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull's own use of DiscoverEnabledRegions: LookupEvents answers per Region."""
    lp.grant(plugin_policy("lookup_events", lp.values()))
    recorder = install_recorder(lp, monkeypatch, lookup_pages(lp.trail_records, paged=False))

    result = lp.pull(tmp_path, lp.configuration(tmp_path, "lookup_events", aws={"regions": ""}))

    discovery = [c for c in recorder.calls if c.name == "ec2:DescribeRegions"]
    assert [c.params for c in discovery] == [{"AllRegions": True}, {}]  # validation, pull
    enabled = {
        r["RegionName"]
        for r in discovery[1].response["Regions"]
        if r.get("OptInStatus") != "not-opted-in"
    }
    read = {c.region for c in recorder.calls if c.name == "cloudtrail:LookupEvents"}
    assert result.storage["health"]["problems"] == []
    assert denied_calls(recorder) == []
    assert read == enabled and len(enabled) > 10
