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

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Final

from .policy import Condition, SetQualifier
from .wildcard import Wildcard, arn_match, compile_tokens

__all__ = [
    "TV",
    "Request",
    "Variable",
    "Wildcard",
    "FRESH",
    "Fresh",
    "UNKNOWN",
    "UNRESOLVABLE",
    "and3",
    "or3",
    "not3",
    "template",
    "resolve",
    "literal_text",
    "value_matches",
    "evaluate_condition",
    "evaluate_conditions",
]

TV = bool | None
"""Three-valued truth: True, False, or None for unknown."""


class Fresh(Enum):
    """A value unknown to the evaluator but different from every literal value the policy
    gives its key: every principal a literal names has a witness caller of its own, so the
    generic caller standing for "everyone else" is, by construction, none of them."""

    FRESH = "fresh"


FRESH: Final = Fresh.FRESH

Request = Mapping[str, str | Fresh | None]


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

#: ``${*}``, ``${?}`` and ``${$}`` stand for the literal character in 2012-10-17 documents.
_ESCAPES: Final = frozenset({"*", "?", "$"})


def _variable(inner: str) -> Variable | None:
    """``key`` or ``key, 'default'`` (spaces allowed around each); None if neither."""
    key_text, comma, rest = inner.partition(",")
    key = key_text.strip()
    if not key or "'" in key or any(char.isspace() for char in key):
        return None
    if not comma:
        return Variable(key.casefold(), None)
    default = rest.strip()
    if len(default) >= 2 and default[0] == default[-1] == "'" and "'" not in default[1:-1]:
        return Variable(key.casefold(), default[1:-1])
    return None


@lru_cache(maxsize=8192)
def template(value: str, variables: bool) -> tuple[Part, ...]:
    """Split a condition value into literal text, wildcards and (when enabled) variables.

    A hand-written single pass (policy text is attacker-chosen: no regex): each ``}`` is
    searched for at most once, so the scan is linear in ``len(value)``.
    """
    parts: list[Part] = []
    literal_start = index = 0
    length = len(value)
    closing_exists = True

    def flush(end: int) -> None:
        if end > literal_start:
            parts.append(value[literal_start:end])

    while index < length:
        char = value[index]
        if char in {"*", "?"}:
            flush(index)
            parts.append(Wildcard.STAR if char == "*" else Wildcard.QUESTION)
            index += 1
            literal_start = index
            continue
        if variables and closing_exists and char == "$" and value.startswith("${", index):
            close = value.find("}", index + 2)
            if close < 0:
                closing_exists = False  # no later "${" can be closed either
                index += 1
                continue
            flush(index)
            inner = value[index + 2 : close]
            stripped = inner.strip()
            variable = None if stripped in _ESCAPES else _variable(inner)
            if stripped in _ESCAPES:
                parts.append(stripped)
            elif variable is not None:
                parts.append(variable)
            else:
                parts.append(value[index : close + 1])
            index = close + 1
            literal_start = index
            continue
        index += 1
    flush(length)
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
        if value is FRESH:
            return UNKNOWN
        if value is None:
            if part.default is None:
                return UNRESOLVABLE
            value = part.default
        resolved.append(value)
    return tuple(resolved)


def literal_text(parts: Resolved) -> str:
    """The value as plain text (wildcards are ordinary characters for StringEquals)."""
    return "".join(part if isinstance(part, str) else part.value for part in parts)


_STRING: Final = frozenset({"StringEquals", "StringNotEquals"})
_STRING_CI: Final = frozenset({"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"})
_LIKE: Final = frozenset({"StringLike", "StringNotLike"})
_ARN_OPS: Final = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})


def _compare(base: str, parts: Resolved, value: str) -> TV:
    if base in _STRING:
        return literal_text(parts) == value
    if base in _LIKE:
        return compile_tokens(parts)(value)
    if base in _STRING_CI:
        return literal_text(parts).lower() == value.lower()
    if base in _ARN_OPS:
        return arn_match(parts, value)
    if base == "Bool":
        return literal_text(parts).lower() == value.lower()
    # Numeric, Date, IpAddress, BinaryEquals: the modelled keys are never of these types.
    return None


_COMPARED: Final = _STRING | _STRING_CI | _LIKE | _ARN_OPS


def _fresh_matches(condition: Condition, variables: bool) -> TV:
    """Whether a fresh value matches any of the condition's values: never a literal one
    (those principals have witnesses of their own); a pattern or variable may or may not."""
    if condition.base not in _COMPARED:
        return None
    for raw in condition.values:
        parts = template(raw, variables)
        wildcard = condition.base in _LIKE or condition.base in _ARN_OPS
        if any(
            isinstance(part, Variable) or (wildcard and isinstance(part, Wildcard))
            for part in parts
        ):
            return None
    return False


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
    if value is FRESH:
        matched = _fresh_matches(condition, variables)
        return not3(matched) if condition.negated else matched
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
