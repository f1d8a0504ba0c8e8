"""Trail objects announced by S3 notifications on an SQS queue (the scalable source).

Message shapes understood (each possibly wrapped in an SNS ``Notification`` envelope):
S3 event notifications (``Records[].s3``; keys URL-encoded, ``+`` is a space), EventBridge
``Object Created`` events (keys as-is), and CloudTrail's own SNS notification
(``s3Bucket`` + ``s3ObjectKey`` list). ``s3:TestEvent`` messages are skipped.

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
(``recent``) then skips its object and the message is deleted one pull later. Repeats
that slip through both are harmless downstream: alert ids are stable (CE upserts them)
and the Splunk outbox drops ids it already delivered.

Poison messages (unparseable, object missing or unreadable, or reported corrupt through
``mark_failed``) are neither deleted nor kept visible-extended: the queue's redrive
policy moves them to a dead-letter queue after ``maxReceiveCount`` receives; they are
counted and reported, and a missing redrive policy is reported once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Collection, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from ..aws_clients import ClientFactory
from .aws_errors import AWS_ERRORS, ErrorKind, classify, describe
from .base import Clock, RawBatch, ReaderStats, system_clock
from .fetch import DEFAULT_MAX_OBJECT_BYTES, ObjectTooLarge, get_object_bytes, ordered_map
from .layout import parse_trail_key, skip_reason, time_token, token_time

STATE_VERSION = 1
MAX_UNREAD_KEYS = 1_000  # objects remembered as failed to read (the oldest are kept)
MAX_VISIBILITY_SECONDS = 43_200  # SQS maximum (12 hours)
_QUEUE_REGION = re.compile(r"^https?://(?:sqs\.([a-z0-9-]+)\.|([a-z0-9-]+)\.queue\.)amazonaws\.")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """One S3 object a notification announces. ``alternates`` are other spellings of the
    key tried if the first is missing (S3 notifications URL-encode keys, EventBridge does
    not; trying the other form costs one call and only on a miss)."""

    bucket: str
    key: str
    alternates: tuple[str, ...] = ()
    region: str = ""
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    objects: tuple[ObjectRef, ...] = ()
    test_event: bool = False
    ignored: tuple[str, ...] = ()  # reasons for records that announce nothing to read
    error: str = ""  # the body is not a notification this reader understands


def parse_message_body(body: str) -> ParsedMessage:
    """What an SQS message body announces (pure; unit-tested on every shape)."""
    try:
        doc: Any = json.loads(body)
    except ValueError:
        return ParsedMessage(error="the message body is not JSON")
    if isinstance(doc, dict) and doc.get("Type") == "Notification" and "Message" in doc:
        try:
            doc = json.loads(str(doc["Message"]))
        except ValueError:
            return ParsedMessage(error="the SNS envelope's Message is not JSON")
    if not isinstance(doc, dict):
        return ParsedMessage(error="the message is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return ParsedMessage(test_event=True)
    if isinstance(doc.get("Records"), list):
        return _s3_event(doc["Records"])
    if doc.get("detail-type") == "Object Created" and doc.get("source") == "aws.s3":
        return _eventbridge(doc)
    if "s3Bucket" in doc and isinstance(doc.get("s3ObjectKey"), list):
        bucket = str(doc["s3Bucket"])
        keys = [str(k) for k in doc["s3ObjectKey"] if isinstance(k, str) and k]
        return ParsedMessage(objects=tuple(ObjectRef(bucket, k) for k in keys))
    return ParsedMessage(error="the message is not an S3 object notification")


def _s3_event(records: list[Any]) -> ParsedMessage:
    objects: list[ObjectRef] = []
    ignored: list[str] = []
    for record in records:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict):
            ignored.append("not_s3_record")
            continue
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            ignored.append("not_object_created")
            continue
        bucket = (s3.get("bucket") or {}).get("name")
        obj = s3.get("object") or {}
        raw_key = obj.get("key")
        if not bucket or not isinstance(raw_key, str) or not raw_key:
            ignored.append("no_object_key")
            continue
        key = unquote_plus(raw_key)  # documented: URL-encoded, "+" for space
        size = obj.get("size")
        objects.append(
            ObjectRef(
                str(bucket),
                key,
                alternates=(raw_key,) if raw_key != key else (),
                region=str(record.get("awsRegion") or ""),
                size=size if isinstance(size, int) else None,
            )
        )
    return ParsedMessage(objects=tuple(objects), ignored=tuple(ignored))


def _eventbridge(doc: dict[str, Any]) -> ParsedMessage:
    detail = doc.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    key = obj.get("key")
    if not bucket or not isinstance(key, str) or not key:
        return ParsedMessage(ignored=("no_object_key",))
    decoded = unquote_plus(key)
    size = obj.get("size")
    return ParsedMessage(
        objects=(
            ObjectRef(
                str(bucket),
                key,
                alternates=(decoded,) if decoded != key else (),
                region=str(doc.get("region") or ""),
                size=size if isinstance(size, int) else None,
            ),
        )
    )


def queue_region(queue_url: str) -> str | None:
    """The Region in an SQS queue URL (None for custom endpoints)."""
    match = _QUEUE_REGION.match(queue_url)
    if match is None:
        return None
    return match.group(1) or match.group(2)


def key_digest(bucket: str, key: str) -> str:
    """Short, stable id of an object for the recently-read record (64 bits)."""
    return hashlib.blake2b(f"{bucket}/{key}".encode(), digest_size=8).hexdigest()


# Object status within one pull.
_PENDING = "pending"
_HANDED = "handed"
_SKIPPED = "skipped"
_FAILED = "failed"


@dataclass(eq=False)
class _Object:
    ref: ObjectRef
    batch_id: str
    status: str = _PENDING
    reason: str = ""
    messages: list[_Message] = field(default_factory=list)


@dataclass(eq=False)
class _Message:
    message_id: str
    receipt: str
    receive_count: int
    deadline: datetime
    objects: list[_Object] = field(default_factory=list)
    poison: str = ""  # why it is left for the redrive policy


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
        region: str | None = None,
        max_messages_per_pull: int = 100,
        wait_time_seconds: int = 10,
        visibility_timeout: int = 300,
        hold_seconds: int = 900,
        fetch_workers: int = 8,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
        max_recent_keys: int = 5_000,
        lookback_hours: float = 24,
        state_key: str = "sqs",
        clock: Clock = system_clock,
    ) -> None:
        if not queue_url:
            raise ValueError("queue_url is required: the queue receiving the bucket's events")
        if max_messages_per_pull < 1 or fetch_workers < 1 or max_recent_keys < 0:
            raise ValueError("max_messages_per_pull and fetch_workers must be ≥ 1")
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
        self._queue_name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self._bucket = bucket or None
        self._regions = frozenset(regions) if regions else None
        self._region = region or queue_region(queue_url)
        self._max_messages = max_messages_per_pull
        self._wait = wait_time_seconds
        self._visibility = visibility_timeout
        self._hold = hold_seconds
        self._workers = fetch_workers
        self._max_object_bytes = max_object_bytes
        self._max_recent = max_recent_keys
        self._lookback = timedelta(hours=lookback_hours)
        self._state_key = state_key
        self._clock = clock
        self.stats = ReaderStats(self.source)
        stored = self._load(sources.get(state_key))
        self._pending_deletes: list[tuple[str, str]] = stored[0]
        self._recent: deque[str] = deque(stored[1], maxlen=max_recent_keys or None)
        self._recent_set = set(self._recent)
        # Objects that failed to read and are retried when their message comes back:
        # key digest -> delivery time (epoch seconds); dropped once read or out of look-back.
        self._unread: dict[str, float] = stored[2]
        self._todo: list[_Object] = []  # the objects of the messages being read
        self._horizon = 0.0  # epoch seconds of now - lookback_hours, set by batches()
        self._messages: list[_Message] = []
        self._objects: dict[tuple[str, str], _Object] = {}
        self._by_batch: dict[str, _Object] = {}
        self._s3_clients: dict[str, Any] = {}
        self._sqs: Any = None
        self._started = False
        self._redrive_checked = False

    # ----------------------------------------------------------------- state

    def _load(self, stored: Any) -> tuple[list[tuple[str, str]], list[str], dict[str, float]]:
        if stored is None:
            return [], [], {}
        if not isinstance(stored, dict) or stored.get("v") != STATE_VERSION:
            self.stats.problem(
                "checkpoint_unreadable",
                f"The stored SQS checkpoint for queue {self._queue_name} is not in a format "
                "this version understands; it is ignored (messages may be read twice).",
            )
            return [], [], {}
        recent = [r for r in stored.get("recent") or [] if isinstance(r, str)]
        raw_unread = stored.get("unread")
        unread = {
            str(digest): float(at)
            for digest, at in (raw_unread.items() if isinstance(raw_unread, dict) else ())
            if isinstance(at, int | float) and not isinstance(at, bool)
        }
        if stored.get("queue_url") != self._queue_url:
            return [], recent, unread  # the old queue's receipt handles mean nothing here
        pending = [
            (str(p["id"]), str(p["rh"]))
            for p in stored.get("pending_deletes") or []
            if isinstance(p, dict) and p.get("rh")
        ]
        return pending, recent, unread

    # --------------------------------------------------------------- reading

    def _sqs_client(self) -> Any:
        if self._sqs is None:
            self._sqs = self._factory.client("sqs", self._region)
        return self._sqs

    def _s3_client(self, region: str) -> Any:
        client = self._s3_clients.get(region)
        if client is None:
            client = self._factory.client("s3", region or None)
            self._s3_clients[region] = client
        return client

    def batches(self) -> Iterator[RawBatch]:
        if self._started:
            raise RuntimeError("batches() can be called once per reader; build one per pull")
        self._started = True
        horizon = self._horizon = (self._clock() - self._lookback).timestamp()
        self._unread = {k: at for k, at in self._unread.items() if at >= horizon}
        self._flush_pending_deletes()
        received = 0
        wait = self._wait
        while received < self._max_messages:
            raw = self._receive(min(10, self._max_messages - received), wait)
            if not raw:
                break
            # Later calls still long-poll (no false empties) but do not wait long at the end.
            wait = min(self._wait, 1)
            received += len(raw)
            todo = self._plan(raw)
            yield from self._read(todo)
        self._keep_visible()

    def _flush_pending_deletes(self) -> None:
        """Delete the messages the previous, *saved* pull finished (see module docstring)."""
        pending, self._pending_deletes = self._pending_deletes, []
        for chunk in _chunks(pending, 10):
            entries = [{"Id": str(i), "ReceiptHandle": rh} for i, (_mid, rh) in enumerate(chunk)]
            self.stats.call("sqs:DeleteMessageBatch")
            try:
                result = self._sqs_client().delete_message_batch(
                    QueueUrl=self._queue_url, Entries=entries
                )
            except AWS_ERRORS as error:
                self._sqs_failed("DeleteMessage", error)
                return  # undeleted messages reappear and are skipped as already read
            self.stats.messages_deleted += len(result.get("Successful") or [])

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        self.stats.call("sqs:ReceiveMessage")
        try:
            response = self._sqs_client().receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self._visibility,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except AWS_ERRORS as error:
            self._sqs_failed("ReceiveMessage", error)
            return []
        messages: list[dict[str, Any]] = response.get("Messages") or []
        self.stats.messages_received += len(messages)
        return messages

    def _sqs_failed(self, action: str, error: BaseException) -> None:
        kind = classify(error)
        if kind is ErrorKind.ACCESS_DENIED:
            self.stats.access_denied[f"queue/{self._queue_name}"] += 1
            self.stats.problem(
                "access_denied",
                f"sqs:{action} on queue {self._queue_name} was denied: {describe(error)}.",
                f"Grant sqs:{action} on the queue's ARN to the plugin's AWS identity (and "
                "kms:Decrypt if the queue is encrypted with a customer managed key).",
            )
        elif kind is ErrorKind.NOT_FOUND:
            self.stats.problem(
                "queue_not_found",
                f"sqs:{action} failed: queue {self._queue_url} does not exist.",
                "Check the SQS queue URL in the CloudTrail settings.",
            )
        else:
            if kind is ErrorKind.THROTTLED:
                self.stats.throttles += 1
            self.stats.problem(
                "sqs_failed",
                f"sqs:{action} on queue {self._queue_name} failed: {describe(error)}.",
                "Retried on the next pull.",
            )

    def _plan(self, raw: Iterable[dict[str, Any]]) -> list[_Object]:
        """Turn received messages into objects to read (new ones only, in message order)."""
        now = self._clock()
        todo: list[_Object] = []
        for item in raw:
            attributes = item.get("Attributes") or {}
            message = _Message(
                message_id=str(item.get("MessageId", "")),
                receipt=str(item.get("ReceiptHandle", "")),
                receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
                deadline=now + timedelta(seconds=self._visibility),
            )
            self._messages.append(message)
            parsed = parse_message_body(str(item.get("Body", "")))
            if parsed.error:
                message.poison = parsed.error
                continue
            if parsed.test_event:
                self.stats.objects_skipped["test_event"] += 1
            for reason in parsed.ignored:
                self.stats.objects_skipped[reason] += 1
            for ref in parsed.objects:
                obj = self._object_for(ref)
                obj.messages.append(message)
                message.objects.append(obj)
                if obj.status == _PENDING and obj not in todo:
                    todo.append(obj)
        return todo

    def _object_for(self, ref: ObjectRef) -> _Object:
        known = self._objects.get((ref.bucket, ref.key))
        if known is not None:
            self.stats.objects_skipped["duplicate_notification"] += 1
            return known
        obj = _Object(ref, batch_id=f"s3://{ref.bucket}/{ref.key}")
        self._objects[(ref.bucket, ref.key)] = obj
        reason = None
        if self._bucket is not None and ref.bucket != self._bucket:
            reason = "other_bucket"
        else:
            reason = skip_reason(ref.key)
        parsed = parse_trail_key(ref.key)
        if reason is None and parsed is None:
            reason = "not_a_trail_key"  # outside <prefix>/AWSLogs/...: not ours to read
        if (
            reason is None
            and self._regions is not None
            and parsed is not None
            and parsed.prefix.region not in self._regions
        ):
            reason = "region_not_selected"
        if reason is None and key_digest(ref.bucket, ref.key) in self._recent_set:
            reason = "already_read"
        if reason is not None:
            obj.status = _SKIPPED
            self.stats.objects_skipped[reason] += 1
        return obj

    def unread_since(self) -> float | None:
        """The delivery time of the oldest trail object known and not read yet, inside the
        look-back: one that failed to read (this pull, or an earlier one whose message has
        not come back yet) or one of the messages being read. See
        ``EventSource.unread_since``."""
        if not self._started:
            return None
        marks = [at for obj in self._todo if obj.status == _PENDING and (at := _time_of(obj))]
        marks.extend(self._unread.values())
        return min((at for at in marks if at >= self._horizon), default=None)

    def _read(self, todo: list[_Object]) -> Iterator[RawBatch]:
        self._todo = todo
        if not todo:
            return

        def work(obj: _Object) -> tuple[str, bytes]:
            client = self._s3_client(obj.ref.region)
            keys = (obj.ref.key, *obj.ref.alternates)
            for i, key in enumerate(keys):
                try:
                    data = get_object_bytes(client, obj.ref.bucket, key, self._max_object_bytes)
                    return key, data
                except AWS_ERRORS as error:
                    if i + 1 == len(keys) or classify(error) is not ErrorKind.NOT_FOUND:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

        for obj, result in ordered_map(todo, work, self._workers):
            self._keep_visible()
            self.stats.call("s3:GetObject")
            if isinstance(result, tuple):
                key, data = result
                obj.status = _HANDED  # handed out = processed by commit time
                self._unread.pop(key_digest(obj.ref.bucket, obj.ref.key), None)
                self.stats.objects_read += 1
                self.stats.bytes_read += len(data)
                self._by_batch[obj.batch_id] = obj
                parsed = parse_trail_key(key)
                yield RawBatch(
                    batch_id=obj.batch_id,
                    kind="object",
                    source=self.source,
                    account_id=parsed.prefix.account_id if parsed else "",
                    region=parsed.prefix.region if parsed else obj.ref.region,
                    name=key,
                    payload=data,
                    bucket=obj.ref.bucket,
                )
            else:
                self._read_failed(obj, result)

    def _read_failed(self, obj: _Object, error: BaseException) -> None:
        if not isinstance(error, (*AWS_ERRORS, OSError, ObjectTooLarge)):
            raise error  # a bug, not a data or AWS problem: fail loudly
        where = f"s3://{obj.ref.bucket}/{obj.ref.key}"
        obj.status = _FAILED
        self.stats.objects_errored += 1
        kind = classify(error)
        if not isinstance(error, ObjectTooLarge) and kind is not ErrorKind.NOT_FOUND:
            # Denied or transient: read when the message comes back (the redrive policy
            # permitting); until then its events may still be needed.
            at = _time_of(obj)
            if at is not None:
                self._unread[key_digest(obj.ref.bucket, obj.ref.key)] = at
        if isinstance(error, ObjectTooLarge):
            obj.reason = str(error)
        elif kind is ErrorKind.NOT_FOUND:
            obj.reason = f"{where} does not exist ({describe(error)})"
        elif kind is ErrorKind.ACCESS_DENIED:
            self.stats.access_denied[f"bucket/{obj.ref.bucket}"] += 1
            obj.reason = f"reading {where} was denied ({describe(error)})"
            self.stats.problem(
                "access_denied",
                f"Reading {where} was denied: {describe(error)}.",
                f"Grant s3:GetObject on arn:aws:s3:::{obj.ref.bucket}/<prefix>/AWSLogs/* and, "
                "for an SSE-KMS "
                "trail, kms:Decrypt on the trail's KMS key. Its message is left on the queue "
                "for the redrive policy.",
            )
        else:
            if kind is ErrorKind.THROTTLED:
                self.stats.throttles += 1
            obj.reason = f"reading {where} failed ({describe(error)})"

    def _keep_visible(self) -> None:
        """Extend the visibility of this pull's live messages before it runs out.

        Covers objects that are slow to read or decode and messages that wait for later
        ones in the same pull. Poison messages are deliberately not extended.
        """
        now = self._clock()
        margin = timedelta(seconds=self._visibility / 2)
        due = [
            m
            for m in self._messages
            if not m.poison
            and not any(o.status == _FAILED for o in m.objects)
            and m.deadline - now <= margin
        ]
        if due:
            ok = self._change_visibility(due, self._visibility)
            for message in ok:
                message.deadline = now + timedelta(seconds=self._visibility)
            self.stats.visibility_extensions += len(ok)

    def _change_visibility(self, messages: list[_Message], seconds: int) -> list[_Message]:
        """ChangeMessageVisibilityBatch; returns the messages it succeeded for."""
        done: list[_Message] = []
        for chunk in _chunks(messages, 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": seconds}
                for i, m in enumerate(chunk)
            ]
            self.stats.call("sqs:ChangeMessageVisibilityBatch")
            try:
                result = self._sqs_client().change_message_visibility_batch(
                    QueueUrl=self._queue_url, Entries=entries
                )
            except AWS_ERRORS as error:
                self._sqs_failed("ChangeMessageVisibility", error)
                return done
            ok_ids = {str(e.get("Id")) for e in result.get("Successful") or []}
            done.extend(m for i, m in enumerate(chunk) if str(i) in ok_ids)
        return done

    # ---------------------------------------------------------- pipeline I/O

    def mark_failed(self, batch_id: str, reason: str) -> None:
        """The object is corrupt or not CloudTrail: its message becomes poison (left for
        the redrive policy, so the file stays findable in the dead-letter queue)."""
        self.stats.objects_failed += 1
        obj = self._by_batch.get(batch_id)
        if obj is None:
            self.stats.problem("object_unreadable", f"Skipped {batch_id}: {reason}")
            return
        obj.status = _FAILED
        obj.reason = f"s3://{obj.ref.bucket}/{obj.ref.key} is not a readable trail file ({reason})"

    def commit(self) -> None:
        """Record finished messages for deletion by the next pull; release the rest."""
        finished: list[_Message] = []
        unreached: list[_Message] = []
        for message in self._messages:
            failed = [o for o in message.objects if o.status == _FAILED]
            if failed and not message.poison:
                message.poison = failed[0].reason
            if message.poison:
                self._report_poison(message)
            elif all(o.status in (_HANDED, _SKIPPED) for o in message.objects):
                finished.append(message)
            else:
                unreached.append(message)  # the pipeline stopped before its objects
        self.stats.messages_processed = len(finished)
        if finished and self._hold:
            self._change_visibility(finished, self._hold)
        if unreached:
            self.stats.messages_released += len(self._change_visibility(unreached, 0))
        for obj in self._objects.values():
            if obj.status == _HANDED:
                digest = key_digest(obj.ref.bucket, obj.ref.key)
                if digest not in self._recent_set and self._max_recent:
                    self._recent.append(digest)
        self._recent_set = set(self._recent)
        unread = sorted(self._unread.items(), key=lambda item: (item[1], item[0]))
        self._sources[self._state_key] = {
            "v": STATE_VERSION,
            "queue_url": self._queue_url,
            "pending_deletes": [{"id": m.message_id, "rh": m.receipt} for m in finished],
            "recent": list(self._recent),
            "unread": {digest: int(at) for digest, at in unread[:MAX_UNREAD_KEYS]},
        }

    def _report_poison(self, message: _Message) -> None:
        self.stats.messages_poison += 1
        self.stats.problem(
            "poison_message",
            f"Left message {message.message_id} on queue {self._queue_name} for its redrive "
            f"policy (received {message.receive_count} times): {message.poison}.",
            "Inspect it in the dead-letter queue; fix the cause (permission, object deleted "
            "by a lifecycle rule, non-CloudTrail writer) and redrive it if needed.",
        )
        if self._redrive_checked:
            return
        self._redrive_checked = True
        self.stats.call("sqs:GetQueueAttributes")
        try:
            attributes = self._sqs_client().get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["RedrivePolicy"]
            )
        except AWS_ERRORS:
            return  # only a hint; the poison message itself is already reported
        if not (attributes.get("Attributes") or {}).get("RedrivePolicy"):
            self.stats.problem(
                "no_redrive_policy",
                f"Queue {self._queue_name} has no redrive policy, so a poison message is "
                "received again every visibility timeout, forever.",
                "Attach a dead-letter queue to it (e.g. maxReceiveCount 5).",
            )


def _time_of(obj: _Object) -> float | None:
    """The delivery time in an object's key (None for a key without one)."""
    return token_time(time_token(obj.ref.key))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
