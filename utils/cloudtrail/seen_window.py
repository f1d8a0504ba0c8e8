"""The event ids seen lately, to drop a record delivered twice: the resolver's dedupe window.

The last ``size`` ids, about: two generations, the older dropped whole when the newer fills
(bounded memory, no per-id eviction cost). Pure data structure: no I/O, no clock.

How far back a copy can be depends on the trail's shape, not only its volume: CloudTrail
delivers a record again in a later file of the same account and Region, and a reader of an
organization trail reads every other account and Region's files in between. So the window
grows with the trail folders its batches came from: three files' worth of records per
folder (the average batch), from ``size`` up to ``max_size``; the older generation is
dropped whole, so an id is remembered for one and a half to three files of every folder.
A trail file is one batch of one folder, named by its first event's account and Region.
Folders are counted up to the number that reaches ``max_size`` (and at most
``_MAX_FOLDERS``), so naming many costs nothing more.

The window keeps each id's ``hash()``, not the id: a boxed 64-bit number (36 bytes) instead
of the id string it would keep alive (about 85). ``hash`` of a str is SipHash under a key
drawn per process, so an id cannot be chosen to collide with one it has not seen: dropping a
CloudTrail record as a repeat would take a 64-bit second preimage of an id nobody knows in
advance.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from itertools import compress

from .events import TrailEvent

# Folders counted at most (a trail of one-record files would otherwise name one per record).
_MAX_FOLDERS = 4096


class SeenWindow:
    """Recently seen event ids, in two generations of sets (or dicts: ``choose_for``)."""

    __slots__ = (
        "_batches",
        "_folders",
        "_pending",
        "_records",
        "before",
        "chosen",
        "max_size",
        "min_size",
        "seen",
        "size",
    )

    def __init__(self, size: int, max_size: int | None = None) -> None:
        self.size = self.min_size = size
        self.max_size = max(size, max_size if max_size is not None else size)
        self._folders: set[tuple[str | None, str | None]] = set()
        self._batches = self._records = 0
        self.seen: set[int] | dict[int, None] = set()
        self.before: set[int] | dict[int, None] = set()
        self.chosen = False  # ``choose_for`` ran (at the first batch)
        # Ids seeded before the first batch: added once the kind of window is chosen.
        self._pending: list[int] = []

    def __len__(self) -> int:
        return len(self.seen) + len(self.before)

    def __contains__(self, event_id: object) -> bool:
        key = hash(event_id)
        return key in self.seen or key in self.before

    def seed(self, event_ids: Iterable[str]) -> None:
        """Remember ``event_ids`` from the first batch on (the events a loaded index holds: a
        copy of one delivered again is a repeat)."""
        self._pending.extend(map(hash, event_ids))

    def add(self, event_id: str) -> None:
        if isinstance(self.seen, set):
            self.seen.add(hash(event_id))
        else:
            self.seen[hash(event_id)] = None

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

    def note_batch(self, account: str | None, region: str | None, records: int) -> None:
        """A batch of ``records`` from the trail folder of ``account`` and ``region``: size
        the window to three batches of every folder seen (within its bounds)."""
        self._batches += 1
        self._records += records
        folders = self._folders
        if (account, region) not in folders and len(folders) < _MAX_FOLDERS:
            mean = self._records / self._batches
            if len(folders) * mean * 3 < self.max_size:
                folders.add((account, region))
        wanted = int(3 * len(folders) * self._records / self._batches)
        self.size = min(self.max_size, max(self.min_size, wanted))

    def repeats(self, event_ids: list[str]) -> set[int]:
        """Remember the batch's event ids; the positions of those seen before (in an earlier
        batch or earlier in this one). Set operations in C: per event, this is the costliest
        step of the hot path when written as a Python loop."""
        ids = list(map(hash, event_ids))
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
            first: dict[int, int] = {}
            repeats.update(
                i for i, x in enumerate(ids) if first.setdefault(x, i) != i and i not in repeats
            )
        if len(seen) >= self.size // 2:
            self.before = seen
            self.seen = set() if isinstance(seen, set) else {}
        return repeats
