"""An issuance that arrives later than the hold: the session's activity, already alerted
unattributed, is attributed when it comes (soak finding 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from devkit.aws_emulator import MotoServer
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, configuration, seed_small_tenant
from tests.pipeline.test_unread_objects import chained_assume_role
from tests.pipeline.trail import assume_role, put_trail_file, role_action

BUCKET = "contract-trail"
NOW = datetime.now(UTC).replace(microsecond=0)
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def test_a_session_given_up_on_is_attributed_when_its_issuance_arrives_late(
    aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    base = NOW - timedelta(hours=8)
    base = base - timedelta(minutes=base.minute, seconds=base.second)
    key = "ASIALATEISSUANCE0001"
    put_trail_file(
        BUCKET,
        base + timedelta(minutes=5),
        [role_action("OpenRole", "job-9", key, base + timedelta(minutes=2), created=base)],
        suffix="L000000000000001",
    )
    later = base + timedelta(hours=3)  # newer trail: event time passes the 1 h hold
    put_trail_file(
        BUCKET,
        later + timedelta(minutes=5),
        [role_action("EnforcedRole", "carol", "ASIALATEISSUANCE0002", later, created=later)],
        suffix="L000000000000002",
    )
    tenant = TenantConfig("pipeline", configuration())
    state = StateDir(tmp_path)
    first = run_pull(tenant, state)
    (before,) = [a for a in first.alerts if a.type == "noncompliant_role_activity"]
    assert before.rawData["resolution_status"] == "unresolved"
    assert before.user != ALICE

    # The file with alice's AssumeRole is delivered hours late (an older name).
    put_trail_file(
        BUCKET,
        base + timedelta(minutes=10),
        [assume_role("alice", "OpenRole", "job-9", key, base)],
        suffix="L000000000000003",
    )
    second = run_pull(tenant, state, validate=False)
    fresh = second.alerts[: second.storage["health"]["alerts"]]
    (after,) = [a for a in fresh if a.type == "noncompliant_role_activity"]
    assert after.id == before.id  # the same finding, now naming who it was
    assert after.user == ALICE
    assert after.rawData["resolution_status"] == "resolved"
    assert after.rawData["resolution_method"] == "issuing_event"
    assert after.rawData["event_count"] == before.rawData["event_count"] == 1
    assert second.storage["health"]["windows_attributed_late"] == 1


def test_a_role_chain_step_of_a_session_given_up_on_is_judged_when_attributed(
    aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    base = NOW - timedelta(hours=8)
    base = base - timedelta(minutes=base.minute, seconds=base.second)
    key = "ASIALATEISSUANCE0011"
    put_trail_file(
        BUCKET,
        base + timedelta(minutes=5),
        [
            chained_assume_role(
                "OpenRole", "job-9", key, base + timedelta(minutes=3), "bob", "ASIALATEISSUANCE0012"
            )
        ],
        suffix="L000000000000011",
    )
    later = base + timedelta(hours=3)
    put_trail_file(
        BUCKET,
        later + timedelta(minutes=5),
        [role_action("EnforcedRole", "carol", "ASIALATEISSUANCE0013", later, created=later)],
        suffix="L000000000000012",
    )
    kinds = ["posture", "noncompliant_activity", "session_spoofing"]
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": kinds}))
    state = StateDir(tmp_path)
    first = run_pull(tenant, state)
    assert [a for a in first.alerts if a.type == "session_name_spoofing"] == []
    put_trail_file(
        BUCKET,
        base + timedelta(minutes=10),
        [assume_role("alice", "OpenRole", "job-9", key, base)],
        suffix="L000000000000013",
    )
    second = run_pull(tenant, state, validate=False)
    fresh = second.alerts[: second.storage["health"]["alerts"]]
    spoofing = [a for a in fresh if a.type == "session_name_spoofing"]
    # alice named her session job-9 (not her name), then, through it, "bob": both judged
    assert sorted(a.rawData["session_name"] for a in spoofing) == ["bob", "job-9"]
    assert {a.user for a in spoofing} == {ALICE}
