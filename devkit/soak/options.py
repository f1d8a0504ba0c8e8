"""What a soak is asked to do: its options, the presets, and the constants its parts share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.loader import REPO_ROOT

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
