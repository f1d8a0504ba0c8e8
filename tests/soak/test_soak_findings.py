"""Defects the crash and outage soak found, pinned as minimal reproductions (docs/soak.md).

Each test states the behaviour the plugin must have; each was a strict ``xfail`` until its
defect was fixed and now guards against the regression. The trail records here are
project-authored (one IAM user, one role without the session-name condition, one session).
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import SplunkConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.errors import SendResult
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import HecEvent
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.sink import deliver_alerts

from devkit.aws_emulator import MotoServer
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.loader import form_defaults
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull

ACCOUNT = "123456789012"  # moto's default account
BUCKET = "soak-findings-trail"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/OpenRole"
KEY = "ASIAOPENROLESESSION1"
TOKEN = "soak-findings-token"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(moment: datetime, name: str, identity: dict[str, Any], **extra: Any) -> dict[str, Any]:
    record = {
        "eventVersion": "1.09",
        "eventTime": _iso(moment),
        "eventSource": extra.pop("source", "s3.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.1",
        "userAgent": "aws-cli/2.15.30",
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "readOnly": True,
        "recipientAccountId": ACCOUNT,
        "userIdentity": identity,
    }
    record.update(extra)
    return record


def session_records(start: datetime) -> list[dict[str, Any]]:
    """alice assumes OpenRole (session named after her) and makes three calls with it."""
    alice = {
        "type": "IAMUser",
        "principalId": "AIDAALICEEXAMPLE0001",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAALICEEXAMPLE0001",
        "userName": "alice",
    }
    assume = _record(
        start,
        "AssumeRole",
        alice,
        source="sts.amazonaws.com",
        requestParameters={"roleArn": ROLE, "roleSessionName": "alice", "durationSeconds": 3600},
        responseElements={
            "credentials": {
                "accessKeyId": KEY,
                "sessionToken": "not-a-token",
                "expiration": "Jan 1, 2030, 12:00:00 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": "AROAOPENROLEEXAMPLE1:alice",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/OpenRole/alice",
            },
        },
        resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": ROLE}],
    )
    session = {
        "type": "AssumedRole",
        "principalId": "AROAOPENROLEEXAMPLE1:alice",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/OpenRole/alice",
        "accountId": ACCOUNT,
        "accessKeyId": KEY,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAOPENROLEEXAMPLE1",
                "arn": ROLE,
                "accountId": ACCOUNT,
                "userName": "OpenRole",
            },
            "attributes": {"creationDate": _iso(start), "mfaAuthenticated": "false"},
        },
    }
    calls = [_record(start + timedelta(minutes=n + 1), "ListBuckets", session) for n in range(3)]
    return [assume, *calls]


def trail_key(moment: datetime, suffix: str) -> str:
    return (
        f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{moment:%Y/%m/%d}/"
        f"{ACCOUNT}_CloudTrail_us-east-1_{moment:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    )


@pytest.fixture
def tenant(aws: MotoServer) -> Iterator[tuple[TenantConfig, HecEmulator, Any]]:
    """moto with OpenRole and an empty trail bucket, a HEC emulator, the tenant using both."""
    iam, s3 = boto3.client("iam"), boto3.client("s3")
    open_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="OpenRole", AssumeRolePolicyDocument=json.dumps(open_policy))
    s3.create_bucket(Bucket=BUCKET)
    defaults = form_defaults()
    env = aws.env()
    with HecEmulator({TOKEN: TokenSpec("soak")}) as hec:
        configuration = {
            "aws": {
                **defaults["aws"],
                "authentication_method": "access_keys",
                "access_key_id": env["AWS_ACCESS_KEY_ID"],
                "secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
                "role_arn": "",
                "external_id": "",
                "regions": "us-east-1",
                "account_scope": "single_account",
            },
            "cloudtrail": {
                **defaults["cloudtrail"],
                "source": "s3",
                "bucket_name": BUCKET,
                "bucket_prefix": "",
                "lookback_hours": 24,
            },
            "rule": {**defaults["rule"]},
            "splunk": {**defaults["splunk"], "hec_url": hec.url, "hec_token": TOKEN, "index": ""},
        }
        yield TenantConfig("soak-findings", configuration), hec, s3


def _pull(tenant: TenantConfig, state: Path) -> PullResult:
    return run_pull(tenant, StateDir(state), validate=False)


def test_a_record_delivered_again_in_a_later_pull_is_not_counted_twice(
    tenant: tuple[TenantConfig, HecEmulator, Any], tmp_path: Path
) -> None:
    config, _hec, s3 = tenant
    # The session's calls fall in one aggregation window (an hour): start on the hour.
    start = (datetime.now(UTC) - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    body = gzip.compress(json.dumps({"Records": session_records(start)}).encode())
    s3.put_object(Bucket=BUCKET, Key=trail_key(start + timedelta(minutes=5), "A"), Body=body)
    first = _pull(config, tmp_path)
    s3.put_object(Bucket=BUCKET, Key=trail_key(start + timedelta(minutes=10), "B"), Body=body)
    second = _pull(config, tmp_path)

    def counts(result: PullResult) -> list[Any]:
        return [a.rawData.get("event_count") for a in result.alerts if a.type.startswith("non")]

    assert counts(first) == [3]
    assert counts(second) in ([], [3])  # nothing new, or the same window unchanged


def test_a_posture_alert_resent_after_a_lost_save_is_an_exact_copy(
    tenant: tuple[TenantConfig, HecEmulator, Any], tmp_path: Path
) -> None:
    config, hec, _s3 = tenant
    _pull(config, tmp_path)
    for name in ("storage.json", "checkpoint.json"):  # CE died before saving the pull
        (tmp_path / name).unlink()
    _pull(config, tmp_path)
    versions: dict[str, set[str]] = defaultdict(set)
    for envelope in hec.events:
        event = envelope["event"]
        if event.get("signature_id") == "role_session_name_not_enforced":
            versions[event["id"]].add(event["alert_version"])
    assert versions, "the posture alert reached Splunk"
    assert all(len(v) == 1 for v in versions.values()), dict(versions)


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, events: list[HecEvent]) -> SendResult:
        self.sent.extend(e.key for e in events)
        return SendResult(delivered=[e.key for e in events])


def test_every_alert_of_a_large_pull_reaches_a_healthy_splunk() -> None:
    stamp = datetime(2026, 11, 27, tzinfo=UTC)
    alerts = [
        {
            "id": f"aws-rsi:session_spoofing:{ACCOUNT}:{n:05d}",
            "alertName": "Session-name spoofing",
            "alertType": "Identity",
            "type": "session_name_spoofing",
            "app": "AWS IAM",
            "appCategory": "IaaS",
            "user": f"arn:aws:iam::{ACCOUNT}:user/u{n}",
            "timestamp": stamp,
            "rawData": {"severity": "low"},
        }
        for n in range(800)  # within Maximum Alerts per Pull's default of 1000
    ]
    recorder = _Recorder()
    splunk = SplunkConfig.from_step({"hec_url": "https://splunk.invalid:8088", "hec_token": "t"})
    storage: dict[str, Any] = {}
    deliver_alerts(
        alerts,
        storage,
        splunk,
        now=stamp.timestamp(),
        user_agent="soak",
        proxies={},
        verify=True,
        sender=recorder,
    )
    assert len(recorder.sent) == len(alerts)


def chained_assume_role(start: datetime) -> dict[str, Any]:
    """alice's OpenRole session (key ``KEY``) assumes TargetRole under another name."""
    first_hop = session_records(start)[1]["userIdentity"]  # the session of KEY
    target = f"arn:aws:iam::{ACCOUNT}:role/TargetRole"
    return _record(
        start + timedelta(minutes=2),
        "AssumeRole",
        first_hop,
        source="sts.amazonaws.com",
        requestParameters={
            "roleArn": target,
            "roleSessionName": "chain-5d1e",
            "durationSeconds": 900,
        },
        responseElements={
            "credentials": {
                "accessKeyId": "ASIATARGETSESSION001",
                "sessionToken": "not-a-token",
                "expiration": "Jan 1, 2030, 12:00:00 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": "AROATARGETROLEEXAMP1:chain-5d1e",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/TargetRole/chain-5d1e",
            },
        },
        resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": target}],
    )


def _spoofing_after_first_hop_arrives_a_pull_later(
    config: TenantConfig, s3: Any, state: Path, age: timedelta
) -> list[Any]:
    start = (datetime.now(UTC) - age).replace(second=0, microsecond=0)
    chained = gzip.compress(json.dumps({"Records": [chained_assume_role(start)]}).encode())
    first_hop = gzip.compress(json.dumps({"Records": session_records(start)[:1]}).encode())
    s3.put_object(Bucket=BUCKET, Key=trail_key(start + timedelta(minutes=5), "C"), Body=chained)
    _pull(config, state)  # the chained AssumeRole waits for its caller's issuance
    s3.put_object(Bucket=BUCKET, Key=trail_key(start + timedelta(minutes=5), "D"), Body=first_hop)
    _pull(config, state)  # the first hop arrives (late file, older name: inside the look-back)
    store = StateDir(state).alert_store()
    try:
        return [a for a in store.all() if a["type"] == "session_name_spoofing"]
    finally:
        store.close()


def test_a_chained_session_is_judged_once_its_first_hop_arrives_a_pull_later(
    tenant: tuple[TenantConfig, HecEmulator, Any], tmp_path: Path
) -> None:
    config, _hec, s3 = tenant
    spoofing = _spoofing_after_first_hop_arrives_a_pull_later(
        config, s3, tmp_path, timedelta(minutes=20)
    )
    assert [a["rawData"]["session_name"] for a in spoofing] == ["chain-5d1e"]


def test_a_chained_session_from_an_older_trail_is_judged_once_its_first_hop_arrives(
    tenant: tuple[TenantConfig, HecEmulator, Any], tmp_path: Path
) -> None:
    config, _hec, s3 = tenant
    spoofing = _spoofing_after_first_hop_arrives_a_pull_later(
        config, s3, tmp_path, timedelta(hours=5)
    )
    assert [a["rawData"]["session_name"] for a in spoofing] == ["chain-5d1e"]
