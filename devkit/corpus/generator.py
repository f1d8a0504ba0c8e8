"""The records of a corpus: sessions issued and used, delivered to 5-minute files by account
and Region, with the ground truth every contender must reproduce."""

from __future__ import annotations

import json
import random
import string
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from devkit.corpus.profile import (
    SEED,
    SLOT,
    START,
    TODAY,
    WORKLOADS_PER_PREFIX,
    Profile,
)

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
    calls_left: int = 0  # churn: calls it still makes
    depth: int = 1  # roles in its chain, itself included
    issued_in: tuple[str, str, int] | None = None  # the file of its (caller's) AssumeRole


@dataclass
class Output:
    """Records per (account, region, delivery slot)."""

    files: dict[tuple[str, str, int], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, account: str, region: str, slot: int, record: dict[str, Any]) -> None:
        self.files.setdefault((account, region, slot), []).append(record)


class Generator:
    def __init__(
        self, records: int, seed: int = SEED, profile: Profile = TODAY, start: datetime = START
    ) -> None:
        self.start = start  # the first slot's start: the soak anchors it inside its look-back
        self.rng = random.Random(seed)
        self.records = records
        self.profile = profile
        self.accounts = profile.accounts
        self.regions = profile.regions
        prefixes = len(self.accounts) * len(self.regions)
        self.slots = max(2, round(records / (prefixes * profile.records_per_file)))
        self.per_file = records / (self.slots * prefixes)
        rng = self.rng
        self.users = {
            account: [
                (f"user-{account[:3]}-{i:03d}", _key(rng, "AKIA"), _key(rng, "AIDA"))
                for i in range(120 if account == self.accounts[0] else 20)
            ]
            for account in self.accounts
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
            for account in self.accounts
        }
        self.truth = {"attributed": 0, "session_events": 0, "records": 0, "duplicates": 0}
        # The shape actually generated (the knobs are targets; these are what came out).
        self.shape: Counter[str] = Counter()
        # Human session calls by (file of the session's AssumeRole, file of the call): which
        # were read before their issuance depends on the files' delivery order (``read_before``).
        self.reads: Counter[tuple[tuple[str, str, int], tuple[str, str, int]]] = Counter()
        # Per-event ground truth: the IAM user behind every human session's key, and an
        # order-free digest of (eventID, user ARN) over the events attributed to one.
        self.origins: dict[str, str] = {}
        self.digest = 0

    def _attribute(self, record: dict[str, Any], origin: str | None) -> None:
        if origin is None:
            raise AssertionError(f"no origin for {record['eventID']}")  # a generator bug
        self.digest = (self.digest + attribution_digest(record["eventID"], origin)) % _MOD

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

    def _unused_assume_role(
        self,
        out: Output,
        home: str,
        region: str,
        slot: int,
        moment: datetime,
        caller: dict[str, Any],
        role_arn: str,
        role_id: str,
        session_name: str,
    ) -> bool:
        """For 2 % of assumptions, an AssumeRole whose key is never used (True when written)."""
        if self.rng.random() >= 0.02:
            return False
        record = self._assume_role(moment, region, caller, role_arn, role_id, session_name, None)
        out.add(home, region, slot, record)
        self.truth["records"] += 1
        self.shape["assume_role_records"] += 1
        return True

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
        if self.profile.calls_per_session is not None:
            self._run_churn(flush)
            return
        out = Output()
        rng = self.rng
        pools: dict[str, list[Session]] = {account: [] for account in self.accounts}
        workloads = {
            (account, region): [
                self._workload(out, account, region, 0) for _ in range(WORKLOADS_PER_PREFIX)
            ]
            for account in self.accounts
            for region in self.regions
        }
        orphans = {
            (account, region): [self._orphan(account, region) for _ in range(2)]
            for account in self.accounts
            for region in self.regions
        }
        for slot in range(self.slots):
            base = self.start + slot * SLOT
            for account in self.accounts:
                pool = [s for s in pools[account] if s.expires > base + SLOT]
                while len(pool) < self.profile.session_pool:
                    pool.extend(self._human_session(out, account, slot, base, pools))
                pools[account] = pool
            for account in self.accounts:
                for region in self.regions:
                    count = int(self.per_file * rng.uniform(0.8, 1.2))
                    self._fill(
                        out,
                        account,
                        region,
                        slot,
                        base,
                        count,
                        _chooser(rng, [s for s in pools[account] if s.created < base + SLOT]),
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
        home = self.accounts[0] if rng.random() < 0.7 else account
        user, user_key, user_id = rng.choice(self.users[home])
        region = rng.choice(self.regions)
        moment = base + timedelta(seconds=rng.randint(0, 299))
        caller = _iam_user(home, user, user_key, user_id)
        role_arn, role_id = rng.choice(self.roles[account])
        session_name = user if rng.random() < 0.5 else f"aws-go-sdk-{rng.getrandbits(60)}"
        if self._unused_assume_role(
            out, home, region, slot, moment, caller, role_arn, role_id, session_name
        ):
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
        if rng.random() < self.profile.chain_share:
            target = rng.choice(self.accounts) if rng.random() < 0.33 else account
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
        record = self._assume_role(
            moment, region, caller, role_arn, role_id, session_name, key, duration
        )
        origin = caller["arn"] if caller.get("type") == "IAMUser" else None
        if caller.get("type") == "AssumedRole":
            self.truth["attributed"] += 1  # the chained AssumeRole is signed by a human session
            self.truth["session_events"] += 1
            origin = self.origins.get(caller["accessKeyId"])
            self._attribute(record, origin)
        if origin is not None:
            self.origins[key] = origin
        delivery = slot + (1 if rng.random() < self.profile.late_issuance else 0)
        out.add(caller_account, region, delivery, record)
        self.truth["records"] += 1
        self.shape["assume_role_records"] += 1
        self.shape["late_issuances"] += delivery != slot
        self.shape["sessions_issued"] += 1
        role_account = role_arn.split(":")[4]
        if shared:
            self.shape["assume_role_records"] += 1
            self.shape["cross_account_calls"] += 1
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
            issued_in=(caller_account, region, delivery),
        )

    # ---------------------------------------------------------------- churn-heavy trails

    def _run_churn(
        self, flush: Callable[[dict[tuple[str, str, int], list[dict[str, Any]]]], None]
    ) -> None:
        """Short sessions per account and Region: each makes about ``calls_per_session``
        calls and is replaced by a new issuance, some chaining further, some across
        accounts."""
        out = Output()
        rng = self.rng
        prefixes = [(account, region) for account in self.accounts for region in self.regions]
        pools: dict[tuple[str, str], list[Session]] = {prefix: [] for prefix in prefixes}
        workloads = {
            prefix: [self._workload(out, *prefix, 0) for _ in range(WORKLOADS_PER_PREFIX)]
            for prefix in prefixes
        }
        orphans = {prefix: [self._orphan(*prefix) for _ in range(2)] for prefix in prefixes}
        for slot in range(self.slots):
            base = self.start + slot * SLOT
            for account, region in prefixes:
                count = int(self.per_file * rng.uniform(0.8, 1.2))

                def pick(
                    where: tuple[str, str] = (account, region),
                    slot: int = slot,
                    base: datetime = base,
                ) -> Session:
                    return self._churn_pick(out, where, slot, base, pools)

                self._fill(
                    out,
                    account,
                    region,
                    slot,
                    base,
                    count,
                    pick,
                    workloads[(account, region)],
                    orphans[(account, region)],
                )
            done = {where: rows for where, rows in out.files.items() if where[2] < slot}
            for where in done:
                del out.files[where]
            flush(done)
        flush(out.files)

    def _churn_pick(
        self,
        out: Output,
        where: tuple[str, str],
        slot: int,
        base: datetime,
        pools: dict[tuple[str, str], list[Session]],
    ) -> Session:
        """A live session of ``where`` for one call; a session out of calls is replaced."""
        rng = self.rng
        pool = pools[where]
        while len(pool) < self.profile.session_pool:
            self._churn_session(out, where, slot, base, pools)
        position = rng.randrange(len(pool))
        session = pool[position]
        session.calls_left -= 1
        if session.calls_left <= 0:
            pool[position] = pool[-1]
            pool.pop()
        return session

    def _calls(self) -> int:
        calls = self.profile.calls_per_session or 1
        drawn = self.rng.randint(1, 2 * calls - 1)
        self.shape["human_sessions"] += 1
        self.shape["session_calls_planned"] += drawn
        return drawn

    def _churn_session(
        self,
        out: Output,
        where: tuple[str, str],
        slot: int,
        base: datetime,
        pools: dict[tuple[str, str], list[Session]],
    ) -> None:
        """An IAM user assumes a role of ``where``'s account (from another account for
        ``cross_account`` of them); the session may chain on, hop by hop, up to
        ``max_chain_depth`` roles, each hop into another account for ``cross_account``."""
        rng = self.rng
        profile = self.profile
        account, region = where
        home = self._other_account(account)
        user, user_key, user_id = rng.choice(self.users[home])
        moment = base + timedelta(seconds=rng.randint(0, 299))
        caller = _iam_user(home, user, user_key, user_id)
        role_arn, role_id = rng.choice(self.roles[account])
        session_name = user if rng.random() < 0.5 else f"aws-go-sdk-{rng.getrandbits(60)}"
        if self._unused_assume_role(
            out, home, region, slot, moment, caller, role_arn, role_id, session_name
        ):
            return
        session = self._issue(
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
        session.calls_left = self._calls()
        pools[where].append(session)
        while session.depth < profile.max_chain_depth and rng.random() < profile.chain_share:
            target = self._other_account(session.account)
            role2, role2_id = rng.choice(self.roles[target])
            later = min(
                session.created + timedelta(seconds=rng.randint(1, 60)),
                max(session.created, base + SLOT - timedelta(seconds=1)),
            )
            chained = self._issue(
                out,
                session.account,
                region,
                slot + (later - base) // SLOT,
                later,
                self._session_identity(session),
                role2,
                role2_id,
                f"chain-{rng.getrandbits(32):x}",
                shared=target != session.account,
                duration=900,
            )
            chained.depth = session.depth + 1
            chained.calls_left = self._calls()
            self.shape[f"chains_of_depth_{chained.depth}"] += 1
            pools[(target, region)].append(chained)
            session = chained

    def _other_account(self, account: str) -> str:
        """Another account for ``cross_account`` of the calls, else ``account``."""
        rng = self.rng
        if rng.random() < (self.profile.cross_account or 0.0):
            return rng.choice([other for other in self.accounts if other != account])
        return account

    def _read(self, session: Session, account: str, region: str, slot: int) -> None:
        if session.issued_in is not None:
            self.reads[(session.issued_in, (account, region, slot))] += 1

    def read_before(self, order: dict[tuple[str, str, int], tuple[str, str]]) -> dict[str, int]:
        """Human session calls in a file read before (and in the same file as) the file of
        their session's AssumeRole, given each file's place in reading order."""
        before = same = 0
        for (issued, used), count in self.reads.items():
            if issued == used:
                same += count
            elif order[used] < order[issued]:
                before += count
        return {"read_before_issuance": before, "in_the_issuance_file": same}

    def _workload(self, out: Output, account: str, region: str, slot: int) -> Session:
        rng = self.rng
        ec2 = rng.random() < 0.6
        name = f"i-{rng.getrandbits(64):017x}" if ec2 else f"awslambda_{rng.randint(100, 999)}"
        role_arn, role_id = rng.choice(self.roles[account])
        moment = self.start + timedelta(seconds=rng.randint(0, 60))
        service = "ec2.amazonaws.com" if ec2 else "lambda.amazonaws.com"
        caller = {"type": "AWSService", "invokedBy": service}
        key = _key(rng, "ASIA")
        record = self._assume_role(
            moment, region, caller, role_arn, role_id, name, key, 6 * 3600 * 24
        )
        record["recipientAccountId"] = account
        out.add(account, region, slot, record)
        self.truth["records"] += 1
        self.shape["assume_role_records"] += 1
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
        created = self.start - timedelta(minutes=30)
        return Session(
            _key(rng, "ASIA"),
            account,
            region,
            role_arn,
            role_id,
            f"orphan-{rng.getrandbits(32):x}",
            created,
            self.start + timedelta(days=30),
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
        pick: Callable[[], Session | None],
        workloads: list[Session],
        orphans: list[Session],
    ) -> None:
        """``count`` records of one file; ``pick`` chooses the human session of a call."""
        rng = self.rng
        users = self.users[account]
        for _ in range(count):
            moment = base + timedelta(seconds=rng.randint(0, 299))
            draw = rng.random()
            if draw < 0.80 and (session := pick()) is not None:
                moment = max(moment, session.created + timedelta(seconds=1))
                if moment >= base + SLOT:
                    moment = base + SLOT - timedelta(seconds=1)
                record = self._api_call(moment, account, region, self._session_identity(session))
                self.truth["session_events"] += 1
                self.truth["attributed"] += 1
                self._read(session, account, region, slot)
                self._attribute(record, self.origins.get(session.key))
            elif draw < 0.88:
                user, key, user_id = rng.choice(users)
                identity = _iam_user(account, user, key, user_id)
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


_MOD: Final = 2**64


def attribution_digest(event_id: str, user_arn: str) -> int:
    """One attributed event's share of the order-free digest of the ground truth (their sum
    modulo 2**64): a contender that names any event's user differently, or misses one,
    or counts one twice, gets another sum. Two CRC-32s (``zlib`` is loaded anyway;
    ``hashlib`` would load OpenSSL, 4 MB of resident memory in every contender)."""
    data = f"{event_id}|{user_arn}".encode()
    return zlib.crc32(data) << 32 | zlib.crc32(data, 0x9E3779B9)


def add_digests(*parts: int) -> int:
    return sum(parts) % _MOD


def _chooser(rng: random.Random, live: list[Session]) -> Callable[[], Session | None]:
    def pick() -> Session | None:
        return rng.choice(live) if live else None

    return pick


def object_key(
    account: str,
    region: str,
    slot: int,
    rng: random.Random,
    minutes: tuple[int, int] = (3, 9),
    start: datetime = START,
) -> str:
    moment = start + slot * SLOT + timedelta(minutes=rng.randint(*minutes))
    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
    return (
        f"AWSLogs/{account}/CloudTrail/{region}/{moment:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{moment:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    )


def _iam_user(account: str, user: str, access_key_id: str, user_id: str) -> dict[str, Any]:
    """The ``userIdentity`` of an IAM user signing with its long-term key."""
    return {
        "type": "IAMUser",
        "principalId": user_id,
        "arn": f"arn:aws:iam::{account}:user/{user}",
        "accountId": account,
        "accessKeyId": access_key_id,
        "userName": user,
    }
