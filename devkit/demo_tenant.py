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

The work is split by job: ``demo_scenario`` holds the script (constants, expected findings,
the posture and scenario tables), ``demo_setup`` builds the account before the window, and
``demo_steps`` performs the scenario one numbered step at a time; this module puts them in
order and describes the result.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError

from devkit import demo_setup as setup
from devkit import demo_steps as steps
from devkit.aws_emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_REGION,
    DEMO_SECRET_ACCESS_KEY,
    MotoServer,
)
from devkit.demo_scenario import (
    ACCOUNT_ID,
    PARTNER_ACCOUNT_ID,
    SENSITIVE_BUCKET,
    DemoTenantError,
    ExpectedFinding,
    RoleVerdict,
    ScenarioStep,
    scenario_table,
)
from devkit.tenant_config import tenant_configuration
from devkit.trail_recorder import TrailClock, TrailRecorder

MANAGED_POLICY_PROBE = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


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
    s = _open_account(start, seed, server)
    setup.create_users(s)
    queue_url = setup.create_buckets_and_queue(s, bucket, queue_name, notifications)
    setup.create_people_roles(s)
    setup.create_exempt_and_unsatisfiable_roles(s)
    setup.plant_lookalike_role(s)
    setup.gate_enforcing_roles(s)
    partner_credentials, partner = setup.create_partner_user(s)

    sdk_session, support_key = steps.support_user_assumes_with_sdk_name(s)
    steps.alice_uses_compliant_role(s)
    steps.bob_chains_two_roles(s)
    steps.mallory_spoofs_alice(s)
    steps.carol_denied_then_complies(s)
    steps.support_user_lists_bucket(s, sdk_session, support_key)
    steps.dave_weakens_drift_role(s)
    steps.alice_uses_drifted_role(s)
    steps.dave_switches_role_in_console(s)
    steps.identity_center_user_works(s)
    steps.ec2_instance_reads_bucket(s)
    steps.partner_assumes_cross_account(s, partner_credentials, partner)
    end = s.clock.now()

    posture, posture_findings = steps.expect_posture(s)
    trail_keys = steps.deliver_trail(
        s,
        bucket=bucket,
        prefix=prefix,
        queue_url=queue_url,
        notifications=notifications,
        include_partner_account_logs=include_partner_account_logs,
        local_dir=local_dir,
    )
    users = {
        name: DemoUser(name, p.arn, p.user_id, s.credentials[name].access_key_id)
        for name, p in s.principals.items()
    }
    return DemoTenant(
        account_id=s.account_id,
        region=s.region,
        bucket=bucket,
        prefix=prefix.strip("/"),
        queue_name=queue_name,
        queue_url=queue_url,
        sensitive_bucket=SENSITIVE_BUCKET,
        start=start,
        end=end,
        role_arns=s.role_arns,
        users=users,
        trail_keys=trail_keys,
        expected=posture_findings + s.expected,
        absent=s.absent,
        posture=posture,
        scenario=scenario_table(sdk_session),
        local_dir=local_dir,
        record_count=len(s.recorder.records),
    )


def _open_account(start: datetime, seed: int, server: MotoServer | None) -> setup.Seeding:
    """Admin clients, the account id and a recorder whose clock starts at ``start``.

    The managed policies are checked first because every role the set-up creates attaches
    some, and moto only has them when it was started (or reset) to load them.
    """
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
    return setup.Seeding(
        iam=iam,
        s3=s3,
        sqs=sqs,
        account_id=account_id,
        region=region,
        start=start,
        clock=clock,
        recorder=recorder,
    )


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
