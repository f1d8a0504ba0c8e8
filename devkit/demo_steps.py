"""The demo scenario, performed: each numbered step of the scenario as one function.

Every step is a real boto3 call through the recorder (or an issuance the recorder synthesises
around a real moto key), so the trail the plugin reads is what those calls would leave in a
real account. Each step appends what its data implies to ``Seeding.expected`` (a finding the
plugin must raise) or ``Seeding.absent`` (one it must not), so the demo test can assert the
plugin's alerts without restating the scenario.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from botocore.exceptions import ClientError

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY
from devkit.demo_scenario import (
    EC2_INSTANCE_ID,
    IDENTITY_STORE_ID,
    PARTNER_ACCOUNT_ID,
    SENSITIVE_BUCKET,
    SESSION_NAME_CONDITION,
    SSO_ROLE_NAME,
    DemoTenantError,
    ExpectedFinding,
    RoleVerdict,
    role_posture,
)
from devkit.demo_setup import ACTORS, Seeding, allow_aws, trust
from devkit.trail_recorder import Credentials, UserPrincipal

# --------------------------------------------------------------------------------------------
# The scenario, performed (times relative to the start of the window)


def support_user_assumes_with_sdk_name(s: Seeding) -> tuple[str, Credentials]:
    """Step 1: support_user assumes MyBucketRole under an SDK-generated session name.

    This is the question the demo exists to answer: the session name says nothing about who
    is behind it, so only the issuing ``AssumeRole`` can. The key is used three hours later
    (``support_user_lists_bucket``), well past any short correlation window. Returns the
    session name and the key.
    """
    s.clock.set(s.start + timedelta(minutes=5))
    sdk_session = f"botocore-session-{int(s.clock.now().timestamp())}"
    support_key = s.assume("support_user", "MyBucketRole", sdk_session, duration=14400)
    return sdk_session, support_key


def alice_uses_compliant_role(s: Seeding) -> None:
    """Step 2: alice assumes CompliantRole under her own name and reads the bucket.

    The role enforces the rule, so this activity must *not* be alerted on.
    """
    s.clock.set(s.start + timedelta(minutes=20))
    alice_key = s.assume("alice", "CompliantRole", "alice")
    s.rec("s3", "alice", alice_key).list_buckets()
    s.rec("s3", "alice", alice_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="reports/2026-q3-summary.txt"
    )["Body"].read()
    s.absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "CompliantRole",
            s.role_arns["CompliantRole"],
            session_name="alice",
            access_key_id=alice_key.access_key_id,
            **s.person("alice"),
        )
    )


def bob_chains_two_roles(s: Seeding) -> None:
    """Step 3: bob reaches ChainTargetRole through a two-hop chain and acts with the last key.

    The final session's name ("deploy-pipeline") names nobody, and its ``AssumeRole`` is
    delivered in a later file than its first use: attribution must follow the chain back to
    bob and survive the late issuance.
    """
    s.clock.set(s.start + timedelta(hours=1))
    bob_first = s.assume("bob", "ChainIntermediateRole", "bob")
    s.clock.advance(minutes=1)
    bob_final = s.assume("bob", "ChainTargetRole", "deploy-pipeline", via=bob_first, duration=3600)
    s.recorder.mark_late(bob_final.access_key_id)
    s.clock.advance(minutes=1)
    s.rec("iam", "bob", bob_final).list_users()
    s.rec("s3", "bob", bob_final).list_buckets()
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "ChainTargetRole",
            s.role_arns["ChainTargetRole"],
            session_name="deploy-pipeline",
            access_key_id=bob_final.access_key_id,
            event_names=("ListUsers", "ListBuckets"),
            details={
                "chain": [
                    f"arn:aws:sts::{s.account_id}:assumed-role/ChainIntermediateRole/bob",
                    f"arn:aws:sts::{s.account_id}:assumed-role/ChainTargetRole/deploy-pipeline",
                ],
                "issuance_delivered_late": True,
            },
            **s.person("bob"),
        )
    )


def mallory_spoofs_alice(s: Seeding) -> None:
    """Step 4: mallory assumes MyBucketRole calling herself "alice", then reads an object.

    A session name that is another user's name is the spoofing case; the read must be
    attributed to mallory, not alice, even though the issuance arrives late.
    """
    s.clock.set(s.start + timedelta(hours=1, minutes=30))
    mallory_key = s.assume("mallory", "MyBucketRole", "alice")
    s.recorder.mark_late(mallory_key.access_key_id)
    s.clock.advance(minutes=1)
    s.rec("s3", "mallory", mallory_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="customers/customer-records.csv"
    )["Body"].read()
    s.expected.append(
        ExpectedFinding(
            "session_spoofing",
            "MyBucketRole",
            s.role_arns["MyBucketRole"],
            session_name="alice",
            access_key_id=mallory_key.access_key_id,
            event_names=("AssumeRole",),
            details={"spoofed_user": "alice", "spoofed_user_arn": s.principals["alice"].arn},
            **s.person("mallory"),
        )
    )
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "MyBucketRole",
            s.role_arns["MyBucketRole"],
            session_name="alice",
            access_key_id=mallory_key.access_key_id,
            event_names=("GetObject",),
            details={"bucket": SENSITIVE_BUCKET, "issuance_delivered_late": True},
            **s.person("mallory"),
        )
    )


def carol_denied_then_complies(s: Seeding) -> None:
    """Step 5: carol tries EnforcedRole as "admin" (denied), then assumes it under her name.

    The denied attempt really fails in boto3 (the gate answers with STS's 403), so the trail
    holds a genuine denied call; the compliant retry must not be alerted on.
    """
    s.clock.set(s.start + timedelta(hours=2))
    try:
        s.assume("carol", "EnforcedRole", "admin")
        raise DemoTenantError("EnforcedRole did not deny carol's 'admin' session: gate broken")
    except ClientError as error:
        if error.response["Error"]["Code"] != "AccessDenied":
            raise
    s.expected.append(
        ExpectedFinding(
            "denied_assume_role",
            "EnforcedRole",
            s.role_arns["EnforcedRole"],
            session_name="admin",
            event_names=("AssumeRole",),
            details={"error_code": "AccessDenied"},
            **s.person("carol"),
        )
    )
    s.clock.advance(minutes=2)
    carol_key = s.assume("carol", "EnforcedRole", "carol")
    s.rec("sts", "carol", carol_key).get_caller_identity()
    s.absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "EnforcedRole",
            s.role_arns["EnforcedRole"],
            session_name="carol",
            access_key_id=carol_key.access_key_id,
            **s.person("carol"),
        )
    )


def support_user_lists_bucket(s: Seeding, sdk_session: str, support_key: Credentials) -> None:
    """Step 1, continued: three hours later, the SDK-named session lists the sensitive bucket.

    Performed after steps 2-5 so other sessions' records lie between issuance and use, as
    they would in a busy account.
    """
    s.clock.set(s.start + timedelta(hours=3, minutes=10))
    s.rec("s3", "support_user", support_key).list_objects_v2(Bucket=SENSITIVE_BUCKET)
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "MyBucketRole",
            s.role_arns["MyBucketRole"],
            session_name=sdk_session,
            access_key_id=support_key.access_key_id,
            event_names=("ListObjects",),
            details={"bucket": SENSITIVE_BUCKET, "seed_scenario": True},
            **s.person("support_user"),
        )
    )


def dave_weakens_drift_role(s: Seeding) -> None:
    """Step 6: dave creates DriftRole compliant (logged), uses it, then removes the condition.

    The only role created inside the window, so the trail holds its compliant ``CreateRole``
    before the ``UpdateAssumeRolePolicy`` that weakens it: the change must be alerted on, but
    dave's session issued while the rule was enforced must not.
    """
    s.clock.set(s.start + timedelta(hours=4))
    dave_iam = s.rec("iam", "dave")
    drift = dave_iam.create_role(
        RoleName="DriftRole",
        AssumeRolePolicyDocument=trust(allow_aws(s.root, SESSION_NAME_CONDITION)),
    )["Role"]
    s.role_arns["DriftRole"] = drift["Arn"]
    dave_iam.attach_role_policy(
        RoleName="DriftRole", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    s.recorder.enforce_session_name(drift["Arn"])
    s.clock.advance(minutes=10)
    dave_key = s.assume("dave", "DriftRole", "dave")
    s.rec("s3", "dave", dave_key).list_buckets()
    s.absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "DriftRole",
            drift["Arn"],
            session_name="dave",
            access_key_id=dave_key.access_key_id,
            details={"why": "DriftRole enforced the rule when this session was issued"},
            **s.person("dave"),
        )
    )
    s.absent.append(
        ExpectedFinding(
            "trust_policy_weakened",
            "DriftRole",
            drift["Arn"],
            event_names=("CreateRole",),
            details={"why": "the CreateRole policy enforces the rule"},
            **s.person("dave"),
        )
    )
    s.clock.set(s.start + timedelta(hours=5))
    dave_iam.update_assume_role_policy(
        RoleName="DriftRole", PolicyDocument=trust(allow_aws(s.root))
    )
    s.recorder.enforce_session_name(drift["Arn"], enforced=False)
    s.expected.append(
        ExpectedFinding(
            "trust_policy_weakened",
            "DriftRole",
            drift["Arn"],
            event_names=("UpdateAssumeRolePolicy",),
            details={"before": "enforced", "after": "not_enforced"},
            **s.person("dave"),
        )
    )


def alice_uses_drifted_role(s: Seeding) -> None:
    """Step 7: after the drift, alice uses DriftRole under a name that identifies nobody.

    The role no longer enforces the rule, so this activity must be alerted on, even though
    the same role's earlier session (step 6) was not.
    """
    drift_arn = s.role_arns["DriftRole"]
    s.clock.set(s.start + timedelta(hours=6))
    drift_key = s.assume("alice", "DriftRole", "nightly-job")
    s.clock.advance(minutes=2)
    s.rec("s3", "alice", drift_key).list_objects_v2(Bucket=SENSITIVE_BUCKET, Prefix="finance/")
    s.rec("s3", "alice", drift_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="finance/q3-forecast.csv"
    )["Body"].read()
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "DriftRole",
            drift_arn,
            session_name="nightly-job",
            access_key_id=drift_key.access_key_id,
            event_names=("ListObjects", "GetObject"),
            details={"bucket": SENSITIVE_BUCKET, "after_trust_change": True},
            **s.person("alice"),
        )
    )


def dave_switches_role_in_console(s: Seeding) -> None:
    """Step 8: dave switches to OpsAdminRole in the console, where each request has a new key.

    No ``AssumeRole`` links those keys to dave; only ``SwitchRole``'s ``SwitchFrom`` does,
    so attribution must group the keys by session and resolve them through it.
    """
    s.clock.set(s.start + timedelta(hours=7))
    console = s.recorder.console_switch_role(
        s.principals["dave"], s.role_arns["OpsAdminRole"], ACTORS["dave"]
    )
    s.clock.advance(minutes=1)
    console.client("iam").list_roles()
    console.client("s3").list_buckets()
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "OpsAdminRole",
            s.role_arns["OpsAdminRole"],
            session_name="dave",
            access_key_id=console.keys[0],
            event_names=("ListRoles", "ListBuckets"),
            details={
                "console": True,
                "resolved_via": "SwitchRole additionalEventData.SwitchFrom",
                "keys": list(console.keys),
            },
            **s.person("dave"),
        )
    )


def identity_center_user_works(s: Seeding) -> None:
    """Step 9: an IAM Identity Center user works through the SSO role.

    The role is exempt (Identity Center names the person itself), so its activity must not
    be alerted on, even though the trail redacts the key it issued.
    """
    s.clock.set(s.start + timedelta(hours=8))
    erin_key = s.recorder.identity_center_session(
        s.role_arns[SSO_ROLE_NAME],
        user_name="erin@example.com",
        user_id="9067a1b2c3-4d5e6f70-8192-a3b4-c5d6-e7f8091a2b3c",
        identity_store_id=IDENTITY_STORE_ID,
        permission_set="AdminAccess",
        actor=ACTORS["erin"],
    )
    s.clock.advance(minutes=1)
    s.rec("s3", "erin", erin_key).list_buckets()
    s.rec("s3", "erin", erin_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="reports/2026-q3-summary.txt"
    )["Body"].read()
    s.absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            SSO_ROLE_NAME,
            s.role_arns[SSO_ROLE_NAME],
            session_name="erin@example.com",
            access_key_id=erin_key.access_key_id,
            details={"why": "IAM Identity Center roles are exempt"},
        )
    )


def ec2_instance_reads_bucket(s: Seeding) -> None:
    """Step 10: EC2 fetches its instance role and the instance reads the bucket.

    The issuance is made by the EC2 service, not a person, and the role trusts only that
    service: exempt, so no activity alert.
    """
    s.clock.set(s.start + timedelta(hours=9))
    instance_key = s.recorder.service_session(
        s.role_arns["Ec2AppRole"],
        session_name=EC2_INSTANCE_ID,
        credentials=Credentials(DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY),
    )
    s.clock.advance(minutes=3)
    s.rec("s3", "instance", instance_key).list_objects_v2(Bucket=SENSITIVE_BUCKET)
    s.rec("s3", "instance", instance_key).get_object(
        Bucket=SENSITIVE_BUCKET, Key="customers/customer-records.csv"
    )["Body"].read()
    s.absent.append(
        ExpectedFinding(
            "noncompliant_activity",
            "Ec2AppRole",
            s.role_arns["Ec2AppRole"],
            session_name=EC2_INSTANCE_ID,
            access_key_id=instance_key.access_key_id,
            details={"why": "trusted only by ec2.amazonaws.com (exempt)", "origin": "AWSService"},
        )
    )


def partner_assumes_cross_account(
    s: Seeding, partner_credentials: Credentials, partner: UserPrincipal
) -> None:
    """Step 11: the partner account's CI user assumes PartnerAuditRole and reads.

    The role account's copy of a cross-account ``AssumeRole`` names only the other account;
    the user is found in the caller-side copy, which a central trail bucket also holds.
    """
    s.clock.set(s.start + timedelta(hours=10))
    partner_sts = s.recorder.client("sts", partner_credentials, ACTORS["partner"])
    partner_key = Credentials.from_sts(
        partner_sts.assume_role(
            RoleArn=s.role_arns["PartnerAuditRole"], RoleSessionName="audit-run"
        )["Credentials"]
    )
    s.clock.advance(minutes=1)
    partner_s3 = s.recorder.client("s3", partner_key, ACTORS["partner"])
    partner_s3.list_buckets()
    partner_s3.get_bucket_acl(Bucket=SENSITIVE_BUCKET)
    s.expected.append(
        ExpectedFinding(
            "noncompliant_activity",
            "PartnerAuditRole",
            s.role_arns["PartnerAuditRole"],
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


# --------------------------------------------------------------------------------------------
# After the scenario


def expect_posture(s: Seeding) -> tuple[dict[str, RoleVerdict], list[ExpectedFinding]]:
    """The posture each role's current trust policy implies, as expected and absent findings.

    Returns the verdicts and the posture findings to expect (they come first in the tenant's
    ``expected``); roles that must not get a posture alert are added to ``absent``. A role
    whose name imitates an AWS-managed role also expects its look-alike finding.
    """
    posture = role_posture(s.role_arns)
    posture_findings: list[ExpectedFinding] = []
    for name, verdict in posture.items():
        if verdict.imitates is not None:
            posture_findings.append(
                ExpectedFinding(
                    "role_name_imitation",
                    name,
                    s.role_arns[name],
                    details={
                        "verdict": verdict.status,
                        "severity": verdict.imitates.severity,
                        "imitated_role_kind": verdict.imitates.kind,
                        "reserved_path": verdict.imitates.reserved_path,
                    },
                )
            )
        if verdict.alert:
            posture_findings.append(
                ExpectedFinding(
                    "posture",
                    name,
                    s.role_arns[name],
                    details={"status": verdict.status, "why": verdict.why},
                )
            )
        elif verdict.alert is False:
            s.absent.append(
                ExpectedFinding("posture", name, s.role_arns[name], details={"why": verdict.why})
            )
    return posture, posture_findings


def deliver_trail(
    s: Seeding,
    *,
    bucket: str,
    prefix: str,
    queue_url: str,
    notifications: Literal["recorder", "moto"],
    include_partner_account_logs: bool,
    local_dir: Path | None,
) -> list[str]:
    """Write the recorded trail to the trail bucket as CloudTrail delivers it; returns the keys.

    Without ``include_partner_account_logs`` only this account's records are delivered, as a
    trail that is not an organisation's central one would hold.
    """
    if not include_partner_account_logs:
        s.recorder.records = [
            r for r in s.recorder.records if r["recipientAccountId"] == s.account_id
        ]
    return s.recorder.flush_to_s3(
        s.s3,
        bucket,
        prefix,
        sqs_client=s.sqs if notifications == "recorder" else None,
        queue_url=queue_url if notifications == "recorder" else None,
        local_dir=local_dir,
    )
