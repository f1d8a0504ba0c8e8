"""Crash and outage soak: does a killed, starved plugin still deliver every alert once?

``python -m devkit soak [--records N] [--seed S] [--increments K] [--plugin-ref REF]``
(``make soak`` runs the default: 2,000,000 records). What it does (docs/soak.md has more):

1. **Corpus.** ``devkit.corpus`` generates a multi-account CloudTrail corpus (3 accounts x 2
   Regions, AssumeRole chains, spoofed session names, denied calls, late AssumeRoles,
   duplicated records), anchored a few days back so it lies inside a modest look-back.
   The soak adds its own files: trust-policy changes (``UpdateAssumeRolePolicy``), late
   files (held back 1-3 increments, older names inside the look-back) and re-delivered
   copies under new names (duplicate records).
2. **World.** moto runs as a separate process (account = the corpus's first account, whose
   roles are created in IAM with enforcing, weak and open trust policies so posture and
   activity alerts appear); the plugin reaches S3 through ``faulty_gateway`` and Splunk
   through the HEC emulator, both served from this process.
3. **Two runs over the same increments.** The trail "arrives" in K increments; after each
   one the local CE (``python -m devkit run --no-validate``) is run as a subprocess until a
   pull succeeds. The *reference* run is undisturbed. The *disturbed* run kills the runner
   with SIGKILL at seeded points (a timer; after the Nth trail object; while HEC holds a
   request; right after HEC accepted a batch; right after CE saved storage) and makes HEC
   (503 busy, 429 throttle, 500, resets, lost answers, latency) and S3 (503 outages, 500s,
   resets, stalls, truncated bodies) fail for stretches. Both end with pulls until nothing
   is left to read or deliver.
4. **Verdict.** CE's alert store (ids and content) and what Splunk received (ids and
   ``alert_version``) are compared with the reference: nothing missing, nothing extra
   (an extra activity alert the disturbed run itself withdrew, re-sent ``resolved`` when a
   trust-policy change read late showed the role compliant, is counted apart, not failed);
   duplicates at Splunk are counted raw and by (id, alert_version), and the at-least-once
   window is measured; storage.json is held to its budget. A summary table is printed and a
   JSON report written under ``.soak/``. Exit status 0 only when every check passed.

Reproducible: every decision (plan, kills, faults) comes from ``--seed``; only process
timing varies between runs with the same seed.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from devkit import soak_hostile
from devkit.loader import REPO_ROOT
from devkit.soak import poison
from devkit.soak.faults import Disturber
from devkit.soak.options import (
    ALL_ALERT_KINDS,
    DEFAULT_RECORDS,
    DEFAULT_SEED,
    DEFAULT_WORKDIR,
    KILL_TRIGGERS,
    PLUGIN_FILES,
    S3_MODES,
    SOURCES,
    TRUST_PLANS,
    SoakOptions,
    hostile_options,
    short_options,
)
from devkit.soak.plan import Upload, _renamed, build_plan, prepare_corpus
from devkit.soak.report import print_summary, run_figures
from devkit.soak.runs import Runner, Sabotage, execute_run
from devkit.soak.verdict import collect, compare, verdict
from devkit.soak.world import World


def snapshot_plugin(ref: str, target: Path) -> tuple[Path, str]:
    """The plugin files of a commit, unpacked as CE would (``<target>/<plugin id>``)."""
    commit = subprocess.run(
        ["git", "rev-parse", ref], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    plugin_dir = target / "aws_role_session_cto"
    if plugin_dir.exists():
        shutil.rmtree(plugin_dir)
    plugin_dir.mkdir(parents=True)
    archive = target / "plugin.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), commit, *PLUGIN_FILES],
        cwd=REPO_ROOT,
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(plugin_dir, filter="data")
    archive.unlink()
    return plugin_dir, commit


def working_tree_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *PLUGIN_FILES],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted plugin changes' if dirty else ''}"


def run_soak(options: SoakOptions, out: TextIO = sys.stdout) -> dict[str, Any]:
    """The whole soak; returns the report (also written under ``options.workdir``)."""
    began = time.monotonic()
    now = datetime.now(UTC)
    options.workdir.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    session = options.workdir / f"run-{stamp}"
    session.mkdir(parents=True, exist_ok=True)
    if options.plugin_ref:
        plugin_dir, revision = snapshot_plugin(options.plugin_ref, session / "plugin")
    elif options.plugin_dir is not None:
        plugin_dir, revision = options.plugin_dir.resolve(), f"directory {options.plugin_dir}"
    else:
        plugin_dir, revision = REPO_ROOT, working_tree_revision()
    corpus = prepare_corpus(options, now, out)
    plan = build_plan(corpus, options)
    hostile_items = (
        soak_hostile.plan_items(plan, _renamed, Upload, options.seed) if options.hostile else []
    )
    lookback_hours = math.ceil((now - corpus.start).total_seconds() / 3600) + 24
    uploads = Counter(u.kind for inc in plan for u in inc.uploads)
    out.write(
        f"plan: {len(plan)} increments, uploads {dict(uploads)}; look-back {lookback_hours} h; "
        f"plugin {revision}\n"
    )
    out.flush()
    world = World(corpus, options).start()
    log = (session / "pulls.log").open("a", encoding="utf-8")
    try:
        runner = Runner(world, plugin_dir, options, log)
        observed: dict[str, float] = {}
        observed["reference"] = time.time()
        reference = execute_run(
            "reference",
            world=world,
            runner=runner,
            plan=plan,
            options=options,
            directory=session / "reference",
            lookback_hours=lookback_hours,
            disturber=None,
            reference=None,
            sabotage=None,
            out=out,
        )
        ref_collected = collect(reference, world, observed["reference"])
        observed["disturbed"] = time.time()
        sabotage = None
        if options.sabotage:
            sabotage = Sabotage(
                options.sabotage,
                options.sabotage_increment
                if options.sabotage_increment is not None
                else len(plan) // 2,
            )
        disturber = None if options.sabotage else Disturber(options, plan)
        disturbed = execute_run(
            "disturbed",
            world=world,
            runner=runner,
            plan=plan,
            options=options,
            directory=session / "disturbed",
            lookback_hours=lookback_hours,
            disturber=disturber,
            reference=reference,
            sabotage=sabotage,
            out=out,
        )
        dis_collected = collect(disturbed, world, observed["disturbed"])
    finally:
        log.close()
        world.stop()
    save_gap = {i for a in disturbed.attempts for i in a.saved_unstored}
    comparison = compare(ref_collected, dis_collected, save_gap)
    ref_figures, dis_figures = run_figures(reference), run_figures(disturbed)
    index_mb = int(
        json.loads(reference.config.read_text("utf-8"))["configuration"]["cloudtrail"].get(
            "index_budget_mb"
        )
        or 8
    )
    failures = verdict(comparison, dis_figures, options, index_mb)
    hostile: dict[str, Any] | None = None
    if options.hostile:
        committed = [a.problems for a in disturbed.attempts if a.committed]
        hostile = soak_hostile.reports(hostile_items, committed)
        if options.source == "sqs":
            hostile["failures"] += poison.hostile_failures(
                [(item.kind, item.key) for item in hostile_items if item.boundary == "object"],
                (text for pulled in committed for text in pulled),
                disturbed.queue_left,
            )
        failures += hostile["failures"]
    report_path = options.workdir / f"report-{stamp}.json"
    report: dict[str, Any] = {
        "soak": {
            "started_at": now.isoformat(timespec="seconds"),
            "wall_seconds": round(time.monotonic() - began, 1),
            "records_requested": options.records,
            "seed": options.seed,
            "increments": len(plan),
            "uploads": dict(uploads),
            "lookback_hours": lookback_hours,
            "plugin": revision,
            "use_ack": options.use_ack,
            "hash_seed": options.hash_seed,
            "ack_delay": options.ack_delay,
            "kill_rate": options.kill_rate,
            "hec_fault_rate": options.hec_fault_rate,
            "s3_fault_rate": options.s3_fault_rate,
            "sqs_fault_rate": options.sqs_fault_rate,
            "s3_mode": options.s3_mode,
            "source": options.source,
            "trust_plan": options.trust_plan,
            "kill_triggers": list(options.kill_triggers),
            "alert_kinds": json.loads(reference.config.read_text("utf-8"))["configuration"]["rule"][
                "alert_kinds"
            ],
            "sabotage": options.sabotage,
            "corpus": {**corpus.manifest, "generation_seconds": corpus.generation_seconds},
            "directory": str(session),
            "report_path": str(report_path),
        },
        "reference": ref_figures,
        "disturbed": dis_figures,
        "comparison": comparison,
        "hostile": hostile,
        "verdict": {"ok": not failures, "failures": failures},
    }
    text = json.dumps(report, indent=2, sort_keys=False, default=str)
    report_path.write_text(text, "utf-8")
    (options.workdir / "latest.json").write_text(text, "utf-8")
    if not options.keep_states:
        for name in ("reference", "disturbed"):
            shutil.rmtree(session / name, ignore_errors=True)
    return report


def parse_args(argv: Sequence[str] | None) -> SoakOptions:
    parser = argparse.ArgumentParser(
        prog="python -m devkit soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--preset",
        choices=("long", "short"),
        default="long",
        help="short: the variant the tests run (other options are then ignored)",
    )
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--increments", type=int, default=None)
    parser.add_argument("--kill-rate", type=float, default=SoakOptions.kill_rate)
    parser.add_argument("--hec-fault-rate", type=float, default=SoakOptions.hec_fault_rate)
    parser.add_argument("--s3-fault-rate", type=float, default=SoakOptions.s3_fault_rate)
    parser.add_argument(
        "--sqs-fault-rate",
        type=float,
        default=SoakOptions.sqs_fault_rate,
        help="with --source sqs: share of increments starting an SQS failure stretch",
    )
    parser.add_argument(
        "--s3-mode",
        choices=sorted(S3_MODES),
        default=SoakOptions.s3_mode,
        help="recoverable: S3 failures botocore's retries absorb; partial: failures that "
        "leave objects for the next pull; mixed: both",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default=SoakOptions.source,
        help="s3: the plugin lists the trail bucket; sqs: it reads S3 notifications from a "
        "queue (a dead-letter queue behind it, short visibility timeouts)",
    )
    parser.add_argument(
        "--kill-triggers",
        default=",".join(KILL_TRIGGERS),
        help=f"comma-separated subset of {','.join(KILL_TRIGGERS)}",
    )
    parser.add_argument(
        "--alert-kinds",
        default=None,
        help=f"comma-separated subset of {','.join(ALL_ALERT_KINDS)}, or 'all' (default: the "
        "manifest's defaults)",
    )
    parser.add_argument(
        "--trust-plan",
        choices=TRUST_PLANS,
        default=SoakOptions.trust_plan,
        help="pairs: each trust-change file opens one role and restores another, a role only "
        "ever opened or only ever restored; alternating: each file opens a role and restores "
        "the one the previous file opened",
    )
    parser.add_argument("--use-ack", action="store_true", help="HEC indexer acknowledgement")
    parser.add_argument(
        "--ack-delay", type=float, default=0.0, help="seconds HEC takes to acknowledge"
    )
    parser.add_argument(
        "--hash-seed",
        type=int,
        default=None,
        help="PYTHONHASHSEED for every pull (default: random per process, as in CE)",
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--corpus-dir", type=Path, default=None)
    parser.add_argument(
        "--plugin-ref", default=None, help="test this commit's plugin instead of the work tree"
    )
    parser.add_argument(
        "--plugin-dir", type=Path, default=None, help="test this plugin directory instead"
    )
    parser.add_argument("--storage-budget-mb", type=float, default=16.0)
    parser.add_argument(
        "--sabotage",
        choices=("drop-pull-alerts", "stale-storage"),
        default=None,
        help="self-test: break CE on purpose (no kills or faults); the soak must notice",
    )
    parser.add_argument("--sabotage-increment", type=int, default=None)
    parser.add_argument("--discard-states", action="store_true")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="one hostile item of every class in the disturbed run's stream (short unless "
        "--records is given); pass: the reference alerts all arrive and each item is "
        "reported once",
    )
    args = parser.parse_args(argv)
    if args.preset == "short":
        return short_options(args.workdir)
    triggers = tuple(t.strip() for t in args.kill_triggers.split(",") if t.strip())
    unknown = set(triggers) - set(KILL_TRIGGERS)
    if unknown:
        parser.error(f"unknown kill triggers: {sorted(unknown)}")
    kinds: tuple[str, ...] | None = None
    if args.alert_kinds:
        kinds = (
            ALL_ALERT_KINDS
            if args.alert_kinds == "all"
            else tuple(k.strip() for k in args.alert_kinds.split(",") if k.strip())
        )
        if set(kinds) - set(ALL_ALERT_KINDS):
            parser.error(f"unknown alert kinds: {sorted(set(kinds) - set(ALL_ALERT_KINDS))}")
    options = SoakOptions(
        records=args.records,
        alert_kinds=kinds,
        seed=args.seed,
        increments=args.increments,
        kill_rate=args.kill_rate,
        hec_fault_rate=args.hec_fault_rate,
        s3_fault_rate=args.s3_fault_rate,
        sqs_fault_rate=args.sqs_fault_rate,
        s3_mode=args.s3_mode,
        source=args.source,
        trust_plan=args.trust_plan,
        kill_triggers=triggers,
        use_ack=args.use_ack,
        ack_delay=args.ack_delay,
        hash_seed=args.hash_seed,
        workdir=args.workdir,
        corpus_dir=args.corpus_dir,
        plugin_ref=args.plugin_ref,
        plugin_dir=args.plugin_dir,
        storage_budget_bytes=int(args.storage_budget_mb * 1_000_000),
        sabotage=args.sabotage,
        sabotage_increment=args.sabotage_increment,
        keep_states=not args.discard_states,
        hostile=args.hostile,
    )
    given = set(argv if argv is not None else sys.argv[1:])
    if args.hostile and not any(a.startswith("--records") for a in given):
        short = hostile_options(args.workdir)  # the short hostile run, unless sized
        options = replace(
            options,
            records=short.records,
            increments=args.increments or short.increments,
            seed=args.seed if any(a.startswith("--seed") for a in given) else short.seed,
            s3_mode=short.s3_mode if "--s3-mode" not in given else options.s3_mode,
        )
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    report = run_soak(options)
    print_summary(report, sys.stdout)
    return 0 if report["verdict"]["ok"] else 1
