"""Trust policies are normalised once, from every form they arrive in, or rejected clearly."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    evaluate_policy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.policy import (
    Effect,
    PolicyParseError,
    SetQualifier,
    parse_operator,
    parse_policy,
)

from tests.trust.builders import ROOT, RULE, policy, statement, verdict

DOCUMENT = policy(statement(ROOT, RULE, sid="Users"), statement({"Service": "ec2.amazonaws.com"}))


def test_dict_json_string_and_url_encoded_string_give_the_same_model():
    text = json.dumps(DOCUMENT)
    forms = [DOCUMENT, text, urllib.parse.quote(text), text.encode("utf-8"), f"  {text}\n"]
    models = {parse_policy(form) for form in forms}
    assert len(models) == 1


def test_each_distinct_text_is_parsed_once_for_the_cloudtrail_path():
    # CloudTrail repeats requestParameters documents; equal text returns the same model.
    text = json.dumps(DOCUMENT)
    assert parse_policy(text) is parse_policy(text)
    assert parse_policy(DOCUMENT) is parse_policy(json.loads(text))


def test_statement_may_be_one_object_or_a_list():
    single = {"Version": "2012-10-17", "Statement": statement(ROOT, RULE)}
    listed = policy(statement(ROOT, RULE))
    assert parse_policy(single) == parse_policy(listed)


def test_strings_and_single_element_lists_are_the_same_everywhere():
    as_strings = policy(statement({"AWS": ROOT}, RULE, action="sts:AssumeRole"))
    as_lists = policy(
        statement(
            {"AWS": [ROOT]},
            {"StringEquals": {"sts:RoleSessionName": ["${aws:username}"]}},
            action=["sts:AssumeRole"],
        )
    )
    assert parse_policy(as_strings) == parse_policy(as_lists)


def test_actions_and_condition_keys_are_case_folded_but_values_are_not():
    document = policy(
        statement(
            ROOT,
            {"StringEquals": {"STS:RoleSessionName": "${aws:UserName}"}},
            action="STS:AssumeRole",
        )
    )
    (parsed,) = parse_policy(document).statements
    assert parsed.actions == ("sts:assumerole",)
    assert parsed.conditions[0].key == "sts:rolesessionname"
    assert parsed.conditions[0].values == ("${aws:UserName}",)


def test_statement_fields_are_normalised():
    parsed = parse_policy(DOCUMENT)
    first, second = parsed.statements
    assert (first.index, first.sid, first.effect) == (0, "Users", Effect.ALLOW)
    assert first.principals.aws == (ROOT,)
    assert second.principals.service == ("ec2.amazonaws.com",)
    assert first.label == "Statement[0] (Sid 'Users')"
    assert parsed.variables_enabled


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", ("StringEquals", True, None, False)),
        ("stringequalsifexists", ("StringEquals", True, None, True)),
        (
            "ForAllValues:StringLikeIfExists",
            ("StringLike", True, SetQualifier.FOR_ALL_VALUES, True),
        ),
        (
            "ForAnyValue:StringNotEquals",
            ("StringNotEquals", True, SetQualifier.FOR_ANY_VALUE, False),
        ),
        ("Null", ("Null", True, None, False)),
        ("StringEqualz", ("StringEqualz", False, None, False)),
    ],
)
def test_condition_operators_split_into_base_qualifier_and_if_exists(operator, expected):
    assert parse_operator(operator) == expected


def test_boolean_and_number_condition_values_become_their_text():
    document = policy(
        statement(
            ROOT,
            {
                "Bool": {"aws:MultiFactorAuthPresent": True},
                "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
            },
        )
    )
    conditions = parse_policy(document).statements[0].conditions
    assert [c.values for c in conditions] == [("true",), ("3600",)]


def test_empty_documents_are_valid_and_have_no_statements():
    assert parse_policy({"Version": "2012-10-17"}).statements == ()
    assert parse_policy('{"Version":"2012-10-17","Statement":[]}').statements == ()


def test_missing_version_is_kept_as_none_and_disables_variables():
    parsed = parse_policy({"Statement": [statement(ROOT, RULE)]})
    assert parsed.version is None
    assert not parsed.variables_enabled


# --- duplicate keys -------------------------------------------------------------------------

_RULE_FIRST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},'
    '"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:RoleSessionName":'
    '"${aws:username}"}},"Condition":{}}]}'
)


def test_duplicate_keys_are_detected_and_both_readings_kept():
    parsed = parse_policy(_RULE_FIRST)
    assert parsed.duplicate_keys == ("Condition",)
    assert parsed.statements[0].conditions == ()  # last wins, as in JSON parsers
    assert parsed.alternative is not None
    assert parsed.alternative.statements[0].conditions  # first wins


def test_duplicate_keys_verdict_is_the_worse_reading_and_says_which():
    result = verdict(_RULE_FIRST)
    assert result.status is TrustStatus.NOT_ENFORCED
    duplicate = next(r for r in result.reasons if r.code.value == "RSN035")
    assert "last-wins" in duplicate.message


def test_duplicate_keys_worse_reading_may_be_the_first_one():
    swapped = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
        '"111122223333"},"Action":"sts:AssumeRole","Condition":{},"Condition":{"StringEquals":'
        '{"sts:RoleSessionName":"${aws:username}"}}}]}'
    )
    result = verdict(swapped)
    assert result.status is TrustStatus.NOT_ENFORCED
    assert "first-wins" in next(r for r in result.reasons if r.code.value == "RSN035").message


def test_harmless_duplicate_keys_are_still_reported():
    text = '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}'
    parsed = parse_policy(text)
    assert parsed.alternative is None
    assert "RSN035" in {c.value for c in verdict(text).codes}


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("", "empty string"),
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ({"Version": "2012-10-17", "Statment": []}, "'Statment'"),
        ({"Statement": "x"}, "Statement: expected an object or a list"),
        ({"Statement": [1]}, "Statement[0]: expected an object"),
        (policy(statement(ROOT, effect="allow")), "Statement[0].Effect"),
        (
            policy({"Effect": "Allow", "Action": "sts:AssumeRole"}),
            "neither Principal and NotPrincipal",
        ),
        (policy({**statement(ROOT), "NotAction": "s3:*"}), "both Action and NotAction"),
        (policy(statement({"aws": ROOT})), "unknown principal type 'aws'"),
        (policy(statement(ROOT).copy() | {"Principal": ROOT}), "bare string principal"),
        (policy(statement(ROOT, {"StringEquals": "x"})), "Condition.StringEquals"),
        (policy(statement(ROOT, {"StringEquals": {"k": None}})), "Condition.StringEquals.k"),
        (policy(statement({"AWS": [ROOT, 7]})), "Principal.AWS"),
        (policy({**statement(ROOT), "Resource": "*"}), "'Resource'"),
        (b"\xff\xfe", "not UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "cannot be decoded"),
    ],
)
def test_malformed_documents_raise_one_error_naming_the_problem(document, fragment):
    with pytest.raises(PolicyParseError) as raised:
        parse_policy(document)
    assert fragment in str(raised.value)


def test_evaluating_a_malformed_document_is_unparseable_not_an_exception():
    result = evaluate_policy('{"Statement": 5}')
    assert result.status is TrustStatus.UNPARSEABLE
    (reason,) = result.reasons
    assert reason.code.value == "RSN050"
    assert "Statement" in reason.message
