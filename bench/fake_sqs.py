"""An in-process SQS queue and S3 bucket that behave like boto3 clients, with latency.

For the SQS scale benchmark and the reader's property tests, where moto would cost
seconds per thousand calls. Each call sleeps ``latency`` seconds *outside* the lock, so
concurrent callers overlap the way they do against AWS, then acts atomically.

SQS semantics kept (those the reader relies on): visibility timeouts on the injected
clock, a new receipt handle per receive (about ``receipt_chars`` long, like AWS's), only
the latest handle deletes or changes a message (an older one "succeeds" and does
nothing, as AWS documents), ``ApproximateReceiveCount``/``SentTimestamp``, batch calls
of at most 10 entries with per-entry ``Successful``/``Failed``, a long poll on an empty
queue that waits (really) for ``WaitTimeSeconds`` up to ``long_poll_cap``, and an
optional redrive policy (then a message received more than ``max_receive_count`` times
moves to ``dead_letters``). Messages are handed out oldest first.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

Fault = Callable[[dict[str, Any]], BaseException | None]


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class _Calls:
    """Call counting and fault injection shared by the two fakes."""

    def __init__(self, latency: float, sleep: Callable[[float], None]) -> None:
        self.latency = latency
        self._sleep = sleep
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}
        self._count_lock = threading.Lock()

    def _enter(self, operation: str, kwargs: dict[str, Any]) -> None:
        with self._count_lock:
            self.calls[operation] += 1
        if self.latency:
            self._sleep(self.latency)
        fault = self.faults.get(operation)
        error = fault(kwargs) if fault else None
        if error is not None:
            raise error


@dataclass
class _Message:
    message_id: str
    body: str
    sent_ms: int
    receive_count: int = 0
    receipt: str = ""
    version: int = 0


class FakeSqs(_Calls):
    """One standard queue. ``clock`` returns epoch seconds (the benchmark's simulated
    time), so visibility timeouts follow simulated minutes."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        latency: float = 0.0,
        queue_url: str = "https://sqs.us-east-1.amazonaws.com/123456789012/trail-notifications",
        redrive: bool = False,
        max_receive_count: int = 5,
        receipt_chars: int = 400,
        long_poll_cap: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(latency, sleep)
        self.queue_url = queue_url
        self._clock = clock
        self._redrive = redrive
        self._max_receive_count = max_receive_count
        self._receipt_chars = receipt_chars
        self._long_poll_cap = long_poll_cap
        self._lock = threading.Lock()
        self._messages: dict[str, _Message] = {}
        self._visible: deque[str] = deque()
        self._in_flight: list[tuple[float, int, str]] = []  # (visible again at, version, id)
        self._next_id = 0
        self.deleted = 0
        self.dead_letters: list[str] = []

    # ----------------------------------------------------------------- feeding

    def send(self, body: str, sent_at: float | None = None) -> str:
        """Enqueue a message (no latency, not counted: this is the producer side)."""
        with self._lock:
            self._next_id += 1
            message_id = f"{self._next_id:08x}-0000-4000-8000-{self._next_id:012x}"
            sent = self._clock() if sent_at is None else sent_at
            self._messages[message_id] = _Message(message_id, body, int(sent * 1000))
            self._visible.append(message_id)
            return message_id

    def __len__(self) -> int:
        return len(self._messages)

    # -------------------------------------------------------------- boto3 API

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self._check_url("ReceiveMessage", kwargs)
        self._enter("ReceiveMessage", kwargs)
        count = int(kwargs.get("MaxNumberOfMessages", 1))
        if not 1 <= count <= 10:
            raise _error("InvalidParameterValue", "ReceiveMessage")
        visibility = float(kwargs.get("VisibilityTimeout", 30))
        got = self._take(count, visibility)
        wait = min(float(kwargs.get("WaitTimeSeconds", 0)), self._long_poll_cap)
        if not got and wait > 0:
            self._sleep(wait)
            got = self._take(count, visibility)
        return {"Messages": got} if got else {}

    def delete_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self._check_url("DeleteMessageBatch", kwargs)
        self._enter("DeleteMessageBatch", kwargs)
        entries = self._entries("DeleteMessageBatch", kwargs)
        ok, failed = [], []
        with self._lock:
            for entry in entries:
                if not _is_receipt(entry["ReceiptHandle"]):
                    failed.append(_failed(entry, "ReceiptHandleIsInvalid"))
                    continue
                message = self._message_of(entry["ReceiptHandle"])
                if message is not None and message.receipt == entry["ReceiptHandle"]:
                    del self._messages[message.message_id]
                    self.deleted += 1
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        self._check_url("ChangeMessageVisibilityBatch", kwargs)
        self._enter("ChangeMessageVisibilityBatch", kwargs)
        entries = self._entries("ChangeMessageVisibilityBatch", kwargs)
        ok, failed = [], []
        with self._lock:
            now = self._clock()
            for entry in entries:
                if not _is_receipt(entry["ReceiptHandle"]):
                    failed.append(_failed(entry, "ReceiptHandleIsInvalid"))
                    continue
                message = self._message_of(entry["ReceiptHandle"])
                if message is None or message.receipt != entry["ReceiptHandle"]:
                    failed.append(_failed(entry, "MessageNotInflight"))
                    continue
                message.version += 1
                seconds = float(entry["VisibilityTimeout"])
                if seconds <= 0:
                    self._visible.appendleft(message.message_id)
                else:
                    heapq.heappush(
                        self._in_flight, (now + seconds, message.version, message.message_id)
                    )
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        self._check_url("GetQueueAttributes", kwargs)
        self._enter("GetQueueAttributes", kwargs)
        with self._lock:
            self._requeue(self._clock())
            visible = sum(1 for m in self._visible if m in self._messages)
            attributes = {
                "ApproximateNumberOfMessages": str(visible),
                "ApproximateNumberOfMessagesNotVisible": str(len(self._messages) - visible),
            }
        if self._redrive:
            attributes["RedrivePolicy"] = (
                '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:trail-dlq",'
                f'"maxReceiveCount":{self._max_receive_count}}}'
            )
        return {"Attributes": attributes}

    # -------------------------------------------------------------- internals

    def _check_url(self, operation: str, kwargs: dict[str, Any]) -> None:
        if kwargs.get("QueueUrl") != self.queue_url:
            raise _error("AWS.SimpleQueueService.NonExistentQueue", operation)

    def _entries(self, operation: str, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        entries = list(kwargs.get("Entries") or [])
        if not 1 <= len(entries) <= 10:
            raise _error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", operation)
        return entries

    def _requeue(self, now: float) -> None:
        while self._in_flight and self._in_flight[0][0] <= now:
            _at, version, message_id = heapq.heappop(self._in_flight)
            message = self._messages.get(message_id)
            if message is not None and message.version == version:
                self._visible.appendleft(message_id)

    def _take(self, count: int, visibility: float) -> list[dict[str, Any]]:
        with self._lock:
            now = self._clock()
            self._requeue(now)
            out: list[dict[str, Any]] = []
            while self._visible and len(out) < count:
                message = self._messages.get(self._visible.popleft())
                if message is None:
                    continue  # deleted while visible
                if self._redrive and message.receive_count >= self._max_receive_count:
                    del self._messages[message.message_id]
                    self.dead_letters.append(message.message_id)
                    continue
                message.receive_count += 1
                message.version += 1
                message.receipt = self._receipt(message)
                heapq.heappush(
                    self._in_flight, (now + visibility, message.version, message.message_id)
                )
                out.append(
                    {
                        "MessageId": message.message_id,
                        "ReceiptHandle": message.receipt,
                        "MD5OfBody": hashlib.md5(
                            message.body.encode(), usedforsecurity=False
                        ).hexdigest(),
                        "Body": message.body,
                        "Attributes": {
                            "ApproximateReceiveCount": str(message.receive_count),
                            "SentTimestamp": str(message.sent_ms),
                        },
                    }
                )
            return out

    def _receipt(self, message: _Message) -> str:
        head = f"{message.message_id}.{message.version}."
        size = max(0, self._receipt_chars - len(head))
        pad = hashlib.shake_256(head.encode()).digest(size * 3 // 4 + 3)
        return head + base64.b64encode(pad).decode()[:size]

    def _message_of(self, receipt: str) -> _Message | None:
        """The message a handle names (None once it is deleted)."""
        return self._messages.get(receipt.split(".", 1)[0])


def _is_receipt(receipt: object) -> bool:
    return isinstance(receipt, str) and receipt.count(".") >= 2


def _failed(entry: dict[str, Any], code: str) -> dict[str, Any]:
    return {"Id": entry["Id"], "Code": code, "SenderFault": True, "Message": code}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, amount: int | None = None) -> bytes:
        return self._data if amount is None else self._data[:amount]

    def close(self) -> None:
        return None


class FakeS3(_Calls):
    """GetObject over an in-memory bucket (any bucket name; keys map to bytes)."""

    def __init__(
        self, *, latency: float = 0.0, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(latency, sleep)
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.objects[(bucket, key)] = data

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self._enter("GetObject", kwargs)
        data = self.objects.get((kwargs["Bucket"], kwargs["Key"]))
        if data is None:
            raise _error("NoSuchKey", "GetObject")
        return {"Body": _Body(data), "ContentLength": len(data)}


class FakeFactory:
    """A ``ClientFactory`` handing out the two fakes (every Region shares them)."""

    def __init__(self, sqs: FakeSqs, s3: FakeS3, account_id: str = "123456789012") -> None:
        self.sqs = sqs
        self.s3 = s3
        self._account_id = account_id

    @property
    def account_id(self) -> str:
        return self._account_id

    def client(self, service: str, region: str | None = None) -> Any:
        if service == "sqs":
            return self.sqs
        if service == "s3":
            return self.s3
        raise ValueError(f"no fake for {service}")
