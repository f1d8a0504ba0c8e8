"""What one pull of a trail bucket holds in memory: the candidate objects, the folder pages
they were listed in, and the folders being listed (``S3TrailReader``'s working set).

A candidate's status says what the commit does with its key: done keys advance the folder's
cursor, failed ones go to the folder's retry record, held ones keep the cursor before them.
"""

from __future__ import annotations

from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .layout import token_time
from .s3_state import LATE_SECONDS, PrefixState

PENDING = "pending"  # not handed out (yet)
DONE = "done"  # handed out, or skipped for good (too large, deleted)
FAILED = "failed"  # read failed; kept in the folder's retry record
HELD = "held"  # read failed and the retry record is full: holds the cursor back
REFUSED = "refused"  # a late file not read because the late record is full


@dataclass(eq=False, slots=True)
class Candidate:
    key: str
    suffix: str
    size: int  # -1: unknown (a retried key, not listed)
    token: str
    late: bool  # landed late (or unknown): recorded in ``late`` once at or below the cursor
    below: bool  # at or below the folder's cursor when listed (found by a sweep)
    state: PrefixState
    order: int
    retry_kind: str = ""  # "d" / "e" when read from the retry record
    status: str = PENDING


@dataclass(eq=False, slots=True)
class Page:
    candidates: list[Candidate]
    recent_hits: list[tuple[str, bool]]  # (suffix, late) of done keys above the cursor
    late_hits: set[str]
    newest: str  # greatest time token listed
    last_key: str | None
    complete: bool
    listed: int
    skipped: Counter[str]
    calls: int
    error: BaseException | None


@dataclass(eq=False)
class Stream:
    """One folder listed in this pull."""

    state: PrefixState
    order: int
    sweep: bool
    start: str  # StartAfter of the first page
    cursor: str  # the folder's cursor when the pull started
    buffer: deque[Candidate] = field(default_factory=deque)
    next_after: str = ""
    complete: bool = False
    failed: bool = False
    newest: str = ""
    recent_hits: list[tuple[str, bool]] = field(default_factory=list)
    late_hits: set[str] = field(default_factory=set)
    held: list[Candidate] = field(default_factory=list)
    future: Future[Page] | None = None
    fresh: bool = False  # never listed before this pull


def token_minute(token: str) -> int | None:
    found = token_time(token)
    return None if found is None else int(found // 60)


def landed_late(modified: Any, token: str) -> bool:
    """Whether S3 received the file more than ``LATE_SECONDS`` after its delivery minute
    (unknown times count as late: recording a file costs 8 bytes, missing one costs events)."""
    named = token_time(token)
    stamp = getattr(modified, "timestamp", None)
    if named is None or stamp is None:
        return True
    return bool(stamp() - named > LATE_SECONDS)
