"""The S3 reader on a scheduled (organization-sized) trail, against moto in server mode:
three dozen account/Region folders delivering every five minutes on a simulated clock,
pulls one minute apart. New files are read once, soon after they land, listing only the
folders whose next file is due; late files are caught by the sweeps; the checkpoint
stays the same size however long it runs; a time budget stops a pull with what it read
committed and the rest read next time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import S3TrailReader
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import Deadline

from tests.readers.helpers import Factory, FakeClock, Storage, drain, trail_bytes, trail_key

BUCKET = "org-trail-0001"
ORG = "o-a1b2c3d4e5"
ACCOUNTS = [f"{100000000000 + 7919 * i:012d}" for i in range(6)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]
FOLDERS = [(a, r) for a in ACCOUNTS for r in REGIONS]


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def start_time():
    # moto stamps LastModified with the real clock: run the simulated clock a little behind
    # it, so a file put "now" on the simulated clock is on time by its LastModified too.
    real = datetime.now(UTC).replace(second=0, microsecond=0)
    return real - timedelta(minutes=5)


class Org:
    def __init__(self, s3, clock):
        self.s3 = s3
        self.clock = clock
        self.on_time: list[str] = []
        self.late: list[str] = []

    def deliver(self, minute: datetime) -> None:
        slot = int(minute.timestamp() // 60) % 5
        for index in range(slot, len(FOLDERS), 5):
            account, region = FOLDERS[index]
            key = trail_key(minute, account=account, region=region, org=ORG, rand=f"{index:016x}")
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=trail_bytes())
            self.on_time.append(key)

    def deliver_late(self, minutes_back: int, index: int) -> str:
        account, region = FOLDERS[index]
        named = self.clock.now - timedelta(minutes=minutes_back)
        key = trail_key(named, account=account, region=region, org=ORG, rand=f"late{index:012x}")
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=trail_bytes())
        self.late.append(key)
        return key


def pull(store, factory, clock, **options):
    storage = store.begin()
    reader = S3TrailReader(
        factory,
        storage.setdefault("sources", {}),
        bucket=BUCKET,
        clock=clock,
        sweeps_per_pull=6,  # 36 folders: sweeps spread over six pulls, as at 17,000 folders
        small_trail_folders=8,  # and scheduled, as an organization trail is
        fetch_workers=4,
        list_workers=4,
        **options,
    )
    names = [b.name for b in drain(reader)]
    reader.commit()
    store.save(storage)
    return names, reader


def test_an_organization_trail_is_read_once_listing_only_what_is_due(s3):
    clock = FakeClock(start_time())
    org = Org(s3, clock)
    factory, store = Factory(), Storage()
    for back in range(10, -1, -1):
        org.deliver(clock.now - timedelta(minutes=back))
    read: list[str] = []
    names, reader = pull(store, factory, clock)
    read += names
    assert sorted(names) == sorted(org.on_time)  # the catch-up reads what is there

    lists, sizes, late = [], [], []
    for number in range(1, 26):
        clock.advance(60)
        org.deliver(clock.now)
        if number == 3:
            late.append(org.deliver_late(90, index=7))
            late.append(org.deliver_late(40, index=20))
        names, reader = pull(store, factory, clock)
        read += names
        lists.append(reader.stats.api_calls["s3:ListObjectsV2"])
        sizes.append(len(json.dumps(store.saved["sources"]["s3"], separators=(",", ":"))))
        assert not any(p.code == "processed_record_full" for p in reader.stats.problems)
        assert reader.stats.backlog == 0 and not reader.stats.budget_exhausted

    assert len(read) == len(set(read)), "a file was read twice"
    cutoff = clock.now - timedelta(minutes=2)
    missed = [k for k in org.on_time if k not in read and _named(k) <= cutoff]
    assert missed == []
    assert set(late) <= set(read), "a late file was not caught by the sweeps"
    # Each folder delivers every five minutes: about a fifth of them are due each pull (plus
    # the odd forced sweep), far from listing all 36 every pull.
    steady = lists[10:]
    assert sum(steady) / len(steady) <= len(FOLDERS) / 5 + 2
    # Bounded state: the checkpoint does not grow with the number of files read.
    assert max(sizes[10:]) <= sizes[10] + 64  # only the two late digests may be added
    assert max(sizes) / len(FOLDERS) < 100


def test_a_time_budget_stops_the_pull_and_the_next_pull_reads_the_rest_once(s3):
    clock = FakeClock(start_time())
    org = Org(s3, clock)
    for back in range(10, -1, -1):
        org.deliver(clock.now - timedelta(minutes=back))
    factory, store = Factory(), Storage()
    mono = [0.0]
    deadline = Deadline(30, monotonic=lambda: mono[0])

    storage = store.begin()
    reader = S3TrailReader(
        factory, storage.setdefault("sources", {}), bucket=BUCKET, clock=clock,
        deadline=deadline, fetch_workers=1,
    )  # fmt: skip
    first = []
    for batch in reader.batches():
        first.append(batch.name)
        if len(first) == 5:
            mono[0] = 31.0  # the budget runs out while the pipeline works on this batch
    reader.commit()
    store.save(storage)
    stats = reader.stats
    assert len(first) == 5
    assert stats.budget_exhausted and stats.elapsed_seconds == 31.0
    assert stats.backlog == len(org.on_time) - 5
    assert stats.oldest_unread is not None
    assert first == sorted(first, key=_named)  # oldest first

    names, reader = pull(store, factory, clock)
    assert sorted(first + names) == sorted(org.on_time)
    assert not reader.stats.budget_exhausted and reader.stats.backlog == 0


def _named(key: str) -> datetime:
    stamp = key.rsplit("_", 2)[-2]
    return datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def pull_cut_at(stop_after: set[str], store, factory, clock) -> list[str]:
    """One pull whose budget runs out while the pipeline works on a batch in ``stop_after``."""
    mono = [0.0]
    storage = store.begin()
    reader = S3TrailReader(
        factory, storage.setdefault("sources", {}), bucket=BUCKET, clock=clock,
        deadline=Deadline(30, monotonic=lambda: mono[0]), sweeps_per_pull=6,
        small_trail_folders=8, fetch_workers=1, list_workers=4,
    )  # fmt: skip

    def cut(batch):
        if batch.name in stop_after:
            mono[0] = 31.0

    names = [b.name for b in drain(reader, cut)]
    reader.commit()
    store.save(storage)
    return names


def test_late_files_a_budget_cut_sweep_left_unread_are_read_by_the_next_pull(s3):
    """A sweep finds a folder's late files below its cursor; the budget runs out after the
    first. The next pull's listing of that folder must be a sweep again (a listing from the
    cursor starts above them), not wait for the folder's next sweep interval."""
    clock = FakeClock(start_time())
    org = Org(s3, clock)
    factory, store = Factory(), Storage()
    for back in range(10, -1, -1):
        org.deliver(clock.now - timedelta(minutes=back))
    pull(store, factory, clock)

    late: list[str] = []
    pulls: list[list[str]] = []
    for number in range(1, 31):
        clock.advance(60)
        org.deliver(clock.now)
        if number == 1:
            late += [org.deliver_late(90, index=7), org.deliver_late(85, index=7)]
        pulls.append(pull_cut_at(set(late), store, factory, clock))

    read = [name for names in pulls for name in names]
    assert len(read) == len(set(read)), "a file was read twice"
    first = next(i for i, names in enumerate(pulls) if late[0] in names)
    assert late[1] not in pulls[first]  # the budget cut the sweep after the first
    assert late[1] in pulls[first + 1]
