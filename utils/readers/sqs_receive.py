"""Concurrent ReceiveMessage calls, and concurrent SQS batch calls.

One ReceiveMessage returns at most 10 messages and costs a round trip (tens of ms), so a
queue fed 3,400 notifications a minute needs several in flight. The first receive of a
pull is made alone, with the configured long-poll wait: on an idle queue it is the only
call. When it comes back full the queue is busy, and ``workers`` threads receive until
one of them gets a partial batch (the queue held fewer than 10 visible messages at that
moment: the pull has caught up; later arrivals are the next pull's), the time budget
runs out, the per-pull cap is reached, a call fails, or the consumer closes the loop.
Follow-up receives long-poll for at most ``next_wait`` seconds: a long poll asks every
SQS server, so a partial batch really means "caught up", where a short poll samples a
few servers and returns partial batches from a busy queue.

Threads only make calls and hand results over; the consumer does all the accounting, so
reader state is never shared between threads. At most ``capacity`` results wait for the
consumer, which bounds memory and the time received messages wait while their
visibility timeout runs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .base import Deadline

T = TypeVar("T")
R = TypeVar("R")

ReceiveCall = Callable[[int, int], list[dict[str, Any]]]

# Why receiving stopped.
DRAINED = "drained"
DEADLINE = "deadline"
LIMIT = "limit"
FAILED = "failed"
CLOSED = "closed"


@dataclass
class Received:
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: BaseException | None = None


class ReceiveLoop:
    """Iterate to get ``Received`` results in arrival order; ``close()`` when done."""

    def __init__(
        self,
        receive: ReceiveCall,
        *,
        deadline: Deadline,
        limit: int,
        workers: int,
        first_wait: int,
        next_wait: int,
        capacity: int = 0,
    ) -> None:
        self._receive = receive
        self._deadline = deadline
        self._limit = limit
        self._workers = max(1, workers)
        self._first_wait = first_wait
        self._next_wait = next_wait
        self._results: queue.Queue[Received] = queue.Queue(capacity or 2 * self._workers)
        self._lock = threading.Lock()
        self._requested = 0
        self._threads: list[threading.Thread] = []
        self._running = 0
        self._closed = threading.Event()
        self.stopped: str = ""  # DRAINED, DEADLINE, LIMIT, FAILED or CLOSED once stopped

    def __iter__(self) -> Iterator[Received]:
        count = self._reserve()
        if not count:
            return
        first = self._call(count, self._wait(self._first_wait))
        self._settle(count, first)
        yield first
        if self.stopped:
            return
        self._running = self._workers
        for n in range(self._workers):
            thread = threading.Thread(target=self._worker, name=f"sqs-receive-{n}", daemon=True)
            self._threads.append(thread)
            thread.start()
        while True:
            try:
                item = self._results.get(timeout=0.05)
            except queue.Empty:
                with self._lock:
                    if self._running == 0 and self._results.empty():
                        return
                continue
            yield item

    def close(self) -> list[Received]:
        """Stop receiving, wait for calls in flight, and return what was not consumed."""
        self._stop(CLOSED)  # keeps an earlier reason: why receiving ended, not how
        self._closed.set()
        for thread in self._threads:
            thread.join()
        left: list[Received] = []
        while True:
            try:
                left.append(self._results.get_nowait())
            except queue.Empty:
                return left

    # ------------------------------------------------------------ internals

    def _wait(self, wait: int) -> int:
        remaining = self._deadline.remaining()
        return wait if remaining is None else max(0, min(wait, int(remaining)))

    def _stop(self, reason: str) -> None:
        with self._lock:
            if not self.stopped:
                self.stopped = reason

    def _reserve(self) -> int:
        """How many messages the next receive may ask for (0: stop)."""
        with self._lock:
            if self.stopped:
                return 0
            if self._deadline.expired():
                self.stopped = DEADLINE
                return 0
            count = min(10, self._limit - self._requested)
            if count <= 0:
                self.stopped = LIMIT
                return 0
            self._requested += count
            return count

    def _call(self, count: int, wait: int) -> Received:
        try:
            return Received(self._receive(count, wait))
        except Exception as error:  # handed to the consumer, which reports it
            return Received(error=error)

    def _settle(self, count: int, result: Received) -> None:
        if result.error is not None:
            self._stop(FAILED)
        elif len(result.messages) < count:
            self._stop(DRAINED)

    def _worker(self) -> None:
        try:
            while True:
                count = self._reserve()
                if not count:
                    return
                result = self._call(count, self._wait(self._next_wait))
                self._settle(count, result)
                self._put(result)
        finally:
            with self._lock:
                self._running -= 1

    def _put(self, result: Received) -> None:
        """Hand a result over, waiting for room; after ``close()`` the consumer collects
        it from the queue itself, so the wait never outlives the loop."""
        while True:
            try:
                self._results.put(result, timeout=0.05)
                return
            except queue.Full:
                if self._closed.is_set():
                    with self._results.mutex:
                        self._results.queue.append(result)  # close() drains it next
                    return


def run_batches(
    chunks: Sequence[T], call: Callable[[T], R], workers: int
) -> list[R | BaseException]:
    """``call(chunk)`` for every chunk, ``workers`` at a time; results (or the exception
    raised) in chunk order. One chunk runs inline."""
    if len(chunks) <= 1 or workers <= 1:
        return [_outcome(call, chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        return list(pool.map(lambda chunk: _outcome(call, chunk), chunks))


def _outcome(call: Callable[[T], R], chunk: T) -> R | BaseException:
    try:
        return call(chunk)
    except Exception as error:  # handed to the caller, which decides per chunk
        return error
