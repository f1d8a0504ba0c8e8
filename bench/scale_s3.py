"""The S3 trail reader at organization scale (not a test): ``make bench-scale-s3``.

``python -m bench.scale_s3 [--accounts 1000] [--regions 17] [--pulls 10] [--latency 0.02]``
builds an in-process bucket (``bench.fake_s3``: ListObjectsV2/GetObject semantics, a
sleep per call) holding an organization trail — one file per account/Region every five
minutes, the folders' delivery minutes spread evenly — and runs the real ``S3TrailReader``
on a simulated clock that advances 60 s per pull, with a time budget per pull: a catch-up
of ``--history-minutes`` of files first, then steady pulls. A few files a pull are
delivered late under an older name, to exercise the sweeps.

Per pull it prints LIST and GET calls, files read, backlog, lag (clock minus the oldest
unread delivery), wall and CPU time, the pull's peak RSS and the checkpoint size; then the
steady-state averages, the LIST cost per day at USD 0.005 per 1,000 requests, the worst-case
checkpoint at this scale, and whether every file was read exactly once.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.fake_s3 import FakeFactory, FakeS3Client
from devkit.loader import plugin_module

BUCKET = "org-trail-bench"
ORG = "o-abcdefghij"
START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
)  # fmt: skip
LIST_USD_PER_1000 = 0.005
GET_USD_PER_1000 = 0.0004
TARGET_LIST_PER_PULL = 6_000
TARGET_RSS_MB = 200
TARGET_CHECKPOINT_BYTES = 2_000_000


@dataclass
class Row:
    pull: int
    lists: int
    gets: int
    read: int
    backlog: int
    lag: float | None
    wall: float
    cpu: float
    rss_mb: float
    checkpoint: int
    sweeps: int
    late: int
    age: float
    exhausted: bool
    problems: list[str]


def payload() -> bytes:
    record = {"eventID": "e", "eventName": "ListBuckets", "eventTime": "2026-11-29T12:00:00Z"}
    return gzip.compress(json.dumps({"Records": [record]}).encode(), mtime=0)


class Trail:
    """The organization trail's deliveries on the simulated clock."""

    def __init__(self, s3: FakeS3Client, accounts: int, regions: int, seed: int) -> None:
        self.s3 = s3
        self.body = payload()
        self.folders = [
            (f"{100000000000 + 7919 * a:012d}", region)
            for a in range(accounts)
            for region in REGIONS[:regions]
        ]
        self.delivered: set[str] = set()
        self.late: set[str] = set()
        self.random = random.Random(seed)

    def key(self, account: str, region: str, when: datetime, tag: str) -> str:
        return (
            f"AWSLogs/{ORG}/{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
            f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{tag}.json.gz"
        )

    def deliver(self, first: datetime, last: datetime) -> int:
        """Files of every folder whose delivery minute is in ``[first, last]``."""
        count = 0
        minute = first
        while minute <= last:
            slot = int(minute.timestamp() // 60) % 5
            for index in range(slot, len(self.folders), 5):
                account, region = self.folders[index]
                key = self.key(account, region, minute, f"{index:016x}")
                self.s3.put(key, self.body, minute + timedelta(seconds=20))
                self.delivered.add(key)
                count += 1
            minute += timedelta(minutes=1)
        return count

    def deliver_late(self, now: datetime, count: int) -> None:
        """Files named up to ten hours back that land now (CloudTrail re-deliveries)."""
        for _ in range(count):
            account, region = self.random.choice(self.folders)
            named = now - timedelta(minutes=self.random.randint(20, 600))
            key = self.key(account, region, named, f"late{self.random.getrandbits(48):012x}")
            self.s3.put(key, self.body, now)
            self.late.add(key)


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0), so each pull reports its own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb(resettable: bool) -> float:
    if resettable:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worst_case_checkpoint(accounts: int, regions: int) -> tuple[int, int]:
    """Bytes of a checkpoint with every folder at its steady-state worst — a cursor and
    schedule with large offsets, the unread mark, four ``recent`` digests (the files of the
    cursor's lag window plus one of the same minute) — and then with the two capped records
    full as well (``max_seen_keys`` late digests, ``max_retry_keys`` keys to retry)."""
    state_mod = plugin_module("utils.readers.s3_state")
    layout = plugin_module("utils.readers.layout")
    now = int(START.timestamp() // 60)
    states = {}
    for a in range(accounts):
        account = f"{100000000000 + 7919 * a:012d}"
        for region in REGIONS[:regions]:
            p = layout.TrailPrefix("AWSLogs/", ORG, account, region)
            states[p.path] = state_mod.PrefixState(
                prefix=p,
                cursor=state_mod.minute_key(p, now - 1439),
                last=now - 1439,
                due=now + 1439,
                swept=now - 1439,
                unread=True,
                recent={state_mod.digest(f"{p.path}{i}") for i in range(4)},
            )

    def size() -> int:
        section = state_mod.encode_section(
            state_mod.Section(states, now), bucket=BUCKET, prefix="", root="AWSLogs/", now=now
        )
        return len(json.dumps(section, separators=(",", ":")))

    steady = size()
    folders = list(states.values())
    for i in range(20_000):  # S3TrailReader's max_seen_keys default
        folders[i % len(folders)].late.add(state_mod.digest(f"late{i}"))
    for i in range(2_000):  # max_retry_keys default
        state = folders[i % len(folders)]
        when = START - timedelta(minutes=i % 1440)
        suffix = f"{when:%Y/%m/%d}/{state.prefix.file_stem}{when:%Y%m%dT%H%M}Z_{i:016x}.json.gz"
        state.retry[layout.encode_suffix(state.prefix, suffix)] = "e"
    return steady, size()


def run(options: argparse.Namespace) -> int:
    readers = plugin_module("utils.readers")
    base = plugin_module("utils.readers.base")
    s3 = FakeS3Client(BUCKET, latency=options.latency)
    trail = Trail(s3, options.accounts, options.regions, options.seed)
    now = START
    trail.deliver(now - timedelta(minutes=options.history_minutes), now)
    folders = len(trail.folders)
    print(
        f"S3 trail reader at {options.accounts} accounts x {options.regions} Regions "
        f"({folders} folders, {folders // 5} files/min), {options.latency * 1000:.0f} ms per "
        f"call, {options.list_workers} list + {options.fetch_workers} fetch threads, "
        f"{options.budget:.0f} s budget per 60 s pull; {len(s3)} files of catch-up",
        flush=True,
    )
    resettable = reset_peak_rss()
    print(f"baseline RSS (interpreter + fake bucket): {peak_rss_mb(resettable):.0f} MB")
    storage: dict[str, Any] = {}
    handed: set[str] = set()
    duplicates = 0
    rows: list[Row] = []
    header = (
        f"{'pull':>4} {'LIST':>6} {'GET':>6} {'read':>6} {'backlog':>7} {'lag s':>6} "
        f"{'wall s':>6} {'CPU s':>6} {'RSS MB':>6} {'ckpt KB':>7} {'sweeps':>6} {'late':>4} "
        f"{'age s':>5}  notes"
    )
    print(header)
    total = options.catchup_pulls + options.pulls
    for number in range(1, total + 1):
        if number > 1:
            previous, now = now, now + timedelta(seconds=60)
            trail.deliver(previous + timedelta(minutes=1), now)
            if number > options.catchup_pulls:
                trail.deliver_late(now, options.late_per_pull)
        before = calls_snapshot(s3)
        storage = json.loads(json.dumps(storage))  # CE's save and load between pulls
        resettable = reset_peak_rss()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        reader = readers.S3TrailReader(
            FakeFactory(s3),
            storage.setdefault("sources", {}),
            bucket=BUCKET,
            lookback_hours=options.lookback_hours,
            deadline=base.Deadline(options.budget),
            fetch_workers=options.fetch_workers,
            list_workers=options.list_workers,
            listing_minutes=options.listing_minutes,
            clock=lambda moment=now: moment,
        )
        read = 0
        age = 0.0
        for batch in reader.batches():
            reader.unread_since()  # as the pipeline asks before each batch
            read += 1
            if batch.name in handed:
                duplicates += 1
            handed.add(batch.name)
            if batch.name not in trail.late:
                age = max(age, (now - _named(batch.name)).total_seconds())
        reader.commit()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        rss = peak_rss_mb(resettable)
        section = storage["sources"]["s3"]
        stats = reader.stats
        lag = None if stats.oldest_unread is None else now.timestamp() - stats.oldest_unread
        after = calls_snapshot(s3)
        row = Row(
            number,
            after[0] - before[0],
            after[1] - before[1],
            read,
            stats.backlog,
            lag,
            wall,
            cpu,
            rss,
            len(json.dumps(section, separators=(",", ":"))),
            reader.sweeps,
            reader.late_found,
            age,
            stats.budget_exhausted,
            sorted({p.code for p in stats.problems}),
        )
        assert row.lists == stats.api_calls["s3:ListObjectsV2"]
        rows.append(row)
        notes = ("budget " if row.exhausted else "") + ",".join(row.problems)
        print(
            f"{row.pull:>4} {row.lists:>6} {row.gets:>6} {row.read:>6} {row.backlog:>7} "
            f"{'-' if lag is None else f'{lag:.0f}':>6} {row.wall:>6.1f} {row.cpu:>6.1f} "
            f"{row.rss_mb:>6.0f} {row.checkpoint / 1000:>7.0f} {row.sweeps:>6} {row.late:>4} "
            f"{row.age:>5.0f}  "
            f"{'catch-up ' if number <= options.catchup_pulls else ''}{notes}",
            flush=True,
        )
    return report(options, trail, rows, handed, duplicates, now)


def calls_snapshot(s3: FakeS3Client) -> tuple[int, int]:
    return s3.calls["ListObjectsV2"], s3.calls["GetObject"]


def report(
    options: argparse.Namespace,
    trail: Trail,
    rows: list[Row],
    handed: set[str],
    duplicates: int,
    now: datetime,
) -> int:
    steady = rows[options.catchup_pulls :] or rows
    per_pull = sum(r.lists for r in steady) / len(steady)
    pulls_per_day = 24 * 60
    list_usd = per_pull * pulls_per_day * LIST_USD_PER_1000 / 1000
    get_usd = sum(r.gets for r in steady) / len(steady) * pulls_per_day * GET_USD_PER_1000 / 1000
    arrivals = len(trail.folders) // 5
    cutoff = now - timedelta(minutes=max(5, options.listing_minutes) + 2)
    missed = [k for k in trail.delivered if k not in handed and _named(k) <= cutoff]
    late_read = len(trail.late & handed)
    worst_steady, worst = worst_case_checkpoint(options.accounts, options.regions)
    problems = sorted({p for r in steady for p in r.problems})
    print()
    print(
        f"steady state ({len(steady)} pulls): LIST/pull avg {per_pull:.0f} max "
        f"{max(r.lists for r in steady)}, GET/pull avg "
        f"{sum(r.gets for r in steady) / len(steady):.0f}, wall max "
        f"{max(r.wall for r in steady):.1f} s, CPU avg "
        f"{sum(r.cpu for r in steady) / len(steady):.1f} s, backlog max "
        f"{max(r.backlog for r in steady)} (one poll's arrivals: {arrivals}), peak RSS max "
        f"{max(r.rss_mb for r in rows):.0f} MB, checkpoint max "
        f"{max(r.checkpoint for r in rows) / 1000:.0f} KB (worst case at this scale "
        f"{worst_steady / 1000:.0f} KB, {worst / 1000:.0f} KB with the late and retry "
        "records full)"
    )
    print(
        f"cost at 60 s polls: LIST USD {list_usd:.2f}/day ({per_pull * pulls_per_day / 1e6:.2f} M "
        f"requests), GET USD {get_usd:.2f}/day"
    )
    print(
        f"exactly once: {duplicates} files read twice, {len(missed)} on-time files not read "
        f"(named before {cutoff:%H:%M}), late files read {late_read}/{len(trail.late)} "
        "(the rest wait for their folder's sweep)"
    )
    checks = {
        f"LIST/pull <= {TARGET_LIST_PER_PULL}": max(r.lists for r in steady)
        <= TARGET_LIST_PER_PULL,
        "backlog within one poll's arrivals": max(r.backlog for r in steady) <= arrivals,
        "pull within the budget": max(r.wall for r in steady) <= options.budget + 5,
        f"peak RSS <= {TARGET_RSS_MB} MB": max(r.rss_mb for r in rows) <= TARGET_RSS_MB,
        "checkpoint <= 2 MB": max(*(r.checkpoint for r in rows), worst) <= TARGET_CHECKPOINT_BYTES,
        "no processed_record_full": "processed_record_full" not in problems,
        "exactly once": duplicates == 0 and not missed,
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def _named(key: str) -> datetime:
    stamp = key.rsplit("_", 2)[-2]
    return datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=17, choices=range(1, len(REGIONS) + 1))
    parser.add_argument("--pulls", type=int, default=10, help="steady pulls after the catch-up")
    parser.add_argument("--catchup-pulls", type=int, default=2)
    parser.add_argument("--history-minutes", type=int, default=5)
    parser.add_argument("--late-per-pull", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per S3 call")
    parser.add_argument("--budget", type=float, default=45.0, help="seconds per pull")
    parser.add_argument("--list-workers", type=int, default=16)
    parser.add_argument("--fetch-workers", type=int, default=12)
    parser.add_argument(
        "--listing-minutes", type=int, default=5, help="list an active folder this often"
    )
    parser.add_argument("--lookback-hours", type=float, default=24)
    parser.add_argument("--seed", type=int, default=7)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
