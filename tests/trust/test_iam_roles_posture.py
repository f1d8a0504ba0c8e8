"""The IAM role listing adapter against moto (server mode), and posture severity.

moto facts relied on (moto 5.2): GetAccountAuthorizationDetails returns every role with its
trust policy, attached managed policies and inline policy documents, but ignores
``MaxItems``/``Marker`` (always one page) - multi-page GAAD is therefore exercised with
botocore's Stubber. moto does not load AWS-managed policies by default, so the tenant uses
customer-managed policies with the same names (privilege tiers are judged by name). moto
accepts malformed trust policies, which lets the tenant hold an unparseable role.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.posture.iam_roles import (
    IamRole,
    InlinePolicy,
    ListingStats,
    iter_roles,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.posture.privilege import (
    PrivilegeTier,
    inline_policy_tier,
    managed_policy_tier,
    posture_severity,
    privilege_tier,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    evaluate_role,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.findings import Severity

MOTO_ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{MOTO_ACCOUNT}:root"
RULE = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}


def trust(principal, condition=None):
    item = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        item["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [item]})


TENANT = {
    "compliant": trust({"AWS": ROOT}, RULE),
    "open-admin": trust({"AWS": ROOT}),
    "open-reader": trust({"AWS": ROOT}),
    "weak": trust({"AWS": ROOT}, {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}}),
    "lambda-exec": trust({"Service": "lambda.amazonaws.com"}),
    "broken": '{"Version": "2012-10-17", "Statement": 5}',
}
EXPECTED = {
    "compliant": TrustStatus.ENFORCED,
    "open-admin": TrustStatus.NOT_ENFORCED,
    "open-reader": TrustStatus.NOT_ENFORCED,
    "weak": TrustStatus.WEAK,
    "lambda-exec": TrustStatus.EXEMPT,
    "broken": TrustStatus.UNPARSEABLE,
    "AWSServiceRoleForElasticBeanstalk": TrustStatus.EXEMPT,
}


def _policy(iam, name: str, action: str) -> str:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    return iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]


@pytest.fixture
def tenant(aws):
    """A moto account with compliant, non-compliant, weak, exempt and unparseable roles."""
    iam = boto3.client("iam")
    for name, document in TENANT.items():
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)
    iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com")
    iam.attach_role_policy(
        RoleName="open-admin", PolicyArn=_policy(iam, "AdministratorAccess", "*")
    )
    iam.attach_role_policy(
        RoleName="open-reader", PolicyArn=_policy(iam, "ReadOnlyAccess", "s3:Get*")
    )
    iam.put_role_policy(
        RoleName="weak",
        PolicyName="deploy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
            }
        ),
    )
    return iam


def test_gaad_lists_every_role_in_one_call_per_page(tenant):
    stats = ListingStats()
    roles = {role.name: role for role in iter_roles(tenant, MOTO_ACCOUNT, stats)}
    assert set(roles) == set(EXPECTED)
    assert stats.gaad_pages == 1
    assert stats.api_calls == 1  # no per-role calls on the GAAD path
    assert not stats.used_fallback
    assert roles["open-admin"].attached_policy_names == ("AdministratorAccess",)
    assert roles["weak"].inline_policy_names == ("deploy",)
    assert roles["AWSServiceRoleForElasticBeanstalk"].path.startswith("/aws-service-role/")
    assert isinstance(roles["compliant"].create_date, datetime)


def test_tenant_roles_get_the_expected_verdicts(tenant):
    verdicts = {
        role.name: evaluate_role(role.as_role_object()).status
        for role in iter_roles(tenant, MOTO_ACCOUNT)
    }
    assert verdicts == EXPECTED


def test_a_non_compliant_admin_role_outranks_a_read_only_one(tenant):
    roles = {role.name: role for role in iter_roles(tenant, MOTO_ACCOUNT)}
    severity = {
        name: posture_severity(evaluate_role(role.as_role_object()), role)
        for name, role in roles.items()
    }
    assert severity["open-admin"] is Severity.CRITICAL
    assert severity["open-reader"] is Severity.MEDIUM
    assert severity["weak"] is Severity.MEDIUM  # inline s3:PutObject: write tier
    assert severity["compliant"] is Severity.INFORMATIONAL
    assert severity["lambda-exec"] is Severity.INFORMATIONAL


@contextmanager
def moto_authorization(endpoint: str) -> Iterator[None]:
    """Make moto enforce IAM policies (its reset-auth switch), and switch it back after."""

    def switch(value: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 - moto's local control endpoint
            f"{endpoint}/moto-api/reset-auth",
            data=value,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - local moto
            pass

    switch(b"0")
    try:
        yield
    finally:
        switch(b"inf")


def test_gaad_denied_falls_back_to_list_roles_with_one_policy_call_per_role(aws, tenant):
    tenant.create_user(UserName="auditor")
    tenant.put_user_policy(
        UserName="auditor",
        PolicyName="list-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Resource": "*",
                        "Action": ["iam:ListRoles", "iam:ListAttachedRolePolicies"],
                    }
                ],
            }
        ),
    )
    key = tenant.create_access_key(UserName="auditor")["AccessKey"]
    auditor = boto3.client(
        "iam",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    stats = ListingStats()
    with moto_authorization(aws.endpoint):
        roles = {r.name: r for r in iter_roles(auditor, MOTO_ACCOUNT, stats, page_size=3)}
    assert set(roles) == set(EXPECTED)
    assert stats.used_fallback
    assert stats.gaad_pages == 0
    assert stats.list_roles_pages == 3  # 7 roles, 3 per page
    assert stats.list_attached_role_policies_calls == len(EXPECTED)
    assert roles["open-admin"].attached_policy_names == ("AdministratorAccess",)
    assert not roles["weak"].inline_policies_known
    assert privilege_tier(roles["compliant"]) is PrivilegeTier.UNKNOWN
    assert "iam:GetAccountAuthorizationDetails" in stats.errors[0]
    assert key["SecretAccessKey"] not in " ".join(stats.errors)


def _detail(name: str) -> dict:
    return {
        "RoleName": name,
        "RoleId": f"AROA{name.upper():0<17}"[:21],
        "Arn": f"arn:aws:iam::{MOTO_ACCOUNT}:role/{name}",
        "Path": "/",
        "CreateDate": datetime(2026, 1, 1, tzinfo=UTC),
        "AssumeRolePolicyDocument": trust({"AWS": ROOT}),
        "AttachedManagedPolicies": [],
        "RolePolicyList": [],
    }


def test_gaad_pages_follow_the_marker_one_call_per_page():
    # moto ignores MaxItems for GAAD, so the paging itself is pinned with botocore's Stubber.
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    pages = [
        (
            {"RoleDetailList": [_detail("a"), _detail("b")], "IsTruncated": True, "Marker": "m1"},
            {"Filter": ["Role"], "MaxItems": 2},
        ),
        (
            {
                "RoleDetailList": [_detail("c"), {"RoleName": "no-arn"}],
                "IsTruncated": True,
                "Marker": "m2",
            },
            {"Filter": ["Role"], "MaxItems": 2, "Marker": "m1"},
        ),
        (
            {"RoleDetailList": [_detail("d")], "IsTruncated": False},
            {"Filter": ["Role"], "MaxItems": 2, "Marker": "m2"},
        ),
    ]
    for response, expected in pages:
        stubber.add_response("get_account_authorization_details", response, expected)
    stats = ListingStats()
    with stubber:
        names = [role.name for role in iter_roles(client, MOTO_ACCOUNT, stats, page_size=2)]
    stubber.assert_no_pending_responses()
    assert names == ["a", "b", "c", "d"]
    assert stats.gaad_pages == 3
    assert stats.skipped_records == 1  # the malformed record is skipped, not fatal


def test_other_gaad_errors_propagate_for_the_caller_to_report_the_account():
    client = boto3.client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stubber = Stubber(client)
    stubber.add_client_error("get_account_authorization_details", "Throttling")
    with stubber, pytest.raises(Exception, match="Throttling"):
        list(iter_roles(client, MOTO_ACCOUNT))


# --- privilege tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tier"),
    [
        ("AdministratorAccess", PrivilegeTier.ADMIN),
        ("IAMFullAccess", PrivilegeTier.ADMIN),
        ("PowerUserAccess", PrivilegeTier.ADMIN),
        ("AdministratorAccess-Amplify", PrivilegeTier.ADMIN),
        ("AmazonS3FullAccess", PrivilegeTier.WRITE),
        ("ReadOnlyAccess", PrivilegeTier.READ),
        ("AmazonEC2ReadOnlyAccess", PrivilegeTier.READ),
        ("SecurityAudit", PrivilegeTier.READ),
        ("team-app-policy", PrivilegeTier.UNKNOWN),
    ],
)
def test_managed_policy_tiers_by_name(name, tier):
    assert managed_policy_tier(name) is tier


@pytest.mark.parametrize(
    ("actions", "tier"),
    [
        (["*"], PrivilegeTier.ADMIN),
        (["iam:*"], PrivilegeTier.ADMIN),
        (["s3:GetObject", "ec2:DescribeInstances"], PrivilegeTier.READ),
        (["s3:GetObject", "s3:PutObject"], PrivilegeTier.WRITE),
    ],
)
def test_inline_policy_tiers_by_action(actions, tier):
    document = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    assert inline_policy_tier(document) is tier
    assert inline_policy_tier(json.dumps(document)) is tier


def _role(**extra) -> IamRole:
    fields = {"trust_policy": trust({"AWS": ROOT}), **extra}
    return IamRole(MOTO_ACCOUNT, "r", "/", f"arn:aws:iam::{MOTO_ACCOUNT}:role/r", "AROA1", **fields)


def test_severity_rises_with_privilege_for_the_same_verdict():
    verdict = evaluate_role(_role().as_role_object())
    ranks = [
        posture_severity(verdict, _role(attached_policy_names=names))
        for names in (("AdministratorAccess",), ("AmazonS3FullAccess",), ("ReadOnlyAccess",), ())
    ]
    assert ranks == [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def test_public_but_compliant_admin_role_is_critical():
    role = _role(
        trust_policy=trust({"AWS": "*"}, RULE),
        inline_policies=(InlinePolicy("all", {"Statement": [{"Effect": "Allow", "Action": "*"}]}),),
    )
    verdict = evaluate_role(role.as_role_object())
    assert verdict.status is TrustStatus.ENFORCED
    assert posture_severity(verdict, role) is Severity.CRITICAL
