"""Condition operators against one request, as the IAM User Guide defines them."""

from __future__ import annotations

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.conditions import (
    Variable,
    Wildcard,
    and3,
    evaluate_condition,
    not3,
    or3,
    template,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.policy import (
    Condition,
    parse_operator,
)

KEY = "sts:rolesessionname"
USER_REQUEST = {KEY: "alice", "aws:username": "alice"}
ROLE_REQUEST = {KEY: "alice", "aws:username": None}


def condition(operator: str, *values: str, key: str = KEY) -> Condition:
    base, known, qualifier, if_exists = parse_operator(operator)
    return Condition(operator, base, known, qualifier, if_exists, key, values)


def check(operator: str, request, *values: str, key: str = KEY):
    return evaluate_condition(condition(operator, *values, key=key), request, True)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("StringNotEquals", True),
        ("StringNotLike", True),
    ],
)
def test_a_variable_whose_key_is_absent_matches_nothing(operator, expected):
    assert check(operator, ROLE_REQUEST, "${aws:username}") is expected


def test_a_variable_is_substituted_from_the_request():
    assert check("StringEquals", USER_REQUEST, "${aws:username}") is True
    assert check("StringEquals", {**USER_REQUEST, KEY: "bob"}, "${aws:username}") is False


def test_a_variable_default_applies_when_the_key_is_absent():
    assert check("StringEquals", {KEY: "guest", "aws:username": None}, "${aws:username, 'guest'}")


def test_variables_are_literal_text_when_the_policy_version_disables_them():
    cond = condition("StringEquals", "${aws:username}")
    assert evaluate_condition(cond, {KEY: "${aws:username}", "aws:username": "x"}, False)
    assert not evaluate_condition(cond, USER_REQUEST, False)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringNotEquals", True),
        ("StringEqualsIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAnyValue:StringEquals", False),
    ],
)
def test_a_key_absent_from_the_request(operator, expected):
    assert check(operator, {KEY: None}, "x") is expected


@pytest.mark.parametrize(
    ("value", "present", "expected"),
    [("true", False, True), ("true", True, False), ("false", True, True)],
)
def test_null_tests_presence(value, present, expected):
    request = {KEY: "alice" if present else None}
    assert check("Null", request, value) is expected


def test_set_qualifiers_on_a_present_single_value_reduce_to_the_plain_operator():
    for operator in ("ForAllValues:StringEquals", "ForAnyValue:StringEquals"):
        assert check(operator, USER_REQUEST, "${aws:username}") is True
        assert check(operator, {**USER_REQUEST, KEY: "bob"}, "${aws:username}") is False


def test_several_values_are_ored_and_negated_operators_and_them():
    assert check("StringEquals", USER_REQUEST, "bob", "alice") is True
    assert check("StringNotEquals", USER_REQUEST, "bob", "alice") is False
    assert check("StringNotEquals", USER_REQUEST, "bob", "carol") is True


def test_string_like_wildcards_and_escaped_literals():
    assert check("StringLike", USER_REQUEST, "al*") is True
    assert check("StringLike", USER_REQUEST, "al?ce") is True
    assert check("StringLike", USER_REQUEST, "al${*}") is False
    assert check("StringLike", {KEY: "al*"}, "al${*}") is True


def test_ignore_case_and_exact_comparison():
    request = {KEY: "ALICE", "aws:username": "alice"}
    assert check("StringEqualsIgnoreCase", request, "${aws:username}") is True
    assert check("StringEquals", request, "${aws:username}") is False


def test_arn_like_matches_each_of_the_six_fields_separately():
    request = {"aws:principalarn": "arn:aws:iam::111122223333:role/path/admin"}
    key = "aws:principalarn"
    assert check("ArnLike", request, "arn:aws:iam::*:role/*", key=key) is True
    assert check("ArnLike", request, "arn:aws:iam::*:user/*", key=key) is False
    assert check("ArnLike", request, "arn:*:role/*", key=key) is False  # too few fields
    assert check("ArnNotLike", request, "arn:aws:iam::*:role/*", key=key) is False


def test_unmodelled_keys_and_unknown_operators_are_unknown():
    assert check("IpAddress", USER_REQUEST, "10.0.0.0/8", key="aws:sourceip") is None
    assert check("StringEqualz", USER_REQUEST, "alice") is None
    assert check("StringEquals", {KEY: "x"}, "${aws:PrincipalTag/team}") is None


def test_three_valued_logic():
    assert and3(True, None) is None and and3(None, False) is False and and3() is True
    assert or3(False, None) is None and or3(None, True) is True and or3() is False
    assert not3(None) is None and not3(True) is False


def test_templates_split_literals_wildcards_and_variables():
    assert template("${aws:username, 'x'}-*", True) == (
        Variable("aws:username", "x"),
        "-",
        Wildcard.STAR,
    )
    assert template("${aws:username}?", False) == ("${aws:username}", Wildcard.QUESTION)
    assert template("a${$}b", True) == ("a", "$", "b")
