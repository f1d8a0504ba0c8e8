"""Trail objects announced by S3 notifications on an SQS queue (the scalable source).

The message shapes understood are in ``sqs_messages.py``; the checkpoint's format in
``sqs_state.py``; concurrent receiving in ``sqs_receive.py``.

Delivery guarantee: **at least once**, with no window in which a crash loses a file.
A message may be deleted only once the alerts built from its object are durable, and in
CE that happens only when ``pull_alerts`` returns and CE saves ``storage`` (outbox, index,
this checkpoint). Deleting in ``commit()`` would leave a window (``commit`` → CE's save)
where a crash drops the events for good. So deletion is two-phase:

1. pull N: the object is handed out; at ``commit()`` its message's receipt handle is
   recorded in ``storage["sources"]["sqs"]["pending_deletes"]`` and its visibility is
   extended to ``hold_seconds`` so it stays hidden until the next pull;
2. pull N+1: the reader finds pull N's pending deletes in the *saved* storage — proof
   that pull N's results were persisted — and deletes those messages before receiving.

If pull N raises, nothing is recorded: the messages reappear after their visibility
timeout and are processed again. If pull N+1 comes after ``hold_seconds``, a message may
be received again before it is deleted; the bounded record of recently read keys
(``recent``) then skips its object. Repeats that slip through both are harmless
downstream: alert ids are stable (CE upserts them) and the Splunk outbox drops ids it
already delivered.

Two refinements keep the checkpoint small at organization scale:

* a message none of whose objects was handed out in this pull (all skipped: a test
  event, another bucket, a digest file, or an object already in the *saved* ``recent``
  record) gave no result that must become durable first, so ``commit()`` deletes it at
  once instead of carrying its handle to the next pull;
* receipt handles are kept up to ``max_pending_bytes``. Messages finished beyond that
  (a catch-up after an outage) are released instead (visibility 0): the next pull
  receives them again, finds their objects in the saved ``recent`` record, and deletes
  them then. That costs one more receive of each and adds one to its receive count.

A pull works until its ``Deadline`` or until it has caught up with the queue (see
``sqs_receive.py``), receiving, fetching, deleting and changing visibility concurrently.

Messages that cannot be processed are handled at the message boundary, one by one
(``docs/readers.md``, SQS): a body that is not a notification of the expected shape
(*malformed*) and a message whose object is missing, denied, too large or corrupt
(*poison*) are reported with the message id and what was wrong, never extended, and then
left to the queue's redrive policy when it has one. On a queue without one, a malformed
message is deleted at once (a retry cannot change its body) and a poison message after
``max_receive_count`` receives, so nothing is retried forever.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import deque
from collections.abc import (
    Collection,
    Generator,
    Iterable,
    Iterator,
    MutableMapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..aws_clients import ClientFactory
from . import sqs_state
from .aws_errors import (
    AWS_ERRORS,
    ErrorKind,
    classify,
    describe,
    report,
    tally,
    tally_and_report,
)
from .base import Clock, Deadline, Problem, RawBatch, ReaderStats, system_clock
from .fetch import DEFAULT_MAX_OBJECT_BYTES, ObjectTooLarge, get_object_bytes, ordered_map
from .layout import parse_trail_key, skip_reason, time_token, token_time
from .sqs_messages import ObjectRef, ParsedMessage, parse_message_body, shown
from .sqs_receive import DEADLINE, LIMIT, Received, ReceiveLoop, run_batches
from .sqs_state import key_digest

__all__ = [
    "ObjectRef",
    "ParsedMessage",
    "SqsNotificationReader",
    "key_digest",
    "parse_message_body",
    "queue_region",
]

MAX_VISIBILITY_SECONDS = 43_200  # SQS maximum (12 hours)
MAX_S3_REGIONS = 8  # S3 clients per pull; other Regions go through the default endpoint
_SYSTEM_ATTRIBUTES = ["ApproximateReceiveCount", "SentTimestamp"]
_QUEUE_REGION = re.compile(
    r"^https?://(?:sqs(?:-fips)?\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\."
)

# Object status within one pull.
_PENDING = "pending"
_HANDED = "handed"
_SKIPPED = "skipped"
_FAILED = "failed"


def queue_region(queue_url: str) -> str | None:
    """The Region in an SQS queue URL (None for custom endpoints)."""
    match = _QUEUE_REGION.match(queue_url)
    if match is None:
        return None
    return match.group(1) or match.group(2)


@dataclass(eq=False)
class _Object:
    ref: ObjectRef
    batch_id: str
    client: Any
    status: str = _PENDING
    queued: bool = False  # handed to the fetchers
    reason: str = ""
    messages: list[_Message] = field(default_factory=list)


@dataclass(eq=False)
class _Message:
    message_id: str  # as shown in problems (escaped, bounded)
    receipt: str
    receive_count: int
    deadline: datetime
    sent: float | None = None  # epoch seconds SQS received it
    objects: list[_Object] = field(default_factory=list)
    poison: str = ""  # why it cannot be processed
    malformed: bool = False  # the body itself is wrong (a retry cannot help)


class SqsNotificationReader:
    """Hands out the trail objects announced on one queue; see the module docstring for
    the deletion protocol. One instance per pull."""

    source = "sqs"

    def __init__(
        self,
        factory: ClientFactory,
        sources: MutableMapping[str, Any],
        *,
        queue_url: str,
        bucket: str | None = None,
        regions: Collection[str] | None = None,
        accounts: Collection[str] | None = None,
        region: str | None = None,
        deadline: Deadline | None = None,
        max_messages_per_pull: int | None = None,
        wait_time_seconds: int = 10,
        visibility_timeout: int = 300,
        hold_seconds: int = 900,
        receive_workers: int = 4,
        fetch_workers: int = 16,
        sqs_workers: int = 8,
        max_pending_bytes: int = 1_500_000,
        max_receive_count: int = 5,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        max_recent_keys: int = 20_000,
        lookback_hours: float = 24,
        state_key: str = "sqs",
        clock: Clock = system_clock,
    ) -> None:
        if not queue_url:
            raise ValueError("queue_url is required: the queue receiving the bucket's events")
        if min(receive_workers, fetch_workers, sqs_workers, max_receive_count) < 1:
            raise ValueError("worker counts and max_receive_count must be ≥ 1")
        if max_messages_per_pull is not None and max_messages_per_pull < 1:
            raise ValueError("max_messages_per_pull must be ≥ 1 (or None: no count limit)")
        if max_recent_keys < 0 or max_pending_bytes < 0:
            raise ValueError("max_recent_keys and max_pending_bytes must be ≥ 0")
        if not 0 <= wait_time_seconds <= 20:
            raise ValueError("wait_time_seconds must be 0-20 (the SQS long-polling maximum)")
        if not 1 <= visibility_timeout <= MAX_VISIBILITY_SECONDS:
            raise ValueError(f"visibility_timeout must be 1-{MAX_VISIBILITY_SECONDS} seconds")
        if not 0 <= hold_seconds <= MAX_VISIBILITY_SECONDS:
            raise ValueError(f"hold_seconds must be 0-{MAX_VISIBILITY_SECONDS} seconds")
        if lookback_hours <= 0:
            raise ValueError(f"lookback_hours must be positive, got {lookback_hours}")
        self._factory = factory
        self._sources = sources
        self._queue_url = queue_url
        self._queue_name = shown(queue_url.rstrip("/").rsplit("/", 1)[-1], 80)
        self._bucket = bucket or None
        self._regions = frozenset(regions) if regions else None
        self._accounts = frozenset(accounts) if accounts else None
        self._region = region or queue_region(queue_url)
        self._deadline = deadline if deadline is not None else Deadline(None)
        # Without a count limit a pull still stops before the recently-read record could
        # forget what this pull read (it is what lets released messages be deleted later).
        self._max_messages = max_messages_per_pull or max(10, max_recent_keys // 2)
        self._wait = wait_time_seconds
        self._visibility = visibility_timeout
        self._hold = hold_seconds
        self._receive_workers = receive_workers
        self._workers = fetch_workers
        self._sqs_workers = sqs_workers
        self._max_pending_bytes = max_pending_bytes
        self._max_receive_count = max_receive_count
        self._max_object_bytes = max_object_bytes
        self._max_recent = max_recent_keys
        self._lookback = timedelta(hours=lookback_hours)
        self._state_key = state_key
        self._clock = clock
        self.stats = ReaderStats(self.source)
        stored = sqs_state.load(sources.get(state_key), queue_url)
        if stored.problem:
            self.stats.problem(
                "checkpoint_unreadable",
                f"The stored SQS checkpoint for queue {self._queue_name} is unusable "
                f"({stored.problem}); it is ignored (messages may be read twice).",
            )
        self._pending_deletes = stored.pending_deletes
        self._recent: deque[str] = deque(stored.recent, maxlen=max_recent_keys or None)
        if not max_recent_keys:
            self._recent.clear()
        self._recent_set = set(self._recent)
        self._poison_reported: deque[str] = deque(stored.reported, maxlen=sqs_state.MAX_REPORTED)
        # Objects that failed to read and are retried when their message comes back:
        # key digest -> delivery time (epoch seconds); dropped once read or out of look-back.
        self._unread = stored.unread
        self._unread_min: float | None = None
        self._unread_dirty = True
        self._horizon = 0.0  # epoch seconds of now - lookback_hours, set by batches()
        self._queued: list[tuple[float, int, _Object]] = []  # heap of objects to fetch
        self._sequence = itertools.count()  # heap tie-break: objects do not compare
        self._messages: list[_Message] = []
        self._live: deque[_Message] = deque()  # in visibility-deadline order
        self._objects: dict[tuple[str, str], _Object] = {}
        self._by_batch: dict[str, _Object] = {}
        self._s3_clients: dict[str, Any] = {}
        self._sqs: Any = None
        self._started = False
        self._stopped_for_budget = False
        self._reported: set[tuple[str, str]] = set()

    # --------------------------------------------------------------- clients

    def _sqs_client(self) -> Any:
        if self._sqs is None:
            self._sqs = self._factory.client("sqs", self._region)
        return self._sqs

    def _s3_client(self, region: str) -> Any:
        """Made on the consumer's thread (building clients is not thread-safe)."""
        if region not in self._s3_clients and len(self._s3_clients) >= MAX_S3_REGIONS:
            region = ""  # botocore follows S3's redirect to the bucket's Region
        client = self._s3_clients.get(region)
        if client is None:
            client = self._factory.client("s3", region or None)
            self._s3_clients[region] = client
        return client

    # --------------------------------------------------------------- reading

    def batches(self) -> Iterator[RawBatch]:
        if self._started:
            raise RuntimeError("batches() can be called once per reader; build one per pull")
        self._started = True
        horizon = self._horizon = (self._clock() - self._lookback).timestamp()
        self._unread = {k: at for k, at in self._unread.items() if at >= horizon}
        self._unread_dirty = True
        self._sqs_client()
        self._flush_pending_deletes()
        loop = ReceiveLoop(
            self._receive,
            deadline=self._deadline,
            limit=self._max_messages,
            workers=self._receive_workers,
            first_wait=self._wait,
            next_wait=min(self._wait, 1),
        )
        to_fetch = self._to_fetch(loop)
        fetches = ordered_map(to_fetch, self._fetch, self._workers, weight=self._weight)
        try:
            for obj, result in fetches:
                self._keep_visible()
                self.stats.call("s3:GetObject")
                if isinstance(result, tuple):
                    yield self._handed(obj, *result)
                else:
                    self._read_failed(obj, result)
        finally:
            _close(fetches)  # cancels fetches not started
            to_fetch.close()
            for received in loop.close():
                self._account(received)
            if loop.stopped in (DEADLINE, LIMIT):
                self._stopped_for_budget = True
        self._keep_visible()

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        """One ReceiveMessage (runs on a receiver thread)."""
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
            VisibilityTimeout=self._visibility,
            MessageSystemAttributeNames=_SYSTEM_ATTRIBUTES,
        )
        messages = response.get("Messages") if isinstance(response, dict) else None
        return messages if isinstance(messages, list) else []

    def _to_fetch(self, loop: ReceiveLoop) -> Generator[_Object, None, None]:
        """The objects to fetch, as messages arrive; stops at the deadline (what is
        received and not fetched then is released at commit)."""
        for received in loop:
            for obj in self._account(received):
                if self._deadline.expired():
                    self._stopped_for_budget = True
                    return
                yield obj

    def _account(self, received: Received) -> list[_Object]:
        self.stats.call("sqs:ReceiveMessage")
        if received.error is not None:
            if not isinstance(received.error, AWS_ERRORS):
                raise received.error  # a bug, not an AWS problem: fail loudly
            self._sqs_failed("ReceiveMessage", received.error)
            return []
        self.stats.messages_received += len(received.messages)
        return self._plan(received.messages)

    def _flush_pending_deletes(self) -> None:
        """Delete the messages the previous, *saved* pull finished (see module docstring).
        Failures are reported and dropped: those messages reappear and are skipped as
        already read."""
        pending, self._pending_deletes = self._pending_deletes, []
        self._delete(pending)

    def _delete(self, receipts: list[str]) -> None:
        chunks = list(_chunks(receipts, 10))

        def call(chunk: list[str]) -> Any:
            entries = [{"Id": str(i), "ReceiptHandle": rh} for i, rh in enumerate(chunk)]
            return self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)

        for result in run_batches(chunks, call, self._sqs_workers):
            self.stats.call("sqs:DeleteMessageBatch")
            if isinstance(result, BaseException):
                self._call_failed("DeleteMessage", result)
            elif isinstance(result, dict):
                self.stats.messages_deleted += len(result.get("Successful") or [])

    def _call_failed(self, action: str, error: BaseException) -> None:
        if not isinstance(error, AWS_ERRORS):
            raise error  # a bug, not an AWS problem: fail loudly
        self._sqs_failed(action, error)

    def _sqs_failed(self, action: str, error: BaseException) -> None:
        kind = tally(self.stats, error, f"queue/{self._queue_name}")
        if (action, kind.value) in self._reported:
            return  # one problem per action and cause per pull, not one per call
        self._reported.add((action, kind.value))
        detail = describe(error)
        report(
            self.stats,
            kind,
            denied=(
                f"sqs:{action} on queue {self._queue_name} was denied: {detail}.",
                f"Grant sqs:{action} on the queue's ARN to the plugin's AWS identity (and "
                "kms:Decrypt if the queue is encrypted with a customer managed key).",
            ),
            not_found=Problem(
                "queue_not_found",
                f"sqs:{action} failed: queue {shown(self._queue_url)} does not exist.",
                "Check the SQS queue URL in the CloudTrail settings.",
            ),
            otherwise=Problem(
                "sqs_failed",
                f"sqs:{action} on queue {self._queue_name} failed: {detail}.",
                "Retried on the next pull.",
            ),
        )

    def _plan(self, raw: Iterable[Any]) -> list[_Object]:
        """Turn received messages into objects to fetch (new ones only, in message order).
        Whatever a message holds, the damage stays within that message."""
        now = self._clock()
        todo: list[_Object] = []
        for item in raw:
            message, parsed = self._message(item, now)
            self._messages.append(message)
            if message.poison:
                continue
            self._live.append(message)
            if parsed.test_event:
                self.stats.objects_skipped["test_event"] += 1
            for reason in parsed.ignored:
                self.stats.objects_skipped[reason] += 1
            for ref in parsed.objects:
                obj = self._object_for(ref)
                obj.messages.append(message)
                message.objects.append(obj)
                if obj.status == _PENDING and not obj.queued:
                    obj.queued = True
                    todo.append(obj)
                    at = _time_of(obj)
                    if at is not None:
                        heapq.heappush(self._queued, (at, next(self._sequence), obj))
        return todo

    def _message(self, item: Any, now: datetime) -> tuple[_Message, ParsedMessage]:
        if not isinstance(item, dict):
            item = {}
        attributes = item.get("Attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        receipt = item.get("ReceiptHandle")
        message = _Message(
            message_id=shown(str(item.get("MessageId") or "(no id)"), 100),
            receipt=receipt if isinstance(receipt, str) else "",
            receive_count=_int(attributes.get("ApproximateReceiveCount"), 1),
            deadline=now + timedelta(seconds=self._visibility),
        )
        sent_ms = _int(attributes.get("SentTimestamp"), 0)
        message.sent = sent_ms / 1000 if sent_ms > 0 else None
        parsed = parse_message_body(item.get("Body"))
        if parsed.error:
            message.poison = parsed.error
            message.malformed = True
        elif not message.receipt:
            message.poison = "it came without a receipt handle"
        return message, parsed

    def _object_for(self, ref: ObjectRef) -> _Object:
        known = self._objects.get((ref.bucket, ref.key))
        if known is not None:
            self.stats.objects_skipped["duplicate_notification"] += 1
            return known
        reason = None
        if self._bucket is not None and ref.bucket != self._bucket:
            reason = "other_bucket"
        else:
            reason = skip_reason(ref.key)
        parsed = parse_trail_key(ref.key) if reason is None else None
        if reason is None and parsed is None:
            reason = "not_a_trail_key"  # outside <prefix>/AWSLogs/...: not ours to read
        if (
            reason is None
            and self._regions is not None
            and parsed is not None
            and parsed.prefix.region not in self._regions
        ):
            reason = "region_not_selected"
        if (
            reason is None
            and self._accounts is not None
            and parsed is not None
            and parsed.prefix.account_id not in self._accounts
        ):
            reason = "account_not_in_scope"
        if reason is None and key_digest(ref.bucket, ref.key) in self._recent_set:
            reason = "already_read"
        client = self._s3_client(ref.region) if reason is None else None
        obj = _Object(ref, batch_id=f"s3://{ref.bucket}/{ref.key}", client=client)
        self._objects[(ref.bucket, ref.key)] = obj
        if reason is not None:
            obj.status = _SKIPPED
            self.stats.objects_skipped[reason] += 1
        return obj

    def _weight(self, obj: _Object) -> int:
        """Bytes an object may hold in flight: the size its notification states, or the
        per-object limit when it states none (the fetch enforces the limit either way)."""
        size = obj.ref.size
        return (
            size
            if size is not None and 0 <= size <= self._max_object_bytes
            else (self._max_object_bytes)
        )

    def _fetch(self, obj: _Object) -> tuple[str, bytes]:
        """GetObject, trying the other spelling of the key on a miss (fetcher thread)."""
        keys = (obj.ref.key, *obj.ref.alternates)
        for i, key in enumerate(keys):
            try:
                return key, get_object_bytes(
                    obj.client, obj.ref.bucket, key, self._max_object_bytes
                )
            except AWS_ERRORS as error:
                if i + 1 == len(keys) or classify(error) is not ErrorKind.NOT_FOUND:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _handed(self, obj: _Object, key: str, data: bytes) -> RawBatch:
        obj.status = _HANDED  # handed out = processed by commit time
        if self._unread.pop(key_digest(obj.ref.bucket, obj.ref.key), None) is not None:
            self._unread_dirty = True
        self.stats.objects_read += 1
        self.stats.bytes_read += len(data)
        self._by_batch[obj.batch_id] = obj
        parsed = parse_trail_key(key)
        return RawBatch(
            batch_id=obj.batch_id,
            kind="object",
            source=self.source,
            account_id=parsed.prefix.account_id if parsed else "",
            region=parsed.prefix.region if parsed else obj.ref.region,
            name=key,
            payload=data,
            bucket=obj.ref.bucket,
        )

    def unread_since(self) -> float | None:
        """The delivery time of the oldest trail object known and not read yet, inside the
        look-back: one that failed to read (this pull, or an earlier one whose message has
        not come back yet) or one of the messages being read. See
        ``EventSource.unread_since``."""
        if not self._started:
            return None
        queued = self._queued
        while queued and (queued[0][2].status != _PENDING or queued[0][0] < self._horizon):
            heapq.heappop(queued)
        if self._unread_dirty:
            inside = [at for at in self._unread.values() if at >= self._horizon]
            self._unread_min = min(inside, default=None)
            self._unread_dirty = False
        marks = [
            at for at in (queued[0][0] if queued else None, self._unread_min) if at is not None
        ]
        return min(marks, default=None)

    def _read_failed(self, obj: _Object, error: BaseException) -> None:
        if not isinstance(error, (*AWS_ERRORS, OSError, ObjectTooLarge)):
            raise error  # a bug, not a data or AWS problem: fail loudly
        where = f"s3://{obj.ref.bucket}/{shown(obj.ref.key)}"
        self.stats.objects_errored += 1
        detail = describe(error)
        kind = tally_and_report(
            self.stats,
            error,
            f"bucket/{obj.ref.bucket}",
            denied=(
                f"Reading {where} was denied: {detail}.",
                f"Grant s3:GetObject on arn:aws:s3:::{obj.ref.bucket}/<prefix>/AWSLogs/* and, "
                "for an SSE-KMS "
                "trail, kms:Decrypt on the trail's KMS key. Its message is left on the queue "
                "for the redrive policy.",
            ),
            otherwise=None,  # the other failures are reported through the message's reason
        )
        if not isinstance(error, ObjectTooLarge) and kind is not ErrorKind.NOT_FOUND:
            # Denied or transient: read when the message comes back (the redrive policy
            # permitting); until then its events may still be needed.
            at = _time_of(obj)
            if at is not None:
                self._unread[key_digest(obj.ref.bucket, obj.ref.key)] = at
                self._unread_dirty = True
        if isinstance(error, ObjectTooLarge):
            reason = (
                f"{where} is {error.size} bytes, over the {self._max_object_bytes}-byte "
                "limit for one trail object"
            )
        elif kind is ErrorKind.NOT_FOUND:
            reason = f"{where} does not exist ({detail})"
        elif kind is ErrorKind.ACCESS_DENIED:
            reason = f"reading {where} was denied ({detail})"
        else:
            reason = f"reading {where} failed ({detail})"
        self._fail(obj, reason)

    def _fail(self, obj: _Object, reason: str) -> None:
        obj.status = _FAILED
        obj.reason = reason
        for message in obj.messages:
            if not message.poison:
                message.poison = reason

    def _keep_visible(self) -> None:
        """Extend the visibility of this pull's live messages before it runs out.

        Covers objects that are slow to read or decode and messages that wait for later
        ones in the same pull. Poison messages are deliberately not extended. Messages
        sit in deadline order, so only the due ones at the front are looked at.
        """
        now = self._clock()
        margin = timedelta(seconds=self._visibility / 2)
        due: list[_Message] = []
        while self._live and self._live[0].deadline - now <= margin:
            message = self._live.popleft()
            if not message.poison:
                due.append(message)
        if due:
            ok = self._change_visibility(due, self._visibility)
            for message in ok:
                message.deadline = now + timedelta(seconds=self._visibility)
                self._live.append(message)
            self.stats.visibility_extensions += len(ok)

    def _change_visibility(self, messages: Sequence[_Message], seconds: int) -> list[_Message]:
        """ChangeMessageVisibilityBatch, concurrently; the messages it succeeded for."""
        chunks = list(_chunks(list(messages), 10))

        def call(chunk: list[_Message]) -> Any:
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": seconds}
                for i, m in enumerate(chunk)
            ]
            return self._sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url, Entries=entries
            )

        done: list[_Message] = []
        for chunk, result in zip(chunks, run_batches(chunks, call, self._sqs_workers), strict=True):
            self.stats.call("sqs:ChangeMessageVisibilityBatch")
            if isinstance(result, BaseException):
                self._call_failed("ChangeMessageVisibility", result)
                continue
            successful = result.get("Successful") if isinstance(result, dict) else None
            ok_ids = {str(e.get("Id")) for e in successful or [] if isinstance(e, dict)}
            done.extend(m for i, m in enumerate(chunk) if str(i) in ok_ids)
        return done

    # ---------------------------------------------------------- pipeline I/O

    def mark_failed(self, batch_id: str, reason: str) -> None:
        """The object is corrupt or not CloudTrail: its message becomes poison (left for
        the redrive policy, so the file stays findable in the dead-letter queue)."""
        self.stats.objects_failed += 1
        obj = self._by_batch.get(batch_id)
        if obj is None:
            self.stats.problem("object_unreadable", f"Skipped {shown(batch_id)}: {reason}")
            return
        where = f"s3://{obj.ref.bucket}/{shown(obj.ref.key)}"
        self._fail(obj, f"{where} is not a readable trail file ({reason})")

    def commit(self) -> None:
        """Record finished messages for deletion by the next pull, delete those that gave
        no result, release the rest; fill the progress figures."""
        if self._messages:
            self._sqs_client()
        attributes = self._queue_attributes()
        redrive = None if attributes is None else bool(attributes.get("RedrivePolicy"))
        two_phase: list[_Message] = []
        delete_now: list[_Message] = []
        unreached: list[_Message] = []
        poisoned = 0
        for message in self._messages:
            handed = any(o.status == _HANDED for o in message.objects)
            if message.poison:
                poisoned += 1
                if not message.receipt:
                    self._report_poison(message, "it cannot be deleted or released")
                elif self._poison_deleted(message, redrive):
                    (two_phase if handed else delete_now).append(message)
                    self._report_poison(message, self._deleted_because(message))
                else:
                    self._report_poison(message, self._left_because(message, redrive))
            elif all(o.status in (_HANDED, _SKIPPED) for o in message.objects):
                (two_phase if handed else delete_now).append(message)
            else:
                unreached.append(message)  # the pipeline stopped before its objects
        if poisoned and redrive is False:
            self.stats.problem(
                "no_redrive_policy",
                f"Queue {self._queue_name} has no redrive policy, so messages that cannot "
                "be processed are deleted by this plugin (malformed ones at once, others "
                f"after {self._max_receive_count} receives) instead of kept in a "
                "dead-letter queue.",
                "Attach a dead-letter queue to it (e.g. maxReceiveCount 5) to keep them "
                "for inspection.",
            )
        kept, overflow = self._within_budget(two_phase)
        self.stats.messages_processed = sum(1 for m in two_phase + delete_now if not m.poison)
        if kept and self._hold:
            self._change_visibility(kept, self._hold)
        if delete_now:
            self._delete([m.receipt for m in delete_now])
        released = unreached + overflow
        if released:
            self.stats.messages_released += len(self._change_visibility(released, 0))
        if overflow:
            self.stats.problem(
                "delete_record_full",
                f"{len(overflow)} messages of queue {self._queue_name} finished this pull "
                f"did not fit the record of pending deletes ({self._max_pending_bytes} "
                "bytes); they were released and are deleted when received again.",
                "Expected while catching up a backlog; if it persists, shorten the poll interval.",
            )
        for obj in self._objects.values():
            if obj.status == _HANDED and self._max_recent:
                digest = key_digest(obj.ref.bucket, obj.ref.key)
                if digest not in self._recent_set:
                    self._recent.append(digest)
        self._recent_set = set(self._recent)
        pending = [m.receipt for m in kept]
        if not self._started:
            pending = self._pending_deletes + pending  # still owed: nothing was flushed
        self._sources[self._state_key] = sqs_state.dump(
            self._queue_url, pending, self._recent, self._unread, self._poison_reported
        )
        self._progress(attributes, len(unreached))

    def _within_budget(self, messages: list[_Message]) -> tuple[list[_Message], list[_Message]]:
        used = 0
        for i, message in enumerate(messages):
            used += sqs_state.pending_entry_bytes(message.receipt)
            if used > self._max_pending_bytes:
                return messages[:i], messages[i:]
        return messages, []

    def _progress(self, attributes: dict[str, Any] | None, unreached: int) -> None:
        visible = _int((attributes or {}).get("ApproximateNumberOfMessages"), 0)
        self.stats.backlog = visible + unreached
        oldest = self.unread_since()
        if visible:
            # Standard queues hand out roughly oldest first: what is still queued was sent
            # around or after the newest message this pull received.
            sent = [m.sent for m in self._messages if m.sent is not None]
            frontier = max(sent) if sent else None
            if frontier is not None:
                oldest = frontier if oldest is None else min(oldest, frontier)
        self.stats.oldest_unread = oldest
        self.stats.budget_exhausted = self._stopped_for_budget
        self.stats.elapsed_seconds = self._deadline.elapsed()

    def _queue_attributes(self) -> dict[str, Any] | None:
        """The queue's backlog and redrive policy (one call per pull); None if unknown."""
        self.stats.call("sqs:GetQueueAttributes")
        try:
            response = self._sqs_client().get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "RedrivePolicy"],
            )
        except AWS_ERRORS as error:
            self._sqs_failed("GetQueueAttributes", error)
            return None
        attributes = response.get("Attributes") if isinstance(response, dict) else None
        return attributes if isinstance(attributes, dict) else {}

    def _poison_deleted(self, message: _Message, redrive: bool | None) -> bool:
        """Whether this plugin deletes a message that cannot be processed: only when the
        queue is known to have no redrive policy (see the module docstring)."""
        if redrive is not False:
            return False
        return message.malformed or message.receive_count >= self._max_receive_count

    def _deleted_because(self, message: _Message) -> str:
        if message.malformed:
            return "deleted: the queue has no redrive policy and a retry cannot change it"
        return f"deleted after {message.receive_count} receives: the queue has no redrive policy"

    def _left_because(self, message: _Message, redrive: bool | None) -> str:
        times = f"received {message.receive_count} times"
        if redrive:
            return f"left for the queue's redrive policy ({times})"
        if redrive is None:
            return f"left on the queue, its redrive policy unknown ({times})"
        return (
            f"left on the queue ({times}; without a redrive policy it is deleted after "
            f"{self._max_receive_count} receives)"
        )

    def _report_poison(self, message: _Message, fate: str) -> None:
        self.stats.messages_poison += 1
        digest = sqs_state.message_digest(message.message_id)
        if digest in self._poison_reported:
            return  # reported when first received; counted, not reported again
        self._poison_reported.append(digest)
        if message.malformed:
            self.stats.problem(
                "message_malformed",
                f"Message {message.message_id} on queue {self._queue_name} is not an S3 "
                f"object notification this plugin reads: {message.poison}; {fate}.",
                "Only the bucket's S3 event notifications (directly, through SNS or "
                "EventBridge) or CloudTrail's SNS notifications belong on this queue; find "
                "who else sends to it (the queue policy's sqs:SendMessage grants).",
            )
            return
        self.stats.problem(
            "poison_message",
            f"Message {message.message_id} on queue {self._queue_name}, {fate}: {message.poison}.",
            "Inspect it in the dead-letter queue; fix the cause (permission, object deleted "
            "by a lifecycle rule, non-CloudTrail writer) and redrive it if needed.",
        )


def _time_of(obj: _Object) -> float | None:
    """The delivery time in an object's key (None for a key without one)."""
    return token_time(time_token(obj.ref.key))


def _int(value: Any, default: int) -> int:
    """An SQS attribute (a decimal string) as an int, ``default`` if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit():
        return int(value)
    return default


def _close(iterator: Iterator[Any]) -> None:
    """Close a generator typed as a plain iterator (``ordered_map``)."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
