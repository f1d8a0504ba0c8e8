"""Does a role's trust policy force callers to name their session after themselves?

The question is decided the way IAM decides requests, not by pattern-matching the JSON. For
every AWS principal an Allow statement trusts, ``principals.witnesses`` builds the distinct
callers that entry lets in (an IAM user, a role session, the root user; specific or generic).
Each caller then tries a set of session names drawn from the policy itself: its own user name,
every session-name value of the policy with wildcards filled and variables resolved for that
caller, case variants and an unrelated name. Each request is evaluated with IAM's rules: it
gets in when some Allow may apply (principal, action, every AND-ed condition true or unknown)
and no Deny certainly applies (an explicit Deny overrides; a Deny whose condition is unknown
may not apply, so it is not relied on).

A request is *bad* when the caller has no ``aws:username`` or the session name differs from
it. Then, per policy:

* a bad request gets in through some Allow  -> ``not_enforced`` or ``weak`` (``weak`` when every
  such Allow at least ties the name to ``${aws:username}``, loosely);
* bad requests match an Allow but a Deny blocks all of them -> ``enforced_by_deny``;
* otherwise, if a good request (user, own name) gets in -> ``enforced``; if none -> the grants
  are dead -> ``unsatisfiable``.

A second probe repeats the requests without ``sts:RoleSessionName`` to expose conditions that
hold only because AssumeRole always carries the key (``ForAllValues`` is ``weak``;
``...IfExists`` is noted). Roles trusted only by Service/Federated principals are ``exempt``.
Findings are emitted as codes with parameters; ``findings.CATALOGUE`` owns their words.

Known approximation: conditions on keys that are not modelled (``aws:SourceIp``, tags, ...) are
judged statement by statement as "could be either"; two statements that test the same unknown
key in opposite ways are not correlated.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from .conditions import (
    TV,
    UNKNOWN,
    UNRESOLVABLE,
    Variable,
    Wildcard,
    and3,
    evaluate_conditions,
    resolve,
    template,
)
from .findings import CATALOGUE, Code, Severity, render
from .policy import (
    VERSION_2012,
    Condition,
    Effect,
    PolicyParseError,
    SetQualifier,
    Statement,
    TrustPolicy,
    clear_parse_cache,
    parse_policy,
)
from .principals import (
    WITNESS_USER_NAME,
    Caller,
    Entry,
    EntryKind,
    classify_entry,
    entries_match,
    witnesses,
)
from .remediation import corrected_document, mask_external_ids, update_command

ASSUME_ROLE: Final = "sts:assumerole"
SESSION_NAME: Final = "sts:rolesessionname"
USERNAME: Final = "aws:username"
#: Condition keys that tie a caller to an account or organisation.
PIN_KEYS: Final = frozenset(
    {"aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths", "aws:principalarn"}
)
#: Keys the witness requests model; conditions on any other key are "unknown".
MODELLED_KEYS: Final = frozenset(
    {
        SESSION_NAME,
        USERNAME,
        "aws:principaltype",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalisawsservice",
    }
)
_BINDING_OPERATORS: Final = frozenset({"StringEquals", "StringLike", "StringEqualsIgnoreCase"})
_SESSION_NAME_SYNTAX: Final = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_USER_NAME_SYNTAX: Final = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_ROLE_ARN: Final = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/.*", re.DOTALL)
_FILLERS: Final = ("", "x", "-zz")
_UNRELATED_NAME: Final = "other-session"
SSO_PATH_PREFIX: Final = "/aws-reserved/sso.amazonaws.com/"
SSO_NAME_PREFIX: Final = "AWSReservedSSO_"
SERVICE_LINKED_PATH_PREFIX: Final = "/aws-service-role/"


class TrustStatus(StrEnum):
    ENFORCED = "enforced"
    ENFORCED_BY_DENY = "enforced_by_deny"
    WEAK = "weak"
    NOT_ENFORCED = "not_enforced"
    UNSATISFIABLE = "unsatisfiable"
    EXEMPT = "exempt"
    UNPARSEABLE = "unparseable"


#: From most to least risky; decides which reading of an ambiguous document is reported.
_RISK_ORDER: Final = (
    TrustStatus.NOT_ENFORCED,
    TrustStatus.WEAK,
    TrustStatus.ENFORCED_BY_DENY,
    TrustStatus.ENFORCED,
    TrustStatus.UNSATISFIABLE,
    TrustStatus.EXEMPT,
    TrustStatus.UNPARSEABLE,
)


def enforces_rule(status: TrustStatus) -> bool:
    """Whether a session name of a role with this status can be trusted as the user's name."""
    return status in (TrustStatus.ENFORCED, TrustStatus.ENFORCED_BY_DENY)


@dataclass(frozen=True, slots=True)
class StatementRef:
    index: int
    sid: str | None

    @property
    def label(self) -> str:
        return f"Statement[{self.index}]" + (f" (Sid {self.sid!r})" if self.sid else "")

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sid": self.sid}


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding about a policy: a catalogue code, where it applies and its parameters."""

    code: Code
    statement: StatementRef | None = None
    principals: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        values = dict(self.params)
        values.setdefault("statement", self.statement.label if self.statement else "the policy")
        values.setdefault("principals", ", ".join(self.principals) or "AWS principals")
        return render(self.code, values)

    def to_dict(self) -> dict[str, Any]:
        entry = CATALOGUE[self.code]
        return {
            "code": self.code.value,
            "title": entry.title,
            "severity": entry.severity.value,
            "message": self.message,
            "statement": self.statement.to_dict() if self.statement else None,
            "principals": list(self.principals),
        }


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    """The verdict on one trust policy, with the side flags reported beside the status."""

    status: TrustStatus
    reasons: tuple[Reason, ...]
    offending_statements: tuple[int, ...] = ()
    publicly_assumable: bool = False
    cross_account_unpinned: tuple[str, ...] = ()
    role_principals_without_username: tuple[str, ...] = ()
    one_character_user_names: tuple[str, ...] = ()
    set_operator_misuse: tuple[str, ...] = ()
    version: str | None = None
    duplicate_keys: tuple[str, ...] = ()
    account_id: str | None = None
    partition: str | None = None
    policy: TrustPolicy | None = field(default=None, compare=False)

    def with_policy(self, policy: TrustPolicy | None) -> PolicyVerdict:
        """This verdict, attached to ``policy`` (the caller's document, for remediation).

        Built field by field: ``dataclasses.replace`` is several times slower, and this runs
        once per role.
        """
        return PolicyVerdict(
            self.status,
            self.reasons,
            self.offending_statements,
            self.publicly_assumable,
            self.cross_account_unpinned,
            self.role_principals_without_username,
            self.one_character_user_names,
            self.set_operator_misuse,
            self.version,
            self.duplicate_keys,
            self.account_id,
            self.partition,
            policy,
        )

    @property
    def codes(self) -> tuple[Code, ...]:
        return tuple(reason.code for reason in self.reasons)

    def flags(self) -> dict[str, Any]:
        return {
            "publicly_assumable": self.publicly_assumable,
            "cross_account_unpinned": list(self.cross_account_unpinned),
            "role_principals_without_username": list(self.role_principals_without_username),
            "one_character_user_names": list(self.one_character_user_names),
            "set_operator_misuse": list(self.set_operator_misuse),
            "policy_version": self.version,
            "duplicate_keys": list(self.duplicate_keys),
        }

    def to_dict(self) -> dict[str, Any]:
        fixed = fix_policy(self)
        masked, was_masked = mask_external_ids(fixed) if fixed is not None else (None, False)
        result: dict[str, Any] = {
            "status": self.status.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "fixed_policy": masked,
            "remediation_command": None,
        }
        if was_masked:
            result["remediation_note"] = _MASK_NOTE
        result.update(self.flags())
        return result


_MASK_NOTE: Final = (
    "sts:ExternalId values are masked; put the role's current External ID back before "
    "applying the policy."
)


@dataclass(frozen=True, slots=True)
class TrustOptions:
    """Role name/path glob patterns (``*``, ``?``; case-insensitive) exempt from the rule."""

    exempt_role_patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleVerdict:
    role_name: str
    role_arn: str | None
    role_path: str
    role_id: str | None
    account_id: str | None
    status: TrustStatus
    reasons: tuple[Reason, ...]
    policy_verdict: PolicyVerdict
    fixed_policy: Mapping[str, Any] | None = None
    remediation_command: str | None = None
    external_ids_masked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and of alert raw data."""
        result: dict[str, Any] = {
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "account_id": self.account_id,
            "status": self.status.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "fixed_policy": self.fixed_policy,
            "remediation_command": self.remediation_command,
        }
        if self.external_ids_masked:
            result["remediation_note"] = _MASK_NOTE
        if self.status is TrustStatus.EXEMPT:
            result["policy_status"] = self.policy_verdict.status.value
        result.update(self.policy_verdict.flags())
        return result


# --------------------------------------------------------------------------- analysis


@lru_cache(maxsize=1024)
def _action_pattern(action: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(action), re.DOTALL)


def covers_assume_role(statement: Statement) -> bool:
    """Whether the statement's Action/NotAction includes ``sts:AssumeRole``."""
    hit = any(_action_pattern(a).match(ASSUME_ROLE) for a in statement.actions)
    return hit != statement.not_action


@dataclass(slots=True)
class _Info:
    """What the analysis needs about one statement, computed once."""

    statement: Statement
    covers: bool
    entries: tuple[Entry, ...]
    session_conditions: tuple[Condition, ...]

    @property
    def ref(self) -> StatementRef:
        return StatementRef(self.statement.index, self.statement.sid)

    @property
    def wildcard(self) -> bool:
        return self.statement.not_principal or any(
            e.kind is EntryKind.WILDCARD for e in self.entries
        )


def _info(statement: Statement, partition: str | None) -> _Info:
    principals = statement.principals
    texts = ("*",) if principals.everyone else principals.aws
    return _Info(
        statement=statement,
        covers=covers_assume_role(statement),
        entries=tuple(classify_entry(text, partition) for text in texts),
        session_conditions=tuple(c for c in statement.conditions if c.key == SESSION_NAME),
    )


def _generic_usernames(infos: Iterable[_Info], variables: bool) -> tuple[str, ...]:
    """The representative user name plus every user name the policy tests literally."""
    names = [WITNESS_USER_NAME]
    for info in infos:
        for condition in info.statement.conditions:
            if condition.key != USERNAME:
                continue
            for raw in condition.values:
                for filler in _FILLERS[:2]:
                    name = _fill(template(raw, variables), filler)
                    if name is not None and _USER_NAME_SYNTAX.fullmatch(name):
                        names.append(name)
    return tuple(dict.fromkeys(names))


def _fill(parts: tuple[Any, ...], filler: str) -> str | None:
    if any(isinstance(p, Variable) for p in parts):
        return None
    return "".join(p if isinstance(p, str) else filler for p in parts)


def _base_request(caller: Caller) -> dict[str, str | None]:
    request: dict[str, str | None] = {
        "aws:principaltype": caller.kind.value,
        "aws:principalisawsservice": "false",
        USERNAME: caller.username if caller.has_username else None,
    }
    if caller.account is not None:
        request["aws:principalaccount"] = caller.account
    if caller.principal_arn is not None:
        request["aws:principalarn"] = caller.principal_arn
    return request


def _session_candidates(
    caller: Caller, request: Mapping[str, str | None], values: tuple[str, ...], variables: bool
) -> list[str]:
    """Session names worth trying for ``caller``: everything the policy's values can match."""
    names: list[str] = []
    own = caller.username
    if own is not None:
        names.append(own)
    for raw in values:
        resolved = resolve(template(raw, variables), request)
        if resolved is UNRESOLVABLE or resolved is UNKNOWN:
            continue
        for filler in _FILLERS:
            text = "".join(
                p if isinstance(p, str) else ("x" if p is Wildcard.QUESTION else filler)
                for p in resolved
            )
            names.extend((text, text.swapcase()))
    if own is not None:
        names.extend((own.swapcase(), own + "x", "x" + own))
    names.append(_UNRELATED_NAME)
    return [n for n in dict.fromkeys(names) if _SESSION_NAME_SYNTAX.fullmatch(n)]


@dataclass(slots=True)
class _Outcome:
    """What the witness requests showed, per statement index."""

    gaps: dict[int, list[tuple[Caller, str]]] = field(default_factory=dict)
    blocked: dict[int, list[tuple[Caller, str, int]]] = field(default_factory=dict)
    good: set[int] = field(default_factory=set)
    matched: set[int] = field(default_factory=set)
    entered: set[tuple[int, Caller]] = field(default_factory=set)
    probe_gaps: dict[int, list[Caller]] = field(default_factory=dict)


def _run_witnesses(
    callers: Iterable[Caller],
    allows: list[_Info],
    denies: list[_Info],
    values: tuple[str, ...],
    variables: bool,
    probe: bool,
) -> _Outcome:
    outcome = _Outcome()
    for caller in callers:
        allow_pm = [
            (info, pm)
            for info in allows
            if (pm := entries_match(info.entries, caller, negated=info.statement.not_principal))
            is not False
        ]
        if not allow_pm:
            continue
        deny_pm = [
            info
            for info in denies
            if entries_match(info.entries, caller, negated=info.statement.not_principal) is True
        ]
        base = _base_request(caller)
        for name in _session_candidates(caller, base, values, variables):
            request = {**base, SESSION_NAME: name}
            _decide(outcome, caller, name, request, allow_pm, deny_pm, variables)
        if probe:
            request = {**base, SESSION_NAME: None}
            _probe(outcome, caller, request, allow_pm, deny_pm, variables)
    return outcome


def _granting(
    allow_pm: Sequence[tuple[_Info, TV]], request: Mapping[str, str | None], variables: bool
) -> list[_Info]:
    return [
        info
        for info, pm in allow_pm
        if and3(pm, evaluate_conditions(info.statement.conditions, request, variables)) is not False
    ]


def _blocking(
    deny_pm: list[_Info], request: Mapping[str, str | None], variables: bool
) -> _Info | None:
    for info in deny_pm:
        if evaluate_conditions(info.statement.conditions, request, variables) is True:
            return info
    return None


def _decide(
    outcome: _Outcome,
    caller: Caller,
    name: str,
    request: Mapping[str, str | None],
    allow_pm: Sequence[tuple[_Info, TV]],
    deny_pm: list[_Info],
    variables: bool,
) -> None:
    granting = _granting(allow_pm, request, variables)
    if not granting:
        return
    deny = _blocking(deny_pm, request, variables)
    good = caller.username is not None and name == caller.username
    for info in granting:
        index = info.statement.index
        outcome.matched.add(index)
        if deny is not None:
            if not good:
                outcome.blocked.setdefault(index, []).append((caller, name, deny.statement.index))
            continue
        outcome.entered.add((index, caller))
        if good:
            outcome.good.add(index)
        else:
            outcome.gaps.setdefault(index, []).append((caller, name))


def _probe(
    outcome: _Outcome,
    caller: Caller,
    request: Mapping[str, str | None],
    allow_pm: Sequence[tuple[_Info, TV]],
    deny_pm: list[_Info],
    variables: bool,
) -> None:
    granting = _granting(allow_pm, request, variables)
    if granting and _blocking(deny_pm, request, variables) is None:
        for info in granting:
            outcome.probe_gaps.setdefault(info.statement.index, []).append(caller)


def _binds_username(condition: Condition, variables: bool) -> bool:
    """A positive string condition with a value that uses ``${aws:username}``."""
    return (
        variables
        and condition.base in _BINDING_OPERATORS
        and any(
            isinstance(p, Variable) and p.key == USERNAME
            for raw in condition.values
            for p in template(raw, True)
        )
    )


def _username_default(condition: Condition) -> str | None:
    for raw in condition.values:
        for part in template(raw, True):
            if isinstance(part, Variable) and part.key == USERNAME and part.default is not None:
                return part.default
    return None


def _decorated(parts: tuple[Any, ...]) -> bool:
    """``${aws:username}`` with fixed text around it (and no wildcard)."""
    has_username = any(isinstance(p, Variable) and p.key == USERNAME for p in parts)
    return has_username and any(isinstance(p, str) and p for p in parts)


def _weak_codes(condition: Condition) -> list[Code]:
    codes: list[Code] = []
    if condition.base == "StringEqualsIgnoreCase":
        codes.append(Code.IGNORE_CASE)
    parts = [template(raw, True) for raw in condition.values]
    if condition.base == "StringLike" and any(isinstance(p, Wildcard) for t in parts for p in t):
        codes.append(Code.WILDCARD_AROUND_USERNAME)
    elif any(_decorated(t) for t in parts):
        codes.append(Code.DECORATED_USERNAME)
    if len(condition.values) > 1:
        codes.append(Code.EXTRA_VALUES)
    if _username_default(condition) is not None:
        codes.append(Code.DEFAULT_VALUE_HOLE)
    if condition.qualifier is SetQualifier.FOR_ALL_VALUES:
        codes.append(Code.FOR_ALL_VALUES_VACUOUS)
    return codes


def _values_text(condition: Condition) -> str:
    return ", ".join(repr(v) for v in condition.values) or "no values"


def _principals_for(info: _Info, callers: Iterable[Caller]) -> tuple[str, ...]:
    """The statement's own entries that cover any of ``callers``."""
    if info.statement.not_principal:
        return ("every principal not listed in NotPrincipal",)
    found: list[str] = []
    for caller in callers:
        for entry in info.entries:
            if entries_match((entry,), caller, negated=False) is not False:
                found.append(entry.text)
    return tuple(dict.fromkeys(found))


def _gap_reasons(info: _Info, gaps: list[tuple[Caller, str]], variables: bool) -> list[Reason]:
    """Why bad requests get in through ``info``; the first reason's code sets weak/not."""
    ref = info.ref
    principals = _principals_for(info, (caller for caller, _ in gaps))
    example = next(
        (name for caller, name in gaps if caller.username is not None),
        gaps[0][1],
    )
    if not info.session_conditions:
        return [Reason(Code.MISSING_CONDITION, ref, principals)]
    binding = [c for c in info.session_conditions if _binds_username(c, variables)]
    if not binding:
        condition = info.session_conditions[0]
        negated = any(c.negated for c in info.session_conditions)
        code = Code.NEGATED_OPERATOR_IN_ALLOW if negated else Code.NOT_BOUND_TO_USERNAME
        if negated:
            condition = next(c for c in info.session_conditions if c.negated)
        return [
            Reason(
                code,
                ref,
                principals,
                (
                    ("operator", condition.operator),
                    ("values", _values_text(condition)),
                    ("example", example),
                ),
            )
        ]
    reasons: list[Reason] = []
    for condition in binding:
        for code in _weak_codes(condition):
            if code is Code.DEFAULT_VALUE_HOLE:
                no_name = [c for c, _ in gaps if c.username is None]
                default = _username_default(condition) or ""
                reasons.append(
                    Reason(
                        code,
                        ref,
                        _principals_for(info, no_name) or principals,
                        (("values", _values_text(condition)), ("example", default)),
                    )
                )
                continue
            reasons.append(
                Reason(
                    code,
                    ref,
                    principals,
                    (
                        ("operator", condition.operator),
                        ("values", _values_text(condition)),
                        ("example", example),
                    ),
                )
            )
    if not reasons:
        condition = binding[0]
        reasons.append(
            Reason(
                Code.NOT_BOUND_TO_USERNAME,
                ref,
                principals,
                (
                    ("operator", condition.operator),
                    ("values", _values_text(condition)),
                    ("example", example),
                ),
            )
        )
    return reasons


_NOT_ENFORCED_CODES: Final = frozenset(
    {Code.MISSING_CONDITION, Code.NOT_BOUND_TO_USERNAME, Code.NEGATED_OPERATOR_IN_ALLOW}
)


def _why_guard_misses(deny: _Info, caller: Caller, name: str, variables: bool) -> str | None:
    """Why the Deny ``deny`` does not certainly stop ``caller`` using session ``name``."""
    principal = entries_match(deny.entries, caller, negated=deny.statement.not_principal)
    if principal is not True:
        return "its Principal does not cover them"
    if not deny.covers:
        return "its Action does not include sts:AssumeRole"
    request = {**_base_request(caller), SESSION_NAME: name}
    for condition in deny.statement.conditions:
        result = evaluate_conditions((condition,), request, variables)
        if result is True:
            continue
        if condition.key == SESSION_NAME:
            return f"its session-name condition ({condition.operator}) lets {name!r} through"
        return f"its extra condition {condition.operator} on {condition.key} may be false"
    return None


def _is_guard(info: _Info) -> bool:
    return any(c.negated for c in info.session_conditions)


def _pinned(info: _Info) -> bool:
    return any(c.key in PIN_KEYS and not c.negated for c in info.statement.conditions)


def _deny_pins(info: _Info) -> bool:
    return info.wildcard and any(c.key in PIN_KEYS and c.negated for c in info.statement.conditions)


def _entered_via(outcome: _Outcome, info: _Info, entry: Entry, usernames: tuple[str, ...]) -> bool:
    return any((info.statement.index, c) in outcome.entered for c in witnesses(entry, usernames))


def _unevaluated(info: _Info) -> list[Reason]:
    """Conditions the verdict had to assume could go either way."""
    return [
        Reason(
            Code.UNEVALUATED_CONDITION,
            info.ref,
            params=(("operator", condition.operator), ("key", condition.key)),
        )
        for condition in info.statement.conditions
        if not condition.known or condition.key not in MODELLED_KEYS
    ]


def _analyse(policy: TrustPolicy, partition: str | None) -> _Analysis:
    variables = policy.variables_enabled
    infos = [_info(s, partition) for s in policy.statements]
    allows = [i for i in infos if i.statement.effect is Effect.ALLOW and i.covers]
    denies = [i for i in infos if i.statement.effect is Effect.DENY and i.covers]
    aws_allows = [i for i in allows if i.entries or i.statement.not_principal]
    reasons: list[Reason] = []
    flags = _Flags()
    _hygiene(policy, infos, aws_allows, reasons, flags)

    live = [
        i
        for i in aws_allows
        if i.statement.not_principal or any(e.kind is not EntryKind.DEAD for e in i.entries)
    ]
    if not live:
        non_aws = sorted(
            {
                p
                for i in infos
                if i.statement.effect is Effect.ALLOW
                for p in (
                    *i.statement.principals.service,
                    *i.statement.principals.federated,
                    *i.statement.principals.canonical_user,
                )
            }
        )
        if non_aws:
            status = TrustStatus.EXEMPT
            reasons.insert(0, Reason(Code.EXEMPT_NON_AWS_PRINCIPALS, None, tuple(non_aws)))
        else:
            status = TrustStatus.UNSATISFIABLE
            code = Code.EVERY_GRANT_DEAD if aws_allows else Code.NOTHING_GRANTS_ASSUMPTION
            reasons.insert(0, Reason(code))
        return flags.verdict(status, reasons, (), policy, partition)

    usernames = _generic_usernames(infos, variables)
    callers: dict[Caller, None] = {}
    for info in live:
        entries = info.entries
        if info.statement.not_principal:
            entries = (classify_entry("*", partition),)
        for entry in entries:
            for caller in witnesses(entry, usernames):
                callers.setdefault(caller)
    values = tuple(dict.fromkeys(v for i in infos for c in i.session_conditions for v in c.values))
    probe = any(
        c.if_exists or c.qualifier is SetQualifier.FOR_ALL_VALUES
        for i in allows
        for c in i.session_conditions
    )
    outcome = _run_witnesses(callers, allows, denies, values, variables, probe)

    offending: dict[int, list[Reason]] = {}
    for info in allows:
        index = info.statement.index
        if index in outcome.gaps:
            offending[index] = _gap_reasons(info, outcome.gaps[index], variables)
            reasons.extend(offending[index])
            reasons.extend(_unevaluated(info))
            reasons.extend(_guard_gap_reasons(info, denies, outcome.gaps[index], variables))
        elif index in outcome.probe_gaps:
            for condition in info.session_conditions:
                if condition.qualifier is SetQualifier.FOR_ALL_VALUES and _binds_username(
                    condition, variables
                ):
                    reason = Reason(
                        Code.FOR_ALL_VALUES_VACUOUS,
                        info.ref,
                        _principals_for(info, outcome.probe_gaps[index]),
                        (("operator", condition.operator),),
                    )
                    offending.setdefault(index, []).append(reason)
                    reasons.append(reason)
                elif condition.if_exists and _binds_username(condition, variables):
                    reasons.append(
                        Reason(
                            Code.IF_EXISTS_EQUIVALENT,
                            info.ref,
                            params=(("operator", condition.operator),),
                        )
                    )

    _role_and_user_reasons(live, outcome, usernames, variables, reasons, flags)
    _exposure_flags(live, denies, outcome, usernames, reasons, flags)

    if offending:
        not_enforced = any(r.code in _NOT_ENFORCED_CODES for rs in offending.values() for r in rs)
        status = TrustStatus.NOT_ENFORCED if not_enforced else TrustStatus.WEAK
    elif not outcome.good:
        status = TrustStatus.UNSATISFIABLE
        reasons.insert(0, Reason(Code.EVERY_GRANT_DEAD))
    else:
        status = TrustStatus.ENFORCED_BY_DENY if outcome.blocked else TrustStatus.ENFORCED
        reasons[:0] = _enforced_reasons(allows, denies, outcome)
    return flags.verdict(status, reasons, tuple(sorted(offending)), policy, partition)


def _guard_gap_reasons(
    info: _Info, denies: list[_Info], gaps: list[tuple[Caller, str]], variables: bool
) -> list[Reason]:
    result: list[Reason] = []
    for deny in denies:
        if not _is_guard(deny):
            continue
        found = next(
            (
                (caller, why)
                for caller, name in gaps
                if (why := _why_guard_misses(deny, caller, name, variables)) is not None
            ),
            None,
        )
        if found is None:
            continue
        caller, why = found
        result.append(
            Reason(
                Code.DENY_GUARD_GAP,
                info.ref,
                _principals_for(info, [caller]),
                (("deny", deny.ref.label), ("why", why)),
            )
        )
    return result


def _enforced_reasons(allows: list[_Info], denies: list[_Info], outcome: _Outcome) -> list[Reason]:
    result: list[Reason] = []
    by_index = {d.statement.index: d for d in denies}
    for info in allows:
        index = info.statement.index
        blocked = outcome.blocked.get(index)
        if blocked:
            deny = by_index[blocked[0][2]]
            result.append(
                Reason(
                    Code.ENFORCED_BY_DENY,
                    info.ref,
                    _principals_for(info, (c for c, _, _ in blocked)),
                    (("deny", deny.ref.label),),
                )
            )
        elif index in outcome.good:
            good_callers = [c for (i, c) in outcome.entered if i == index]
            result.append(
                Reason(Code.ENFORCED_BY_CONDITION, info.ref, _principals_for(info, good_callers))
            )
    return result


def _role_and_user_reasons(
    live: list[_Info],
    outcome: _Outcome,
    usernames: tuple[str, ...],
    variables: bool,
    reasons: list[Reason],
    flags: _Flags,
) -> None:
    for info in live:
        index = info.statement.index
        if (
            not variables
            and any("${" in v for c in info.session_conditions for v in c.values)
            and index not in outcome.matched
        ):
            reasons.append(
                Reason(
                    Code.VARIABLE_NOT_SUBSTITUTED,
                    info.ref,
                    params=(
                        ("values", _values_text(info.session_conditions[0])),
                        ("version", repr(flags.version) if flags.version else "missing"),
                    ),
                )
            )
        roles = [e for e in info.entries if e.kind in (EntryKind.ROLE, EntryKind.ASSUMED_ROLE)]
        if roles:
            entered = [e.text for e in roles if _entered_via(outcome, info, e, usernames)]
            dead = [e.text for e in roles if e.text not in entered]
            for texts, effect in (
                (entered, "they can assume the role with any session name"),
                (dead, "the statement can never grant them the role"),
            ):
                if texts:
                    reasons.append(
                        Reason(
                            Code.ROLE_PRINCIPAL_NO_USERNAME,
                            info.ref,
                            tuple(texts),
                            (("effect", effect),),
                        )
                    )
                    flags.role_principals.extend(texts)
        short = [e.text for e in info.entries if e.kind is EntryKind.USER and len(e.name or "") < 2]
        if short:
            reasons.append(Reason(Code.ONE_CHARACTER_USER_NAME, info.ref, tuple(short)))
            flags.one_character.extend(short)


@dataclass(frozen=True, slots=True)
class _AccountBound:
    """A trusted principal whose account is known; cross-account once the role's is known."""

    statement: StatementRef
    entry: str
    account: str


def _exposure_flags(
    live: list[_Info],
    denies: list[_Info],
    outcome: _Outcome,
    usernames: tuple[str, ...],
    reasons: list[Reason],
    flags: _Flags,
) -> None:
    deny_pinned = any(_deny_pins(d) for d in denies)
    for info in live:
        if _pinned(info) or deny_pinned:
            continue
        if info.wildcard:
            wildcard = classify_entry("*", None)
            if _entered_via(outcome, info, wildcard, usernames):
                flags.public = True
                shown = ("*",) if not info.statement.not_principal else ("NotPrincipal",)
                reasons.append(Reason(Code.PUBLICLY_ASSUMABLE, info.ref, shown))
            continue
        flags.account_bound.extend(
            _AccountBound(info.ref, e.text, e.account)
            for e in info.entries
            if e.kind is not EntryKind.DEAD
            and e.account is not None
            and _entered_via(outcome, info, e, usernames)
        )


_SEVERITY_ORDER: Final = tuple(Severity)


def _severity_rank(reason: Reason) -> int:
    """Most severe first (stable, so equal severities keep the order they were found in)."""
    return _SEVERITY_ORDER.index(CATALOGUE[reason.code].severity)


@dataclass(slots=True)
class _Flags:
    """Side flags collected while analysing, turned into the verdict at the end."""

    version: str | None = None
    public: bool = False
    account_bound: list[_AccountBound] = field(default_factory=list)
    role_principals: list[str] = field(default_factory=list)
    one_character: list[str] = field(default_factory=list)
    set_operators: list[str] = field(default_factory=list)

    def verdict(
        self,
        status: TrustStatus,
        reasons: list[Reason],
        offending: tuple[int, ...],
        policy: TrustPolicy,
        partition: str | None,
    ) -> _Analysis:
        verdict = PolicyVerdict(
            status=status,
            reasons=tuple(sorted(dict.fromkeys(reasons), key=_severity_rank)),
            offending_statements=offending,
            publicly_assumable=self.public,
            role_principals_without_username=tuple(dict.fromkeys(self.role_principals)),
            one_character_user_names=tuple(dict.fromkeys(self.one_character)),
            set_operator_misuse=tuple(dict.fromkeys(self.set_operators)),
            version=policy.version,
            duplicate_keys=policy.duplicate_keys,
            partition=partition,
        )
        return _Analysis(verdict, tuple(self.account_bound))


@dataclass(frozen=True, slots=True)
class _Analysis:
    """The account-independent verdict, and what the role's account id decides later."""

    verdict: PolicyVerdict
    account_bound: tuple[_AccountBound, ...]

    def for_account(self, account_id: str | None, policy: TrustPolicy) -> PolicyVerdict:
        """The verdict for a role in ``account_id``, attached to ``policy``."""
        base = self.verdict
        foreign: dict[StatementRef, list[str]] = {}
        if account_id is not None:
            for bound in self.account_bound:
                if bound.account != account_id:
                    foreign.setdefault(bound.statement, []).append(bound.entry)
        reasons = base.reasons
        if foreign:
            extra = [
                Reason(Code.CROSS_ACCOUNT_UNPINNED, ref, tuple(e)) for ref, e in foreign.items()
            ]
            reasons = tuple(sorted((*reasons, *extra), key=_severity_rank))
        return PolicyVerdict(
            base.status,
            reasons,
            base.offending_statements,
            base.publicly_assumable,
            tuple(dict.fromkeys(e for entries in foreign.values() for e in entries)),
            base.role_principals_without_username,
            base.one_character_user_names,
            base.set_operator_misuse,
            base.version,
            base.duplicate_keys,
            account_id,
            base.partition,
            policy,
        )


def _hygiene(
    policy: TrustPolicy,
    infos: list[_Info],
    aws_allows: list[_Info],
    reasons: list[Reason],
    flags: _Flags,
) -> None:
    """Findings that do not depend on the witness requests."""
    flags.version = policy.version
    if policy.version != VERSION_2012 and policy.statements:
        reasons.append(
            Reason(
                Code.OLD_OR_MISSING_VERSION,
                params=(("version", repr(policy.version) if policy.version else "missing"),),
            )
        )
    for info in infos:
        for condition in info.session_conditions:
            if condition.qualifier is not None:
                flags.set_operators.append(f"{info.ref.label}: {condition.operator}")
                if condition.qualifier is SetQualifier.FOR_ANY_VALUE:
                    reasons.append(
                        Reason(
                            Code.FOR_ANY_VALUE_MISUSE,
                            info.ref,
                            params=(("operator", condition.operator),),
                        )
                    )
        if info.statement.effect is Effect.DENY and info.covers:
            reasons.extend(_unevaluated(info))
    for info in aws_allows:
        if info.statement.not_principal:
            excluded = info.statement.principals
            listed = (*excluded.aws, *excluded.service, *excluded.federated)
            reasons.append(
                Reason(Code.NOT_PRINCIPAL_IN_ALLOW, info.ref, listed + excluded.canonical_user)
            )
        for entry in info.entries:
            if entry.kind is EntryKind.DEAD:
                reasons.append(
                    Reason(
                        Code.PRINCIPAL_NEVER_MATCHES,
                        info.ref,
                        (entry.text,),
                        (("why", entry.why),),
                    )
                )


@lru_cache(maxsize=4096)
def _analyse_cached(policy: TrustPolicy, partition: str | None) -> _Analysis:
    """Estates repeat trust policies, across accounts too; equal models share one analysis."""
    return _analyse(policy, partition)


def clear_caches() -> None:
    """Forget memoised parses and analyses (benchmarks use it to measure cold runs)."""
    _analyse_cached.cache_clear()
    _correction_enforces.cache_clear()
    clear_parse_cache()


def _worse(a: PolicyVerdict, b: PolicyVerdict) -> PolicyVerdict:
    return b if _RISK_ORDER.index(b.status) < _RISK_ORDER.index(a.status) else a


def verdict_for(
    policy: TrustPolicy, *, account_id: str | None = None, partition: str | None = None
) -> PolicyVerdict:
    """The verdict on an already parsed policy (both readings when keys are duplicated)."""
    verdict = _analyse_cached(policy, partition).for_account(account_id, policy)
    if policy.duplicate_keys:
        reading = "last-wins"
        if policy.alternative is not None:
            alternative = _analyse_cached(policy.alternative, partition).for_account(
                account_id, policy
            )
            if _worse(verdict, alternative) is alternative:
                verdict, reading = alternative, "first-wins"
        duplicate = Reason(
            Code.DUPLICATE_KEYS,
            params=(
                ("keys", ", ".join(sorted(set(policy.duplicate_keys)))),
                ("reading", reading),
            ),
        )
        verdict = dataclasses.replace(verdict, reasons=(*verdict.reasons, duplicate))
    return verdict


def _unparseable(
    code: Code, params: tuple[tuple[str, str], ...], account_id: str | None, partition: str | None
) -> PolicyVerdict:
    return PolicyVerdict(
        status=TrustStatus.UNPARSEABLE,
        reasons=(Reason(code, params=params),),
        account_id=account_id,
        partition=partition,
    )


def evaluate_policy(
    document: object, *, account_id: str | None = None, partition: str | None = None
) -> PolicyVerdict:
    """The verdict on a trust policy in any form (dict, JSON or URL-encoded string).

    Never raises: a document that cannot be read is ``unparseable`` with the reason.
    ``account_id``/``partition`` (the role's, from its ARN) enable the cross-account flag and
    the partition check; without them those facts are treated as unknown.
    """
    try:
        policy = parse_policy(document)
    except PolicyParseError as exc:
        return _unparseable(Code.UNPARSEABLE, (("error", str(exc)),), account_id, partition)
    return verdict_for(policy, account_id=account_id, partition=partition)


def fix_policy(verdict: PolicyVerdict) -> dict[str, Any] | None:
    """The minimal corrected policy for a weak/not_enforced verdict, if one enforces the rule.

    Returns ``None`` when no correction can be ``enforced`` (for example when only role
    principals are trusted: they never have ``aws:username``; see RSN011).
    """
    if verdict.status not in (TrustStatus.WEAK, TrustStatus.NOT_ENFORCED):
        return None
    policy = verdict.policy
    if policy is None:
        return None
    every_aws_grant = tuple(
        s.index
        for s in policy.statements
        if s.effect is Effect.ALLOW
        and covers_assume_role(s)
        and (s.principals.everyone or s.principals.aws or s.not_principal)
    )
    for targets in (verdict.offending_statements, every_aws_grant):
        if _correction_enforces(policy, targets, verdict.account_id, verdict.partition):
            return corrected_document(policy.document, targets)
    return None


@lru_cache(maxsize=2048)
def _correction_enforces(
    policy: TrustPolicy, targets: tuple[int, ...], account_id: str | None, partition: str | None
) -> bool:
    """Whether correcting ``targets`` yields an ``enforced`` policy.

    Equal models give corrected documents with equal models (the correction works on what the
    model holds), so the answer computed on one document holds for every equal one.
    """
    document = corrected_document(policy.document, targets)
    check = evaluate_policy(document, account_id=account_id, partition=partition)
    return check.status is TrustStatus.ENFORCED


# --------------------------------------------------------------------------- roles


def role_account(arn: object) -> tuple[str | None, str | None]:
    """(partition, account id) of a role ARN, or (None, None)."""
    if not isinstance(arn, str):
        return None, None
    match = _ROLE_ARN.fullmatch(arn)
    if match is None:
        return None, None
    return match.group(1), match.group(2)


def _exemption(name: str, path: str, options: TrustOptions, policy_status: str) -> Reason | None:
    if path.startswith(SERVICE_LINKED_PATH_PREFIX):
        return Reason(Code.EXEMPT_SERVICE_LINKED, params=(("path", path),))
    if path.startswith(SSO_PATH_PREFIX):
        return Reason(Code.EXEMPT_IDENTITY_CENTER, params=(("why", f"path {path}"),))
    if name.startswith(SSO_NAME_PREFIX):
        return Reason(Code.EXEMPT_IDENTITY_CENTER, params=(("why", f"name {name}"),))
    folded_name, folded_full = name.casefold(), (path + name).casefold()
    for pattern in options.exempt_role_patterns:
        folded = pattern.casefold()
        if fnmatch.fnmatchcase(folded_name, folded) or fnmatch.fnmatchcase(folded_full, folded):
            return Reason(
                Code.EXEMPT_CONFIGURED,
                params=(("pattern", pattern), ("policy_status", policy_status)),
            )
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def evaluate_role(role: Mapping[str, Any], options: TrustOptions | None = None) -> RoleVerdict:
    """The verdict on an IAM role object (ListRoles/GetRole/GAAD shape). Never raises.

    Exempt roles keep the policy's own verdict (``policy_verdict``) and flags, so an exempt
    but publicly assumable role is still visible.
    """
    options = options or TrustOptions()
    name = _text(role.get("RoleName")) or ""
    path = _text(role.get("Path")) or "/"
    arn = _text(role.get("Arn"))
    partition, account_id = role_account(arn)
    document = role.get("AssumeRolePolicyDocument")
    if document is None:
        policy_verdict = _unparseable(Code.NO_TRUST_POLICY, (), account_id, partition)
    else:
        policy_verdict = evaluate_policy(document, account_id=account_id, partition=partition)
    exemption = _exemption(name, path, options, policy_verdict.status.value)
    role_id = _text(role.get("RoleId"))
    if exemption is not None:
        return RoleVerdict(
            name,
            arn,
            path,
            role_id,
            account_id,
            TrustStatus.EXEMPT,
            (exemption, *policy_verdict.reasons),
            policy_verdict,
        )
    fixed = fix_policy(policy_verdict)
    command = None
    masked = False
    if fixed is not None:
        fixed, masked = mask_external_ids(fixed)
        if name:
            command = update_command(name, fixed)
    return RoleVerdict(
        name,
        arn,
        path,
        role_id,
        account_id,
        policy_verdict.status,
        policy_verdict.reasons,
        policy_verdict,
        fixed_policy=fixed,
        remediation_command=command,
        external_ids_masked=masked,
    )
