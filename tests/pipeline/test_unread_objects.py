"""A trail object S3 fails to hand over (truncated body) while newer objects are read: the
events waiting for an issuance in it stay held until a later pull reads it, instead of
being given up because newer event time went by (soak finding: a lost spoofing alert)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.faulty_gateway import FaultyGateway
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, configuration, seed_small_tenant
from tests.pipeline.trail import assume_role, put_trail_file, role_action

BUCKET = "contract-trail"
NOW = datetime.now(UTC).replace(microsecond=0)
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
KINDS = ["posture", "noncompliant_activity", "session_spoofing", "unattributed_activity"]


@pytest.fixture
def gateway(aws: MotoServer) -> Iterator[FaultyGateway]:
    """S3 (only S3) reached through the fault-injecting gateway, as in the soak."""
    gw = FaultyGateway(aws.endpoint).start()
    try:
        with patched_env({"AWS_ENDPOINT_URL_S3": gw.url}):
            yield gw
    finally:
        gw.stop()


def chained_assume_role(
    role: str, session: str, key: str, at: datetime, new_session: str, new_key: str
) -> dict[str, Any]:
    """An AssumeRole signed by the session ``key`` (the second hop of a role chain)."""
    event = role_action(role, session, key, at, "AssumeRole", "sts.amazonaws.com")
    event["requestParameters"] = {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "roleSessionName": new_session,
    }
    issued = assume_role("x", role, new_session, new_key, at)["responseElements"]
    event["responseElements"] = copy.deepcopy(issued)
    event["readOnly"] = False
    return event


def test_an_issuance_in_an_object_s3_failed_to_read_is_waited_for_until_it_is_read(
    gateway: FaultyGateway, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    base = NOW - timedelta(hours=6)
    base = base - timedelta(minutes=base.minute, seconds=base.second)
    key = "ASIAUNREADOBJECT0001"
    # The uses of alice's session, and a chained AssumeRole naming another user, arrive in
    # a file delivered before the one holding the issuance (as real trails do).
    put_trail_file(
        BUCKET,
        base + timedelta(minutes=5),
        [
            role_action("OpenRole", "job-7", key, base + timedelta(minutes=2), created=base),
            chained_assume_role(
                "OpenRole", "job-7", key, base + timedelta(minutes=3), "bob", "ASIAUNREADOBJECT0002"
            ),
        ],
        suffix="U000000000000001",
    )
    issuing = put_trail_file(
        BUCKET,
        base + timedelta(minutes=10),
        [assume_role("alice", "OpenRole", "job-7", key, base)],
        suffix="U000000000000002",
    )
    # Newer files, read in the same pull, move event time far past the hold's deadline.
    later = base + timedelta(hours=3)
    put_trail_file(
        BUCKET,
        later + timedelta(minutes=5),
        [
            assume_role("carol", "EnforcedRole", "carol", "ASIAUNREADOBJECT0003", later),
            role_action("EnforcedRole", "carol", "ASIAUNREADOBJECT0003", later, created=later),
        ],
        suffix="U000000000000003",
    )
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))

    # Undisturbed, for reference: everything read in the first pull.
    calm = StateDir(tmp_path / "undisturbed")
    expected = summary(
        fresh(run_pull(tenant, calm)) + fresh(run_pull(tenant, calm, validate=False))
    )

    # Disturbed: S3 truncates the issuing object's body during the first pull.
    gateway.add_fault(
        {"kind": "truncate", "methods": ["GET"], "match": [issuing.rsplit("/", 1)[-1]]}
    )
    state = StateDir(tmp_path / "disturbed")
    first = run_pull(tenant, state)
    assert first.storage["health"]["source"]["objects_errored"] == 1
    # the uses and the chained AssumeRole are still held, not given up unattributed
    assert summary(fresh(first)) == [("role_session_name_not_enforced", ANY)]
    gateway.clear_faults()
    second = run_pull(tenant, state, validate=False)
    assert second.storage["health"]["source"]["objects_errored"] == 0

    got = summary(fresh(first) + fresh(second))
    assert got == expected
    kinds = [kind for kind, _user in got]
    assert "unattributed_session_activity" not in kinds
    assert kinds.count("noncompliant_role_activity") >= 1
    assert kinds.count("session_name_spoofing") == 2  # alice as job-7, then (chained) as bob
    for kind, user in got:
        if kind in ("noncompliant_role_activity", "session_name_spoofing"):
            assert user == ALICE, (kind, user)


def summary(alerts: list[Any]) -> list[tuple[str, Any]]:
    return sorted((a.type, a.user or "") for a in alerts)


def fresh(result: PullResult) -> list[Any]:
    """The alerts this pull raised (without the previous pull's replayed ones)."""
    return list(result.alerts[: result.storage["health"]["alerts"]])
