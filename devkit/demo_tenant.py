"""The demo tenant: a moto account where the demo scenario is *performed*, and its trail.

Why: the plugin must be shown (and tested) against what a real account produces, not against
hand-written records. So every action below is a real boto3 call to moto (server mode, reached
through ``AWS_ENDPOINT_URL``): moto creates the users, keys, roles and objects and issues the
``ASIA…`` keys; ``devkit.trail_recorder`` logs each call as CloudTrail would and delivers the
files to the trail bucket in the real layout. The result also says, machine-readably, which
findings the data implies (``DemoTenant.expected``) and which it must not produce
(``DemoTenant.absent``), so the demo test can assert the plugin's alerts.

Decisions (documented because they differ from the seed's wording):

* **Bucket name** — the seed says ``MySensitiveBucket``. moto accepts it, but real S3 rejects
  upper-case bucket names, so a trail that shows it could not come from AWS; the bucket is
  ``mysensitivebucket`` (``DemoTenant.sensitive_bucket``).
* **AWS managed policies** — moto loads them only when ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``
  is set *in the server's process* when the account's IAM backend is created (its
  ``/moto-api/config`` endpoint cannot switch it on). ``MotoServer.start_process(extra_env=
  {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})`` does it for a process server; for a thread
  server pass ``server=`` to ``seed_demo_tenant`` (it calls ``load_managed_policies``, which
  sets the variable, resets moto, materialises IAM and restores the variable so later resets
  stay fast).
* **Trust policies** — moto lets everyone assume every role. Roles that enforce
  ``sts:RoleSessionName = ${aws:username}`` are emulated by the recorder's session-name gate:
  carol's ``AssumeRole`` on ``EnforcedRole`` with session name ``admin`` really fails with
  ``AccessDenied`` in boto3 and is logged as a denied call.
* **Set-up is not in the trail** — users, buckets and most roles exist before the look-back
  window (as in a real account); only the scenario's calls are logged. ``DriftRole`` is the
  exception: dave creates it inside the window, so the trail holds its compliant
  ``CreateRole`` before the ``UpdateAssumeRolePolicy`` that weakens it.
* **S3 data events** — ``ListObjects``/``GetObject`` are logged as data events
  (``eventCategory: Data``, ``managementEvent: false``), as a trail with S3 data events
  enabled records them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from devkit.aws_emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_REGION,
    DEMO_SECRET_ACCESS_KEY,
    MotoServer,
)
from devkit.tenant_config import tenant_configuration
from devkit.trail_recorder import (
    Actor,
    Credentials,
    TrailClock,
    TrailRecorder,
    UserPrincipal,
)

ACCOUNT_ID = "123456789012"  # moto's default account
PARTNER_ACCOUNT_ID = "999988887777"
SENSITIVE_BUCKET = "mysensitivebucket"
USERS = ("support_user", "alice", "bob", "mallory", "carol", "dave")
SENSITIVE_OBJECTS = {
    "customers/customer-records.csv": b"id,name,email\n1,Ada,ada@example.com\n",
    "finance/q3-forecast.csv": b"quarter,revenue\nQ3,1200000\n",
    "reports/2026-q3-summary.txt": b"Quarterly summary (demo data).\n",
}
MANAGED_POLICY_PROBE = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
SESSION_NAME_CONDITION = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
SSO_ROLE_NAME = "AWSReservedSSO_AdminAccess_abc123"
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
EC2_INSTANCE_ID = "i-0a1b2c3d4e5f67890"
IDENTITY_STORE_ID = "d-9067a1b2c3"

FindingKind = Literal[
    "posture",
    "noncompliant_activity",
    "session_spoofing",
    "denied_assume_role",
    "trust_policy_weakened",
]


class DemoTenantError(RuntimeError):
    """The demo tenant could not be seeded; the message says what to fix."""


@dataclass(frozen=True)
class ExpectedFinding:
    """One finding the seeded data implies (or, in ``DemoTenant.absent``, must not produce).

    ``identity_arn``/``user_name`` are the *resolved* origin (the person), not the session.
    ``event_names`` must all appear among the finding's actions (it may list more, e.g. the
    console's ``SwitchRole``). ``details`` holds kind-specific facts (spoofed name, chain,
    cross-account origin) so a test can assert them without guessing.
    """

    kind: FindingKind
    role_name: str
    role_arn: str
    identity_arn: str | None = None
    user_name: str | None = None
    session_name: str | None = None
    access_key_id: str | None = None
    event_names: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["event_names"] = list(self.event_names)
        data["details"] = dict(self.details)
        return data


@dataclass(frozen=True)
class RoleVerdict:
    """The posture a role should get, in the vocabulary of aws-semantics.md §1.

    ``alert`` is whether a posture alert is implied; ``None`` where either is defensible
    (``unsatisfiable`` roles: nobody can assume them, so there is no attribution gap, but
    the trust policy is still broken).
    """

    status: str | None
    alert: bool | None
    why: str


@dataclass(frozen=True)
class ScenarioStep:
    """One row of the scenario table the demo prints: who did what, and what it should yield."""

    who: str
    role: str
    session_name: str
    what: str
    expected: str


@dataclass
class DemoUser:
    """An IAM user of the tenant (no secret: the secret key stays inside the seeding run)."""

    name: str
    arn: str
    principal_id: str
    access_key_id: str


@dataclass
class DemoTenant:
    """What ``seed_demo_tenant`` built: where the trail is, the roles, and what to expect."""

    account_id: str
    region: str
    bucket: str
    prefix: str
    queue_name: str
    queue_url: str
    sensitive_bucket: str
    start: datetime
    end: datetime
    role_arns: dict[str, str]
    users: dict[str, DemoUser]
    trail_keys: list[str]
    expected: list[ExpectedFinding]
    absent: list[ExpectedFinding]
    posture: dict[str, RoleVerdict]
    scenario: list[ScenarioStep] = field(default_factory=list)
    partner_account_id: str = PARTNER_ACCOUNT_ID
    local_dir: Path | None = None
    record_count: int = 0

    def expected_as_json(self) -> list[dict[str, Any]]:
        return [finding.to_dict() for finding in self.expected]


# --------------------------------------------------------------------------------------------
# moto preparation


def load_managed_policies(server: MotoServer, account_id: str = ACCOUNT_ID) -> None:
    """Reset a *thread* moto server with AWS managed policies loaded in ``account_id``.

    moto reads ``MOTO_IAM_LOAD_MANAGED_POLICIES`` when an account's IAM backend is built
    (reset or first use); the variable is set only for that moment because loading ~1,300
    policies costs about a second per reset, which every other test would otherwise pay.
    A process server must instead be started with the variable in its environment.
    """
    if server._process is not None:
        raise DemoTenantError(
            "moto runs as a separate process: start it with "
            "extra_env={'MOTO_IAM_LOAD_MANAGED_POLICIES': 'true'} instead"
        )
    previous = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    try:
        server.reset()
        iam = boto3.client(
            "iam",
            endpoint_url=server.endpoint,
            region_name=DEMO_REGION,
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
        )
        iam.get_policy(PolicyArn=MANAGED_POLICY_PROBE)  # builds the backend now
    finally:
        if previous is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = previous


def _ensure_managed_policies(iam: Any, server: MotoServer | None) -> None:
    try:
        iam.get_policy(PolicyArn=MANAGED_POLICY_PROBE)
        return
    except ClientError:
        pass
    if server is None:
        raise DemoTenantError(
            "moto has no AWS managed policies (AmazonS3ReadOnlyAccess not found): start moto "
            "with MOTO_IAM_LOAD_MANAGED_POLICIES=true, or pass server= to seed_demo_tenant "
            "so it can reset the thread server with them loaded"
        )
    load_managed_policies(server)
    iam.get_policy(PolicyArn=MANAGED_POLICY_PROBE)


# --------------------------------------------------------------------------------------------
# Trust policies


def _trust(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def _allow_aws(principal: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return statement


# --------------------------------------------------------------------------------------------
# Seeding


def seed_demo_tenant(
    *,
    bucket: str = "demo-cloudtrail-bucket",
    queue_name: str = "demo-cloudtrail-notifications",
    start: datetime | None = None,
    prefix: str = "",
    server: MotoServer | None = None,
    local_dir: Path | None = None,
    notifications: Literal["recorder", "moto"] = "recorder",
    include_partner_account_logs: bool = True,
    seed: int = 7,
) -> DemoTenant:
    """Create the demo account in moto, perform the scenario for real, deliver its trail.

    ``start`` defaults to 20 hours ago (whole hour), so the ~10-hour scenario and its
    delivery delays lie inside a 24-hour look-back when the plugin runs right after.
    ``notifications="recorder"`` sends S3-shaped notifications with keys URL-encoded as S3
    does (``/`` kept); ``"moto"`` configures the bucket's real notification instead (moto
    sends the ``s3:TestEvent`` itself, but encodes ``/`` in keys as ``%2F``).
    ``include_partner_account_logs`` also writes the partner account's own trail (the
    caller-side copy of its cross-account AssumeRole) under ``AWSLogs/999988887777/``, as a
    central multi-account trail bucket holds it.
    """
    if start is None:
        start = (datetime.now(UTC) - timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)
    region = DEMO_REGION
    admin = {"region_name": region}
    iam = boto3.client("iam", **admin)  # type: ignore[call-overload]
    s3 = boto3.client("s3", **admin)  # type: ignore[call-overload]
    sqs = boto3.client("sqs", **admin)  # type: ignore[call-overload]
    _ensure_managed_policies(iam, server)
    account_id = boto3.client("sts", **admin).get_caller_identity()["Account"]  # type: ignore[call-overload]

    clock = TrailClock(start, seed=seed)
    recorder = TrailRecorder(account_id=account_id, clock=clock, region=region, seed=seed)
    recorder.register_root(DEMO_ACCESS_KEY_ID)

    # ---- users and their keys (set-up, before the window: not logged) ----
    credentials: dict[str, Credentials] = {}
    principals: dict[str, UserPrincipal] = {}
    for name in USERS:
        user = iam.create_user(UserName=name)["User"]
        key = iam.create_access_key(UserName=name)["AccessKey"]
        credentials[name] = Credentials.from_access_key(key)
        principals[name] = recorder.register_user(user, key["AccessKeyId"])

    # ---- buckets and the notification queue ----
    s3.create_bucket(Bucket=SENSITIVE_BUCKET)
    for key_name, body in SENSITIVE_OBJECTS.items():
        s3.put_object(Bucket=SENSITIVE_BUCKET, Key=key_name, Body=body)
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={"Policy": _queue_policy(queue_arn, bucket, account_id)},
    )
    if notifications == "moto":
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "cloudtrail-new-objects",
                        "QueueArn": queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )

    # ---- roles (set-up: not logged) ----
    root = f"arn:aws:iam::{account_id}:root"
    role_arns: dict[str, str] = {}

    def make_role(
        name: str,
        document: str,
        *,
        path: str = "/",
        policies: tuple[str, ...] = (),
        max_session: int = 3600,
    ) -> str:
        role = iam.create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=document,
            MaxSessionDuration=max_session,
        )["Role"]
        recorder.register_role(role)
        for policy in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        role_arns[name] = role["Arn"]
        return str(role["Arn"])

    make_role(
        "MyBucketRole",
        _trust(_allow_aws(root)),
        policies=("AmazonS3ReadOnlyAccess",),
        max_session=43200,
    )
    make_role(
        "CompliantRole",
        _trust(_allow_aws(root, SESSION_NAME_CONDITION)),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    intermediate = make_role(
        "ChainIntermediateRole", _trust(_allow_aws(root, SESSION_NAME_CONDITION))
    )
    make_role("ChainTargetRole", _trust(_allow_aws(intermediate)), policies=("ReadOnlyAccess",))
    iam.put_role_policy(
        RoleName="ChainIntermediateRole",
        PolicyName="AssumeChainTarget",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": role_arns["ChainTargetRole"],
                    }
                ],
            }
        ),
    )
    make_role(
        "EnforcedRole",
        _trust(_allow_aws(root, SESSION_NAME_CONDITION)),
        policies=("ReadOnlyAccess",),
    )
    make_role(
        "WeakPrefixRole",
        _trust(_allow_aws(root, {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}})),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    make_role("OpsAdminRole", _trust(_allow_aws(root)), policies=("AdministratorAccess",))
    make_role(
        "PartnerAuditRole",
        _trust(_allow_aws(f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:root")),
        policies=("ReadOnlyAccess",),
    )
    make_role(
        SSO_ROLE_NAME,
        _trust(
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": (
                        f"arn:aws:iam::{account_id}:saml-provider/"
                        "AWSSSO_4f3c2b1a0d9e8f7a_DO_NOT_DELETE"
                    )
                },
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
            }
        ),
        path=SSO_PATH,
        policies=("AdministratorAccess",),
        max_session=43200,
    )
    make_role(
        "Ec2AppRole",
        _trust(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    role_arns["AWSServiceRoleForAutoScaling"] = _service_linked_role(iam, recorder)
    make_role("NoStatementRole", _trust())
    make_role(
        "LegacyVersionRole",
        _trust(_allow_aws(root, SESSION_NAME_CONDITION), version="2008-10-17"),
    )
    for enforced in ("CompliantRole", "ChainIntermediateRole", "EnforcedRole"):
        recorder.enforce_session_name(role_arns[enforced])

    # ---- the partner account (cross-account caller) ----
    partner_credentials, partner = _partner_user(recorder, region)

    # ---- the scenario, performed ----
    actors = {
        "support_user": Actor("198.51.100.23"),
        "alice": Actor("198.51.100.41"),
        "bob": Actor("203.0.113.17"),
        "mallory": Actor("203.0.113.200"),
        "carol": Actor("198.51.100.77"),
        "dave": Actor("192.0.2.10"),
        "erin": Actor("192.0.2.44"),
        "instance": Actor("203.0.113.90"),
        "partner": Actor("192.0.2.150"),
    }

    def rec(service: str, user: str, creds: Credentials | None = None) -> Any:
        return recorder.client(service, creds or credentials[user], actors[user])

    def assume(
        user: str,
        role: str,
        session: str,
        *,
        via: Credentials | None = None,
        duration: int | None = None,
    ) -> Credentials:
        extra = {"DurationSeconds": duration} if duration else {}
        answer = rec("sts", user, via).assume_role(
            RoleArn=role_arns[role], RoleSessionName=session, **extra
        )
        return Credentials.from_sts(answer["Credentials"])

    expected: list[ExpectedFinding] = []
    absent: list[ExpectedFinding] = []

    def person(user: str) -> dict[str, Any]:
        return {"identity_arn": principals[user].arn, "user_name": user}

    # 1. The seed: support_user assumes MyBucketRole with an SDK-generated session name ...
    clock.set(start + timedelta(minutes=5))
    sdk_session = f"botocore-session-{int(clock.now().timestamp())}"
    support_key = assume("support_user", "MyBucketRole", sdk_session, duration=14400)

    # 2. alice uses the compliant role correctly.
    clock.set(start + timedelta(minutes=20))
    alice_key = assume("alice", "CompliantRole", "alice")
    rec("s3", "alice", alice_key).list_buckets()
    rec("s3", "alice", alice_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="reports/2026-q3-summary.txt"
    )["Body"].read()
    absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "CompliantRole",
            role_arns["CompliantRole"],
            session_name="alice",
            access_key_id=alice_key.access_key_id,
            **person("alice"),
        )
    )

    # 3. bob: two-hop chain, acts with the final key (its AssumeRole is delivered late).
    clock.set(start + timedelta(hours=1))
    bob_first = assume("bob", "ChainIntermediateRole", "bob")
    clock.advance(minutes=1)
    bob_final = assume("bob", "ChainTargetRole", "deploy-pipeline", via=bob_first, duration=3600)
    recorder.mark_late(bob_final.access_key_id)
    clock.advance(minutes=1)
    rec("iam", "bob", bob_final).list_users()
    rec("s3", "bob", bob_final).list_buckets()
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "ChainTargetRole",
            role_arns["ChainTargetRole"],
            session_name="deploy-pipeline",
            access_key_id=bob_final.access_key_id,
            event_names=("ListUsers", "ListBuckets"),
            details={
                "chain": [
                    f"arn:aws:sts::{account_id}:assumed-role/ChainIntermediateRole/bob",
                    f"arn:aws:sts::{account_id}:assumed-role/ChainTargetRole/deploy-pipeline",
                ],
                "issuance_delivered_late": True,
            },
            **person("bob"),
        )
    )

    # 4. mallory assumes MyBucketRole calling herself "alice", reads an object.
    clock.set(start + timedelta(hours=1, minutes=30))
    mallory_key = assume("mallory", "MyBucketRole", "alice")
    recorder.mark_late(mallory_key.access_key_id)
    clock.advance(minutes=1)
    rec("s3", "mallory", mallory_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="customers/customer-records.csv"
    )["Body"].read()
    expected.append(
        ExpectedFinding(
            "session_spoofing",
            "MyBucketRole",
            role_arns["MyBucketRole"],
            session_name="alice",
            access_key_id=mallory_key.access_key_id,
            event_names=("AssumeRole",),
            details={"spoofed_user": "alice", "spoofed_user_arn": principals["alice"].arn},
            **person("mallory"),
        )
    )
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "MyBucketRole",
            role_arns["MyBucketRole"],
            session_name="alice",
            access_key_id=mallory_key.access_key_id,
            event_names=("GetObject",),
            details={"bucket": SENSITIVE_BUCKET, "issuance_delivered_late": True},
            **person("mallory"),
        )
    )

    # 5. carol probes EnforcedRole as "admin" (denied), then assumes it properly.
    clock.set(start + timedelta(hours=2))
    try:
        assume("carol", "EnforcedRole", "admin")
        raise DemoTenantError("EnforcedRole did not deny carol's 'admin' session: gate broken")
    except ClientError as error:
        if error.response["Error"]["Code"] != "AccessDenied":
            raise
    expected.append(
        ExpectedFinding(
            "denied_assume_role",
            "EnforcedRole",
            role_arns["EnforcedRole"],
            session_name="admin",
            event_names=("AssumeRole",),
            details={"error_code": "AccessDenied"},
            **person("carol"),
        )
    )
    clock.advance(minutes=2)
    carol_key = assume("carol", "EnforcedRole", "carol")
    rec("sts", "carol", carol_key).get_caller_identity()
    absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "EnforcedRole",
            role_arns["EnforcedRole"],
            session_name="carol",
            access_key_id=carol_key.access_key_id,
            **person("carol"),
        )
    )

    # 1 (cont.). ... and lists MySensitiveBucket three hours later.
    clock.set(start + timedelta(hours=3, minutes=10))
    rec("s3", "support_user", support_key).list_objects_v2(Bucket=SENSITIVE_BUCKET)
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "MyBucketRole",
            role_arns["MyBucketRole"],
            session_name=sdk_session,
            access_key_id=support_key.access_key_id,
            event_names=("ListObjects",),
            details={"bucket": SENSITIVE_BUCKET, "seed_scenario": True},
            **person("support_user"),
        )
    )

    # 6. dave creates DriftRole compliant (logged), uses it, then removes the condition.
    clock.set(start + timedelta(hours=4))
    dave_iam = rec("iam", "dave")
    drift = dave_iam.create_role(
        RoleName="DriftRole",
        AssumeRolePolicyDocument=_trust(_allow_aws(root, SESSION_NAME_CONDITION)),
    )["Role"]
    role_arns["DriftRole"] = drift["Arn"]
    dave_iam.attach_role_policy(
        RoleName="DriftRole", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    recorder.enforce_session_name(drift["Arn"])
    clock.advance(minutes=10)
    dave_key = assume("dave", "DriftRole", "dave")
    rec("s3", "dave", dave_key).list_buckets()
    absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "DriftRole",
            drift["Arn"],
            session_name="dave",
            access_key_id=dave_key.access_key_id,
            details={"why": "DriftRole enforced the rule when this session was issued"},
            **person("dave"),
        )
    )
    absent.append(
        ExpectedFinding(
            "trust_policy_weakened",
            "DriftRole",
            drift["Arn"],
            event_names=("CreateRole",),
            details={"why": "the CreateRole policy enforces the rule"},
            **person("dave"),
        )
    )
    clock.set(start + timedelta(hours=5))
    dave_iam.update_assume_role_policy(
        RoleName="DriftRole", PolicyDocument=_trust(_allow_aws(root))
    )
    recorder.enforce_session_name(drift["Arn"], enforced=False)
    expected.append(
        ExpectedFinding(
            "trust_policy_weakened",
            "DriftRole",
            drift["Arn"],
            event_names=("UpdateAssumeRolePolicy",),
            details={"before": "enforced", "after": "not_enforced"},
            **person("dave"),
        )
    )

    # 7. After the drift, alice uses DriftRole under a non-identifying name.
    clock.set(start + timedelta(hours=6))
    drift_key = assume("alice", "DriftRole", "nightly-job")
    clock.advance(minutes=2)
    rec("s3", "alice", drift_key).list_objects_v2(Bucket=SENSITIVE_BUCKET, Prefix="finance/")
    rec("s3", "alice", drift_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="finance/q3-forecast.csv"
    )["Body"].read()
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "DriftRole",
            drift["Arn"],
            session_name="nightly-job",
            access_key_id=drift_key.access_key_id,
            event_names=("ListObjects", "GetObject"),
            details={"bucket": SENSITIVE_BUCKET, "after_trust_change": True},
            **person("alice"),
        )
    )

    # 8. dave switches to OpsAdminRole in the console (fresh key per console request).
    clock.set(start + timedelta(hours=7))
    console = recorder.console_switch_role(
        principals["dave"], role_arns["OpsAdminRole"], actors["dave"]
    )
    clock.advance(minutes=1)
    console.client("iam").list_roles()
    console.client("s3").list_buckets()
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "OpsAdminRole",
            role_arns["OpsAdminRole"],
            session_name="dave",
            access_key_id=console.keys[0],
            event_names=("ListRoles", "ListBuckets"),
            details={
                "console": True,
                "resolved_via": "SwitchRole additionalEventData.SwitchFrom",
                "keys": list(console.keys),
            },
            **person("dave"),
        )
    )

    # 9. An Identity Center user works through the SSO role (exempt: no activity alert).
    clock.set(start + timedelta(hours=8))
    erin_key = recorder.identity_center_session(
        role_arns[SSO_ROLE_NAME],
        user_name="erin@example.com",
        user_id="9067a1b2c3-4d5e6f70-8192-a3b4-c5d6-e7f8091a2b3c",
        identity_store_id=IDENTITY_STORE_ID,
        permission_set="AdminAccess",
        actor=actors["erin"],
    )
    clock.advance(minutes=1)
    rec("s3", "erin", erin_key).list_buckets()
    rec("s3", "erin", erin_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="reports/2026-q3-summary.txt"
    )["Body"].read()
    absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            SSO_ROLE_NAME,
            role_arns[SSO_ROLE_NAME],
            session_name="erin@example.com",
            access_key_id=erin_key.access_key_id,
            details={"why": "IAM Identity Center roles are exempt"},
        )
    )

    # 10. EC2 fetches its instance role; the instance reads the bucket (exempt role).
    clock.set(start + timedelta(hours=9))
    instance_key = recorder.service_session(
        role_arns["Ec2AppRole"],
        session_name=EC2_INSTANCE_ID,
        credentials=Credentials(DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY),
    )
    clock.advance(minutes=3)
    rec("s3", "instance", instance_key).list_objects_v2(Bucket=SENSITIVE_BUCKET)
    rec("s3", "instance", instance_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="customers/customer-records.csv"
    )["Body"].read()
    absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "Ec2AppRole",
            role_arns["Ec2AppRole"],
            session_name=EC2_INSTANCE_ID,
            access_key_id=instance_key.access_key_id,
            details={"why": "trusted only by ec2.amazonaws.com (exempt)", "origin": "AWSService"},
        )
    )

    # 11. A partner account's CI user assumes PartnerAuditRole cross-account and reads.
    clock.set(start + timedelta(hours=10))
    partner_sts = recorder.client("sts", partner_credentials, actors["partner"])
    partner_key = Credentials.from_sts(
        partner_sts.assume_role(RoleArn=role_arns["PartnerAuditRole"], RoleSessionName="audit-run")[
            "Credentials"
        ]
    )
    clock.advance(minutes=1)
    partner_s3 = recorder.client("s3", partner_key, actors["partner"])
    partner_s3.list_buckets()
    partner_s3.get_bucket_acl(Bucket=SENSITIVE_BUCKET)
    expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "PartnerAuditRole",
            role_arns["PartnerAuditRole"],
            identity_arn=partner.arn,
            user_name=partner.user_name,
            session_name="audit-run",
            access_key_id=partner_key.access_key_id,
            event_names=("ListBuckets", "GetBucketAcl"),
            details={
                "cross_account": True,
                "origin_account_id": PARTNER_ACCOUNT_ID,
                "origin_principal_id": partner.user_id,
                "note": (
                    "the role account's copy of the AssumeRole names only the AWSAccount "
                    "principal (origin_principal_id); the user ARN comes from the caller-side "
                    f"copy under AWSLogs/{PARTNER_ACCOUNT_ID}/ (same sharedEventID)"
                ),
            },
        )
    )
    end = clock.now()

    # ---- posture the data implies ----
    posture = _posture(role_arns)
    posture_findings: list[ExpectedFinding] = []
    for name, verdict in posture.items():
        if verdict.alert:
            posture_findings.append(
                ExpectedFinding(
                    "posture",
                    name,
                    role_arns[name],
                    details={"status": verdict.status, "why": verdict.why},
                )
            )
        elif verdict.alert is False:
            absent.append(
                ExpectedFinding("posture", name, role_arns[name], details={"why": verdict.why})
            )

    # ---- deliver the trail ----
    if not include_partner_account_logs:
        recorder.records = [r for r in recorder.records if r["recipientAccountId"] == account_id]
    trail_keys = recorder.flush_to_s3(
        s3,
        bucket,
        prefix,
        sqs_client=sqs if notifications == "recorder" else None,
        queue_url=queue_url if notifications == "recorder" else None,
        local_dir=local_dir,
    )
    users = {
        name: DemoUser(name, p.arn, p.user_id, credentials[name].access_key_id)
        for name, p in principals.items()
    }
    return DemoTenant(
        account_id=account_id,
        region=region,
        bucket=bucket,
        prefix=prefix.strip("/"),
        queue_name=queue_name,
        queue_url=queue_url,
        sensitive_bucket=SENSITIVE_BUCKET,
        start=start,
        end=end,
        role_arns=role_arns,
        users=users,
        trail_keys=trail_keys,
        expected=posture_findings + expected,
        absent=absent,
        posture=posture,
        scenario=_scenario(sdk_session),
        local_dir=local_dir,
        record_count=len(recorder.records),
    )


def _scenario(sdk_session: str) -> list[ScenarioStep]:
    """The scenario as a table (same order as it is performed, times relative to start)."""
    rows = [
        ("support_user", "MyBucketRole", sdk_session,
         "+0:05 AssumeRole (4 h); +3:10 ListObjects mysensitivebucket",
         "noncompliant_activity → support_user (the seed's case)"),
        ("alice", "CompliantRole", "alice", "+0:20 AssumeRole; ListBuckets, GetObject",
         "none (role enforces the rule)"),
        ("bob", "ChainIntermediateRole → ChainTargetRole", "bob → deploy-pipeline",
         "+1:00 two-hop chain; ListUsers, ListBuckets with the final key (issuance late)",
         "noncompliant_activity → bob via the chain"),
        ("mallory", "MyBucketRole", "alice",
         "+1:30 AssumeRole as 'alice'; GetObject customers/… (issuance late)",
         "session_spoofing + noncompliant_activity → mallory"),
        ("carol", "EnforcedRole", "admin, then carol",
         "+2:00 AssumeRole denied (AccessDenied); retries with her own name",
         "denied_assume_role → carol"),
        ("dave", "DriftRole", "dave",
         "+4:00 CreateRole (compliant), AssumeRole, ListBuckets",
         "none (enforced at the time)"),
        ("dave", "DriftRole", "-", "+5:00 UpdateAssumeRolePolicy removes the condition",
         "trust_policy_weakened → dave"),
        ("alice", "DriftRole", "nightly-job", "+6:00 AssumeRole; ListObjects, GetObject",
         "noncompliant_activity → alice"),
        ("dave", "OpsAdminRole", "dave",
         "+7:00 ConsoleLogin, SwitchRole; ListRoles, ListBuckets (fresh key per request)",
         "noncompliant_activity → dave (via SwitchFrom)"),
        ("erin@example.com (Identity Center)", SSO_ROLE_NAME, "erin@example.com",
         "+8:00 GetRoleCredentials (redacted); ListBuckets, GetObject",
         "none (exempt role)"),
        ("EC2 instance " + EC2_INSTANCE_ID, "Ec2AppRole", EC2_INSTANCE_ID,
         "+9:00 AWSService AssumeRole; ListObjects, GetObject", "none (exempt role)"),
        (f"partner-ci ({PARTNER_ACCOUNT_ID})", "PartnerAuditRole", "audit-run",
         "+10:00 cross-account AssumeRole; ListBuckets, GetBucketAcl",
         "noncompliant_activity → partner-ci"),
    ]  # fmt: skip
    return [ScenarioStep(*row) for row in rows]


def _service_linked_role(iam: Any, recorder: TrailRecorder) -> str:
    """A service-linked role; moto supports ``CreateServiceLinkedRole`` for Auto Scaling."""
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    recorder.register_role(role)
    return str(role["Arn"])


def _partner_user(recorder: TrailRecorder, region: str) -> tuple[Credentials, UserPrincipal]:
    """Create the partner account's CI user (moto creates accounts on first use)."""
    sts = boto3.client("sts", region_name=region)
    bootstrap = sts.assume_role(
        RoleArn=f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:role/OrganizationAccountAccessRole",
        RoleSessionName="demo-bootstrap",
    )["Credentials"]
    iam = boto3.client(
        "iam",
        region_name=region,
        aws_access_key_id=bootstrap["AccessKeyId"],
        aws_secret_access_key=bootstrap["SecretAccessKey"],
        aws_session_token=bootstrap["SessionToken"],
    )
    user = iam.create_user(UserName="partner-ci")["User"]
    key = iam.create_access_key(UserName="partner-ci")["AccessKey"]
    principal = recorder.register_user(user, key["AccessKeyId"])
    return Credentials.from_access_key(key), principal


def _queue_policy(queue_arn: str, bucket: str, account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowTrailBucketNotifications",
                    "Effect": "Allow",
                    "Principal": {"Service": "s3.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"},
                        "StringEquals": {"aws:SourceAccount": account_id},
                    },
                }
            ],
        }
    )


def _posture(role_arns: Mapping[str, str]) -> dict[str, RoleVerdict]:
    """The verdict each role's *current* trust policy implies (aws-semantics.md §1)."""
    verdicts = {
        "MyBucketRole": RoleVerdict(
            "not_enforced", True, "account root may assume it without the condition"
        ),
        "CompliantRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "ChainIntermediateRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "ChainTargetRole": RoleVerdict(
            "not_enforced", True, "a role principal may assume it; no condition can bind a user"
        ),
        "EnforcedRole": RoleVerdict("enforced", False, "StringEquals ${aws:username}"),
        "DriftRole": RoleVerdict(
            "not_enforced", True, "UpdateAssumeRolePolicy removed the condition"
        ),
        "WeakPrefixRole": RoleVerdict(
            "weak", True, "StringLike ${aws:username}* lets alice use alice-anything"
        ),
        "OpsAdminRole": RoleVerdict("not_enforced", True, "account root, no condition, admin"),
        "PartnerAuditRole": RoleVerdict(
            "not_enforced", True, "another account's root, no condition"
        ),
        SSO_ROLE_NAME: RoleVerdict("exempt", False, "IAM Identity Center role (SAML, reserved)"),
        "Ec2AppRole": RoleVerdict("exempt", False, "trusted only by a Service principal"),
        "AWSServiceRoleForAutoScaling": RoleVerdict("exempt", False, "service-linked role"),
        "NoStatementRole": RoleVerdict(
            "unsatisfiable", None, "no statement: nobody can assume it (valid document)"
        ),
        "LegacyVersionRole": RoleVerdict(
            "unsatisfiable",
            None,
            "Version 2008-10-17: ${aws:username} is a literal, the only Allow never matches",
        ),
    }
    return {name: verdict for name, verdict in verdicts.items() if name in role_arns}


# --------------------------------------------------------------------------------------------
# The runner's tenant file


def write_tenant_config(
    path: Path | str,
    tenant: DemoTenant,
    *,
    hec_url: str,
    hec_token: str,
    index: str,
    source: Literal["s3", "sqs", "lookup_events", "none"] = "s3",
    name: str = "AWS Role Session Identity (demo)",
) -> dict[str, Any]:
    """Write the local CE runner's tenant JSON for this tenant and return it.

    Field defaults come from manifest.json so the file stays in step with the plugin;
    authentication is ``access_keys`` with moto's documented example key (not a secret).
    The look-back covers the whole scenario however long ago it was seeded.
    """
    hours_back = (datetime.now(UTC) - tenant.start).total_seconds() / 3600
    configuration = tenant_configuration(
        regions=tenant.region,
        source=source,
        bucket=tenant.bucket,
        prefix=tenant.prefix,
        queue_url=tenant.queue_url,
        lookback_hours=max(24, math.ceil(hours_back) + 1),
        hec_url=hec_url,
        hec_token=hec_token,
        index=index,
    )
    document = {
        "name": name,
        "configuration": configuration,
        "use_proxy": False,
        "ssl_validation": True,
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    return document


__all__ = [
    "ACCOUNT_ID",
    "DemoTenant",
    "DemoTenantError",
    "DemoUser",
    "ExpectedFinding",
    "PARTNER_ACCOUNT_ID",
    "RoleVerdict",
    "ScenarioStep",
    "SENSITIVE_BUCKET",
    "load_managed_policies",
    "seed_demo_tenant",
    "write_tenant_config",
]
