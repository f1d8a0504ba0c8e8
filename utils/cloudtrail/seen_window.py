"""The event ids seen lately, to drop a record delivered twice: the resolver's dedupe window.

The last ``size`` ids, about: two generations, the older dropped whole when the newer fills
(bounded memory, no per-id eviction cost). Pure data structure: no I/O, no clock.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from itertools import compress

from .events import TrailEvent


class SeenWindow:
    """Recently seen event ids, in two generations of sets (or dicts: ``choose_for``)."""

    __slots__ = ("_pending", "before", "chosen", "seen", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen: set[str] | dict[str, None] = set()
        self.before: set[str] | dict[str, None] = set()
        self.chosen = False  # ``choose_for`` ran (at the first batch)
        # Ids seeded before the first batch: added once the kind of window is chosen.
        self._pending: list[str] = []

    def __len__(self) -> int:
        return len(self.seen) + len(self.before)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.seen or event_id in self.before

    def seed(self, event_ids: Iterable[str]) -> None:
        """Remember ``event_ids`` from the first batch on (the events a loaded index holds: a
        copy of one delivered again is a repeat)."""
        self._pending.extend(event_ids)

    def add(self, event_id: str) -> None:
        if isinstance(self.seen, set):
            self.seen.add(event_id)
        else:
            self.seen[event_id] = None

    def choose_for(self, event: TrailEvent) -> None:
        """Hold the window in dicts, which the garbage collector never walks, when the
        decoder's events are collected objects (stdlib views over ``json.loads`` dicts).

        That decoder makes the collector run a full collection every few trail files, and
        each would visit the 32k ids of a window held in sets (a random memory access per
        id: about a microsecond per event, measured). Sets stay the choice when events are
        not collected (msgspec Structs): collections are then rare, and a set probe touches
        one cache line where a dict probe touches two or three.
        """
        self.chosen = True
        if gc.is_tracked(event) and not self.seen and not self.before:
            self.seen = {}
            self.before = {}
        if self._pending:
            self.seen.update(dict.fromkeys(self._pending))
            self._pending = []

    def repeats(self, ids: list[str]) -> set[int]:
        """Remember the batch's event ids; the positions of those seen before (in an earlier
        batch or earlier in this one). Set operations in C: per event, this is the costliest
        step of the hot path when written as a Python loop."""
        seen = self.seen
        before = self.before
        repeats: set[int] = set()
        size = len(seen)
        if isinstance(seen, set) and isinstance(before, set):
            if not (seen.isdisjoint(ids) and before.isdisjoint(ids)):
                known = seen.intersection(ids)
                known.update(before.intersection(ids))
                repeats.update(compress(range(len(ids)), map(known.__contains__, ids)))
            seen.update(ids)
        elif isinstance(seen, dict) and isinstance(before, dict):
            fresh = dict.fromkeys(ids)
            if not (seen.keys().isdisjoint(fresh) and before.keys().isdisjoint(fresh)):
                known = seen.keys() & fresh.keys()
                known.update(before.keys() & fresh.keys())
                repeats.update(compress(range(len(ids)), map(known.__contains__, ids)))
            seen.update(fresh)
        if len(seen) - size + len(repeats) < len(ids):  # a repeat inside the batch (rare)
            first: dict[str, int] = {}
            repeats.update(
                i for i, x in enumerate(ids) if first.setdefault(x, i) != i and i not in repeats
            )
        if len(seen) >= self.size // 2:
            self.before = seen
            self.seen = set() if isinstance(seen, set) else {}
        return repeats
