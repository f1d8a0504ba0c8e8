"""A realistic CloudTrail corpus in the S3 layout, generated deterministically for benchmarks.

``python -m bench.corpus --records 1000000`` writes ``.bench/corpus-<records>/AWSLogs/<account>/
CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz``
(gzip ``{"Records": [...]}``, ~800 records of ~1.5 KB per file, records shuffled inside a file)
and ``manifest.json`` with the ground truth every contender must reproduce.

What is in it, per 5-minute delivery slot of every account and Region: IAM users assuming
roles (2 % denied), 15 % of those sessions chaining into a second role (a third of them in
another account: the AssumeRole is then logged in both accounts under one ``sharedEventID``),
most events signed with the issued ``ASIA…`` keys, IAM users calling with their ``AKIA…``
keys, EC2 instances and Lambda functions whose role sessions AWS services issued, AWS service
events, and a few keys whose issuance predates the corpus (unattributable). As in real
trails, 10 % of AssumeRole records are delivered one file late (after the first use of their
key) and 0.1 % of records are delivered twice.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20261129
START = datetime(2026, 11, 1, tzinfo=UTC)
SLOT = timedelta(minutes=5)
ACCOUNTS = ("111122223333", "444455556666", "777788889999")
REGIONS = ("us-east-1", "eu-west-1")
RECORDS_PER_FILE = 800
SESSION_POOL = 60  # concurrent human sessions per account
WORKLOADS_PER_PREFIX = 12  # EC2 instances / Lambda functions per account and Region
DEFAULT_DIR = Path(".bench")

_ALNUM = string.ascii_uppercase + string.digits
_USER_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off "
    "command/{svc}.{op}",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#6.1.82 md/arch#x86_64 lang/python#3.11.9 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.30.4",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) "
    "terraform-provider-aws/5.44.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go/1.51.16 (go1.22.1; linux; amd64)",
)
_CALLS = (
    ("ec2", "DescribeInstances", True),
    ("ec2", "DescribeSecurityGroups", True),
    ("s3", "ListBuckets", True),
    ("s3", "GetBucketPolicy", True),
    ("ssm", "GetParameter", True),
    ("ssm", "GetParametersByPath", True),
    ("kms", "Decrypt", True),
    ("kms", "GenerateDataKey", True),
    ("iam", "GetRole", True),
    ("iam", "ListAttachedRolePolicies", True),
    ("lambda", "GetFunction", True),
    ("dynamodb", "DescribeTable", True),
    ("logs", "CreateLogStream", False),
    ("ec2", "CreateTags", False),
    ("secretsmanager", "GetSecretValue", True),
    ("sts", "GetCallerIdentity", True),
)


def _key(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_ALNUM, k=16))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _expiration(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {moment:%p}"


@dataclass
class Session:
    key: str
    account: str
    region: str
    role_arn: str
    role_id: str
    session_name: str
    created: datetime
    expires: datetime
    human: bool  # True when its chain ends at an IAM user with the issuance in the corpus
    issuer_type: str = "Role"
    ec2: bool = False


@dataclass
class Output:
    """Records per (account, region, delivery slot)."""

    files: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, account: str, region: str, slot: int, record: dict[str, Any]) -> None:
        self.files.setdefault((account, region, slot), []).append(record)


class Generator:
    def __init__(self, records: int, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.records = records
        prefixes = len(ACCOUNTS) * len(REGIONS)
        self.slots = max(2, round(records / (prefixes * RECORDS_PER_FILE)))
        self.per_file = records / (self.slots * prefixes)
        rng = self.rng
        self.users = {
            account: [
                (f"user-{account[:3]}-{i:03d}", _key(rng, "AKIA"), _key(rng, "AIDA"))
                for i in range(120 if account == ACCOUNTS[0] else 20)
            ]
            for account in ACCOUNTS
        }
        self.roles = {
            account: [
                (
                    f"arn:aws:iam::{account}:role/{path}{name}-{i:02d}",
                    _key(rng, "AROA"),
                )
                for i, (path, name) in enumerate(
                    [("", "Deployer"), ("teams/", "DataEngineer"), ("", "ReadOnly")] * 8
                )
            ]
            for account in ACCOUNTS
        }
        self.truth = {"attributed": 0, "session_events": 0, "records": 0, "duplicates": 0}

    # ---------------------------------------------------------------- records

    def _base(
        self, moment: datetime, account: str, region: str, svc: str, op: str
    ) -> dict[str, Any]:
        rng = self.rng
        agent = rng.choice(_USER_AGENTS).format(svc=svc, op=op.lower())
        return {
            "eventVersion": "1.09",
            "eventTime": _iso(moment),
            "eventSource": f"{svc}.amazonaws.com",
            "eventName": op,
            "awsRegion": region,
            "sourceIPAddress": f"{rng.randint(3, 223)}.{rng.randint(0, 255)}."
            f"{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "userAgent": agent,
            "requestID": _uuid(rng),
            "eventID": _uuid(rng),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": f"{svc}.{region}.amazonaws.com",
            },
        }

    def _api_call(
        self, moment: datetime, account: str, region: str, identity: dict[str, Any]
    ) -> dict[str, Any]:
        rng = self.rng
        svc, op, read_only = rng.choice(_CALLS)
        record = self._base(moment, account, region, svc, op)
        record["userIdentity"] = identity
        record["readOnly"] = read_only
        record["requestParameters"] = {
            "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": "x"}]}}]},
            "maxResults": rng.choice((50, 100, 1000)),
            "resourceName": f"arn:aws:{svc}:{region}:{account}:res/{_key(rng, 'r-').lower()}",
            "nextToken": "".join(rng.choices(_ALNUM, k=rng.randint(0, 120))),
        }
        record["responseElements"] = None
        record["resources"] = [
            {
                "accountId": account,
                "type": f"AWS::{svc.upper()}::Resource",
                "ARN": f"arn:aws:{svc}:{region}:{account}:resource/{_uuid(rng)}",
            }
        ]
        return record

    @staticmethod
    def _session_identity(session: Session) -> dict[str, Any]:
        return {
            "type": "AssumedRole",
            "principalId": f"{session.role_id}:{session.session_name}",
            "arn": f"arn:aws:sts::{session.account}:assumed-role/"
            f"{session.role_arn.rsplit('/', 1)[-1]}/{session.session_name}",
            "accountId": session.account,
            "accessKeyId": session.key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": session.role_id,
                    "arn": session.role_arn,
                    "accountId": session.account,
                    "userName": session.role_arn.rsplit("/", 1)[-1],
                },
                "attributes": {"creationDate": _iso(session.created), "mfaAuthenticated": "false"},
                **({"ec2RoleDelivery": "2.0"} if session.ec2 else {}),
            },
        }

    def _assume_role(
        self,
        moment: datetime,
        region: str,
        caller: dict[str, Any],
        role_arn: str,
        role_id: str,
        session_name: str,
        key: str | None,
        duration: int = 3600,
    ) -> dict[str, Any]:
        account = role_arn.split(":")[4]
        record = self._base(moment, caller.get("accountId") or account, region, "sts", "AssumeRole")
        record["userIdentity"] = caller
        record["readOnly"] = True
        record["requestParameters"] = {
            "roleArn": role_arn,
            "roleSessionName": session_name,
            "durationSeconds": duration,
        }
        record["resources"] = [{"accountId": account, "type": "AWS::IAM::Role", "ARN": role_arn}]
        if key is None:
            record["errorCode"] = "AccessDenied"
            record["errorMessage"] = (
                f"User: {caller.get('arn')} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}"
            )
            record["responseElements"] = None
            return record
        expires = moment + timedelta(seconds=duration)
        record["responseElements"] = {
            "credentials": {
                "accessKeyId": key,
                "sessionToken": "".join(self.rng.choices(_ALNUM, k=96)),
                "expiration": _expiration(expires),
            },
            "assumedRoleUser": {
                "assumedRoleId": f"{role_id}:{session_name}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/"
                f"{session_name}",
            },
        }
        return record

    # ---------------------------------------------------------------- simulation

    def run(
        self, flush: Callable[[dict[tuple[str, str, int], list[dict[str, Any]]]], None]
    ) -> None:
        """Simulate every slot, handing ``flush`` the files that can no longer change (a
        record is delivered at most one slot late), so the corpus is never all in memory."""
        out = Output()
        rng = self.rng
        pools: dict[str, list[Session]] = {account: [] for account in ACCOUNTS}
        workloads = {
            (account, region): [
                self._workload(out, account, region, 0) for _ in range(WORKLOADS_PER_PREFIX)
            ]
            for account in ACCOUNTS
            for region in REGIONS
        }
        orphans = {
            (account, region): [self._orphan(account, region) for _ in range(2)]
            for account in ACCOUNTS
            for region in REGIONS
        }
        for slot in range(self.slots):
            base = START + slot * SLOT
            for account in ACCOUNTS:
                pool = [s for s in pools[account] if s.expires > base + SLOT]
                while len(pool) < SESSION_POOL:
                    pool.extend(self._human_session(out, account, slot, base, pools))
                pools[account] = pool
            for account in ACCOUNTS:
                for region in REGIONS:
                    count = int(self.per_file * rng.uniform(0.8, 1.2))
                    self._fill(
                        out,
                        account,
                        region,
                        slot,
                        base,
                        count,
                        pools[account],
                        workloads[(account, region)],
                        orphans[(account, region)],
                    )
            done = {where: rows for where, rows in out.files.items() if where[2] < slot}
            for where in done:
                del out.files[where]
            flush(done)
        flush(out.files)

    def _human_session(
        self,
        out: Output,
        account: str,
        slot: int,
        base: datetime,
        pools: dict[str, list[Session]],
    ) -> list[Session]:
        rng = self.rng
        home = ACCOUNTS[0] if rng.random() < 0.7 else account
        user, user_key, user_id = rng.choice(self.users[home])
        region = rng.choice(REGIONS)
        moment = base + timedelta(seconds=rng.randint(0, 299))
        caller = {
            "type": "IAMUser",
            "principalId": user_id,
            "arn": f"arn:aws:iam::{home}:user/{user}",
            "accountId": home,
            "accessKeyId": user_key,
            "userName": user,
        }
        role_arn, role_id = rng.choice(self.roles[account])
        session_name = user if rng.random() < 0.5 else f"aws-go-sdk-{rng.getrandbits(60)}"
        if rng.random() < 0.02:
            record = self._assume_role(
                moment, region, caller, role_arn, role_id, session_name, None
            )
            out.add(home, region, slot, record)
            self.truth["records"] += 1
            return []
        first = self._issue(
            out,
            home,
            region,
            slot,
            moment,
            caller,
            role_arn,
            role_id,
            session_name,
            shared=home != account,
        )
        sessions = [first]
        if rng.random() < 0.15:
            target = rng.choice(ACCOUNTS) if rng.random() < 0.33 else account
            role2, role2_id = rng.choice(self.roles[target])
            later = moment + timedelta(seconds=rng.randint(1, 200))
            chained = self._issue(
                out,
                account,
                region,
                slot + (later - base) // SLOT,
                later,
                self._session_identity(first),
                role2,
                role2_id,
                f"chain-{rng.getrandbits(32):x}",
                shared=target != account,
                duration=900,
            )
            sessions.append(chained)
            if target != account:
                pools[target].append(chained)
                sessions.pop()
        return sessions

    def _issue(
        self,
        out: Output,
        caller_account: str,
        region: str,
        slot: int,
        moment: datetime,
        caller: dict[str, Any],
        role_arn: str,
        role_id: str,
        session_name: str,
        *,
        shared: bool = False,
        duration: int = 3600,
    ) -> Session:
        rng = self.rng
        key = _key(rng, "ASIA")
        if caller.get("type") == "AssumedRole":
            self.truth["attributed"] += 1  # the chained AssumeRole is signed by a human session
            self.truth["session_events"] += 1
        record = self._assume_role(
            moment, region, caller, role_arn, role_id, session_name, key, duration
        )
        delivery = slot + (1 if rng.random() < 0.10 else 0)
        out.add(caller_account, region, delivery, record)
        self.truth["records"] += 1
        role_account = role_arn.split(":")[4]
        if shared:
            shared_id = _uuid(rng)
            record["sharedEventID"] = shared_id
            copy = json.loads(json.dumps(record))
            copy["eventID"] = _uuid(rng)
            copy["recipientAccountId"] = role_account
            copy["userIdentity"] = {
                "type": "AWSAccount",
                "principalId": caller.get("principalId"),
                "accountId": caller_account,
            }
            out.add(role_account, region, slot, copy)
            self.truth["records"] += 1
        return Session(
            key=key,
            account=role_account,
            region=region,
            role_arn=role_arn,
            role_id=role_id,
            session_name=session_name,
            created=moment,
            expires=moment + timedelta(seconds=duration),
            human=True,
        )

    def _workload(self, out: Output, account: str, region: str, slot: int) -> Session:
        rng = self.rng
        ec2 = rng.random() < 0.6
        name = f"i-{rng.getrandbits(64):017x}" if ec2 else f"awslambda_{rng.randint(100, 999)}"
        role_arn, role_id = rng.choice(self.roles[account])
        moment = START + timedelta(seconds=rng.randint(0, 60))
        service = "ec2.amazonaws.com" if ec2 else "lambda.amazonaws.com"
        caller = {"type": "AWSService", "invokedBy": service}
        key = _key(rng, "ASIA")
        record = self._assume_role(
            moment, region, caller, role_arn, role_id, name, key, 6 * 3600 * 24
        )
        record["recipientAccountId"] = account
        out.add(account, region, slot, record)
        self.truth["records"] += 1
        return Session(
            key,
            account,
            region,
            role_arn,
            role_id,
            name,
            moment,
            moment + timedelta(days=6),
            human=False,
            ec2=ec2,
        )

    def _orphan(self, account: str, region: str) -> Session:
        """A session issued before the corpus starts: its key cannot be attributed."""
        rng = self.rng
        role_arn, role_id = rng.choice(self.roles[account])
        created = START - timedelta(minutes=30)
        return Session(
            _key(rng, "ASIA"),
            account,
            region,
            role_arn,
            role_id,
            f"orphan-{rng.getrandbits(32):x}",
            created,
            START + timedelta(days=30),
            human=False,
        )

    def _fill(
        self,
        out: Output,
        account: str,
        region: str,
        slot: int,
        base: datetime,
        count: int,
        pool: list[Session],
        workloads: list[Session],
        orphans: list[Session],
    ) -> None:
        rng = self.rng
        users = self.users[account]
        live = [s for s in pool if s.created < base + SLOT]
        for _ in range(count):
            moment = base + timedelta(seconds=rng.randint(0, 299))
            draw = rng.random()
            if draw < 0.80 and live:
                session = rng.choice(live)
                moment = max(moment, session.created + timedelta(seconds=1))
                if moment >= base + SLOT:
                    moment = base + SLOT - timedelta(seconds=1)
                record = self._api_call(moment, account, region, self._session_identity(session))
                self.truth["session_events"] += 1
                self.truth["attributed"] += 1
            elif draw < 0.88:
                user, key, user_id = rng.choice(users)
                identity = {
                    "type": "IAMUser",
                    "principalId": user_id,
                    "arn": f"arn:aws:iam::{account}:user/{user}",
                    "accountId": account,
                    "accessKeyId": key,
                    "userName": user,
                }
                record = self._api_call(moment, account, region, identity)
            elif draw < 0.95:
                session = rng.choice(workloads)
                record = self._api_call(moment, account, region, self._session_identity(session))
                self.truth["session_events"] += 1
            elif draw < 0.99:
                record = self._api_call(
                    moment,
                    account,
                    region,
                    {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
                )
                if draw < 0.97:
                    del record["userIdentity"]
                    record["eventType"] = "AwsServiceEvent"
            else:
                session = rng.choice(orphans)
                record = self._api_call(moment, account, region, self._session_identity(session))
                self.truth["session_events"] += 1
            out.add(account, region, slot, record)
            self.truth["records"] += 1
            if rng.random() < 0.001:
                out.add(account, region, slot + 1, record)
                self.truth["duplicates"] += 1
                self.truth["records"] += 1


def object_key(account: str, region: str, slot: int, rng: random.Random) -> str:
    moment = START + slot * SLOT + timedelta(minutes=rng.randint(3, 9))
    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
    return (
        f"AWSLogs/{account}/CloudTrail/{region}/{moment:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{moment:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    )


def _gzip(data: bytes) -> bytes:
    try:
        from isal import igzip
    except ImportError:
        return gzip.compress(data, compresslevel=6, mtime=0)
    packed: bytes = igzip.compress(data, compresslevel=2, mtime=0)
    return packed


GENERATOR_VERSION = 2  # bump when the records generated change


def write_corpus(records: int, directory: Path, *, seed: int = SEED) -> dict[str, Any]:
    """Generate (or reuse, when its manifest matches) the corpus; return its manifest."""
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        wanted = (records, seed, GENERATOR_VERSION)
        if (manifest.get("requested"), manifest.get("seed"), manifest.get("version")) == wanted:
            return manifest
    if directory.exists():
        shutil.rmtree(directory)
    generator = Generator(records, seed)
    names = random.Random(seed + 1)
    shuffler = random.Random(seed + 2)
    totals = {"files": 0, "compressed_bytes": 0, "json_bytes": 0}

    def flush(files: dict[tuple[str, str, int], list[dict[str, Any]]]) -> None:
        for (account, region, slot), rows in sorted(files.items()):
            shuffler.shuffle(rows)
            data = json.dumps({"Records": rows}, separators=(",", ":")).encode()
            packed = _gzip(data)
            path = directory / object_key(account, region, slot, names)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(packed)
            totals["files"] += 1
            totals["compressed_bytes"] += len(packed)
            totals["json_bytes"] += len(data)

    generator.run(flush)
    manifest = {
        "requested": records,
        "seed": seed,
        "version": GENERATOR_VERSION,
        **totals,
        "records": generator.truth["records"],
        "duplicates": generator.truth["duplicates"],
        "attributed": generator.truth["attributed"],
        "session_events": generator.truth["session_events"],
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def corpus_files(directory: Path) -> list[Path]:
    """The corpus objects in delivery order (the time in their names), as a reader sees them."""
    return sorted(directory.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"), key=_delivery_order)


def _delivery_order(path: Path) -> tuple[str, str]:
    parts = path.name.split("_")
    return (parts[3] if len(parts) > 4 else "", path.name)


def iter_objects(directory: Path, limit: int | None = None) -> Iterator[tuple[str, bytes]]:
    for path in corpus_files(directory)[:limit]:
        yield str(path), path.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    directory = args.out or DEFAULT_DIR / f"corpus-{args.records}"
    manifest = write_corpus(args.records, directory)
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
