"""Properties of the evaluator over generated trust policies (hypothesis)."""

from __future__ import annotations

import copy
import json
import random
import urllib.parse
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    PolicyVerdict,
    TrustStatus,
    evaluate_policy,
    evaluate_role,
    fix_policy,
)

from tests.trust.builders import ACCOUNT, OTHER_ACCOUNT, ROLE, ROOT, SESSION, USER

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- arbitrary JSON ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

_ELEMENTS = ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"]
loose_statements = st.dictionaries(
    st.sampled_from(_ELEMENTS),
    json_values
    | st.sampled_from(["Allow", "Deny", "*", "sts:AssumeRole", ROOT])
    | st.fixed_dictionaries({"AWS": json_values})
    | st.dictionaries(
        st.sampled_from(["StringEquals", "Null", "ForAllValues:StringLike"]),
        st.dictionaries(
            st.sampled_from(["sts:RoleSessionName", "aws:username"]), json_values, max_size=2
        ),
        max_size=2,
    ),
    max_size=7,
)
loose_policies = st.fixed_dictionaries(
    {"Statement": st.lists(loose_statements, max_size=3) | loose_statements | json_values},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | json_values},
)


def _all_forms(value: Any) -> list[Any]:
    text = json.dumps(value)
    return [value, text, urllib.parse.quote(text)]


@SETTINGS
@given(json_values | loose_policies)
def test_evaluation_never_raises_on_arbitrary_json(value):
    for form in _all_forms(value):
        assert isinstance(evaluate_policy(form).status, TrustStatus)


@SETTINGS
@given(st.text(max_size=40) | st.binary(max_size=40))
def test_evaluation_never_raises_on_arbitrary_text(text):
    assert isinstance(evaluate_policy(text).status, TrustStatus)


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["RoleName", "Path", "Arn", "AssumeRolePolicyDocument"]),
        json_values | loose_policies,
        max_size=4,
    )
)
def test_role_evaluation_never_raises(role):
    result = evaluate_role(role)
    assert isinstance(result.to_dict()["status"], str)


# --- realistic trust policies -----------------------------------------------------------------

_AWS_ENTRIES = [
    ACCOUNT,
    ROOT,
    f"arn:aws:iam::{OTHER_ACCOUNT}:root",
    USER,
    f"arn:aws:iam::{ACCOUNT}:user/x",
    ROLE,
    SESSION,
    "*",
    "AIDAJQABLZS4A3QDU576Q",
    f"arn:aws-cn:iam::{ACCOUNT}:root",
]
_SESSION_CONDITIONS = [
    {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringLike": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}},
    {"StringEquals": {"sts:RoleSessionName": ["${aws:username}", "deploy"]}},
    {"StringEqualsIgnoreCase": {"sts:RoleSessionName": "${aws:username}"}},
    {"ForAllValues:StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
    {"ForAnyValue:StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringEqualsIfExists": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringEquals": {"sts:RoleSessionName": "${aws:username, 'anon'}"}},
    {"StringNotEquals": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringNotEqualsIfExists": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringEquals": {"sts:RoleSessionName": "deploy"}},
]
#: Conditions on keys the evaluator does not model: they never change who is a user.
_UNMODELLED_CONDITIONS = [
    {"StringEquals": {"sts:ExternalId": "ext-1"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
]
_MODELLED_CONDITIONS = [
    {"StringEquals": {"aws:PrincipalType": "AssumedRole"}},
    {"Null": {"sts:RoleSessionName": "false"}},
    {"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}},
]
_ACTIONS = [
    "sts:AssumeRole",
    "sts:AssumeRole*",
    "sts:*",
    "*",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:AssumeRoleWithSAML",
]


def _merge(pieces: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for piece in pieces:
        for operator, block in piece.items():
            merged.setdefault(operator, {}).update(block)
    return merged


principals = st.one_of(
    st.just("*"),
    st.fixed_dictionaries({"AWS": st.lists(st.sampled_from(_AWS_ENTRIES), min_size=1, max_size=3)}),
    st.fixed_dictionaries({"Service": st.just("ec2.amazonaws.com")}),
    st.fixed_dictionaries(
        {
            "AWS": st.lists(st.sampled_from(_AWS_ENTRIES), min_size=1, max_size=2),
            "Service": st.just("lambda.amazonaws.com"),
        }
    ),
    st.fixed_dictionaries({"Federated": st.just(f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta")}),
)


@st.composite
def statements(draw: st.DrawFn, modelled: bool = True) -> dict[str, Any]:
    result: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    result["Principal"] = draw(principals)
    actions = draw(st.lists(st.sampled_from(_ACTIONS), min_size=1, max_size=2))
    result["NotAction" if draw(st.integers(0, 9)) == 0 else "Action"] = actions
    pool = _SESSION_CONDITIONS + _UNMODELLED_CONDITIONS + (_MODELLED_CONDITIONS if modelled else [])
    pieces = draw(st.lists(st.sampled_from(pool), max_size=2))
    if pieces:
        result["Condition"] = _merge(pieces)
    return result


def policies(modelled: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda version, items: {**({"Version": version} if version else {}), "Statement": items},
        st.sampled_from(["2012-10-17", "2012-10-17", "2012-10-17", "2008-10-17", None]),
        st.lists(statements(modelled), max_size=4),
    )


def signature(result: PolicyVerdict) -> tuple[Any, ...]:
    """What must not change when a policy is rewritten into an equivalent form."""
    return (
        result.status,
        frozenset(result.codes),
        result.publicly_assumable,
        frozenset(result.cross_account_unpinned),
        frozenset(result.role_principals_without_username),
        frozenset(result.one_character_user_names),
    )


def verdict_of(document: Any) -> PolicyVerdict:
    return evaluate_policy(document, account_id=ACCOUNT, partition="aws")


@SETTINGS
@given(policies(), st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_statement_order(document, rng):
    shuffled = copy.deepcopy(document)
    rng.shuffle(shuffled["Statement"])
    assert signature(verdict_of(shuffled)) == signature(verdict_of(document))


def _recase(text: str, style: str, rng: random.Random) -> str:
    if style == "mixed":
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
    return text.lower() if style == "lower" else text.upper()


def recase_keys_and_actions(
    document: dict[str, Any], style: str, rng: random.Random
) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for item in result["Statement"]:
        for element in ("Action", "NotAction"):
            if element in item:
                item[element] = [_recase(a, style, rng) for a in item[element]]
        for operator, block in item.get("Condition", {}).items():
            item["Condition"][operator] = {_recase(k, style, rng): v for k, v in block.items()}
    return result


@SETTINGS
@given(policies(), st.sampled_from(["lower", "upper", "mixed"]), st.randoms())
def test_verdict_does_not_depend_on_key_or_action_case(document, style, rng):
    recased = recase_keys_and_actions(document, style, rng)
    assert signature(verdict_of(recased)) == signature(verdict_of(document))


def _toggle(value: Any, rng: random.Random) -> Any:
    if isinstance(value, str) and rng.random() < 0.5:
        return [value]
    if isinstance(value, list) and len(value) == 1 and rng.random() < 0.5:
        return value[0]
    return value


def toggle_lists(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Strings become one-element lists and one-element lists strings, at random."""
    result = copy.deepcopy(document)
    for item in result["Statement"]:
        for element in ("Action", "NotAction"):
            if element in item:
                item[element] = _toggle(item[element], rng)
        if isinstance(item["Principal"], dict):
            item["Principal"] = {k: _toggle(v, rng) for k, v in item["Principal"].items()}
        for operator, block in item.get("Condition", {}).items():
            item["Condition"][operator] = {k: _toggle(v, rng) for k, v in block.items()}
    if len(result["Statement"]) == 1 and rng.random() < 0.5:
        result["Statement"] = result["Statement"][0]
    return result


@SETTINGS
@given(policies(), st.randoms(use_true_random=False))
def test_verdict_does_not_depend_on_string_or_single_element_list(document, rng):
    toggled = toggle_lists(document, rng)
    assert signature(verdict_of(toggled)) == signature(verdict_of(document))


@SETTINGS
@given(policies())
def test_every_corrected_policy_enforces_the_rule(document):
    result = verdict_of(document)
    fixed = fix_policy(result)
    if result.status in (TrustStatus.WEAK, TrustStatus.NOT_ENFORCED):
        if fixed is not None:
            assert verdict_of(fixed).status is TrustStatus.ENFORCED
    else:
        assert fixed is None


def _user_capable(item: dict[str, Any]) -> bool:
    principal = item["Principal"]
    entries = ["*"] if principal == "*" else principal.get("AWS", [])
    capable = {ACCOUNT, ROOT, f"arn:aws:iam::{OTHER_ACCOUNT}:root", USER, "*"}
    return (
        item["Effect"] == "Allow"
        and "Action" in item
        and any(a in {"sts:AssumeRole", "sts:AssumeRole*", "sts:*", "*"} for a in item["Action"])
        and any(e in capable for e in entries)
    )


@SETTINGS
@given(policies(modelled=False))
def test_a_correction_is_offered_whenever_a_user_could_satisfy_the_rule(document):
    # Without Deny statements and modelled keys, adding the condition always leaves the
    # users of a trusted account (or a trusted user) a way in: a fix must be offered.
    items = document["Statement"]
    if any(s["Effect"] == "Deny" for s in items) or not any(_user_capable(s) for s in items):
        return
    result = verdict_of(document)
    if result.status in (TrustStatus.WEAK, TrustStatus.NOT_ENFORCED):
        assert fix_policy(result) is not None
