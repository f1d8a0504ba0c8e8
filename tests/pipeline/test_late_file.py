"""A trail file read hours after newer ones still finds the sessions that signed its events
(soak finding 21: an SQS backlog received in no particular order after an outage, and a
late S3 delivery, read a session's calls when its issuance had been read long before and
the session had been dropped from the index two hours after it expired)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from devkit.aws_emulator import MotoServer
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant
from tests.pipeline.test_late_issuance import ALICE, BUCKET, KINDS, fresh
from tests.pipeline.test_unread_objects import chained_assume_role
from tests.pipeline.trail import assume_role, put_trail_file, role_action


def test_a_late_file_is_attributed_by_an_issuance_read_hours_before(
    aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    base = (datetime.now(UTC) - timedelta(hours=10)).replace(minute=0, second=0, microsecond=0)
    key = "ASIALATEFILE00000001"
    issuing = [assume_role("alice", "OpenRole", "job-7", key, base)]
    put_trail_file(BUCKET, base + timedelta(minutes=5), issuing, suffix="F01")
    later = base + timedelta(hours=5)  # the session expired 4 hours before this
    newer = [role_action("EnforcedRole", "carol", "ASIALATEFILE00000099", later, created=later)]
    put_trail_file(BUCKET, later + timedelta(minutes=5), newer, suffix="F02")
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    run_pull(tenant, state)

    # The session's calls arrive now, in a file named (and timed) long before the newest.
    calls = [role_action("OpenRole", "job-7", key, base + timedelta(minutes=12), created=base)]
    put_trail_file(BUCKET, base + timedelta(minutes=15), calls, suffix="F03")
    second = run_pull(tenant, state, validate=False)

    (alert,) = [a for a in fresh(second) if a.type == "noncompliant_role_activity"]
    assert alert.user == ALICE
    assert alert.rawData["resolution_status"] == "resolved"
    assert alert.rawData["resolution_method"] == "issuing_event"


def test_a_window_named_by_source_identity_is_named_by_its_issuance_when_read(
    aws: MotoServer, tmp_path: Path
) -> None:
    """Calls carrying a SourceIdentity, read before the AssumeRole that issued their key
    (and set it), are named by the SourceIdentity at first; once the issuance is read,
    the alert is re-raised with the same id naming the IAM user through the issuance, as
    an in-order read names it. The same goes when what is read late is the first hop of
    a role chain (the second hop's issuance was already known)."""
    seed_small_tenant(BUCKET)
    base = (datetime.now(UTC) - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    first_key, second_key = "ASIALATEFILE00000011", "ASIALATEFILE00000012"
    direct = role_action("OpenRole", "job-8", first_key, base + timedelta(minutes=3), created=base)
    chained = chained_assume_role(
        "OpenRole", "job-8", first_key, base + timedelta(minutes=4), "hop-2", second_key
    )
    hop = role_action("OpenRole", "hop-2", second_key, base + timedelta(minutes=6), created=base)
    for record in (direct, chained, hop):
        record["userIdentity"]["sessionContext"]["sourceIdentity"] = "alice@example.com"
    put_trail_file(BUCKET, base + timedelta(minutes=10), [chained, hop], suffix="S01")
    put_trail_file(BUCKET, base + timedelta(minutes=10), [direct], suffix="S02")
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    first = run_pull(tenant, state)
    before = {a.id: a for a in fresh(first) if a.type == "noncompliant_role_activity"}
    assert {a.rawData["resolution_method"] for a in before.values()} == {"source_identity"}
    assert {a.rawData["session_name"] for a in before.values()} == {"job-8", "hop-2"}

    issuing = [assume_role("alice", "OpenRole", "job-8", first_key, base)]
    put_trail_file(BUCKET, base + timedelta(minutes=5), issuing, suffix="S03")
    second = run_pull(tenant, state, validate=False)

    after = {a.id: a for a in fresh(second) if a.type == "noncompliant_role_activity"}
    assert set(after) == set(before)  # the same findings, named again
    for alert in after.values():
        assert alert.user == ALICE
        assert alert.rawData["resolution_method"] == "issuing_event"
    assert second.storage["health"]["windows_attributed_late"] == len(before)
