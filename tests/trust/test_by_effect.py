"""Verdicts by effect: who can get in, under which names - not how the policy is written.

Conditions that narrow the caller (aws:PrincipalArn, aws:username, aws:PrincipalAccount) take
part in deciding who gets in; a policy and its effect-equivalent rewrites get the same status
(``enforced`` and ``enforced_by_deny`` are one effect: both force the name).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    evaluate_policy,
)

from tests.trust.builders import ACCOUNT, OTHER_ACCOUNT, ROOT, policy, statement, verdict

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
USERNAME = "${aws:username}"


def effect(status: TrustStatus) -> str:
    if status in (TrustStatus.ENFORCED, TrustStatus.ENFORCED_BY_DENY):
        return "enforces"
    return status.value


# --- the pinned caller ---------------------------------------------------------------------


def test_a_policy_pinning_one_user_and_her_own_name_is_enforced():
    condition = {"StringEquals": {"aws:PrincipalArn": ALICE, "sts:RoleSessionName": "alice"}}
    result = verdict(policy(statement(ROOT, condition)))
    assert result.status is TrustStatus.ENFORCED
    assert "RSN020" in {c.value for c in result.codes}


def test_a_pinned_user_with_another_users_name_is_not_enforced():
    condition = {"StringEquals": {"aws:PrincipalArn": ALICE, "sts:RoleSessionName": "bob"}}
    assert verdict(policy(statement(ROOT, condition))).status is TrustStatus.NOT_ENFORCED


def test_a_pin_by_pattern_stays_conservative():
    # Who "user/a*" admits is not known offline: the generic user may be one of them.
    condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/a*"}}
    condition["StringEquals"] = {"sts:RoleSessionName": "alice"}
    assert verdict(policy(statement(ROOT, condition))).status is TrustStatus.NOT_ENFORCED


def test_a_literal_session_name_for_the_only_user_who_can_use_it_is_enforced():
    condition = {"StringEquals": {"aws:username": "alice", "sts:RoleSessionName": "alice"}}
    assert verdict(policy(statement(ROOT, condition))).status is TrustStatus.ENFORCED


def test_an_account_pin_on_a_wildcard_principal_narrows_the_callers():
    # Only principals of OTHER_ACCOUNT get in, and only under their own user name.
    condition = {
        "StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT, "sts:RoleSessionName": USERNAME}
    }
    result = verdict(policy(statement({"AWS": "*"}, condition)))
    assert result.status is TrustStatus.ENFORCED
    assert not result.publicly_assumable


def test_the_generic_witness_cannot_be_singled_out_by_its_name():
    # A Deny that removes the evaluator's usual witness user must not hide everyone else:
    # every other user of the account gets in under any name.
    for denied in ("jdoe", "j*", ["jdoe", "jdoe-w"]):
        document = policy(
            statement(ROOT, {"StringEquals": {"aws:PrincipalType": "User"}}),
            statement({"AWS": "*"}, {"StringLike": {"aws:username": denied}}, effect="Deny"),
        )
        assert verdict(document).status is TrustStatus.NOT_ENFORCED, denied


# --- effect-equivalent rewrites ------------------------------------------------------------

PINS = (None, ALICE, BOB)
SESSIONS = (
    None,
    ("StringEquals", USERNAME),
    ("StringEquals", "alice"),
    ("StringEquals", "bob"),
    ("StringLike", f"{USERNAME}*"),
    ("StringEqualsIgnoreCase", USERNAME),
)
_NEGATED = {
    "StringEquals": "StringNotEquals",
    "StringLike": "StringNotLike",
    "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
}


def _conditions(pin: str | None, session: tuple[str, str] | None, pin_operator: str):
    condition: dict[str, dict[str, Any]] = {}
    if pin is not None:
        condition.setdefault(pin_operator, {})["aws:PrincipalArn"] = pin
    if session is not None:
        condition.setdefault(session[0], {})["sts:RoleSessionName"] = session[1]
    return condition or None


def allow_form(pin, session, rng: random.Random) -> dict[str, Any]:
    operator = rng.choice(["StringEquals", "ArnEquals", "ArnLike"])
    return policy(statement(ROOT, _conditions(pin, session, operator)))


def principal_form(pin, session, rng: random.Random) -> dict[str, Any]:
    return policy(statement(pin or ROOT, _conditions(None, session, "StringEquals")))


def deny_form(pin, session, rng: random.Random) -> dict[str, Any]:
    statements = [statement(ROOT)]
    if pin is not None:
        operator = rng.choice(["StringNotEquals", "ArnNotEquals"])
        statements.append(
            statement({"AWS": "*"}, {operator: {"aws:PrincipalArn": pin}}, effect="Deny")
        )
    if session is not None:
        guard = {_NEGATED[session[0]]: {"sts:RoleSessionName": session[1]}}
        statements.append(statement({"AWS": "*"}, guard, effect="Deny"))
    return policy(*statements)


def split_form(pin, session, rng: random.Random) -> dict[str, Any]:
    """The allow form with its actions split over two statements with the same conditions."""
    return policy(
        statement(ROOT, _conditions(pin, session, "StringEquals"), action="sts:AssumeRole"),
        statement(ROOT, _conditions(pin, session, "StringEquals"), action="sts:TagSession"),
    )


FORMS = (allow_form, principal_form, deny_form, split_form)


def cosmetic(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Key case and string-vs-one-element-list variations (no change of meaning)."""
    for item in document["Statement"]:
        for block in (item.get("Condition") or {}).values():
            for key in list(block):
                value = block.pop(key)
                spelled = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in key)
                block[spelled] = [value] if rng.random() < 0.5 else value
    return document


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(PINS),
    st.sampled_from(SESSIONS),
    st.lists(st.sampled_from(FORMS), min_size=2, max_size=4),
    st.randoms(use_true_random=False),
)
def test_effect_equivalent_rewrites_get_the_same_status(pin, session, forms, rng):
    statuses = {
        form.__name__: effect(
            evaluate_policy(
                cosmetic(form(pin, session, rng), rng), account_id=ACCOUNT, partition="aws"
            ).status
        )
        for form in forms
    }
    assert len(set(statuses.values())) == 1, statuses


@pytest.mark.parametrize(
    ("pin", "session", "expected"),
    [
        (ALICE, ("StringEquals", "alice"), "enforces"),
        (ALICE, ("StringEquals", USERNAME), "enforces"),
        (ALICE, ("StringEquals", "bob"), "not_enforced"),
        (ALICE, ("StringLike", f"{USERNAME}*"), "weak"),
        (None, ("StringEquals", "alice"), "not_enforced"),
        (None, ("StringEqualsIgnoreCase", USERNAME), "weak"),
        (None, None, "not_enforced"),
    ],
)
def test_every_form_reaches_the_expected_effect(pin, session, expected):
    rng = random.Random(7)
    for form in FORMS:
        result = evaluate_policy(form(pin, session, rng), account_id=ACCOUNT, partition="aws")
        assert effect(result.status) == expected, form.__name__
