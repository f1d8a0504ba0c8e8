"""Held events: the one owner of the events waiting for a missing link of their session.

An event signed by a session whose issuance (or caller's copy, or console group) has not been
read yet waits here, with the other events of its session, until what it awaits arrives, its
deadline passes or the hold is full. The queue keeps the groups, their deadlines, the sessions
given up on (for a late attribution) and the groups pending by session key; it hands groups
back to the resolver, which resolves or emits them. Pure data structure: no I/O, no clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .events import TrailEvent
from .timeparse import format_iso, parse_iso

MAX_GIVEN_UP: Final = 5000  # sessions given up on, remembered for a late issuance
MAX_GIVEN_UP_CHECKS: Final = 1000  # AssumeRole events of those, to judge when attributed
CONSOLE_WAIT: Final = "console:"  # prefix of the keys console requests wait for


@dataclass(slots=True)
class HeldGroup:
    """Events of one session waiting for any of ``awaited``: the issuance of a key, the
    caller's copy of a shared event, or a console session group. ``deadline`` (event time)
    is the earliest of its events' own deadlines.

    A session's events are released together (one re-resolution serves them all); at a
    deadline only the events whose own deadline passed are given up (the queue splits
    the group), the others wait on as a group of their own.
    """

    awaited: tuple[str, ...]
    deadline: float
    head: TrailEvent  # the first event, as it came
    rest: list[Any] = field(default_factory=list)  # the others, packed (``events_of``)
    held: bool = False  # in the queue now
    number: int = -1  # its number in the queue while held

    def __len__(self) -> int:
        return 1 + len(self.rest)


class HoldQueue:
    """Held groups by number (age), deadline and awaited key; given-up sessions; pending keys."""

    def __init__(self) -> None:
        # How held events beyond a group's first are kept (see FastDecoders.pack): as they
        # are, by default.
        self.pack: Callable[[TrailEvent], Any] = _same
        self.unpack: Callable[[Any], TrailEvent] = _same
        # What an event kept beyond its trail file goes through first, so it holds no slice
        # of that file's buffer (``FastDecoders.detach``); nothing by default.
        self.detach: Callable[[TrailEvent], TrailEvent] = _same
        self._held: dict[int, HeldGroup] = {}  # insertion order = age
        self._held_events = 0
        self._deadlines: list[tuple[float, int]] = []  # heap of (deadline, held number)
        self._waiting: dict[str, set[int]] = {}
        self.console_waits = 0  # held groups waiting for a console session group
        self._next_held = 0
        # Sessions found waiting (no issuance, no session facts), by key: further events of
        # theirs join the held group directly while it is held. Not stored: a loaded queue
        # starts without, and a session's next event is resolved (and held) afresh.
        self.pending: dict[str, HeldGroup] = {}
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

    # holding ---------------------------------------------------------------------------

    @property
    def held_count(self) -> int:
        """Events held (in all groups)."""
        return self._held_events

    @property
    def next_number(self) -> int:
        """The number the next group held will get (numbers only grow)."""
        return self._next_held

    def groups(self) -> list[HeldGroup]:
        """The groups held, oldest first."""
        return list(self._held.values())

    def hold_event(
        self,
        event: TrailEvent,
        awaited: tuple[str, ...],
        key: str | None,
        group: HeldGroup | None,
        *,
        watermark: float,
        hold_seconds: float,
    ) -> bool:
        """Hold ``event`` (and, when re-resolving, the rest of its ``group``) until ``awaited``;
        pending under ``key`` when given. True when ``event`` is newly held."""
        new = group is None
        if group is None:
            at = parse_iso(event.eventTime)
            deadline = (at if at is not None else watermark) + hold_seconds
            group = HeldGroup(awaited, deadline, self.detach(event))
        else:
            group.awaited = awaited
        self.hold(group)
        if key:
            self.pending[key] = group
        return new

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
        group.rest.append(self.pack(self.detach(event)))
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

    def unpend(self, group: HeldGroup) -> None:
        """``group``'s session no longer waits (resolved or given up)."""
        identity = group.head.userIdentity
        key = identity.accessKeyId if identity is not None else None
        if key and self.pending.get(key) is group:
            del self.pending[key]

    def forget_pending(self) -> None:
        """Resolve every session's next event afresh (what it may be trusted for changed)."""
        self.pending.clear()

    # handing groups back ----------------------------------------------------------------

    def release_all(self, keys: set[str], held_before: int | None = None) -> list[HeldGroup]:
        """The groups waiting for any of ``keys``, oldest first, no longer held; with
        ``held_before``, only the groups held before that number (a group held after ``keys``
        arrived was resolved knowing them, and stays held). They stay pending: a group the
        resolver holds again keeps its place; one it resolves, it ``unpend``s.

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

    def expire(self, deadline: float, hold_seconds: float) -> list[HeldGroup]:
        """The events due at ``deadline``, as groups to give up, no longer held or pending.

        Each event waits its own ``hold_seconds`` from its event time, so of a group due only
        the events whose own deadline passed are given up; the others stay held as a group
        of their own (pending in the group's place). Which events are given up then depends
        only on event times and the watermark, not on which event of a session was read
        first.
        """
        due: list[HeldGroup] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= deadline:
            at, number = heapq.heappop(deadlines)
            group = self._held.get(number)
            if group is not None and group.deadline == at:  # else a superseded entry
                due.extend(self._due_part(self._unhold(number), deadline, hold_seconds))
        return due

    def _due_part(self, group: HeldGroup, deadline: float, hold_seconds: float) -> list[HeldGroup]:
        events = self.events_of(group)
        times = [parse_iso(event.eventTime) for event in events]
        waiting = [
            (t, e)
            for t, e in zip(times, events, strict=True)
            if t is not None and t + hold_seconds > deadline
        ]
        if not waiting:
            self.unpend(group)
            return [group]
        due = [
            e
            for t, e in zip(times, events, strict=True)
            if t is None or t + hold_seconds <= deadline
        ]
        pack = self.pack
        rest = HeldGroup(
            group.awaited,
            min(t for t, _ in waiting) + hold_seconds,
            waiting[0][1],
            [pack(e) for _, e in waiting[1:]],
        )
        self.hold(rest)
        head = group.head.userIdentity
        key = head.accessKeyId if head is not None else None
        if key and self.pending.get(key) is group:
            self.pending[key] = rest
        if not due:  # pragma: no cover - the group's deadline is one of its events'
            return []
        # Given up now: its events stay unpacked (``unpack`` passes an event through).
        return [HeldGroup(group.awaited, group.deadline, due[0], due[1:])]

    def evict_oldest(self, events: int) -> list[HeldGroup]:
        """The oldest groups holding at least ``events`` events together, no longer held or
        pending."""
        evicted: list[HeldGroup] = []
        count = 0
        for number in list(self._held):
            if count >= events:
                break
            group = self._unhold(number)
            self.unpend(group)
            evicted.append(group)
            count += len(group)
        return evicted

    def make_room(self, max_held: int) -> list[HeldGroup]:
        """The oldest groups, no longer held or pending, while over ``max_held`` events."""
        excess = self._held_events - max_held
        return self.evict_oldest(excess) if excess > 0 else []

    def take_oldest(self, groups: int) -> list[HeldGroup]:
        """The ``groups`` oldest groups, no longer held or pending."""
        taken = [self._unhold(number) for number in list(self._held)[:groups]]
        for group in taken:
            self.unpend(group)
        return taken

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

    # given up --------------------------------------------------------------------------

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
            self.given_up_checks.setdefault(key, []).extend(map(self.detach, checks))
            self._checks_count += len(checks)
            while self._checks_count > MAX_GIVEN_UP_CHECKS and self.given_up_checks:
                oldest = next(iter(self.given_up_checks))
                self._checks_count -= len(self.given_up_checks.pop(oldest))

    def give_up_group(self, group: HeldGroup, key: str, checks: list[TrailEvent]) -> None:
        """Remember session ``key`` given up with ``group``, under each key it awaited but a
        console group's (no issuance answers one), its AssumeRole events ``checks`` once."""
        for awaited in group.awaited:
            if not awaited.startswith(CONSOLE_WAIT):
                self.give_up(awaited, key, group.deadline, checks)
                checks = []

    def keep_check(self, key: str, event: TrailEvent) -> None:
        """Keep one AssumeRole event of given-up session ``key`` as stored (no bound applied)."""
        self.given_up_checks.setdefault(key, []).append(self.detach(event))
        self._checks_count += 1

    def take_checks(self, key: str) -> list[TrailEvent]:
        """The AssumeRole events kept for given-up session ``key``, forgotten now."""
        events = self.given_up_checks.pop(key, [])
        self._checks_count -= len(events)
        return events

    def _forget_given_up(self, waiting: dict[str, float]) -> None:
        self._given_up_count -= len(waiting)
        for key in waiting:
            self.take_checks(key)

    def forget_given_up(self, awaited: str, key: str) -> None:
        """Forget that session ``key`` was given up waiting for ``awaited``, and its checks."""
        waiting = self.given_up.get(awaited)
        if waiting is not None and waiting.pop(key, None) is not None:
            self._given_up_count -= 1
            self.take_checks(key)
            if not waiting:
                del self.given_up[awaited]

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

    def prune_given_up(self, before: float) -> None:
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


def describe_wait(awaited: str) -> str:
    """What a held group waits for, in words (for the reason of an unresolved event)."""
    if awaited.startswith("shared:"):
        return f"the caller's copy of shared event {awaited[7:]}"
    if awaited.startswith(CONSOLE_WAIT):
        principal, _, second = awaited[len(CONSOLE_WAIT) :].rpartition("@")
        return f"a session of {principal} created {format_iso(float(second))}"
    return f"the issuance of {awaited}"


def _same(value: Any) -> Any:
    return value
