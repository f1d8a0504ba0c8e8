"""Witness requests: the callers and session names tried, and what IAM does with each.

For every AWS principal an Allow trusts, ``principals.witnesses`` gives the callers it stands
for. Each caller tries the session names worth trying (its own user name, every session-name
value of the policy resolved for it with wildcards filled, case variants, an unrelated name)
and each request is decided as IAM decides it: it gets in when some Allow may apply
(principal, action, every AND-ed condition true or unknown) and no Deny certainly applies.
``Outcome`` records, per statement, which requests got in, which a Deny blocked, and which
callers entered; ``analysis`` turns that into a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .conditions import (
    FRESH,
    TV,
    UNKNOWN,
    UNRESOLVABLE,
    Fresh,
    Request,
    Variable,
    Wildcard,
    and3,
    evaluate_conditions,
    resolve,
    template,
)
from .policy import Condition, Statement
from .principals import (
    WITNESS_USER_NAME,
    Caller,
    Entry,
    EntryIndex,
    EntryKind,
    classify_entry,
    has_unknown_arn,
)
from .verdict import StatementRef
from .wildcard import compile_tokens, glob_match

ASSUME_ROLE: Final = "sts:assumerole"
SESSION_NAME: Final = "sts:rolesessionname"
USERNAME: Final = "aws:username"
PRINCIPAL_ARN: Final = "aws:principalarn"
PRINCIPAL_ACCOUNT: Final = "aws:principalaccount"
_SESSION_NAME_SYNTAX: Final = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_USER_NAME_SYNTAX: Final = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_FILLERS: Final = ("", "x", "-zz")
_UNRELATED_NAME: Final = "other-session"


def covers_assume_role(statement: Statement) -> bool:
    """Whether the statement's Action/NotAction includes ``sts:AssumeRole``.

    Actions are case-folded by the parser; IAM action wildcards are ``*`` and ``?`` only.
    """
    hit = any(glob_match(action, ASSUME_ROLE) for action in statement.actions)
    return hit != statement.not_action


@dataclass(slots=True)
class StatementInfo:
    """What the analysis needs about one statement, computed once."""

    statement: Statement
    covers: bool
    entries: tuple[Entry, ...]
    session_conditions: tuple[Condition, ...]
    index: EntryIndex
    #: What deciding one request against the statement costs, in work units.
    weight: int
    ref: StatementRef
    #: The values of its session-name conditions, deduplicated, in document order.
    session_values: tuple[str, ...]

    def principal_match(self, caller: Caller) -> TV:
        """Whether the statement's Principal/NotPrincipal covers ``caller``."""
        return self.index.match(caller, negated=self.statement.not_principal)

    @property
    def wildcard(self) -> bool:
        return self.statement.not_principal or any(
            e.kind is EntryKind.WILDCARD for e in self.entries
        )


def statement_info(statement: Statement, partition: str | None) -> StatementInfo:
    principals = statement.principals
    texts = ("*",) if principals.everyone else principals.aws
    entries = tuple(classify_entry(text, partition) for text in texts)
    session_conditions = tuple(c for c in statement.conditions if c.key == SESSION_NAME)
    return StatementInfo(
        statement=statement,
        covers=covers_assume_role(statement),
        entries=entries,
        session_conditions=session_conditions,
        index=EntryIndex(entries),
        weight=1 + sum(len(condition.values) for condition in statement.conditions),
        ref=StatementRef(statement.index, statement.sid),
        session_values=tuple(dict.fromkeys(v for c in session_conditions for v in c.values)),
    )


#: Names tried for the generic IAM user, first one the policy does not single out wins.
_WITNESS_NAMES: Final = (WITNESS_USER_NAME, "jdoe-w", "qz.witness", "w0-9+user", "x=y,z")


def generic_usernames(infos: Iterable[StatementInfo], variables: bool) -> tuple[str, ...]:
    """The representative user name plus every user name the policy tests literally.

    The representative stands for "any other user", so its name must be one no
    ``aws:username`` value of the policy matches (a fixed, public witness name could be
    singled out by a policy written to evade the evaluator).
    """
    names: list[str] = []
    patterns: list[Any] = []
    for info in infos:
        for condition in info.statement.conditions:
            if condition.key != USERNAME:
                continue
            for raw in condition.values:
                parts = template(raw, variables)
                if not any(isinstance(p, Variable) for p in parts):
                    patterns.append(compile_tokens(tuple(parts), True))
                for filler in _FILLERS[:2]:
                    name = _fill(parts, filler)
                    if name is not None and _USER_NAME_SYNTAX.fullmatch(name):
                        names.append(name)
    representative = next(
        (n for n in _WITNESS_NAMES if not any(match(n.lower()) for match in patterns)),
        WITNESS_USER_NAME,
    )
    return tuple(dict.fromkeys([representative, *names]))


def _fill(parts: tuple[Any, ...], filler: str) -> str | None:
    if any(isinstance(p, Variable) for p in parts):
        return None
    return "".join(p if isinstance(p, str) else filler for p in parts)


def base_request(caller: Caller) -> dict[str, str | Fresh | None]:
    """The caller's request context. A generic caller (an account or ``*`` entry) stands for
    every principal of its kind that the policy does not name: its ARN (and, for ``*``, its
    account) is unknown but ``FRESH``, different from every literal the policy names, because
    each literal principal gets a witness of its own (``literal_principals``)."""
    request: dict[str, str | Fresh | None] = {
        "aws:principaltype": caller.kind.value,
        "aws:principalisawsservice": "false",
        USERNAME: caller.username if caller.has_username else None,
    }
    if caller.account is not None:
        request[PRINCIPAL_ACCOUNT] = caller.account
    elif caller.generic:
        request[PRINCIPAL_ACCOUNT] = FRESH
    if caller.principal_arn is not None:
        request[PRINCIPAL_ARN] = caller.principal_arn
    elif caller.generic:
        request[PRINCIPAL_ARN] = FRESH
    return request


def literal_principals(
    infos: Iterable[StatementInfo], partition: str | None, variables: bool
) -> list[Entry]:
    """Principals the policy's conditions name literally (``aws:PrincipalArn`` ARNs,
    ``aws:PrincipalAccount`` ids), as entries whose witnesses stand for exactly them."""
    found: dict[str, Entry] = {}
    for info in infos:
        for condition in info.statement.conditions:
            if condition.key not in (PRINCIPAL_ARN, PRINCIPAL_ACCOUNT):
                continue
            for raw in condition.values:
                parts = template(raw, variables)
                if len(parts) != 1 or not isinstance(parts[0], str) or raw in found:
                    continue
                entry = classify_entry(raw, partition)
                if entry.kind in (EntryKind.USER, EntryKind.ROLE, EntryKind.ACCOUNT):
                    found[raw] = entry
    return list(found.values())


def session_candidates(
    caller: Caller, request: Request, values: tuple[str, ...], variables: bool
) -> list[str]:
    """Session names worth trying for ``caller``: everything the policy's values can match."""
    # The cheap, telling names first: the caller's own, an unrelated one and near misses of
    # the own name settle most policies before the names drawn from every policy value.
    names: list[str] = []
    own = caller.username
    if own is not None:
        names.extend((own, _UNRELATED_NAME, own.swapcase(), own + "x", "x" + own))
    else:
        names.append(_UNRELATED_NAME)
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
    return [n for n in dict.fromkeys(names) if _SESSION_NAME_SYNTAX.fullmatch(n)]


#: Work units (statements evaluated per witness request, each weighted by its condition
#: values) one policy may cost. Far above any policy seen in practice (the largest
#: realistic ones cost a few thousand); it bounds what a hostile document within IAM's size
#: limit can make the evaluator do, so no policy stalls a scan.
WORK_BUDGET: Final = 40_000


@dataclass(slots=True)
class Outcome:
    """What the witness requests showed, per statement index.

    Only the first gap and the first blocked request of each (statement, caller) are kept:
    the verdict and its reasons need no more, and keeping every one made the work grow with
    callers × names × statements.
    """

    gaps: dict[int, list[tuple[Caller, str]]] = field(default_factory=dict)
    blocked: dict[int, list[tuple[Caller, str, int]]] = field(default_factory=dict)
    good: set[int] = field(default_factory=set)
    matched: set[int] = field(default_factory=set)
    entered: set[tuple[int, Caller]] = field(default_factory=set)
    probe_gaps: dict[int, list[Caller]] = field(default_factory=dict)
    #: True when the work budget ran out before every witness request was decided.
    exhausted: bool = False
    work: int = 0
    _gap_seen: set[tuple[int, Caller]] = field(default_factory=set)
    _blocked_seen: set[tuple[int, Caller]] = field(default_factory=set)


class PrincipalIndex:
    """Statements by the accounts and ARNs their principals name, so each caller is matched
    against the statements that can cover it, not against every statement: a policy with
    one statement per trusted user or account costs linear, not quadratic, time."""

    __slots__ = ("_by_account", "_by_arn", "_everyone", "_infos", "_small", "_specific")

    #: Up to this many statements a plain scan is cheaper than the index.
    SMALL: Final = 8

    def __init__(self, infos: list[StatementInfo]) -> None:
        self._infos = infos
        self._small = len(infos) <= self.SMALL
        self._everyone: list[int] = []
        self._by_account: dict[str, list[int]] = {}
        self._by_arn: dict[str, list[int]] = {}
        self._specific: dict[str, list[int]] = {}
        for position, info in enumerate(() if self._small else infos):
            if info.statement.not_principal:
                self._everyone.append(position)
                continue
            for entry in info.entries:
                if entry.kind is EntryKind.WILDCARD:
                    self._everyone.append(position)
                elif entry.kind is EntryKind.ACCOUNT and entry.account is not None:
                    self._by_account.setdefault(entry.account, []).append(position)
                elif entry.kind is not EntryKind.DEAD and entry.account is not None:
                    self._by_arn.setdefault(entry.text, []).append(position)
                    self._specific.setdefault(entry.account, []).append(position)

    def candidates(self, caller: Caller) -> list[StatementInfo]:
        """The statements whose principal may cover ``caller``, in document order."""
        if self._small or caller.account is None:
            return self._infos
        account = caller.account
        positions = set(self._everyone)
        positions.update(self._by_account.get(account, ()))
        arns = (caller.user_arn, caller.role_arn, caller.session_arn)
        for arn in arns:
            if arn is not None:
                positions.update(self._by_arn.get(arn, ()))
        if has_unknown_arn(caller):
            positions.update(self._specific.get(account, ()))
        return [self._infos[position] for position in sorted(positions)]


def _session_values(infos: Iterable[StatementInfo]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for i in infos for v in i.session_values))


def run_witnesses(
    callers: Iterable[Caller],
    allows: list[StatementInfo],
    denies: list[StatementInfo],
    values: tuple[str, ...],
    variables: bool,
    probe: bool,
    budget: int = WORK_BUDGET,
) -> Outcome:
    """Decide the witness requests of every caller, statement by statement.

    For each Allow that may cover the caller, the names tried are the cheap telling ones and
    those drawn from its own session-name values and from the Denies that cover the caller
    (``values`` of other statements cannot change what this statement admits). A statement
    stops being tried for a caller once it admits a bad name. The work is bounded by
    ``budget`` (``Outcome.exhausted``).
    """
    del values  # names are drawn per statement (kept for callers of the old signature)
    outcome = Outcome()
    allow_index, deny_index = PrincipalIndex(allows), PrincipalIndex(denies)
    for caller in callers:
        allow_pm = [
            (info, pm)
            for info in allow_index.candidates(caller)
            if (pm := info.principal_match(caller)) is not False
        ]
        if not allow_pm:
            continue
        deny_pm = (
            [d for d in deny_index.candidates(caller) if d.principal_match(caller) is True]
            if denies
            else []
        )
        deny_values = _session_values(deny_pm) if deny_pm else ()
        base = base_request(caller)
        blocking: dict[str, StatementInfo | None] = {}
        for info, pm in allow_pm:
            values = info.session_values
            if deny_values:
                values = tuple(dict.fromkeys((*values, *deny_values)))
            names = session_candidates(caller, base, values, variables)
            cost = info.weight
            for name in names:
                outcome.work += cost
                if outcome.work > budget:
                    outcome.exhausted = True
                    return outcome
                request = {**base, SESSION_NAME: name}
                granted = and3(
                    pm, evaluate_conditions(info.statement.conditions, request, variables)
                )
                if granted is False:
                    continue
                if name not in blocking:
                    blocking[name] = _blocking(deny_pm, request, variables, outcome)
                if _record(outcome, caller, name, info, blocking[name]):
                    break  # the statement admits this caller under a name not its own
        if probe:
            request = {**base, SESSION_NAME: None}
            _probe(outcome, caller, request, allow_pm, deny_pm, variables)
    return outcome


def _record(
    outcome: Outcome, caller: Caller, name: str, info: StatementInfo, deny: StatementInfo | None
) -> bool:
    """Record one granted request; True when it is a gap (a bad name got in)."""
    index = info.statement.index
    outcome.matched.add(index)
    key = (index, caller)
    good = caller.username is not None and name == caller.username
    if deny is not None:
        if not good and key not in outcome._blocked_seen:
            outcome._blocked_seen.add(key)
            outcome.blocked.setdefault(index, []).append((caller, name, deny.statement.index))
        return False
    outcome.entered.add(key)
    if good:
        outcome.good.add(index)
        return False
    if key not in outcome._gap_seen:
        outcome._gap_seen.add(key)
        outcome.gaps.setdefault(index, []).append((caller, name))
    return True


def _granting(
    allow_pm: Sequence[tuple[StatementInfo, TV]], request: Request, variables: bool
) -> list[StatementInfo]:
    return [
        info
        for info, pm in allow_pm
        if and3(pm, evaluate_conditions(info.statement.conditions, request, variables)) is not False
    ]


def _blocking(
    deny_pm: list[StatementInfo],
    request: Request,
    variables: bool,
    outcome: Outcome | None = None,
) -> StatementInfo | None:
    """The first Deny that certainly applies; its evaluation is charged to ``outcome``."""
    for info in deny_pm:
        if outcome is not None:
            outcome.work += info.weight
        if evaluate_conditions(info.statement.conditions, request, variables) is True:
            return info
    return None


def _probe(
    outcome: Outcome,
    caller: Caller,
    request: Request,
    allow_pm: Sequence[tuple[StatementInfo, TV]],
    deny_pm: list[StatementInfo],
    variables: bool,
) -> None:
    granting = _granting(allow_pm, request, variables)
    if granting and _blocking(deny_pm, request, variables) is None:
        for info in granting:
            outcome.probe_gaps.setdefault(info.statement.index, []).append(caller)
