"""The demo tenant before its scenario: the account's users, buckets and roles, and the context.

Set-up happens before the look-back window, as in a real account, so none of it is in the
trail; only the recorder learns the keys and roles, to attribute the scenario's calls later.
``Seeding`` carries what the set-up built to the scenario's steps (``demo_steps``), which run
in the order ``seed_demo_tenant`` calls them: the clock, the recorder's ids and the trail's
delivery all follow that order, which keeps the demo deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import boto3

from devkit.demo_scenario import (
    LOOKALIKE_PATH,
    LOOKALIKE_ROLE_NAME,
    PARTNER_ACCOUNT_ID,
    SENSITIVE_BUCKET,
    SENSITIVE_OBJECTS,
    SESSION_NAME_CONDITION,
    SSO_PATH,
    SSO_ROLE_NAME,
    USERS,
    ExpectedFinding,
)
from devkit.trail_recorder import (
    Actor,
    Credentials,
    TrailClock,
    TrailRecorder,
    UserPrincipal,
)

# Where each person (and the instance, and the partner's CI) calls from.
ACTORS: Mapping[str, Actor] = {
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


@dataclass
class Seeding:
    """What the seeding steps share: the admin clients, the recorder and what is built so far.

    ``iam``/``s3``/``sqs`` are unrecorded admin clients (set-up is not in the trail); calls
    that belong in the trail go through ``rec``/``assume``, which sign with the person's key
    through the recorder.
    """

    iam: Any
    s3: Any
    sqs: Any
    account_id: str
    region: str
    start: datetime
    clock: TrailClock
    recorder: TrailRecorder
    credentials: dict[str, Credentials] = field(default_factory=dict)
    principals: dict[str, UserPrincipal] = field(default_factory=dict)
    role_arns: dict[str, str] = field(default_factory=dict)
    expected: list[ExpectedFinding] = field(default_factory=list)
    absent: list[ExpectedFinding] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def rec(self, service: str, user: str, creds: Credentials | None = None) -> Any:
        """A recorded client for ``user``, signed with ``creds`` or the user's own key."""
        return self.recorder.client(service, creds or self.credentials[user], ACTORS[user])

    def assume(
        self,
        user: str,
        role: str,
        session: str,
        *,
        via: Credentials | None = None,
        duration: int | None = None,
    ) -> Credentials:
        """A recorded ``AssumeRole`` by ``user`` (or by the session ``via`` holds)."""
        extra = {"DurationSeconds": duration} if duration else {}
        answer = self.rec("sts", user, via).assume_role(
            RoleArn=self.role_arns[role], RoleSessionName=session, **extra
        )
        return Credentials.from_sts(answer["Credentials"])

    def person(self, user: str) -> dict[str, Any]:
        """The resolved origin an expectation names: the IAM user behind a session."""
        return {"identity_arn": self.principals[user].arn, "user_name": user}


# --------------------------------------------------------------------------------------------
# Trust policies


def trust(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


def allow_aws(principal: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return statement


# --------------------------------------------------------------------------------------------
# Set-up, before the look-back window (not in the trail)


def create_users(s: Seeding) -> None:
    """The tenant's IAM users, each with a long-term key registered with the recorder.

    They exist before the window, as in a real account, so their creation is not logged; the
    recorder still needs each key to attribute the calls signed with it.
    """
    for name in USERS:
        user = s.iam.create_user(UserName=name)["User"]
        key = s.iam.create_access_key(UserName=name)["AccessKey"]
        s.credentials[name] = Credentials.from_access_key(key)
        s.principals[name] = s.recorder.register_user(user, key["AccessKeyId"])


def create_buckets_and_queue(
    s: Seeding, bucket: str, queue_name: str, notifications: Literal["recorder", "moto"]
) -> str:
    """The sensitive bucket the scenario reads, the trail bucket and its notification queue.

    The queue's policy lets only the trail bucket send to it, as a real set-up would. With
    ``notifications="moto"`` the bucket's own notification is configured, so moto sends the
    S3 events; otherwise the recorder sends them when it delivers. Returns the queue URL.
    """
    s.s3.create_bucket(Bucket=SENSITIVE_BUCKET)
    for key_name, body in SENSITIVE_OBJECTS.items():
        s.s3.put_object(Bucket=SENSITIVE_BUCKET, Key=key_name, Body=body)
    s.s3.create_bucket(Bucket=bucket)
    queue_url = str(s.sqs.create_queue(QueueName=queue_name)["QueueUrl"])
    queue_arn = s.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s.sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={"Policy": _queue_policy(queue_arn, bucket, s.account_id)},
    )
    if notifications == "moto":
        s.s3.put_bucket_notification_configuration(
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
    return queue_url


def _make_role(
    s: Seeding,
    name: str,
    document: str,
    *,
    path: str = "/",
    policies: tuple[str, ...] = (),
    max_session: int = 3600,
) -> str:
    """Create a role with AWS managed policies, registered so sessions show its path."""
    role = s.iam.create_role(
        RoleName=name,
        Path=path,
        AssumeRolePolicyDocument=document,
        MaxSessionDuration=max_session,
    )["Role"]
    s.recorder.register_role(role)
    for policy in policies:
        s.iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    s.role_arns[name] = role["Arn"]
    return str(role["Arn"])


def create_people_roles(s: Seeding) -> None:
    """The roles people assume: one per trust-policy case the posture check must tell apart.

    Compliant, enforced and chain-intermediate roles carry the ``${aws:username}`` condition;
    ``MyBucketRole``, ``OpsAdminRole`` and ``PartnerAuditRole`` do not; ``WeakPrefixRole``
    uses ``StringLike`` with a wildcard; ``ChainTargetRole`` trusts a role, which no
    user-name condition can bind. The intermediate role may assume the target, so the chain
    in step 3 is one IAM would allow.
    """
    root = s.root
    _make_role(
        s,
        "MyBucketRole",
        trust(allow_aws(root)),
        policies=("AmazonS3ReadOnlyAccess",),
        max_session=43200,
    )
    _make_role(
        s,
        "CompliantRole",
        trust(allow_aws(root, SESSION_NAME_CONDITION)),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    intermediate = _make_role(
        s, "ChainIntermediateRole", trust(allow_aws(root, SESSION_NAME_CONDITION))
    )
    _make_role(s, "ChainTargetRole", trust(allow_aws(intermediate)), policies=("ReadOnlyAccess",))
    s.iam.put_role_policy(
        RoleName="ChainIntermediateRole",
        PolicyName="AssumeChainTarget",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Resource": s.role_arns["ChainTargetRole"],
                    }
                ],
            }
        ),
    )
    _make_role(
        s,
        "EnforcedRole",
        trust(allow_aws(root, SESSION_NAME_CONDITION)),
        policies=("ReadOnlyAccess",),
    )
    _make_role(
        s,
        "WeakPrefixRole",
        trust(allow_aws(root, {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}})),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    _make_role(s, "OpsAdminRole", trust(allow_aws(root)), policies=("AdministratorAccess",))
    _make_role(
        s,
        "PartnerAuditRole",
        trust(allow_aws(f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:root")),
        policies=("ReadOnlyAccess",),
    )


def create_exempt_and_unsatisfiable_roles(s: Seeding) -> None:
    """Roles the posture check must not alert on: exempt ones, and ones nobody can assume.

    Identity Center (SAML, under the reserved path), an EC2 instance role, a service-linked
    role, a role without statements and one whose 2008 policy version makes
    ``${aws:username}`` a literal: each has a trust policy a naive check would misjudge.
    """
    _make_role(
        s,
        SSO_ROLE_NAME,
        trust(
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": (
                        f"arn:aws:iam::{s.account_id}:saml-provider/"
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
    _make_role(
        s,
        "Ec2AppRole",
        trust(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        policies=("AmazonS3ReadOnlyAccess",),
    )
    s.role_arns["AWSServiceRoleForAutoScaling"] = _service_linked_role(s.iam, s.recorder)
    _make_role(s, "NoStatementRole", trust())
    _make_role(
        s,
        "LegacyVersionRole",
        trust(allow_aws(s.root, SESSION_NAME_CONDITION), version="2008-10-17"),
    )


def plant_lookalike_role(s: Seeding) -> None:
    """An attacker's backdoor dressed as an Identity Center permission-set role.

    IAM reserves the path ``/aws-reserved/sso.amazonaws.com/``, not the name: anyone allowed
    ``iam:CreateRole`` can create ``AWSReservedSSO_…`` at ``/``, let the whole account in
    without the session-name condition and attach AdministratorAccess, hoping reviews and
    tools that exempt Identity Center roles by name skip it. Its name must exempt nothing:
    the role is judged on its trust policy and raises its own look-alike alert.
    """
    _make_role(
        s,
        LOOKALIKE_ROLE_NAME,
        trust(allow_aws(s.root)),
        path=LOOKALIKE_PATH,
        policies=("AdministratorAccess",),
        max_session=43200,
    )


def gate_enforcing_roles(s: Seeding) -> None:
    """Make the roles whose trust policy enforces the rule deny a wrong session name.

    moto lets anyone assume any role, so the recorder's session-name gate plays IAM's part.
    """
    for enforced in ("CompliantRole", "ChainIntermediateRole", "EnforcedRole"):
        s.recorder.enforce_session_name(s.role_arns[enforced])


def create_partner_user(s: Seeding) -> tuple[Credentials, UserPrincipal]:
    """The partner account's CI user, the cross-account caller of step 11.

    moto creates an account on first use; the user is made through a bootstrap session in
    that account, which is not logged.
    """
    sts = boto3.client("sts", region_name=s.region)
    bootstrap = sts.assume_role(
        RoleArn=f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:role/OrganizationAccountAccessRole",
        RoleSessionName="demo-bootstrap",
    )["Credentials"]
    iam = boto3.client(
        "iam",
        region_name=s.region,
        aws_access_key_id=bootstrap["AccessKeyId"],
        aws_secret_access_key=bootstrap["SecretAccessKey"],
        aws_session_token=bootstrap["SessionToken"],
    )
    user = iam.create_user(UserName="partner-ci")["User"]
    key = iam.create_access_key(UserName="partner-ci")["AccessKey"]
    principal = s.recorder.register_user(user, key["AccessKeyId"])
    return Credentials.from_access_key(key), principal


def _service_linked_role(iam: Any, recorder: TrailRecorder) -> str:
    """A service-linked role; moto supports ``CreateServiceLinkedRole`` for Auto Scaling."""
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")["Role"]
    recorder.register_role(role)
    return str(role["Arn"])


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
