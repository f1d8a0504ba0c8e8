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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from .policy import Condition, Statement
from .principals import WITNESS_USER_NAME, Caller, Entry, EntryKind, classify_entry, entries_match
from .verdict import StatementRef
from .wildcard import glob_match

ASSUME_ROLE: Final = "sts:assumerole"
SESSION_NAME: Final = "sts:rolesessionname"
USERNAME: Final = "aws:username"
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

    @property
    def ref(self) -> StatementRef:
        return StatementRef(self.statement.index, self.statement.sid)

    @property
    def wildcard(self) -> bool:
        return self.statement.not_principal or any(
            e.kind is EntryKind.WILDCARD for e in self.entries
        )


def statement_info(statement: Statement, partition: str | None) -> StatementInfo:
    principals = statement.principals
    texts = ("*",) if principals.everyone else principals.aws
    return StatementInfo(
        statement=statement,
        covers=covers_assume_role(statement),
        entries=tuple(classify_entry(text, partition) for text in texts),
        session_conditions=tuple(c for c in statement.conditions if c.key == SESSION_NAME),
    )


def generic_usernames(infos: Iterable[StatementInfo], variables: bool) -> tuple[str, ...]:
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


def base_request(caller: Caller) -> dict[str, str | None]:
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


def session_candidates(
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
class Outcome:
    """What the witness requests showed, per statement index."""

    gaps: dict[int, list[tuple[Caller, str]]] = field(default_factory=dict)
    blocked: dict[int, list[tuple[Caller, str, int]]] = field(default_factory=dict)
    good: set[int] = field(default_factory=set)
    matched: set[int] = field(default_factory=set)
    entered: set[tuple[int, Caller]] = field(default_factory=set)
    probe_gaps: dict[int, list[Caller]] = field(default_factory=dict)


def run_witnesses(
    callers: Iterable[Caller],
    allows: list[StatementInfo],
    denies: list[StatementInfo],
    values: tuple[str, ...],
    variables: bool,
    probe: bool,
) -> Outcome:
    outcome = Outcome()
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
        base = base_request(caller)
        for name in session_candidates(caller, base, values, variables):
            request = {**base, SESSION_NAME: name}
            _decide(outcome, caller, name, request, allow_pm, deny_pm, variables)
        if probe:
            request = {**base, SESSION_NAME: None}
            _probe(outcome, caller, request, allow_pm, deny_pm, variables)
    return outcome


def _granting(
    allow_pm: Sequence[tuple[StatementInfo, TV]], request: Mapping[str, str | None], variables: bool
) -> list[StatementInfo]:
    return [
        info
        for info, pm in allow_pm
        if and3(pm, evaluate_conditions(info.statement.conditions, request, variables)) is not False
    ]


def _blocking(
    deny_pm: list[StatementInfo], request: Mapping[str, str | None], variables: bool
) -> StatementInfo | None:
    for info in deny_pm:
        if evaluate_conditions(info.statement.conditions, request, variables) is True:
            return info
    return None


def _decide(
    outcome: Outcome,
    caller: Caller,
    name: str,
    request: Mapping[str, str | None],
    allow_pm: Sequence[tuple[StatementInfo, TV]],
    deny_pm: list[StatementInfo],
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
    outcome: Outcome,
    caller: Caller,
    request: Mapping[str, str | None],
    allow_pm: Sequence[tuple[StatementInfo, TV]],
    deny_pm: list[StatementInfo],
    variables: bool,
) -> None:
    granting = _granting(allow_pm, request, variables)
    if granting and _blocking(deny_pm, request, variables) is None:
        for info in granting:
            outcome.probe_gaps.setdefault(info.statement.index, []).append(caller)
