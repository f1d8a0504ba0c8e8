"""Session-name checks judged again by a trust-policy change read after the call (soak
finding 20): a spoofing alert stands only if the role did not enforce the rule when it was
assumed, which a change delivered late (an IAM event, logged in us-east-1) can decide."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from devkit.aws_emulator import MotoServer
from devkit.runner import PullResult
from tests.contract.tenant import ENFORCED_TRUST, OPEN_TRUST
from tests.pipeline.test_late_issuance import fresh
from tests.pipeline.test_late_trust_change import CHANGED_AT, read, trust_change
from tests.pipeline.trail import assume_role


def spoofing(result: PullResult) -> dict[str, Any]:
    """This pull's spoofing alerts by session name."""
    return {
        a.rawData["session_name"]: a for a in fresh(result) if a.type == "session_name_spoofing"
    }


def pulls(tmp_path: Path, role: str, change: dict[str, Any], *, in_order: bool) -> list[PullResult]:
    """Before the change alice assumes ``role`` as 'build-early', after it as 'build-late'
    (neither her name); the change is read first (``in_order``) or by the next pull."""
    calls = [
        assume_role(
            "alice", role, "build-early", "ASIASPOOFCHECK000001", CHANGED_AT - timedelta(minutes=5)
        ),
        assume_role(
            "alice", role, "build-late", "ASIASPOOFCHECK000002", CHANGED_AT + timedelta(minutes=3)
        ),
    ]
    return read(tmp_path, calls, [trust_change(change, CHANGED_AT, role)], in_order)


def test_a_spoofing_alert_is_raised_when_a_change_that_opened_the_role_is_read_late(
    aws: MotoServer, tmp_path: Path
) -> None:
    first, second = pulls(tmp_path, "EnforcedRole", OPEN_TRUST, in_order=False)
    assert spoofing(first) == {}  # the role enforces the rule, as far as pull 1 knows
    late = spoofing(second)
    assert set(late) == {"build-late"}
    assert late["build-late"].rawData["status"] == "new"
    assert second.storage["health"]["checks_judged_again"] == 1
    aws.reset()
    (ordered,) = pulls(tmp_path / "ordered", "EnforcedRole", OPEN_TRUST, in_order=True)
    expected = spoofing(ordered)
    assert set(expected) == {"build-late"}
    for field in ("event_time", "role_arn", "caller_user_name", "severity"):  # ids: new uuids
        assert late["build-late"].rawData[field] == expected["build-late"].rawData[field]


def test_a_spoofing_alert_is_withdrawn_when_a_change_that_enforced_the_rule_is_read_late(
    aws: MotoServer, tmp_path: Path
) -> None:
    first, second = pulls(tmp_path, "OpenRole", ENFORCED_TRUST, in_order=False)
    raised = spoofing(first)
    assert set(raised) == {"build-early", "build-late"}  # the role is open as far as it knows
    withdrawn = spoofing(second)
    assert set(withdrawn) == {"build-late"}  # made after the change: the role enforced it
    assert withdrawn["build-late"].id == raised["build-late"].id
    assert withdrawn["build-late"].rawData["status"] == "resolved"
    assert "Withdrawn" in withdrawn["build-late"].rawData["description"]
    assert second.storage["health"]["checks_judged_again"] == 1
    aws.reset()
    (ordered,) = pulls(tmp_path / "ordered", "OpenRole", ENFORCED_TRUST, in_order=True)
    assert set(spoofing(ordered)) == {"build-early"}
