"""IAM condition evaluation against one request, in three-valued logic.

A request is a mapping of case-folded condition keys to a value (``str``) or ``None`` when
the key is known to be absent; a key missing from the mapping is *unknown* (anything the
evaluator does not model, such as ``aws:SourceIp``), and every operator applied to it yields
``None`` ("could be either"). The evaluator turns ``None`` against the policy: an unknown
AND-ed condition on an Allow may be met, an unknown condition on a Deny may not apply.

Semantics implemented (IAM User Guide, condition operators and policy variables):

* several values of one key are OR'ed; negated operators (``StringNotEquals``, ...) are true
  when *no* value matches, i.e. their values are AND'ed;
* a key absent from the request makes positive operators false and negated operators true;
  ``...IfExists`` makes any operator true; ``ForAllValues`` is true and ``ForAnyValue`` false;
  on a present single-valued key both set qualifiers reduce to the plain operator;
* ``Null`` tests presence; ``Bool`` compares text; ``Arn*`` compare the six ARN fields
  separately with wildcards; ``StringLike``/``Arn*`` honour ``*`` and ``?``;
* policy variables ``${key}`` and ``${key, 'default'}`` are substituted only in 2012-10-17
  documents; ``${*}``, ``${?}`` and ``${$}`` are literal characters there. A variable whose
  key is absent and has no default cannot match anything (so positive operators do not match
  and negated ones do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Final

from .policy import Condition, SetQualifier

TV = bool | None
"""Three-valued truth: True, False, or None for unknown."""

Request = Mapping[str, str | None]


def and3(*values: TV) -> TV:
    result: TV = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def or3(*values: TV) -> TV:
    result: TV = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def not3(value: TV) -> TV:
    return None if value is None else not value


class Wildcard(Enum):
    STAR = "*"
    QUESTION = "?"


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``; ``key`` is case-folded."""

    key: str
    default: str | None


Part = str | Wildcard | Variable
Resolved = tuple[str | Wildcard, ...]


class _Unresolved(Enum):
    #: A variable's key is absent and there is no default: the value matches nothing.
    UNRESOLVABLE = "unresolvable"
    #: A variable's key is not modelled: the value is unknown.
    UNKNOWN = "unknown"


UNRESOLVABLE: Final = _Unresolved.UNRESOLVABLE
UNKNOWN: Final = _Unresolved.UNKNOWN

_TOKEN: Final = re.compile(r"\$\{([^}]*)\}|[*?]")
_WILDCARD_ONLY: Final = re.compile(r"[*?]")
_VARIABLE: Final = re.compile(r"\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?")
_ESCAPES: Final = {"*": "*", "?": "?", "$": "$"}


@lru_cache(maxsize=8192)
def template(value: str, variables: bool) -> tuple[Part, ...]:
    """Split a condition value into literal text, wildcards and (when enabled) variables."""
    parts: list[Part] = []
    pattern = _TOKEN if variables else _WILDCARD_ONLY
    position = 0
    for match in pattern.finditer(value):
        if match.start() > position:
            parts.append(value[position : match.start()])
        matched_text = match.group(0)
        if matched_text == "*":
            parts.append(Wildcard.STAR)
        elif matched_text == "?":
            parts.append(Wildcard.QUESTION)
        else:
            inner = match.group(1)
            variable = _VARIABLE.fullmatch(inner)
            if inner.strip() in _ESCAPES:
                parts.append(_ESCAPES[inner.strip()])
            elif variable is not None:
                parts.append(Variable(variable.group(1).casefold(), variable.group(2)))
            else:
                parts.append(matched_text)
        position = match.end()
    if position < len(value):
        parts.append(value[position:])
    return tuple(parts)


def resolve(parts: tuple[Part, ...], request: Request) -> Resolved | _Unresolved:
    """Substitute the request's values for the variables of ``parts``."""
    resolved: list[str | Wildcard] = []
    for part in parts:
        if not isinstance(part, Variable):
            resolved.append(part)
            continue
        if part.key not in request:
            return UNKNOWN
        value = request[part.key]
        if value is None:
            if part.default is None:
                return UNRESOLVABLE
            value = part.default
        resolved.append(value)
    return tuple(resolved)


def literal_text(parts: Resolved) -> str:
    """The value as plain text (wildcards are ordinary characters for StringEquals)."""
    return "".join(part if isinstance(part, str) else part.value for part in parts)


@lru_cache(maxsize=8192)
def _like(parts: Resolved) -> re.Pattern[str]:
    return re.compile(
        "".join(
            re.escape(part) if isinstance(part, str) else (".*" if part is Wildcard.STAR else ".")
            for part in parts
        ),
        re.DOTALL,
    )


@lru_cache(maxsize=4096)
def _arn_fields(parts: Resolved) -> tuple[re.Pattern[str], ...] | None:
    """One pattern per ARN field (IAM matches the six colon-separated fields separately)."""
    fields: list[list[str]] = [[]]
    for part in parts:
        if isinstance(part, str):
            pieces = part.split(":")
            for index, piece in enumerate(pieces):
                if index and len(fields) < 6:
                    fields.append([])
                elif index:
                    fields[-1].append(re.escape(":"))
                fields[-1].append(re.escape(piece))
        else:
            fields[-1].append(".*" if part is Wildcard.STAR else ".")
    if len(fields) != 6:
        return None
    return tuple(re.compile("".join(field), re.DOTALL) for field in fields)


def _arn_match(parts: Resolved, value: str) -> bool:
    patterns = _arn_fields(parts)
    values = value.split(":", 5)
    if patterns is None or len(values) != 6:
        return False
    return all(p.fullmatch(v) is not None for p, v in zip(patterns, values, strict=True))


_STRING: Final = frozenset({"StringEquals", "StringNotEquals"})
_STRING_CI: Final = frozenset({"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"})
_LIKE: Final = frozenset({"StringLike", "StringNotLike"})
_ARN_OPS: Final = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})


def _compare(base: str, parts: Resolved, value: str) -> TV:
    if base in _STRING:
        return literal_text(parts) == value
    if base in _LIKE:
        return _like(parts).fullmatch(value) is not None
    if base in _STRING_CI:
        return literal_text(parts).lower() == value.lower()
    if base in _ARN_OPS:
        return _arn_match(parts, value)
    if base == "Bool":
        return literal_text(parts).lower() == value.lower()
    # Numeric, Date, IpAddress, BinaryEquals: the modelled keys are never of these types.
    return None


def value_matches(condition: Condition, value: str, request: Request, variables: bool) -> TV:
    """Whether ``value`` matches any of the condition's values (before negation)."""
    result: TV = False
    for raw in condition.values:
        parts = resolve(template(raw, variables), request)
        if parts is UNRESOLVABLE:
            continue
        if parts is UNKNOWN:
            result = None
            continue
        matched = _compare(condition.base, parts, value)
        if matched:
            return True
        if matched is None:
            result = None
    return result


def _null(condition: Condition, absent: bool) -> TV:
    results: list[TV] = []
    for raw in condition.values:
        text = raw.lower()
        results.append(absent if text == "true" else (not absent if text == "false" else False))
    return or3(*results)


def evaluate_condition(condition: Condition, request: Request, variables: bool) -> TV:
    """The truth of one condition entry for ``request`` (see module docstring)."""
    if not condition.known or condition.key not in request:
        return None
    value = request[condition.key]
    if condition.base == "Null":
        return _null(condition, value is None)
    if value is None:
        if condition.if_exists or condition.qualifier is SetQualifier.FOR_ALL_VALUES:
            return True
        if condition.qualifier is SetQualifier.FOR_ANY_VALUE:
            return False
        return condition.negated
    matched = value_matches(condition, value, request, variables)
    return not3(matched) if condition.negated else matched


def evaluate_conditions(conditions: tuple[Condition, ...], request: Request, variables: bool) -> TV:
    """All entries of a Condition block AND'ed."""
    result: TV = True
    for condition in conditions:
        value = evaluate_condition(condition, request, variables)
        if value is False:
            return False
        if value is None:
            result = None
    return result
