"""Concurrent receiving: why it stops, and that no received message goes missing when
the consumer stops early (each is either consumed or handed back by ``close()``)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import Deadline
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.sqs_receive import (
    CLOSED,
    DEADLINE,
    DRAINED,
    FAILED,
    LIMIT,
    ReceiveLoop,
    run_batches,
)

from tests.readers.helpers import client_error


class Queue:
    """Hands out ``total`` numbered messages (None: endless), recording each call."""

    def __init__(self, total: int | None = None, *, fail_after: int | None = None) -> None:
        self._ids = itertools.count()
        self._left = total
        self._fail_after = fail_after
        self._lock = threading.Lock()
        self.calls: list[tuple[int, int]] = []
        self.handed: list[int] = []

    def receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        with self._lock:
            self.calls.append((count, wait))
            if self._fail_after is not None and len(self.calls) > self._fail_after:
                raise client_error("ServiceUnavailable", "ReceiveMessage")
            take = count if self._left is None else min(count, self._left)
            if self._left is not None:
                self._left -= take
            ids = [next(self._ids) for _ in range(take)]
            self.handed.extend(ids)
            return [{"MessageId": str(i)} for i in ids]


def loop(queue: Queue, **options: Any) -> ReceiveLoop:
    settings: dict[str, Any] = {
        "deadline": Deadline(None),
        "limit": 10_000,
        "workers": 4,
        "first_wait": 10,
        "next_wait": 1,
    }
    settings.update(options)
    return ReceiveLoop(queue.receive, **settings)


def consume(receiving: ReceiveLoop) -> list[int]:
    return [int(m["MessageId"]) for r in receiving for m in r.messages]


def test_an_idle_queue_costs_one_long_poll():
    queue = Queue(total=0)
    receiving = loop(queue)
    assert consume(receiving) == [] and receiving.stopped == DRAINED
    assert queue.calls == [(10, 10)]


def test_a_busy_queue_is_read_by_several_receivers_until_a_partial_batch():
    queue = Queue(total=235)
    receiving = loop(queue)
    got = consume(receiving)
    assert sorted(got) == list(range(235)) and receiving.stopped == DRAINED
    assert queue.calls[0] == (10, 10)
    assert {wait for _count, wait in queue.calls[1:]} == {1}  # short long-polls after
    assert len(queue.calls) <= 24 + 4  # full batches, the partial, then those in flight


def test_the_count_limit_is_exact():
    queue = Queue()
    receiving = loop(queue, limit=45)
    assert len(consume(receiving)) == 45 and receiving.stopped == LIMIT
    assert sorted(c for c, _w in queue.calls) == [5, 10, 10, 10, 10]


def test_an_expired_deadline_makes_no_call_and_waits_are_capped_by_what_is_left():
    queue = Queue()
    expired = loop(queue, deadline=Deadline(0))
    assert consume(expired) == [] and expired.stopped == DEADLINE and queue.calls == []
    small = Queue(total=3)
    consume(loop(small, deadline=Deadline(4.5, monotonic=lambda: 0.0)))
    assert small.calls == [(10, 4)]


def test_a_failed_call_stops_receiving_and_reaches_the_consumer():
    queue = Queue(fail_after=3)
    receiving = loop(queue)
    results = list(receiving)
    assert receiving.stopped == FAILED
    assert sum(1 for r in results if r.error is not None) >= 1
    assert sum(len(r.messages) for r in results) == len(queue.handed)


def test_closing_early_hands_back_everything_received_and_not_consumed():
    queue = Queue()  # endless: the receivers would never stop by themselves
    receiving = loop(queue, capacity=2)
    iterator = iter(receiving)
    consumed = [int(m["MessageId"]) for _ in range(3) for m in next(iterator).messages]
    left = receiving.close()
    assert receiving.stopped == CLOSED
    handed_back = [int(m["MessageId"]) for r in left for m in r.messages]
    assert sorted(consumed + handed_back) == sorted(queue.handed)


def test_batch_calls_keep_chunk_order_and_return_exceptions_in_place():
    def call(chunk: list[int]) -> int:
        if chunk[0] == 20:
            raise ValueError("boom")
        return sum(chunk)

    chunks = [[i, i + 1] for i in range(0, 40, 10)]
    results = run_batches(chunks, call, workers=3)
    assert results[:2] == [1, 21] and isinstance(results[2], ValueError) and results[3] == 61


def test_closing_after_receiving_stopped_by_itself_does_not_wait_for_a_full_hand_over():
    """Receivers that stopped for the limit may still hold results the consumer will
    never take: close() must collect them rather than wait for room."""
    queue = Queue()
    receiving = loop(queue, capacity=1, limit=50, workers=4)
    iterator = iter(receiving)
    taken = [next(iterator), next(iterator)]  # the first call, then one receiver's result
    # the 4 receivers took 10 each; room for one more result: the other two must wait
    for _ in range(500):
        if receiving.stopped == LIMIT:
            break
        threading.Event().wait(0.01)
    assert receiving.stopped == LIMIT
    left: list[Any] = []
    closer = threading.Thread(target=lambda: left.extend(receiving.close()), daemon=True)
    closer.start()
    closer.join(10)
    assert not closer.is_alive(), "close() waited for room the consumer will never make"
    got = sum(len(r.messages) for r in taken + left)
    assert got == len(queue.handed) == 50 and receiving.stopped == LIMIT
