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
import contextlib
import gzip
import hashlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote_plus

import boto3

from devkit import corpus as trail_corpus
from devkit import soak_hostile
from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, MotoServer
from devkit.bson_size import MONGODB_DOCUMENT_LIMIT, bson_size
from devkit.emulators.base import Fault
from devkit.emulators.faulty_gateway import FaultyGateway
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.loader import REPO_ROOT
from devkit.runner import SQS_TIMINGS_ENV
from devkit.store import AlertStore
from devkit.tenant_config import tenant_configuration

DEFAULT_RECORDS = 2_000_000
DEFAULT_SEED = 20261129
DEFAULT_WORKDIR = REPO_ROOT / ".soak"
BUCKET = "soak-org-cloudtrail"
PLUGIN_FILES = ("__init__.py", "main.py", "manifest.json", "icon.png", "CHANGELOG.md", "utils")
ALL_ALERT_KINDS = (
    "posture",
    "noncompliant_activity",
    "session_spoofing",
    "denied_assume_role",
    "trust_policy_weakened",
    "unattributed_activity",
)
SESSION_NAME_CONDITION = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
WEAK_CONDITION = {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}}
KILL_TRIGGERS = ("timer", "reading", "delivering", "delivered", "committed")
KILL_WEIGHTS = (0.3, 0.2, 0.15, 0.2, 0.15)
HEC_STRETCH_KINDS = ("busy", "throttle", "error500", "reset", "answer_lost", "latency")
# S3 failures botocore's retries absorb (5 attempts): every object is read in the pull...
S3_RECOVERABLE_KINDS = ("outage", "flaky_5xx", "resets", "stalls")
# ...and failures that outlast them, so a pull commits with objects left for the next one.
S3_PARTIAL_KINDS = ("outage_long", "flaky_5xx_heavy", "resets_heavy", "truncated")
S3_MODES = {
    "recoverable": S3_RECOVERABLE_KINDS,
    "partial": S3_PARTIAL_KINDS,
    "mixed": S3_RECOVERABLE_KINDS + S3_PARTIAL_KINDS,
}
# SQS failures (source "sqs"): what botocore's retries absorb, answers lost after SQS acted
# (a receive whose messages stay in flight unseen, a delete that happened), and failures
# that outlast the retries (deletes, visibility changes, every call for a while).
SQS_STRETCH_KINDS = (
    "receive_5xx",
    "throttled",
    "resets",
    "answers_lost",
    "delete_fail",
    "visibility_fail",
    "outage",
)
# Bounds documented for storage sections (docs/readers.md, utils/splunk/outbox.py); the
# index's is the tenant's Session Index Budget. The whole document must stay under
# MongoDB's 16 MB limit, where CE keeps it.
SECTION_BOUNDS = {"outbox": 3_000_000, "sources": 1_000_000}
POLL_SECONDS = 0.005
SOURCES = ("s3", "sqs")
QUEUE = "soak-trail-notifications"
DEAD_LETTER_QUEUE = "soak-trail-notifications-dlq"
MAX_RECEIVES = 100  # redrive to the dead-letter queue after this many receives
# SQS reader timings for the soak (production: 300 / 900 / 10 s), so a killed pull's
# messages come back within seconds: visibility timeout, two-phase-delete hold, long poll.
SQS_TIMINGS = "5,20,1"
SNS_WRAPPED_EVERY = 5  # every 5th notification arrives wrapped in an SNS envelope


class SoakError(RuntimeError):
    """The soak itself cannot go on (not a finding about the plugin)."""


# ----------------------------------------------------------------------------- options


TRUST_PLANS = ("pairs", "alternating")


@dataclass(frozen=True)
class SoakOptions:
    records: int = DEFAULT_RECORDS
    seed: int = DEFAULT_SEED
    increments: int | None = None  # None: about 40 trail files per increment
    kill_rate: float = 0.3  # share of pull attempts of the disturbed run that are killed
    max_kills_per_increment: int = 3
    hec_fault_rate: float = 0.2  # share of increments starting a HEC failure stretch
    s3_fault_rate: float = 0.2  # share of increments starting an S3 failure stretch
    # with source "sqs": share of increments starting an SQS failure stretch (drawn from a
    # generator of its own, so kills and the other stretches stay those of earlier runs)
    sqs_fault_rate: float = 0.2
    s3_mode: str = "mixed"  # recoverable | partial | mixed (see S3_MODES)
    source: str = "s3"  # s3: list the trail bucket | sqs: S3 notifications on an SQS queue
    late_share: float = 0.03  # trail files held back 1-3 increments (older names)
    duplicate_share: float = 0.01  # trail files delivered a second time under a new name
    trust_change_every: int = 4  # a file of trust-policy changes every N increments
    # pairs: each change file opens one role and restores another, roles picked so that a
    # role is only ever opened or only ever restored; alternating: each file opens one role
    # and restores the role the previous file opened (verdicts that flip back and forth)
    trust_plan: str = "pairs"
    kill_triggers: tuple[str, ...] = KILL_TRIGGERS
    alert_kinds: tuple[str, ...] | None = None  # None: the manifest's defaults
    use_ack: bool = False
    ack_delay: float = 0.0  # seconds the HEC emulator takes to acknowledge (with use_ack)
    hash_seed: int | None = None  # PYTHONHASHSEED of every pull (None: random, as in CE)
    workdir: Path = DEFAULT_WORKDIR
    corpus_dir: Path | None = None  # default: <workdir>/corpus-<records>-<seed>-<anchor>
    plugin_ref: str | None = None  # test a committed snapshot instead of the working tree
    plugin_dir: Path | None = None  # or a plugin directory (an unpacked archive)
    storage_budget_bytes: int = 16_000_000
    pull_timeout: float = 600.0
    max_attempts_per_increment: int = 12
    sabotage: str | None = None  # self-test: "drop-pull-alerts" | "stale-storage"
    sabotage_increment: int | None = None
    keep_states: bool = True
    hostile: bool = False  # hostile items in the disturbed run's stream (devkit/soak_hostile)


def hostile_options(workdir: Path, **overrides: Any) -> SoakOptions:
    """``--hostile`` without ``--records``: short (~20k records, 6 increments, a couple of
    minutes), kills and HEC/S3 failures as in a normal soak, one hostile item of every
    class in the disturbed run."""
    values: dict[str, Any] = {
        "records": 20_000,
        "seed": 7,
        "increments": 6,
        "s3_mode": "recoverable",
        "workdir": workdir,
        "hostile": True,
    }
    values.update(overrides)
    return SoakOptions(**values)


def short_options(workdir: Path, **overrides: Any) -> SoakOptions:
    """The short variant (tests, ``--preset short``): ~20k records in 4 increments, every
    attempt a candidate for a kill, HEC and S3 failing in half the increments. S3 failures
    stay within botocore's retries (every pull reads its whole increment) and no kill lands
    after CE saved storage: what remains is exactly the plugin's own crash consistency."""
    values: dict[str, Any] = {
        "records": 20_000,
        "seed": 7,
        "increments": 4,
        "kill_rate": 0.9,
        "max_kills_per_increment": 2,
        "hec_fault_rate": 0.4,
        "s3_fault_rate": 0.5,
        "sqs_fault_rate": 0.5,
        "s3_mode": "recoverable",
        "kill_triggers": KILL_TRIGGERS,
        "workdir": workdir,
        "keep_states": False,
    }
    values.update(overrides)
    return SoakOptions(**values)


# ----------------------------------------------------------------------------- corpus


@dataclass
class Corpus:
    directory: Path
    manifest: dict[str, Any]
    files: list[Path]
    start: datetime
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    roles: dict[str, list[tuple[str, str]]]
    generation_seconds: float


def corpus_anchor(records: int, now: datetime) -> datetime:
    """Midnight a few days back: the whole corpus ends before today, inside a short look-back."""
    per_slot = (
        len(trail_corpus.ACCOUNTS) * len(trail_corpus.REGIONS) * trail_corpus.RECORDS_PER_FILE
    )
    slots = max(2, round(records / per_slot))
    span_days = math.ceil(slots * trail_corpus.SLOT.total_seconds() / 86400)
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=span_days + 1)


def prepare_corpus(options: SoakOptions, now: datetime, out: TextIO) -> Corpus:
    start = corpus_anchor(options.records, now)
    directory = options.corpus_dir or (
        options.workdir / f"corpus-{options.records}-{options.seed}-{start:%Y%m%d}"
    )
    began = time.monotonic()
    out.write(f"corpus: {options.records} records in {directory} ...\n")
    out.flush()
    manifest = trail_corpus.write_corpus(options.records, directory, seed=options.seed, start=start)
    files = trail_corpus.corpus_files(directory)
    if not files or f"{start:%Y/%m/%d}" not in str(files[0]):
        raise SoakError(
            f"the corpus in {directory} does not start at the anchor {start:%Y-%m-%d} (first "
            f"file: {files[0] if files else 'none'}); delete it."
        )
    generator = trail_corpus.Generator(options.records, options.seed)
    return Corpus(
        directory=directory,
        manifest=manifest,
        files=files,
        start=start,
        accounts=tuple(trail_corpus.ACCOUNTS),
        regions=tuple(trail_corpus.REGIONS),
        roles={a: list(r) for a, r in generator.roles.items()},
        generation_seconds=round(time.monotonic() - began, 1),
    )


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Upload:
    key: str
    kind: str  # trail | late | duplicate | trust_change | hostile (hostile runs only)
    path: Path | None = None
    body: bytes | None = None
    hostile_body: bytes | None = None  # what a hostile run uploads instead (--hostile)

    def data(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.path is not None
        return self.path.read_bytes()


@dataclass
class Increment:
    number: int
    uploads: list[Upload] = field(default_factory=list)

    @property
    def trail_objects(self) -> int:
        return len(self.uploads)


def time_token(key: str) -> str:
    """``20261101T0105Z`` from a trail object's name."""
    parts = key.rsplit("/", 1)[-1].split("_")
    return parts[3] if len(parts) > 4 else ""


def _suffix(rng: random.Random) -> str:
    return "".join(
        rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=16)
    )


def _renamed(key: str, rng: random.Random) -> str:
    head, _, name = key.rpartition("/")
    stem = name.split("_")
    stem[-1] = f"{_suffix(rng)}.json.gz"
    return f"{head}/{'_'.join(stem)}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def role_policy(variant: str, accounts: Sequence[str]) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
        "Action": "sts:AssumeRole",
    }
    if variant == "enforced":
        statement["Condition"] = SESSION_NAME_CONDITION
    elif variant == "weak":
        statement["Condition"] = WEAK_CONDITION
    return {"Version": "2012-10-17", "Statement": [statement]}


def role_variants(corpus: Corpus, seed: int) -> dict[str, str]:
    """Trust-policy variant of each role of the home account (40 % enforced, 30 % weak,
    30 % open), deterministic in the seed."""
    rng = random.Random(seed + 11)
    variants: dict[str, str] = {}
    for arn, _role_id in corpus.roles[corpus.accounts[0]]:
        draw = rng.random()
        variants[arn] = "enforced" if draw < 0.4 else "weak" if draw < 0.7 else "open"
    return variants


def changed_roles(
    roles: Sequence[str], number: int, plan: str, every: int
) -> list[tuple[str, str]]:
    """(role, new variant) of the change file of increment ``number``: one role opened up (a
    'trust policy weakened' finding) and one restored (see ``SoakOptions.trust_plan``)."""
    if plan == "alternating":
        change = number // max(1, every)
        return [
            (roles[change % len(roles)], "open"),
            (roles[(change - 1) % len(roles)], "enforced"),
        ]
    return [
        (roles[(2 * number) % len(roles)], "open"),
        (roles[(2 * number + 1) % len(roles)], "enforced"),
    ]


def trust_change_object(
    corpus: Corpus,
    token: str,
    number: int,
    variants: Mapping[str, str],
    rng: random.Random,
    options: SoakOptions,
) -> Upload:
    """A trail file of the home account with trust-policy changes by an administrator."""
    account = corpus.accounts[0]
    region = "us-east-1"
    moment = datetime.strptime(token, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    changes = changed_roles(
        sorted(variants), number, options.trust_plan, options.trust_change_every
    )
    records = []
    for offset, (arn, variant) in enumerate(changes):
        name = arn.rsplit("/", 1)[-1]
        at = moment - timedelta(minutes=4, seconds=-offset * 7)
        records.append(
            {
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "IAMUser",
                    "principalId": "AIDASOAKADMINISTRATOR",
                    "arn": f"arn:aws:iam::{account}:user/soak-admin",
                    "accountId": account,
                    "accessKeyId": "AKIASOAKADMINKEY0001",
                    "userName": "soak-admin",
                },
                "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "eventSource": "iam.amazonaws.com",
                "eventName": "UpdateAssumeRolePolicy",
                "awsRegion": region,
                "sourceIPAddress": "198.51.100.7",
                "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64 command/iam",
                "requestParameters": {
                    "roleName": name,
                    "policyDocument": json.dumps(role_policy(variant, corpus.accounts)),
                },
                "responseElements": None,
                "requestID": _uuid(rng),
                "eventID": _uuid(rng),
                "readOnly": False,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
            }
        )
    key = (
        f"AWSLogs/{account}/CloudTrail/{region}/{moment:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{token}_{_suffix(rng)}.json.gz"
    )
    body = gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)
    return Upload(key, "trust_change", body=body)


def build_plan(corpus: Corpus, options: SoakOptions) -> list[Increment]:
    """The increments in which the trail 'arrives', identical for both runs."""
    rng = random.Random(options.seed + 1)
    files = corpus.files
    count = options.increments or max(6, min(100, round(len(files) / 40)))
    count = max(1, min(count, len(files)))
    plan = [Increment(n) for n in range(count)]
    variants = role_variants(corpus, options.seed)
    for index, path in enumerate(files):
        number = index * count // len(files)
        key = str(path.relative_to(corpus.directory))
        draw = rng.random()
        if draw < options.late_share and number < count - 1:
            late = min(count - 1, number + rng.randint(1, 3))
            plan[late].uploads.append(Upload(key, "late", path=path))
        else:
            plan[number].uploads.append(Upload(key, "trail", path=path))
        if rng.random() < options.duplicate_share and number < count - 1:
            again = min(count - 1, number + rng.randint(1, 2))
            plan[again].uploads.append(Upload(_renamed(key, rng), "duplicate", path=path))
    for increment in plan:
        if increment.number % max(1, options.trust_change_every) != 1:
            continue
        tokens = [time_token(u.key) for u in increment.uploads if u.kind == "trail"]
        if tokens:
            token = max(tokens)
            increment.uploads.append(
                trust_change_object(corpus, token, increment.number, variants, rng, options)
            )
    return plan


# ----------------------------------------------------------------------------- disturbances


@dataclass
class AttemptPlan:
    """What the disturbed run does to one pull attempt."""

    kill: str | None = None
    kill_delay: float = 0.0  # timer: seconds; delivering: share of the HEC delay
    kill_threshold: int = 1  # reading: kill after this many trail objects were fetched
    hec_slow: float = 0.0  # delivering: delay HEC's first answer by this much
    hec_stretch: str | None = None
    s3_stretch: str | None = None
    s3_outage_seconds: float = 0.0
    sqs_stretch: str | None = None
    sqs_outage_seconds: float = 0.0


class Disturber:
    """Seeded decisions for the disturbed run: stretches of failures, and kills."""

    def __init__(self, options: SoakOptions, plan: Sequence[Increment]) -> None:
        self.options = options
        self.rng = random.Random(options.seed + 2)
        self.hec: dict[int, str] = {}
        self.s3: dict[int, str] = {}
        for number in range(len(plan)):
            if number not in self.hec and self.rng.random() < options.hec_fault_rate:
                kind = self.rng.choice(HEC_STRETCH_KINDS)
                for n in range(number, min(len(plan), number + self.rng.randint(1, 3))):
                    self.hec[n] = kind
            if number not in self.s3 and self.rng.random() < options.s3_fault_rate:
                kind = self.rng.choice(S3_MODES[options.s3_mode])
                for n in range(number, min(len(plan), number + self.rng.randint(1, 2))):
                    self.s3[n] = kind
        self.sqs_rng = random.Random(options.seed + 3)
        self.sqs: dict[int, str] = {}
        # The kinds in a shuffled cycle, not drawn independently: a run with at least as
        # many stretches as kinds exercises every kind (independent draws left some out).
        cycle = list(SQS_STRETCH_KINDS)
        self.sqs_rng.shuffle(cycle)
        stretches = 0
        for number in range(len(plan) if options.source == "sqs" else 0):
            if number not in self.sqs and self.sqs_rng.random() < options.sqs_fault_rate:
                kind = cycle[stretches % len(cycle)]
                stretches += 1
                for n in range(number, min(len(plan), number + self.sqs_rng.randint(1, 2))):
                    self.sqs[n] = kind

    def attempt(
        self, increment: Increment, kills_so_far: int, reference_seconds: float
    ) -> AttemptPlan:
        rng = self.rng
        plan = AttemptPlan(
            hec_stretch=self.hec.get(increment.number), s3_stretch=self.s3.get(increment.number)
        )
        if plan.s3_stretch == "outage":
            plan.s3_outage_seconds = round(rng.uniform(0.5, 2.5), 2)
        elif plan.s3_stretch == "outage_long":
            plan.s3_outage_seconds = round(rng.uniform(3.0, 25.0), 2)
        plan.sqs_stretch = self.sqs.get(increment.number)
        if plan.sqs_stretch == "outage":
            plan.sqs_outage_seconds = round(self.sqs_rng.uniform(1.0, 12.0), 2)
        triggers = [t for t in KILL_TRIGGERS if t in self.options.kill_triggers]
        if (
            triggers
            and kills_so_far < self.options.max_kills_per_increment
            and rng.random() < self.options.kill_rate
        ):
            weights = [KILL_WEIGHTS[KILL_TRIGGERS.index(t)] for t in triggers]
            plan.kill = rng.choices(triggers, weights)[0]
            plan.kill_delay = round(rng.uniform(0.05, 1.1) * max(0.5, reference_seconds), 3)
            plan.kill_threshold = rng.randint(1, max(1, increment.trail_objects))
            if plan.kill == "delivering":
                plan.hec_slow = round(rng.uniform(0.8, 2.5), 2)
                plan.kill_delay = round(rng.uniform(0.1, 0.9), 2)
        return plan


def hec_faults_for(kind: str | None) -> list[dict[str, Any]]:
    """HEC faults active during one attempt of a stretch (count: effectively every request,
    except a lost answer: once per attempt, so the retry gets through)."""
    many = 1000
    if kind == "busy":
        return [{"kind": "busy", "count": many}]
    if kind == "throttle":
        return [{"kind": "throttle", "count": many, "retry_after": "2"}]
    if kind == "error500":
        return [
            {
                "kind": "status",
                "status": 500,
                "body": {"text": "Internal Server Error", "code": 8},
                "count": many,
            }
        ]
    if kind == "reset":
        return [{"kind": "drop", "phase": "before", "count": many}]
    if kind == "answer_lost":
        return [{"kind": "drop", "phase": "after", "count": 1}]
    if kind == "latency":
        return [{"kind": "slow", "delay": 1.5, "count": many}]
    return []


_RECEIVE, _DELETE, _VISIBILITY = (
    "ReceiveMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibilityBatch",
)


def sqs_faults_for(kind: str | None, outage_seconds: float) -> list[dict[str, Any]]:
    """Gateway faults for one attempt of an SQS stretch (the gateway answers a JSON-protocol
    request with SQS's JSON error). The recoverable kinds fail a few calls; ``answers_lost``
    lets SQS act and loses its answer (received messages stay in flight unseen until their
    visibility timeout; a delete happened); the others fail every call of their operation
    for the whole attempt (or every call for ``outage_seconds``)."""
    if kind == "receive_5xx":
        return [
            {"kind": "status", "status": 500, "rate": 0.5, "count": 3, "operations": [_RECEIVE]}
        ]
    if kind == "throttled":
        return [
            {"kind": "status", "status": 400, "code": "RequestThrottled", "rate": 0.4, "count": 4}
        ]
    if kind == "resets":
        return [{"kind": "drop", "rate": 0.3, "count": 3}]
    if kind == "answers_lost":
        return [
            {"kind": "drop_after", "rate": 0.5, "count": 1, "operations": [_RECEIVE]},
            {"kind": "drop_after", "count": 1, "operations": [_DELETE]},
        ]
    if kind == "delete_fail":
        return [{"kind": "status", "status": 500, "operations": [_DELETE]}]
    if kind == "visibility_fail":
        return [{"kind": "status", "status": 503, "operations": [_VISIBILITY]}]
    if kind == "outage":
        return [{"kind": "status", "status": 503, "duration": outage_seconds}]
    return []


def s3_faults_for(kind: str | None, outage_seconds: float) -> list[dict[str, Any]]:
    """Gateway faults for one attempt of an S3 stretch. The recoverable kinds fail at most
    four requests in all (botocore makes five attempts) or briefly; the others do not stop."""
    objects = {"methods": ["GET"], "match": ["/AWSLogs/"]}
    if kind in ("outage", "outage_long"):
        return [{"kind": "status", "status": 503, "duration": outage_seconds}]
    if kind == "flaky_5xx":
        return [{"kind": "status", "status": 500, "rate": 0.5, "count": 4, **objects}]
    if kind == "flaky_5xx_heavy":
        return [
            {"kind": "status", "status": 500, "rate": 0.45, **objects},
            {"kind": "status", "status": 503, "rate": 0.2},
        ]
    if kind == "resets":
        return [
            {"kind": "drop", "rate": 0.5, "count": 3, **objects},
            {"kind": "drop_after", "count": 1},
        ]
    if kind == "resets_heavy":
        return [{"kind": "drop", "rate": 0.3, **objects}, {"kind": "drop_after", "rate": 0.15}]
    if kind == "stalls":
        return [{"kind": "stall", "delay": 1.5, "rate": 0.3, "count": 2, **objects}]
    if kind == "truncated":
        return [{"kind": "truncate", "rate": 0.3, **objects}]
    return []


# ----------------------------------------------------------------------------- the world


class World:
    """moto (separate process), the faulty S3 (and, with SQS, SQS) gateways and the HEC
    emulator."""

    def __init__(self, corpus: Corpus, options: SoakOptions) -> None:
        self.corpus = corpus
        self.options = options
        self.account = corpus.accounts[0]
        self.hec_token = secrets.token_hex(16)
        self.moto = MotoServer()
        self.gateway: FaultyGateway | None = None
        self.sqs_gateway: FaultyGateway | None = None
        self.queue_url = ""
        self.dead_letter_url = ""
        self.notifications = 0
        self.hec = HecEmulator(
            {self.hec_token: TokenSpec("soak", (), "main", options.use_ack)},
            ack_delay=options.ack_delay,
        )

    def start(self) -> World:
        self.moto.start_process({"MOTO_ACCOUNT_ID": self.account})
        self.gateway = FaultyGateway(self.moto.endpoint, seed=self.options.seed).start()
        if self.options.source == "sqs":
            seed = self.options.seed + 3
            self.sqs_gateway = FaultyGateway(self.moto.endpoint, seed=seed).start()
        self.hec.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.hec.stop()
        for gateway in (self.gateway, self.sqs_gateway):
            if gateway is not None:
                with contextlib.suppress(Exception):
                    gateway.stop()
        with contextlib.suppress(Exception):
            self.moto.stop()

    @property
    def gw(self) -> FaultyGateway:
        assert self.gateway is not None
        return self.gateway

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.moto.endpoint,
            region_name="us-east-1",
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
        )

    def reset(self) -> None:
        """A fresh account: IAM roles, an empty trail bucket, no faults, nothing received."""
        self.moto.reset()
        self.gw.reset()
        if self.sqs_gateway is not None:
            self.sqs_gateway.reset()
        self.hec.reset()
        iam = self.client("iam")
        for arn, variant in role_variants(self.corpus, self.options.seed).items():
            resource = arn.split(":role/", 1)[1]
            head, _, name = resource.rpartition("/")
            iam.create_role(
                RoleName=name,
                Path=f"/{head}/" if head else "/",
                AssumeRolePolicyDocument=json.dumps(role_policy(variant, self.corpus.accounts)),
            )
        self.client("s3").create_bucket(Bucket=BUCKET)
        self.notifications = 0
        if self.options.source == "sqs":
            sqs = self.client("sqs")
            self.dead_letter_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
            dead_letter_arn = sqs.get_queue_attributes(
                QueueUrl=self.dead_letter_url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": MAX_RECEIVES}
            self.queue_url = sqs.create_queue(
                QueueName=QUEUE, Attributes={"RedrivePolicy": json.dumps(redrive)}
            )["QueueUrl"]
            # What S3 sends first when a notification configuration is saved.
            test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
            sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(test_event))

    def upload(self, increment: Increment, hostile: bool = False) -> None:
        """Upload an increment's objects; ``hostile``: with its hostile items (the
        disturbed run of ``--hostile``), else without them (the reference)."""
        s3 = self.client("s3")  # boto3 clients are safe to share between threads

        def put(upload: Upload) -> tuple[str, int]:
            body = upload.hostile_body if hostile and upload.hostile_body else upload.data()
            s3.put_object(Bucket=BUCKET, Key=upload.key, Body=body)
            return upload.key, len(body)

        uploads = [u for u in increment.uploads if hostile or u.kind != "hostile"]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="soak-upload") as pool:
            stored = list(pool.map(put, uploads))
        if self.options.source == "sqs":
            self.notify(stored)

    def notify(self, stored: Sequence[tuple[str, int]]) -> None:
        """Announce the objects stored (key, size) on the queue as S3 does: one
        ``ObjectCreated:Put`` event notification per object, keys URL-encoded; every fifth
        wrapped in an SNS envelope (a bucket notifying an SNS topic the queue subscribes to)."""
        sqs = self.client("sqs")
        bodies: list[str] = []
        for key, size in stored:
            record = {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": quote_plus(key), "size": size},
                },
            }
            body = json.dumps({"Records": [record]})
            self.notifications += 1
            if self.notifications % SNS_WRAPPED_EVERY == 0:
                body = json.dumps({"Type": "Notification", "Message": body})
            bodies.append(body)
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start : start + 10])
            ]
            failed = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed")
            if failed:
                raise SoakError(f"SQS refused notifications: {failed}")

    def queue_depth(self) -> dict[str, int]:
        """Messages visible / in flight on the queue and waiting in the dead-letter queue."""
        if self.options.source != "sqs":
            return {}
        sqs = self.client("sqs")
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        main = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)
        dead = sqs.get_queue_attributes(QueueUrl=self.dead_letter_url, AttributeNames=names)
        return {
            "visible": int(main["Attributes"]["ApproximateNumberOfMessages"]),
            "in_flight": int(main["Attributes"]["ApproximateNumberOfMessagesNotVisible"]),
            "dead_letter": sum(int(v) for v in dead["Attributes"].values()),
        }

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.moto.env())
        env["AWS_ENDPOINT_URL_S3"] = self.gw.url  # S3 only through the faulty gateway
        if self.sqs_gateway is not None:
            env["AWS_ENDPOINT_URL_SQS"] = self.sqs_gateway.url  # and SQS through its own
        env.pop("PYTHONHASHSEED", None)
        if self.options.source == "sqs":
            env[SQS_TIMINGS_ENV] = SQS_TIMINGS
        if self.options.hash_seed is not None:
            env["PYTHONHASHSEED"] = str(self.options.hash_seed)
        return env

    def tenant(self, lookback_hours: int) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "activity_scope": "all",
            "posture_interval_minutes": 1440,
            "max_alerts_per_pull": 10000,
        }
        if self.options.alert_kinds:
            rule["alert_kinds"] = list(self.options.alert_kinds)
        configuration = tenant_configuration(
            regions=",".join(self.corpus.regions),
            source=self.options.source,
            bucket=BUCKET,
            queue_url=self.queue_url,
            lookback_hours=lookback_hours,
            hec_url=self.hec.url,
            hec_token=self.hec_token,
            rule=rule,
            splunk={"use_ack": "yes" if self.options.use_ack else "no"},
        )
        return {"name": "soak", "configuration": configuration, "use_proxy": False}


# ----------------------------------------------------------------------------- attempts


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


def _read_storage(run: RunState) -> dict[str, Any]:
    if not run.storage_file.exists():
        return {}
    data: dict[str, Any] = json.loads(run.storage_file.read_text("utf-8"))
    return data


def _measure_storage(run: RunState) -> dict[str, Any]:
    storage = _read_storage(run)
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
        if attempt.outcome != "ok" or not _quiescent(_read_storage(run)):
            continue
        depth = world.queue_depth()
        if not depth.get("visible") and not depth.get("in_flight"):
            break
        time.sleep(1.0)
    run.queue_final = world.queue_depth()
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


# ----------------------------------------------------------------------------- comparison


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# Values an activity window samples in the order events are processed (the first few source
# IPs, Regions, user agents, keys, event ids): the same events read in another order give other
# samples. Content compared without them is the alert's "core".
SAMPLE_FIELDS = frozenset(
    {
        "source_ip",
        "src",
        "region",
        "vendor_region",
        "user_agent",
        "access_key_id",
        "sample_event_ids",
    }
)


def ce_content(row: Mapping[str, Any], observed_from: float, *, core: bool = False) -> str:
    """An alert's content for comparison across runs. Its timestamp counts unless it is an
    observation time (posture alerts carry the pull's clock, later than every trail event)."""
    data = {
        k: row.get(k)
        for k in ("alertName", "alertType", "type", "app", "appCategory", "user", "rawData")
    }
    if core:
        raw = dict(data.get("rawData") or {})
        data["rawData"] = {k: v for k, v in raw.items() if k not in SAMPLE_FIELDS}
    stamp = _epoch(row.get("timestamp"))
    if stamp is None or stamp < observed_from:
        data["timestamp"] = row.get("timestamp")
    return _digest(data)


def hec_content(record: Mapping[str, Any], observed_from: float, *, core: bool = False) -> str:
    event = dict(record.get("event") or {})
    event.pop("alert_version", None)
    if core:
        event = {k: v for k, v in event.items() if k not in SAMPLE_FIELDS}
    data: dict[str, Any] = {"event": event}
    stamp = _epoch(record.get("time"))
    if stamp is None or stamp < observed_from:
        data["time"] = record.get("time")
    return _digest(data)


@dataclass(frozen=True)
class Received:
    """One event as Splunk received it."""

    alert_id: str
    version: str
    content: str
    core: str
    kind: str


@dataclass
class Collected:
    """What a run left behind: CE's alert store and what Splunk received."""

    ce: dict[str, str]  # id -> content
    ce_core: dict[str, str]  # id -> content without order-dependent samples
    ce_exact: dict[str, str]  # id -> content including observation times
    ce_types: dict[str, str]
    splunk: list[Received]  # in arrival order
    ce_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> flat fields
    splunk_last: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last event


def collect(run: RunState, world: World, observed_from: float) -> Collected:
    store = AlertStore(run.state / "alerts.sqlite")
    try:
        rows = store.all()
    finally:
        store.close()
    events = [e for e in world.hec.events if (e.get("event") or {}).get("type") == "alert"]
    with (run.directory / "splunk_events.jsonl").open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event, sort_keys=True, default=str) + "\n")
    return Collected(
        ce={r["id"]: ce_content(r, observed_from) for r in rows},
        ce_core={r["id"]: ce_content(r, observed_from, core=True) for r in rows},
        ce_exact={r["id"]: ce_content(r, math.inf) for r in rows},
        ce_types={r["id"]: r["type"] for r in rows},
        ce_fields={r["id"]: _flat(r) for r in rows},
        splunk_last={str(e["event"].get("id")): dict(e["event"]) for e in events},
        splunk=[
            Received(
                str(e["event"].get("id")),
                str(e["event"].get("alert_version")),
                hec_content(e, observed_from),
                hec_content(e, observed_from, core=True),
                str(e["event"].get("signature_id")),
            )
            for e in events
        ],
    )


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: row.get(k) for k in ("alertName", "alertType", "type", "user", "timestamp")}
    fields.update(row.get("rawData") or {})
    return fields


def _differing(
    ids: Sequence[str],
    left: Mapping[str, Mapping[str, Any]],
    right: Mapping[str, Mapping[str, Any]],
) -> dict[str, int]:
    """Which fields differ, counted over ``ids`` (why two versions of an alert differ)."""
    counts: Counter[str] = Counter()
    ignored = {"alert_version", "timestamp", "description"}
    for alert_id in ids:
        a, b = left.get(alert_id) or {}, right.get(alert_id) or {}
        counts.update(k for k in set(a) | set(b) if k not in ignored and a.get(k) != b.get(k))
    return dict(counts.most_common(12))


def splunk_figures(splunk: Sequence[Received]) -> dict[str, Any]:
    pairs = Counter((r.alert_id, r.version) for r in splunk)
    kinds = {r.alert_id: r.kind for r in splunk}
    versions_by_id: dict[str, set[str]] = defaultdict(set)
    contents_by_id: dict[str, set[str]] = defaultdict(set)
    for r in splunk:
        versions_by_id[r.alert_id].add(r.version)
        contents_by_id[r.alert_id].add(r.content)
    return {
        "events": len(splunk),
        "unique_ids": len(versions_by_id),
        "unique_id_versions": len(pairs),
        "duplicates_raw": len(splunk) - len(pairs),
        "duplicated_id_versions": sum(1 for n in pairs.values() if n > 1),
        "max_copies": max(pairs.values(), default=0),
        # Same content under another alert_version: `dedup id alert_version` keeps both.
        "same_content_new_version": sum(
            len(versions_by_id[i]) - len(contents_by_id[i]) for i in versions_by_id
        ),
        "same_content_new_version_by_type": dict(
            Counter(
                kinds[i] for i in versions_by_id if len(versions_by_id[i]) > len(contents_by_id[i])
            )
        ),
    }


def _withdrawn(run: Collected, alert_id: str) -> bool:
    """An activity or spoofing alert the run re-sent ``resolved``: a trust-policy change read
    after it showed the role enforced the rule when the session was created (assumed)."""
    return (
        run.ce_types.get(alert_id) in ("noncompliant_role_activity", "session_name_spoofing")
        and run.ce_fields.get(alert_id, {}).get("status") == "resolved"
    )


def compare(
    reference: Collected, disturbed: Collected, save_gap: Collection[str] = ()
) -> dict[str, Any]:
    """Disturbed against reference. ``save_gap``: ids of pulls killed after CE saved their
    storage but before it stored their alerts (CE's window, not the plugin's)."""
    gap = set(save_gap)
    ref_ce, dis_ce = reference.ce, disturbed.ce
    ce_missing = sorted(set(ref_ce) - set(dis_ce))
    ce_extra = sorted(set(dis_ce) - set(ref_ce))
    # Raised with what was known then, withdrawn (re-sent ``resolved``) once a trust-policy
    # change read later showed the role enforced the rule: the plugin corrected itself.
    ce_withdrawn = [i for i in ce_extra if _withdrawn(disturbed, i)]
    ce_extra = [i for i in ce_extra if not _withdrawn(disturbed, i)]
    # The mirror: the reference raised and later withdrew what the disturbed run, knowing
    # the change in time, never raised. Both end with no finding standing.
    ce_unraised = [i for i in ce_missing if _withdrawn(reference, i)]
    ce_missing = [i for i in ce_missing if not _withdrawn(reference, i)]

    ce_changed = sorted(i for i in set(ref_ce) & set(dis_ce) if ref_ce[i] != dis_ce[i])
    ce_order_only = [i for i in ce_changed if reference.ce_core[i] == disturbed.ce_core[i]]
    ce_observation_only = sum(
        1
        for i in set(ref_ce) & set(dis_ce)
        if ref_ce[i] == dis_ce[i] and reference.ce_exact[i] != disturbed.ce_exact[i]
    )

    def last(splunk: Sequence[Received]) -> dict[str, Received]:
        return {r.alert_id: r for r in splunk}

    ref_final = last(reference.splunk)
    ref_pairs = {(r.alert_id, r.content) for r in reference.splunk}
    dis_pairs = {(r.alert_id, r.content) for r in disturbed.splunk}
    received: dict[str, set[str]] = defaultdict(set)
    received_core: dict[str, set[str]] = defaultdict(set)
    for r in disturbed.splunk:
        received[r.alert_id].add(r.content)
        received_core[r.alert_id].add(r.core)
    missing_ids = sorted(set(ref_final) - set(received) - set(ce_unraised))
    missing_final = sorted(
        i for i, r in ref_final.items() if i in received and r.content not in received[i]
    )
    final_order_only = [i for i in missing_final if ref_final[i].core in received_core[i]]
    not_received = ref_pairs - dis_pairs
    coalesced = [
        (i, c) for i, c in not_received if i in received and ref_final[i].content in received[i]
    ]
    phantom = sorted(dis_pairs - ref_pairs)
    kinds = {r.alert_id: r.kind for r in (*reference.splunk, *disturbed.splunk)}
    ref_unsent = sorted(set(ref_ce) - set(ref_final))
    dis_unsent = sorted(set(dis_ce) - {r.alert_id for r in disturbed.splunk})
    return {
        "ce": {
            "reference_alerts": len(ref_ce),
            "alerts": len(dis_ce),
            "missing": len(ce_missing),
            "extra": len(ce_extra),
            "extra_withdrawn": len(ce_withdrawn),
            "missing_withdrawn_in_reference": len(ce_unraised),
            "alerts_withdrawn": {
                "reference": sum(_withdrawn(reference, i) for i in reference.ce),
                "disturbed": sum(_withdrawn(disturbed, i) for i in disturbed.ce),
            },
            "content_differs": len(ce_changed),
            "differs_in_samples_only": len(ce_order_only),
            "observation_time_differs": ce_observation_only,
            "missing_in_save_gap": sum(1 for i in ce_missing if i in gap),
            "differs_in_save_gap": sum(1 for i in ce_changed if i in gap),
            "missing_by_type": dict(Counter(reference.ce_types[i] for i in ce_missing)),
            "missing_outside_save_gap_by_type": dict(
                Counter(reference.ce_types[i] for i in ce_missing if i not in gap)
            ),
            "differing_fields_outside_save_gap": _differing(
                [i for i in ce_changed if i not in gap and i not in set(ce_order_only)],
                reference.ce_fields,
                disturbed.ce_fields,
            ),
            "extra_by_type": dict(Counter(disturbed.ce_types[i] for i in ce_extra)),
            "differs_by_type": dict(Counter(reference.ce_types[i] for i in ce_changed)),
            "examples": {
                "missing": ce_missing[:10],
                "extra": ce_extra[:10],
                "extra_withdrawn": ce_withdrawn[:10],
                "missing_withdrawn_in_reference": ce_unraised[:10],
                "content_differs": ce_changed[:10],
            },
        },
        "splunk": {
            "reference": splunk_figures(reference.splunk),
            "disturbed": splunk_figures(disturbed.splunk),
            "ce_ids_never_sent_reference": len(ref_unsent),
            "ce_ids_never_sent": len(dis_unsent),
            "missing_ids": len(missing_ids),
            "missing_final_versions": len(missing_final),
            "final_differs_in_samples_only": len(final_order_only),
            "missing_final_by_type": dict(Counter(kinds[i] for i in missing_final)),
            "missing_final_differing_fields": _differing(
                [i for i in missing_final if i not in set(final_order_only)],
                reference.splunk_last,
                disturbed.splunk_last,
            ),
            "versions_not_received": len(not_received),
            "coalesced_intermediate_versions": len(coalesced),
            "phantom_versions": len(phantom),
            "phantom_by_type": dict(Counter(kinds.get(i, "?") for i, _c in phantom)),
            "examples": {
                "missing_ids": missing_ids[:10],
                "missing_final_versions": missing_final[:10],
                "phantom_versions": [i for i, _c in phantom[:10]],
            },
        },
    }


# ----------------------------------------------------------------------------- report


def run_figures(run: RunState) -> dict[str, Any]:
    attempts = run.attempts
    ok = [a for a in attempts if a.outcome == "ok"]
    killed = [a for a in attempts if a.outcome == "killed"]
    exposures = [a.exposure for a in ok if a.exposure is not None]
    durations = [a.seconds for a in ok]
    storage = _read_storage(run)
    outbox = storage.get("outbox") or {}
    return {
        "pulls": len(ok),
        "attempts": len(attempts),
        "kills": len(killed),
        "kills_by_trigger": dict(Counter(str(a.kill_plan) for a in killed)),
        "kills_by_phase": dict(Counter(str(a.phase) for a in killed)),
        "kill_triggers_not_reached": sum(
            1 for a in attempts if a.kill_plan is not None and a.outcome != "killed"
        ),
        "failed_attempts": sum(a.outcome == "failed" for a in attempts),
        "timeouts": sum(a.outcome == "timeout" for a in attempts),
        "failure_examples": [a.error[-600:] for a in attempts if a.outcome == "failed"][:3],
        "hec_faults_injected": sum(a.hec_faults for a in attempts),
        "hec_faults_by_kind": _sum_by(attempts, "hec_stretch", "hec_faults"),
        "s3_faults_injected": sum(a.s3_faults for a in attempts),
        "s3_faults_by_kind": _sum_by(attempts, "s3_stretch", "s3_faults"),
        "sqs_faults_injected": sum(a.sqs_faults for a in attempts),
        "sqs_faults_by_kind": _sum_by(attempts, "sqs_stretch", "sqs_faults"),
        "attempts_in_hec_stretches": sum(a.hec_stretch is not None for a in attempts),
        "attempts_in_s3_stretches": sum(a.s3_stretch is not None for a in attempts),
        "attempts_in_sqs_stretches": sum(a.sqs_stretch is not None for a in attempts),
        "pulls_with_unread_objects": sum(1 for a in attempts if a.committed and a.objects_errored),
        "windows_judged_again": sum(a.windows_judged_again for a in attempts if a.committed),
        "objects_read": run.source_totals["objects_read"],
        "objects_errored": run.source_totals["objects_errored"],
        "events_read": run.source_totals["events"],
        "alerts_returned": run.pull_alerts,
        "resent_after_kill": sum(a.hec_accepted for a in killed if not a.committed),
        "storage_max_bytes": run.storage_max,
        "storage_bson_max_bytes": run.bson_max,
        "storage_final_bytes": run.storage_sizes[-1] if run.storage_sizes else 0,
        "storage_section_max_bytes": dict(sorted(run.section_max.items())),
        "outbox_totals": outbox.get("totals") or {},
        "outbox_pending_final": len(outbox.get("pending") or []),
        "pull_seconds_median": round(statistics.median(durations), 2) if durations else 0,
        "pull_seconds_max": round(max(durations), 2) if durations else 0,
        "exposure_seconds": _distribution(exposures),
        "exposure_share": round(sum(exposures) / sum(durations), 4) if durations else 0.0,
        "wall_seconds": run.seconds,
        "time_split_seconds": {
            "uploading_increments": round(run.upload_seconds, 1),
            "pull_attempts": round(sum(a.seconds for a in attempts), 1),
            "soak_bookkeeping": round(
                run.seconds - run.upload_seconds - sum(a.seconds for a in attempts), 1
            ),
        },
        "sabotaged": run.sabotaged,
        "queue_final": run.queue_final,
        "sqs_calls": run.sqs_calls,
    }


def _sum_by(attempts: Sequence[Attempt], key: str, value: str) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for attempt in attempts:
        kind = getattr(attempt, key)
        if kind is not None:
            totals[kind] += getattr(attempt, value)
    return dict(totals)


def _distribution(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "median": round(statistics.median(ordered), 4),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4),
        "max": round(ordered[-1], 4),
    }


def verdict(
    comparison: Mapping[str, Any], disturbed: Mapping[str, Any], options: SoakOptions, index_mb: int
) -> list[str]:
    """Every failed check, in words (empty: the soak passed)."""
    failures: list[str] = []
    ce = comparison["ce"]
    splunk = comparison["splunk"]
    lost_gap, stale_gap = ce["missing_in_save_gap"], ce["differs_in_save_gap"]
    if ce["missing"] - lost_gap:
        failures.append(
            f"CE alerts missing: {ce['missing'] - lost_gap} "
            f"({ce['missing_outside_save_gap_by_type']})"
        )
    if ce["extra"]:
        failures.append(
            f"CE alerts the reference does not have: {ce['extra']} ({ce['extra_by_type']})"
        )
    samples_only = ce["differs_in_samples_only"]
    other = ce["content_differs"] - stale_gap - samples_only
    if other > 0:
        failures.append(
            f"CE alerts whose content differs: {other} (fields: "
            f"{ce['differing_fields_outside_save_gap']})"
        )
    if samples_only:
        failures.append(
            f"CE alerts differing only in samples taken in processing order: {samples_only}"
        )
    if lost_gap or stale_gap:
        failures.append(
            f"CE lost {lost_gap} alerts and kept {stale_gap} out of date: pulls killed after CE "
            "saved their storage and before it stored their alerts (CE's save->upsert window)"
        )
    if splunk["ce_ids_never_sent"]:
        failures.append(
            f"CE alerts Splunk never received: {splunk['ce_ids_never_sent']} (reference run: "
            f"{splunk['ce_ids_never_sent_reference']})"
        )
    if splunk["missing_ids"]:
        failures.append(f"alert ids Splunk never received: {splunk['missing_ids']}")
    final_samples = splunk["final_differs_in_samples_only"]
    if splunk["missing_final_versions"] - final_samples:
        failures.append(
            "alerts whose final version Splunk never received: "
            f"{splunk['missing_final_versions'] - final_samples} (fields: "
            f"{splunk['missing_final_differing_fields']})"
        )
    if final_samples:
        failures.append(
            f"alerts whose final version reached Splunk only with other samples: {final_samples}"
        )
    # Versions the reference never produced come from pull boundaries that moved: a pull
    # saved with unread objects, or (SQS) a killed pull's messages read a pull or two later.
    reordered = disturbed["pulls_with_unread_objects"] or (
        options.source == "sqs" and disturbed["kills"]
    )
    if splunk["phantom_versions"] and not reordered:
        failures.append(
            f"Splunk versions the reference never produced: {splunk['phantom_versions']} "
            f"({splunk['phantom_by_type']})"
        )
    totals = disturbed["outbox_totals"]
    dropped = sum(v for k, v in totals.items() if k.startswith("dropped"))
    if dropped:
        failures.append(f"the outbox dropped {dropped} events (reported by the plugin): {totals}")
    if disturbed["storage_max_bytes"] > options.storage_budget_bytes:
        failures.append(
            f"storage.json reached {disturbed['storage_max_bytes']} bytes, over the "
            f"{options.storage_budget_bytes}-byte budget"
        )
    if disturbed.get("storage_bson_max_bytes", 0) > MONGODB_DOCUMENT_LIMIT:
        failures.append(
            f"storage as BSON reached {disturbed['storage_bson_max_bytes']} bytes, over "
            f"MongoDB's {MONGODB_DOCUMENT_LIMIT}-byte document limit (CE could not save it)"
        )
    bounds = {**SECTION_BOUNDS, "index": index_mb * 1024 * 1024}
    for section, bound in bounds.items():
        size = disturbed["storage_section_max_bytes"].get(section, 0)
        if size > bound:
            failures.append(f"storage section '{section}' reached {size} bytes (bound {bound})")
    if disturbed["timeouts"]:
        failures.append(f"{disturbed['timeouts']} pull attempts hung past the timeout")
    queue = disturbed.get("queue_final") or {}
    if queue.get("visible") or queue.get("in_flight"):
        failures.append(f"SQS messages left on the queue after the drain: {queue}")
    if queue.get("dead_letter"):
        failures.append(f"SQS messages moved to the dead-letter queue: {queue['dead_letter']}")
    return failures


def print_summary(report: Mapping[str, Any], out: TextIO) -> None:
    ref, dis = report["reference"], report["disturbed"]
    cmp_ = report["comparison"]
    rows: list[tuple[str, Any, Any]] = [
        ("pulls (successful)", ref["pulls"], dis["pulls"]),
        ("pull attempts", ref["attempts"], dis["attempts"]),
        ("kills (SIGKILL)", ref["kills"], dis["kills"]),
        ("  by phase", "", _inline(dis["kills_by_phase"])),
        ("  by trigger", "", _inline(dis["kills_by_trigger"])),
        ("failed pulls (plugin raised)", ref["failed_attempts"], dis["failed_attempts"]),
        ("HEC faults injected", ref["hec_faults_injected"], dis["hec_faults_injected"]),
        ("  by stretch", "", _inline(dis["hec_faults_by_kind"])),
        ("S3 faults injected", ref["s3_faults_injected"], dis["s3_faults_injected"]),
        ("  by stretch", "", _inline(dis["s3_faults_by_kind"])),
        (
            "SQS faults injected",
            ref.get("sqs_faults_injected", 0),
            dis.get("sqs_faults_injected", 0),
        ),
        ("  by stretch", "", _inline(dis.get("sqs_faults_by_kind", {}))),
        ("trail objects read", ref["objects_read"], dis["objects_read"]),
        (
            "pulls saved with unread objects",
            ref["pulls_with_unread_objects"],
            dis["pulls_with_unread_objects"],
        ),
        ("CloudTrail events read", ref["events_read"], dis["events_read"]),
        ("CE alerts (unique ids)", cmp_["ce"]["reference_alerts"], cmp_["ce"]["alerts"]),
        ("CE alerts missing / extra", "-", f"{cmp_['ce']['missing']} / {cmp_['ce']['extra']}"),
        ("  extra, withdrawn by a late trust change", "-", cmp_["ce"].get("extra_withdrawn", 0)),
        (
            "  missing, withdrawn in the reference",
            "-",
            cmp_["ce"].get("missing_withdrawn_in_reference", 0),
        ),
        (
            "alerts withdrawn (late trust change)",
            cmp_["ce"].get("alerts_withdrawn", {}).get("reference", 0),
            cmp_["ce"].get("alerts_withdrawn", {}).get("disturbed", 0),
        ),
        (
            "activity windows judged again (late trust change)",
            ref.get("windows_judged_again", 0),
            dis.get("windows_judged_again", 0),
        ),
        ("CE alerts not up to date", "-", cmp_["ce"]["content_differs"]),
        (
            "  of these in CE's save->upsert gap",
            "-",
            f"{cmp_['ce']['missing_in_save_gap']} missing, "
            f"{cmp_['ce']['differs_in_save_gap']} not up to date",
        ),
        (
            "Splunk events (raw)",
            cmp_["splunk"]["reference"]["events"],
            cmp_["splunk"]["disturbed"]["events"],
        ),
        (
            "Splunk unique (id, version)",
            cmp_["splunk"]["reference"]["unique_id_versions"],
            cmp_["splunk"]["disturbed"]["unique_id_versions"],
        ),
        (
            "Splunk duplicates (raw)",
            cmp_["splunk"]["reference"]["duplicates_raw"],
            cmp_["splunk"]["disturbed"]["duplicates_raw"],
        ),
        (
            "  (id, version) sent >1 time",
            cmp_["splunk"]["reference"]["duplicated_id_versions"],
            cmp_["splunk"]["disturbed"]["duplicated_id_versions"],
        ),
        (
            "  same content, new version",
            cmp_["splunk"]["reference"]["same_content_new_version"],
            cmp_["splunk"]["disturbed"]["same_content_new_version"],
        ),
        (
            "CE alerts Splunk never received",
            cmp_["splunk"]["ce_ids_never_sent_reference"],
            cmp_["splunk"]["ce_ids_never_sent"],
        ),
        (
            "Splunk missing ids / final versions",
            "-",
            f"{cmp_['splunk']['missing_ids']} / {cmp_['splunk']['missing_final_versions']}",
        ),
        (
            "Splunk coalesced intermediate versions",
            "-",
            cmp_["splunk"]["coalesced_intermediate_versions"],
        ),
        ("Splunk phantom versions", "-", cmp_["splunk"]["phantom_versions"]),
        ("events re-sent after kills (expected)", "-", dis["resent_after_kill"]),
        ("outbox drops (reported)", _drops(ref), _drops(dis)),
        ("max storage.json (bytes)", ref["storage_max_bytes"], dis["storage_max_bytes"]),
        (
            "max storage as BSON (bytes)",
            ref.get("storage_bson_max_bytes", 0),
            dis.get("storage_bson_max_bytes", 0),
        ),
        ("at-least-once window median/p95 (s)", _window(ref), _window(dis)),
        (
            "pull seconds median/max",
            f"{ref['pull_seconds_median']}/{ref['pull_seconds_max']}",
            f"{dis['pull_seconds_median']}/{dis['pull_seconds_max']}",
        ),
        ("wall time (s)", ref["wall_seconds"], dis["wall_seconds"]),
    ]
    if report["soak"].get("source") == "sqs":
        rows.append(
            (
                "SQS left: visible / in flight / dead-letter",
                _queue(ref.get("queue_final") or {}),
                _queue(dis.get("queue_final") or {}),
            )
        )
    width = max(len(r[0]) for r in rows)
    out.write(f"\n{'':{width}}  {'reference':>14}  disturbed\n")
    for label, left, right in rows:
        out.write(f"{label:{width}}  {left!s:>14}  {right}\n")
    if report.get("hostile"):
        out.write("\n" + "\n".join(soak_hostile.summary_lines(report["hostile"])) + "\n")
    failures = report["verdict"]["failures"]
    out.write(
        f"\nverdict: {'PASS' if not failures else 'FAIL'}; total wall time "
        f"{report['soak']['wall_seconds']} s; report {report['soak']['report_path']}\n"
    )
    for failure in failures:
        out.write(f"  - {failure}\n")


def _inline(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or "-"


def _queue(depth: Mapping[str, int]) -> str:
    return (
        f"{depth.get('visible', 0)} / {depth.get('in_flight', 0)} / {depth.get('dead_letter', 0)}"
    )


def _drops(figures: Mapping[str, Any]) -> int:
    return sum(v for k, v in figures["outbox_totals"].items() if k.startswith("dropped"))


def _window(figures: Mapping[str, Any]) -> str:
    window = figures["exposure_seconds"]
    if not window.get("count"):
        return "-"
    return f"{window['median']}/{window['p95']}"


# ----------------------------------------------------------------------------- main


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
