"""aws-semantics.md §1, bullet by bullet: how IAM evaluates the RoleSessionName rule.

Each test names the fact it pins; the section headings follow the bullets of §1.
"""

from __future__ import annotations

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    enforces_rule,
    evaluate_policy,
)

from tests.trust.builders import (
    ACCOUNT,
    GUARD,
    OTHER_ACCOUNT,
    ROLE,
    ROOT,
    RULE,
    SESSION,
    USER,
    codes,
    policy,
    statement,
    verdict,
)

ENFORCED = TrustStatus.ENFORCED
BY_DENY = TrustStatus.ENFORCED_BY_DENY
WEAK = TrustStatus.WEAK
NOT_ENFORCED = TrustStatus.NOT_ENFORCED
UNSATISFIABLE = TrustStatus.UNSATISFIABLE
EXEMPT = TrustStatus.EXEMPT


# --- The rule ---------------------------------------------------------------------------


def test_the_reference_statement_of_the_rule_is_enforced():
    document = policy(statement(ROOT, {"StringLike": {"sts:RoleSessionName": "${aws:username}"}}))
    assert verdict(document).status is ENFORCED
    assert codes(document) == {"RSN020"}


def test_an_allow_without_any_condition_is_not_enforced():
    assert verdict(policy(statement(ROOT))).status is NOT_ENFORCED
    assert "RSN001" in codes(policy(statement(ROOT)))


def test_only_enforced_statuses_let_session_names_be_trusted():
    trusted = {status for status in TrustStatus if enforces_rule(status)}
    assert trusted == {ENFORCED, BY_DENY}


# --- aws:username exists only for IAM users ------------------------------------------------


def test_role_principal_with_the_condition_can_never_assume_the_role():
    result = verdict(policy(statement(ROLE, RULE)))
    assert result.status is UNSATISFIABLE
    assert "RSN011" in {c.value for c in result.codes}


def test_account_trust_with_the_condition_blocks_role_sessions_and_root_of_that_account():
    # The account principal stands for users, role sessions and root alike; only users have
    # aws:username, so only they can ever match - and only with their own name.
    assert verdict(policy(statement(ACCOUNT, RULE))).status is ENFORCED


def test_negated_operator_in_an_allow_grants_callers_without_a_user_name():
    result = verdict(policy(statement(ROOT, GUARD)))
    assert result.status is NOT_ENFORCED
    assert "RSN008" in {c.value for c in result.codes}


# --- A Deny guard is equivalent or stronger ---------------------------------------------------


def test_deny_guard_with_any_principal_enforces_the_rule_over_an_unconditioned_allow():
    document = policy(statement(ROOT), statement({"AWS": "*"}, GUARD, effect="Deny"))
    result = verdict(document)
    assert result.status is BY_DENY
    assert "RSN021" in {c.value for c in result.codes}


def test_deny_guard_scoped_to_one_account_does_not_cover_an_allow_for_everyone():
    document = policy(statement({"AWS": "*"}), statement(ROOT, GUARD, effect="Deny"))
    result = verdict(document)
    assert result.status is NOT_ENFORCED
    assert "RSN009" in {c.value for c in result.codes}


def test_deny_guard_scoped_to_a_user_does_not_cover_the_rest_of_the_account():
    document = policy(statement(ROOT), statement(USER, GUARD, effect="Deny"))
    assert verdict(document).status is NOT_ENFORCED


def test_deny_guard_whose_action_misses_assume_role_does_not_enforce():
    document = policy(
        statement(ROOT), statement({"AWS": "*"}, GUARD, effect="Deny", action="sts:TagSession")
    )
    assert verdict(document).status is NOT_ENFORCED


def test_deny_guard_with_an_extra_unknown_and_condition_may_not_apply():
    guard = {**GUARD, "Bool": {"aws:MultiFactorAuthPresent": "true"}}
    document = policy(statement(ROOT), statement({"AWS": "*"}, guard, effect="Deny"))
    result = verdict(document)
    assert result.status is NOT_ENFORCED
    assert {"RSN009", "RSN036"} <= {c.value for c in result.codes}


def test_deny_guard_with_an_extra_condition_that_always_holds_still_enforces():
    guard = {**GUARD, "Null": {"sts:RoleSessionName": "false"}}
    document = policy(statement(ROOT), statement({"AWS": "*"}, guard, effect="Deny"))
    assert verdict(document).status is BY_DENY


def test_deny_guard_with_if_exists_on_the_negated_operator_still_denies():
    guard = {"StringNotEqualsIfExists": {"sts:RoleSessionName": "${aws:username}"}}
    document = policy(statement(ROOT), statement({"AWS": "*"}, guard, effect="Deny"))
    assert verdict(document).status is BY_DENY


def test_deny_guard_values_are_anded_so_an_extra_value_is_a_free_pass():
    # Judged by effect: it admits what Allow StringEquals [${aws:username}, break-glass] does.
    guard = {"StringNotEquals": {"sts:RoleSessionName": ["${aws:username}", "break-glass"]}}
    document = policy(statement(ROOT), statement({"AWS": "*"}, guard, effect="Deny"))
    result = verdict(document)
    assert result.status is WEAK
    assert {"RSN004", "RSN009"} <= {c.value for c in result.codes}


def test_deny_guard_with_a_default_lets_callers_without_user_name_use_the_default():
    guard = {"StringNotEquals": {"sts:RoleSessionName": "${aws:username, 'ops'}"}}
    document = policy(statement(ROOT), statement({"AWS": "*"}, guard, effect="Deny"))
    result = verdict(document)
    assert result.status is WEAK  # as the Allow form with the default (RSN007)
    assert {"RSN007", "RSN009"} <= {c.value for c in result.codes}


@pytest.mark.parametrize(
    ("deny", "allow", "code"),
    [
        ("StringNotLike", "StringLike", "RSN003"),
        ("StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase", "RSN005"),
    ],
)
def test_a_loose_deny_guard_over_an_unconditioned_allow_is_weak_like_the_loose_allow(
    deny, allow, code
):
    value = "${aws:username}*" if "Like" in deny else "${aws:username}"
    guarded = policy(
        statement(ROOT),
        statement({"AWS": "*"}, {deny: {"sts:RoleSessionName": value}}, effect="Deny"),
    )
    allowed = policy(statement(ROOT, {allow: {"sts:RoleSessionName": value}}))
    by_guard, by_allow = verdict(guarded), verdict(allowed)
    assert by_guard.status is by_allow.status is WEAK
    assert code in {c.value for c in by_guard.codes}
    assert code in {c.value for c in by_allow.codes}
    assert "RSN001" not in {c.value for c in by_guard.codes}


def test_a_loose_guard_that_misses_role_sessions_by_scope_is_still_not_enforced():
    guard = {"StringNotLike": {"sts:RoleSessionName": "${aws:username}*"}}
    document = policy(statement(ROOT), statement(USER, guard, effect="Deny"))
    assert verdict(document).status is NOT_ENFORCED


def test_deny_guard_together_with_allow_conditions_reports_the_guard():
    document = policy(statement(ROOT, RULE), statement({"AWS": "*"}, GUARD, effect="Deny"))
    assert verdict(document).status is ENFORCED


# --- Versions gate policy variables ----------------------------------------------------------


@pytest.mark.parametrize("version", ["2008-10-17", None])
def test_without_version_2012_the_variable_is_literal_and_the_statement_never_grants(version):
    result = verdict(policy(statement(ROOT, RULE), version=version))
    assert result.status is UNSATISFIABLE
    assert {"RSN010", "RSN033"} <= {c.value for c in result.codes}


def test_old_version_with_an_unconditioned_allow_is_still_not_enforced():
    document = policy(statement(ROOT, RULE), statement(USER), version="2008-10-17")
    assert verdict(document).status is NOT_ENFORCED


def test_old_version_deny_guard_denies_every_session_name():
    # StringNotEquals against the literal "${aws:username}" is true for every legal name.
    document = policy(
        statement(ROOT), statement({"AWS": "*"}, GUARD, effect="Deny"), version="2008-10-17"
    )
    assert verdict(document).status is UNSATISFIABLE


def test_old_version_is_flagged_beside_the_status():
    assert verdict(policy(statement(ROOT), version="2008-10-17")).version == "2008-10-17"
    assert "RSN033" in codes(policy(statement({"Service": "ec2.amazonaws.com"}), version=None))


# --- Operators ------------------------------------------------------------------------------


def test_string_like_without_wildcards_is_the_same_as_string_equals():
    like = policy(statement(ROOT, {"StringLike": {"sts:RoleSessionName": "${aws:username}"}}))
    equals = policy(statement(ROOT, RULE))
    assert verdict(like).status is verdict(equals).status is ENFORCED


@pytest.mark.parametrize("pattern", ["${aws:username}*", "*${aws:username}", "${aws:username}?"])
def test_wildcards_around_the_variable_weaken_the_rule(pattern):
    result = verdict(policy(statement(ROOT, {"StringLike": {"sts:RoleSessionName": pattern}})))
    assert result.status is WEAK
    assert "RSN003" in {c.value for c in result.codes}


def test_escaped_wildcard_after_the_variable_is_a_literal_character():
    # ${*} is a literal '*', which no session name may contain: only the exact name matches.
    document = policy(statement(ROOT, {"StringLike": {"sts:RoleSessionName": "${aws:username}"}}))
    literal = policy(
        statement(ROOT, {"StringLike": {"sts:RoleSessionName": "${aws:username}${*}"}})
    )
    assert verdict(document).status is ENFORCED
    assert verdict(literal).status is UNSATISFIABLE


def test_extra_values_are_ored_and_weaken_the_rule():
    condition = {"StringEquals": {"sts:RoleSessionName": ["${aws:username}", "deploy"]}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is WEAK
    assert "RSN004" in {c.value for c in result.codes}


def test_ignore_case_weakens_the_rule():
    condition = {"StringEqualsIgnoreCase": {"sts:RoleSessionName": "${aws:username}"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is WEAK
    assert "RSN005" in {c.value for c in result.codes}


def test_for_all_values_on_the_single_valued_key_is_a_vacuous_defect():
    condition = {"ForAllValues:StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is WEAK
    assert "RSN006" in {c.value for c in result.codes}
    assert result.set_operator_misuse == ("Statement[0]: ForAllValues:StringEquals",)


def test_for_any_value_is_misuse_reported_beside_an_otherwise_exact_match():
    condition = {"ForAnyValue:StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is ENFORCED
    assert "RSN032" in {c.value for c in result.codes}
    assert result.set_operator_misuse


def test_if_exists_behaves_like_string_equals_for_assume_role():
    condition = {"StringEqualsIfExists": {"sts:RoleSessionName": "${aws:username}"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is ENFORCED
    assert "RSN022" in {c.value for c in result.codes}


def test_policy_variable_default_lets_callers_without_user_name_in_under_the_default():
    condition = {"StringEquals": {"sts:RoleSessionName": "${aws:username, 'nobody'}"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is WEAK
    assert "RSN007" in {c.value for c in result.codes}


def test_policy_variable_default_for_a_user_only_principal_changes_nothing():
    # Only the IAM user alice is trusted, and she always has aws:username.
    condition = {"StringEquals": {"sts:RoleSessionName": "${aws:username, 'nobody'}"}}
    assert verdict(policy(statement(USER, condition))).status is ENFORCED


@pytest.mark.parametrize("value", ["${aws:username}@example.com", "adm-${aws:username}"])
def test_fixed_text_around_the_variable_is_weak(value):
    result = verdict(policy(statement(ROOT, {"StringEquals": {"sts:RoleSessionName": value}})))
    assert result.status is WEAK
    assert "RSN016" in {c.value for c in result.codes}


def test_a_fixed_session_name_does_not_identify_the_caller():
    condition = {"StringEquals": {"sts:RoleSessionName": "deploy"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is NOT_ENFORCED
    assert "RSN002" in {c.value for c in result.codes}


def test_another_variable_is_not_the_user_name():
    condition = {"StringEquals": {"sts:RoleSessionName": "${aws:PrincipalTag/email}"}}
    assert verdict(policy(statement(ROOT, condition))).status is NOT_ENFORCED


# --- AND, OR and case -------------------------------------------------------------------------


def test_other_keys_anded_to_the_rule_in_an_allow_only_restrict_it():
    condition = {
        "StringEquals": {"sts:RoleSessionName": "${aws:username}", "sts:ExternalId": "x-1"},
        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
    }
    assert verdict(policy(statement(ROOT, condition))).status is ENFORCED


def test_unknown_conditions_on_an_unconditioned_allow_do_not_make_it_compliant():
    condition = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is NOT_ENFORCED
    assert "RSN036" in {c.value for c in result.codes}


def test_condition_key_names_are_case_insensitive():
    condition = {"StringEquals": {"STS:rolesessionNAME": "${aws:username}"}}
    assert verdict(policy(statement(ROOT, condition))).status is ENFORCED


def test_condition_values_keep_their_case_under_string_equals():
    # "${AWS:UserName}" is the same variable (key names are case-insensitive) ...
    same = {"StringEquals": {"sts:RoleSessionName": "${AWS:UserName}"}}
    assert verdict(policy(statement(ROOT, same))).status is ENFORCED
    # ... but values are compared case-sensitively: for user jdoe, "JDoe" is another name.
    jdoe = f"arn:aws:iam::{ACCOUNT}:user/jdoe"
    other_case = {"StringEquals": {"sts:RoleSessionName": "JDoe"}}
    exact = {"StringEquals": {"sts:RoleSessionName": "jdoe"}}
    assert verdict(policy(statement(jdoe, other_case))).status is NOT_ENFORCED
    assert verdict(policy(statement(jdoe, exact))).status is ENFORCED


def test_action_names_are_case_insensitive():
    document = policy(statement(ROOT, RULE, action="STS:assumeROLE"))
    assert verdict(document).status is ENFORCED
    assert verdict(policy(statement(ROOT, action="sts:ASSUMEROLE"))).status is NOT_ENFORCED


# --- Any Allow without the condition breaks the rule ----------------------------------------


def test_one_unconditioned_allow_breaks_the_rule_even_if_another_statement_has_it():
    result = verdict(policy(statement(ROOT, RULE), statement(USER)))
    assert result.status is NOT_ENFORCED
    assert result.offending_statements == (1,)


@pytest.mark.parametrize(
    "action", ["sts:AssumeRole", "sts:AssumeRole*", "sts:Assume*", "sts:*", "*", ["sts:*"]]
)
def test_actions_that_grant_assume_role(action):
    assert verdict(policy(statement(ROOT, action=action))).status is NOT_ENFORCED
    assert verdict(policy(statement(ROOT, RULE, action=action))).status is ENFORCED


@pytest.mark.parametrize(
    "action",
    ["sts:TagSession", "sts:SetSourceIdentity", ["sts:TagSession", "sts:SetSourceIdentity"]],
)
def test_tag_session_or_set_source_identity_alone_do_not_grant_assumption(action):
    result = verdict(policy(statement(ROOT, action=action)))
    assert result.status is UNSATISFIABLE
    assert "RSN014" in {c.value for c in result.codes}


def test_not_action_that_does_not_exclude_assume_role_grants_it():
    document = policy(statement(ROOT, not_action=["sts:AssumeRoleWithSAML"]))
    assert verdict(document).status is NOT_ENFORCED


def test_not_action_that_excludes_assume_role_does_not_grant_it():
    document = policy(statement(ROOT, not_action="sts:AssumeRole"))
    assert verdict(document).status is UNSATISFIABLE


def test_assume_role_with_saml_for_an_aws_principal_grants_nothing():
    document = policy(statement(ROOT, action="sts:AssumeRoleWithSAML"))
    assert verdict(document).status is UNSATISFIABLE


# --- Principal kinds --------------------------------------------------------------------------


def test_account_id_and_root_arn_are_the_same_principal():
    for principal in (ACCOUNT, ROOT):
        assert verdict(policy(statement(principal))).status is NOT_ENFORCED
        assert verdict(policy(statement(principal, RULE))).status is ENFORCED


def test_iam_user_principal_with_the_condition_is_enforced():
    assert verdict(policy(statement(USER, RULE))).status is ENFORCED


def test_iam_user_principal_with_a_path_uses_the_last_segment_as_user_name():
    user = f"arn:aws:iam::{ACCOUNT}:user/division/team/bob"
    fixed = {"StringEquals": {"sts:RoleSessionName": "bob"}}
    # A literal "bob" equals bob's own name: for that single user this enforces the rule.
    assert verdict(policy(statement(user, fixed))).status is ENFORCED


def test_assumed_role_session_principal_can_never_satisfy_the_variable():
    result = verdict(policy(statement(SESSION, RULE)))
    assert result.status is UNSATISFIABLE
    assert result.role_principals_without_username == (SESSION,)


def test_wildcard_principal_string_and_aws_wildcard_are_both_everyone():
    for principal in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
        result = verdict(policy(statement(principal)))
        assert result.status is NOT_ENFORCED
        assert result.publicly_assumable


def test_principals_as_string_or_list_give_the_same_verdict():
    single = verdict(policy(statement({"AWS": ROOT}, RULE)))
    listed = verdict(policy(statement({"AWS": [ROOT]}, RULE)))
    assert single.status is listed.status is ENFORCED


def test_service_only_trust_is_exempt():
    result = verdict(policy(statement({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})))
    assert result.status is EXEMPT
    assert "RSN042" in {c.value for c in result.codes}


def test_federated_only_trust_is_exempt():
    saml = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
    document = policy(statement({"Federated": saml}, action="sts:AssumeRoleWithSAML"))
    assert verdict(document).status is EXEMPT


def test_aws_principal_beside_a_service_in_one_statement_is_evaluated():
    document = policy(statement({"AWS": ROOT, "Service": "ec2.amazonaws.com"}))
    assert verdict(document).status is NOT_ENFORCED


@pytest.mark.parametrize("unique_id", ["AIDAJQABLZS4A3QDU576Q", "AROADBQP57FF2AEXAMPLE"])
def test_unique_id_of_a_deleted_principal_never_matches(unique_id):
    result = verdict(policy(statement(unique_id)))
    assert result.status is UNSATISFIABLE
    assert "RSN012" in {c.value for c in result.codes}


def test_unique_id_beside_a_live_principal_does_not_hide_the_live_gap():
    document = policy(statement({"AWS": ["AIDAJQABLZS4A3QDU576Q", USER]}))
    assert verdict(document).status is NOT_ENFORCED


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_principals_of_the_role_partition_are_recognised(partition):
    root = f"arn:{partition}:iam::{ACCOUNT}:root"
    unfixed = evaluate_policy(policy(statement(root)), account_id=ACCOUNT, partition=partition)
    fixed = evaluate_policy(policy(statement(root, RULE)), account_id=ACCOUNT, partition=partition)
    assert unfixed.status is NOT_ENFORCED
    assert fixed.status is ENFORCED


def test_principal_of_another_partition_never_matches():
    document = policy(statement(f"arn:aws-cn:iam::{ACCOUNT}:root"))
    result = evaluate_policy(document, account_id=ACCOUNT, partition="aws")
    assert result.status is UNSATISFIABLE
    assert "RSN012" in {c.value for c in result.codes}


def test_federated_user_session_principal_cannot_call_assume_role():
    document = policy(statement(f"arn:aws:sts::{ACCOUNT}:federated-user/bob"))
    assert verdict(document).status is UNSATISFIABLE


def test_malformed_principal_entry_never_matches_and_is_reported():
    document = policy(statement("<ACCOUNT ID>"))
    result = verdict(document)
    assert result.status is UNSATISFIABLE
    assert "RSN012" in {c.value for c in result.codes}


# --- Role principals and SourceIdentity ------------------------------------------------------


def test_role_principal_without_the_condition_is_the_real_gap():
    result = verdict(policy(statement(ROLE)))
    assert result.status is NOT_ENFORCED
    assert {"RSN001", "RSN011"} <= {c.value for c in result.codes}
    assert result.role_principals_without_username == (ROLE,)


def test_role_principal_reason_recommends_source_identity():
    reason = next(r for r in verdict(policy(statement(ROLE))).reasons if r.code.value == "RSN011")
    assert "sts:SourceIdentity" in reason.message


def test_role_principal_beside_users_with_the_condition_is_dead_but_the_rule_holds():
    result = verdict(policy(statement({"AWS": [ROOT, ROLE]}, RULE)))
    assert result.status is ENFORCED
    assert result.role_principals_without_username == (ROLE,)


# --- Public and cross-account trust ------------------------------------------------------------


def test_wildcard_principal_with_the_condition_is_compliant_but_publicly_assumable():
    result = verdict(policy(statement({"AWS": "*"}, RULE)))
    assert result.status is ENFORCED
    assert result.publicly_assumable
    assert "RSN030" in {c.value for c in result.codes}


def test_wildcard_principal_pinned_to_an_organisation_is_not_public():
    condition = {**RULE, "StringEquals": {**RULE["StringEquals"], "aws:PrincipalOrgID": "o-a1"}}
    result = verdict(policy(statement({"AWS": "*"}, condition)))
    assert result.status is ENFORCED
    assert not result.publicly_assumable


def test_not_principal_in_an_allow_trusts_everyone_else():
    document = policy(
        {"Effect": "Allow", "NotPrincipal": {"AWS": USER}, "Action": "sts:AssumeRole"}
    )
    result = verdict(document)
    assert result.status is NOT_ENFORCED
    assert result.publicly_assumable
    assert "RSN034" in {c.value for c in result.codes}


def test_cross_account_trust_without_an_account_pin_is_flagged():
    other = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
    result = verdict(policy(statement(other, RULE)))
    assert result.status is ENFORCED
    assert result.cross_account_unpinned == (other,)


def test_cross_account_trust_pinned_by_principal_account_is_not_flagged():
    other = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
    condition = {
        "StringEquals": {
            "sts:RoleSessionName": "${aws:username}",
            "aws:PrincipalAccount": OTHER_ACCOUNT,
        }
    }
    assert verdict(policy(statement(other, condition))).cross_account_unpinned == ()


def test_own_account_trust_is_not_cross_account():
    assert verdict(policy(statement(ROOT, RULE))).cross_account_unpinned == ()


# --- Session-name syntax ---------------------------------------------------------------------


def test_a_user_with_a_one_character_name_can_never_satisfy_the_rule():
    result = verdict(policy(statement(f"arn:aws:iam::{ACCOUNT}:user/x", RULE)))
    assert result.status is UNSATISFIABLE
    assert result.one_character_user_names == (f"arn:aws:iam::{ACCOUNT}:user/x",)
    assert "RSN013" in {c.value for c in result.codes}


# --- Documents without statements ---------------------------------------------------------------


def test_a_document_without_statements_lets_nobody_assume_the_role():
    for document in ({"Version": "2012-10-17"}, {"Version": "2012-10-17", "Statement": []}):
        result = verdict(document)
        assert result.status is UNSATISFIABLE
        assert [c.value for c in result.codes] == ["RSN014"]


def test_deny_only_document_grants_nothing():
    document = policy(statement({"Service": "ec2.amazonaws.com"}, effect="Deny"))
    assert verdict(document).status is UNSATISFIABLE
