"""Role-level verdicts: exemptions are reported (never dropped) and the JSON shape is stable."""

from __future__ import annotations

import json

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustOptions,
    TrustStatus,
    evaluate_role,
    role_account,
)

from tests.trust.builders import ACCOUNT, OTHER_ACCOUNT, ROOT, RULE, policy, statement

NOT_COMPLIANT = policy(statement(ROOT))


def role(name="deploy", path="/", document=NOT_COMPLIANT, **extra):
    return {
        "RoleName": name,
        "Path": path,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "RoleId": "AROAEXAMPLEEXAMPLE01",
        "AssumeRolePolicyDocument": document,
        **extra,
    }


def test_service_linked_roles_are_exempt_with_the_reason():
    result = evaluate_role(
        role("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/")
    )
    assert result.status is TrustStatus.EXEMPT
    assert result.reasons[0].code.value == "RSN040"
    assert result.fixed_policy is None


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("AWSReservedSSO_Admin_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/"),
        ("Anything", "/aws-reserved/sso.amazonaws.com/eu-west-1/"),
    ],
)
def test_identity_center_roles_are_exempt_by_their_reserved_path(name, path):
    result = evaluate_role(role(name, path))
    assert result.status is TrustStatus.EXEMPT
    assert result.reasons[0].code.value == "RSN041"
    assert result.exempt_by == "reserved_path"
    assert result.imitation is None
    assert "RSN044" not in {r.code.value for r in result.reasons}


# --- names are never evidence ---------------------------------------------------------------------

PERMISSIVE = policy(statement(ROOT))


def test_a_look_alike_identity_center_role_is_judged_on_its_policy_and_reported():
    result = evaluate_role(role("AWSReservedSSO_Backdoor_0123456789abcdef", "/", PERMISSIVE))
    assert result.status is TrustStatus.NOT_ENFORCED
    assert result.reasons[0].code.value == "RSN044"
    message = result.reasons[0].message
    assert "/aws-reserved/sso.amazonaws.com/" in message and "not_enforced" in message
    assert result.fixed_policy is not None  # a look-alike gets the remediation of any role
    assert result.to_dict()["imitates_aws_managed_role"] == "IAM Identity Center"


@pytest.mark.parametrize(
    ("name", "path", "imitated"),
    [
        ("AWSServiceRoleForSupport", "/", "service-linked"),
        ("awsservicerolefor-ecs", "/custom/", "service-linked"),
        ("AWSServiceRole_Backup", "/", "service-linked"),
        ("aws-service-role-ecs", "/", "service-linked"),
        ("awsreservedsso_admin_1", "/", "IAM Identity Center"),
        ("AWSReservedSSO_Admin_1", "/aws-reserved/other/", "IAM Identity Center"),
        ("AWSReservedSSO_Admin_1", "/AWS-Reserved/sso.amazonaws.com/", "IAM Identity Center"),
    ],
)
def test_names_imitating_aws_managed_roles_outside_the_reserved_path(name, path, imitated):
    result = evaluate_role(role(name, path, PERMISSIVE))
    assert result.status is TrustStatus.NOT_ENFORCED
    assert result.imitation is not None and result.imitation.kind.value == imitated


@pytest.mark.parametrize(
    "name", ["OrganizationAccountAccessRole", "AWSControlTowerExecution", "MyAWSServiceRole"]
)
def test_customer_roles_with_documented_or_similar_names_are_not_imitations(name):
    result = evaluate_role(role(name, "/", PERMISSIVE))
    assert result.imitation is None
    assert "RSN044" not in {r.code.value for r in result.reasons}


def test_a_look_alike_with_a_compliant_policy_keeps_its_status_and_the_finding():
    result = evaluate_role(role("AWSServiceRoleForBackup", "/", policy(statement(ROOT, RULE))))
    assert result.status is TrustStatus.ENFORCED
    assert result.reasons[0].code.value == "RSN044"


def test_a_configured_pattern_that_matches_a_look_alike_exempts_it_visibly():
    options = TrustOptions(exempt_role_patterns=("AWSReservedSSO_*",))
    result = evaluate_role(
        role("AWSReservedSSO_Backdoor_0123456789abcdef", "/", PERMISSIVE), options
    )
    assert result.status is TrustStatus.EXEMPT
    assert result.exempt_by == "configuration"
    assert [r.code.value for r in result.reasons[:2]] == ["RSN043", "RSN044"]
    data = result.to_dict()
    assert data["exempt_by"] == "configuration" and data["policy_status"] == "not_enforced"
    assert data["imitates_aws_managed_role"] == "IAM Identity Center"


def test_service_or_federated_only_trust_stays_exempt_by_its_policy():
    document = policy(statement({"Service": "lambda.amazonaws.com"}))
    result = evaluate_role(role("AWSServiceRoleForLambdaLookAlike", "/", document))
    assert result.status is TrustStatus.EXEMPT
    assert result.exempt_by == "trust_policy"
    assert result.reasons[0].code.value == "RSN044"


@pytest.mark.parametrize("pattern", ["break-glass-*", "/emergency/*", "BREAK-GLASS-admin"])
def test_configured_patterns_match_name_or_path_and_name_case_insensitively(pattern):
    options = TrustOptions(exempt_role_patterns=(pattern,))
    result = evaluate_role(role("break-glass-admin", "/emergency/"), options)
    assert result.status is TrustStatus.EXEMPT
    assert result.reasons[0].code.value == "RSN043"
    assert "not_enforced" in result.reasons[0].message
    assert result.exempt_by == "configuration"


def test_configured_pattern_that_does_not_match_leaves_the_verdict():
    options = TrustOptions(exempt_role_patterns=("other-*",))
    assert evaluate_role(role(), options).status is TrustStatus.NOT_ENFORCED


def test_exempt_roles_keep_their_policy_verdict_and_flags():
    public = policy(statement({"AWS": "*"}))
    result = evaluate_role(role("x", document=public), TrustOptions(exempt_role_patterns=("x",)))
    data = result.to_dict()
    assert data["status"] == "exempt"
    assert data["policy_status"] == "not_enforced"
    assert data["publicly_assumable"] is True


def test_service_only_trust_is_exempt_at_role_level():
    document = policy(statement({"Service": "lambda.amazonaws.com"}))
    assert evaluate_role(role(document=document)).status is TrustStatus.EXEMPT


def test_a_role_without_a_trust_policy_is_unparseable_not_dropped():
    record = role()
    del record["AssumeRolePolicyDocument"]
    result = evaluate_role(record)
    assert result.status is TrustStatus.UNPARSEABLE
    assert result.reasons[0].code.value == "RSN051"


def test_a_role_with_a_broken_trust_policy_is_unparseable():
    result = evaluate_role(role(document="%7B%22Statement%22%3A"))
    assert result.status is TrustStatus.UNPARSEABLE
    assert result.reasons[0].code.value == "RSN050"


def test_the_role_arn_gives_account_and_partition_for_cross_account_checks():
    other = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
    result = evaluate_role(role(document=policy(statement(other, RULE))))
    assert result.account_id == ACCOUNT
    assert result.policy_verdict.cross_account_unpinned == (other,)
    assert role_account("arn:aws-us-gov:iam::123456789012:role/a/b") == (
        "aws-us-gov",
        "123456789012",
    )
    assert role_account("not-an-arn") == (None, None)


def test_the_json_shape_of_a_role_verdict():
    data = evaluate_role(role()).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {
        "role_name",
        "role_arn",
        "status",
        "reasons",
        "fixed_policy",
        "remediation_command",
        "publicly_assumable",
        "cross_account_unpinned",
        "role_principals_without_username",
        "policy_version",
        "set_operator_misuse",
        "one_character_user_names",
        "duplicate_keys",
    }
    reason = data["reasons"][0]
    assert set(reason) >= {"code", "message", "statement", "principals", "severity", "title"}
    assert reason["statement"] == {"index": 0, "sid": None}
    assert data["remediation_command"].startswith(
        "aws iam update-assume-role-policy --role-name deploy --policy-document '"
    )


def test_role_objects_from_any_api_form_evaluate_alike():
    as_dict = evaluate_role(role())
    as_json = evaluate_role(role(document=json.dumps(NOT_COMPLIANT)))
    assert as_dict.status is as_json.status is TrustStatus.NOT_ENFORCED
    assert as_dict.fixed_policy == as_json.fixed_policy
