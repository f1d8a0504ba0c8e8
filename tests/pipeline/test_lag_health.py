"""The health record's backlog and lag, and the warning when reading falls behind."""

from __future__ import annotations

from datetime import UTC, datetime

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.health import (
    LAG_HISTORY,
    PullSummary,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import (
    Deadline,
    ReaderStats,
)

STARTED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _summary(
    lag: float | None, backlog: int = 0, previous: list[float] | None = None
) -> PullSummary:
    stats = ReaderStats("s3")
    stats.backlog = backlog
    stats.oldest_unread = None if lag is None else STARTED.timestamp() - lag
    summary = PullSummary(started_at=STARTED)
    summary.record_source(stats)
    summary.carry_lag_history({"lag_history": previous} if previous is not None else {})
    return summary


def test_lag_is_the_age_of_the_oldest_unread_delivery() -> None:
    summary = _summary(lag=600, backlog=42)
    record = summary.health_record()
    assert record["lag_seconds"] == 600
    assert record["backlog"] == 42
    assert record["lag_history"] == [600.0]


def test_no_unread_data_means_no_lag() -> None:
    record = _summary(lag=None).health_record()
    assert record["lag_seconds"] is None
    assert record["lag_history"] == [0.0]


def test_lag_rising_three_pulls_in_a_row_past_two_intervals_warns() -> None:
    summary = _summary(lag=400, backlog=9000, previous=[100, 200, 300])
    warning = summary.lag_warning(poll_interval_seconds=60)
    assert warning is not None
    assert "falling behind" in warning and "9000" in warning


def test_a_draining_backlog_does_not_warn() -> None:
    assert _summary(lag=250, previous=[100, 400, 300]).lag_warning(60) is None


def test_a_small_lag_does_not_warn_even_when_rising() -> None:
    assert _summary(lag=100, previous=[10, 40, 70]).lag_warning(60) is None


def test_history_is_bounded_and_damaged_entries_are_dropped() -> None:
    previous: list[object] = ["x", -5, None, *range(100, 100 + 3 * LAG_HISTORY)]
    summary = _summary(lag=10_000, previous=previous)  # type: ignore[arg-type]
    history = summary.health_record()["lag_history"]
    assert len(history) == LAG_HISTORY
    assert history[-1] == 10_000.0
    assert all(isinstance(v, float) and v >= 0 for v in history)


def test_deadline_without_budget_never_expires() -> None:
    deadline = Deadline(None)
    assert not deadline.expired()
    assert deadline.remaining() is None


def test_deadline_expires_on_its_clock() -> None:
    now = [100.0]
    deadline = Deadline(5, monotonic=lambda: now[0])
    assert not deadline.expired()
    assert deadline.remaining() == 5
    now[0] = 105.0
    assert deadline.expired()
    assert deadline.remaining() == 0
    assert deadline.elapsed() == 5
