"""CloudTrail trail files read straight from the trail bucket (ListObjectsV2 + GetObject).

Built for organization trails (1,000 accounts × 17 Regions = 17,000 account/Region
folders, 3,400 new files a minute):

* **Time-bounded pulls.** A pull works until its ``Deadline`` or until it has caught up;
  listing may use half of the budget, reading the rest. Objects are fetched concurrently
  and handed out oldest first across folders (by delivery minute, so an AssumeRole in one
  Region tends to reach the resolver before the use of its key in another). Whatever is
  handed out is done at ``commit()``; the rest waits for the next pull
  (``stats.backlog``, ``stats.oldest_unread``).
* **Listing that follows what is new** (``s3_schedule``): a folder is listed when its next
  five-minute file is due, quiet folders back off, and listing resumes from the folder's
  cursor. Files CloudTrail delivers late under an older name are found by a *sweep* (a
  listing from the look-back horizon) each folder gets every ``sweep_interval`` minutes.
  Listing runs on a small thread pool, and candidates are merged as a stream (a heap over
  each folder's current page), so memory follows the page size, not the backlog.
  Discovery of accounts and Regions (the ``Delimiter`` walk of ``AWSLogs/``) runs every
  ``discovery_minutes`` on large trails.
* **Bounded state** (``s3_state``): per folder a cursor and a few 8-byte digests. Keys ≤
  the cursor are done unless S3 says they landed late (``LastModified`` more than
  ``LATE_SECONDS`` after their name) and they are not in the folder's late record; the
  cursor trails the clock by ``CURSOR_LAG_MINUTES``, and the files above it that are done
  are kept as digests. Folders quiet for longer than the look-back are dropped.

Guarantees (``docs/readers.md``): late files inside the look-back are read exactly once;
files later than the look-back are not read; restarts lose and repeat nothing; transient
read errors are retried; AccessDenied is retried while the object is inside the look-back,
then reported as ``object_abandoned``; a corrupt object is counted once and not retried.
Nothing is written to storage before ``commit()``.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter, deque
from collections.abc import Collection, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from ..aws_clients import ClientFactory
from .aws_errors import AWS_ERRORS, ErrorKind, classify, describe, tally_and_report
from .base import Clock, Deadline, Problem, RawBatch, ReaderStats, system_clock
from .fetch import DEFAULT_MAX_OBJECT_BYTES, ObjectTooLarge, get_object_bytes, ordered_map
from .layout import (
    ACCOUNT_ID,
    ORG_ID,
    TrailPrefix,
    decode_suffix,
    encode_suffix,
    logs_root,
    skip_reason,
    time_token,
    token_time,
)
from .s3_candidates import (
    DONE,
    FAILED,
    HELD,
    REFUSED,
    Candidate,
    Page,
    Stream,
    landed_late,
    token_minute,
)
from .s3_schedule import Policy, next_due, policy, spread, wants_listing
from .s3_state import (
    CURSOR_LAG_MINUTES,
    STATE_VERSION,
    PrefixState,
    Section,
    UnreadableState,
    decode_section,
    digest,
    encode_section,
    migrate_v1,
    minute_key,
    minute_of,
)

# Candidates held in memory across all folder pages at once (about 300 bytes each).
LIST_MEMORY = 100_000
MIN_PAGE = 10
MAX_PAGE = 1000


class S3TrailReader:
    """Hands out the raw trail objects of one bucket/prefix, one cursor per account/Region.

    ``sources`` is ``storage["sources"]`` (the reader only touches ``sources[state_key]``,
    and only in ``commit()``). One instance per pull; ``deadline`` bounds the pull's time
    (None: no budget).
    """

    source = "s3"

    def __init__(
        self,
        factory: ClientFactory,
        sources: MutableMapping[str, Any],
        *,
        bucket: str,
        prefix: str = "",
        regions: Collection[str] | None = None,
        accounts: Collection[str] | None = None,
        lookback_hours: float = 24,
        deadline: Deadline | None = None,
        max_objects_per_pull: int = 200_000,
        max_seen_keys: int = 20_000,
        max_retry_keys: int = 2_000,
        fetch_workers: int = 12,
        list_workers: int = 16,
        sweeps_per_pull: int = 300,
        small_trail_folders: int = 64,
        max_idle_minutes: int = 15,
        listing_minutes: int = 5,
        discovery_minutes: int = 30,
        bucket_region: str | None = None,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        state_key: str = "s3",
        clock: Clock = system_clock,
    ) -> None:
        if not bucket:
            raise ValueError("bucket is required: the S3 bucket the trail delivers to")
        if lookback_hours <= 0:
            raise ValueError(f"lookback_hours must be positive, got {lookback_hours}")
        if (
            min(max_objects_per_pull, max_seen_keys, fetch_workers, list_workers) < 1
            or min(max_retry_keys, sweeps_per_pull, max_idle_minutes, discovery_minutes) < 1
            or listing_minutes < 1
        ):
            raise ValueError("counts, workers and intervals must be ≥ 1")
        self._factory = factory
        self._sources = sources
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._root = logs_root(self._prefix)
        self._regions = frozenset(regions) if regions else None
        self._accounts = frozenset(accounts) if accounts else None
        self._lookback = timedelta(hours=lookback_hours)
        self._lookback_minutes = max(1, int(lookback_hours * 60))
        self._deadline = deadline
        self._cap = max_objects_per_pull
        self._max_late = max_seen_keys
        self._max_retry = max_retry_keys
        self._fetch_workers = fetch_workers
        self._list_workers = list_workers
        self._sweeps_per_pull = sweeps_per_pull
        self._small = small_trail_folders
        self._max_idle = max_idle_minutes
        self._listing_minutes = listing_minutes
        self._discovery_minutes = discovery_minutes
        self._bucket_region = bucket_region
        self._max_object_bytes = max_object_bytes
        self._state_key = state_key
        self._clock = clock
        self.stats = ReaderStats(self.source)
        self.sweeps = 0  # folders swept this pull
        self.late_found = 0  # late files (below a cursor) handed out this pull
        self._previous_pull: int | None = None
        self._section = self._load(sources.get(state_key))
        self._streams: dict[str, Stream] = {}
        self._done: dict[str, list[tuple[str, bool]]] = {}
        self._retries: list[Candidate] = []
        self._handed: dict[str, Candidate] = {}
        self._inflight: deque[Candidate] = deque()
        self._held: list[Candidate] = []  # failed, no room to retry: hold their cursor
        self._heap: list[tuple[str, int, int, Stream | Candidate]] = []
        self._seq = 0
        self._late_total = sum(len(s.late) for s in self._section.states.values())
        self._retry_total = sum(len(s.retry) for s in self._section.states.values())
        self._page = MAX_PAGE
        self._now = 0
        self._horizon_min = 0
        self._horizon_time: float | None = None
        self._failed_since: float | None = None
        self._unlisted_since: float | None = None
        self._listing_cut = False
        self._reading_cut = False
        self._started = False
        self._finished = False
        self._mono_start = 0.0
        self._refill_pool: ThreadPoolExecutor | None = None
        self._client: Any = None
        self._rule: Policy | None = None
        self._list_until: float | None = None

    # ----------------------------------------------------------------- state

    def _load(self, stored: Any) -> Section:
        if stored is None:
            return Section({})
        now = minute_of(self._clock())
        where = f"s3://{self._bucket}/{self._prefix}"
        if not isinstance(stored, dict) or stored.get("v") not in (1, STATE_VERSION):
            self._unreadable(where)
            return Section({})
        if stored.get("bucket") != self._bucket or stored.get("prefix") != self._prefix:
            self.stats.problem(
                "source_changed",
                f"The trail bucket or prefix changed (now {where}); reading starts over "
                "from the look-back window.",
            )
            return Section({})
        try:
            if stored["v"] == 1:
                return migrate_v1(stored, now)
            section = decode_section(stored, self._root)
        except UnreadableState:
            self._unreadable(where)
            return Section({})
        if isinstance(stored.get("t"), int):
            self._previous_pull = stored["t"]
        return section

    def _unreadable(self, where: str) -> None:
        self.stats.problem(
            "checkpoint_unreadable",
            f"The stored S3 checkpoint for {where} is not in a format this version "
            "understands; reading restarts from the look-back window.",
        )

    def _wanted(self, prefix: TrailPrefix) -> bool:
        """Whether ``prefix`` is one this reader is configured to read."""
        return (self._regions is None or prefix.region in self._regions) and (
            self._accounts is None or prefix.account_id in self._accounts
        )

    # --------------------------------------------------------------- reading

    def batches(self) -> Iterator[RawBatch]:
        if self._started:
            raise RuntimeError("batches() can be called once per reader; build one per pull")
        self._started = True
        self._mono_start = time.monotonic()
        now = self._clock()
        self._now = minute_of(now)
        horizon = now - self._lookback
        self._horizon_time = horizon.timestamp()
        self._horizon_min = minute_of(horizon)
        self._client = self._factory.client("s3", self._bucket_region)
        remaining = self._deadline.remaining() if self._deadline is not None else None
        self._list_until = (
            None
            if remaining is None or self._deadline is None
            else self._deadline.elapsed() + remaining / 2
        )
        # Background page refills share the HTTP connection pool (16 connections in the
        # plugin's boto3 config) with the fetch threads: 12 + 4 keeps within it.
        self._refill_pool = ThreadPoolExecutor(
            max_workers=max(1, self._list_workers // 4), thread_name_prefix="trail-list"
        )
        try:
            rule = self._policy(discovered_now=False)
            if rule.discover:
                self._discover()
                rule = self._policy(discovered_now=True)
            self._rule = rule
            self._open(rule)
            yield from self._fetch()
        finally:
            self._refill_pool.shutdown(wait=False, cancel_futures=True)
            self._finish()

    def _policy(self, *, discovered_now: bool) -> Policy:
        states = self._section.states
        return policy(
            folders=sum(1 for s in states.values() if self._wanted(s.prefix)),
            now=self._now,
            previous_pull=self._previous_pull,
            discovered=self._now if discovered_now else self._section.discovered,
            sweeps_per_pull=self._sweeps_per_pull,
            small_trail_folders=self._small,
            max_idle_minutes=self._max_idle,
            discovery_minutes=self._discovery_minutes,
            lookback_minutes=self._lookback_minutes,
        )

    def _listing_over(self) -> bool:
        if self._deadline is None:
            return False
        if self._deadline.expired():
            return True
        return self._list_until is not None and self._deadline.elapsed() >= self._list_until

    # ------------------------------------------------------------- discovery

    def _common_prefixes(self, prefix: str) -> tuple[list[str], int, BaseException | None]:
        """Child folder names under ``prefix``, the calls made, and the error if any.
        Runs on listing threads: touches no shared state."""
        names: list[str] = []
        calls = 0
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "Delimiter": "/"}
        while True:
            calls += 1
            try:
                page = self._client.list_objects_v2(**params)
            except AWS_ERRORS as error:
                return names, calls, error
            for entry in page.get("CommonPrefixes") or []:
                child = str(entry.get("Prefix", ""))[len(prefix) :].rstrip("/")
                if child:
                    names.append(child)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return names, calls, None
            params["ContinuationToken"] = token

    def _walk(self, prefix: str) -> list[str] | None:
        names, calls, error = self._common_prefixes(prefix)
        for _ in range(calls):
            self.stats.call("s3:ListObjectsV2")
        if error is not None:
            self._listing_failed(prefix, error)
            return None
        return names

    def _discover(self) -> None:
        """Add every account/Region folder under ``<prefix>/AWSLogs/`` (both layouts) not
        known yet; known folders are kept (they are dropped only once quiet)."""
        top = self._walk(self._root)
        if top is None:
            return
        owners: list[tuple[str, str]] = []  # (org id or "", account id)
        for child in sorted(top):
            if ACCOUNT_ID.match(child):
                owners.append(("", child))
            elif ORG_ID.match(child):
                members = self._walk(f"{self._root}{child}/")
                owners.extend((child, a) for a in sorted(members or []) if ACCOUNT_ID.match(a))
        if not owners:
            self.stats.problem(
                "no_trail_logs",
                f"No CloudTrail account folders under s3://{self._bucket}/{self._root}.",
                "Check the bucket name and the prefix (the trail's S3 key prefix, without "
                "'AWSLogs'); a new trail delivers its first files within about 15 minutes.",
            )
        owners = [o for o in owners if self._accounts is None or o[1] in self._accounts]

        def folders() -> Iterator[tuple[str, str]]:
            for owner in owners:
                if self._listing_over():
                    self._listing_cut = True
                    return  # the rest is discovered next pull
                yield owner

        def walk(owner: tuple[str, str]) -> tuple[list[str], int, BaseException | None]:
            org, account = owner
            org_part = f"{org}/" if org else ""
            return self._common_prefixes(f"{self._root}{org_part}{account}/CloudTrail/")

        states = self._section.states
        complete = True
        for (org, account), outcome in ordered_map(folders(), walk, self._list_workers):
            if isinstance(outcome, BaseException):
                raise outcome  # a bug in the walk itself, not an AWS error
            names, calls, error = outcome
            for _ in range(calls):
                self.stats.call("s3:ListObjectsV2")
            if error is not None:
                org_part = f"{org}/" if org else ""
                self._listing_failed(f"{self._root}{org_part}{account}/CloudTrail/", error)
                complete = False
                continue
            for region in sorted(names):
                p = TrailPrefix(self._root, org, account, region)
                if not self._wanted(p) or p.path in states:
                    continue
                states[p.path] = PrefixState(
                    prefix=p, cursor=None, last=self._now, due=self._now, swept=self._now
                )
        if complete and not self._listing_cut:
            self._section.discovered = self._now

    # --------------------------------------------------------------- listing

    def _open(self, rule: Policy) -> None:
        """List the first page of every folder due in this pull (concurrently), then seed
        the merge with each folder's first candidate and the keys to retry."""
        plan: list[tuple[PrefixState, bool]] = []
        for state in self._section.states.values():
            if not self._wanted(state.prefix):
                continue
            listed, sweep = wants_listing(state, self._now, rule)
            if listed:
                plan.append((state, sweep))
        by_path = sorted(plan, key=lambda item: item[0].prefix.path)
        orders = {state.prefix.path: i for i, (state, _s) in enumerate(by_path)}
        # Most urgent first, in case the listing budget runs out: known unread, then due.
        plan.sort(key=lambda item: (not item[0].unread, item[0].due, item[0].prefix.path))
        self._page = max(MIN_PAGE, min(MAX_PAGE, LIST_MEMORY // max(1, len(plan))))
        streams: list[Stream] = []
        for state, sweep in plan:
            p = state.prefix
            horizon_key = minute_key(p, self._horizon_min)
            cursor = state.cursor if state.cursor is not None else horizon_key
            start = min(cursor, horizon_key) if sweep else cursor
            stream = Stream(state, orders[p.path], sweep, start, cursor, next_after=start)
            stream.fresh = state.cursor is None
            streams.append(stream)

        def items() -> Iterator[Stream]:
            for stream in streams:
                if self._listing_over():
                    self._listing_cut = True
                    return  # the rest stays due for the next pull
                yield stream

        for stream, outcome in ordered_map(items(), self._list_page, self._list_workers):
            if isinstance(outcome, BaseException):
                raise outcome  # a bug in page handling, not an AWS error
            if outcome.error is not None and outcome.calls == 1 and not outcome.listed:
                self._apply(stream, outcome)
                continue  # not listed at all: the folder keeps its state
            self._streams[stream.state.prefix.path] = stream
            self.sweeps += stream.sweep
            self._apply(stream, outcome)
            if stream.buffer:
                self._push(stream)
        self._seed_retries()
        marks = [
            self._cursor_time(state)
            for path, state in self._section.states.items()
            if state.unread and path not in self._streams and self._wanted(state.prefix)
        ]
        self._unlisted_since = min(marks, default=None)

    def _cursor_time(self, state: PrefixState) -> float:
        if state.cursor is None:
            return float(self._horizon_time or 0.0)
        found = token_time(state.cursor[-14:])
        return found if found is not None else float(self._horizon_time or 0.0)

    def _list_page(self, stream: Stream) -> Page:
        """One listing request (more while it finds nothing new) from ``stream.next_after``.
        Runs on listing threads: reads the stream's state, changes nothing shared."""
        state = stream.state
        path = state.prefix.path
        keep = self._page
        max_keys = MAX_PAGE if stream.sweep else keep
        cursor = stream.cursor
        after = stream.next_after
        page = Page([], [], set(), "", None, False, 0, Counter(), 0, None)
        while True:
            page.calls += 1
            try:
                response = self._client.list_objects_v2(
                    Bucket=self._bucket, Prefix=path, StartAfter=after, MaxKeys=max_keys
                )
            except AWS_ERRORS as error:
                page.error = error
                return page
            contents = response.get("Contents") or []
            for obj in contents:
                key = str(obj["Key"])
                after = key
                page.last_key = key
                page.listed += 1
                suffix = key[len(path) :]
                reason = skip_reason(key)
                if reason is not None:
                    page.skipped[reason] += 1
                    continue
                token = time_token(suffix)
                page.newest = max(page.newest, token)
                if encode_suffix(state.prefix, suffix) in state.retry:
                    continue  # read through the retry record
                late = landed_late(obj.get("LastModified"), token)
                if key > cursor:
                    if digest(suffix) in state.recent:
                        page.recent_hits.append((suffix, late))
                        page.skipped["already_read"] += 1
                        continue
                    below = False
                elif not late:
                    continue  # at or below the cursor and on time: done
                elif digest(suffix) in state.late:
                    page.late_hits.add(digest(suffix))
                    continue
                else:
                    below = True
                size = int(obj.get("Size") or 0)
                page.candidates.append(
                    Candidate(key, suffix, size, token, late, below, state, stream.order)
                )
                if len(page.candidates) >= keep:
                    return page  # enough for now; the next page starts after ``key``
            if not response.get("IsTruncated") or not contents:
                page.complete = True
                return page

    def _apply(self, stream: Stream, page: Page) -> None:
        """Fold one page into its stream (main thread)."""
        for _ in range(page.calls):
            self.stats.call("s3:ListObjectsV2")
        self.stats.objects_listed += page.listed
        self.stats.objects_skipped.update(page.skipped)
        stream.buffer.extend(page.candidates)
        stream.recent_hits.extend(page.recent_hits)
        stream.late_hits |= page.late_hits
        stream.newest = max(stream.newest, page.newest)
        if page.last_key is not None:
            stream.next_after = page.last_key
        stream.complete = page.complete
        if page.error is not None:
            stream.failed = True
            self._listing_failed(stream.state.prefix.path, page.error, stream.state.prefix)

    def _refill(self, stream: Stream, wait: bool) -> None:
        """Ask for the stream's next page (in the background), or wait for it."""
        if stream.complete or stream.failed:
            return
        if stream.future is None:
            if self._refill_pool is None:
                raise RuntimeError("page refills start only while the fetch pool is running")
            stream.future = self._refill_pool.submit(self._list_page, stream)
        if wait:
            page = stream.future.result()
            stream.future = None
            self._apply(stream, page)

    def _seed_retries(self) -> None:
        """Keys that failed on earlier pulls, read again directly (no listing)."""
        for path, state in self._section.states.items():
            if not state.retry or not self._wanted(state.prefix):
                continue
            stream = self._streams.get(path)
            order = stream.order if stream is not None else 1 << 30
            for encoded, kind in sorted(state.retry.items()):
                suffix = decode_suffix(state.prefix, encoded)
                token = time_token(suffix)
                minute = token_minute(token)
                if kind == "d" and minute is not None and minute < self._horizon_min:
                    continue  # denied and out of the look-back: abandoned at commit
                below = state.cursor is not None and path + suffix <= state.cursor
                cand = Candidate(path + suffix, suffix, -1, token, True, below, state, order, kind)
                self._retries.append(cand)
                self._push(cand)

    def _push(self, item: Stream | Candidate) -> None:
        head = item.buffer[0] if isinstance(item, Stream) else item
        self._seq += 1
        heapq.heappush(self._heap, (head.token, head.order, self._seq, item))

    def _pop(self) -> Candidate | None:
        """The oldest candidate across all folders (refilling a folder's page as needed)."""
        if not self._heap:
            return None
        _t, _o, _s, item = heapq.heappop(self._heap)
        if isinstance(item, Candidate):
            return item
        stream = item
        cand = stream.buffer.popleft()
        if len(stream.buffer) <= self._page // 4:
            self._refill(stream, wait=not stream.buffer)
        if stream.buffer:
            self._push(stream)
        return cand

    # --------------------------------------------------------------- fetching

    def _selected(self) -> Iterator[Candidate]:
        handed = 0
        while True:
            if self._deadline is not None and self._deadline.expired():
                self._reading_cut = bool(self._heap)
                return
            if handed >= self._cap:
                self._reading_cut = bool(self._heap)
                return
            cand = self._pop()
            if cand is None:
                return
            if cand.size > self._max_object_bytes:
                self._too_large(cand, cand.size)
                continue
            if cand.below and cand.late and not cand.retry_kind:
                if self._late_total >= self._max_late:
                    self._refuse(cand)
                    continue
                self.late_found += 1
            if cand.late and not cand.retry_kind:
                self._late_total += 1
            handed += 1
            self._inflight.append(cand)
            yield cand

    def _fetch(self) -> Iterator[RawBatch]:
        client = self._client

        def work(cand: Candidate) -> bytes:
            return get_object_bytes(client, self._bucket, cand.key, self._max_object_bytes)

        def weight(cand: Candidate) -> int:
            # Listed sizes bound the bytes held in flight; a retried key's size is unknown.
            return cand.size if cand.size >= 0 else self._max_object_bytes

        fetched = ordered_map(self._selected(), work, self._fetch_workers, weight=weight)
        for cand, result in fetched:
            self._inflight.popleft()
            self.stats.call("s3:GetObject")
            if isinstance(result, bytes):
                self.stats.objects_read += 1
                self.stats.bytes_read += len(result)
                self._finish_candidate(cand)
                batch_id = f"s3://{self._bucket}/{cand.key}"
                self._handed[batch_id] = cand
                yield RawBatch(
                    batch_id=batch_id,
                    kind="object",
                    source=self.source,
                    account_id=cand.state.prefix.account_id,
                    region=cand.state.prefix.region,
                    name=cand.key,
                    payload=result,
                    bucket=self._bucket,
                )
            else:
                self._read_failed(cand, result)

    def _finish_candidate(self, cand: Candidate) -> None:
        """Handed out or skipped for good: done at commit."""
        cand.status = DONE
        if cand.retry_kind:
            encoded = encode_suffix(cand.state.prefix, cand.suffix)
            if cand.state.retry.pop(encoded, None) is not None:
                self._retry_total -= 1
        self._done.setdefault(cand.state.prefix.path, []).append((cand.suffix, cand.late))

    def _refuse(self, cand: Candidate) -> None:
        cand.status = REFUSED
        self.stats.objects_skipped["record_full"] += 1
        if self.stats.objects_skipped["record_full"] == 1:
            self.stats.problem(
                "processed_record_full",
                f"The record of late trail files read in s3://{self._bucket}/{self._root} "
                f"is full ({self._max_late} files): late files are not read until older "
                "entries leave the look-back window.",
                "Lower lookback_hours, narrow the Regions, or use the SQS source.",
            )

    def _too_large(self, cand: Candidate, size: int) -> None:
        self._finish_candidate(cand)
        self.stats.objects_skipped["too_large"] += 1
        self.stats.problem(
            "object_too_large",
            f"Skipped s3://{self._bucket}/{cand.key}: {size} bytes is over the "
            f"{self._max_object_bytes}-byte limit for one trail object.",
            "Trail files are far smaller; check what writes this object into the trail folder.",
        )

    def _read_failed(self, cand: Candidate, error: BaseException) -> None:
        if isinstance(error, ObjectTooLarge):
            self._too_large(cand, error.size)
            return
        if not isinstance(error, (*AWS_ERRORS, OSError)):
            raise error  # a bug, not a data or AWS problem: fail loudly
        kind = classify(error)
        where = f"s3://{self._bucket}/{cand.key}"
        if kind is ErrorKind.NOT_FOUND:
            # Deleted between listing and reading (lifecycle rule, manual clean-up).
            self._finish_candidate(cand)
            self.stats.objects_skipped["deleted"] += 1
            return
        self.stats.objects_errored += 1
        failed_at = token_time(cand.token)
        if failed_at is not None and (self._failed_since is None or failed_at < self._failed_since):
            self._failed_since = failed_at  # retried later: its events may still matter
        self._keep_for_retry(cand, "d" if kind is ErrorKind.ACCESS_DENIED else "e")
        detail = describe(error)
        tally_and_report(
            self.stats,
            error,
            self._scope(cand.state.prefix, ""),
            denied=(
                f"Reading {where} was denied: {detail}.",
                f"Grant s3:GetObject on arn:aws:s3:::{self._bucket}/<prefix>/AWSLogs/* and, "
                "for an SSE-KMS "
                "trail, kms:Decrypt on the trail's KMS key. The object is retried on later "
                "pulls while it is inside the look-back window.",
            ),
            otherwise=Problem(
                "read_failed",
                f"Reading {where} failed: {detail}.",
                "Retried on the next pull while the object is inside the look-back window.",
            ),
        )

    def _keep_for_retry(self, cand: Candidate, kind: str) -> None:
        encoded = encode_suffix(cand.state.prefix, cand.suffix)
        if cand.retry_kind:
            cand.state.retry[encoded] = kind
            cand.status = FAILED
        elif self._retry_total < self._max_retry:
            cand.state.retry[encoded] = kind
            self._retry_total += 1
            cand.status = FAILED
        else:
            # No room to remember it: the folder's cursor stays before it, so it is
            # listed (and read) again.
            cand.status = HELD
            self._held.append(cand)
            stream = self._streams.get(cand.state.prefix.path)
            if stream is not None:
                stream.held.append(cand)

    def _listing_failed(
        self, prefix: str, error: BaseException, trail_prefix: TrailPrefix | None = None
    ) -> None:
        where = f"s3://{self._bucket}/{prefix}"
        if trail_prefix is not None:
            where += f" (account {trail_prefix.account_id}, Region {trail_prefix.region})"
        detail = describe(error)
        tally_and_report(
            self.stats,
            error,
            self._scope(trail_prefix, prefix),
            denied=(
                f"Listing {where} was denied: {detail}.",
                f"Grant s3:ListBucket on arn:aws:s3:::{self._bucket} (covering this prefix) "
                "to the plugin's AWS identity; the other prefixes are still read.",
            ),
            not_found=Problem(
                "bucket_not_found",
                f"Listing {where} failed: {detail}.",
                "Check the trail bucket name in the CloudTrail settings.",
            ),
            otherwise=Problem(
                "listing_failed",
                f"Listing {where} failed: {detail}.",
                "Transient errors are retried on the next pull; if it persists, check "
                "network access to S3 and the proxy settings.",
            ),
        )

    @staticmethod
    def _scope(trail_prefix: TrailPrefix | None, prefix: str) -> str:
        if trail_prefix is None:
            return prefix
        return f"{trail_prefix.account_id}/{trail_prefix.region}"

    # --------------------------------------------------------------- progress

    def _pending_marks(self) -> list[float]:
        marks: list[float] = []
        if self._inflight:
            found = token_time(self._inflight[0].token)
            if found is not None:
                marks.append(found)
        for _t, _o, _s, item in self._heap[:1]:
            head = item.buffer[0] if isinstance(item, Stream) else item
            found = token_time(head.token)
            if found is not None:
                marks.append(found)
        for cand in self._held:
            found = token_time(cand.token)
            if found is not None:
                marks.append(found)
        for mark in (self._failed_since, self._unlisted_since):
            if mark is not None:
                marks.append(mark)
        return marks

    def unread_since(self) -> float | None:
        """The delivery time of the oldest trail object known and not read yet, inside the
        look-back: one that failed to read, the next one still to hand out (this pull or a
        later one), or, for a folder not listed this pull, its cursor when it had files
        left unread at its last commit. See ``EventSource.unread_since``."""
        if self._horizon_time is None:
            return None
        horizon = self._horizon_time
        return min((m for m in self._pending_marks() if m >= horizon), default=None)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        backlog = sum(len(s.buffer) + len(s.held) for s in self._streams.values())
        backlog += sum(1 for c in self._retries if c.status != DONE)
        self.stats.backlog = backlog
        self.stats.oldest_unread = min(self._pending_marks(), default=None)
        self.stats.budget_exhausted = self._listing_cut or self._reading_cut
        self.stats.elapsed_seconds = (
            self._deadline.elapsed()
            if self._deadline is not None
            else time.monotonic() - self._mono_start
        )

    # ---------------------------------------------------------- pipeline I/O

    def mark_failed(self, batch_id: str, reason: str) -> None:
        """The object was not a readable CloudTrail file: counted, reported, not retried
        (S3 objects are immutable, so a corrupt trail file stays corrupt)."""
        cand = self._handed.get(batch_id)
        self.stats.objects_failed += 1
        name = cand.key if cand else batch_id
        self.stats.problem(
            "object_unreadable",
            f"Skipped s3://{self._bucket}/{name}: {reason}",
            "The object is corrupt, truncated or not a CloudTrail log file; it is counted "
            "once and not retried.",
        )

    def commit(self) -> None:
        """Advance every listed folder's cursor and write the section in place."""
        if not self._started:
            return  # nothing read: nothing to record
        self._finish()
        states = self._section.states
        now = self._now
        for path, state in list(states.items()):
            stream = self._streams.get(path)
            done = self._done.get(path, [])
            if stream is not None:
                self._advance(stream, done)
            elif done:
                for suffix, _late in done:
                    if state.cursor is not None and path + suffix <= state.cursor:
                        state.late.add(digest(suffix))
                    else:
                        state.recent.add(digest(suffix))
            self._abandon_denied(state)
            if (
                stream is not None
                and stream.complete
                and not stream.failed
                and not state.unread
                and not state.retry
                and now - state.last > self._lookback_minutes
            ):
                del states[path]  # quiet for longer than the look-back
        self._sources[self._state_key] = encode_section(
            self._section, bucket=self._bucket, prefix=self._prefix, root=self._root, now=now
        )

    def _advance(self, stream: Stream, done: list[tuple[str, bool]]) -> None:
        """The folder's new cursor, digests and schedule after this pull.

        The cursor moves to the minute of the first file still to read (not handed out,
        or failed with no room in the retry record), never closer to the clock than
        ``CURSOR_LAG_MINUTES``, never past what was listed, and never backwards. Keys this
        pull handed out above the new cursor become ``recent`` digests; late ones at or
        below it become ``late`` digests. A sweep counts as done only once every late file
        it found below the cursor was handed out.
        """
        state = stream.state
        p = state.prefix
        path = p.path
        pending = [c.key for c in stream.buffer] + [c.key for c in stream.held]
        pending += [c.key for c in self._inflight if c.state is state and not c.retry_kind]
        first = min(pending, default=None)
        bound = self._now - CURSOR_LAG_MINUTES
        movable = True
        for limit in (first, None if stream.complete else stream.next_after):
            if limit is None:
                continue
            minute = token_minute(time_token(limit[len(path) :]))
            if minute is None:
                movable = False
            else:
                bound = min(bound, minute)
        proposed = minute_key(p, bound)
        if first is not None and proposed >= first:
            movable = False
        if not stream.complete and proposed >= stream.next_after:
            movable = False
        cursor = max(stream.cursor, proposed) if movable else stream.cursor
        hits = {digest(s) for s, _late in stream.recent_hits}
        recent: set[str] = set() if stream.complete else state.recent - hits
        late = (
            set(stream.late_hits)
            if stream.sweep and stream.complete and stream.start <= stream.cursor
            else set(state.late)
        )
        for suffix, was_late in [*done, *stream.recent_hits]:
            if path + suffix > cursor:
                recent.add(digest(suffix))
            elif was_late:
                late.add(digest(suffix))
        state.cursor = cursor
        state.recent = recent
        state.late = late
        newest = token_minute(stream.newest)
        if newest is not None and newest <= self._now + CURSOR_LAG_MINUTES:
            # A fresh folder's ``last`` was only when it was found.
            state.last = newest if stream.fresh else max(state.last, newest)
        state.unread = bool(pending) or not stream.complete
        state.due = (
            self._now
            if state.unread
            else next_due(state.last, self._now, self._max_idle, self._listing_minutes)
        )
        if stream.fresh:
            # Spread the later sweeps of folders found together over the sweep interval.
            interval = self._rule.sweep_interval if self._rule is not None else 0
            state.swept = self._now - spread(path, interval)
        elif stream.sweep and stream.complete:
            if any(key <= cursor for key in pending):
                # The budget ran out before the late files this sweep found were handed
                # out. A listing from the cursor starts above them, so the sweep is owed
                # again at once (the folder is listed next pull anyway: it has unread files).
                state.swept = min(state.swept, self._now - self._lookback_minutes)
            else:
                state.swept = self._now

    def _abandon_denied(self, state: PrefixState) -> None:
        for encoded, kind in list(state.retry.items()):
            suffix = decode_suffix(state.prefix, encoded)
            minute = token_minute(time_token(suffix))
            if kind != "d" or minute is None or minute >= self._horizon_min:
                continue
            del state.retry[encoded]
            key = state.prefix.path + suffix
            if state.cursor is None or key > state.cursor:
                state.recent.add(digest(suffix))  # given up: do not read it again
            else:
                state.late.add(digest(suffix))
            self.stats.objects_abandoned += 1
            self.stats.problem(
                "object_abandoned",
                f"Gave up on s3://{self._bucket}/{key}: it could not be read and is now "
                "older than the look-back window.",
                "Fix the error reported for it earlier (usually a missing permission) or "
                "raise lookback_hours; its events are not in the results.",
            )
