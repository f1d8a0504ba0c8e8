"""CloudTrail LookupEvents: management events without a trail bucket.

Used for small tenants and for AssumeRole history (``lookup_attribute=("EventName",
"AssumeRole")``) when no trail bucket is configured. One checkpoint per account/Region
(LookupEvents answers for one Region per call, and STS events are logged in the Region
that served the call, so every enabled Region is read).

Window model, per account/Region in ``storage["sources"]["lookup_events"]["scopes"]``:

* ``cursor`` — events before it have been handed out. The next window is
  ``[cursor - overlap, now)``: the overlap re-reads the last minutes because events can
  appear in LookupEvents minutes after they happened.
* ``window`` — a window being read. Pages come newest first and ``NextToken`` is only
  valid with identical parameters, so the cursor moves to the window's end only after
  its last page; a window larger than ``max_pages_per_pull`` is continued on the next
  pull with the stored token and the same parameters. If AWS rejects a stored token, the
  window restarts with its end lowered to the oldest event already handed out (progress
  is never lost, duplicates are filtered below).
* ``ids`` — digests of the event ids handed out recently, bucketed by event minute and
  pruned as the overlap passes them (bounded: ``max_seen_ids``), so the overlap and a
  restarted window never hand an event out twice.

Requests are paced by a ``RateLimiter`` (2 requests/s per account per Region, shared
process-wide by default); ``ThrottlingException`` is retried with exponential backoff and
jitter, then the account/Region is left for the next pull with its checkpoint intact.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..aws_clients import ClientFactory
from ..exceptions import PluginError
from .aws_errors import AWS_ERRORS, ErrorKind, classify, describe, tally_and_report
from .base import Clock, Problem, RawBatch, ReaderStats, system_clock
from .rate_limit import RateLimiter, shared_lookup_limiter

STATE_VERSION = 1
PAGE_SIZE = 50  # the LookupEvents maximum
HISTORY = timedelta(days=90)  # how far back LookupEvents answers
LOOKUP_ATTRIBUTE_KEYS = frozenset(
    {
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    }
)


def event_digest(event_id: str) -> str:
    """64-bit digest of an event id (a 16-character string instead of a 36-character UUID)."""
    return hashlib.blake2b(event_id.encode(), digest_size=8).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _minute(value: datetime) -> int:
    return int(value.timestamp()) // 60


@dataclass
class _Window:
    start: datetime
    end: datetime  # EndTime sent to AWS (lowered when a token is rejected)
    until: datetime  # where the cursor moves when the window is complete
    next_page: str = ""  # the NextToken that continues this window
    oldest: datetime | None = None  # oldest event time handed out from this window

    def dump(self) -> dict[str, str]:
        dumped = {"start": _iso(self.start), "end": _iso(self.end), "until": _iso(self.until)}
        if self.next_page:
            dumped["next_page"] = self.next_page
        if self.oldest is not None:
            dumped["oldest"] = _iso(self.oldest)
        return dumped

    @classmethod
    def load(cls, raw: Any) -> _Window | None:
        if not isinstance(raw, dict):
            return None
        start, end = _parse(raw.get("start")), _parse(raw.get("end"))
        until = _parse(raw.get("until"))
        if start is None or end is None or until is None:
            return None
        next_page = raw.get("next_page")
        next_page = next_page if isinstance(next_page, str) else ""
        return cls(start, end, until, next_page, _parse(raw.get("oldest")))


@dataclass
class _Scope:
    """Checkpoint of one account/Region."""

    cursor: datetime | None = None
    window: _Window | None = None
    ids: dict[int, set[str]] = field(default_factory=dict)  # event minute -> digests
    _all: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._all = {d for bucket in self.ids.values() for d in bucket}

    def seen(self, digest: str) -> bool:
        return digest in self._all

    def add(self, digest: str, minute: int) -> None:
        self.ids.setdefault(minute, set()).add(digest)
        self._all.add(digest)

    def size(self) -> int:
        return len(self._all)

    def drop_before(self, minute: int) -> None:
        for old in [m for m in self.ids if m < minute]:
            self._all.difference_update(self.ids.pop(old))

    def drop_oldest(self) -> int:
        oldest = min(self.ids)
        bucket = self.ids.pop(oldest)
        self._all.difference_update(bucket)
        return len(bucket)

    def dump(self) -> dict[str, Any]:
        dumped: dict[str, Any] = {
            "cursor": _iso(self.cursor) if self.cursor else None,
            "ids": {str(m): "".join(sorted(d)) for m, d in sorted(self.ids.items())},
        }
        if self.window is not None:
            dumped["window"] = self.window.dump()
        return dumped

    @classmethod
    def load(cls, raw: Any) -> _Scope | None:
        if not isinstance(raw, dict):
            return None
        ids: dict[int, set[str]] = {}
        stored_ids = raw.get("ids")
        for minute, packed in stored_ids.items() if isinstance(stored_ids, dict) else ():
            if isinstance(packed, str) and str(minute).isdigit() and str(minute).isascii():
                ids[int(minute)] = {packed[i : i + 16] for i in range(0, len(packed), 16)}
        window = _Window.load(raw.get("window"))
        return cls(cursor=_parse(raw.get("cursor")), window=window, ids=ids)


class _StalePage(Exception):
    pass


class LookupEventsReader:
    """Hands out LookupEvents pages (deduplicated ``CloudTrailEvent`` strings) for every
    account (one client factory each) and Region. One instance per pull."""

    source = "lookup_events"

    def __init__(
        self,
        factories: Sequence[ClientFactory],
        sources: MutableMapping[str, Any],
        *,
        regions: Sequence[str],
        lookup_attribute: tuple[str, str] | None = None,
        lookback_hours: float = 24,
        overlap_minutes: float = 15,
        max_pages_per_pull: int = 50,
        max_seen_ids: int = 2_000,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 20.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        state_key: str = "lookup_events",
        clock: Clock = system_clock,
    ) -> None:
        if not regions:
            raise ValueError("regions is required: LookupEvents answers for one Region per call")
        if lookup_attribute is not None and lookup_attribute[0] not in LOOKUP_ATTRIBUTE_KEYS:
            raise ValueError(
                f"lookup attribute {lookup_attribute[0]!r} is not one of "
                f"{sorted(LOOKUP_ATTRIBUTE_KEYS)}"
            )
        if not 0 < lookback_hours <= HISTORY.total_seconds() / 3600:
            raise ValueError("lookback_hours must be between 0 and 2160 (90 days of history)")
        if overlap_minutes < 0 or max_pages_per_pull < 1 or max_seen_ids < 1 or max_attempts < 1:
            raise ValueError(
                "overlap_minutes must be ≥ 0; max_pages_per_pull, max_seen_ids and "
                "max_attempts must be ≥ 1"
            )
        self._factories = list(factories)
        self._sources = sources
        self._regions = list(dict.fromkeys(regions))
        self._attribute = lookup_attribute
        self._lookback = timedelta(hours=lookback_hours)
        self._overlap = timedelta(minutes=overlap_minutes)
        self._max_pages = max_pages_per_pull
        self._max_ids = max_seen_ids
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._limiter = limiter or shared_lookup_limiter()
        self._sleep = sleep
        self._rng = rng
        self._state_key = state_key
        self._clock = clock
        self.stats = ReaderStats(self.source)
        self._stored = self._load(sources.get(state_key))
        self._working: dict[str, _Scope] = {}
        self._handed: dict[str, tuple[str, str]] = {}
        # Per account/Region of this pull, where its unread events begin (epoch seconds;
        # absent once read up to now): see ``unread_since``.
        self._unread: dict[str, float] = {}
        self._horizon = 0.0  # epoch seconds of now - lookback_hours, set by batches()
        self._serial = 0
        self._started = False

    @property
    def _attribute_text(self) -> str:
        return f"{self._attribute[0]}={self._attribute[1]}" if self._attribute else ""

    def _load(self, stored: Any) -> dict[str, Any]:
        if stored is None:
            return {}
        if not isinstance(stored, dict) or stored.get("v") != STATE_VERSION:
            self.stats.problem(
                "checkpoint_unreadable",
                "The stored LookupEvents checkpoint is not in a format this version "
                "understands; reading restarts from the look-back window.",
            )
            return {}
        if stored.get("attribute", "") != self._attribute_text:
            self.stats.problem(
                "source_changed",
                "The LookupEvents filter changed; reading restarts from the look-back window.",
            )
            return {}
        scopes = stored.get("scopes")
        return dict(scopes) if isinstance(scopes, dict) else {}

    # --------------------------------------------------------------- reading

    def batches(self) -> Iterator[RawBatch]:
        if self._started:
            raise RuntimeError("batches() can be called once per reader; build one per pull")
        self._started = True
        # One "now" for the whole pull: every account/Region window ends at the same instant.
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        self._horizon = (now - self._lookback).timestamp()
        planned: list[tuple[ClientFactory, str]] = []
        for factory in self._factories:
            try:
                account = factory.account_id
            except (PluginError, *AWS_ERRORS) as error:
                self.stats.problem(
                    "account_unavailable",
                    f"Skipped an account for LookupEvents: {error}",
                    "Check the member role and its trust policy; the other accounts are read.",
                )
                continue
            planned.append((factory, account))
            for region in self._regions:
                key = f"{account}:{region}"
                self._note_unread(key, _Scope.load(self._stored.get(key)) or _Scope(), now)
        for factory, account in planned:
            for region in self._regions:
                yield from self._scope(factory, account, region, now)

    def unread_since(self) -> float | None:
        """Where the oldest events of this pull's accounts/Regions that are not read yet
        begin, inside the look-back: a Region not reached yet or whose read failed (from its
        cursor), a window read only partly (pages come newest first: from its start). See
        ``EventSource.unread_since``."""
        return min((at for at in self._unread.values() if at >= self._horizon), default=None)

    def _note_unread(self, key: str, scope: _Scope, now: datetime) -> None:
        if scope.window is not None:
            self._unread[key] = scope.window.start.timestamp()
        elif scope.cursor is not None and scope.cursor < now:
            self._unread[key] = scope.cursor.timestamp()
        else:  # read up to now, or never read (its look-back is read this pull)
            self._unread.pop(key, None)

    def _scope(
        self, factory: ClientFactory, account: str, region: str, now: datetime
    ) -> Iterator[RawBatch]:
        key = f"{account}:{region}"
        scope = _Scope.load(self._stored.get(key)) or _Scope()
        try:
            client = factory.client("cloudtrail", region)
        except (PluginError, *AWS_ERRORS) as error:
            self._failed(account, region, error)
            return
        self._working[key] = scope  # mutated below only before each hand-out
        pages = 0
        while pages < self._max_pages:
            window = scope.window or self._next_window(scope, now, account, region)
            if window is None:
                return
            scope.window = window
            self._note_unread(key, scope, now)
            params: dict[str, Any] = {
                "StartTime": window.start,
                "EndTime": window.end,
                "MaxResults": PAGE_SIZE,
            }
            if self._attribute:
                params["LookupAttributes"] = [
                    {"AttributeKey": self._attribute[0], "AttributeValue": self._attribute[1]}
                ]
            if window.next_page:
                params["NextToken"] = window.next_page
            pages += 1
            try:
                response = self._call(client, account, region, params)
            except _StalePage:
                self.stats.problem(
                    "page_expired",
                    f"LookupEvents rejected the stored page token for account {account} "
                    f"Region {region}; the window is read again from its oldest handed-out "
                    "event (no events are repeated).",
                )
                if window.oldest is not None:
                    lowered = max(window.oldest, window.start) + timedelta(seconds=1)
                    window.end = min(window.end, lowered)
                window.next_page = ""
                continue
            if response is None:
                return  # reported; this account/Region resumes from its checkpoint next pull
            self.stats.pages_read += 1
            batch = self._page(scope, window, response, account, region)
            if not window.next_page:
                self._window_done(scope, window)
                self._note_unread(key, scope, now)
            if batch is not None:
                yield batch
            if scope.window is None and scope.cursor is not None and scope.cursor >= now:
                return

    def _next_window(
        self, scope: _Scope, now: datetime, account: str, region: str
    ) -> _Window | None:
        if scope.cursor is None:
            start = now - self._lookback  # first pull: start lookback_hours back
        elif scope.cursor >= now:
            return None
        else:
            start = scope.cursor - self._overlap
        oldest = now - HISTORY + timedelta(minutes=5)
        if start < oldest:
            if scope.cursor is not None and scope.cursor < oldest:
                self.stats.problem(
                    "history_gap",
                    f"LookupEvents keeps 90 days: events of account {account} Region {region} "
                    f"between {_iso(scope.cursor)} and {_iso(oldest)} can no longer be read.",
                )
            start = oldest
        return _Window(start=start, end=now, until=now)

    def _page(
        self,
        scope: _Scope,
        window: _Window,
        response: dict[str, Any],
        account: str,
        region: str,
    ) -> RawBatch | None:
        payload: list[str] = []
        ids: list[str] = []
        for event in response.get("Events") or []:
            event_id = event.get("EventId")
            text = event.get("CloudTrailEvent")
            if not isinstance(event_id, str) or not isinstance(text, str):
                self.stats.events_failed += 1
                self.stats.problem(
                    "event_unreadable",
                    f"Skipped an event of account {account} Region {region} without an "
                    "EventId or CloudTrailEvent string.",
                )
                continue
            digest = event_digest(event_id)
            if scope.seen(digest):
                self.stats.events_duplicate += 1
                continue
            when = event.get("EventTime")
            when = when if isinstance(when, datetime) else window.start
            scope.add(digest, _minute(when))
            payload.append(text)
            ids.append(event_id)
            if window.oldest is None or when < window.oldest:
                window.oldest = when
        window.next_page = str(response.get("NextToken") or "")
        self._bound(scope)
        if not payload:
            return None
        self.stats.events_read += len(payload)
        self._serial += 1
        batch_id = f"lookup:{account}:{region}:{self._serial}"
        self._handed[batch_id] = (account, region)
        return RawBatch(
            batch_id=batch_id,
            kind="lookup",
            source=self.source,
            account_id=account,
            region=region,
            name=f"LookupEvents {account} {region} {_iso(window.start)}..{_iso(window.end)}",
            payload=tuple(payload),
            event_ids=tuple(ids),
        )

    def _window_done(self, scope: _Scope, window: _Window) -> None:
        scope.cursor = window.until
        scope.window = None
        scope.drop_before(_minute(window.until - self._overlap))

    def _bound(self, scope: _Scope) -> None:
        while scope.size() > self._max_ids and len(scope.ids) > 1:
            self.stats.record_evictions += scope.drop_oldest()

    def _call(
        self, client: Any, account: str, region: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One LookupEvents page, paced and retried on throttling (None: give up for now)."""
        for attempt in range(1, self._max_attempts + 1):
            self._limiter.acquire((account, region))
            self.stats.call("cloudtrail:LookupEvents")
            try:
                response: dict[str, Any] = client.lookup_events(**params)
                return response
            except AWS_ERRORS as error:
                kind = classify(error)
                if kind is ErrorKind.STALE_PAGE and "NextToken" in params:
                    raise _StalePage from None
                if kind is ErrorKind.THROTTLED:
                    self.stats.throttles += 1
                    if attempt < self._max_attempts:
                        self._sleep(self._backoff(attempt))
                        continue
                self._failed(account, region, error)
                return None
        return None  # pragma: no cover - the loop always returns

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self._rng()

    def _failed(self, account: str, region: str, error: BaseException) -> None:
        where = f"account {account} Region {region}"
        detail = describe(error)
        tally_and_report(
            self.stats,
            error,
            f"{account}/{region}",
            throttles=False,  # _call counted every throttled attempt
            denied=(
                f"cloudtrail:LookupEvents was denied in {where}: {detail}.",
                "Grant cloudtrail:LookupEvents to the plugin's AWS identity; if the Region is "
                "disabled for the account or blocked by an SCP, remove it from the Regions "
                "setting. The other Regions are still read.",
            ),
            throttled=Problem(
                "throttled",
                f"cloudtrail:LookupEvents stayed throttled in {where} after "
                f"{self._max_attempts} attempts: {detail}.",
                "Another client shares the 2 requests/s quota of this account and Region; "
                "the window is retried on the next pull.",
            ),
            otherwise=Problem(
                "lookup_failed",
                f"cloudtrail:LookupEvents failed in {where}: {detail}.",
                "Retried on the next pull from the same checkpoint.",
            ),
        )

    # ---------------------------------------------------------- pipeline I/O

    def mark_failed(self, batch_id: str, reason: str) -> None:
        """An event of this page could not be decoded: counted and reported, not retried
        (LookupEvents would return the same text)."""
        self.stats.events_failed += 1
        account, region = self._handed.get(batch_id, ("?", "?"))
        self.stats.problem(
            "event_unreadable",
            f"Skipped an event of {batch_id} (account {account} Region {region}): {reason}",
        )

    def commit(self) -> None:
        """Write every account/Region checkpoint (in place)."""
        scopes = dict(self._stored)
        for key, scope in self._working.items():
            scopes[key] = scope.dump()
        self._stored = scopes
        self._sources[self._state_key] = {
            "v": STATE_VERSION,
            "attribute": self._attribute_text,
            "scopes": dict(sorted(scopes.items())),
        }
