"""The resolver names every event the same whatever order its trail files are read in and
however they are split between pulls (the index saved to storage, through JSON, and loaded
again between pulls), as CloudTrail delivery, an SQS backlog and a crashing CE make it.

Generated scenarios: IAM users assume roles (some calls denied, some setting a
SourceIdentity that every later hop carries); sessions assume further roles (chains of any
depth; a role in a second account is logged in both accounts with a ``sharedEventID``, the
role account's copy showing only the calling account); IAM users take federation tokens;
issued keys sign later calls; keys issued before the trail sign some (never attributable);
some records are delivered twice. The events span less than the hold, so no held event is
given up before its issuance is read.

The people it watches choose names: a session name or a SourceIdentity may be another
person's (``VICTIMS``), including on a role *named* like an Identity Center role at path
``/`` (which anyone with iam:CreateRole can make), and on a role whose trust policy was
made to enforce the session-name rule only part-way through the trail (``Strict``; the
posture scan, which sees the policy of now, says it enforces). Identity Center itself
issues sessions of a role at its reserved path, through AssumeRoleWithSAML. Whatever the
order, no name of a victim is the final identity (every victim name here is a claim whose
issuance is in the trail), and before that none is presented as verified, except where the
posture scan vouches for a role whose opening change is not read yet (a documented limit).

What may differ between orders is only *when* an event is emitted (``held``, ``reason``),
never anything else its resolution says (who, how, through which sessions and roles) once
the pipeline has done what it does for an event named from its session's own record before
its issuance was read (``PROVISIONAL_METHODS``: its alerts are re-raised naming the session
as ``attribution_of`` does then). No event is emitted twice by one pull. A record emitted
and delivered again in a later pull is emitted again, the same: the resolver's window of
event ids lives for a pull, and across pulls the readers' records of processed objects and
the alerts' stable ids and counted-event record keep repeats out of what is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloudtrail.helpers import FAST_AVAILABLE, attribution_of, decoder, resolution, resolver

HOME, OTHER = "111111111111", "222222222222"
START = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
USERS = ("ivy", "joe", "kim")
LOOK_ALIKE = "AWSReservedSSO_Backdoor_0123456789abcdef"  # at path "/": an ordinary role
STRICT = "Strict"  # enforces the rule from STRICT_SINCE on; posture says it does
STRICT_SINCE = 10.0  # minutes after START
ROLES = (
    ("Dev", HOME),
    ("Ops", HOME),
    ("Audit", HOME),
    ("Partner", OTHER),
    (LOOK_ALIKE, HOME),
    (STRICT, HOME),
)
VICTIMS = ("ceo@corp.com", "cfo@corp.com")
SSO_PATH = "/aws-reserved/sso.amazonaws.com/eu-west-1/"
SSO_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
SSO_USERS = ("dave@example.com", "erin@example.com")
ENFORCING_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
            }
        ],
    }
)


def _policy_enforces(document: str) -> bool | None:
    """The trust timeline's judge, for the documents these scenarios write."""
    return document == ENFORCING_TRUST


def _role_enforces(role_arn: str, _at: float) -> bool | None:
    """The posture scan's verdict of now: ``Strict`` enforces the rule, the others not."""
    return role_arn.rsplit("/", 1)[-1] == STRICT or None


def _time(minute: float) -> str:
    return (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(name: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{name.upper()}",
        "arn": f"arn:aws:iam::{HOME}:user/{name}",
        "accountId": HOME,
        "accessKeyId": f"AKIA{name.upper()}",
        "userName": name,
    }


@dataclass
class Session:
    key: str
    role: str
    account: str
    name: str
    created: float  # minutes after START
    source_identity: str | None = None
    path: str = "/"

    def identity(self) -> dict[str, Any]:
        role_arn = f"arn:aws:iam::{self.account}:role{self.path}{self.role}"
        context: dict[str, Any] = {
            "sessionIssuer": {"type": "Role", "arn": role_arn, "userName": self.role},
            "attributes": {"creationDate": _time(self.created)},
        }
        if self.source_identity:
            context["sourceIdentity"] = self.source_identity
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{self.role.upper()}:{self.name}",
            "arn": f"arn:aws:sts::{self.account}:assumed-role/{self.role}/{self.name}",
            "accountId": self.account,
            "accessKeyId": self.key,
            "sessionContext": context,
        }


@dataclass
class Scenario:
    records: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> None:
        self.records.append(record)


def _assume(
    scenario: Scenario,
    number: int,
    caller: dict[str, Any],
    caller_account: str,
    role: tuple[str, str],
    at: float,
    denied: bool,
    source_identity: str | None = None,
    session_name: str | None = None,
) -> Session | None:
    name, account = role
    session_name = session_name or f"s{number}"
    session = Session(f"ASIA{number:012d}", name, account, session_name, at, source_identity)
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventID": f"assume-{number}",
        "eventName": "AssumeRole",
        "eventSource": "sts.amazonaws.com",
        "eventTime": _time(at),
        "awsRegion": "us-east-1",
        "userIdentity": caller,
        "requestParameters": {
            "roleArn": f"arn:aws:iam::{account}:role/{name}",
            "roleSessionName": session.name,
        },
        "recipientAccountId": caller_account,
        "eventType": "AwsApiCall",
    }
    if source_identity and caller.get("type") == "IAMUser":
        record["requestParameters"]["sourceIdentity"] = source_identity
    if denied:
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = "not authorized to perform: sts:AssumeRole"
    else:
        record["responseElements"] = {
            "credentials": {
                "accessKeyId": session.key,
                "expiration": (START + timedelta(minutes=at + 60)).strftime(
                    "%b %-d, %Y, %-I:%M:%S %p"
                ),
            },
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session.name}",
                "assumedRoleId": f"AROA{name.upper()}:{session.name}",
            },
        }
    if account != caller_account:  # cross-account: logged in both accounts
        record["sharedEventID"] = f"shared-{number}"
        copy = json.loads(json.dumps(record))
        copy["eventID"] = f"assume-{number}-role-account"
        copy["recipientAccountId"] = account
        # The role account sees only the calling account, never who in it called.
        principal = caller.get("principalId", "")
        copy["userIdentity"] = {
            "type": "AWSAccount",
            "principalId": principal.split(":")[0],
            "accountId": caller_account,
        }
        scenario.add(copy)
    scenario.add(record)
    if denied:
        return None
    scenario.sessions.append(session)
    return session


def _identity_center(scenario: Scenario, number: int, user: str, at: float) -> Session:
    """Identity Center's AssumeRoleWithSAML, through its ``AWSSSO_`` SAML provider, of a
    role at its reserved path: the session is named after the user."""
    session = Session(f"ASIASSO{number:09d}", SSO_ROLE, OTHER, user, at, path=SSO_PATH)
    role_arn = f"arn:aws:iam::{OTHER}:role{SSO_PATH}{SSO_ROLE}"
    provider = f"arn:aws:iam::{OTHER}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"
    scenario.add(
        {
            "eventVersion": "1.08",
            "eventID": f"sso-{number}",
            "eventName": "AssumeRoleWithSAML",
            "eventSource": "sts.amazonaws.com",
            "eventTime": _time(at),
            "awsRegion": "eu-west-1",
            "userIdentity": {
                "type": "SAMLUser",
                "principalId": f"SAMLPRINCIPAL:{user}",
                "userName": user,
                "identityProvider": "SAMLPRINCIPAL",
            },
            "requestParameters": {"roleArn": role_arn, "principalArn": provider},
            "responseElements": {
                "credentials": {
                    "accessKeyId": session.key,
                    "expiration": (START + timedelta(minutes=at + 60)).strftime(
                        "%b %-d, %Y, %-I:%M:%S %p"
                    ),
                },
                "assumedRoleUser": {
                    "arn": f"arn:aws:sts::{OTHER}:assumed-role/{SSO_ROLE}/{user}",
                    "assumedRoleId": f"AROASSO:{user}",
                },
                "subject": user,
                "subjectType": "persistent",
            },
            "recipientAccountId": OTHER,
            "eventType": "AwsApiCall",
        }
    )
    scenario.sessions.append(session)
    return session


def _strict_from(scenario: Scenario, at: float) -> None:
    """The change that made ``Strict`` enforce the rule (open before it)."""
    scenario.add(
        {
            "eventVersion": "1.08",
            "eventID": "strict-change",
            "eventName": "UpdateAssumeRolePolicy",
            "eventSource": "iam.amazonaws.com",
            "eventTime": _time(at),
            "awsRegion": "us-east-1",
            "userIdentity": _user("ivy"),
            "requestParameters": {"roleName": STRICT, "policyDocument": ENFORCING_TRUST},
            "recipientAccountId": HOME,
            "eventType": "AwsApiCall",
        }
    )


def _use(scenario: Scenario, number: int, use: int, session: Session, at: float) -> None:
    scenario.add(
        {
            "eventVersion": "1.08",
            "eventID": f"use-{number}-{use}",
            "eventName": "GetObject",
            "eventSource": "s3.amazonaws.com",
            "eventTime": _time(at),
            "awsRegion": "eu-west-1",
            "userIdentity": session.identity(),
            "recipientAccountId": session.account,
            "eventType": "AwsApiCall",
        }
    )


def _federation(scenario: Scenario, number: int, user: str, at: int) -> None:
    """A ``GetFederationToken`` by ``user`` and a call signed with the token's key."""
    key, name = f"ASIAFED{number:09d}", f"fed{number}"
    scenario.add(
        {
            "eventVersion": "1.08",
            "eventID": f"federation-{number}",
            "eventName": "GetFederationToken",
            "eventSource": "sts.amazonaws.com",
            "eventTime": _time(at),
            "awsRegion": "us-east-1",
            "userIdentity": _user(user),
            "requestParameters": {"name": name},
            "responseElements": {
                "credentials": {
                    "accessKeyId": key,
                    "expiration": (START + timedelta(minutes=at + 60)).strftime(
                        "%b %-d, %Y, %-I:%M:%S %p"
                    ),
                },
                "federatedUser": {
                    "federatedUserId": f"{HOME}:{name}",
                    "arn": f"arn:aws:sts::{HOME}:federated-user/{name}",
                },
            },
            "recipientAccountId": HOME,
            "eventType": "AwsApiCall",
        }
    )
    issuer = _user(user)
    scenario.add(
        {
            "eventVersion": "1.08",
            "eventID": f"federated-use-{number}",
            "eventName": "ListBuckets",
            "eventSource": "s3.amazonaws.com",
            "eventTime": _time(at + 2),
            "awsRegion": "eu-west-1",
            "userIdentity": {
                "type": "FederatedUser",
                "principalId": f"{HOME}:{name}",
                "arn": f"arn:aws:sts::{HOME}:federated-user/{name}",
                "accountId": HOME,
                "accessKeyId": key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "IAMUser",
                        "principalId": issuer["principalId"],
                        "arn": issuer["arn"],
                        "accountId": HOME,
                        "userName": user,
                    },
                    "attributes": {"creationDate": _time(at)},
                },
            },
            "recipientAccountId": HOME,
            "eventType": "AwsApiCall",
        }
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    scenario = Scenario()
    count = draw(st.integers(2, 9))
    named: set[tuple[str, str]] = set()  # (role, chosen name): one session each, see below
    _strict_from(scenario, STRICT_SINCE)
    for number in range(count):
        at = draw(st.integers(0, 20)) + number * 0.5
        if draw(st.integers(0, 7)) == 0:  # Identity Center signs a user in
            user = draw(st.sampled_from(SSO_USERS))
            if (SSO_ROLE, user) not in named:
                named.add((SSO_ROLE, user))
                session = _identity_center(scenario, number, user, at)
                for use in range(draw(st.integers(1, 3))):
                    _use(scenario, number, use, session, at + 1 + use * 3)
                continue
        parents = [s for s in scenario.sessions if s.created <= at]
        chained = bool(parents) and draw(st.booleans())
        user = None
        if chained:
            parent = draw(st.sampled_from(parents))
            caller, caller_account = parent.identity(), parent.account
            source_identity = parent.source_identity  # set once, carried by every hop
        else:
            user = draw(st.sampled_from(USERS))
            caller, caller_account = _user(user), HOME
            source_identity = None
            choice = draw(st.integers(0, 9))
            if choice == 0:
                source_identity = f"{user}@example.com"
            elif choice == 1:
                source_identity = draw(st.sampled_from(VICTIMS))
        role = draw(st.sampled_from(ROLES))
        denied = draw(st.integers(0, 9)) == 0
        # Another person's name as the session name. Two sessions of one role and one name
        # created in the same second would be one console group: kept apart here.
        session_name = draw(st.sampled_from((None, None, *VICTIMS)))
        if session_name is not None:
            if (role[0], session_name) in named:
                session_name = None
            else:
                named.add((role[0], session_name))
        if role[0] == STRICT and at >= STRICT_SINCE:
            # IAM enforces the rule: a user's session is named after them, or denied (and
            # one such session per user, for the same reason as above).
            denied = denied or user is None or session_name is not None
            denied = denied or (STRICT, user or "") in named
            if not denied:
                named.add((STRICT, user or ""))
        session = _assume(
            scenario,
            number,
            caller,
            caller_account,
            role,
            at,
            denied,
            source_identity,
            user if role[0] == STRICT and at >= STRICT_SINCE else session_name,
        )
        if session is None:
            continue
        for use in range(draw(st.integers(1, 3))):
            _use(scenario, number, use, session, at + 1 + use * 3)
    for number in range(draw(st.integers(0, 2))):  # federation tokens of IAM users
        _federation(scenario, number, draw(st.sampled_from(USERS)), draw(st.integers(0, 20)))
    for orphan in range(draw(st.integers(0, 2))):  # keys issued before the trail begins
        role = draw(st.sampled_from(("Ops", LOOK_ALIKE)))
        session = Session(f"ASIAOLD{orphan:09d}", role, HOME, f"old{orphan}", -600)
        if role == LOOK_ALIKE and (role, VICTIMS[0]) not in named:
            named.add((role, VICTIMS[0]))
            session.name = VICTIMS[0]
        scenario.add(
            {
                "eventVersion": "1.08",
                "eventID": f"orphan-{orphan}",
                "eventName": "PutObject",
                "eventSource": "s3.amazonaws.com",
                "eventTime": _time(draw(st.integers(0, 20))),
                "awsRegion": "eu-west-1",
                "userIdentity": session.identity(),
                "recipientAccountId": HOME,
                "eventType": "AwsApiCall",
            }
        )
    return scenario


@st.composite
def deliveries(draw: st.DrawFn, scenario: Scenario) -> list[list[list[dict[str, Any]]]]:
    """The records in files (some delivered twice), the files in any order, in pulls."""
    records = scenario.records
    files = draw(st.integers(1, min(6, len(records))))
    placed: list[list[dict[str, Any]]] = [[] for _ in range(files)]
    for record in records:
        placed[draw(st.integers(0, files - 1))].append(record)
        if draw(st.integers(0, 11)) == 0:  # a duplicate, in any file
            placed[draw(st.integers(0, files - 1))].append(record)
    order = draw(st.permutations(range(files)))
    ordered = [placed[i] for i in order if placed[i]]
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(ordered) - 1)), max_size=2))))
    pulls, start = [], 0
    for cut in [*cuts, len(ordered)]:
        if cut > start:
            pulls.append(ordered[start:cut])
            start = cut
    return pulls


def _victim_named(outcome: Any) -> bool:
    origin = outcome.origin
    return origin is not None and origin.user_name in VICTIMS


def _presented_as_verified(outcome: Any) -> bool:
    """A victim's name shown as a verified identity. The posture scan's verdict of now may
    vouch for ``Strict`` before its opening change is read (``enforced_session_name``):
    that is the limit the issuance, once read, corrects."""
    return (
        _victim_named(outcome)
        and outcome.evidence is not resolution.Evidence.CLAIMED
        and outcome.method is not resolution.Method.ENFORCED_SESSION_NAME
    )


def _identity(outcome: Any) -> tuple[Any, ...]:
    """Everything a resolution says but when it was given (``held``, ``reason``)."""
    named = outcome.to_json()
    named.pop("held", None)
    named.pop("reason", None)
    return tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in named.items()))


Emitted = dict[str, list[tuple[int, tuple[Any, ...]]]]


def _origin_is_victim(named: tuple[Any, ...]) -> bool:
    origin = json.loads(dict(named)["origin"])
    return bool(origin) and origin.get("userName") in VICTIMS


def _read(pulls: list[list[list[dict[str, Any]]]], fast: bool) -> Emitted:
    """Each pull: a resolver loaded from the stored index, one batch per file, saved. An
    event named by a provisional method is named, at the end, as its pipeline would
    re-raise it: by ``attribution_of`` its key, where its issuances are all known then."""
    the_decoder = decoder(fast)
    stored: Any = None
    emitted: Emitted = {}
    provisional: list[tuple[str, int, str]] = []  # event id, its place, session key
    for number, pull in enumerate(pulls):
        the_resolver, _ = resolver.IdentityResolver.load(
            stored, policy_enforces=_policy_enforces, role_enforces=_role_enforces
        )
        results = []
        for index, records in enumerate(pull):
            payload = json.dumps({"Records": records}).encode()
            decoded = the_decoder.decode_object(payload, name=f"pull{number}/file{index}.json")
            assert not decoded.errors
            results.append(the_resolver.resolve(decoded.events))
        if number == len(pulls) - 1:
            results.append(the_resolver.drain())
        storage: dict[str, Any] = {}
        _, overflow = the_resolver.save(storage)
        assert not overflow.events  # the index's budget is far from reached
        stored = json.loads(json.dumps(storage["index"]))
        for result in results:
            for event, outcome in zip(result.events, result.resolutions, strict=True):
                assert not _presented_as_verified(outcome), (event.eventID, outcome.to_json())
                outcomes = emitted.setdefault(event.eventID, [])
                key = outcome.access_key_id
                if outcome.method in resolution.PROVISIONAL_METHODS and key:
                    provisional.append((event.eventID, len(outcomes), key))
                outcomes.append((number, _identity(outcome)))
        last = the_resolver
    for event_id, place, key in provisional:
        found = attribution_of(last, key)
        if found is not None:
            assert not _victim_named(found)
            emitted[event_id][place] = (emitted[event_id][place][0], _identity(found))
    return emitted


@pytest.mark.parametrize(
    "fast",
    [
        pytest.param(
            True, id="fast", marks=pytest.mark.skipif(not FAST_AVAILABLE, reason="no msgspec")
        ),
        pytest.param(False, id="stdlib"),
    ],
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_who_is_named_does_not_depend_on_reading_order_or_pulls(
    fast: bool, data: st.DataObject
) -> None:
    scenario = data.draw(scenarios())
    in_order = sorted(scenario.records, key=lambda r: (r["eventTime"], r["eventID"]))
    reference = {k: v[0][1] for k, v in _read([[in_order]], fast).items()}
    # Every record is emitted once, except the role account's copy of a cross-account call.
    copies = {r["eventID"] for r in scenario.records if r["eventID"].endswith("-role-account")}
    assert {r["eventID"] for r in scenario.records} - copies <= set(reference)

    # Every victim's name is a claim whose issuance is in the trail: it never stays.
    named_victims = {k: v for k, v in reference.items() if _origin_is_victim(v)}
    assert named_victims == {}

    pulls = data.draw(deliveries(scenario))
    shuffled = _read(pulls, fast)

    assert set(shuffled) == set(reference)
    differing = {
        k: (reference[k], named)
        for k, v in shuffled.items()
        for _, named in v
        if named != reference[k]
    }
    assert differing == {}
    twice_in_a_pull = {k: v for k, v in shuffled.items() if len({n for n, _ in v}) < len(v)}
    assert twice_in_a_pull == {}
    delivered = {
        r["eventID"]: sum(r is x for p in pulls for f in p for x in f) for r in scenario.records
    }
    assert all(len(v) <= delivered[k] for k, v in shuffled.items())
