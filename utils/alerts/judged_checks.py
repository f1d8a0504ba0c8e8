"""Session-name checks kept so that a trust-policy change read late can judge them again.

A spoofing alert says a caller assumed a role with a session name that is not theirs while
the role did not enforce ``sts:RoleSessionName = ${aws:username}``. Whether it did is read
from the role's trust timeline at the time of the call, and the change that decides it (an
IAM event, logged in us-east-1) can be read after the call (another Region's trail file, an
SQS message delivered again). So every such call is kept a while with its alert, raised or
not: a change read later that shows the role open at the call raises the alert, one that
shows it enforced withdraws it (re-sent ``resolved``, same id). The same question for
activity windows is answered in ``session_windows``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cloudtrail.identities import names_role
from ..compact import pack, unpack
from .builder import loaded_alert, stored_alert

MAX_CHECKS = 400
MAX_STORED_BYTES = 100_000  # packed; within the activity section's 2 MB (storage_budget)


@dataclass
class JudgedCheck:
    alert: dict[str, Any]  # as stored (timestamp in ISO 8601)
    account_id: str
    role_arn: str
    at: float  # the call's event time, when the role's compliance is judged
    raised: bool  # the alert stands (handed on, or to be)
    sent: bool  # the alert was ever handed on


class JudgedChecks:
    """Recent session-name checks by alert id, loaded from and saved to storage."""

    def __init__(self, retention_seconds: float) -> None:
        self.retention_seconds = retention_seconds
        self.checks: dict[str, JudgedCheck] = {}

    def load(self, stored: Any) -> None:
        raw = unpack(stored) if isinstance(stored, str) else None
        try:
            items = json.loads(raw) if raw else []
        except ValueError:
            items = []
        for item in items if isinstance(items, list) else []:
            try:
                check = JudgedCheck(**item)
            except TypeError:
                continue
            if isinstance(check.alert, dict) and isinstance(check.alert.get("id"), str):
                self.checks[check.alert["id"]] = check

    def save(self, now: float) -> str:
        """The newest checks within the retention, ``MAX_CHECKS`` and ``MAX_STORED_BYTES``."""
        horizon = now - self.retention_seconds
        kept = sorted(
            (c for c in self.checks.values() if c.at > horizon), key=lambda c: c.at, reverse=True
        )[:MAX_CHECKS]
        while True:
            stored = pack(json.dumps([vars(c) for c in kept], separators=(",", ":")).encode())
            if len(stored) <= MAX_STORED_BYTES or not kept:
                return stored
            kept = kept[: len(kept) * 3 // 4]

    def remember(
        self, alert: dict[str, Any], account_id: str, role_arn: str, at: float, raised: bool
    ) -> None:
        """Keep one check; ``raised``: its alert is handed on now. Memory stays bounded
        within a pull too: past ``4 * MAX_CHECKS`` the oldest half is forgotten."""
        if len(self.checks) >= 4 * MAX_CHECKS:
            newest = sorted(self.checks.values(), key=lambda c: c.at)[-2 * MAX_CHECKS :]
            self.checks = {c.alert["id"]: c for c in newest}
        known = self.checks.get(alert["id"])
        self.checks[alert["id"]] = JudgedCheck(
            alert=stored_alert(alert),
            account_id=account_id,
            role_arn=role_arn,
            at=at,
            raised=raised,
            sent=raised or (known is not None and known.sent),
        )

    def judge_again(
        self,
        account_id: str,
        role_name: str,
        since: float,
        raises: Callable[[str, float], bool],
        withdrawn: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """The alerts to hand on after a trust-policy change of ``role_name`` at ``since``,
        read late: checks of calls at or after it that it raises, and withdrawn copies of
        those it shows compliant that were sent."""
        out: list[dict[str, Any]] = []
        for check in self.checks.values():
            if check.at < since or check.account_id != account_id:
                continue
            if not names_role(check.role_arn, role_name):
                continue
            now = raises(check.role_arn, check.at)
            if now == check.raised:
                continue
            check.raised = now
            if now:
                out.append(loaded_alert(check.alert))
                check.sent = True
            elif check.sent:
                out.append(withdrawn(loaded_alert(check.alert)))
        return out
