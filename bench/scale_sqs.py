"""The SQS source at organization scale: does one pull a minute keep up with the trail?

An organization trail writes one file per account and Region about every five minutes:
3,400 files a minute at 1,000 accounts x 17 Regions. This feeds that many S3 event
notifications a simulated minute into the in-process SQS queue and S3 bucket of
``bench/fake_sqs.py`` (every call sleeps ``--latency``, 20 ms by default, so concurrency
counts as it does against AWS), and runs the real ``SqsNotificationReader`` once per
simulated minute with a time budget of ``--budget`` x the poll interval, the way the
pipeline does: every object decoded (gunzip + JSON), ``unread_since()`` asked before each
batch, ``commit()``, then storage saved through a JSON round trip (CE's store).

First a backlog of ``--catch-up`` minutes is waiting (a plugin coming back after an
outage), then ``--pulls`` steady pulls. Per pull it reports calls by kind, files read,
backlog and lag (from the reader's progress figures), wall time, CPU time, peak RSS and
the checkpoint's size. Then one pull with a single receiver, fetcher and SQS worker on
the same queue gives the ratio against sequential reading, measured in the same run.

Correctness is checked, not assumed: every object must be handed out exactly once over
the run, and the files not handed out must be those still queued at the end. Exit status
1 when that fails; the speed targets are reported (shared machines are noisy).

    python -m bench.scale_sqs            # 1,000 x 17, 2 minutes of backlog, 10 pulls
    python -m bench.scale_sqs --quick    # 100 x 17, a few seconds
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from bench.fake_sqs import FakeFactory, FakeS3, FakeSqs
from devkit.loader import register_package

register_package()

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import (  # noqa: E402
    sqs_notifications,
    sqs_state,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import (  # noqa: E402
    Deadline,
)

BUCKET = "org-trail-bucket"
ORG = "o-a1b2c3d4e5"
START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLL_SECONDS = 60
CHECKPOINT_LIMIT = 2_000_000
RSS_LIMIT_MB = 200


class SimClock:
    """Simulated wall time: moves only when the benchmark says a minute has passed."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


@dataclass
class Trail:
    """The organization trail: which files exist and which notifications were sent."""

    accounts: int
    regions: int
    fake_s3: FakeS3
    fake_sqs: FakeSqs
    payload: bytes = b""
    sent: list[str] = field(default_factory=list)
    _slot: int = 0

    def __post_init__(self) -> None:
        raw = json.dumps({"Records": [{"eventID": "e", "eventName": "GetCallerIdentity"}]})
        self.payload = gzip.compress(raw.encode(), mtime=0)

    @property
    def per_minute(self) -> int:
        return self.accounts * self.regions // 5  # one file per prefix per 5 minutes

    def deliver_minute(self, minute: datetime) -> None:
        """The files of one minute (a fifth of all prefixes), each announced once."""
        prefixes = self.accounts * self.regions
        for n in range(self.per_minute):
            slot = (self._slot + n) % prefixes
            account = f"{100000000000 + slot // self.regions:012d}"
            region = f"zz-region-{slot % self.regions + 1}"
            key = (
                f"AWSLogs/{ORG}/{account}/CloudTrail/{region}/{minute:%Y/%m/%d}/"
                f"{account}_CloudTrail_{region}_{minute:%Y%m%dT%H%M}Z_{slot:016x}.json.gz"
            )
            self.fake_s3.put(BUCKET, key, self.payload)
            self.fake_sqs.send(_notification(key, region), sent_at=minute.timestamp())
            self.sent.append(key)
        self._slot = (self._slot + self.per_minute) % prefixes


def _notification(key: str, region: str) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventTime": "2026-12-01T12:00:05.000Z",
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                        "object": {"key": quote_plus(key, safe="/"), "size": 230},
                    },
                }
            ]
        }
    )


@dataclass
class PullFigures:
    label: str
    calls: dict[str, int]
    files: int
    backlog: int
    lag: float | None
    wall: float
    cpu: float
    rss_mb: float
    checkpoint: int
    exhausted: bool
    released: int


def run_pull(
    label: str,
    factory: FakeFactory,
    storage: dict[str, Any],
    clock: SimClock,
    seen: Counter[str],
    budget: float,
    **options: Any,
) -> tuple[dict[str, Any], PullFigures]:
    working = json.loads(json.dumps(storage))  # CE hands the plugin a copy of its storage
    deadline = Deadline(budget)
    reader = sqs_notifications.SqsNotificationReader(
        factory,
        working.setdefault("sources", {}),
        queue_url=factory.sqs.queue_url,
        bucket=BUCKET,
        deadline=deadline,
        clock=clock,
        **options,
    )
    wall0, cpu0 = time.perf_counter(), time.process_time()
    files = 0
    for batch in reader.batches():
        reader.unread_since()
        payload = batch.payload
        assert isinstance(payload, bytes)
        doc = json.loads(gzip.decompress(payload))
        assert isinstance(doc.get("Records"), list)
        seen[batch.name] += 1
        files += 1
    reader.unread_since()
    reader.commit()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    saved = json.loads(json.dumps(working))
    stats = reader.stats
    lag = None if stats.oldest_unread is None else clock.epoch() - stats.oldest_unread
    figures = PullFigures(
        label=label,
        calls=dict(stats.api_calls),
        files=files,
        backlog=stats.backlog,
        lag=lag,
        wall=wall,
        cpu=cpu,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        checkpoint=sqs_state.stored_bytes(saved["sources"]["sqs"]),
        exhausted=stats.budget_exhausted,
        released=stats.messages_released,
    )
    return saved, figures


def short(calls: dict[str, int]) -> str:
    names = {
        "sqs:ReceiveMessage": "recv",
        "sqs:DeleteMessageBatch": "del",
        "sqs:ChangeMessageVisibilityBatch": "vis",
        "sqs:GetQueueAttributes": "attr",
        "s3:GetObject": "get",
    }
    return " ".join(f"{names.get(k, k)}={v}" for k, v in sorted(calls.items()))


def print_header() -> None:
    print(
        f"{'pull':>9} {'files':>6} {'backlog':>7} {'lag s':>6} {'wall s':>6} {'cpu s':>6} "
        f"{'rss MB':>6} {'ckpt KB':>7} {'budget':>6}  calls",
        flush=True,
    )


def print_row(row: PullFigures) -> None:
    lag = "-" if row.lag is None else f"{row.lag:.0f}"
    print(
        f"{row.label:>9} {row.files:6d} {row.backlog:7d} {lag:>6} {row.wall:6.2f} "
        f"{row.cpu:6.2f} {row.rss_mb:6.0f} {row.checkpoint / 1000:7.0f} "
        f"{'out' if row.exhausted else 'ok':>6}  {short(row.calls)}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_sqs", description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--regions", type=int, default=17)
    parser.add_argument("--catch-up", type=int, default=2, help="minutes of backlog at start")
    parser.add_argument("--pulls", type=int, default=10, help="steady pulls after catch-up")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per AWS call")
    parser.add_argument("--budget", type=float, default=0.75, help="fraction of the poll")
    parser.add_argument("--quick", action="store_true", help="100 accounts, 3 pulls")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.accounts, args.pulls, args.catch_up = 100, 3, 2

    clock = SimClock(START)
    fake_sqs = FakeSqs(clock=clock.epoch, latency=args.latency)
    fake_s3 = FakeS3(latency=args.latency)
    factory = FakeFactory(fake_sqs, fake_s3)
    trail = Trail(args.accounts, args.regions, fake_s3, fake_sqs)
    budget = args.budget * POLL_SECONDS
    print(
        f"SQS source: {args.accounts} accounts x {args.regions} Regions = "
        f"{trail.per_minute} files/min; {args.latency * 1000:.0f} ms per call; poll "
        f"{POLL_SECONDS} s, budget {budget:.0f} s; {args.catch_up} min backlog, "
        f"{args.pulls} steady pulls",
        flush=True,
    )
    for minute in range(args.catch_up):
        trail.deliver_minute(START + timedelta(minutes=minute))
    clock.now = START + timedelta(minutes=args.catch_up)

    storage: dict[str, Any] = {}
    seen: Counter[str] = Counter()
    print_header()
    rows: list[PullFigures] = []
    steady_from = 0
    for n in range(args.pulls + 20):
        caught_up = n > 0 and rows[-1].backlog <= trail.per_minute and not rows[-1].exhausted
        if caught_up and not steady_from:
            steady_from = n
        if steady_from and n - steady_from >= args.pulls:
            break
        trail.deliver_minute(clock.now)
        label = f"{'steady' if steady_from else 'catchup'}{n + 1}"
        storage, figures = run_pull(label, factory, storage, clock, seen, budget)
        rows.append(figures)
        print_row(figures)
        clock.now += timedelta(seconds=POLL_SECONDS)

    duplicates = sum(1 for count in seen.values() if count > 1)
    sent = set(trail.sent)
    unread = sent - set(seen)
    queued = len(fake_sqs)
    ok = duplicates == 0 and set(seen) <= sent and len(unread) <= queued
    steady = [r for r in rows if r.label.startswith("steady")]
    print()
    print(
        f"correctness: {len(seen)} distinct files handed out, {duplicates} more than once, "
        f"{len(unread)} not yet read with {queued} messages still on the queue: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    if steady:
        worst_wall = max(r.wall for r in steady)
        worst_backlog = max(r.backlog for r in steady)
        worst_ckpt = max(r.checkpoint for r in rows)
        peak = max(r.rss_mb for r in rows)
        sqs_calls = sum(v for r in steady for k, v in r.calls.items() if k.startswith("sqs:"))
        gets = sum(r.calls.get("s3:GetObject", 0) for r in steady)
        print(
            f"steady state: {sum(r.files for r in steady) / len(steady):.0f} files/pull, "
            f"worst wall {worst_wall:.1f} s of a {POLL_SECONDS} s poll, worst backlog "
            f"{worst_backlog} (arrivals/poll {trail.per_minute}), checkpoint <= "
            f"{worst_ckpt / 1e6:.2f} MB (limit 2 MB), peak RSS {peak:.0f} MB (limit "
            f"{RSS_LIMIT_MB} MB)"
        )
        per_day = 1440 / len(steady)
        print(
            f"per day at one pull a minute: {sqs_calls * per_day / 1e6:.2f} M SQS requests "
            f"(USD {sqs_calls * per_day * 0.40 / 1e6:.2f}), {gets * per_day / 1e6:.2f} M S3 GET "
            f"(USD {gets * per_day * 0.0004 / 1000:.2f})"
        )
        print(
            "targets: "
            + ", ".join(
                f"{name} {'met' if good else 'MISSED'}"
                for name, good in (
                    ("pull within poll", worst_wall < POLL_SECONDS),
                    ("backlog within one poll", worst_backlog <= trail.per_minute),
                    ("checkpoint <= 2 MB", worst_ckpt <= CHECKPOINT_LIMIT),
                    ("RSS <= 200 MB", peak <= RSS_LIMIT_MB),
                )
            )
        )
    if not args.no_baseline and steady:
        baseline(args, steady)
    return 0 if ok else 1


def baseline(args: argparse.Namespace, steady: list[PullFigures]) -> None:
    """One pull with one receiver, fetcher and SQS worker over a fresh minute of
    arrivals, capped at 10 s: the throughput ratio of concurrency, same run, same fake."""
    clock = SimClock(START)
    fake_sqs = FakeSqs(clock=clock.epoch, latency=args.latency)
    fake_s3 = FakeS3(latency=args.latency)
    trail = Trail(args.accounts, args.regions, fake_s3, fake_sqs)
    trail.deliver_minute(START)
    _saved, sequential = run_pull(
        "seq",
        FakeFactory(fake_sqs, fake_s3),
        {},
        clock,
        Counter(),
        10.0,
        receive_workers=1,
        fetch_workers=1,
        sqs_workers=1,
    )
    concurrent = sum(r.files for r in steady) / sum(r.wall for r in steady)
    serial = sequential.files / sequential.wall
    print(
        f"baseline (1 receiver, 1 fetcher, 1 SQS worker, 10 s budget): {serial:.0f} files/s; "
        f"concurrent defaults: {concurrent:.0f} files/s ({concurrent / serial:.1f}x)"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
