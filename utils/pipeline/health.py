"""The pull's summary: one log line, and the small health record kept in storage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from ..readers.base import ReaderStats
from .activity_phase import ActivityOutcome
from .posture_phase import PostureOutcome

MAX_PROBLEMS = 20
# Lags (seconds behind the oldest unread delivery) of the last pulls, newest last; the lag
# warning needs a few in a row so one slow pull after an outage does not raise it.
LAG_HISTORY = 6
LAG_RISES_TO_WARN = 3


@dataclass
class PullSummary:
    started_at: datetime
    accounts: int = 0
    posture_scanned: bool = False
    roles_evaluated: int = 0
    posture_statuses: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    delivery: str = "Splunk HEC delivery: not configured."
    events: int = 0
    batches: int = 0
    objects_failed: int = 0
    record_errors: int = 0
    resolutions: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    index_bytes: int = 0
    attributed_late: int = 0
    judged_again: int = 0
    shadows_dropped: int = 0
    checks_judged_again: int = 0
    deferred: int = 0
    replayed: int = 0
    dropped: int = 0
    duration_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    backlog: int = 0
    lag_seconds: float | None = None
    budget_exhausted: bool = False
    lag_history: list[float] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def record_posture(self, outcome: PostureOutcome) -> None:
        self.posture_scanned = outcome.scanned
        self.roles_evaluated += outcome.roles_evaluated
        self.posture_statuses = dict(outcome.statuses)
        self.api_calls += outcome.api_calls
        for account_id, why in outcome.failures:
            self.problem(f"posture of account {account_id}: {why}")

    def record_activity(self, outcome: ActivityOutcome) -> None:
        self.events = outcome.events
        self.batches = outcome.batches
        self.objects_failed = outcome.objects_failed
        self.record_errors = outcome.record_errors
        self.resolutions = dict(outcome.resolutions)
        self.index_bytes = outcome.index_bytes
        self.attributed_late = outcome.attributed_late
        self.judged_again = outcome.windows_judged_again
        self.shadows_dropped = outcome.shadows_dropped
        self.checks_judged_again = outcome.checks_judged_again

    def record_source(self, stats: ReaderStats) -> None:
        self.source = stats.as_dict()
        self.api_calls += sum(stats.api_calls.values())
        for problem in stats.problems:
            self.problem(problem.message)
        self.backlog = stats.backlog
        self.budget_exhausted = stats.budget_exhausted
        if stats.oldest_unread is not None:
            self.lag_seconds = round(max(0.0, self.started_at.timestamp() - stats.oldest_unread))

    def carry_lag_history(self, previous: Mapping[str, Any]) -> None:
        """Continue the lag history of the previous health record (damaged entries dropped)."""
        history = previous.get("lag_history")
        if isinstance(history, list):
            kept = [float(v) for v in history if isinstance(v, int | float) and v >= 0]
            self.lag_history = kept[-(LAG_HISTORY - 1) :]
        self.lag_history.append(float(self.lag_seconds or 0.0))

    def lag_warning(self, poll_interval_seconds: int) -> str | None:
        """A warning when the source falls further behind pull after pull.

        The lag must have risen ``LAG_RISES_TO_WARN`` times in a row and now exceed two
        polling intervals: a backlog that drains, or one slow pull, is not worth a warning.
        """
        recent = self.lag_history[-(LAG_RISES_TO_WARN + 1) :]
        if len(recent) <= LAG_RISES_TO_WARN:
            return None
        rising = all(b > a for a, b in pairwise(recent))
        if not rising or recent[-1] <= 2 * poll_interval_seconds:
            return None
        return (
            f"CloudTrail reading is falling behind: {recent[-1] / 60:.0f} minutes behind the "
            f"oldest unread delivery and rising for {LAG_RISES_TO_WARN} pulls in a row, with "
            f"{self.backlog} known and not read yet."
        )

    def status_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for key, value in self.resolutions.items():
            counts[key.split("/", 1)[0]] += value
        return dict(counts)

    def alerts_by_kind(self) -> dict[str, int]:
        return dict(Counter(str(a.get("type")) for a in self.alerts))

    def log_line(self) -> str:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.posture_statuses.items()))
        posture = (
            f"posture scanned {self.roles_evaluated} roles ({statuses})"
            if self.posture_scanned
            else "posture not due"
        )
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.alerts_by_kind().items())) or "none"
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.status_counts().items()))
        source = self.source
        reading = (
            f"CloudTrail {self.events} events from {self.batches} batches "
            f"({statuses or 'none resolved'}); objects skipped {self.objects_failed}, "
            f"bad records {self.record_errors}, throttles {source.get('throttles', 0)}"
            if source
            else "CloudTrail not read"
        )
        capped = (
            f" (deferred {self.deferred}, dropped {self.dropped})"
            if self.deferred or self.dropped
            else ""
        )
        return (
            f"Pull summary: {self.accounts} account(s); {posture}; {reading}; AWS API calls "
            f"{self.api_calls}; alerts {len(self.alerts)}{capped} ({kinds}), plus "
            f"{self.replayed} repeated from the previous pull; {self.delivery} "
            f"Problems {len(self.problems)}; took {self.duration_seconds:.2f}s."
        )

    def health_record(self) -> dict[str, Any]:
        return {
            "last_pull_at": self.started_at.isoformat(),
            "duration_seconds": self.duration_seconds,
            "accounts": self.accounts,
            "posture_scanned": self.posture_scanned,
            "roles_evaluated": self.roles_evaluated,
            "posture_statuses": self.posture_statuses,
            "api_calls": self.api_calls,
            "events": self.events,
            "batches": self.batches,
            "objects_failed": self.objects_failed,
            "record_errors": self.record_errors,
            "resolutions": self.status_counts(),
            "index_bytes": self.index_bytes,
            "windows_attributed_late": self.attributed_late,
            "windows_judged_again": self.judged_again,
            "shadow_windows_dropped": self.shadows_dropped,
            "checks_judged_again": self.checks_judged_again,
            "source": {k: v for k, v in self.source.items() if k != "problems"},
            "backlog": self.backlog,
            "lag_seconds": self.lag_seconds,
            "lag_history": list(self.lag_history),
            "budget_exhausted": self.budget_exhausted,
            "alerts": len(self.alerts),
            "alerts_deferred": self.deferred,
            "alerts_replayed": self.replayed,
            "alerts_dropped": self.dropped,
            "alerts_by_kind": self.alerts_by_kind(),
            "delivery": self.delivery,
            "problems": list(self.problems),
        }
