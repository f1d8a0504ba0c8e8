"""A role trust policy, normalised once into a small immutable model.

Trust policies reach the plugin as a dict (boto3 decodes them), as a URL-encoded string (raw
IAM API responses, recorded fixtures, AWS Config, CloudTrail ``responseElements``) or as a
JSON string (CloudTrail ``requestParameters``). Every string-or-list and case quirk of the
IAM policy grammar is settled here, at the edge, so the evaluator reasons about one shape:

* ``Statement``, ``Action``, principal lists and condition values may be a single item or a
  list; they become tuples.
* Action names and condition key names are case-insensitive in IAM; they are case-folded.
  Condition *values* keep their case (the operator decides whether case matters).
* Condition operators are split into a base operator, an optional set qualifier
  (``ForAllValues``/``ForAnyValue``) and the ``IfExists`` suffix.
* Duplicate JSON object keys, which IAM rejects on write but which exist in stored and
  recorded documents, are detected. Which copy IAM honoured is not documented, so the model
  keeps the last-wins reading (what JSON parsers, boto3 included, produce) and, when a
  duplicate changes the meaning, the first-wins reading as ``alternative``; the evaluator
  judges both and reports the worse.

Malformed documents raise one ``PolicyParseError`` whose message names the element that is
wrong; nothing else escapes, whatever JSON comes in.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final, TypeGuard

from ..exceptions import PluginError
from ..json_kind import json_kind as _kind

#: IAM's quota on a role trust policy: 2,048 characters by default, adjustable up to 8,192
#: (IAM User Guide, IAM and STS quotas). Nothing larger can be a role's trust policy, so the
#: evaluator refuses larger documents instead of spending time on them.
DEFAULT_TRUST_POLICY_CHARS: Final = 2048
MAX_TRUST_POLICY_CHARS: Final = 8192
_UNDECODED_FACTOR: Final = 64
#: Whitespace IAM does not count against policy size quotas.
_WHITESPACE: Final = (" ", "\t", "\r", "\n")

#: The only policy language version in which ``${...}`` policy variables are substituted.
VERSION_2012: Final = "2012-10-17"
VERSION_2008: Final = "2008-10-17"

_STATEMENT_ELEMENTS: Final = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"}
)
_POLICY_ELEMENTS: Final = frozenset({"Version", "Id", "Statement"})


class PolicyParseError(PluginError, ValueError):
    """The trust policy cannot be read; the message names the element and what is wrong."""


class PolicyTooLargeError(PolicyParseError):
    """The document has more characters than IAM allows in a role trust policy."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"trust policy has {size} characters; IAM allows at most {limit}: not evaluated"
        )
        self.size = size
        self.limit = limit


def policy_size(text: str) -> int:
    """Characters as IAM counts them against the quota: whitespace is not counted."""
    return len(text) - sum(text.count(char) for char in _WHITESPACE)


def check_size(source: object, limit: int = MAX_TRUST_POLICY_CHARS) -> None:
    """Raise ``PolicyTooLargeError`` when ``source`` is larger than ``limit`` characters.

    Text no longer than the limit is within it whatever its encoding (decoding never makes
    it longer), so the common case costs one ``len``. Longer text is measured once decoded;
    a decoded document by its compact JSON.
    """
    if isinstance(source, bytes | bytearray):
        if len(source) <= limit:
            return
        source = bytes(source).decode("utf-8", "replace")
    if isinstance(source, str):
        if len(source) <= limit:
            return
        # Far beyond any encoding or indentation of a legal policy: measured as given, not
        # decoded (decoding would copy the whole text first).
        beyond = len(source) > _UNDECODED_FACTOR * limit
        size = policy_size(source if beyond else _decode_text(source))
    elif isinstance(source, dict):
        try:
            size = len(json.dumps(source, separators=(",", ":"), ensure_ascii=False))
        except (TypeError, ValueError, RecursionError):
            return  # not JSON: the parser says why
    else:
        return
    if size > limit:
        raise PolicyTooLargeError(size, limit)


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class PrincipalKind(StrEnum):
    """The keys of a ``Principal`` object, spelled as IAM requires."""

    AWS = "AWS"
    SERVICE = "Service"
    FEDERATED = "Federated"
    CANONICAL_USER = "CanonicalUser"


_PRINCIPAL_KINDS: Final = frozenset(kind.value for kind in PrincipalKind)


class SetQualifier(StrEnum):
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


#: Condition operators IAM defines, by case-folded name, with their canonical spelling.
KNOWN_OPERATORS: Final[Mapping[str, str]] = {
    name.casefold(): name
    for name in (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    )
}

#: Operators whose result is the negation of a match ("no listed value matches").
NEGATED_OPERATORS: Final = frozenset(
    {
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "NumericNotEquals",
        "DateNotEquals",
        "NotIpAddress",
        "ArnNotEquals",
        "ArnNotLike",
    }
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``operator: {key: values}`` entry of a Condition block.

    ``base`` is the canonical operator name without qualifier or ``IfExists`` (or the
    operator as written when IAM does not define it; ``known`` tells which).
    """

    operator: str
    base: str
    known: bool
    qualifier: SetQualifier | None
    if_exists: bool
    key: str
    values: tuple[str, ...]

    @property
    def negated(self) -> bool:
        return self.base in NEGATED_OPERATORS


@dataclass(frozen=True, slots=True)
class Principals:
    """A ``Principal``/``NotPrincipal`` element; ``everyone`` is the bare string ``"*"``."""

    everyone: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()

    @property
    def has_non_aws(self) -> bool:
        return bool(self.service or self.federated or self.canonical_user)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement; ``index`` is its position in the document (0-based)."""

    index: int
    sid: str | None
    effect: Effect
    principals: Principals
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """How reasons name the statement: its position and, when set, its Sid."""
        return f"Statement[{self.index}]" + (f" (Sid {self.sid!r})" if self.sid else "")


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """A parsed trust policy.

    ``document`` is the decoded JSON (last-wins on duplicate keys), kept for remediation;
    it is excluded from equality and hashing so that equal policies share evaluation
    results whatever their formatting. Treat it as read-only.
    """

    version: str | None
    statements: tuple[Statement, ...]
    duplicate_keys: tuple[str, ...] = ()
    alternative: TrustPolicy | None = None
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only in version 2012-10-17 documents."""
        return self.version == VERSION_2012


# --------------------------------------------------------------------------- decoding


def _is_object(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, with the common ``dict`` case first: ABC checks are slow
    and parsing runs once per role of every pull."""
    return isinstance(value, (dict, Mapping))


class _Pairs:
    """``object_pairs_hook`` that keeps the last (or first) value and records duplicates."""

    def __init__(self, keep_first: bool = False) -> None:
        self.keep_first = keep_first
        self.duplicates: list[str] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)  # C speed; a shorter dict reveals duplicates
        if len(result) == len(pairs):
            return result
        seen: set[str] = set()
        for key, value in pairs:
            if key in seen:
                self.duplicates.append(key)
                continue
            seen.add(key)
            if self.keep_first:
                result[key] = value
        return result


def _decode_text(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("%"):
        return urllib.parse.unquote(stripped)
    return stripped


def _loads(text: str, hook: _Pairs) -> Any:
    try:
        return json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise PolicyParseError(
            f"trust policy is not valid JSON ({exc.msg} at line {exc.lineno} column "
            f"{exc.colno}); pass the AssumeRolePolicyDocument as JSON, URL-encoded JSON or "
            "a decoded object"
        ) from None
    except (RecursionError, ValueError) as exc:
        raise PolicyParseError(f"trust policy cannot be decoded: {exc}") from None


def decode_document(source: object) -> tuple[Any, tuple[str, ...], Any]:
    """Decode ``source`` into JSON values: (last-wins, duplicate keys, first-wins or None)."""
    if isinstance(source, bytes | bytearray):
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyParseError("trust policy bytes are not UTF-8") from None
    if isinstance(source, str):
        text = _decode_text(source)
        if not text:
            raise PolicyParseError("trust policy is an empty string")
        last = _Pairs()
        decoded = _loads(text, last)
        if not last.duplicates:
            return decoded, (), None
        first = _Pairs(keep_first=True)
        return decoded, tuple(last.duplicates), _loads(text, first)
    return source, (), None


# --------------------------------------------------------------------------- parsing


def _strings(value: Any, where: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    """A string-or-list element as a tuple of strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise PolicyParseError(f"{where}: every entry must be a string")
        if not value and not allow_empty:
            raise PolicyParseError(f"{where}: the list is empty")
        return tuple(value)
    raise PolicyParseError(f"{where}: expected a string or a list of strings, got {_kind(value)}")


def _condition_value(value: Any, where: str) -> str:
    # IAM accepts JSON booleans and numbers as condition values and compares their text.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    raise PolicyParseError(f"{where}: condition values must be strings, numbers or booleans")


@lru_cache(maxsize=256)
def parse_operator(operator: str) -> tuple[str, bool, SetQualifier | None, bool]:
    """Split ``ForAnyValue:StringEqualsIfExists`` into (base, known, qualifier, if_exists)."""
    qualifier: SetQualifier | None = None
    rest = operator
    prefix, sep, tail = operator.partition(":")
    if sep:
        folded = prefix.casefold()
        for candidate in SetQualifier:
            if candidate.value.casefold() == folded:
                qualifier = candidate
                rest = tail
                break
    if_exists = False
    folded_rest = rest.casefold()
    if folded_rest.endswith("ifexists") and folded_rest != "ifexists":
        if_exists = True
        folded_rest = folded_rest[: -len("ifexists")]
        rest = rest[: -len("ifexists")]
    canonical = KNOWN_OPERATORS.get(folded_rest)
    if canonical is None:
        return rest, False, qualifier, if_exists
    if canonical == "Null" and if_exists:
        return rest + "IfExists", False, qualifier, False
    return canonical, True, qualifier, if_exists


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if not _is_object(value):
        raise PolicyParseError(f"{where}: expected an object, got {_kind(value)}")
    result: list[Condition] = []
    for operator, block in value.items():
        if not isinstance(operator, str):
            raise PolicyParseError(f"{where}: condition operators must be strings")
        if not _is_object(block):
            raise PolicyParseError(
                f"{where}.{operator}: expected an object of condition keys, got {_kind(block)}"
            )
        base, known, qualifier, if_exists = parse_operator(operator)
        for key, raw_values in block.items():
            if not isinstance(key, str):
                raise PolicyParseError(f"{where}.{operator}: condition keys must be strings")
            key_where = f"{where}.{operator}.{key}"
            items = raw_values if isinstance(raw_values, list) else [raw_values]
            values = tuple(_condition_value(item, key_where) for item in items)
            result.append(
                Condition(operator, base, known, qualifier, if_exists, key.casefold(), values)
            )
    return tuple(result)


def _principals(value: Any, where: str) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if isinstance(value, str):
        raise PolicyParseError(
            f'{where}: a bare string principal must be "*"; use {{"AWS": {value!r}}}'
        )
    if not _is_object(value):
        raise PolicyParseError(f'{where}: expected an object or "*", got {_kind(value)}')
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, entries in value.items():
        if kind not in _PRINCIPAL_KINDS:
            raise PolicyParseError(
                f"{where}: unknown principal type {kind!r} (IAM accepts AWS, Service, "
                "Federated and CanonicalUser, case-sensitive)"
            )
        kinds[kind] = _strings(entries, f"{where}.{kind}")
    return Principals(
        aws=kinds.get(PrincipalKind.AWS, ()),
        service=kinds.get(PrincipalKind.SERVICE, ()),
        federated=kinds.get(PrincipalKind.FEDERATED, ()),
        canonical_user=kinds.get(PrincipalKind.CANONICAL_USER, ()),
    )


def _exactly_one(raw: Mapping[str, Any], where: str, plain: str, negated: str) -> tuple[Any, bool]:
    has_plain, has_negated = plain in raw, negated in raw
    if has_plain == has_negated:
        which = "both" if has_plain else "neither"
        raise PolicyParseError(
            f"{where}: has {which} {plain} and {negated}; exactly one is required"
        )
    return (raw[negated], True) if has_negated else (raw[plain], False)


def _statement(raw: Any, index: int) -> Statement:
    where = f"Statement[{index}]"
    if not _is_object(raw):
        raise PolicyParseError(f"{where}: expected an object, got {_kind(raw)}")
    unknown = sorted(str(k) for k in set(raw) - _STATEMENT_ELEMENTS)
    if unknown:
        raise PolicyParseError(
            f"{where}: element(s) {', '.join(map(repr, unknown))} are not allowed in a trust "
            "policy (IAM rejects them)"
        )
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyParseError(f"{where}.Sid: expected a string, got {_kind(sid)}")
    effect_raw = raw.get("Effect")
    if effect_raw not in (Effect.ALLOW.value, Effect.DENY.value):
        raise PolicyParseError(f'{where}.Effect: must be "Allow" or "Deny", got {effect_raw!r}')
    principal_raw, not_principal = _exactly_one(raw, where, "Principal", "NotPrincipal")
    action_raw, not_action = _exactly_one(raw, where, "Action", "NotAction")
    principal_where = f"{where}.{'NotPrincipal' if not_principal else 'Principal'}"
    action_where = f"{where}.{'NotAction' if not_action else 'Action'}"
    condition_raw = raw.get("Condition")
    return Statement(
        index=index,
        sid=sid or None,
        effect=Effect(effect_raw),
        principals=_principals(principal_raw, principal_where),
        not_principal=not_principal,
        actions=tuple(a.casefold() for a in _strings(action_raw, action_where)),
        not_action=not_action,
        conditions=()
        if condition_raw is None
        else _conditions(condition_raw, f"{where}.Condition"),
    )


def _statements(raw_statements: Any) -> Sequence[Any]:
    if _is_object(raw_statements):
        return (raw_statements,)
    if isinstance(raw_statements, list):
        return raw_statements
    raise PolicyParseError(
        f"Statement: expected an object or a list of objects, got {_kind(raw_statements)}"
    )


def _policy(decoded: Any, duplicates: tuple[str, ...]) -> TrustPolicy:
    if not _is_object(decoded):
        raise PolicyParseError(
            f"trust policy must be a JSON object with Version and Statement, got {_kind(decoded)}"
        )
    unknown = sorted(str(k) for k in set(decoded) - _POLICY_ELEMENTS)
    if unknown:
        raise PolicyParseError(
            f"trust policy has element(s) {', '.join(map(repr, unknown))}; IAM allows only "
            "Version, Id and Statement at the top level"
        )
    version = decoded.get("Version")
    if version is not None and not isinstance(version, str):
        raise PolicyParseError(f"Version: expected a string, got {_kind(version)}")
    raw_statements = decoded.get("Statement", [])
    statements = tuple(_statement(s, i) for i, s in enumerate(_statements(raw_statements)))
    return TrustPolicy(
        version=version,
        statements=statements,
        duplicate_keys=duplicates,
        document=decoded,
    )


def parse_policy(source: object, max_chars: int | None = None) -> TrustPolicy:
    """Parse a trust policy from any form it arrives in; raise ``PolicyParseError`` if bad.

    A document without statements is valid (nobody can assume the role). With ``max_chars``
    a document larger than that (as IAM counts) raises ``PolicyTooLargeError`` unparsed.
    """
    if isinstance(source, str):
        if max_chars is not None:
            check_size(source, max_chars)
        return _parse_text(source)
    if isinstance(source, dict):
        # Decoded documents (boto3) are memoised by their compact JSON text: equal text means
        # an identical document, and serialising is far cheaper than parsing again.
        try:
            text = json.dumps(source, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            text = None
        if text is not None:
            if max_chars is not None and len(text) > max_chars:
                check_size(source, max_chars)  # escaped non-ASCII may have inflated the text
            return _parse_text(text)
    if max_chars is not None:
        check_size(source, max_chars)
    decoded, duplicates, first_wins = decode_document(source)
    return _with_alternative(decoded, duplicates, first_wins)


@lru_cache(maxsize=2048)
def _parse_text(text: str) -> TrustPolicy:
    """String documents are parsed once per distinct text: CloudTrail repeats them."""
    decoded, duplicates, first_wins = decode_document(text)
    return _with_alternative(decoded, duplicates, first_wins)


def clear_parse_cache() -> None:
    """Forget memoised string parses."""
    _parse_text.cache_clear()


def _with_alternative(decoded: Any, duplicates: tuple[str, ...], first_wins: Any) -> TrustPolicy:
    policy = _policy(decoded, duplicates)
    if first_wins is None:
        return policy
    alternative = _policy(first_wins, duplicates)
    if alternative == policy:
        return policy
    return TrustPolicy(
        version=policy.version,
        statements=policy.statements,
        duplicate_keys=duplicates,
        alternative=alternative,
        document=policy.document,
    )
