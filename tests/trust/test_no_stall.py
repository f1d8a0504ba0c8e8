"""No trust policy within IAM's size limit can stall the evaluator.

Wall-clock limits here are stall guards only (generous, for a loaded machine); the real
figures are in ``bench/bench_trust.py``. Growth with statement count is checked by counting
the evaluator's steps, which is deterministic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust import (
    principals,
    witness,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    clear_caches,
    evaluate_policy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.policy import (
    MAX_TRUST_POLICY_CHARS,
)

from tests.trust.builders import ACCOUNT, ROOT, policy, statement

STALL_GUARD_SECONDS = 2.0
USERNAME = "${aws:username}"


def _session(operator: str, values: Any) -> dict[str, Any]:
    return {operator: {"sts:RoleSessionName": values}}


def _deny(condition: dict[str, Any]) -> dict[str, Any]:
    return statement({"AWS": "*"}, condition, effect="Deny")


#: Hostile shapes, each filled up to IAM's maximum size by ``largest``.
SHAPES: dict[str, Callable[[int], dict[str, Any]]] = {
    "pathological StringLike": lambda n: policy(
        statement(ROOT, _session("StringLike", ["a*" * n + "b", "a" * 60]))
    ),
    "pathological ArnLike pin": lambda n: policy(
        statement(
            ROOT,
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/" + "a*" * n + "b"}},
        )
    ),
    "question marks": lambda n: policy(statement(ROOT, _session("StringLike", "?*" * n + "b"))),
    "accounts": lambda n: policy(statement({"AWS": [f"{100000000000 + i}" for i in range(n)]})),
    "accounts with the rule": lambda n: policy(
        statement(
            {"AWS": [f"{100000000000 + i}" for i in range(n)]},
            _session("StringEquals", USERNAME),
        )
    ),
    "users": lambda n: policy(
        statement({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/u{i}" for i in range(n)]})
    ),
    "literal names": lambda n: policy(
        statement(ROOT, _session("StringEquals", [f"n{i}" for i in range(n)]))
    ),
    "like patterns": lambda n: policy(
        statement(ROOT, _session("StringLike", [f"{i}*" for i in range(n)]))
    ),
    "negated patterns in an allow": lambda n: policy(
        statement(ROOT, _session("StringNotLike", [f"*{i}*" for i in range(n)]))
    ),
    "deny patterns": lambda n: policy(
        statement(ROOT), _deny(_session("StringNotLike", [f"?{i}*" for i in range(n)]))
    ),
    "blocked everywhere": lambda n: policy(
        statement(ROOT, _session("StringLike", "*")),
        _deny(_session("StringLike", [f"?z{i}" for i in range(n)])),
        _deny(_session("StringNotEquals", USERNAME)),
    ),
    "user names": lambda n: policy(
        statement(
            ROOT,
            {
                "StringEquals": {
                    "aws:username": [f"u{i}" for i in range(n)],
                    "sts:RoleSessionName": USERNAME,
                }
            },
        )
    ),
    "statements for everyone": lambda n: policy(
        *(statement("*", _session("StringLike", f"{i}?*")) for i in range(n))
    ),
    "unclosed variables": lambda n: policy(statement(ROOT, _session("StringLike", "${" * n + "*"))),
}


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def largest(make: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """The document of the largest ``n`` still within IAM's maximum size."""
    low, high = 1, 2
    while _size(make(high)) <= MAX_TRUST_POLICY_CHARS:
        low, high = high, high * 2
        assert high < 1 << 20, "the shape does not grow"
    while low + 1 < high:
        middle = (low + high) // 2
        if _size(make(middle)) <= MAX_TRUST_POLICY_CHARS:
            low = middle
        else:
            high = middle
    return make(low)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_policies_of_the_maximum_size_are_decided_without_stalling(shape):
    document = largest(SHAPES[shape])
    assert _size(document) <= MAX_TRUST_POLICY_CHARS
    clear_caches()
    started = time.perf_counter()
    result = evaluate_policy(document, account_id=ACCOUNT, partition="aws")
    assert time.perf_counter() - started < STALL_GUARD_SECONDS
    assert isinstance(result.status, TrustStatus)
    if result.status is TrustStatus.UNPARSEABLE:
        assert result.codes[0].value == "RSN052"  # too complex: never reported enforced


def test_the_pathological_pattern_is_decided_correctly():
    document = SHAPES["pathological StringLike"](12)
    assert evaluate_policy(document, account_id=ACCOUNT).status is TrustStatus.NOT_ENFORCED


def test_a_policy_over_the_maximum_is_not_evaluated():
    document = largest(SHAPES["literal names"])
    padded = json.dumps(document, indent=8)  # whitespace does not count against the quota
    assert evaluate_policy(padded).codes[0].value != "RSN053"
    bigger = SHAPES["literal names"](
        len(document["Statement"][0]["Condition"]["StringEquals"]["sts:RoleSessionName"]) + 50
    )
    result = evaluate_policy(bigger)
    assert result.status is TrustStatus.UNPARSEABLE
    assert result.codes == (result.codes[0],) and result.codes[0].value == "RSN053"


_PIECES = st.sampled_from(
    [
        _session("StringLike", "a*a*a*a*a*a*a*a*a*a*b"),
        _session("StringNotLike", "?*?*?*?*x"),
        _session("StringEquals", USERNAME),
        _session("StringEqualsIgnoreCase", ["x", USERNAME]),
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*a*a*a*a*z"}},
        {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/alice"}},
        {"StringNotEquals": {"aws:PrincipalAccount": "444455556666"}},
        {"StringLike": {"aws:username": ["a*", "?b*"]}},
    ]
)
_PRINCIPALS = st.sampled_from(
    [ROOT, "*", f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:role/r", ACCOUNT]
)


@st.composite
def big_policies(draw: st.DrawFn) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    while True:
        condition: dict[str, Any] = {}
        for piece in draw(st.lists(_PIECES, max_size=3)):
            for operator, block in piece.items():
                condition.setdefault(operator, {}).update(block)
        effect = draw(st.sampled_from(["Allow", "Allow", "Deny"]))
        candidate = [*items, statement(draw(_PRINCIPALS), condition or None, effect=effect)]
        if _size(policy(*candidate)) > MAX_TRUST_POLICY_CHARS:
            return policy(*items)
        items = candidate


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(big_policies())
def test_any_mix_of_hostile_statements_up_to_the_maximum_size_is_decided(document):
    clear_caches()
    started = time.perf_counter()
    result = evaluate_policy(document, account_id=ACCOUNT, partition="aws")
    assert time.perf_counter() - started < STALL_GUARD_SECONDS
    assert isinstance(result.status, TrustStatus)


# --- growth with the number of statements (counted, not timed) ----------------------------------

GROWING: dict[str, Callable[[int], dict[str, Any]]] = {
    "one statement per user": lambda n: policy(
        *(
            statement(f"arn:aws:iam::{ACCOUNT}:user/u{i}", _session("StringEquals", USERNAME))
            for i in range(n)
        )
    ),
    "one statement per account": lambda n: policy(
        *(statement(f"{100000000000 + i}", _session("StringEquals", USERNAME)) for i in range(n))
    ),
    "one session name per statement": lambda n: policy(
        *(statement(ROOT, _session("StringEquals", f"n{i}")) for i in range(n))
    ),
    "one pattern per statement for everyone": lambda n: policy(
        *(statement("*", _session("StringLike", f"{i}?*")) for i in range(n))
    ),
}


def _steps(document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> int:
    counted = {"steps": 0}
    conditions, entries = witness.evaluate_conditions, principals.entries_match

    def count_conditions(*args: Any, **kwargs: Any) -> Any:
        counted["steps"] += 1
        return conditions(*args, **kwargs)

    def count_entries(found: Any, *args: Any, **kwargs: Any) -> Any:
        counted["steps"] += max(1, len(found))
        return entries(found, *args, **kwargs)

    monkeypatch.setattr(witness, "evaluate_conditions", count_conditions)
    monkeypatch.setattr(principals, "entries_match", count_entries)
    clear_caches()
    evaluate_policy(document, account_id=ACCOUNT, partition="aws", max_chars=10**7)
    monkeypatch.undo()
    return counted["steps"]


@pytest.mark.parametrize("shape", sorted(GROWING))
def test_work_grows_linearly_with_the_number_of_statements(shape, monkeypatch):
    small = _steps(GROWING[shape](32), monkeypatch)
    large = _steps(GROWING[shape](128), monkeypatch)
    # Four times the statements: linear work is ~4x; the quadratic evaluator did ~16x.
    assert large <= 5 * small, (small, large)
