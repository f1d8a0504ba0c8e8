"""A trust-policy change read after activity it precedes: windows of sessions created after
the change were judged with the role's earlier state, and are judged again when the change
is read: withdrawn when it shows the role enforced the rule (soak finding 16), raised when it
shows the role open (its opening case). IAM's events are logged in us-east-1 and delivered apart
from the Regions where a session acts, so a later pull, or a later file of the same pull,
can bring the change after the activity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.aws_emulator import MotoServer
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from tests.contract.tenant import ENFORCED_TRUST, OPEN_TRUST, configuration, seed_small_tenant
from tests.pipeline.test_late_issuance import BUCKET, KINDS, fresh
from tests.pipeline.trail import assume_role, iso, put_trail_file, role_action, user_identity

BASE = (datetime.now(UTC) - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
CHANGED_AT = BASE + timedelta(minutes=10)


def trust_change(document: dict[str, Any], at: datetime, role: str = "OpenRole") -> dict[str, Any]:
    record = role_action(role, "x", "AKIAUNUSED0000000000", at)
    record.update(
        userIdentity=user_identity("admin"),
        eventSource="iam.amazonaws.com",
        eventName="UpdateAssumeRolePolicy",
        readOnly=False,
        requestParameters={"roleName": role, "policyDocument": json.dumps(document)},
    )
    return record


def session(user: str, key: str, created: datetime, role: str = "OpenRole") -> list[dict[str, Any]]:
    """``user`` assumes ``role`` (session named after them) at ``created`` and acts 5
    minutes later."""
    return [
        assume_role(user, role, user, key, created),
        role_action(role, user, key, created + timedelta(minutes=5), created=created),
    ]


def activity(result: PullResult) -> dict[str, Any]:
    """This pull's activity alerts by session name."""
    return {
        a.rawData["session_name"]: a
        for a in fresh(result)
        if a.type == "noncompliant_role_activity"
    }


def pulls(
    tmp_path: Path, change: dict[str, Any], *, in_order: bool, role: str = "OpenRole"
) -> list[PullResult]:
    """alice's session began before the change, bob's after it; the change is read before
    their activity (``in_order``) or by the next pull, from a file delivered late, with one
    more call of bob's."""
    sessions = session("alice", "ASIALATECHANGE000001", CHANGED_AT - timedelta(minutes=8), role)
    bob_created = CHANGED_AT + timedelta(minutes=2)
    sessions += session("bob", "ASIALATECHANGE000002", bob_created, role)
    again = role_action(
        role, "bob", "ASIALATECHANGE000002", bob_created + timedelta(minutes=9), created=bob_created
    )
    return read(tmp_path, sessions, [trust_change(change, CHANGED_AT, role), again], in_order)


def read(
    tmp_path: Path,
    records: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    in_order: bool,
) -> list[PullResult]:
    """The small tenant's pulls of ``records`` (a file delivered 10 minutes after the change)
    and ``changes`` (a file delivered a minute after it): read first (``in_order``, one pull)
    or by a second pull, as if delivered late."""
    seed_small_tenant(BUCKET)
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    if in_order:
        put_trail_file(BUCKET, CHANGED_AT + timedelta(minutes=1), changes, suffix="T01")
    put_trail_file(BUCKET, CHANGED_AT + timedelta(minutes=10), records, suffix="T02")
    results = [run_pull(tenant, state)]
    if not in_order:
        put_trail_file(BUCKET, CHANGED_AT + timedelta(minutes=1), changes, suffix="T01")
        results.append(run_pull(tenant, state, validate=False))
    return results


def test_a_window_raised_before_an_enforcing_change_was_read_is_withdrawn(
    aws: MotoServer, tmp_path: Path
) -> None:
    first, second = pulls(tmp_path, ENFORCED_TRUST, in_order=False)
    before = activity(first)
    assert set(before) == {"alice", "bob"}  # OpenRole is open as far as pull 1 knows
    assert before["bob"].rawData["session_created"] == iso(CHANGED_AT + timedelta(minutes=2))
    after = activity(second)
    assert set(after) == {"bob"}  # alice's session began before the change: still flagged
    withdrawn = after["bob"]
    assert withdrawn.id == before["bob"].id  # CE updates the alert in place
    assert withdrawn.rawData["status"] == "resolved"
    assert withdrawn.rawData["role_compliance"] == "enforced"
    assert "withdrawn" in withdrawn.rawData["description"]
    assert withdrawn.rawData["event_count"] == 2  # and the call read with the change
    assert second.storage["health"]["windows_judged_again"] == 1


def test_read_in_order_the_same_change_leaves_only_the_earlier_session_flagged(
    aws: MotoServer, tmp_path: Path
) -> None:
    (only,) = pulls(tmp_path, ENFORCED_TRUST, in_order=True)
    flagged = activity(only)
    assert set(flagged) == {"alice"}
    assert flagged["alice"].rawData["status"] == "new"
    assert only.storage["health"]["windows_judged_again"] == 0


def test_a_change_that_keeps_the_role_open_withdraws_nothing(
    aws: MotoServer, tmp_path: Path
) -> None:
    first, second = pulls(tmp_path, OPEN_TRUST, in_order=False)
    assert set(activity(first)) == {"alice", "bob"}
    again = activity(second)
    assert set(again) == {"bob"}  # bob's later call, counted in the same window
    assert again["bob"].rawData["status"] == "new"
    assert again["bob"].rawData["event_count"] == 2
    assert second.storage["health"]["windows_judged_again"] == 0


def test_activity_read_before_a_change_that_opened_the_role_is_raised_when_it_is_read(
    aws: MotoServer, tmp_path: Path
) -> None:
    """EnforcedRole enforces the rule as far as the posture scan knows; a change opens it,
    and bob's session, created after the change, is read a pull before it. His call was
    counted in a shadow window, raised once the change is read: the same alert, with the
    same count, as when the change is read first."""
    first, second = pulls(tmp_path, OPEN_TRUST, in_order=False, role="EnforcedRole")
    assert activity(first) == {}
    assert first.storage["health"]["windows_judged_again"] == 0
    late = activity(second)
    assert set(late) == {"bob"}  # alice's session began before the change: compliant
    assert second.storage["health"]["windows_judged_again"] == 1
    aws.reset()
    (ordered,) = pulls(tmp_path / "ordered", OPEN_TRUST, in_order=True, role="EnforcedRole")
    expected = activity(ordered)
    assert set(expected) == {"bob"}
    assert late["bob"].id == expected["bob"].id
    for field in ("status", "event_count", "first_seen", "last_seen", "session_created"):
        assert late["bob"].rawData[field] == expected["bob"].rawData[field], field
    assert late["bob"].rawData["event_count"] == 2
    assert late["bob"].rawData["status"] == "new"
