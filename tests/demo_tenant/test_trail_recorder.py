"""The trail recorder: real boto3 calls to moto become CloudTrail records shaped like real ones."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.exceptions import ClientError

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, MotoServer
from devkit.trail_recorder import (
    Actor,
    Credentials,
    RecorderError,
    TrailClock,
    TrailRecorder,
    UserPrincipal,
    cloudtrail_create_date,
    cloudtrail_expiration,
)
from tests.conftest import DATASETS

START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
ROOT_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            }
        ],
    }
)
EXPIRATION = re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$")


def _real_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted((DATASETS / "cloudtrail" / "invictus-aws-dataset").glob("*.json")):
        records += json.loads(path.read_text("utf-8"))["Records"]
    for path in sorted((DATASETS / "cloudtrail" / "stratus-detonation-logs").glob("*.json")):
        records += json.loads(path.read_text("utf-8"))
    return records


@pytest.fixture(scope="module")
def real_records() -> list[dict[str, Any]]:
    return _real_records()


def _shape(value: Any) -> Any:
    """Field names and nesting, without values (dict keys are compared as sets)."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


@dataclass
class World:
    recorder: TrailRecorder
    clock: TrailClock
    users: dict[str, tuple[Credentials, UserPrincipal]]
    role_arn: str
    role_id: str

    def client(self, service: str, user: str, creds: Credentials | None = None) -> Any:
        return self.recorder.client(
            service, creds or self.users[user][0], Actor(f"198.51.100.{len(user)}")
        )

    def assume(self, user: str, session: str, creds: Credentials | None = None) -> Credentials:
        answer = self.client("sts", user, creds).assume_role(
            RoleArn=self.role_arn, RoleSessionName=session
        )
        return Credentials.from_sts(answer["Credentials"])


@pytest.fixture
def world(aws: MotoServer) -> Iterator[World]:
    iam = boto3.client("iam")
    clock = TrailClock(START, seed=3)
    recorder = TrailRecorder(account_id="123456789012", clock=clock, seed=3, late_issuance=0)
    users = {}
    for name in ("alice", "mallory"):
        user = iam.create_user(UserName=name)["User"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        users[name] = (
            Credentials.from_access_key(key),
            recorder.register_user(user, key["AccessKeyId"]),
        )
    role = iam.create_role(
        RoleName="DataRole", Path="/team/data/", AssumeRolePolicyDocument=ROOT_TRUST
    )["Role"]
    recorder.register_role(role)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    s3.put_object(Bucket="data-bucket", Key="a/b.csv", Body=b"x,y\n")
    s3.create_bucket(Bucket="trail-bucket")
    yield World(recorder, clock, users, role["Arn"], role["RoleId"])


def _one(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (record,) = [r for r in records if r["eventName"] == name]
    return record


def test_expiration_is_written_in_the_locale_format_of_real_trails(
    real_records: list[dict[str, Any]],
) -> None:
    real = [
        r["responseElements"]["credentials"]["expiration"]
        for r in real_records
        if (r.get("responseElements") or {}).get("credentials")
    ]
    assert real and all(EXPIRATION.match(value) for value in real)
    assert cloudtrail_expiration(datetime(2023, 7, 10, 13, 12, 44, tzinfo=UTC)) == (
        "Jul 10, 2023, 1:12:44 PM"
    )
    assert (
        cloudtrail_expiration(datetime(2024, 8, 1, 0, 5, tzinfo=UTC)) == "Aug 1, 2024, 12:05:00 AM"
    )


def test_iam_create_date_has_no_comma_after_the_year_as_in_real_trails() -> None:
    assert cloudtrail_create_date(datetime(2023, 7, 10, 12, 9, 21, tzinfo=UTC)) == (
        "Jul 10, 2023 12:09:21 PM"
    )


def test_assume_role_by_an_iam_user_has_the_shape_of_a_real_record(
    world: World, real_records: list[dict[str, Any]]
) -> None:
    world.assume("alice", "alice")
    ours = world.recorder.records[0]
    real = next(
        r
        for r in real_records
        if r["eventName"] == "AssumeRole"
        and r["userIdentity"]["type"] == "IAMUser"
        and "errorCode" not in r
        and "tlsDetails" in r
    )
    ours_shape, real_shape = _shape(ours), _shape(real)
    assert set(ours_shape) == set(real_shape)
    assert ours_shape["userIdentity"] == real_shape["userIdentity"]
    assert ours_shape["responseElements"] == real_shape["responseElements"]
    assert ours_shape["resources"] == real_shape["resources"]
    assert ours["eventSource"] == "sts.amazonaws.com"
    assert ours["eventTime"] == "2026-11-28T08:00:00Z"
    assert ours["responseElements"]["credentials"]["expiration"] == "Nov 28, 2026, 9:00:00 AM"


def test_actions_with_the_issued_key_are_attributed_to_that_role_session(world: World) -> None:
    key = world.assume("alice", "alice")
    world.clock.advance(hours=2)
    caller = world.client("sts", "alice", key).get_caller_identity()
    assert caller["Arn"] == "arn:aws:sts::123456789012:assumed-role/DataRole/alice"  # moto agrees
    issued, used = world.recorder.records
    assert issued["responseElements"]["credentials"]["accessKeyId"] == key.access_key_id
    assert key.access_key_id.startswith("ASIA")
    identity = used["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["accessKeyId"] == key.access_key_id
    assert identity["arn"] == "arn:aws:sts::123456789012:assumed-role/DataRole/alice"
    assert identity["principalId"] == f"{world.role_id}:alice"
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer["arn"] == "arn:aws:iam::123456789012:role/team/data/DataRole"
    assert issuer["userName"] == "DataRole"
    assert identity["sessionContext"]["attributes"]["creationDate"] == issued["eventTime"]
    assert used["eventTime"].startswith("2026-11-28T10:00:")


def test_a_chained_session_is_signed_by_the_parent_and_keeps_its_source_identity(
    world: World,
) -> None:
    first = Credentials.from_sts(
        world.client("sts", "alice").assume_role(
            RoleArn=world.role_arn, RoleSessionName="alice", SourceIdentity="alice"
        )["Credentials"]
    )
    second = world.assume("alice", "hop-two", first)
    world.client("s3", "alice", second).list_buckets()
    chained = world.recorder.records[1]
    assert chained["userIdentity"]["type"] == "AssumedRole"
    assert chained["userIdentity"]["accessKeyId"] == first.access_key_id
    assert chained["responseElements"]["sourceIdentity"] == "alice"
    action = world.recorder.records[2]
    assert action["userIdentity"]["sessionContext"]["sourceIdentity"] == "alice"


def test_enforced_role_denies_a_foreign_session_name_with_stss_error(world: World) -> None:
    world.recorder.enforce_session_name(world.role_arn)
    with pytest.raises(ClientError) as raised:
        world.assume("mallory", "alice")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    world.assume("mallory", "mallory")
    denied, allowed = world.recorder.records
    assert denied["errorCode"] == "AccessDenied"
    assert denied["responseElements"] is None
    assert "resources" not in denied
    assert denied["requestParameters"]["roleSessionName"] == "alice"
    assert "errorCode" not in allowed


def test_denied_request_parameters_can_be_null_as_in_the_public_trails(
    world: World, real_records: list[dict[str, Any]]
) -> None:
    world.recorder.denied_request_parameters = False
    world.recorder.enforce_session_name(world.role_arn)
    with pytest.raises(ClientError):
        world.assume("mallory", "alice")
    ours = world.recorder.records[0]
    real = next(r for r in real_records if r["eventName"] == "AssumeRole" and r.get("errorCode"))
    assert ours["requestParameters"] is None
    assert set(_shape(ours)) == set(_shape(real))


def test_list_objects_v2_is_logged_as_a_list_objects_data_event(world: World) -> None:
    key = world.assume("alice", "alice")
    world.client("s3", "alice", key).list_objects_v2(Bucket="data-bucket")
    record = _one(world.recorder.records, "ListObjects")
    assert record["eventSource"] == "s3.amazonaws.com"
    assert record["eventCategory"] == "Data"
    assert record["managementEvent"] is False
    assert record["requestParameters"]["bucketName"] == "data-bucket"
    assert record["requestParameters"]["list-type"] == "2"
    assert record["resources"] == [
        {"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::data-bucket"}
    ]


def test_a_call_moto_rejects_is_logged_with_its_error(world: World) -> None:
    with pytest.raises(ClientError):
        world.client("s3", "alice").get_object(Bucket="data-bucket", Key="missing.csv")
    record = _one(world.recorder.records, "GetObject")
    assert record["errorCode"] == "NoSuchKey"
    assert record["userIdentity"]["type"] == "IAMUser"


def test_trust_policy_changes_carry_the_document_as_a_json_string(world: World) -> None:
    iam = world.client("iam", "alice")
    iam.update_assume_role_policy(RoleName="DataRole", PolicyDocument=ROOT_TRUST)
    iam.create_role(RoleName="NewRole", AssumeRolePolicyDocument=ROOT_TRUST)
    update = _one(world.recorder.records, "UpdateAssumeRolePolicy")
    assert update["requestParameters"] == {"roleName": "DataRole", "policyDocument": ROOT_TRUST}
    assert update["awsRegion"] == "us-east-1"
    assert update["responseElements"] is None
    create = _one(world.recorder.records, "CreateRole")
    assert create["requestParameters"]["assumeRolePolicyDocument"] == ROOT_TRUST
    assert unquote_plus(create["responseElements"]["role"]["assumeRolePolicyDocument"]) == (
        ROOT_TRUST
    )


def test_ec2_instance_role_issuance_is_logged_like_an_aws_service_call(
    world: World, real_records: list[dict[str, Any]]
) -> None:
    key = world.recorder.service_session(
        world.role_arn,
        session_name="i-0123456789abcdef0",
        credentials=Credentials(DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY),
    )
    world.recorder.client("s3", key, Actor("203.0.113.9")).list_buckets()
    issued, used = world.recorder.records
    real = next(
        r
        for r in real_records
        if r["eventName"] == "AssumeRole"
        and r["userIdentity"].get("invokedBy") == "ec2.amazonaws.com"
    )
    assert _shape(issued["userIdentity"]) == _shape(real["userIdentity"])
    assert set(_shape(issued)) == set(_shape(real))
    assert set(issued["responseElements"]) == {"credentials"}
    assert used["userIdentity"]["sessionContext"]["ec2RoleDelivery"] == "2.0"
    assert used["userIdentity"]["arn"].endswith("/DataRole/i-0123456789abcdef0")


def test_console_requests_use_fresh_keys_of_one_switched_session(
    world: World, real_records: list[dict[str, Any]]
) -> None:
    alice = world.users["alice"][1]
    console = world.recorder.console_switch_role(alice, world.role_arn, Actor("192.0.2.7"))
    console.client("s3").list_buckets()
    console.client("iam").list_roles()
    switch = _one(world.recorder.records, "SwitchRole")
    assert switch["additionalEventData"]["SwitchFrom"] == alice.arn
    assert switch["eventType"] == "AwsConsoleSignIn"
    actions = [r for r in world.recorder.records if r["eventName"] in ("ListBuckets", "ListRoles")]
    keys = {r["userIdentity"]["accessKeyId"] for r in actions}
    assert len(keys) == 2
    assert {r["userIdentity"]["principalId"] for r in actions} == {
        switch["userIdentity"]["principalId"]
    }
    assert {r["userIdentity"]["sessionContext"]["attributes"]["creationDate"] for r in actions} == {
        switch["eventTime"]
    }
    assert all(r["sessionCredentialFromConsole"] == "true" for r in actions)
    assert all(r["userAgent"] == "AWS Internal" for r in actions)
    login = _one(world.recorder.records, "ConsoleLogin")
    real_login = next(r for r in real_records if r["eventName"] == "ConsoleLogin")
    assert set(login) == set(real_login)


def test_identity_center_session_redacts_its_key_and_carries_on_behalf_of(
    world: World,
) -> None:
    key = world.recorder.identity_center_session(
        world.role_arn,
        user_name="erin@example.com",
        user_id="user-1",
        identity_store_id="d-1234567890",
        permission_set="AdminAccess",
        actor=Actor("192.0.2.8"),
    )
    world.recorder.client("s3", key, Actor("192.0.2.8")).list_buckets()
    vend, action = world.recorder.records
    assert (vend["eventSource"], vend["eventName"]) == ("sso.amazonaws.com", "GetRoleCredentials")
    assert vend["responseElements"] is None
    assert key.access_key_id not in json.dumps(vend)
    on_behalf = action["userIdentity"]["onBehalfOf"]
    assert on_behalf["userId"] == "user-1"
    assert on_behalf["identityStoreArn"].endswith("identitystore/d-1234567890")


def test_unknown_signing_key_is_refused_with_a_message_naming_it(world: World) -> None:
    stranger = Credentials("AKIASTRANGER00000000", "secret")
    client = world.recorder.client("sts", stranger, Actor("192.0.2.1"))
    with pytest.raises(RecorderError, match="AKIASTRANGER00000000"):
        client.get_caller_identity()


def _flush(world: World, prefix: str = "", **kwargs: Any) -> dict[str, list[dict[str, Any]]]:
    s3 = boto3.client("s3")
    keys = world.recorder.flush_to_s3(s3, "trail-bucket", prefix, **kwargs)
    return {
        key: json.loads(
            gzip.decompress(s3.get_object(Bucket="trail-bucket", Key=key)["Body"].read())
        )["Records"]
        for key in keys
    }


def test_marked_issuance_is_delivered_in_a_file_after_its_keys_first_use(world: World) -> None:
    key = world.assume("alice", "alice")
    world.recorder.mark_late(key.access_key_id)
    world.client("s3", "alice", key).list_buckets()
    files = _flush(world)
    where = {r["eventName"]: name for name, records in files.items() for r in records}
    assert where["AssumeRole"] > where["ListBuckets"]  # same folder: later name = later file


def test_records_inside_a_file_are_not_in_time_order(world: World) -> None:
    s3 = world.client("s3", "alice")
    for _ in range(12):
        s3.list_buckets()
    world.clock.advance(minutes=30)
    files = _flush(world)
    assert sum(len(records) for records in files.values()) == 12
    assert any(
        [r["eventTime"] for r in records] != sorted(r["eventTime"] for r in records)
        for records in files.values()
    )


def test_notifications_start_with_a_test_event_and_url_encode_keys(world: World) -> None:
    world.client("s3", "alice").list_buckets()
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="trail-events")["QueueUrl"]
    files = _flush(world, "env=prod", sqs_client=sqs, queue_url=queue_url)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert bodies[0]["Event"] == "s3:TestEvent"
    raw_keys = [b["Records"][0]["s3"]["object"]["key"] for b in bodies[1:]]
    assert all(k.startswith("env%3Dprod/AWSLogs/123456789012/CloudTrail/") for k in raw_keys)
    assert [unquote_plus(k) for k in raw_keys] == list(files)


def test_trail_files_hold_no_secret_key_and_no_usable_session_token(
    world: World, tmp_path: Path
) -> None:
    key = world.assume("alice", "alice")
    world.client("s3", "alice", key).list_buckets()
    _flush(world, local_dir=tmp_path)
    written = "".join(p.read_text("utf-8") for p in tmp_path.rglob("*.json"))
    secrets = [world.users["alice"][0].secret_access_key, key.secret_access_key]
    assert key.session_token
    assert all(secret not in written for secret in [*secrets, key.session_token])
    assert key.access_key_id in written
