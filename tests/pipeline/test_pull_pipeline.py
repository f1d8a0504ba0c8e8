"""One pull end to end on moto: activity attributed across pulls, bad objects skipped and
reported, the volume cap deferring (not dropping) alerts, and the health record."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.aws_emulator import MotoServer
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant
from tests.pipeline.trail import assume_role, put_raw, put_trail_file, role_action

BUCKET = "contract-trail"
NOW = datetime.now(UTC).replace(microsecond=0)


def tenant(**overrides: dict[str, object]) -> TenantConfig:
    return TenantConfig(name="pipeline", configuration=configuration(**overrides))


def activity(result: object) -> list[object]:
    return [a for a in result.alerts if a.type == "noncompliant_role_activity"]  # type: ignore[attr-defined]


def test_a_session_window_spanning_two_pulls_keeps_one_alert_with_summed_counts(
    aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    start = NOW - timedelta(hours=2)
    start = start - timedelta(minutes=start.minute % 60, seconds=start.second)  # on the hour
    key = "ASIAPIPELINEKEY00001"
    put_trail_file(
        BUCKET,
        start,
        [
            assume_role("alice", "OpenRole", "job-1", key, start),
            role_action("OpenRole", "job-1", key, start + timedelta(minutes=2), created=start),
        ],
        suffix="A000000000000001",
    )
    state = StateDir(tmp_path)
    first = activity(run_pull(tenant(), state))
    put_trail_file(
        BUCKET,
        start + timedelta(minutes=5),
        [
            role_action(
                "OpenRole", "job-1", key, start + timedelta(minutes=6), "GetObject", created=start
            ),
        ],
        suffix="A000000000000002",
    )
    second = activity(run_pull(tenant(), state, validate=False))
    assert len(first) == len(second) == 1
    assert first[0].id == second[0].id
    assert first[0].user == second[0].user == "arn:aws:iam::123456789012:user/alice"
    counts = json.loads(second[0].rawData["event_counts"])
    assert counts == {"s3:ListBuckets": 1, "s3:GetObject": 1}
    assert second[0].rawData["event_count"] == 2


def test_corrupt_truncated_and_foreign_objects_are_skipped_and_named(
    aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    at = NOW - timedelta(hours=1)
    good = gzip.compress(
        json.dumps(
            {
                "Records": [
                    assume_role("bob", "OpenRole", "s", "ASIAPIPELINEKEY00002", at),
                    role_action("OpenRole", "s", "ASIAPIPELINEKEY00002", at + timedelta(minutes=1)),
                ]
            }
        ).encode()
    )
    bad_keys = [
        put_raw(BUCKET, at, b"\x1f\x8b\x08\x00garbage-not-gzip", "B000000000000001"),
        put_raw(BUCKET, at, good[: len(good) // 2], "B000000000000002"),
        put_raw(BUCKET, at, gzip.compress(b'{"hello": "world"}'), "B000000000000003"),
    ]
    put_raw(BUCKET, at, good, "B000000000000004")
    result = run_pull(tenant(), StateDir(tmp_path))
    assert [a.user for a in activity(result)] == ["arn:aws:iam::123456789012:user/bob"]
    health = result.storage["health"]
    assert health["objects_failed"] == 3
    warnings = "\n".join(r.message for r in result.logger.records if r.level == "warn")
    for key in bad_keys:
        assert key in warnings


def test_the_volume_cap_defers_the_excess_and_says_so(aws: MotoServer, tmp_path: Path) -> None:
    seed_small_tenant(BUCKET)
    at = NOW - timedelta(hours=1)
    records = []
    for n in range(14):
        key = f"ASIAPIPELINECAP{n:05d}"
        records.append(assume_role("carol", "OpenRole", f"run-{n}", key, at))
        records.append(role_action("OpenRole", f"run-{n}", key, at + timedelta(minutes=1)))
    put_trail_file(BUCKET, at, records, suffix="C000000000000001")
    state = StateDir(tmp_path)
    rule = {"max_alerts_per_pull": 10}
    # 1 posture alert + 14 session windows are due; the cap is 10 alerts per pull
    pulls = [run_pull(tenant(rule=rule), state, validate=n == 0) for n in range(3)]
    # each pull returns its own alerts first, then repeats the previous pull's (replay)
    fresh = [p.alerts[: p.storage["health"]["alerts"]] for p in pulls]
    summaries = [[a for a in f if a.type == "alert_volume_capped"] for f in fresh]
    assert [len(f) for f in fresh] == [10, 6, 0]
    assert [len(p.alerts) for p in pulls] == [10, 16, 6]
    assert [s[0].rawData["deferred"] if s else 0 for s in summaries] == [6, 0, 0]
    assert summaries[0][0].rawData["deferred_by_kind"] == (
        "noncompliant_role_activity 5, role_session_name_not_enforced 1"
    )
    assert all(s[0].rawData["dropped"] == 0 for s in summaries if s)
    delivered = [a.id for f in fresh for a in f if a.type != "alert_volume_capped"]
    assert len(delivered) == len(set(delivered)) == 15


def test_health_record_and_summary_line_describe_the_pull(aws: MotoServer, tmp_path: Path) -> None:
    seed_small_tenant(BUCKET)
    result = run_pull(tenant(), StateDir(tmp_path))
    health = result.storage["health"]
    assert health["posture_scanned"] is True and health["roles_evaluated"] == 2
    assert health["alerts_by_kind"] == {"role_session_name_not_enforced": 1}
    assert "api_calls" in health["source"]
    summary = [r.message for r in result.logger.records if "Pull summary" in r.message]
    assert len(summary) == 1
    assert "posture scanned 2 roles" in summary[0] and "alerts 1" in summary[0]


@pytest.mark.parametrize("scope", ["writes", "sensitive"])
def test_activity_scope_filters_reads(aws: MotoServer, tmp_path: Path, scope: str) -> None:
    seed_small_tenant(BUCKET)
    at = NOW - timedelta(hours=1)
    key = "ASIAPIPELINESCOPE001"
    put_trail_file(
        BUCKET,
        at,
        [
            assume_role("dave", "OpenRole", "x", key, at),
            role_action("OpenRole", "x", key, at + timedelta(minutes=1), "ListBuckets"),
            role_action("OpenRole", "x", key, at + timedelta(minutes=2), "PutBucketPolicy"),
        ],
        suffix="D000000000000001",
    )
    rule = {"activity_scope": scope, "sensitive_actions": "s3:PutBucket*"}
    alerts = activity(run_pull(tenant(rule=rule), StateDir(tmp_path)))
    assert len(alerts) == 1
    assert json.loads(alerts[0].rawData["event_counts"]) == {"s3:PutBucketPolicy": 1}
