"""How a trust policy is judged: does it force callers to name the session after themselves?

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from .conditions import Variable, Wildcard, evaluate_conditions, template
from .findings import CATALOGUE, Code, Severity
from .policy import VERSION_2012, Condition, Effect, SetQualifier, TrustPolicy
from .principals import Caller, Entry, EntryKind, classify_entry, entries_match, witnesses
from .verdict import PolicyVerdict, Reason, StatementRef, TrustStatus
from .witness import (
    SESSION_NAME,
    USERNAME,
    WORK_BUDGET,
    Outcome,
    StatementInfo,
    base_request,
    generic_usernames,
    literal_principals,
    run_witnesses,
    statement_info,
)

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


#: Up to this many (caller, entry) pairs a plain scan is cheaper than indexing the callers.
_SMALL_PRODUCT: Final = 64


def _principals_for(info: StatementInfo, callers: Iterable[Caller]) -> tuple[str, ...]:
    """The statement's own entries that cover any of ``callers``.

    Callers are indexed by account and ARN so this costs entries + callers, not their
    product (a policy may list hundreds of accounts, each with its witness callers).
    """
    if info.statement.not_principal:
        return ("every principal not listed in NotPrincipal",)
    callers = list(dict.fromkeys(callers))
    if len(callers) * len(info.entries) <= _SMALL_PRODUCT:
        return tuple(
            dict.fromkeys(
                entry.text
                for caller in callers
                for entry in info.entries
                if entries_match((entry,), caller, negated=False) is not False
            )
        )
    by_account: dict[str | None, list[Caller]] = {}
    exact: set[str] = set()
    for caller in callers:
        for arn in (caller.user_arn, caller.role_arn, caller.session_arn):
            if arn is not None:
                exact.add(arn)
        if caller.user_arn is None and caller.role_arn is None and caller.session_arn is None:
            by_account.setdefault(caller.account, []).append(caller)
        elif caller.account is None:
            by_account.setdefault(None, []).append(caller)
    if not by_account and not exact:
        return ()
    found: list[str] = []
    for entry in info.entries:
        if entry.kind is EntryKind.DEAD:
            continue
        if entry.kind is EntryKind.WILDCARD or entry.text in exact:
            found.append(entry.text)
            continue
        candidates = (*by_account.get(entry.account, ()), *by_account.get(None, ()))
        if entry.kind is EntryKind.ACCOUNT and exact:
            candidates = (*candidates, *_exact_callers(callers, entry.account))
        if any(
            entries_match((entry,), caller, negated=False) is not False for caller in candidates
        ):
            found.append(entry.text)
    return tuple(dict.fromkeys(found))


def _exact_callers(callers: Iterable[Caller], account: str | None) -> list[Caller]:
    """Specific callers (known ARN) of ``account``: an account entry covers them too."""
    for caller in callers:
        if caller.account == account and (
            caller.user_arn is not None
            or caller.role_arn is not None
            or caller.session_arn is not None
        ):
            return [caller]
    return []


def _gap_reasons(
    info: StatementInfo,
    gaps: list[tuple[Caller, str]],
    denies: list[StatementInfo],
    variables: bool,
) -> list[Reason]:
    """Why bad requests get in through ``info``; the first reason's code sets weak/not."""
    ref = info.ref
    principals = _principals_for(info, (caller for caller, _ in gaps))
    example = next(
        (name for caller, name in gaps if caller.username is not None),
        gaps[0][1],
    )
    if not info.session_conditions:
        loose = _loose_guard_reasons(info, denies, gaps, principals, example, variables)
        return loose or [Reason(Code.MISSING_CONDITION, ref, principals)]
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


def _why_guard_misses(
    deny: StatementInfo, caller: Caller, name: str, variables: bool
) -> str | None:
    """Why the Deny ``deny`` does not certainly stop ``caller`` using session ``name``."""
    found = _guard_miss(deny, caller, name, variables)
    return None if found is None else found[1]


def _guard_miss(
    deny: StatementInfo, caller: Caller, name: str, variables: bool
) -> tuple[str, str] | None:
    """(what, why) the Deny misses the request: ``scope`` or ``condition`` (a condition
    other than the session name's), or ``session`` (only its session-name test lets the
    name through); None when it stops the request."""
    principal = deny.principal_match(caller)
    if principal is not True:
        return "scope", "its Principal does not cover them"
    if not deny.covers:
        return "scope", "its Action does not include sts:AssumeRole"
    request = {**base_request(caller), SESSION_NAME: name}
    for condition in deny.statement.conditions:
        result = evaluate_conditions((condition,), request, variables)
        if result is True:
            continue
        if condition.key == SESSION_NAME:
            return "session", (
                f"its session-name condition ({condition.operator}) lets {name!r} through"
            )
        return (
            "condition",
            f"its extra condition {condition.operator} on {condition.key} may be false",
        )
    return None


#: The positive operator a Deny guard's negated one stands for: ``Deny … StringNotLike v``
#: over an unconditioned Allow admits exactly what ``Allow … StringLike v`` admits.
_MIRRORED: Final = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
}


def _loose_guard_reasons(
    info: StatementInfo,
    denies: list[StatementInfo],
    gaps: list[tuple[Caller, str]],
    principals: tuple[str, ...],
    example: str,
    variables: bool,
) -> list[Reason]:
    """Reasons a Deny guard ties the name to ``${aws:username}`` only loosely (by effect).

    Applies when one guard covers every gap of the unconditioned Allow ``info`` and only its
    session-name test lets the names through: the pair then admits what an Allow with the
    mirrored condition would, and is judged like it (``weak``, same finding codes).
    """
    for deny in denies:
        guards = [c for c in deny.session_conditions if c.base in _MIRRORED]
        if len(guards) != 1:
            continue
        misses = [_guard_miss(deny, caller, name, variables) for caller, name in gaps]
        if not all(miss is not None and miss[0] == "session" for miss in misses):
            continue
        guard = guards[0]
        mirrored = dataclasses.replace(guard, base=_MIRRORED[guard.base])
        if not _binds_username(mirrored, variables):
            continue
        codes = _weak_codes(mirrored)
        if not codes:
            continue
        params = (
            ("operator", f"{guard.operator} in a Deny"),
            ("values", _values_text(guard)),
            ("example", example),
        )
        return [
            Reason(
                code,
                deny.ref,
                principals,
                params
                if code is not Code.DEFAULT_VALUE_HOLE
                else (("values", _values_text(guard)), ("example", _username_default(guard) or "")),
            )
            for code in codes
        ]
    return []


def _is_guard(info: StatementInfo) -> bool:
    return any(c.negated for c in info.session_conditions)


def _pinned(info: StatementInfo) -> bool:
    return any(c.key in PIN_KEYS and not c.negated for c in info.statement.conditions)


def _deny_pins(info: StatementInfo) -> bool:
    return info.wildcard and any(c.key in PIN_KEYS and c.negated for c in info.statement.conditions)


def _entered_via(
    outcome: Outcome, info: StatementInfo, entry: Entry, usernames: tuple[str, ...]
) -> bool:
    return any((info.statement.index, c) in outcome.entered for c in witnesses(entry, usernames))


def _unevaluated(info: StatementInfo) -> list[Reason]:
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


def analyse(policy: TrustPolicy, partition: str | None) -> Analysis:
    variables = policy.variables_enabled
    infos = [statement_info(s, partition) for s in policy.statements]
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

    usernames = generic_usernames(infos, variables)
    live_entries = [
        (classify_entry("*", partition),) if info.statement.not_principal else info.entries
        for info in live
    ]
    # Principals the conditions name get witnesses of their own, so the generic callers can
    # stand for everyone else (their ARN and account are FRESH: see witness.base_request).
    live_entries.append(tuple(literal_principals(infos, partition, variables)))
    if sum(map(len, live_entries)) * (len(usernames) + 2) > WORK_BUDGET:
        return _too_complex(Outcome(exhausted=True), [], flags, policy, partition)
    callers: dict[Caller, None] = {}
    for entries in live_entries:
        for entry in entries:
            for caller in witnesses(entry, usernames):
                callers.setdefault(caller)
    values = tuple(dict.fromkeys(v for i in infos for c in i.session_conditions for v in c.values))
    probe = any(
        c.if_exists or c.qualifier is SetQualifier.FOR_ALL_VALUES
        for i in allows
        for c in i.session_conditions
    )
    outcome = run_witnesses(callers, allows, denies, values, variables, probe)
    if outcome.exhausted and not outcome.gaps:
        return _too_complex(outcome, reasons, flags, policy, partition)

    offending: dict[int, list[Reason]] = {}
    for info in allows:
        index = info.statement.index
        if index in outcome.gaps:
            offending[index] = _gap_reasons(info, outcome.gaps[index], denies, variables)
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

    if outcome.exhausted:
        reasons.append(_exhausted_reason(outcome))
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


def _exhausted_reason(outcome: Outcome) -> Reason:
    return Reason(
        Code.TOO_COMPLEX, params=(("work", str(outcome.work)), ("budget", str(WORK_BUDGET)))
    )


def _too_complex(
    outcome: Outcome,
    reasons: list[Reason],
    flags: _Flags,
    policy: TrustPolicy,
    partition: str | None,
) -> Analysis:
    """No gap found before the work bound: nothing shows the rule holds, so not enforced."""
    return flags.verdict(
        TrustStatus.UNPARSEABLE, [_exhausted_reason(outcome), *reasons], (), policy, partition
    )


def _guard_gap_reasons(
    info: StatementInfo,
    denies: list[StatementInfo],
    gaps: list[tuple[Caller, str]],
    variables: bool,
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


def _enforced_reasons(
    allows: list[StatementInfo], denies: list[StatementInfo], outcome: Outcome
) -> list[Reason]:
    result: list[Reason] = []
    by_index = {d.statement.index: d for d in denies}
    entered_by: dict[int, list[Caller]] = {}
    for index, caller in outcome.entered:
        entered_by.setdefault(index, []).append(caller)
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
            good_callers = entered_by.get(index, [])
            result.append(
                Reason(Code.ENFORCED_BY_CONDITION, info.ref, _principals_for(info, good_callers))
            )
    return result


def _role_and_user_reasons(
    live: list[StatementInfo],
    outcome: Outcome,
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
    live: list[StatementInfo],
    denies: list[StatementInfo],
    outcome: Outcome,
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
    ) -> Analysis:
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
        return Analysis(verdict, tuple(self.account_bound))


@dataclass(frozen=True, slots=True)
class Analysis:
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
    infos: list[StatementInfo],
    aws_allows: list[StatementInfo],
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
def analyse_cached(policy: TrustPolicy, partition: str | None) -> Analysis:
    """Estates repeat trust policies, across accounts too; equal models share one analysis."""
    return analyse(policy, partition)
