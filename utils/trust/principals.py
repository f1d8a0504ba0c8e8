"""Principal entries of a trust policy, and the concrete callers that stand for them.

The evaluator decides a policy the way IAM decides a request, so it needs requests: for every
AWS principal entry an Allow statement trusts, this module builds "witness" callers, the
distinct kinds of principal that entry lets in. An account entry (``"111122223333"`` or
``arn:aws:iam::111122223333:root``, which IAM treats alike) delegates to the whole account, so
it stands for an IAM user, a role session and the root user of that account; ``"*"`` stands
for the same three in any account. Facts a witness cannot know (which user of the account,
which ARN) are left unknown, and conditions on them evaluate to "unknown", so the adversary
is never assumed away.

Entries that can never match a caller are classified with the reason: unique ids of deleted
principals (``AIDA…``/``AROA…``), principals of another partition, federated-user sessions
(GetFederationToken credentials cannot call AssumeRole) and malformed entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from .conditions import TV, and3, not3, or3

_ACCOUNT_ID: Final = re.compile(r"\d{12}")
_UNIQUE_ID: Final = re.compile(r"A[A-Z]{3}[A-Z0-9]{12,}")
_ARN: Final = re.compile(r"arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)", re.DOTALL)

#: The user name generic IAM-user witnesses carry (a valid, mixed-case-capable name).
WITNESS_USER_NAME: Final = "jdoe"


class CallerType(StrEnum):
    """Values of ``aws:PrincipalType`` for the callers that can call sts:AssumeRole."""

    USER = "User"
    ROOT = "Account"
    ROLE_SESSION = "AssumedRole"


class EntryKind(StrEnum):
    WILDCARD = "wildcard"
    ACCOUNT = "account"
    USER = "user"
    ROLE = "role"
    ASSUMED_ROLE = "assumed-role"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Entry:
    """An AWS principal entry, classified. ``why`` explains a ``DEAD`` entry."""

    text: str
    kind: EntryKind
    partition: str | None = None
    account: str | None = None
    name: str | None = None
    why: str = ""


@dataclass(frozen=True, slots=True)
class Caller:
    """A witness request principal. ``None`` fields are unknown (any value possible)."""

    kind: CallerType
    partition: str | None
    account: str | None
    principal_arn: str | None
    username: str | None
    role_arn: str | None = None
    session_arn: str | None = None
    user_arn: str | None = None
    #: True when the caller stands for any principal of its kind (account or "*" entries).
    generic: bool = False

    @property
    def has_username(self) -> bool:
        return self.kind is CallerType.USER


@lru_cache(maxsize=4096)
def classify_entry(text: str, role_partition: str | None) -> Entry:
    """What an ``AWS`` principal entry denotes, for a role in ``role_partition``."""
    if text == "*":
        return Entry(text, EntryKind.WILDCARD)
    if _ACCOUNT_ID.fullmatch(text):
        return Entry(text, EntryKind.ACCOUNT, role_partition, text)
    if _UNIQUE_ID.fullmatch(text):
        return Entry(
            text,
            EntryKind.DEAD,
            why="a unique id is how IAM shows a deleted principal; a new principal with the "
            "same name does not match it",
        )
    match = _ARN.fullmatch(text)
    if match is None:
        return Entry(text, EntryKind.DEAD, why='not an account id, ARN or "*"')
    partition, service, account, resource = match.groups()
    if role_partition is not None and partition != role_partition:
        return Entry(
            text,
            EntryKind.DEAD,
            partition,
            account,
            why=f"it is in partition {partition!r} and the role in {role_partition!r}; "
            "partitions do not trust each other",
        )
    if resource.endswith("/"):
        return Entry(text, EntryKind.DEAD, partition, account, why="the ARN has no name")
    if service == "iam" and resource == "root":
        return Entry(text, EntryKind.ACCOUNT, partition, account)
    if service == "iam" and resource.startswith("user/"):
        return Entry(text, EntryKind.USER, partition, account, resource.rsplit("/", 1)[1])
    if service == "iam" and resource.startswith("role/"):
        return Entry(text, EntryKind.ROLE, partition, account, resource.rsplit("/", 1)[1])
    if service == "sts" and resource.startswith("assumed-role/") and resource.count("/") == 2:
        return Entry(text, EntryKind.ASSUMED_ROLE, partition, account, resource.split("/")[1])
    if service == "sts" and resource.startswith("federated-user/"):
        return Entry(
            text,
            EntryKind.DEAD,
            partition,
            account,
            why="federated-user sessions (GetFederationToken) cannot call sts:AssumeRole",
        )
    return Entry(text, EntryKind.DEAD, partition, account, why="not a principal IAM accepts")


def witnesses(entry: Entry, usernames: tuple[str, ...]) -> tuple[Caller, ...]:
    """The callers ``entry`` lets in; generic users carry each of ``usernames``."""
    kind = entry.kind
    if kind is EntryKind.USER:
        return (
            Caller(
                CallerType.USER,
                entry.partition,
                entry.account,
                principal_arn=entry.text,
                username=entry.name,
                user_arn=entry.text,
            ),
        )
    if kind is EntryKind.ROLE:
        return (
            Caller(
                CallerType.ROLE_SESSION,
                entry.partition,
                entry.account,
                principal_arn=entry.text,
                username=None,
                role_arn=entry.text,
            ),
        )
    if kind is EntryKind.ASSUMED_ROLE:
        return (
            Caller(
                CallerType.ROLE_SESSION,
                entry.partition,
                entry.account,
                principal_arn=None,
                username=None,
                session_arn=entry.text,
            ),
        )
    if kind is EntryKind.DEAD:
        return ()
    partition, account = entry.partition, entry.account
    root_arn = f"arn:{partition}:iam::{account}:root" if partition and account else None
    users = tuple(
        Caller(CallerType.USER, partition, account, None, name, generic=True) for name in usernames
    )
    return (
        *users,
        Caller(CallerType.ROLE_SESSION, partition, account, None, None, generic=True),
        Caller(CallerType.ROOT, partition, account, root_arn, None, generic=True),
    )


def _same(known: str | None, wanted: str | None) -> TV:
    """Whether a caller attribute equals ``wanted``; unknown when the caller's is unknown."""
    if known is None:
        return None
    return known == wanted


def entry_matches(entry: Entry, caller: Caller) -> TV:
    """Whether the principal ``entry`` covers ``caller`` (three-valued)."""
    kind = entry.kind
    if kind is EntryKind.WILDCARD:
        return True
    if kind is EntryKind.DEAD:
        return False
    in_account = and3(
        _same(caller.account, entry.account),
        True if entry.partition is None else _same(caller.partition, entry.partition),
    )
    if kind is EntryKind.ACCOUNT:
        return in_account
    if in_account is False:
        return False
    if kind is EntryKind.USER:
        if caller.kind is not CallerType.USER:
            return False
        return _same(caller.user_arn, entry.text)
    if caller.kind is not CallerType.ROLE_SESSION:
        return False
    if kind is EntryKind.ROLE:
        return _same(caller.role_arn, entry.text)
    return _same(caller.session_arn, entry.text)


def entries_match(entries: tuple[Entry, ...], caller: Caller, *, negated: bool) -> TV:
    """``Principal`` (any entry covers) or ``NotPrincipal`` (no entry covers)."""
    matched = or3(*(entry_matches(entry, caller) for entry in entries))
    return not3(matched) if negated else matched


def has_unknown_arn(caller: Caller) -> bool:
    """Whether an ARN that principal entries of the caller's kind compare with is unknown."""
    if caller.kind is CallerType.USER:
        return caller.user_arn is None
    if caller.kind is CallerType.ROLE_SESSION:
        return caller.role_arn is None or caller.session_arn is None
    return False


class EntryIndex:
    """A statement's entries grouped by account and ARN, so matching a caller costs the
    entries that can cover it, not all of them (policies list hundreds of principals)."""

    __slots__ = ("_accounts", "_all", "_any_account", "_exact", "_small", "_specific")

    #: Up to this many entries a plain scan is cheaper than the index.
    SMALL: Final = 8

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self._all = entries
        self._small = len(entries) <= self.SMALL
        if self._small:
            return
        self._any_account = tuple(e for e in entries if e.kind is EntryKind.WILDCARD)
        accounts: dict[str, list[Entry]] = {}
        specific: dict[str, list[Entry]] = {}
        exact: dict[str, list[Entry]] = {}
        for entry in entries:
            if entry.kind is EntryKind.DEAD or entry.account is None:
                continue
            if entry.kind is EntryKind.ACCOUNT:
                accounts.setdefault(entry.account, []).append(entry)
            else:
                specific.setdefault(entry.account, []).append(entry)
                exact.setdefault(entry.text, []).append(entry)
        self._accounts = {k: tuple(v) for k, v in accounts.items()}
        self._specific = {k: tuple(v) for k, v in specific.items()}
        self._exact = {k: tuple(v) for k, v in exact.items()}

    def match(self, caller: Caller, *, negated: bool) -> TV:
        """``entries_match`` for these entries, skipping those that cannot cover the caller
        (other accounts; other users' and roles' ARNs when the caller's ARN is known)."""
        account = caller.account
        if self._small or account is None:
            return entries_match(self._all, caller, negated=negated)
        candidates = [*self._any_account, *self._accounts.get(account, ())]
        if has_unknown_arn(caller):
            candidates.extend(self._specific.get(account, ()))
        else:
            for arn in (caller.user_arn, caller.role_arn, caller.session_arn):
                if arn is not None:
                    candidates.extend(self._exact.get(arn, ()))
        return entries_match(tuple(candidates), caller, negated=negated)
