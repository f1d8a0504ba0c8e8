"""Exactly once under any delivery order: the S3 reader over the benchmark's in-process S3
(ListObjectsV2 semantics checked against moto in ``test_s3_fake_parity.py``) on a simulated
clock. Files land on time, a little delayed, or late under an older name; pulls come at
uneven intervals, run out of budget part-way, or raise (CE then saves nothing). Whatever
hypothesis draws, every file is read, and no file is read twice by pulls that were saved."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import S3TrailReader
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import Deadline

from bench.fake_s3 import FakeFactory, FakeS3Client
from tests.readers.helpers import trail_bytes, trail_key

BUCKET = "property-bucket"
START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
FOLDERS = [(a, r) for a in ("111111111111", "222222222222") for r in ("us-east-1", "eu-west-1")]
BODY = trail_bytes()

landing = st.one_of(
    st.just(0),  # on time
    st.integers(1, 4),  # a few minutes behind its name
    st.integers(20, 180),  # late: CloudTrail re-delivers it under its old name
)
step = st.tuples(
    st.integers(1, 4),  # minutes until this pull
    st.one_of(st.none(), st.integers(0, 3)),  # budget runs out after this many batches
    st.booleans(),  # the pull raises: storage not saved
)


# Derandomized so that CI runs the same 25 cases every time; cases found by random runs are
# kept below as fixed examples.
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    delays=st.lists(landing, min_size=24, max_size=24),
    steps=st.lists(step, min_size=20, max_size=40),
    scheduled=st.booleans(),
)
def test_every_file_is_read_exactly_once_whatever_the_order_of_arrival(delays, steps, scheduled):
    s3 = FakeS3Client(BUCKET, latency=0)
    # 24 deliveries: each folder every 5 minutes for half an hour, each landing with its delay
    pending = []
    for i, delay in enumerate(delays):
        account, region = FOLDERS[i % len(FOLDERS)]
        named = START + timedelta(minutes=5 * (i // len(FOLDERS)) + i % 5)
        key = trail_key(named, account=account, region=region, rand=f"{i:016x}")
        pending.append((named + timedelta(minutes=delay), key))
    everything = {key for _land, key in pending}

    now = START
    saved: dict = {}
    read_saved: list[str] = []
    options = {"small_trail_folders": 1, "sweeps_per_pull": 2} if scheduled else {}

    def deliver():
        for land, key in pending:
            if land <= now and key not in delivered:
                s3.put(key, BODY, land)
                delivered.add(key)

    delivered: set[str] = set()

    def pull(cut_after=None, raises=False):
        storage = copy.deepcopy(saved)
        mono = [0.0]
        reader = S3TrailReader(
            FakeFactory(s3),
            storage.setdefault("sources", {}),
            bucket=BUCKET,
            clock=lambda: now,
            deadline=Deadline(10, monotonic=lambda: mono[0]),
            fetch_workers=1,
            list_workers=1,
            **options,
        )
        names = []
        for batch in reader.batches():
            names.append(batch.name)
            if cut_after is not None and len(names) > cut_after:
                mono[0] = 11.0
        if raises:
            return
        reader.commit()
        saved.clear()
        saved.update(json.loads(json.dumps(storage)))
        read_saved.extend(names)

    for minutes, cut_after, raises in steps:
        now += timedelta(minutes=minutes)
        deliver()
        pull(cut_after, raises)
    # then undisturbed pulls, long enough for every folder to be swept after the last landing
    last_landing = max(land for land, _key in pending)
    while now < max(last_landing, START) + timedelta(hours=3):
        now += timedelta(minutes=1)
        deliver()
        pull()

    assert len(read_saved) == len(set(read_saved)), "a file was read twice"
    assert set(read_saved) == everything, "a file was never read"


# A budget cut after one file leaves a folder found late (at 12:39) with its cursor at its
# next file, 33 minutes back: stored as "x" in base 36, it must not be taken for the
# exact-cursor mark (the folder would be dropped, found again and re-read from the look-back).
KNOWN_TWICE_DELAYS = [0, 1, 1] + [0] * 21
KNOWN_TWICE_STEPS = (
    [(1, None, False)] * 9
    + [(2, None, False)]
    + [(4, None, False)] * 5
    + [
        (4, None, True),
        (4, 0, False),
        (1, None, False),
        (1, None, False),
        (1, None, False),
    ]
)


def test_a_late_file_read_by_a_budget_cut_pull_is_not_read_again_by_the_sweep():
    test_every_file_is_read_exactly_once_whatever_the_order_of_arrival.hypothesis.inner_test(
        KNOWN_TWICE_DELAYS, KNOWN_TWICE_STEPS, True
    )


# Found by a random run with pulls up to 25 minutes apart: a sweep finds two late files of one
# folder (12:10 and 12:19, landed 15:10 and 14:22) and the budget runs out after the first
# (16:28). The next saved pulls listed the folder from its cursor, above the second, and the
# run ended before the folder's next sweep: the sweep must be owed again at once.
SWEEP_CUT_DELAYS = [0] * 10 + [180, 0, 0, 0, 123] + [0] * 9
SWEEP_CUT_STEPS = (
    [(1, None, False)] * 12
    + [(1, None, True), (9, None, False), (1, None, True), (1, None, True), (24, None, False)]
    + [(2, None, True), (25, None, False), (1, None, True), (1, None, True), (22, None, False)]
    + [(1, None, True), (1, None, True), (17, None, False), (25, None, True), (25, None, True)]
    + [(25, None, True), (25, None, False), (25, None, True), (25, 0, False), (1, None, True)]
    + [(1, None, True), (25, None, False), (25, None, True), (25, None, False), (25, None, True)]
)


def test_a_late_file_left_by_a_budget_cut_sweep_is_read_before_the_folders_next_sweep():
    test_every_file_is_read_exactly_once_whatever_the_order_of_arrival.hypothesis.inner_test(
        SWEEP_CUT_DELAYS, SWEEP_CUT_STEPS, True
    )
