"""The LookupEvents pacer: never more than 2 requests in any one-second window per key,
keys independent, safe under threads — all on fake time."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import RateLimiter

from tests.readers.helpers import FakeClock, at


def limiter_on(clock):
    return RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["us-east-1", "eu-west-1"]), st.floats(0, 1.5)), max_size=60)
)
def test_no_key_ever_sends_more_than_two_requests_in_any_one_second_window(steps):
    clock = FakeClock(at("2026-11-29T12:00:00"))
    limiter = limiter_on(clock)
    sent: dict[str, list[float]] = {}
    for key, pause in steps:
        clock.advance(pause)
        limiter.acquire(key)
        sent.setdefault(key, []).append(clock.monotonic())
    for times in sent.values():
        for first, third in zip(times, times[2:], strict=False):
            assert third - first >= 1.0 - 1e-9


def test_an_idle_key_is_not_delayed_and_a_busy_one_waits_half_a_second():
    clock = FakeClock(at("2026-11-29T12:00:00"))
    limiter = limiter_on(clock)
    assert limiter.acquire("a") == 0
    assert limiter.acquire("b") == 0  # another account/Region: its own quota
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.advance(5)
    assert limiter.acquire("a") == 0


def test_concurrent_callers_on_one_key_get_distinct_slots_half_a_second_apart():
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    limiter = RateLimiter(monotonic=lambda: 0.0, sleep=record)

    def worker() -> None:
        for _ in range(5):
            limiter.acquire(("111111111111", "us-east-1"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0.5 * n for n in range(1, 20)]  # the first call did not sleep


def test_a_rate_above_the_lookup_events_quota_is_refused():
    with pytest.raises(ValueError, match="quota"):
        RateLimiter(2.5)
    assert RateLimiter(1.0).interval == 1.0
