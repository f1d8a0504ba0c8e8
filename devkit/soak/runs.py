"""One run over the increments: each increment uploaded, the local CE pulled as a
subprocess until a pull succeeds (killed where the plan says), storage measured after
every attempt."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from devkit.bson_size import bson_size
from devkit.emulators.base import Fault
from devkit.loader import REPO_ROOT
from devkit.soak import poison
from devkit.soak.faults import AttemptPlan, Disturber, hec_faults_for, s3_faults_for, sqs_faults_for
from devkit.soak.options import POLL_SECONDS, SoakError, SoakOptions
from devkit.soak.plan import Increment
from devkit.soak.world import World
from devkit.store import AlertStore


@dataclass
class Attempt:
    run: str
    increment: int  # -1: drain pulls
    number: int
    kill_plan: str | None
    hec_stretch: str | None
    s3_stretch: str | None
    outcome: str = ""  # ok | failed | killed | timeout
    phase: str | None = None  # where the kill landed
    seconds: float = 0.0
    objects_fetched: int = 0
    s3_faults: int = 0
    hec_faults: int = 0
    sqs_stretch: str | None = None
    sqs_faults: int = 0
    hec_accepted: int = 0  # events HEC accepted during this attempt
    committed: bool = False
    exposure: float | None = None  # first HEC acceptance -> storage saved (seconds)
    new_alerts: int = 0
    objects_errored: int = 0  # trail objects this pull could not read (left for later)
    windows_judged_again: int = 0  # activity windows a late trust change withdrew or raised
    saved_unstored: list[str] = field(default_factory=list)  # ids of a pull CE saved, not stored
    error: str = ""
    problems: list[str] = field(default_factory=list)  # the committed pull's health.problems


@dataclass
class RunState:
    name: str
    directory: Path
    config: Path
    attempts: list[Attempt] = field(default_factory=list)
    storage_max: int = 0
    bson_max: int = 0  # the whole storage as CE's MongoDB document
    section_max: dict[str, int] = field(default_factory=dict)
    storage_sizes: list[int] = field(default_factory=list)
    pull_alerts: int = 0
    source_totals: Counter[str] = field(default_factory=Counter)
    delivery_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sabotaged: list[str] = field(default_factory=list)
    upload_seconds: float = 0.0
    queue_final: dict[str, int] = field(default_factory=dict)  # SQS only
    sqs_calls: dict[str, Any] = field(default_factory=dict)  # SQS only: the gateway's counts
    # SQS only: the messages on the queue or in its dead-letter queue at the end, by id
    queue_left: dict[str, str] = field(default_factory=dict)

    def poison_reported(self) -> set[str]:
        """Ids of the messages committed pulls reported leaving on the queue (SQS)."""
        return poison.reported_left(p for a in self.attempts if a.committed for p in a.problems)

    @property
    def state(self) -> Path:
        return self.directory / "ce"

    @property
    def storage_file(self) -> Path:
        return self.state / "storage.json"


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns)


def _count_alerts(state: Path) -> int:
    database = state / "alerts.sqlite"
    if not database.exists():
        return 0
    with contextlib.closing(sqlite3.connect(str(database))) as db:
        try:
            row = db.execute("SELECT COUNT(*) FROM alerts").fetchone()
        except sqlite3.OperationalError:  # the runner was killed before creating the table
            return 0
    return int(row[0])


class Runner:
    """Runs pull attempts as subprocesses and watches them through the emulators."""

    def __init__(self, world: World, plugin_dir: Path, options: SoakOptions, log: TextIO) -> None:
        self.world = world
        self.plugin_dir = plugin_dir
        self.options = options
        self.log = log

    def command(self, run: RunState) -> list[str]:
        return [
            sys.executable,
            "-m",
            "devkit",
            "run",
            "--no-validate",
            "--config",
            str(run.config),
            "--state",
            str(run.state),
            "--plugin-dir",
            str(self.plugin_dir),
        ]

    def attempt(self, run: RunState, increment: int, number: int, plan: AttemptPlan) -> Attempt:
        world = self.world
        hec, gateway = world.hec, world.gw
        record = Attempt(run.name, increment, number, plan.kill, plan.hec_stretch, plan.s3_stretch)
        record.sqs_stretch = plan.sqs_stretch
        slow: Fault | None = None
        if plan.hec_slow:
            slow = hec.add_fault({"kind": "slow", "delay": plan.hec_slow, "count": 1})
        hec_faults = [hec.add_fault(f) for f in hec_faults_for(plan.hec_stretch)]
        initial = {id(f): f.count or 0 for f in hec_faults}
        s3_faults = gateway.add_faults(s3_faults_for(plan.s3_stretch, plan.s3_outage_seconds))
        sqs_gateway = world.sqs_gateway
        sqs_faults = (
            sqs_gateway.add_faults(sqs_faults_for(plan.sqs_stretch, plan.sqs_outage_seconds))
            if sqs_gateway is not None
            else []
        )
        events_before = len(hec.events)
        gets_before = gateway.snapshot()["forwarded"].get("GetObject", 0)
        stat_before = _stat(run.storage_file)
        alerts_before = _count_alerts(run.state)
        wall_start = time.time()
        started = time.monotonic()
        first_accept: float | None = None
        saved_at: float | None = None
        slow_arrived: float | None = None
        killed = False
        self.log.write(f"--- {run.name} increment {increment} attempt {number} plan {plan}\n")
        self.log.flush()
        process = subprocess.Popen(
            self.command(run),
            cwd=REPO_ROOT,
            env=world.child_env(),
            stdout=self.log,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stderr is not None
        try:
            while True:
                now = time.monotonic()
                accepted = len(hec.events) - events_before
                if accepted and first_accept is None:
                    first_accept = now
                if saved_at is None and _stat(run.storage_file) != stat_before:
                    saved_at = now
                if slow is not None and slow_arrived is None and slow not in hec.faults.active():
                    slow_arrived = now
                if process.poll() is not None:
                    break
                fetched = gateway.snapshot()["forwarded"].get("GetObject", 0) - gets_before
                if self._should_kill(
                    plan, now - started, fetched, accepted, saved_at, slow_arrived
                ):
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    killed = True
                    record.phase = self._phase(saved_at, accepted, slow_arrived, fetched)
                    break
                if now - started > self.options.pull_timeout:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    record.outcome = "timeout"
                    break
                time.sleep(POLL_SECONDS)
        finally:
            if process.poll() is None:  # the soak itself is going down
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        stderr = process.stderr.read().decode("utf-8", "replace")
        process.stderr.close()
        record.seconds = round(time.monotonic() - started, 3)
        if killed and slow is not None and slow_arrived is not None:
            # HEC still processes the request of the killed client: let it land here.
            time.sleep(max(0.0, plan.hec_slow - (time.monotonic() - slow_arrived)) + 0.2)
        if _stat(run.storage_file) != stat_before:
            saved_at = saved_at or time.monotonic()
        record.committed = saved_at is not None
        record.hec_accepted = len(hec.events) - events_before
        record.objects_fetched = gateway.snapshot()["forwarded"].get("GetObject", 0) - gets_before
        record.s3_faults = sum(f.applied for f in s3_faults)
        record.sqs_faults = sum(f.applied for f in sqs_faults)
        record.hec_faults = sum(initial[id(f)] - (f.count or 0) for f in hec_faults)
        if killed:
            record.outcome = "killed"
        elif not record.outcome:
            record.outcome = "ok" if process.returncode == 0 else "failed"
        if record.outcome == "failed":
            record.error = stderr.strip()[-2000:]
        if stderr.strip():
            self.log.write(stderr)
        if record.outcome == "ok" and first_accept is not None and saved_at is not None:
            record.exposure = round(max(0.0, saved_at - first_accept), 4)
        record.new_alerts = _count_alerts(run.state) - alerts_before
        if record.committed:
            storage = _measure_storage(run)
            source = ((storage.get("health") or {}).get("source")) or {}
            record.objects_errored = int(source.get("objects_errored") or 0)
            health = storage.get("health") or {}
            record.windows_judged_again = int(health.get("windows_judged_again") or 0)
            record.problems = [str(p) for p in health.get("problems") or []]
            if killed:
                record.saved_unstored = _pull_alert_ids(storage, wall_start)
        hec.faults.clear()
        gateway.clear_faults()
        if sqs_gateway is not None:
            sqs_gateway.clear_faults()
        self.log.write(f"    -> {asdict(record)}\n")
        self.log.flush()
        with (run.directory / "attempts.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(record), sort_keys=True) + "\n")
        return record

    @staticmethod
    def _should_kill(
        plan: AttemptPlan,
        elapsed: float,
        fetched: int,
        accepted: int,
        saved_at: float | None,
        slow_arrived: float | None,
    ) -> bool:
        if plan.kill == "timer":
            return elapsed >= plan.kill_delay
        if plan.kill == "reading":
            return fetched >= plan.kill_threshold
        if plan.kill == "delivering":
            return (
                slow_arrived is not None
                and time.monotonic() - slow_arrived >= plan.kill_delay * plan.hec_slow
            )
        if plan.kill == "delivered":
            return accepted > 0
        if plan.kill == "committed":
            return saved_at is not None
        return False

    @staticmethod
    def _phase(
        saved_at: float | None, accepted: int, slow_arrived: float | None, fetched: int
    ) -> str:
        if saved_at is not None:
            return "ce-saved-storage"  # storage saved, alerts maybe not yet upserted
        if accepted:
            return "hec-accepted-unsaved"  # the at-least-once window
        if slow_arrived is not None:
            return "hec-request-in-flight"
        if fetched:
            return "reading-resolving"
        return "startup-posture"


# ----------------------------------------------------------------------------- runs


def read_storage(run: RunState) -> dict[str, Any]:
    if not run.storage_file.exists():
        return {}
    data: dict[str, Any] = json.loads(run.storage_file.read_text("utf-8"))
    return data


def _measure_storage(run: RunState) -> dict[str, Any]:
    storage = read_storage(run)
    if not storage:
        return storage
    size = run.storage_file.stat().st_size
    run.storage_max = max(run.storage_max, size)
    run.storage_sizes.append(size)
    run.bson_max = max(run.bson_max, bson_size(storage))
    for key, value in storage.items():
        # Compact JSON, as the plugin bounds its sections (the Session Index Budget too).
        section = len(json.dumps(value, separators=(",", ":"), default=str))
        run.section_max[key] = max(run.section_max.get(key, 0), section)
    health = storage.get("health") or {}
    run.pull_alerts += int(health.get("alerts") or 0)
    source = health.get("source") or {}
    for name in ("objects_read", "objects_errored", "objects_listed", "events_read"):
        run.source_totals[name] += int(source.get(name) or 0)
    run.source_totals["events"] += int(health.get("events") or 0)
    run.delivery_lines.append(str(health.get("delivery", "")))
    return storage


def _pull_alert_ids(storage: Mapping[str, Any], since: float) -> list[str]:
    """Ids of the alerts a pull handed to its outbox (delivered since ``since``, or pending):
    what CE lost when the pull was killed after CE saved storage, before it stored alerts."""
    outbox = storage.get("outbox") or {}
    ids = {
        str(item[0])
        for item in outbox.get("delivered") or []
        if isinstance(item, list) and len(item) == 3 and float(item[2]) >= since
    }
    ids.update(str(item.get("id")) for item in outbox.get("pending") or [])
    return sorted(ids)


def _quiescent(storage: Mapping[str, Any]) -> bool:
    health = storage.get("health") or {}
    source = health.get("source") or {}
    outbox = storage.get("outbox") or {}
    backlog = (storage.get("backlog") or {}).get("alerts") or []
    return (
        int(source.get("objects_read") or 0) == 0
        and int(source.get("objects_errored") or 0) == 0
        and not outbox.get("pending")
        and not backlog
    )


class Sabotage:
    """Deliberate faults of CE itself, for the self-test: the soak must notice them."""

    def __init__(self, kind: str | None, increment: int | None) -> None:
        self.kind = kind
        self.increment = increment
        self._previous: bytes | None = None
        self._dropped: list[str] = []

    def before_pull(self, run: RunState) -> None:
        if self.kind == "stale-storage" and run.storage_file.exists():
            self._previous = run.storage_file.read_bytes()

    def after_pull(self, run: RunState, increment: int, attempt: Attempt) -> None:
        if self.kind is None or attempt.outcome != "ok":
            return
        if self.kind == "drop-pull-alerts" and self.increment is not None:
            # CE saved a pull's storage and checkpoint, then lost its alerts - and lost them
            # again after the next pull (which repeats the previous pull's alerts precisely
            # to survive one such loss): nothing can bring them back, the soak must notice.
            if increment == self.increment:
                database = run.state / "alerts.sqlite"
                store = AlertStore(database)
                try:
                    rows = store.all()
                finally:
                    store.close()
                newest = sorted(rows, key=lambda r: r["first_seen"])
                self._dropped = [r["id"] for r in newest[-max(1, attempt.new_alerts) :]]
            if increment in (self.increment, self.increment + 1) and self._dropped:
                with contextlib.closing(sqlite3.connect(str(run.state / "alerts.sqlite"))) as db:
                    db.executemany("DELETE FROM alerts WHERE id = ?", [(i,) for i in self._dropped])
                    db.commit()
                run.sabotaged.append(
                    f"deleted {len(self._dropped)} alerts of increment {self.increment} "
                    f"after increment {increment}"
                )
            return
        if increment == self.increment and self.kind == "stale-storage" and self._previous:
            # CE kept the alerts but lost the storage save: the previous storage returns.
            run.storage_file.write_bytes(self._previous)
            run.sabotaged.append(f"restored the storage saved before increment {increment}")


def execute_run(
    name: str,
    *,
    world: World,
    runner: Runner,
    plan: Sequence[Increment],
    options: SoakOptions,
    directory: Path,
    lookback_hours: int,
    disturber: Disturber | None,
    reference: RunState | None,
    sabotage: Sabotage | None,
    out: TextIO,
) -> RunState:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    config = directory / "tenant.json"
    run = RunState(name, directory, config)
    world.reset()
    config.write_text(json.dumps(world.tenant(lookback_hours), indent=2), "utf-8")
    started = time.monotonic()
    reference_seconds = _reference_seconds(reference)
    for increment in plan:
        began = time.monotonic()
        world.upload(increment, hostile=options.hostile and disturber is not None)
        run.upload_seconds += time.monotonic() - began
        kills = 0
        for number in range(options.max_attempts_per_increment):
            attempt_plan = (
                disturber.attempt(increment, kills, reference_seconds.get(increment.number, 2.0))
                if disturber is not None
                else AttemptPlan()
            )
            if sabotage is not None:
                sabotage.before_pull(run)
            attempt = runner.attempt(run, increment.number, number, attempt_plan)
            run.attempts.append(attempt)
            if attempt.outcome == "killed":
                kills += 1
            if attempt.outcome == "ok":
                if sabotage is not None:
                    sabotage.after_pull(run, increment.number, attempt)
                break
        else:
            raise SoakError(
                f"{name}: increment {increment.number} made no progress in "
                f"{options.max_attempts_per_increment} attempts; see {directory / 'pulls.log'}"
            )
        _progress(out, run, increment.number, len(plan))
    # Drain: no faults, no kills, until nothing is left to do - with SQS, until the queue is
    # empty too (a killed pull's messages come back after the visibility timeout).
    for number in range(10 if options.source == "s3" else 60):
        attempt = runner.attempt(run, -1, number, AttemptPlan())
        run.attempts.append(attempt)
        if attempt.outcome != "ok" or not _quiescent(read_storage(run)):
            continue
        depth = world.queue_depth()
        if not depth.get("visible") and not depth.get("in_flight"):
            break
        # Messages the plugin cannot process stay on the queue for its redrive policy
        # (docs/readers.md): once only those are left, the drain is over.
        left = run.poison_reported()
        if (
            depth.get("visible", 0) + depth.get("in_flight", 0) <= len(left)
            and set(world.queue_messages()) <= left
        ):
            break
        time.sleep(1.0)
    run.queue_final = world.queue_depth()
    run.queue_left = world.queue_messages()
    if world.sqs_gateway is not None:
        run.sqs_calls = world.sqs_gateway.snapshot()
    run.seconds = round(time.monotonic() - started, 1)
    return run


def _reference_seconds(reference: RunState | None) -> dict[int, float]:
    if reference is None:
        return {}
    return {a.increment: a.seconds for a in reference.attempts if a.outcome == "ok"}


def _progress(out: TextIO, run: RunState, number: int, total: int) -> None:
    if number % max(1, total // 10) and number != total - 1:
        return
    kills = sum(a.outcome == "killed" for a in run.attempts)
    out.write(
        f"  {run.name}: increment {number + 1}/{total}, {len(run.attempts)} attempts, "
        f"{kills} kills\n"
    )
    out.flush()
