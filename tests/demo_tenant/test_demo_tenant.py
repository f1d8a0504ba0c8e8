"""The seeded demo tenant: what exists in moto, what the trail holds, what it implies."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID
from devkit.demo_scenario import LOOKALIKE_ROLE_NAME, SSO_ROLE_NAME, USERS
from devkit.demo_tenant import SENSITIVE_BUCKET, write_tenant_config
from devkit.loader import REPO_ROOT
from devkit.runner import TenantConfig
from devkit.trust_eval import evaluate_input

if TYPE_CHECKING:
    from tests.demo_tenant.conftest import SeededDemo

KEY_PATTERN = re.compile(
    r"^org-trail/AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/"
    r"(?P=acct)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$"
)


def _issuance(records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(
        r
        for r in records
        if r["eventName"] == "AssumeRole"
        and (r.get("responseElements") or {}).get("credentials", {}).get("accessKeyId") == key
        and r["userIdentity"]["type"] != "AWSAccount"
    )


def _uses(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [r for r in records if r["userIdentity"].get("accessKeyId") == key]


def _file_of(files: dict[str, list[dict[str, Any]]], event_id: str) -> str:
    return next(k for k, records in files.items() if any(r["eventID"] == event_id for r in records))


def _file_time(key: str) -> datetime:
    match = KEY_PATTERN.match(key)
    assert match, key
    return datetime.strptime(match["stamp"], "%Y%m%dT%H%MZ")


def test_seeded_account_has_the_users_with_access_keys(demo: SeededDemo) -> None:
    iam = boto3.client("iam")
    for name in USERS:
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [demo.tenant.users[name].access_key_id]


def test_seeded_roles_carry_their_trust_policies_paths_and_managed_policies(
    demo: SeededDemo,
) -> None:
    iam = boto3.client("iam")
    my_bucket = iam.get_role(RoleName="MyBucketRole")["Role"]
    statement = my_bucket["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert "Condition" not in statement
    compliant = iam.get_role(RoleName="CompliantRole")["Role"]["AssumeRolePolicyDocument"]
    assert compliant["Statement"][0]["Condition"] == {
        "StringEquals": {"sts:RoleSessionName": "${aws:username}"}
    }
    sso = iam.get_role(RoleName=SSO_ROLE_NAME)["Role"]
    assert sso["Path"] == "/aws-reserved/sso.amazonaws.com/"
    slr = iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]
    assert slr["Path"].startswith("/aws-service-role/")
    attached = {
        name: [
            p["PolicyName"]
            for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        ]
        for name in ("MyBucketRole", "OpsAdminRole", LOOKALIKE_ROLE_NAME)
    }
    assert attached == {
        "MyBucketRole": ["AmazonS3ReadOnlyAccess"],
        "OpsAdminRole": ["AdministratorAccess"],
        LOOKALIKE_ROLE_NAME: ["AdministratorAccess"],
    }


def test_the_look_alike_is_an_identity_center_name_outside_the_reserved_path(
    demo: SeededDemo,
) -> None:
    """What an attacker with iam:CreateRole can plant: the name, not the path."""
    role = boto3.client("iam").get_role(RoleName=LOOKALIKE_ROLE_NAME)["Role"]
    assert role["RoleName"].startswith("AWSReservedSSO_")
    assert role["Path"] == "/"
    assert role["Arn"] == f"arn:aws:iam::{demo.tenant.account_id}:role/{LOOKALIKE_ROLE_NAME}"
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{demo.tenant.account_id}:root"}
    assert "Condition" not in statement


def test_the_plugins_evaluator_gives_each_seeded_role_its_scenario_verdict(
    demo: SeededDemo,
) -> None:
    """Each role as moto holds it now, judged by the plugin's trust evaluator: status, what
    an exemption rests on (the reserved path or the trust policy, never the name) and
    whether the name imitates an AWS-managed role."""
    iam = boto3.client("iam")
    judged, implied = {}, {}
    for name, verdict in demo.tenant.posture.items():
        role = iam.get_role(RoleName=name)["Role"]
        result = evaluate_input({"Role": role}, (), None)
        judged[name] = (
            result["status"],
            result.get("exempt_by"),
            result["imitates_aws_managed_role"],
        )
        kind = verdict.imitates.kind if verdict.imitates else None
        implied[name] = (verdict.status, verdict.exempt_by, kind)
    assert set(judged) == set(demo.tenant.role_arns)
    assert judged == implied
    assert judged[LOOKALIKE_ROLE_NAME] == ("not_enforced", None, "IAM Identity Center")
    assert judged[SSO_ROLE_NAME] == ("exempt", "reserved_path", None)


def test_drift_role_really_lost_its_condition_in_moto(demo: SeededDemo) -> None:
    document = boto3.client("iam").get_role(RoleName="DriftRole")["Role"][
        "AssumeRolePolicyDocument"
    ]
    assert all("Condition" not in s for s in document["Statement"])


def test_sensitive_bucket_is_lowercase_and_holds_objects(demo: SeededDemo) -> None:
    assert demo.tenant.sensitive_bucket == SENSITIVE_BUCKET == "mysensitivebucket"
    listed = boto3.client("s3").list_objects_v2(Bucket=SENSITIVE_BUCKET)
    assert len(listed["Contents"]) == 3


def test_trail_objects_use_cloudtrails_key_layout(demo: SeededDemo) -> None:
    listed = boto3.client("s3").list_objects_v2(Bucket=demo.tenant.bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(demo.tenant.trail_keys)
    for key in demo.tenant.trail_keys:
        match = KEY_PATTERN.match(key)
        assert match, key
        assert match["stamp"].startswith(f"{match['y']}{match['m']}{match['d']}T")
        assert int(match["stamp"][-3:-1]) % 5 == 0  # 5-minute delivery slots


def test_every_record_is_delivered_after_its_event_time(demo: SeededDemo) -> None:
    for key, records in demo.files.items():
        delivered = _file_time(key)
        for record in records:
            assert datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ") <= delivered


def test_local_copies_are_plain_json_of_the_same_files(demo: SeededDemo) -> None:
    local_dir = demo.tenant.local_dir
    assert isinstance(local_dir, Path)
    for key, records in demo.files.items():
        copy = json.loads((local_dir / key.removesuffix(".gz")).read_text("utf-8"))
        assert copy == {"Records": records}


def test_seed_scenario_support_user_lists_the_bucket_hours_after_assuming(
    demo: SeededDemo,
) -> None:
    finding = next(
        f for f in demo.tenant.expected if f.user_name == "support_user" and f.kind != "posture"
    )
    assert finding.access_key_id is not None
    issuance = _issuance(demo.records, finding.access_key_id)
    assert issuance["userIdentity"]["userName"] == "support_user"
    assert issuance["requestParameters"]["roleArn"].endswith(":role/MyBucketRole")
    assert issuance["requestParameters"]["roleSessionName"].startswith("botocore-session-")
    (listing,) = _uses(demo.records, finding.access_key_id)
    assert listing["eventName"] == "ListObjects"
    assert listing["requestParameters"]["bucketName"] == SENSITIVE_BUCKET
    gap = datetime.fromisoformat(listing["eventTime"]) - datetime.fromisoformat(
        issuance["eventTime"]
    )
    assert gap.total_seconds() >= 3 * 3600


def test_each_activity_finding_key_is_issued_by_assume_role_and_signs_its_events(
    demo: SeededDemo,
) -> None:
    for finding in demo.tenant.expected:
        if finding.kind != "noncompliant_activity" or finding.details.get("console"):
            continue
        key = finding.access_key_id
        assert key is not None and key.startswith("ASIA")
        uses = _uses(demo.records, key)
        assert {r["eventName"] for r in uses} >= set(finding.event_names)
        assert all(r["userIdentity"]["type"] == "AssumedRole" for r in uses)
        assert all(r["userIdentity"]["arn"].endswith(f"/{finding.session_name}") for r in uses)
        assert _issuance(demo.records, key)["requestParameters"]["roleArn"] == finding.role_arn


def test_some_assume_role_lands_in_a_later_file_than_its_keys_first_use(
    demo: SeededDemo,
) -> None:
    late = [f for f in demo.tenant.expected if f.details.get("issuance_delivered_late")]
    assert late
    for finding in late:
        assert finding.access_key_id is not None
        issuance = _issuance(demo.records, finding.access_key_id)
        first_use = min(_uses(demo.records, finding.access_key_id), key=lambda r: r["eventTime"])
        assert first_use["eventTime"] > issuance["eventTime"]
        issued_in = _file_time(_file_of(demo.files, issuance["eventID"]))
        used_in = _file_time(_file_of(demo.files, first_use["eventID"]))
        assert issued_in > used_in


def test_denied_assume_role_has_no_response_and_names_the_attempted_session(
    demo: SeededDemo,
) -> None:
    (denied,) = [r for r in demo.records if r.get("errorCode")]
    assert denied["eventName"] == "AssumeRole"
    assert denied["errorCode"] == "AccessDenied"
    assert denied["responseElements"] is None
    assert denied["userIdentity"]["userName"] == "carol"
    assert denied["requestParameters"]["roleSessionName"] == "admin"
    assert denied["errorMessage"] == (
        "User: arn:aws:iam::123456789012:user/carol is not authorized to perform: "
        "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/EnforcedRole"
    )


def test_trust_change_is_logged_with_the_new_policy_as_a_json_string(demo: SeededDemo) -> None:
    changes = [
        r for r in demo.records if r["eventName"] in ("CreateRole", "UpdateAssumeRolePolicy")
    ]
    assert [r["eventName"] for r in sorted(changes, key=lambda r: r["eventTime"])] == [
        "CreateRole",
        "UpdateAssumeRolePolicy",
    ]
    update = next(r for r in changes if r["eventName"] == "UpdateAssumeRolePolicy")
    assert update["userIdentity"]["userName"] == "dave"
    assert update["requestParameters"]["roleName"] == "DriftRole"
    policy = json.loads(update["requestParameters"]["policyDocument"])
    assert "Condition" not in policy["Statement"][0]


def test_partner_assume_role_is_logged_in_both_accounts_with_one_shared_event_id(
    demo: SeededDemo,
) -> None:
    copies = [
        r
        for r in demo.records
        if r["eventName"] == "AssumeRole"
        and r["requestParameters"]["roleArn"].endswith("/PartnerAuditRole")
    ]
    by_account = {r["recipientAccountId"]: r for r in copies}
    assert set(by_account) == {"123456789012", "999988887777"}
    assert by_account["123456789012"]["userIdentity"]["type"] == "AWSAccount"
    assert by_account["999988887777"]["userIdentity"]["type"] == "IAMUser"
    assert len({r["sharedEventID"] for r in copies}) == 1
    assert len({r["eventID"] for r in copies}) == 2


def test_sqs_gets_a_test_event_then_one_notification_per_trail_object(demo: SeededDemo) -> None:
    sqs = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=demo.tenant.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        if not batch or len(bodies) > 100:
            break
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=demo.tenant.queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
    assert bodies[0]["Event"] == "s3:TestEvent"
    keys = [unquote_plus(b["Records"][0]["s3"]["object"]["key"]) for b in bodies[1:]]
    assert keys == demo.tenant.trail_keys
    assert all(b["Records"][0]["eventName"] == "ObjectCreated:Put" for b in bodies[1:])


def test_expected_findings_cover_every_planted_case(demo: SeededDemo) -> None:
    found = {(f.kind, f.role_name, f.user_name) for f in demo.tenant.expected}
    assert {
        ("noncompliant_activity", "MyBucketRole", "support_user"),
        ("noncompliant_activity", "ChainTargetRole", "bob"),
        ("session_spoofing", "MyBucketRole", "mallory"),
        ("denied_assume_role", "EnforcedRole", "carol"),
        ("trust_policy_weakened", "DriftRole", "dave"),
        ("noncompliant_activity", "DriftRole", "alice"),
        ("noncompliant_activity", "OpsAdminRole", "dave"),
        ("posture", "MyBucketRole", None),
        ("posture", LOOKALIKE_ROLE_NAME, None),
        ("role_name_imitation", LOOKALIKE_ROLE_NAME, None),
    } <= found
    assert [f.role_name for f in demo.tenant.expected if f.kind == "role_name_imitation"] == [
        LOOKALIKE_ROLE_NAME
    ]
    planted = {(f.kind, f.role_name, f.session_name, f.event_names) for f in demo.tenant.expected}
    forbidden = {(f.kind, f.role_name, f.session_name, f.event_names) for f in demo.tenant.absent}
    assert not planted & forbidden
    json.dumps(demo.tenant.expected_as_json())  # machine-readable


def test_tenant_config_is_what_the_local_ce_runner_loads(demo: SeededDemo, tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    written = write_tenant_config(
        path,
        demo.tenant,
        hec_url="http://127.0.0.1:8088",
        hec_token="00000000-0000-0000-0000-000000000000",
        index="main",
    )
    loaded = TenantConfig.load(path)
    assert loaded.configuration == written["configuration"]
    aws = loaded.configuration["aws"]
    assert aws["authentication_method"] == "access_keys"
    assert aws["access_key_id"] == DEMO_ACCESS_KEY_ID
    trail = loaded.configuration["cloudtrail"]
    assert (trail["source"], trail["bucket_name"], trail["bucket_prefix"]) == (
        "s3",
        demo.tenant.bucket,
        "org-trail",
    )
    assert trail["sqs_queue_url"] == demo.tenant.queue_url
    manifest = json.loads((REPO_ROOT / "manifest.json").read_text("utf-8"))
    for step in manifest["configuration"]:
        assert {f["key"] for f in step["fields"]} == set(loaded.configuration[step["name"]])


def test_scenario_table_lists_each_planted_case_in_order(demo: SeededDemo) -> None:
    rows = demo.tenant.scenario
    assert rows[0].who == "support_user" and rows[0].role == "MyBucketRole"
    assert rows[0].session_name.startswith("botocore-session-")
    assert [r.who for r in rows].count("dave") == 3
