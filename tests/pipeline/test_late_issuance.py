"""An issuance that arrives later than the hold: the session's activity, already alerted
unattributed, is attributed when it comes, and its role-chain steps are judged then (soak
finding 11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.aws_emulator import MotoServer
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, configuration, seed_small_tenant
from tests.pipeline.test_unread_objects import chained_assume_role
from tests.pipeline.trail import assume_role, put_trail_file, role_action

BUCKET = "contract-trail"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
KINDS = ["posture", "noncompliant_activity", "session_spoofing"]


def issuance_hours_late(
    tmp_path: Path, key: str, signed_records: Callable[[datetime], list[dict[str, Any]]]
) -> tuple[PullResult, PullResult]:
    """Pull 1 reads records signed with alice's session ``key`` (named job-9) and a trail
    three hours newer, so the hold gives them up; pull 2 reads the file with alice's
    AssumeRole, delivered late under an older name. The two pulls' results."""
    seed_small_tenant(BUCKET)
    base = (datetime.now(UTC) - timedelta(hours=8)).replace(minute=0, second=0, microsecond=0)
    put_trail_file(BUCKET, base + timedelta(minutes=5), signed_records(base), suffix="L01")
    later = base + timedelta(hours=3)
    newer = [role_action("EnforcedRole", "carol", "ASIALATEISSUANCE0099", later, created=later)]
    put_trail_file(BUCKET, later + timedelta(minutes=5), newer, suffix="L02")
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    first = run_pull(tenant, state)
    issuing = [assume_role("alice", "OpenRole", "job-9", key, base)]
    put_trail_file(BUCKET, base + timedelta(minutes=10), issuing, suffix="L03")
    return first, run_pull(tenant, state, validate=False)


def fresh(result: PullResult) -> list[Any]:
    """The alerts this pull raised (without the previous pull's replayed ones)."""
    return list(result.alerts[: result.storage["health"]["alerts"]])


def test_a_session_given_up_on_is_attributed_when_its_issuance_arrives_late(
    aws: MotoServer, tmp_path: Path
) -> None:
    key = "ASIALATEISSUANCE0001"
    first, second = issuance_hours_late(
        tmp_path,
        key,
        lambda base: [
            role_action("OpenRole", "job-9", key, base + timedelta(minutes=2), created=base)
        ],
    )
    (before,) = [a for a in fresh(first) if a.type == "noncompliant_role_activity"]
    assert before.rawData["resolution_status"] == "unresolved"
    assert before.user != ALICE
    (after,) = [a for a in fresh(second) if a.type == "noncompliant_role_activity"]
    assert after.id == before.id  # the same finding, now naming who it was
    assert after.user == ALICE
    assert after.rawData["resolution_status"] == "resolved"
    assert after.rawData["resolution_method"] == "issuing_event"
    assert after.rawData["event_count"] == before.rawData["event_count"] == 1
    assert second.storage["health"]["windows_attributed_late"] == 1


def test_a_role_chain_step_of_a_session_given_up_on_is_judged_when_attributed(
    aws: MotoServer, tmp_path: Path
) -> None:
    key = "ASIALATEISSUANCE0011"
    first, second = issuance_hours_late(
        tmp_path,
        key,
        lambda base: [
            chained_assume_role(
                "OpenRole", "job-9", key, base + timedelta(minutes=3), "bob", "ASIALATEISSUANCE0012"
            )
        ],
    )
    assert [a for a in fresh(first) if a.type == "session_name_spoofing"] == []
    spoofing = [a for a in fresh(second) if a.type == "session_name_spoofing"]
    # alice named her session job-9 (not her name), then, through it, "bob": both judged
    assert sorted(a.rawData["session_name"] for a in spoofing) == ["bob", "job-9"]
    assert {a.user for a in spoofing} == {ALICE}


def test_a_workload_named_from_its_record_is_named_by_its_issuance_when_that_comes_later(
    aws: MotoServer, tmp_path: Path
) -> None:
    """An EC2 instance-role session read before its issuing AssumeRole (by ec2.amazonaws.com)
    is first named from its own record (``ec2_instance_role``); when the issuance is read, the
    window says what an in-order read says (``issuing_event``, with the chain). The SQS
    soak read them in both orders and 18 windows differed (finding 17)."""
    seed_small_tenant(BUCKET)
    key = "ASIAEC2INSTANCE00001"
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    action = role_action("OpenRole", "i-0abc123", key, base + timedelta(minutes=2), created=base)
    action["userIdentity"]["sessionContext"]["ec2RoleDelivery"] = "2.0"
    put_trail_file(BUCKET, base + timedelta(minutes=5), [action], suffix="W01")
    rule = {"alert_kinds": KINDS, "activity_scope": "all"}
    tenant = TenantConfig("pipeline", configuration(rule=rule))
    state = StateDir(tmp_path)
    first = run_pull(tenant, state)
    (before,) = [a for a in fresh(first) if a.type == "noncompliant_role_activity"]
    assert before.rawData["resolution_method"] == "ec2_instance_role"
    issuing = assume_role("alice", "OpenRole", "i-0abc123", key, base)
    issuing["userIdentity"] = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    put_trail_file(BUCKET, base + timedelta(minutes=10), [issuing], suffix="W02")
    second = run_pull(tenant, state, validate=False)
    (after,) = [a for a in fresh(second) if a.type == "noncompliant_role_activity"]
    assert after.id == before.id
    assert after.rawData["resolution_method"] == "issuing_event"
    assert after.rawData["chain"]
    assert after.rawData["event_count"] == 1
    assert second.storage["health"]["windows_attributed_late"] == 1
