"""CloudTrail trail files read straight from the trail bucket (ListObjectsV2 + GetObject).

Checkpoint model, per account/Region folder (a "prefix"), kept in
``storage["sources"]["s3"]["prefixes"][<prefix path>]``:

* ``after`` — every key ≤ ``after`` is done (read, skipped or given up); the next listing
  uses it as ``StartAfter``. It never moves past ``now - lookback_hours``, so files that
  CloudTrail delivers late *with an older name* (re-deliveries) are still listed.
* ``seen`` — keys > ``after`` already handed out, so each late file inside the look-back
  window is read exactly once. Entries fall off as ``after`` passes them, and the record
  as a whole is capped (``max_seen_keys``): when full, the oldest entries are dropped and
  their prefix's ``after`` is raised past them (the look-back shrinks for that prefix and
  the event is reported) — bounded storage and bounded work rather than re-reading
  the same files every pull.

An object that cannot be read is retried on later pulls: after a transient failure until
it succeeds, after AccessDenied while it is inside the look-back window (then it is
reported as abandoned). The first pull of a prefix starts ``lookback_hours`` back. Keys
are handed out oldest first, merged across prefixes by delivery minute (an AssumeRole in
one Region then tends to reach the resolver before the use of its key in another), at
most ``max_objects_per_pull`` per pull; the rest follow on later pulls. Nothing is
written to storage before ``commit()``.

``unread_since()`` tells the pipeline the delivery time of the oldest object known and not
read yet (failed, or still to hand out), so held events are not given up past it; each
prefix's checkpoint keeps that time (``unread``) for a pull in which the prefix cannot be
listed.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..aws_clients import ClientFactory
from .aws_errors import AWS_ERRORS, ErrorKind, classify, describe
from .base import Clock, RawBatch, ReaderStats, system_clock
from .fetch import DEFAULT_MAX_OBJECT_BYTES, ObjectTooLarge, get_object_bytes, ordered_map
from .layout import (
    ACCOUNT_ID,
    ORG_ID,
    TrailPrefix,
    decode_suffix,
    encode_suffix,
    logs_root,
    parse_trail_key,
    skip_reason,
    start_after,
    time_token,
    token_time,
)

STATE_VERSION = 1

# Status of a listed key within one pull.
_SEEN = "seen"  # already in the processed-key record
_SKIP = "skip"  # not a trail log file; never recorded
_PENDING = "pending"  # a candidate not handed out (yet)
_DONE = "done"  # handed out, or permanently skipped (too large, deleted): recorded
_ERROR = "error"  # transient failure (throttled, network, 5xx): retried next pull
_DENIED = "denied"  # access denied: retried while inside the look-back, then given up


@dataclass(eq=False)
class _Candidate:
    key: str
    suffix: str
    size: int
    token: str
    order: int
    run: _Run


@dataclass(eq=False)
class _Run:
    """One prefix during one pull."""

    prefix: TrailPrefix
    after: str  # full key
    horizon: str  # full key: StartAfter for "now - lookback"
    seen: set[str]  # encoded suffixes
    listed: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    candidates: list[_Candidate] = field(default_factory=list)
    complete: bool = False


class S3TrailReader:
    """Hands out the raw trail objects of one bucket/prefix, one cursor per account/Region.

    ``sources`` is ``storage["sources"]`` (the reader only touches ``sources[state_key]``,
    and only in ``commit()``). One instance per pull.
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
        max_objects_per_pull: int = 1000,
        max_seen_keys: int = 20_000,
        fetch_workers: int = 8,
        bucket_region: str | None = None,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        state_key: str = "s3",
        clock: Clock = system_clock,
    ) -> None:
        if not bucket:
            raise ValueError("bucket is required: the S3 bucket the trail delivers to")
        if lookback_hours <= 0:
            raise ValueError(f"lookback_hours must be positive, got {lookback_hours}")
        if max_objects_per_pull < 1 or max_seen_keys < 1 or fetch_workers < 1:
            raise ValueError("max_objects_per_pull, max_seen_keys and fetch_workers must be ≥ 1")
        self._factory = factory
        self._sources = sources
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._root = logs_root(self._prefix)
        self._regions = frozenset(regions) if regions else None
        self._accounts = frozenset(accounts) if accounts else None
        self._lookback = timedelta(hours=lookback_hours)
        self._budget = max_objects_per_pull
        self._max_seen = max_seen_keys
        self._workers = fetch_workers
        self._bucket_region = bucket_region
        self._max_object_bytes = max_object_bytes
        self._state_key = state_key
        self._clock = clock
        self.stats = ReaderStats(self.source)
        # Per prefix, the delivery time token of its oldest key not done at the last commit
        # (failed, denied, or beyond the budget): what ``unread_since`` falls back on when
        # the prefix cannot be listed this pull.
        self._stored_unread: dict[str, str] = {}
        self._prefixes: dict[str, tuple[TrailPrefix, str, set[str]]] = self._load(
            sources.get(state_key)
        )
        self._runs: dict[str, _Run] = {}
        self._handed: dict[str, _Candidate] = {}
        self._horizon_time: float | None = None  # epoch seconds of now - lookback_hours
        self._queue: list[_Candidate] = []  # every candidate listed, in hand-out order
        self._next = 0  # the first candidate of ``_queue`` that may still be pending
        self._failed_since: float | None = None  # oldest object failed this pull (retried)
        self._unlisted_since: float | None = None  # oldest stored unread of unlisted prefixes
        self._started = False
        self._committed = False

    # ----------------------------------------------------------------- state

    def _load(self, stored: Any) -> dict[str, tuple[TrailPrefix, str, set[str]]]:
        """Stored cursors as ``{path: (prefix, after_full_key, seen_encoded)}``."""
        if stored is None:
            return {}
        if (
            not isinstance(stored, dict)
            or stored.get("v") != STATE_VERSION
            or not isinstance(stored.get("prefixes"), dict)
        ):
            self.stats.problem(
                "checkpoint_unreadable",
                f"The stored S3 checkpoint for s3://{self._bucket}/{self._prefix} is not in "
                "a format this version understands; reading restarts from the look-back "
                "window.",
            )
            return {}
        if stored.get("bucket") != self._bucket or stored.get("prefix") != self._prefix:
            self.stats.problem(
                "source_changed",
                f"The trail bucket or prefix changed (now s3://{self._bucket}/{self._prefix}); "
                "reading starts over from the look-back window.",
            )
            return {}
        loaded: dict[str, tuple[TrailPrefix, str, set[str]]] = {}
        for path, entry in stored["prefixes"].items():
            parsed = parse_trail_key(f"{path}x") if isinstance(path, str) else None
            if (
                parsed is None
                or parsed.prefix.path != path
                or not isinstance(entry, dict)
                or not isinstance(entry.get("after"), str)
                or not isinstance(entry.get("seen"), list)
            ):
                continue  # a damaged entry only costs that prefix a fresh start
            seen = {s for s in entry["seen"] if isinstance(s, str)}
            loaded[path] = (parsed.prefix, f"{path}{entry['after']}", seen)
            if isinstance(entry.get("unread"), str):
                self._stored_unread[path] = entry["unread"]
        return loaded

    # --------------------------------------------------------------- reading

    def batches(self) -> Iterator[RawBatch]:
        if self._started:
            raise RuntimeError("batches() can be called once per reader; build one per pull")
        self._started = True
        now = self._clock()
        horizon_time = now - self._lookback
        self._horizon_time = horizon_time.timestamp()
        client = self._factory.client("s3", self._bucket_region)
        for order, prefix in enumerate(self._discover(client)):
            run = self._start_run(prefix, start_after(prefix, horizon_time))
            if self._list(client, run, order):
                self._runs[prefix.path] = run
        self._queue = list(
            heapq.merge(
                *(run.candidates for run in self._runs.values()),
                key=lambda c: (c.token, c.order),
            )
        )
        unlisted = [
            token_time(token)
            for path, token in self._stored_unread.items()
            if path not in self._runs and self._wanted(self._prefixes[path][0])
        ]
        self._unlisted_since = min((t for t in unlisted if t is not None), default=None)
        yield from self._fetch(client, self._queue[: self._budget])

    def _wanted(self, prefix: TrailPrefix) -> bool:
        """Whether ``prefix`` is one this reader is configured to read."""
        return (self._regions is None or prefix.region in self._regions) and (
            self._accounts is None or prefix.account_id in self._accounts
        )

    def unread_since(self) -> float | None:
        """The delivery time of the oldest trail object known and not read yet, inside the
        look-back: one that failed to read this pull, the next one still to hand out (this
        pull or a later one), or, for a prefix that could not be listed, the oldest one not
        done when it was last committed. See ``EventSource.unread_since``."""
        if self._horizon_time is None:
            return None
        queue = self._queue
        position = self._next
        while position < len(queue) and queue[position].run.status[queue[position].key] != _PENDING:
            position += 1
        self._next = position
        marks = [self._failed_since, self._unlisted_since]
        if position < len(queue):
            marks.append(token_time(queue[position].token))
        horizon = self._horizon_time
        return min((m for m in marks if m is not None and m >= horizon), default=None)

    def _start_run(self, prefix: TrailPrefix, horizon: str) -> _Run:
        known = self._prefixes.get(prefix.path)
        if known is None:
            # First sight of this prefix: start lookback_hours back.
            return _Run(prefix, after=horizon, horizon=horizon, seen=set())
        _prefix, after, seen = known
        return _Run(prefix, after=after, horizon=horizon, seen=set(seen))

    def _common_prefixes(self, client: Any, prefix: str) -> list[str] | None:
        """Child folder names under ``prefix`` (None when the listing failed; reported)."""
        names: list[str] = []
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "Delimiter": "/"}
        while True:
            self.stats.call("s3:ListObjectsV2")
            try:
                page = client.list_objects_v2(**params)
            except AWS_ERRORS as error:
                self._listing_failed(prefix, error)
                return None
            for entry in page.get("CommonPrefixes") or []:
                child = str(entry.get("Prefix", ""))[len(prefix) :].rstrip("/")
                if child:
                    names.append(child)
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return names
            params["ContinuationToken"] = token

    def _discover(self, client: Any) -> list[TrailPrefix]:
        """Every account/Region folder under ``<prefix>/AWSLogs/`` (both layouts)."""
        top = self._common_prefixes(client, self._root)
        if top is None:
            return []
        owners: list[tuple[str, str]] = []  # (org id or "", account id)
        for child in sorted(top):
            if ACCOUNT_ID.match(child):
                owners.append(("", child))
            elif ORG_ID.match(child):
                members = self._common_prefixes(client, f"{self._root}{child}/")
                owners.extend((child, a) for a in sorted(members or []) if ACCOUNT_ID.match(a))
        if not owners:
            self.stats.problem(
                "no_trail_logs",
                f"No CloudTrail account folders under s3://{self._bucket}/{self._root}.",
                "Check the bucket name and the prefix (the trail's S3 key prefix, without "
                "'AWSLogs'); a new trail delivers its first files within about 15 minutes.",
            )
        found: list[TrailPrefix] = []
        for org, account in owners:
            if self._accounts is not None and account not in self._accounts:
                continue
            org_part = f"{org}/" if org else ""
            folder = f"{self._root}{org_part}{account}/CloudTrail/"
            regions = self._common_prefixes(client, folder)
            for region in sorted(regions or []):
                if self._regions is not None and region not in self._regions:
                    continue
                found.append(TrailPrefix(self._root, org, account, region))
        return found

    def _list(self, client: Any, run: _Run, order: int) -> bool:
        """List ``run``'s prefix from its cursor until enough new keys are found."""
        prefix = run.prefix
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Prefix": prefix.path,
            "StartAfter": run.after,
        }
        while True:
            self.stats.call("s3:ListObjectsV2")
            try:
                page = client.list_objects_v2(**params)
            except AWS_ERRORS as error:
                self._listing_failed(prefix.path, error, prefix)
                return False
            for obj in page.get("Contents") or []:
                key = str(obj["Key"])
                suffix = key[len(prefix.path) :]
                run.listed.append(key)
                self.stats.objects_listed += 1
                reason = skip_reason(key)
                if reason is not None:
                    run.status[key] = _SKIP
                    self.stats.objects_skipped[reason] += 1
                elif encode_suffix(prefix, suffix) in run.seen:
                    run.status[key] = _SEEN
                    self.stats.objects_skipped["already_read"] += 1
                else:
                    run.status[key] = _PENDING
                    run.candidates.append(
                        _Candidate(
                            key, suffix, int(obj.get("Size") or 0), time_token(suffix), order, run
                        )
                    )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                run.complete = True
                return True
            if len(run.candidates) >= self._budget:
                return True  # enough for this pull; the cursor stops at the last handled key
            params["ContinuationToken"] = token

    def _listing_failed(
        self, prefix: str, error: BaseException, trail_prefix: TrailPrefix | None = None
    ) -> None:
        kind = classify(error)
        where = f"s3://{self._bucket}/{prefix}"
        if trail_prefix is not None:
            where += f" (account {trail_prefix.account_id}, Region {trail_prefix.region})"
        if kind is ErrorKind.ACCESS_DENIED:
            self.stats.access_denied[self._scope(trail_prefix, prefix)] += 1
            self.stats.problem(
                "access_denied",
                f"Listing {where} was denied: {describe(error)}.",
                f"Grant s3:ListBucket on arn:aws:s3:::{self._bucket} (covering this prefix) "
                "to the plugin's AWS identity; the other prefixes are still read.",
            )
        elif kind is ErrorKind.NOT_FOUND:
            self.stats.problem(
                "bucket_not_found",
                f"Listing {where} failed: {describe(error)}.",
                "Check the trail bucket name in the CloudTrail settings.",
            )
        else:
            if kind is ErrorKind.THROTTLED:
                self.stats.throttles += 1
            self.stats.problem(
                "listing_failed",
                f"Listing {where} failed: {describe(error)}.",
                "Transient errors are retried on the next pull; if it persists, check "
                "network access to S3 and the proxy settings.",
            )

    @staticmethod
    def _scope(trail_prefix: TrailPrefix | None, prefix: str) -> str:
        if trail_prefix is None:
            return prefix
        return f"{trail_prefix.account_id}/{trail_prefix.region}"

    def _fetch(self, client: Any, selected: list[_Candidate]) -> Iterator[RawBatch]:
        wanted: list[_Candidate] = []
        for cand in selected:
            if cand.size > self._max_object_bytes:
                self._too_large(cand, cand.size)
            else:
                wanted.append(cand)

        def work(cand: _Candidate) -> bytes:
            return get_object_bytes(client, self._bucket, cand.key, self._max_object_bytes)

        for cand, result in ordered_map(wanted, work, self._workers):
            self.stats.call("s3:GetObject")
            if isinstance(result, bytes):
                self.stats.objects_read += 1
                self.stats.bytes_read += len(result)
                cand.run.status[cand.key] = _DONE  # handed out = processed by commit time
                batch_id = f"s3://{self._bucket}/{cand.key}"
                self._handed[batch_id] = cand
                yield RawBatch(
                    batch_id=batch_id,
                    kind="object",
                    source=self.source,
                    account_id=cand.run.prefix.account_id,
                    region=cand.run.prefix.region,
                    name=cand.key,
                    payload=result,
                    bucket=self._bucket,
                )
            else:
                self._read_failed(cand, result)

    def _too_large(self, cand: _Candidate, size: int) -> None:
        cand.run.status[cand.key] = _DONE
        self.stats.objects_skipped["too_large"] += 1
        self.stats.problem(
            "object_too_large",
            f"Skipped s3://{self._bucket}/{cand.key}: {size} bytes is over the "
            f"{self._max_object_bytes}-byte limit for one trail object.",
            "Trail files are far smaller; check what writes this object into the trail folder.",
        )

    def _read_failed(self, cand: _Candidate, error: BaseException) -> None:
        if isinstance(error, ObjectTooLarge):
            self._too_large(cand, error.size)
            return
        if not isinstance(error, (*AWS_ERRORS, OSError)):
            raise error  # a bug, not a data or AWS problem: fail loudly
        kind = classify(error)
        where = f"s3://{self._bucket}/{cand.key}"
        if kind is ErrorKind.NOT_FOUND:
            # Deleted between listing and reading (lifecycle rule, manual clean-up).
            cand.run.status[cand.key] = _DONE
            self.stats.objects_skipped["deleted"] += 1
            return
        self.stats.objects_errored += 1
        failed_at = token_time(cand.token)
        if failed_at is not None and (self._failed_since is None or failed_at < self._failed_since):
            self._failed_since = failed_at  # retried later: its events may still matter
        if kind is ErrorKind.ACCESS_DENIED:
            cand.run.status[cand.key] = _DENIED
            self.stats.access_denied[self._scope(cand.run.prefix, "")] += 1
            self.stats.problem(
                "access_denied",
                f"Reading {where} was denied: {describe(error)}.",
                f"Grant s3:GetObject on arn:aws:s3:::{self._bucket}/<prefix>/AWSLogs/* and, "
                "for an SSE-KMS "
                "trail, kms:Decrypt on the trail's KMS key. The object is retried on later "
                "pulls while it is inside the look-back window.",
            )
            return
        cand.run.status[cand.key] = _ERROR
        if kind is ErrorKind.THROTTLED:
            self.stats.throttles += 1
        self.stats.problem(
            "read_failed",
            f"Reading {where} failed: {describe(error)}.",
            "Retried on the next pull while the object is inside the look-back window.",
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
        """Advance every listed prefix's cursor and write the section in place."""
        self._committed = True
        prefixes = dict(self._prefixes)
        unread = dict(self._stored_unread)
        errors: list[tuple[str, str]] = []  # (prefix path, key)
        for path, run in self._runs.items():
            after, seen = self._advance(run)
            prefixes[path] = (run.prefix, after, seen)
            errors.extend((path, k) for k in run.listed if run.status.get(k) in (_ERROR, _DENIED))
            unread.pop(path, None)
        prefixes = self._cap(prefixes)
        for path, run in self._runs.items():
            tokens = [
                time_token(key[len(path) :])
                for key in run.listed
                if run.status.get(key) in (_ERROR, _DENIED, _PENDING) and key > prefixes[path][1]
            ]
            if tokens:
                unread[path] = min(tokens)
        self._stored_unread = unread
        for path, key in errors:
            if key <= prefixes[path][1]:
                self.stats.objects_abandoned += 1
                self.stats.problem(
                    "object_abandoned",
                    f"Gave up on s3://{self._bucket}/{key}: it could not be read and is now "
                    "older than the look-back window.",
                    "Fix the error reported for it earlier (usually a missing permission) or "
                    "raise lookback_hours; its events are not in the results.",
                )
        self._prefixes = prefixes
        self._sources[self._state_key] = {
            "v": STATE_VERSION,
            "bucket": self._bucket,
            "prefix": self._prefix,
            "prefixes": {
                path: {
                    "after": after[len(path) :],
                    "seen": sorted(seen),
                    **({"unread": unread[path]} if path in unread else {}),
                }
                for path, (_p, after, seen) in sorted(prefixes.items())
            },
        }

    def _advance(self, run: _Run) -> tuple[str, set[str]]:
        """The new ``(after, seen)`` of one prefix.

        ``after`` moves to the last key before the first one still to do, but never past
        the look-back horizon, and never backwards. Still to do: keys not reached (the
        budget ran out), keys that failed transiently (retried on every pull, even during
        a catch-up older than the look-back; only the record's cap can give up on them)
        and denied keys inside the look-back. A denied key older than the look-back is
        given up (a permission is not fixed by retrying) and reported as abandoned.
        """
        frontier = run.after
        finished = run.complete
        for key in run.listed:
            status = run.status[key]
            # A denied key never holds the cursor back: ``after`` stays ≤ the horizon, so
            # the key is retried while inside the look-back and abandoned once older.
            if status in (_SEEN, _SKIP, _DONE, _DENIED):
                frontier = key
            else:
                finished = False
                break
        target = run.horizon if finished else min(run.horizon, frontier)
        after = max(run.after, target)
        prefix = run.prefix
        seen = {e for e in run.seen if prefix.path + decode_suffix(prefix, e) > after}
        for key in run.listed:
            if run.status[key] == _DONE and key > after:
                seen.add(encode_suffix(prefix, key[len(prefix.path) :]))
        return after, seen

    def _cap(
        self, prefixes: dict[str, tuple[TrailPrefix, str, set[str]]]
    ) -> dict[str, tuple[TrailPrefix, str, set[str]]]:
        """Keep the processed-key record within ``max_seen_keys`` (oldest dropped first)."""
        total = sum(len(seen) for _p, _a, seen in prefixes.values())
        if total <= self._max_seen:
            return prefixes
        entries = sorted(
            (time_token(decode_suffix(p, e)), p.path + decode_suffix(p, e), path, e)
            for path, (p, _after, seen) in prefixes.items()
            for e in seen
        )
        capped = {path: (p, after, set(seen)) for path, (p, after, seen) in prefixes.items()}
        shortened: set[str] = set()
        for _token, key, path, encoded in entries[: total - self._max_seen]:
            p, after, seen = capped[path]
            seen.discard(encoded)
            capped[path] = (p, max(after, key), seen)
            shortened.add(path)
        self.stats.record_evictions += total - self._max_seen
        self.stats.problem(
            "processed_record_full",
            f"The record of processed trail files in s3://{self._bucket}/{self._root} is full "
            f"({self._max_seen} keys): the look-back for late files was shortened for "
            f"{len(shortened)} account/Region prefixes.",
            "Lower lookback_hours, narrow the Regions, or use the SQS source for large trails.",
        )
        for path, (p, after, seen) in capped.items():
            capped[path] = (p, after, {e for e in seen if p.path + decode_suffix(p, e) > after})
        return capped
