"""The issuance index: every session key seen issued, the console session groups, the trust
timeline, and the held events (``HoldQueue``) — the resolver's memory across batches and pulls.

Pure data structure: no I/O, no clock. Time is CloudTrail event time (epoch seconds); the
*watermark* is the latest event time the resolver has seen, which decides what has expired.
Its form in CE storage (``storage["index"]``), within a byte budget, is ``index_storage``'s.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .hold_queue import CONSOLE_WAIT, HoldQueue
from .resolution import Origin
from .timeline import TrustTimeline

__all__ = ["CONSOLE_WAIT", "ConsoleSwitch", "IssuanceIndex", "IssuedSession"]


@dataclass(slots=True)
class IssuedSession:
    """One issued key and what issued it (one hop of a chain)."""

    access_key_id: str
    kind: str  # the issuing API: AssumeRole, AssumeRoleWithSAML, GetFederationToken, …
    origin: Origin  # the caller of the issuing API
    parent_key: str | None  # the caller's key when the caller was itself a session
    role_arn: str | None
    session_name: str | None
    account_id: str | None
    region: str | None
    issued_at: float
    expires_at: float
    source_identity: str | None
    assumed_role_id: str | None  # AROA…:session, with issued_at the console group
    shared_event_id: str | None
    caller_copy: bool  # False: learnt from the role account's copy (caller partly unknown)


@dataclass(slots=True)
class ConsoleSwitch:
    """A console role switch: its session group and the identity it switched from."""

    principal_id: str
    created_at: float  # whole seconds, as creationDate is written
    origin: Origin
    role_arn: str | None
    session_name: str | None
    account_id: str | None
    expires_at: float


def same_caller(one: IssuedSession, other: IssuedSession) -> bool:
    """Did one caller issue both? A session caller is known by its key (its ``Origin`` only
    says which kind of session it is)."""
    return one.origin == other.origin and one.parent_key == other.parent_key


class IssuanceIndex:
    """Sessions by key, console groups, held events and the trust timeline."""

    def __init__(self) -> None:
        self.sessions: dict[str, IssuedSession] = {}
        self.console: dict[tuple[str, int], ConsoleSwitch] = {}
        self.timeline = TrustTimeline()
        self.watermark = 0.0
        # Console session groups: AROA…:session → the key issued as it, or, once it was
        # issued at several seconds, issued second → key ("": two callers in one second,
        # ambiguous). Keyed by the session's own string: most names are issued once, and
        # a tuple and a boxed second per session are most of what a group costs.
        self._groups: dict[str, str | dict[int, str]] = {}
        self._shared: dict[str, str] = {}  # sharedEventID → key
        # Keys by the minute they expire in, and a heap of those minutes: a key costs one
        # list slot rather than an (expiry, key) tuple.
        self._expiring: dict[int, list[str]] = {}
        self._minutes: list[int] = []
        self.holds = HoldQueue()  # held events, and the sessions given up on

    # sessions -------------------------------------------------------------------------

    def add(self, session: IssuedSession) -> bool:
        """Record a session; True when new or better (the caller's copy replacing the role
        account's). A known caller copy is never replaced."""
        key = session.access_key_id
        known = self.sessions.get(key)
        if known is not None and (known.caller_copy or not session.caller_copy):
            if known.shared_event_id is None and session.shared_event_id is not None:
                known.shared_event_id = session.shared_event_id
                self._shared[session.shared_event_id] = key
            return False
        self.sessions[key] = session
        parent = self.sessions.get(session.parent_key) if session.parent_key else None
        if parent is not None:  # one string for the parent's key, not one per child too
            session.parent_key = parent.access_key_id
        minute = int(session.expires_at // 60)
        bucket = self._expiring.get(minute)
        if bucket is None:
            self._expiring[minute] = [key]
            heapq.heappush(self._minutes, minute)
        else:
            bucket.append(key)
        if session.shared_event_id is not None:
            self._shared[session.shared_event_id] = key
        if session.assumed_role_id is not None:
            self._group(session.assumed_role_id, session)
        return True

    def _group(self, group: str, session: IssuedSession) -> None:
        key = session.access_key_id
        known = self._groups.get(group)
        if known is None or known == key:
            self._groups[group] = key
            return
        if isinstance(known, str):
            first = self.sessions.get(known)
            if first is None:
                self._groups[group] = key
                return
            known = self._groups[group] = {int(first.issued_at): known}
        second = int(session.issued_at)
        other = known.get(second)
        if other is None or other == key:
            known[second] = key
            return
        other_session = self.sessions.get(other)
        if other_session is None or not same_caller(other_session, session):
            known[second] = ""  # two callers, one group: ambiguous

    def get(self, key: str) -> IssuedSession | None:
        return self.sessions.get(key)

    def key_of_shared_event(self, shared_event_id: str) -> str | None:
        return self._shared.get(shared_event_id)

    def group_session(self, principal_id: str, created_at: float) -> IssuedSession | None:
        """The session issued as ``principal_id`` at ``created_at`` (±1 s), if unambiguous:
        the exact second first, then the one before, then the one after."""
        known = self._groups.get(principal_id)
        if known is None:
            return None
        second = int(created_at)
        if isinstance(known, str):
            session = self.sessions.get(known)
            if session is None or abs(int(session.issued_at) - second) > 1:
                return None
            return session
        key = known.get(second)
        if key is None:
            key = known.get(second - 1) or known.get(second + 1)
        return self.sessions.get(key) if key else None

    def add_console_switch(self, switch: ConsoleSwitch) -> None:
        self.console[(switch.principal_id, int(switch.created_at))] = switch

    def console_switch(self, principal_id: str, created_at: float) -> ConsoleSwitch | None:
        """The role switch that opened the console group ``principal_id`` at ``created_at``."""
        second = int(created_at)
        console = self.console
        return (
            console.get((principal_id, second))
            or console.get((principal_id, second - 1))
            or console.get((principal_id, second + 1))
        )

    def prune(self, before: float) -> list[str]:
        """Drop sessions and console switches that expired before ``before``; the keys dropped."""
        dropped: list[str] = []
        minutes = self._minutes
        # Whole minutes only: a session lives at most a minute past ``before``.
        while minutes and (minutes[0] + 1) * 60 <= before:
            for key in self._expiring.pop(heapq.heappop(minutes)):
                session = self.sessions.get(key)
                # A key stored again (a caller's copy) is also in its newer minute.
                if session is not None and session.expires_at < before:
                    self.forget(session)
                    dropped.append(key)
        for group, switch in list(self.console.items()):
            if switch.expires_at < before:
                del self.console[group]
        self.holds.prune_given_up(before)
        return dropped

    def forget(self, session: IssuedSession) -> None:
        key = session.access_key_id
        del self.sessions[key]
        if session.shared_event_id is not None and self._shared.get(session.shared_event_id) == key:
            del self._shared[session.shared_event_id]
        group = session.assumed_role_id
        if group is not None:
            known = self._groups.get(group)
            if known == key:
                del self._groups[group]
            elif isinstance(known, dict) and known.get(int(session.issued_at)) == key:
                del known[int(session.issued_at)]
                if not known:
                    del self._groups[group]
