"""Remediation: the minimal corrected trust policy and a correctly quoted CLI command."""

from __future__ import annotations

import json
import shlex

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    evaluate_role,
    fix_policy,
    policy_report,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.remediation import (
    corrected_document,
    mask_external_ids,
    update_command,
)

from tests.trust.builders import ACCOUNT, ROLE, ROOT, RULE, USER, policy, statement, verdict


def role(document, name="deploy"):
    return {
        "RoleName": name,
        "Path": "/",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AssumeRolePolicyDocument": document,
    }


def test_the_condition_is_added_to_the_offending_statement_only():
    service = statement({"Service": "ec2.amazonaws.com"})
    document = policy(statement(ROOT, RULE, sid="Good"), statement(USER, sid="Bad"), service)
    fixed = fix_policy(verdict(document))
    assert fixed is not None
    assert fixed["Statement"][0] == document["Statement"][0]
    assert fixed["Statement"][1] == {**document["Statement"][1], "Condition": RULE}
    assert fixed["Statement"][2] == service
    assert verdict(fixed).status is TrustStatus.ENFORCED


def test_the_weak_form_is_replaced_and_other_conditions_are_kept():
    weak = {
        "StringLike": {"sts:RoleSessionName": "${aws:username}*"},
        "StringEquals": {"sts:ExternalId": "ext-1"},
    }
    fixed = fix_policy(verdict(policy(statement(ROOT, weak))))
    assert fixed is not None
    assert fixed["Statement"][0]["Condition"] == {
        "StringEquals": {"sts:ExternalId": "ext-1", "sts:RoleSessionName": "${aws:username}"}
    }


def test_a_statement_mixing_aws_and_service_principals_is_split_so_the_service_keeps_working():
    mixed = statement({"AWS": ROOT, "Service": "ec2.amazonaws.com"}, sid="Mixed")
    fixed = fix_policy(verdict(policy(mixed)))
    assert fixed is not None
    service_part, aws_part = fixed["Statement"]
    assert service_part == {**mixed, "Principal": {"Service": "ec2.amazonaws.com"}}
    assert "Condition" not in service_part
    assert aws_part["Principal"] == {"AWS": ROOT}
    assert aws_part["Condition"] == RULE
    assert aws_part["Sid"] == "MixedUserSession"


def test_the_version_is_set_to_2012_first():
    fixed = fix_policy(verdict(policy(statement(ROOT), version="2008-10-17")))
    assert fixed is not None
    assert next(iter(fixed)) == "Version"
    assert fixed["Version"] == "2012-10-17"


def test_a_single_statement_object_stays_an_object():
    document = {"Version": "2012-10-17", "Statement": statement(ROOT)}
    fixed = corrected_document(document, {0})
    assert isinstance(fixed["Statement"], dict)


def test_the_input_document_is_not_modified():
    document = policy(statement(ROOT))
    before = json.dumps(document, sort_keys=True)
    corrected_document(document, {0})
    assert json.dumps(document, sort_keys=True) == before


def test_no_fix_is_offered_when_only_role_principals_are_trusted():
    result = verdict(policy(statement(ROLE)))
    assert result.status is TrustStatus.NOT_ENFORCED
    assert fix_policy(result) is None


def test_no_fix_is_offered_for_a_compliant_policy():
    assert fix_policy(verdict(policy(statement(ROOT, RULE)))) is None


def test_the_command_round_trips_through_the_shell_even_with_quotes():
    document = policy(statement(ROOT, {"StringEquals": {"sts:ExternalId": "it's"}}))
    command = update_command("my-role", document)
    assert shlex.split(command) == [
        "aws",
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "my-role",
        "--policy-document",
        json.dumps(document, separators=(",", ":")),
    ]


def test_the_role_verdict_carries_fixed_policy_and_exact_command():
    result = evaluate_role(role(policy(statement(ROOT))))
    assert result.fixed_policy is not None
    assert result.remediation_command == (
        "aws iam update-assume-role-policy --role-name deploy --policy-document '"
        + json.dumps(result.fixed_policy, separators=(",", ":"))
        + "'"
    )


def test_external_ids_never_appear_in_the_fix_or_the_command():
    document = policy(statement(ROOT, {"StringEquals": {"sts:ExternalId": "Sup3r-Secret-Ext"}}))
    result = evaluate_role(role(document))
    output = json.dumps(result.to_dict())
    assert "Sup3r-Secret-Ext" not in output
    assert result.to_dict()["remediation_note"].startswith("sts:ExternalId values are masked")
    report = policy_report(verdict(document))
    assert report["fixed_policy"] is not None
    assert "Sup3r-Secret-Ext" not in json.dumps(report)


def test_masking_reaches_every_external_id_value_and_nothing_else():
    document = policy(
        statement(
            ROOT, {"StringEquals": {"STS:EXTERNALID": ["a1", "b2"], "aws:PrincipalOrgID": "o-1"}}
        )
    )
    masked, changed = mask_external_ids(document)
    block = masked["Statement"][0]["Condition"]["StringEquals"]
    assert changed
    assert block == {"STS:EXTERNALID": ["********", "********"], "aws:PrincipalOrgID": "o-1"}
    assert mask_external_ids(policy(statement(ROOT))) == (policy(statement(ROOT)), False)
