"""The soak's trust-change plans: which roles each change file opens and restores."""

from __future__ import annotations

from itertools import pairwise

from devkit.emulators.faulty_gateway import GatewayFault
from devkit.soak import (
    SQS_STRETCH_KINDS,
    Disturber,
    Increment,
    SoakOptions,
    Upload,
    changed_roles,
    sqs_faults_for,
)

ROLES = [
    f"arn:aws:iam::111111111111:role/Role-{n:02d}" for n in range(8)
]  # even, as the corpus's 24
NUMBERS = range(1, 60, 4)  # increments with a change file (trust_change_every = 4)


def _changes(plan: str) -> list[list[tuple[str, str]]]:
    return [changed_roles(ROLES, number, plan, 4) for number in NUMBERS]


def test_pairs_open_and_restore_disjoint_roles() -> None:
    opened = {role for change in _changes("pairs") for role, v in change if v == "open"}
    restored = {role for change in _changes("pairs") for role, v in change if v == "enforced"}
    assert opened and restored
    assert not opened & restored


def test_alternating_restores_the_role_the_previous_change_opened() -> None:
    changes = _changes("alternating")
    for before, after in pairwise(changes):
        (opened, verdict), (restored, restored_to) = before[0], after[1]
        assert (verdict, restored_to) == ("open", "enforced")
        assert restored == opened
    flipped = [role for role in ROLES if sum(role == c[0][0] for c in changes) >= 2]
    assert flipped, "over 15 changes of 8 roles some role is opened (and restored) twice"


def test_sqs_stretches_are_drawn_apart_and_leave_every_other_decision_as_it_was() -> None:
    """SQS failure stretches come from a generator of their own: switching them on keeps the
    kills and the HEC and S3 stretches of a seed, so SQS runs compare with earlier ones."""
    plan = [Increment(n, [Upload(f"k{n}", "trail")]) for n in range(40)]
    without = Disturber(SoakOptions(source="sqs", sqs_fault_rate=0.0), plan)
    with_sqs = Disturber(SoakOptions(source="sqs", sqs_fault_rate=0.5), plan)
    assert (without.hec, without.s3, without.sqs) == (with_sqs.hec, with_sqs.s3, {})
    assert with_sqs.sqs and set(with_sqs.sqs.values()) <= set(SQS_STRETCH_KINDS)
    for increment in plan:
        a = without.attempt(increment, 0, 2.0)
        b = with_sqs.attempt(increment, 0, 2.0)
        assert (a.kill, a.kill_delay, a.kill_threshold, a.hec_stretch, a.s3_stretch) == (
            b.kill,
            b.kill_delay,
            b.kill_threshold,
            b.hec_stretch,
            b.s3_stretch,
        )
        assert b.sqs_stretch == with_sqs.sqs.get(increment.number)
        assert (b.sqs_outage_seconds > 0) == (b.sqs_stretch == "outage")
    assert not Disturber(SoakOptions(source="s3", sqs_fault_rate=1.0), plan).sqs


def test_every_sqs_stretch_kind_has_faults_and_only_for_sqs_operations() -> None:
    operations = {"ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"}
    for kind in SQS_STRETCH_KINDS:
        faults = [GatewayFault.from_json(f) for f in sqs_faults_for(kind, 3.0)]
        assert faults, kind
        for fault in faults:
            assert set(fault.operations) <= operations, kind
    assert sqs_faults_for(None, 0.0) == []
    assert sqs_faults_for("outage", 4.5)[0]["duration"] == 4.5


def test_a_run_with_as_many_sqs_stretches_as_kinds_exercises_every_kind() -> None:
    plan = [Increment(n) for n in range(63)]  # the long soak's increments
    checked = 0
    for seed in (20261129, 1, 2, 3):
        drawn = Disturber(SoakOptions(source="sqs", seed=seed), plan).sqs
        starts = [n for n in sorted(drawn) if drawn.get(n - 1) != drawn[n]]
        if len(starts) >= len(SQS_STRETCH_KINDS):
            assert set(drawn.values()) == set(SQS_STRETCH_KINDS), seed
            checked += 1
    assert checked >= 3
