"""Client-side request pacing for CloudTrail LookupEvents.

LookupEvents allows 2 requests per second per account per Region; exceeding it earns
``ThrottlingException`` and wastes the budget on retries. A token bucket with capacity
1 and a refill of ``rate`` tokens per second spaces requests of one key at least
``1/rate`` seconds apart, which is the only bucket shape that guarantees *any* one-second
window holds at most ``rate`` requests (a deeper bucket allows a burst at the end of one
second followed by a full second's worth). Keys are independent, so Regions and
accounts proceed in parallel. The clock and sleep are injected: tests run on fake time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

LOOKUP_EVENTS_RATE = 2.0


class RateLimiter:
    """Per-key pacing: ``acquire(key)`` returns when a request for ``key`` may be sent."""

    def __init__(
        self,
        rate_per_second: float = LOOKUP_EVENTS_RATE,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < rate_per_second <= LOOKUP_EVENTS_RATE:
            raise ValueError(
                f"rate_per_second must be in (0, {LOOKUP_EVENTS_RATE}] "
                f"(the LookupEvents quota per account per Region), got {rate_per_second}"
            )
        self._interval = 1.0 / rate_per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    @property
    def interval(self) -> float:
        """Minimum seconds between two requests of one key."""
        return self._interval

    def acquire(self, key: Hashable) -> float:
        """Wait for the next slot of ``key``; returns the seconds waited.

        The slot is reserved under the lock and the wait happens outside it, so callers
        on other keys are never blocked and callers on the same key queue up fairly.
        """
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_lookup_limiter() -> RateLimiter:
    """The process-wide limiter (real clock): every LookupEvents reader in this process
    shares it, so two plugin configurations on one account cannot add up past the quota."""
    global _shared  # noqa: PLW0603 - one limiter per process is the point
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter()
        return _shared
