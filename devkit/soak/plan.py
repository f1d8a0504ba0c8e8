"""The corpus, anchored inside a short look-back, and the plan: which objects arrive in
which increment (trail files, late files, re-delivered copies, trust-policy changes)."""

from __future__ import annotations

import gzip
import json
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from devkit import corpus as trail_corpus
from devkit.soak.options import SESSION_NAME_CONDITION, WEAK_CONDITION, SoakError, SoakOptions


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
