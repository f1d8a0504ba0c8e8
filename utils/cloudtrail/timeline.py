"""When each role's trust policy enforced the session-name rule, from the trail itself.

``CreateRole`` and ``UpdateAssumeRolePolicy`` events carry the new trust policy; the resolver
asks an injected ``policy_enforces(document)`` (the trust evaluator, wired by the plugin)
whether it enforces ``sts:RoleSessionName = ${aws:username}`` and records the answer here
with the change time. A session name can then be trusted as the user's name only where the
role enforced the rule *at assumption time*: the latest change at or before that time
decides; before the first recorded change the timeline does not know (the injected
``role_enforces`` may, from the posture pull).

Roles are keyed by account and lower-cased role name: IAM role names are unique per account
regardless of path and case.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from .identities import arn_account, role_name_of


def role_key(account_id: str, role_name: str) -> str:
    return f"{account_id}/{role_name.lower()}"


class TrustTimeline:
    """Per role, the times its trust policy changed and whether it then enforced the rule."""

    def __init__(self) -> None:
        self._changes: dict[str, list[tuple[float, bool | None]]] = {}

    def __len__(self) -> int:
        return sum(len(changes) for changes in self._changes.values())

    def record(self, account_id: str, role_name: str, at: float, enforces: bool | None) -> None:
        changes = self._changes.setdefault(role_key(account_id, role_name), [])
        entry = (at, enforces)
        if entry in changes:
            return
        changes.append(entry)
        changes.sort(key=lambda change: change[0])

    def knows(self, role_arn: str | None, at: float) -> tuple[bool, bool | None]:
        """``(True, verdict)`` if a change at or before ``at`` is known, else ``(False, None)``."""
        if not self._changes:  # most trails: every AssumeRole is judged, few roles change
            return False, None
        account = arn_account(role_arn)
        name = role_name_of(role_arn)
        if account is None or name is None:
            return False, None
        changes = self._changes.get(role_key(account, name))
        if not changes:
            return False, None
        position = bisect_right([change[0] for change in changes], at)
        if position == 0:
            return False, None
        return True, changes[position - 1][1]

    def trim(self, before: float) -> int:
        """Forget changes superseded before ``before`` (the latest one before it stays)."""
        dropped = 0
        for key in list(self._changes):
            changes = self._changes[key]
            keep_from = max(0, bisect_right([c[0] for c in changes], before) - 1)
            dropped += keep_from
            if keep_from:
                self._changes[key] = changes[keep_from:]
        return dropped

    def drop_oldest_roles(self, count: int) -> int:
        """Forget the ``count`` roles whose last change is oldest (budget pressure)."""
        order = sorted(self._changes, key=lambda key: self._changes[key][-1][0])
        dropped = 0
        for key in order[:count]:
            dropped += len(self._changes.pop(key))
        return dropped

    def to_storage(self) -> dict[str, list[list[Any]]]:
        return {
            key: [[int(at), verdict] for at, verdict in changes]
            for key, changes in self._changes.items()
        }

    @classmethod
    def from_storage(cls, data: object) -> tuple[TrustTimeline, int]:
        """The timeline stored by ``to_storage``, and how many malformed entries were skipped."""
        timeline = cls()
        skipped = 0
        if not isinstance(data, dict):
            return timeline, (0 if data is None else 1)
        for key, changes in data.items():
            if not isinstance(key, str) or not isinstance(changes, list):
                skipped += 1
                continue
            for change in changes:
                if (
                    isinstance(change, list)
                    and len(change) == 2
                    and isinstance(change[0], int | float)
                    and (change[1] is None or isinstance(change[1], bool))
                ):
                    timeline._changes.setdefault(key, []).append((float(change[0]), change[1]))
                else:
                    skipped += 1
        for changes in timeline._changes.values():
            changes.sort(key=lambda change: change[0])
        return timeline, skipped
