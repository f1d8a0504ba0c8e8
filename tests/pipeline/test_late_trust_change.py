"""A trust-policy change read after activity it precedes: windows of sessions created after
the change were judged with the role's earlier state, and are judged again when the change
is read (soak finding 16). IAM's events are logged in us-east-1 and delivered apart from the
Regions where a session acts, so a later pull, or a later file of the same pull, can bring
the change after the activity."""

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


def trust_change(document: dict[str, Any], at: datetime) -> dict[str, Any]:
    record = role_action("OpenRole", "x", "AKIAUNUSED0000000000", at)
    record.update(
        userIdentity=user_identity("admin"),
        eventSource="iam.amazonaws.com",
        eventName="UpdateAssumeRolePolicy",
        readOnly=False,
        requestParameters={"roleName": "OpenRole", "policyDocument": json.dumps(document)},
    )
    return record


def session(user: str, key: str, created: datetime) -> list[dict[str, Any]]:
    """``user`` assumes OpenRole (session named after them) at ``created`` and acts 5
    minutes later."""
    return [
        assume_role(user, "OpenRole", user, key, created),
        role_action("OpenRole", user, key, created + timedelta(minutes=5), created=created),
    ]


def activity(result: PullResult) -> dict[str, Any]:
    """This pull's activity alerts by session name."""
    return {
        a.rawData["session_name"]: a
        for a in fresh(result)
        if a.type == "noncompliant_role_activity"
    }


def pulls(tmp_path: Path, change: dict[str, Any], *, in_order: bool) -> list[PullResult]:
    """alice's session began before the change, bob's after it; the change is read before
    their activity (``in_order``) or by the next pull, from a file delivered late."""
    seed_small_tenant(BUCKET)
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    sessions = session("alice", "ASIALATECHANGE000001", CHANGED_AT - timedelta(minutes=8))
    sessions += session("bob", "ASIALATECHANGE000002", CHANGED_AT + timedelta(minutes=2))
    changes = [trust_change(change, CHANGED_AT)]
    if in_order:
        put_trail_file(BUCKET, CHANGED_AT + timedelta(minutes=1), changes, suffix="T01")
    put_trail_file(BUCKET, CHANGED_AT + timedelta(minutes=10), sessions, suffix="T02")
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
    assert withdrawn.rawData["event_count"] == 1
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
    assert activity(second) == {}
    assert second.storage["health"]["windows_judged_again"] == 0
