"""The issuance index: every session key seen issued, the events waiting for one, the trust
timeline — and its form in CE storage (``storage["index"]``), kept within a byte budget.

Pure data structure: no I/O, no clock. Time is CloudTrail event time (epoch seconds); the
*watermark* is the latest event time the resolver has seen, which decides what has expired.

Stored form (JSON-able, compact lists rather than objects because the budget is bytes)::

    {"v": 1, "watermark": 1688990087,
     "sessions": [[key, kind, origin..., parent_key, role_arn, session_name, account, region,
                   issued_at, expires_at, source_identity, assumed_role_id, shared_event_id,
                   caller_copy], ...],
     "console": [[principal_id, created_at, origin..., role_arn, session_name, account,
                  expires_at], ...],
     "held": [[[awaited, ...], deadline, [event, ...]], ...],
     "given_up": [[awaited, session key, deadline], ...],
     "given_up_checks": [[session key, [AssumeRole event, ...]], ...],
     "timeline": {"<account>/<role name>": [[at, enforces], ...]}}

Within the budget (default 8 MB serialized) sessions expired longer ago than the retention go
first (trust-policy changes superseded more than a week ago, too: an event read hours
behind the watermark must still find the change that governed its session's creation); then
held events beyond a quarter of the budget (handed back to the resolver, which
reports them unresolved rather than losing them); then live sessions, oldest issued first;
then the oldest roles' timelines. Every drop is counted in the ``SaveReport``.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .events import TrailEvent, to_dict
from .resolution import Origin
from .stdlib_model import RecordError, event_from_mapping
from .timeline import TrustTimeline

STORAGE_VERSION: Final = 1
DEFAULT_BUDGET_BYTES: Final = 8 * 1024 * 1024
HELD_SHARE: Final = 0.25  # of the budget, at most, for held events
MAX_GIVEN_UP: Final = 5000  # sessions given up on, remembered for a late issuance
MAX_GIVEN_UP_CHECKS: Final = 1000  # AssumeRole events of those, to judge when attributed
CONSOLE_WAIT: Final = "console:"  # prefix of the keys console requests wait for
_SEPARATORS: Final = (",", ":")


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


@dataclass(slots=True)
class HeldGroup:
    """Events of one session waiting for any of ``awaited``: the issuance of a key, the
    caller's copy of a shared event, or a console session group. ``deadline`` (event time)
    is the earliest of its events' own deadlines.

    A session's events are released together (one re-resolution serves them all); at a
    deadline only the events whose own deadline passed are given up (the resolver splits
    the group), the others wait on as a group of their own.
    """

    awaited: tuple[str, ...]
    deadline: float
    head: TrailEvent  # the first event, as it came
    rest: list[Any] = field(default_factory=list)  # the others, packed (``events_of``)
    held: bool = False  # in the index now
    number: int = -1  # its number in the index while held

    def __len__(self) -> int:
        return 1 + len(self.rest)


@dataclass(slots=True)
class SaveReport:
    bytes: int = 0
    sessions: int = 0
    held: int = 0
    expired_dropped: int = 0
    live_evicted: int = 0
    timeline_dropped: int = 0
    console_dropped: int = 0
    given_up_dropped: int = 0  # given-up sessions not saved for want of room
    held_overflow: list[HeldGroup] = field(default_factory=list)


@dataclass(slots=True)
class LoadReport:
    sessions: int = 0
    held: int = 0
    skipped: int = 0  # malformed entries ignored
    reset: bool = False  # the stored index was unusable (other version, not an object)


class IssuanceIndex:
    """Sessions by key, console groups, held events and the trust timeline."""

    def __init__(
        self,
        pack: Callable[[TrailEvent], Any] | None = None,
        unpack: Callable[[Any], TrailEvent] | None = None,
    ) -> None:
        # How held events beyond a group's first are kept (see FastDecoders.pack): as they
        # are, by default.
        self.pack: Callable[[TrailEvent], Any] = pack or _same
        self.unpack: Callable[[Any], TrailEvent] = unpack or _same
        self.sessions: dict[str, IssuedSession] = {}
        self.console: dict[tuple[str, int], ConsoleSwitch] = {}
        self.timeline = TrustTimeline()
        self.watermark = 0.0
        self._groups: dict[tuple[str, int], str] = {}  # (AROA…:session, issued second) → key
        self._shared: dict[str, str] = {}  # sharedEventID → key
        self._expiry: list[tuple[float, str]] = []  # heap of (expires_at, key)
        self._held: dict[int, HeldGroup] = {}  # insertion order = age
        self._held_events = 0
        self._deadlines: list[tuple[float, int]] = []  # heap of (deadline, held number)
        self._waiting: dict[str, set[int]] = {}
        self.console_waits = 0  # held groups waiting for a console session group
        self._next_held = 0
        # Sessions whose held events were given up (emitted unresolved), by what they
        # waited for: when that arrives after all (a trail file later than the hold), the
        # resolver attributes them late. Insertion order = age; bounded by MAX_GIVEN_UP
        # and by the retention, like expired sessions.
        self.given_up: dict[str, dict[str, float]] = {}
        self._given_up_count = 0
        # The AssumeRole events among a given-up session's (signed by it: their caller was
        # unknown), by session key, to be judged when the session is attributed late.
        self.given_up_checks: dict[str, list[TrailEvent]] = {}
        self._checks_count = 0

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

    def give_up(
        self, awaited: str, key: str, deadline: float, checks: list[TrailEvent] | None = None
    ) -> None:
        """Remember that session ``key``'s held events were given up waiting for ``awaited``
        (and its AssumeRole events ``checks``, to judge when it is attributed)."""
        waiting = self.given_up.setdefault(awaited, {})
        if key not in waiting:
            self._given_up_count += 1
        waiting[key] = deadline
        while self._given_up_count > MAX_GIVEN_UP and self.given_up:
            oldest = next(iter(self.given_up))
            self._forget_given_up(self.given_up.pop(oldest))
        if checks:
            self.given_up_checks.setdefault(key, []).extend(checks)
            self._checks_count += len(checks)
            while self._checks_count > MAX_GIVEN_UP_CHECKS and self.given_up_checks:
                oldest = next(iter(self.given_up_checks))
                self._checks_count -= len(self.given_up_checks.pop(oldest))

    def take_checks(self, key: str) -> list[TrailEvent]:
        """The AssumeRole events kept for given-up session ``key``, forgotten now."""
        events = self.given_up_checks.pop(key, [])
        self._checks_count -= len(events)
        return events

    def _forget_given_up(self, waiting: dict[str, float]) -> None:
        self._given_up_count -= len(waiting)
        for key in waiting:
            self.take_checks(key)

    def take_given_up(self, arrived: set[str]) -> list[tuple[str, float]]:
        """The sessions given up on while waiting for any of ``arrived``, forgotten now."""
        found: list[tuple[str, float]] = []
        if not self.given_up:  # the common case: nothing was given up
            return found
        for awaited in sorted(arrived.intersection(self.given_up)):
            waiting = self.given_up.pop(awaited, None)
            if waiting:
                self._given_up_count -= len(waiting)
                found.extend(waiting.items())
        return found

    def _prune_given_up(self, before: float) -> None:
        """Forget the oldest given-up sessions whose deadlines are all before ``before``.

        Called for every batch, so it stops at the first entry still in time (entries are
        given up roughly in deadline order; one that is not only lingers until MAX_GIVEN_UP
        pushes it out)."""
        given_up = self.given_up
        while given_up:
            awaited = next(iter(given_up))
            waiting = given_up[awaited]
            if max(waiting.values(), default=0.0) >= before:
                break
            del given_up[awaited]
            self._forget_given_up(waiting)

    def prune(self, before: float) -> list[str]:
        """Drop sessions and console switches that expired before ``before``; the keys dropped."""
        dropped: list[str] = []
        expiry = self._expiry
        while expiry and expiry[0][0] < before:
            expires_at, key = heapq.heappop(expiry)
            session = self.sessions.get(key)
            if session is not None and session.expires_at == expires_at:
                self._forget(session)
                dropped.append(key)
        for group, switch in list(self.console.items()):
            if switch.expires_at < before:
                del self.console[group]
        self._prune_given_up(before)
        return dropped

    def _forget(self, session: IssuedSession) -> None:
        key = session.access_key_id
        del self.sessions[key]
        if session.shared_event_id is not None and self._shared.get(session.shared_event_id) == key:
            del self._shared[session.shared_event_id]
        if session.assumed_role_id is not None:
            group = (session.assumed_role_id, int(session.issued_at))
            if self._groups.get(group) == key:
                del self._groups[group]

    # held events ------------------------------------------------------------------------

    @property
    def held_count(self) -> int:
        """Events held (in all groups)."""
        return self._held_events

    def hold(self, group: HeldGroup) -> None:
        number = self._next_held
        self._next_held += 1
        self._held[number] = group
        group.held = True
        group.number = number
        self._held_events += len(group)
        heapq.heappush(self._deadlines, (group.deadline, number))
        for key in group.awaited:
            self._waiting.setdefault(key, set()).add(number)
            if key.startswith(CONSOLE_WAIT):
                self.console_waits += 1

    def add_to(self, group: HeldGroup, event: TrailEvent, deadline: float | None = None) -> None:
        """Hold one more event of a session already held (``group`` must be held); its own
        ``deadline``, when earlier than the group's, becomes the group's."""
        group.rest.append(self.pack(event))
        self._held_events += 1
        if deadline is not None and deadline < group.deadline:
            group.deadline = deadline
            heapq.heappush(self._deadlines, (deadline, group.number))

    def events_of(self, group: HeldGroup) -> list[TrailEvent]:
        """The events of a held group, oldest first."""
        return [group.head, *map(self.unpack, group.rest)]

    def held_event_ids(self) -> list[str]:
        """The event ids of every held event (oldest group first)."""
        return [event.eventID for group in self._held.values() for event in self.events_of(group)]

    @property
    def next_number(self) -> int:
        """The number the next group held will get (numbers only grow)."""
        return self._next_held

    def release_all(self, keys: set[str], held_before: int | None = None) -> list[HeldGroup]:
        """The groups waiting for any of ``keys``, oldest first, no longer held; with
        ``held_before``, only the groups held before that number (a group held after ``keys``
        arrived was resolved knowing them, and stays held).

        The order depends only on when the groups were held, never on the iteration order
        of ``keys``, so a pull resolves and emits the same way under any hash seed.
        """
        numbers: set[int] = set()
        waiting = self._waiting
        for key in keys:
            found = waiting.get(key)
            if found:
                numbers.update(found)
        if held_before is not None:
            numbers = {number for number in numbers if number < held_before}
        return [self._unhold(number) for number in sorted(numbers)]

    def expire(self, deadline: float) -> list[HeldGroup]:
        """The groups whose deadline is at or before ``deadline``, no longer held."""
        due: list[HeldGroup] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= deadline:
            at, number = heapq.heappop(deadlines)
            group = self._held.get(number)
            if group is not None and group.deadline == at:  # else a superseded entry
                due.append(self._unhold(number))
        return due

    def evict_oldest(self, events: int) -> list[HeldGroup]:
        """The oldest groups holding at least ``events`` events together, no longer held."""
        evicted: list[HeldGroup] = []
        count = 0
        for number in list(self._held):
            if count >= events:
                break
            group = self._unhold(number)
            evicted.append(group)
            count += len(group)
        return evicted

    def _unhold(self, number: int) -> HeldGroup:
        group = self._held.pop(number)
        group.held = False
        self._held_events -= len(group)
        for key in group.awaited:
            if key.startswith(CONSOLE_WAIT):
                self.console_waits -= 1
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.discard(number)
                if not waiting:
                    del self._waiting[key]
        return group

    # storage ---------------------------------------------------------------------------

    def to_storage(
        self,
        *,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        retention_seconds: float = 7200.0,
        timeline_retention_seconds: float = 7 * 86400.0,
    ) -> tuple[dict[str, Any], SaveReport]:
        """The index as stored, within ``budget_bytes`` serialized (see module docstring).
        Sessions are kept ``retention_seconds`` past their expiry; trust-policy changes
        ``timeline_retention_seconds`` past being superseded.

        Held events that do not fit are removed and returned in ``SaveReport.held_overflow``.
        """
        report = SaveReport()
        horizon = self.watermark - retention_seconds
        before = len(self.sessions)
        consoles = len(self.console)
        self.prune(horizon)
        report.expired_dropped = before - len(self.sessions)
        report.console_dropped = consoles - len(self.console)
        report.timeline_dropped = self.timeline.trim(
            self.watermark - max(retention_seconds, timeline_retention_seconds)
        )

        # Expired sessions first (kept for trail files read late), then live ones, each
        # oldest issued first: the budget drops from the front.
        watermark = self.watermark
        sessions = sorted(
            self.sessions.values(), key=lambda s: (s.expires_at > watermark, s.issued_at)
        )
        session_rows = [_session_row(s) for s in sessions]
        held_rows = [
            [list(g.awaited), int(g.deadline), [to_dict(e) for e in self.events_of(g)]]
            for g in self._held.values()
        ]
        console_rows = [_console_row(c) for c in self.console.values()]
        document: dict[str, Any] = {
            "v": STORAGE_VERSION,
            "watermark": int(self.watermark),
            "sessions": session_rows,
            "console": console_rows,
            "held": held_rows,
            **self._given_up_sections(),
            "timeline": self.timeline.to_storage(),
        }
        size = _size(document)
        if size > budget_bytes:
            size = self._fit(document, sessions, budget_bytes, size, report)
        report.bytes = size
        report.sessions = len(document["sessions"])
        report.held = sum(len(row[2]) for row in document["held"])
        return document, report

    def _given_up_sections(self) -> dict[str, list[list[Any]]]:
        return {
            "given_up": [
                [awaited, key, int(deadline)]
                for awaited, waiting in self.given_up.items()
                for key, deadline in waiting.items()
            ],
            "given_up_checks": [
                [key, [to_dict(event) for event in events]]
                for key, events in self.given_up_checks.items()
            ],
        }

    def restore_given_up(
        self, document: dict[str, Any], *, budget_bytes: int, report: SaveReport
    ) -> None:
        """Rewrite ``document``'s given-up sections from the index as it is now.

        ``to_storage`` removes the held events that do not fit; the caller then gives them
        up (``give_up``), after the document was built. Without this, what it gave up would
        not be saved, and the next pull could not attribute those sessions late. While the
        document is over ``budget_bytes``, kept AssumeRole events and then given-up sessions
        are dropped, oldest first (``_trim_given_up``).
        """
        document.update(self._given_up_sections())
        self._trim_given_up(document, _size(document), budget_bytes, report)
        report.bytes = _size(document)

    def _trim_given_up(
        self, document: dict[str, Any], size: int, budget: int, report: SaveReport
    ) -> int:
        """Drop kept AssumeRole events, then given-up sessions, oldest first, from ``document``
        and the index while ``size`` (the document's) is over ``budget``; the size after."""
        checks: list[list[Any]] = document["given_up_checks"]
        drop = 0
        while size > budget and drop < len(checks):
            size -= _size(checks[drop]) + 1
            drop += 1
        for key, _events in checks[:drop]:
            self.take_checks(key)
        document["given_up_checks"] = checks[drop:]
        given: list[list[Any]] = document["given_up"]
        drop = 0
        while size > budget and drop < len(given):
            size -= _size(given[drop]) + 1
            drop += 1
        for awaited, key, _deadline in given[:drop]:
            waiting = self.given_up.get(awaited)
            if waiting is not None and waiting.pop(key, None) is not None:
                self._given_up_count -= 1
                self.take_checks(key)
                if not waiting:
                    del self.given_up[awaited]
        document["given_up"] = given[drop:]
        report.given_up_dropped += drop
        return size

    def _fit(
        self,
        document: dict[str, Any],
        sessions: list[IssuedSession],
        budget: int,
        size: int,
        report: SaveReport,
    ) -> int:
        held_rows: list[list[Any]] = document["held"]
        held_size = _size(held_rows)
        held_limit = int(budget * HELD_SHARE)
        if held_size > held_limit:
            numbers = list(self._held)
            drop = 0
            while held_size > held_limit and drop < len(held_rows):
                held_size -= _size(held_rows[drop]) + 1
                drop += 1
            report.held_overflow = [self._unhold(number) for number in numbers[:drop]]
            document["held"] = held_rows[drop:]
            size = _size(document)
        if size > budget:  # what was given up yields before live sessions do
            size = self._trim_given_up(document, size, budget, report)
        rows: list[list[Any]] = document["sessions"]
        evict = 0
        while size > budget and evict < len(rows):
            size -= _size(rows[evict]) + 1
            evict += 1
        if evict:
            expired = 0
            for session in sessions[:evict]:
                expired += session.expires_at <= self.watermark
                self._forget(session)
            document["sessions"] = rows[evict:]
            report.expired_dropped += expired
            report.live_evicted = evict - expired
            size = _size(document)
        while size > budget and len(self.timeline):
            report.timeline_dropped += self.timeline.drop_oldest_roles(
                max(1, len(self.timeline) // 10)
            )
            document["timeline"] = self.timeline.to_storage()
            size = _size(document)
        return size

    @classmethod
    def from_storage(cls, data: object) -> tuple[IssuanceIndex, LoadReport]:
        """The index stored by ``to_storage``; unusable parts are skipped and counted."""
        index = cls()
        report = LoadReport()
        if data is None:
            return index, report
        if not isinstance(data, dict) or data.get("v") != STORAGE_VERSION:
            report.reset = True
            return index, report
        watermark = data.get("watermark")
        index.watermark = float(watermark) if isinstance(watermark, int | float) else 0.0
        for row in _rows(data.get("sessions")):
            session = _session_from_row(row)
            if session is None:
                report.skipped += 1
            else:
                index.add(session)
        for row in _rows(data.get("console")):
            switch = _console_from_row(row)
            if switch is None:
                report.skipped += 1
            else:
                index.add_console_switch(switch)
        for row in _rows(data.get("held")):
            group, skipped = _held_from_row(row)
            report.skipped += skipped
            if group is not None:
                index.hold(group)
        for row in _rows(data.get("given_up")):
            if (
                isinstance(row, list)
                and len(row) == 3
                and isinstance(row[0], str)
                and isinstance(row[1], str)
                and isinstance(row[2], int | float)
            ):
                index.give_up(row[0], row[1], float(row[2]))
            else:
                report.skipped += 1
        for row in _rows(data.get("given_up_checks")):
            if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)):
                report.skipped += 1
                continue
            for stored in _rows(row[1]):
                try:
                    index.given_up_checks.setdefault(row[0], []).append(event_from_mapping(stored))
                    index._checks_count += 1
                except RecordError:
                    report.skipped += 1
        index.timeline, skipped = TrustTimeline.from_storage(data.get("timeline"))
        report.skipped += skipped
        report.sessions = len(index.sessions)
        report.held = index.held_count
        return index, report


def _same(value: Any) -> Any:
    return value


def _size(value: object) -> int:
    return len(json.dumps(value, separators=_SEPARATORS))


def _rows(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _origin_row(origin: Origin) -> list[Any]:
    return [
        origin.type,
        origin.arn,
        origin.user_name,
        origin.account_id,
        origin.principal_id,
        origin.provider,
    ]


def _origin_from(values: list[Any]) -> Origin | None:
    if not isinstance(values[0], str) or not all(_opt_str(v) for v in values[1:6]):
        return None
    return Origin(*values[:6])


def _session_row(s: IssuedSession) -> list[Any]:
    return [
        s.access_key_id,
        s.kind,
        *_origin_row(s.origin),
        s.parent_key,
        s.role_arn,
        s.session_name,
        s.account_id,
        s.region,
        int(s.issued_at),
        int(s.expires_at),
        s.source_identity,
        s.assumed_role_id,
        s.shared_event_id,
        1 if s.caller_copy else 0,
    ]


_SESSION_FIELDS: Final = 19


def _session_from_row(row: object) -> IssuedSession | None:
    if not isinstance(row, list) or len(row) != _SESSION_FIELDS:
        return None
    key, kind = row[0], row[1]
    origin = _origin_from(row[2:8])
    strings = row[8:13] + row[15:18]
    times = row[13:15]
    if (
        not isinstance(key, str)
        or not isinstance(kind, str)
        or origin is None
        or not all(_opt_str(v) for v in strings)
        or not all(_is_number(t) for t in times)
        or row[18] not in (0, 1)
    ):
        return None
    parent, role_arn, session_name, account, region = row[8:13]
    source_identity, assumed_role_id, shared = row[15:18]
    return IssuedSession(
        key,
        kind,
        origin,
        parent,
        role_arn,
        session_name,
        account,
        region,
        float(times[0]),
        float(times[1]),
        source_identity,
        assumed_role_id,
        shared,
        row[18] == 1,
    )


def _console_row(c: ConsoleSwitch) -> list[Any]:
    return [
        c.principal_id,
        int(c.created_at),
        *_origin_row(c.origin),
        c.role_arn,
        c.session_name,
        c.account_id,
        int(c.expires_at),
    ]


def _console_from_row(row: object) -> ConsoleSwitch | None:
    if not isinstance(row, list) or len(row) != 12:
        return None
    origin = _origin_from(row[2:8])
    if (
        not isinstance(row[0], str)
        or not _is_number(row[1])
        or origin is None
        or not all(_opt_str(v) for v in row[8:11])
        or not _is_number(row[11])
    ):
        return None
    return ConsoleSwitch(row[0], float(row[1]), origin, row[8], row[9], row[10], float(row[11]))


def _held_from_row(row: object) -> tuple[HeldGroup | None, int]:
    """A stored held group, and how many of its parts were unusable."""
    if not isinstance(row, list) or len(row) != 3:
        return None, 1
    awaited, deadline, stored = row
    if (
        not isinstance(awaited, list)
        or not awaited
        or not all(isinstance(key, str) for key in awaited)
        or not _is_number(deadline)
        or not isinstance(stored, list)
    ):
        return None, 1
    held: list[TrailEvent] = []
    skipped = 0
    for data in stored:
        try:
            held.append(event_from_mapping(data))
        except RecordError:
            skipped += 1
    if not held:
        return None, skipped or 1
    return HeldGroup(tuple(awaited), float(deadline), held[0], held[1:]), skipped


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _opt_str(value: object) -> bool:
    return value is None or isinstance(value, str)
