"""The pull's summary: one log line, and the small health record kept in storage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .posture_phase import PostureOutcome

MAX_PROBLEMS = 20


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
    duration_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

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
        return (
            f"Pull summary: {self.accounts} account(s); {posture}; AWS API calls "
            f"{self.api_calls}; alerts {len(self.alerts)} ({kinds}); {self.delivery} "
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
            "alerts": len(self.alerts),
            "alerts_by_kind": self.alerts_by_kind(),
            "delivery": self.delivery,
            "problems": list(self.problems),
        }
