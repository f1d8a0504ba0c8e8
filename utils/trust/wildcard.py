"""IAM wildcard matching in time bounded by the input, never by backtracking.

Trust-policy text is written by whoever can call ``iam:CreateRole`` or
``iam:UpdateAssumeRolePolicy``, so a pattern must never be turned into a backtracking regex:
``a*a*a*…b`` against a long value takes exponential time in a regex engine. IAM patterns have
two wildcards only, ``*`` (any run of characters, also empty) and ``?`` (exactly one
character); every other character is literal (``[`` included, unlike ``fnmatch``). Two
matchers cover them:

* without ``?``: the pattern is literal segments between stars. The first segment must be a
  prefix, the last a suffix, and the middle ones occur in order; taking each middle segment at
  its leftmost occurrence (``str.find``) is optimal, so one left-to-right pass decides it.
  Work is at most proportional to ``len(value) × len(pattern)`` in C, linear in practice;
* with ``?``: a bit-parallel NFA. Bit ``i`` of the state says "the first ``i`` pattern tokens
  can match the value read so far"; each value character costs a few big-integer operations
  on ``len(pattern)`` bits. Work is ``len(value) × len(pattern) / 64`` machine words.

Compiled patterns are memoised; both matchers accept a ``fold`` flag for the
case-insensitive operators (``StringEqualsIgnoreCase`` …), which compare lower-cased text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from functools import lru_cache
from typing import Final


class Wildcard(Enum):
    STAR = "*"
    QUESTION = "?"


Token = str | Wildcard
Matcher = Callable[[str], bool]

STAR: Final = Wildcard.STAR
QUESTION: Final = Wildcard.QUESTION


def _normalised(tokens: Sequence[Token], fold: bool) -> list[Token]:
    """Literals joined, empty ones dropped, runs of ``*`` collapsed (``**`` ≡ ``*``)."""
    items: list[Token] = []
    for token in tokens:
        if isinstance(token, str):
            if not token:
                continue
            text = token.lower() if fold else token
            if items and isinstance(items[-1], str):
                items[-1] = items[-1] + text
            else:
                items.append(text)
        elif token is STAR and items and items[-1] is STAR:
            continue
        else:
            items.append(token)
    return items


def _segments(items: list[Token]) -> Matcher:
    pieces: list[str] = [""]
    for item in items:
        if item is STAR:
            pieces.append("")
        else:
            pieces[-1] = pieces[-1] + str(item)
    prefix, *middle, suffix = pieces
    fixed = len(prefix) + len(suffix)

    def match(value: str) -> bool:
        if len(value) < fixed or not value.startswith(prefix) or not value.endswith(suffix):
            return False
        position, end = len(prefix), len(value) - len(suffix)
        for segment in middle:
            found = value.find(segment, position, end)
            if found < 0:
                return False
            position = found + len(segment)
        return True

    return match


def _automaton(items: list[Token]) -> Matcher:
    chars: list[Token] = []
    for item in items:
        chars.extend(item if isinstance(item, str) else (item,))
    masks: dict[str, int] = {}
    any_one = stars = 0
    for index, token in enumerate(chars):
        bit = 1 << index
        if token is STAR:
            stars |= bit
        elif token is QUESTION:
            any_one |= bit
        else:
            masks[str(token)] = masks.get(str(token), 0) | bit
    accept = 1 << len(chars)
    start = 1 | ((1 & stars) << 1)

    def match(value: str) -> bool:
        state = start
        for char in value:
            moved = ((state & (masks.get(char, 0) | any_one)) << 1) | (state & stars)
            state = moved | ((moved & stars) << 1)
            if not state:
                return False
        return bool(state & accept)

    return match


@lru_cache(maxsize=8192)
def compile_tokens(tokens: tuple[Token, ...], fold: bool = False) -> Matcher:
    """A matcher for literal text and wildcards; ``fold`` lower-cases both sides."""
    items = _normalised(tokens, fold)
    if not any(isinstance(item, Wildcard) for item in items):
        literal = "".join(item for item in items if isinstance(item, str))
        if fold:
            return lambda value: value.lower() == literal
        return literal.__eq__
    if items == [STAR]:
        return lambda value: True
    matcher = _automaton(items) if QUESTION in items else _segments(items)
    if fold:
        return lambda value: matcher(value.lower())
    return matcher


def tokens_of(pattern: str) -> tuple[Token, ...]:
    """``*`` and ``?`` of plain pattern text as wildcards, everything else literal."""
    tokens: list[Token] = []
    start = 0
    for index, char in enumerate(pattern):
        if char in {"*", "?"}:
            if index > start:
                tokens.append(pattern[start:index])
            tokens.append(STAR if char == "*" else QUESTION)
            start = index + 1
    if start < len(pattern):
        tokens.append(pattern[start:])
    return tuple(tokens)


@lru_cache(maxsize=4096)
def _glob(pattern: str, fold: bool) -> Matcher:
    return compile_tokens(tokens_of(pattern), fold)


def glob_match(pattern: str, value: str, *, fold: bool = False) -> bool:
    """Whether ``value`` matches the IAM-style ``pattern`` (``*`` and ``?`` only)."""
    return _glob(pattern, fold)(value)


ARN_FIELDS: Final = 6


@lru_cache(maxsize=4096)
def compile_arn(tokens: tuple[Token, ...]) -> tuple[Matcher, ...] | None:
    """One matcher per ARN field: IAM matches the six colon-separated fields separately.

    The pattern's literal text is split on ``:``; the sixth field keeps any further colons
    (resource ids may hold them). Wildcards never span fields. ``None`` when the pattern has
    fewer than six fields: it matches no ARN.
    """
    fields: list[list[Token]] = [[]]
    for token in tokens:
        if not isinstance(token, str):
            fields[-1].append(token)
            continue
        for index, piece in enumerate(token.split(":")):
            if index and len(fields) < ARN_FIELDS:
                fields.append([])
            elif index:
                fields[-1].append(":")
            fields[-1].append(piece)
    if len(fields) != ARN_FIELDS:
        return None
    return tuple(compile_tokens(tuple(field)) for field in fields)


def arn_match(tokens: tuple[Token, ...], value: str) -> bool:
    """``ArnLike``/``ArnEquals``: every field of ``value`` matches its field of the pattern."""
    matchers = compile_arn(tokens)
    if matchers is None:
        return False
    values = value.split(":", ARN_FIELDS - 1)
    if len(values) != ARN_FIELDS:
        return False
    return all(match(field) for match, field in zip(matchers, values, strict=True))
