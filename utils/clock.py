"""The one real clock. Code that needs the time takes a ``Clock`` so tests can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC ``datetime``."""


def utc_now() -> datetime:
    return datetime.now(UTC)
