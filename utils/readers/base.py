"""The contract between CloudTrail event-source readers and the pull pipeline.

CE saves ``self.storage`` only when ``pull_alerts`` returns normally, so a reader's
checkpoint may move only when the whole pull succeeded. Every reader therefore follows
one protocol: ``batches()`` hands out raw payloads (it never decodes CloudTrail: the
pipeline does, and reports undecodable payloads back through ``mark_failed``), and
``commit()`` writes the advanced checkpoint into the ``storage["sources"]`` section *in
place*, called by the pipeline after the pull's alerts and outbox are built, right before
``pull_alerts`` returns. A reader that is never committed leaves storage untouched, so a
pull that raises is simply repeated from the old checkpoint by the next pull.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Readers take the clock from here, so a test sets one time for every reader.
from ..clock import Clock
from ..clock import utc_now as system_clock

__all__ = [
    "BatchKind",
    "Clock",
    "Deadline",
    "EventSource",
    "Problem",
    "RawBatch",
    "ReaderStats",
    "system_clock",
]

BatchKind = Literal["object", "lookup"]

MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class RawBatch:
    """One unit of raw CloudTrail data handed to the pipeline.

    ``kind == "object"``: ``payload`` is the bytes of one trail object (gzip or plain JSON),
    ``name`` its S3 key; decode it with ``decode_trail_object(payload, name=name, ...)``.
    ``kind == "lookup"``: ``payload`` is a tuple of LookupEvents ``CloudTrailEvent`` JSON
    strings (already deduplicated by event id), ``event_ids`` their ids in the same order;
    decode each with ``decode_event_json``.
    ``batch_id`` is what ``mark_failed`` takes: unique within one reader instance.
    """

    batch_id: str
    kind: BatchKind
    source: str
    account_id: str
    region: str
    name: str
    payload: bytes | tuple[str, ...]
    bucket: str = ""
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something an admin should see in CE's log: what happened (naming the bucket, key,
    queue, account or Region) and the fix. Never holds a secret."""

    code: str
    message: str
    resolution: str = ""


@dataclass
class ReaderStats:
    """Counters of one pull of one reader, for the pull summary and logs.

    Read them after ``commit()``: some outcomes (abandoned keys, deletes) are only known
    then. ``problems`` keeps the first ``MAX_PROBLEMS``; the rest are counted in
    ``problems_dropped`` so a flood of one error cannot grow memory or the log.
    """

    source: str
    api_calls: Counter[str] = field(default_factory=Counter)
    throttles: int = 0
    access_denied: Counter[str] = field(default_factory=Counter)
    objects_listed: int = 0
    objects_read: int = 0
    bytes_read: int = 0
    objects_skipped: Counter[str] = field(default_factory=Counter)
    objects_failed: int = 0
    objects_errored: int = 0
    objects_abandoned: int = 0
    record_evictions: int = 0
    messages_received: int = 0
    messages_processed: int = 0
    messages_deleted: int = 0
    messages_poison: int = 0
    messages_released: int = 0
    visibility_extensions: int = 0
    pages_read: int = 0
    events_read: int = 0
    events_duplicate: int = 0
    events_failed: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_dropped: int = 0
    # Progress against the pull's time budget: what is known and not read yet when the pull
    # stopped (objects or messages), the delivery time of the oldest of it (epoch seconds),
    # and whether the pull stopped because its budget ran out rather than because it caught up.
    backlog: int = 0
    oldest_unread: float | None = None
    budget_exhausted: bool = False
    elapsed_seconds: float = 0.0

    def problem(self, code: str, message: str, resolution: str = "") -> None:
        """Record a problem (bounded)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(code, message, resolution))
        else:
            self.problems_dropped += 1

    def call(self, operation: str) -> None:
        self.api_calls[operation] += 1

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (for ``storage["health"]`` and debug logs)."""
        return {
            "source": self.source,
            "api_calls": dict(self.api_calls),
            "throttles": self.throttles,
            "access_denied": dict(self.access_denied),
            "objects_listed": self.objects_listed,
            "objects_read": self.objects_read,
            "bytes_read": self.bytes_read,
            "objects_skipped": dict(self.objects_skipped),
            "objects_failed": self.objects_failed,
            "objects_errored": self.objects_errored,
            "objects_abandoned": self.objects_abandoned,
            "record_evictions": self.record_evictions,
            "messages_received": self.messages_received,
            "messages_processed": self.messages_processed,
            "messages_deleted": self.messages_deleted,
            "messages_poison": self.messages_poison,
            "messages_released": self.messages_released,
            "visibility_extensions": self.visibility_extensions,
            "pages_read": self.pages_read,
            "events_read": self.events_read,
            "events_duplicate": self.events_duplicate,
            "events_failed": self.events_failed,
            "problems": [p.code for p in self.problems],
            "problems_dropped": self.problems_dropped,
            "backlog": self.backlog,
            "oldest_unread": self.oldest_unread,
            "budget_exhausted": self.budget_exhausted,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


class Deadline:
    """A pull's time budget, shared by everything the pull does with one source.

    Readers check ``expired()`` before starting new work (a listing page, a receive, a
    fetch) and hand out whatever is already in hand, so a pull stops close to its budget
    with everything it read committed. ``None`` seconds means no budget (tests, CLI).
    """

    def __init__(
        self, seconds: float | None, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self._start = monotonic()
        self._end = None if seconds is None else self._start + max(0.0, seconds)

    def expired(self) -> bool:
        return self._end is not None and self._monotonic() >= self._end

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a budget."""
        if self._end is None:
            return None
        return max(0.0, self._end - self._monotonic())

    def elapsed(self) -> float:
        return self._monotonic() - self._start


class EventSource(Protocol):
    """What the pull pipeline drives; one instance per pull.

    Usage per pull::

        source = S3TrailReader(factory, storage.setdefault("sources", {}), ...)
        for batch in source.batches():
            try:
                records = decode(batch)
            except TrailObjectError as error:
                source.mark_failed(batch.batch_id, str(error))
                continue
            ...
        ...  # build alerts, write the outbox
        source.commit()  # last step before pull_alerts returns
    """

    stats: ReaderStats

    def batches(self) -> Iterator[RawBatch]:
        """Raw payloads in a deterministic order; call once per instance."""
        ...

    def mark_failed(self, batch_id: str, reason: str) -> None:
        """The pipeline could not decode (part of) this batch: count it, report it, skip it."""
        ...

    def unread_since(self) -> float | None:
        """Event time (epoch seconds) from which this source knows of data it has not
        handed out yet and will read later: the oldest trail object that failed to read
        (this pull or an earlier one) or is still queued, a LookupEvents window not read to
        its end. None when there is none inside the look-back window. Asked before each
        batch is resolved, and after the last: the resolver does not give up held events
        past it (an issuance may be in that data)."""
        ...

    def commit(self) -> None:
        """Write the advanced checkpoint into the sources section (in place)."""
        ...
