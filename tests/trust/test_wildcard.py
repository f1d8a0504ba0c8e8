"""The IAM wildcard matcher: IAM's semantics, and time bounded by the input (no backtracking)."""

from __future__ import annotations

import time
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.conditions import template
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.wildcard import (
    arn_match,
    compile_tokens,
    glob_match,
    tokens_of,
)


def reference(pattern: str, value: str) -> bool:
    """Textbook dynamic programming over (pattern position, value position)."""

    @cache
    def matches(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        if pattern[i] == "*":
            return matches(i + 1, j) or (j < len(value) and matches(i, j + 1))
        if j < len(value) and pattern[i] in ("?", value[j]):
            return matches(i + 1, j + 1)
        return False

    return matches(0, 0)


ALPHABET = "ab*?["


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=10), st.text("ab?*[", max_size=12))
def test_the_matcher_agrees_with_the_textbook_definition(pattern, value):
    assert glob_match(pattern, value) is reference(pattern, value)


@settings(max_examples=200, deadline=None)
@given(st.text("aAbB*?", max_size=8), st.text("aAbB", max_size=10))
def test_folding_compares_lower_cased_text(pattern, value):
    assert glob_match(pattern, value, fold=True) is reference(pattern.lower(), value.lower())


def test_only_star_and_question_mark_are_wildcards():
    assert glob_match("sts:assume*", "sts:assumerole")
    assert glob_match("sts:assumerol?", "sts:assumerole")
    assert not glob_match("sts:[a]ssumerole", "sts:assumerole")  # fnmatch would match
    assert glob_match("sts:[a]ssumerole", "sts:[a]ssumerole")
    assert glob_match("*", "") and not glob_match("?", "")


def test_star_and_question_mark_in_one_pattern():
    match = compile_tokens(tokens_of("a?c*e?"))
    assert match("abcxxef") and match("abcef")
    assert not match("abcxxe") and not match("acxxef")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/path/admin", True),
        ("arn:aws:iam::*:user/*", "arn:aws:iam::111122223333:role/admin", False),
        ("arn:*:role/*", "arn:aws:iam::111122223333:role/admin", False),  # five fields
        ("arn:aws:*:*:*:*", "arn:aws:iam::111122223333:role/admin", True),
        ("arn:aws:ec2:*:*:instance/i-*", "arn:aws:ec2:eu-west-1:1:instance/i-1:x", True),
        ("arn:aws:iam::1:*", "arn:aws:iam::1:a:b:c", True),  # the resource field keeps colons
        ("arn:aws*", "arn:aws:iam::1:root", False),  # a wildcard never spans fields
    ],
)
def test_arn_like_matches_each_of_the_six_fields_separately(pattern, value, expected):
    assert arn_match(tokens_of(pattern), value) is expected


# --- the stall that backtracking regexes had ----------------------------------------------------


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


@pytest.mark.parametrize("groups", [12, 30, 1000])
def test_the_pathological_string_like_pattern_is_decided_at_once(groups):
    # A dozen "a*" groups then "b" against 60 "a"s ran past 60 s with a regex. The wall limit
    # is only a stall guard; the real figures are in bench/bench_trust.py.
    pattern, value = "a*" * groups + "b", "a" * 60
    result, elapsed = _timed(glob_match, pattern, value)
    assert result is False
    assert elapsed < 0.5


@pytest.mark.parametrize("pattern", ["a?" * 2000 + "*b", "a*?" * 1500 + "b", "?*" * 3000 + "b"])
def test_question_marks_with_stars_stay_bounded_on_long_values(pattern):
    result, elapsed = _timed(glob_match, pattern, "a" * 8192)
    assert result is False
    assert elapsed < 2


def test_arn_patterns_are_bounded_too():
    pattern = "arn:aws:iam::*:" + "a*" * 2000 + "b"
    result, elapsed = _timed(arn_match, tokens_of(pattern), "arn:aws:iam::1:" + "a" * 4000)
    assert result is False
    assert elapsed < 2


def test_condition_templates_are_split_in_one_pass():
    # Unclosed "${" runs used to be rescanned from every "$": a quadratic regex scan.
    value = "${" * 4000 + "*"
    parts, elapsed = _timed(template, value, True)
    assert parts[-1] is not None and len(parts) == 2
    assert elapsed < 2
