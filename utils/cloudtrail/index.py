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


class IssuanceIndex:
    """Sessions by key, console groups, held events and the trust timeline."""

    def __init__(self) -> None:
        self.sessions: dict[str, IssuedSession] = {}
        self.console: dict[tuple[str, int], ConsoleSwitch] = {}
        self.timeline = TrustTimeline()
        self.watermark = 0.0
        self._groups: dict[tuple[str, int], str] = {}  # (AROA…:session, issued second) → key
        self._shared: dict[str, str] = {}  # sharedEventID → key
        self._expiry: list[tuple[float, str]] = []  # heap of (expires_at, key)
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
        heapq.heappush(self._expiry, (session.expires_at, key))
        if session.shared_event_id is not None:
            self._shared[session.shared_event_id] = key
        if session.assumed_role_id is not None:
            group = (session.assumed_role_id, int(session.issued_at))
            other = self._groups.get(group)
            if other is None or other == key:
                self._groups[group] = key
            else:
                known_other = self.sessions.get(other)
                if known_other is None or known_other.origin != session.origin:
                    self._groups[group] = ""  # two callers, one group: ambiguous
        return True

    def get(self, key: str) -> IssuedSession | None:
        return self.sessions.get(key)

    def key_of_shared_event(self, shared_event_id: str) -> str | None:
        return self._shared.get(shared_event_id)

    def group_session(self, principal_id: str, created_at: float) -> IssuedSession | None:
        """The session issued as ``principal_id`` at ``created_at`` (±1 s), if unambiguous."""
        second = int(created_at)
        groups = self._groups
        key = groups.get((principal_id, second))
        if key is None:
            key = groups.get((principal_id, second - 1)) or groups.get((principal_id, second + 1))
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
        expiry = self._expiry
        while expiry and expiry[0][0] < before:
            expires_at, key = heapq.heappop(expiry)
            session = self.sessions.get(key)
            if session is not None and session.expires_at == expires_at:
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
        if session.assumed_role_id is not None:
            group = (session.assumed_role_id, int(session.issued_at))
            if self._groups.get(group) == key:
                del self._groups[group]
