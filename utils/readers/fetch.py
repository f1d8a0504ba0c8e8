"""Reading S3 objects: bounded size, and concurrent fetches handed out in a fixed order.

Trail objects are small (tens of KB to a few MB) and a GetObject is dominated by latency,
so a few threads multiply throughput. Results are yielded in the order the items were
given (the pipeline, the tests and the resolver's "issuance before use" all benefit from
a deterministic order), and at most ``2 × workers`` objects are held in memory; with a
``weight`` (an object's listed size), also at most ``max_weight`` of them beyond the first,
so a run of large objects (written by whoever can write to the bucket) cannot multiply
the per-object bound by the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# No trail object is larger than what it may inflate to (the decoder's cap, 48 MiB):
# CloudTrail writes gzip, which shrinks its JSON several times.
DEFAULT_MAX_OBJECT_BYTES = 48 * 1024 * 1024
# Bytes of objects fetched and not yet handed on, at most, when the caller gives weights.
DEFAULT_MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024


class ObjectTooLarge(Exception):
    """The object is larger than the reader accepts (guards memory)."""

    def __init__(self, bucket: str, key: str, size: int, limit: int) -> None:
        super().__init__(
            f"s3://{bucket}/{key} is {size} bytes, over the {limit}-byte limit for one "
            "trail object; CloudTrail files are far smaller, so this is probably not a "
            "trail log file"
        )
        self.size = size


def get_object_bytes(client: Any, bucket: str, key: str, max_bytes: int) -> bytes:
    """The whole body of ``s3://bucket/key`` (raises botocore errors or ObjectTooLarge)."""
    response = client.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        size = int(response.get("ContentLength") or 0)
        if size > max_bytes:
            raise ObjectTooLarge(bucket, key, size, max_bytes)
        data: bytes = body.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ObjectTooLarge(bucket, key, len(data), max_bytes)
        return data
    finally:
        body.close()


def ordered_map(
    items: Iterable[T],
    work: Callable[[T], R],
    workers: int,
    *,
    weight: Callable[[T], int] | None = None,
    max_weight: int = DEFAULT_MAX_BYTES_IN_FLIGHT,
) -> Iterator[tuple[T, R | BaseException]]:
    """``(item, work(item) or the exception it raised)`` in input order.

    ``workers <= 1`` runs inline (no threads). Closing the iterator early cancels what
    has not started; running fetches finish in the background and are dropped. With
    ``weight``, an item is started only while the items started and not yet handed on
    weigh at most ``max_weight`` with it (the oldest is always started: no deadlock).
    """
    if workers <= 1:
        for item in items:
            try:
                yield item, work(item)
            except Exception as error:  # handed to the caller, which decides per item
                yield item, error
        return
    window = 2 * workers
    pending: deque[tuple[T, Future[R]]] = deque()
    held = 0  # the weight of ``pending``
    source = iter(items)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trail-fetch")
    try:
        for item in source:
            heavy = max(0, weight(item)) if weight is not None else 0
            while pending and held + heavy > max_weight:
                done, future = pending.popleft()
                held -= max(0, weight(done)) if weight is not None else 0
                outcome = _outcome(future)
                yield done, outcome
            pending.append((item, pool.submit(work, item)))
            held += heavy
            if len(pending) >= window:
                done, future = pending.popleft()
                held -= max(0, weight(done)) if weight is not None else 0
                outcome = _outcome(future)
                yield done, outcome
        while pending:
            done, future = pending.popleft()
            outcome = _outcome(future)
            yield done, outcome
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _outcome(future: Future[R]) -> R | BaseException:
    error = future.exception()
    return error if error is not None else future.result()
