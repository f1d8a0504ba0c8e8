"""Resolver rules, one behaviour per test, on small hand-built records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.cloudtrail.helpers import REPO_ROOT, Method, Status, event, resolver

ACCOUNT = "111111111111"
USER = {
    "type": "IAMUser",
    "principalId": "AIDAUSER",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/ivy",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAIVY",
    "userName": "ivy",
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def assume(
    key: str | None,
    role: str,
    session: str,
    *,
    caller: dict[str, Any] = USER,
    at: str = "2026-11-01T10:00:00Z",
    event_id: str | None = None,
    error: bool = False,
    expires: str = "Nov 1, 2026, 11:00:00 AM",
) -> Any:
    fields: dict[str, Any] = {
        "eventID": event_id or f"assume-{key or session}",
        "eventName": "AssumeRole",
        "eventSource": "sts.amazonaws.com",
        "eventTime": at,
        "userIdentity": caller,
        "requestParameters": {"roleArn": role_arn(role), "roleSessionName": session},
        "recipientAccountId": ACCOUNT,
    }
    if error:
        fields["errorCode"] = "AccessDenied"
    else:
        fields["responseElements"] = {
            "credentials": {"accessKeyId": key, "expiration": expires},
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
                "assumedRoleId": f"AROA{role.upper()}:{session}",
            },
        }
    return event(**fields)


def session_identity(
    key: str, role: str, session: str, created: str = "2026-11-01T10:00:00Z", **extra: Any
) -> dict[str, Any]:
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"AROA{role.upper()}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": role_arn(role), "userName": role},
            "attributes": {"creationDate": created},
        },
    }
    identity.update(extra)
    return identity


def use(
    key: str, role: str, session: str, *, at: str = "2026-11-01T10:05:00Z", **extra: Any
) -> Any:
    return event(
        eventID=f"use-{key}-{at}",
        eventName="GetObject",
        eventSource="s3.amazonaws.com",
        eventTime=at,
        userIdentity=session_identity(key, role, session, **extra),
    )


def create_role(role: str, document: str, at: str) -> Any:
    return event(
        eventID=f"create-{role}-{at}",
        eventName="CreateRole",
        eventSource="iam.amazonaws.com",
        eventTime=at,
        recipientAccountId=ACCOUNT,
        userIdentity=USER,
        requestParameters={"roleName": role, "assumeRolePolicyDocument": document},
    )


def update_policy(role: str, document: str, at: str) -> Any:
    return event(
        eventID=f"update-{role}-{at}",
        eventName="UpdateAssumeRolePolicy",
        eventSource="iam.amazonaws.com",
        eventTime=at,
        recipientAccountId=ACCOUNT,
        userIdentity=USER,
        requestParameters={"roleName": role, "policyDocument": document},
    )


def enforces(document: str) -> bool | None:
    """Stand-in for the trust evaluator: the test documents say what they do."""
    return {"ENFORCED": True, "OPEN": False}.get(document)


def resolve_all(*batches: list[Any], **options: Any) -> resolver.ResolveResult:
    the_resolver = resolver.IdentityResolver(**options)
    out = resolver.ResolveResult()
    for batch in batches:
        out.extend(the_resolver.resolve(batch))
    out.extend(the_resolver.drain())
    return out


def test_an_issued_key_resolves_to_its_issuer_in_any_order_inside_a_batch() -> None:
    result = resolve_all([use("ASIA1", "Dev", "x"), assume("ASIA1", "Dev", "x")])
    outcome = result.resolutions[0]
    assert outcome.origin is not None and outcome.origin.user_name == "ivy"
    assert outcome.method is Method.ISSUING_EVENT
    assert not outcome.held


def test_a_failed_assume_role_issues_nothing() -> None:
    the_resolver = resolver.IdentityResolver()
    the_resolver.resolve([assume("ASIAFAIL", "Dev", "x", error=True)])
    assert the_resolver.index.sessions == {}


def test_an_issuance_chain_that_loops_is_reported_not_followed_forever() -> None:
    a = session_identity("ASIAA", "RoleA", "a")
    b = session_identity("ASIAB", "RoleB", "b")
    result = resolve_all(
        [
            assume("ASIAA", "RoleA", "a", caller=b, event_id="a"),
            assume("ASIAB", "RoleB", "b", caller=a, event_id="b"),
            use("ASIAA", "RoleA", "a"),
        ]
    )
    outcome = result.resolutions[-1]
    assert outcome.status is Status.UNRESOLVED
    assert outcome.method is Method.CHAIN_LOOP


def test_chains_deeper_than_the_limit_are_not_walked() -> None:
    records = [assume("ASIA0", "R0", "s0")]
    for depth in range(1, 6):
        caller = session_identity(f"ASIA{depth - 1}", f"R{depth - 1}", f"s{depth - 1}")
        records.append(assume(f"ASIA{depth}", f"R{depth}", f"s{depth}", caller=caller))
    records.append(use("ASIA5", "R5", "s5"))
    deep = resolve_all(records, settings=resolver.ResolverSettings(max_chain_depth=4))
    assert deep.resolutions[-1].method is Method.CHAIN_LOOP
    fine = resolve_all(records)
    assert fine.resolutions[-1].origin is not None
    assert len(fine.resolutions[-1].chain) == 6


def tick(at: str) -> Any:
    """An IAM user's call: it moves event time (the watermark) on, nothing else."""
    return event(eventID=f"tick-{at}", eventTime=at, userIdentity=USER)


def test_a_held_event_is_given_up_when_event_time_passes_its_deadline() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    assert the_resolver.resolve([use("ASIAX", "Dev", "x", at="2026-11-01T10:00:00Z")]).events == []
    assert len(the_resolver.resolve([tick("2026-11-01T10:09:59Z")]).events) == 1
    later = the_resolver.resolve([tick("2026-11-01T10:10:00Z")])
    given_up = [r for r in later.resolutions if r.method is Method.NO_ISSUANCE]
    assert len(given_up) == 1 and given_up[0].held
    assert the_resolver.stats.expired == 1


def test_expire_held_uses_the_time_it_is_given_not_a_clock() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    the_resolver.resolve([use("ASIAX", "Dev", "x", at="2026-11-01T10:00:00Z")])
    assert the_resolver.expire_held(now=1_700_000_000.0).events == []
    assert len(the_resolver.expire_held(now=1_793_527_800.0 + 601).events) == 1


TEN = 1_793_527_200.0  # 2026-11-01T10:00:00Z


def test_the_expiry_ceiling_keeps_a_held_event_waiting_until_what_is_unread_is_read() -> None:
    """Event time beyond the deadline does not give a hold up while an older trail object is
    known but unread (``hold_expiry_ceiling``): its issuance may be in it."""
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    the_resolver.hold_expiry_ceiling = TEN + 300  # an object of 10:05 not read
    assert the_resolver.resolve([use("ASIAX", "Dev", "x", at="2026-11-01T10:00:00Z")]).events == []
    later = the_resolver.resolve([tick("2026-11-01T12:00:00Z")])  # deadline 10:10 passed
    assert [r.method for r in later.resolutions] == [Method.DIRECT]
    assert the_resolver.expire_held(now=TEN + 7200).events == []
    assert the_resolver.stats.expired == 0 and the_resolver.holds.held_count == 1
    # the object is read: the issuance releases the held use, resolved
    released = the_resolver.resolve([assume("ASIAX", "Dev", "x", at="2026-11-01T09:59:00Z")])
    use_of_key = [r for e, r in released.resolved if e.eventName != "AssumeRole"]
    assert [(r.status, r.method, r.held) for r in use_of_key] == [
        (Status.RESOLVED, Method.ISSUING_EVENT, True)
    ]
    assert use_of_key[0].origin is not None and use_of_key[0].origin.user_name == "ivy"


def test_without_the_ceiling_a_held_event_expires_by_event_time_again() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    the_resolver.hold_expiry_ceiling = TEN + 300
    the_resolver.resolve([use("ASIAX", "Dev", "x", at="2026-11-01T10:00:00Z")])
    assert len(the_resolver.resolve([tick("2026-11-01T12:00:00Z")]).events) == 1
    # a ceiling past the deadline does not stop expiry at the deadline
    the_resolver.hold_expiry_ceiling = TEN + 3600
    given_up = the_resolver.resolve([tick("2026-11-01T12:00:01Z")])
    assert [r.method for r in given_up.resolutions].count(Method.NO_ISSUANCE) == 1
    the_resolver.resolve([use("ASIAY", "Dev", "y", at="2026-11-01T12:00:00Z")])
    the_resolver.hold_expiry_ceiling = None  # the object was read (or given up)
    expired = the_resolver.resolve([tick("2026-11-01T12:10:00Z")])
    assert [r.method for r in expired.resolutions].count(Method.NO_ISSUANCE) == 1
    assert the_resolver.stats.expired == 2


def test_the_expiry_ceiling_does_not_lift_the_size_limit_or_stop_a_drain() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(max_held=1))
    the_resolver.hold_expiry_ceiling = 0.0
    result = the_resolver.resolve(
        [use(f"ASIA{i}", "Dev", f"s{i}", at=f"2026-11-01T10:0{i}:00Z") for i in range(3)]
    )
    assert len(result.events) == 2 and the_resolver.stats.overflowed == 2
    assert len(the_resolver.drain().events) == 1


def test_a_full_hold_emits_its_oldest_events_unresolved() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(max_held=2))
    result = the_resolver.resolve(
        [use(f"ASIA{i}", "Dev", f"s{i}", at=f"2026-11-01T10:0{i}:00Z") for i in range(4)]
    )
    assert len(result.events) == 2
    assert {r.reason for r in result.resolutions} == {
        "the hold was full (waited for the issuance of ASIA0 or a session of AROADEV:s0 "
        "created 2026-11-01T10:00:00Z)",
        "the hold was full (waited for the issuance of ASIA1 or a session of AROADEV:s1 "
        "created 2026-11-01T10:00:00Z)",
    }
    assert the_resolver.holds.held_count == 2
    assert the_resolver.stats.overflowed == 2


def test_events_of_one_waiting_session_are_released_together() -> None:
    the_resolver = resolver.IdentityResolver()
    waiting = [use("ASIAW", "Dev", "w", at=f"2026-11-01T10:0{i}:00Z") for i in range(5)]
    assert the_resolver.resolve(waiting).events == []
    result = the_resolver.resolve([assume("ASIAW", "Dev", "w")])
    released = [r for r in result.resolutions if r.held]
    assert len(released) == 5
    assert len({id(r) for r in released}) == 1, "one resolution object per session"


def test_memory_for_event_ids_is_bounded_by_the_dedupe_window() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(dedupe_window=100))
    for batch in range(20):
        the_resolver.resolve(
            [event(eventID=f"e-{batch}-{i}", userIdentity=USER) for i in range(30)]
        )
    assert len(the_resolver._seen) <= 130


def test_a_duplicate_inside_one_batch_is_dropped() -> None:
    twice = event(eventID="same", userIdentity=USER)
    result = resolve_all([twice, twice])
    assert len(result.events) == 1


def test_a_session_name_is_trusted_where_the_role_enforced_the_rule_when_it_was_created() -> None:
    result = resolve_all(
        [
            create_role("Named", "ENFORCED", "2026-11-01T09:00:00Z"),
            use("ASIAN", "Named", "ivy", at="2026-11-01T10:05:00Z"),
        ],
        policy_enforces=enforces,
    )
    outcome = result.resolutions[-1]
    assert outcome.method is Method.ENFORCED_SESSION_NAME
    assert outcome.origin is not None
    assert outcome.origin.type == "IAMUser" and outcome.origin.user_name == "ivy"
    assert not outcome.held


def test_a_session_created_before_the_role_enforced_the_rule_is_not_trusted() -> None:
    result = resolve_all(
        [
            create_role("Later", "OPEN", "2026-11-01T08:00:00Z"),
            update_policy("Later", "ENFORCED", "2026-11-01T10:30:00Z"),
            use("ASIAL", "Later", "ivy", created="2026-11-01T10:00:00Z"),
        ],
        policy_enforces=enforces,
    )
    assert result.resolutions[-1].method is Method.NO_ISSUANCE


def test_a_trust_change_that_drops_the_rule_stops_trusting_later_sessions() -> None:
    result = resolve_all(
        [
            create_role("Weak", "ENFORCED", "2026-11-01T08:00:00Z"),
            update_policy("Weak", "OPEN", "2026-11-01T09:00:00Z"),
            use("ASIAW2", "Weak", "ivy", created="2026-11-01T10:00:00Z"),
        ],
        policy_enforces=enforces,
    )
    assert result.resolutions[-1].method is Method.NO_ISSUANCE


def test_without_a_recorded_change_the_injected_role_verdict_decides() -> None:
    asked: list[tuple[str, float]] = []

    def role_enforces(arn: str, at: float) -> bool | None:
        asked.append((arn, at))
        return True

    result = resolve_all([use("ASIAR", "Posture", "ivy")], role_enforces=role_enforces)
    assert result.resolutions[0].method is Method.ENFORCED_SESSION_NAME
    assert asked == [(role_arn("Posture"), 1_793_527_200.0)]  # the session's creationDate


def test_the_assume_role_check_says_whether_the_role_enforced_the_rule_then() -> None:
    result = resolve_all(
        [
            create_role("Checked", "ENFORCED", "2026-11-01T09:00:00Z"),
            assume("ASIAC", "Checked", "ivy", at="2026-11-01T10:00:00Z"),
            assume("ASIAD", "Unknown", "someone-else", at="2026-11-01T10:00:01Z"),
        ],
        policy_enforces=enforces,
    )
    checks = {a.role_arn: a for a in result.assumptions}
    assert checks[role_arn("Checked")].enforced is True
    assert checks[role_arn("Checked")].name_matches_caller is True
    assert checks[role_arn("Unknown")].enforced is None
    assert checks[role_arn("Unknown")].name_matches_caller is False


def test_aws_service_identities_and_service_events_are_workloads() -> None:
    result = resolve_all(
        [
            event(
                eventID="svc", userIdentity={"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
            ),
            event(
                eventID="svc-event", eventType="AwsServiceEvent", eventSource="kms.amazonaws.com"
            ),
            event(
                eventID="slr",
                userIdentity={
                    "type": "AssumedRole",
                    "invokedBy": "rds.amazonaws.com",
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForRDS/x",
                    "sessionContext": {
                        "sessionIssuer": {
                            "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
                            "rds.amazonaws.com/AWSServiceRoleForRDS"
                        }
                    },
                },
            ),
        ]
    )
    assert [r.status for r in result.resolutions] == [Status.WORKLOAD] * 3
    assert result.resolutions[1].origin is not None
    assert result.resolutions[1].origin.user_name == "kms.amazonaws.com"


def test_a_record_without_identity_that_is_no_service_event_is_unresolved() -> None:
    (outcome,) = resolve_all([event(eventID="bare")]).resolutions
    assert outcome.status is Status.UNRESOLVED and outcome.method is Method.NO_IDENTITY


@pytest.mark.parametrize(
    ("subject", "provider", "status"),
    [
        (
            "system:serviceaccount:payments:api",
            "oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            Status.WORKLOAD,
        ),
        (
            "repo:org/app:ref:refs/heads/main",
            "token.actions.githubusercontent.com",
            Status.WORKLOAD,
        ),
        ("eu-west-1:0f5e-user", "cognito-identity.amazonaws.com", Status.RESOLVED),
    ],
)
def test_web_identities_of_machines_are_workloads_and_of_people_resolved(
    subject: str, provider: str, status: Status
) -> None:
    issuance = event(
        eventID="web",
        eventName="AssumeRoleWithWebIdentity",
        eventSource="sts.amazonaws.com",
        userIdentity={"type": "WebIdentityUser", "userName": subject, "identityProvider": provider},
        requestParameters={"roleArn": role_arn("Web"), "roleSessionName": "s"},
        responseElements={
            "credentials": {"accessKeyId": "ASIAWEB", "expiration": "2026-11-01T11:00:00Z"},
            "subjectFromWebIdentityToken": subject,
            "provider": provider,
        },
    )
    result = resolve_all([issuance, use("ASIAWEB", "Web", "s")])
    outcome = result.resolutions[-1]
    assert outcome.status is status
    assert outcome.method is Method.FEDERATION
    assert outcome.origin is not None and outcome.origin.user_name == subject


def test_a_federation_token_session_names_its_user_even_without_the_issuance() -> None:
    federated = event(
        eventID="fed",
        userIdentity={
            "type": "FederatedUser",
            "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/tool",
            "accessKeyId": "ASIAFED",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "IAMUser",
                    "arn": f"arn:aws:iam::{ACCOUNT}:user/ivy",
                    "userName": "ivy",
                    "accountId": ACCOUNT,
                }
            },
        },
    )
    (outcome,) = resolve_all([federated]).resolutions
    assert outcome.method is Method.FEDERATION
    assert outcome.origin is not None and outcome.origin.arn == f"arn:aws:iam::{ACCOUNT}:user/ivy"


def test_a_session_event_without_key_or_facts_is_unresolved_at_once() -> None:
    bare = event(
        eventID="bare-session",
        userIdentity={"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s"},
    )
    (outcome,) = resolve_all([bare]).resolutions
    assert outcome.method is Method.NO_ISSUANCE and not outcome.held


def test_sessions_expired_beyond_the_retention_leave_the_index() -> None:
    the_resolver = resolver.IdentityResolver(
        settings=resolver.ResolverSettings(session_retention_seconds=60)
    )
    the_resolver.resolve([assume("ASIAOLD", "Dev", "x")])  # expires 11:00
    assert "ASIAOLD" in the_resolver.index.sessions
    the_resolver.resolve([tick("2026-11-01T11:02:00Z")])
    assert "ASIAOLD" not in the_resolver.index.sessions
    assert the_resolver.stats.sessions_pruned == 1


def test_resolutions_serialise_to_the_cli_shape() -> None:
    (outcome,) = [
        r
        for r in resolve_all([assume("ASIAJ", "Dev", "j"), use("ASIAJ", "Dev", "j")]).resolutions
        if r.chain
    ]
    shape = outcome.to_json()
    assert set(shape) >= {
        "status",
        "origin",
        "method",
        "chain",
        "roleArn",
        "sessionName",
        "accessKeyId",
    }
    assert shape["origin"] == {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/ivy",
        "userName": "ivy",
        "accountId": ACCOUNT,
        "principalId": "AIDAUSER",
    }
    assert shape["chain"] == [
        {
            "roleArn": role_arn("Dev"),
            "sessionName": "j",
            "accessKeyId": "ASIAJ",
            "accountId": ACCOUNT,
        }
    ]


def test_held_sessions_are_released_in_the_order_they_were_held() -> None:
    keys = [f"ASIA{name}" for name in ("Q", "B", "Z", "A", "M", "C", "X", "D")]
    the_resolver = resolver.IdentityResolver()
    held = [
        use(key, "Dev", key.lower(), at=f"2026-11-01T10:0{i}:00Z") for i, key in enumerate(keys)
    ]
    assert the_resolver.resolve(held).events == []
    issued = [assume(key, "Dev", key.lower()) for key in reversed(keys)]
    released = [
        e.eventID for e in the_resolver.resolve(issued).events if e.eventName == "GetObject"
    ]
    assert released == [e.eventID for e in held]


def test_release_order_does_not_depend_on_the_hash_seed() -> None:
    """Held sessions released together come out the same in every process (a pull's alert
    samples depend on it; docs/soak.md finding 3)."""
    script = (
        "from tests.cloudtrail.test_resolver_behaviour import assume, use\n"
        "from tests.cloudtrail.helpers import resolver\n"
        "r = resolver.IdentityResolver()\n"
        "keys = [f'ASIA{i:03d}' for i in range(64)]\n"
        "r.resolve([use(k, 'Dev', k, at='2026-11-01T10:05:00Z') for k in keys])\n"
        "out = r.resolve([assume(k, 'Dev', k) for k in keys])\n"
        "print(','.join(e.eventID for e in out.events))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def _held_chain(session: str) -> Any:
    """A resolver holding a role-chain step (ASIAP assumes Dev as ``session``, issuing ASIAC)
    and a use of ASIAC: the first hop, ASIAP, is unknown."""
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    chained = session_identity("ASIAP", "Ops", "ivy")
    first = the_resolver.resolve(
        [
            assume("ASIAC", "Dev", session, caller=chained, at="2026-11-01T10:01:00Z"),
            use("ASIAC", "Dev", session, at="2026-11-01T10:02:00Z"),
        ]
    )
    assert first.events == []  # held
    return the_resolver


def _given_up_then_late(*later_batches: list[Any]) -> tuple[Any, list[Any]]:
    the_resolver = _held_chain("job")
    expired = the_resolver.resolve([tick("2026-11-01T10:30:00Z")])
    given_up = [r for r in expired.resolutions if r.method is Method.NO_ISSUANCE]
    assert given_up and given_up[0].status is Status.UNRESOLVED
    late: list[Any] = []
    for batch in later_batches:
        late.extend(the_resolver.resolve(batch).late)
    return the_resolver, late


def test_a_session_given_up_is_attributed_when_its_missing_issuance_arrives() -> None:
    _, late = _given_up_then_late([assume("ASIAP", "Ops", "ivy", at="2026-11-01T10:00:00Z")])
    # the chained AssumeRole (signed by ASIAP) and the use of the session it issued
    assert sorted(item.access_key_id for item in late) == ["ASIAC", "ASIAP"]
    (resolution,) = [item.resolution for item in late if item.access_key_id == "ASIAC"]
    assert resolution.origin is not None and resolution.origin.user_name == "ivy"
    assert resolution.method is Method.ISSUING_EVENT
    assert [link.access_key_id for link in resolution.chain] == ["ASIAP", "ASIAC"]


def test_a_late_attribution_survives_saving_and_loading_the_index() -> None:
    the_resolver, late = _given_up_then_late()
    assert late == []
    storage: dict[str, Any] = {}
    the_resolver.save(storage)
    reloaded, report = resolver.IdentityResolver.load(storage["index"])
    assert report.skipped == 0
    result = reloaded.resolve([assume("ASIAP", "Ops", "ivy", at="2026-11-01T10:00:00Z")])
    assert sorted(item.access_key_id for item in result.late) == ["ASIAC", "ASIAP"]


def test_an_unrelated_issuance_attributes_nothing_late() -> None:
    _, late = _given_up_then_late([assume("ASIAQ", "Ops", "ivy", at="2026-11-01T10:00:00Z")])
    assert late == []


def test_an_assume_role_of_a_session_given_up_on_is_judged_when_it_is_attributed() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    chained = session_identity("ASIAP", "Ops", "ivy")
    first = the_resolver.resolve(
        [assume("ASIAC", "Dev", "not-ivy", caller=chained, at="2026-11-01T10:01:00Z")]
    )
    assert first.assumptions == []  # held with its caller's session
    given_up = the_resolver.resolve([tick("2026-11-01T10:30:00Z")])
    assert [c.caller.origin for c in given_up.assumptions] == [None]  # judged blind
    storage: dict[str, Any] = {}
    the_resolver.save(storage)
    reloaded, _ = resolver.IdentityResolver.load(json.loads(json.dumps(storage["index"])))
    late = reloaded.resolve([assume("ASIAP", "Ops", "ivy", at="2026-11-01T10:00:00Z")])
    (check,) = [c for c in late.assumptions if c.session_name == "not-ivy"]
    assert check.caller.origin is not None and check.caller.origin.user_name == "ivy"
    assert check.role_arn == role_arn("Dev") and check.issued_key == "ASIAC"


def test_a_session_cut_by_the_storage_budget_is_still_attributed_after_a_reload() -> None:
    """Held events the index budget cannot keep are given up when the index is saved; that
    they were given up (and the AssumeRole calls they made) must be in what is saved, or
    the next pull cannot attribute them late (the SQS soak lost 7 spoofing alerts so)."""
    the_resolver = _held_chain("not-ivy")
    storage: dict[str, Any] = {}
    report, cut = the_resolver.save(storage, budget_bytes=1700)
    assert report.held_overflow and cut.unattributed  # emitted unresolved at save
    assert storage["index"]["held"] == []
    assert ["ASIAP", "ASIAC"] in [row[:2] for row in storage["index"]["given_up"]]
    reloaded, _ = resolver.IdentityResolver.load(json.loads(json.dumps(storage["index"])))
    late = reloaded.resolve([assume("ASIAP", "Ops", "ivy", at="2026-11-01T10:00:00Z")])
    assert "ASIAP" in {item.access_key_id for item in late.late}
    (check,) = [c for c in late.assumptions if c.session_name == "not-ivy"]
    assert check.caller.origin is not None and check.caller.origin.user_name == "ivy"


def test_what_is_given_up_at_save_stays_within_the_budget() -> None:
    """Kept AssumeRole calls give way (oldest first) when the given-up record would push
    the saved index over its budget; the record of the sessions themselves is kept."""
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=600))
    chained = session_identity("ASIAP", "Ops", "ivy")
    the_resolver.resolve(
        [assume("ASIAC", "Dev", "not-ivy", caller=chained, at="2026-11-01T10:01:00Z")]
    )
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage, budget_bytes=700)
    assert report.held_overflow
    assert report.bytes <= 700
    assert storage["index"]["given_up_checks"] == []
    assert ["ASIAP", "ASIAP"] in [row[:2] for row in storage["index"]["given_up"]]


def held_times(result: Any) -> list[str]:
    """Event times of the events a call emitted after holding them."""
    pairs = zip(result.events, result.resolutions, strict=True)
    return [event.eventTime for event, resolution in pairs if resolution.held]


@pytest.mark.parametrize(
    "order",
    [(0, 1, 2), (2, 1, 0), (1, 2, 0)],
    ids=["oldest-first", "newest-first", "middle-first"],
)
def test_each_held_event_waits_its_own_hold_whatever_was_read_first(
    order: tuple[int, int, int],
) -> None:
    """Which events of a never-issued key are given up depends only on their times and the
    watermark: a session's first-read event no longer sets the deadline of all of them (the
    SQS soak read the same files in another order and counted other events; finding 14)."""
    times = ("2026-11-01T10:00:00Z", "2026-11-01T10:20:00Z", "2026-11-01T10:40:00Z")
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=3600))
    for position in order:
        assert the_resolver.resolve([use("ASIAOLD", "Dev", "job", at=times[position])]).events == []
    given_up = the_resolver.resolve([tick("2026-11-01T11:25:00Z")])
    assert sorted(held_times(given_up)) == list(times[:2])  # 10:40 + 1 h is still ahead of 11:25
    assert the_resolver.holds.held_count == 1
    rest = the_resolver.resolve([tick("2026-11-01T11:41:00Z")])
    assert held_times(rest) == [times[2]]


def test_events_given_up_apart_are_attributed_together_when_the_issuance_comes() -> None:
    the_resolver = resolver.IdentityResolver(settings=resolver.ResolverSettings(hold_seconds=3600))
    the_resolver.resolve([use("ASIAK", "Dev", "ivy", at="2026-11-01T10:40:00Z")])
    the_resolver.resolve([use("ASIAK", "Dev", "ivy", at="2026-11-01T10:00:00Z")])
    first = the_resolver.resolve([tick("2026-11-01T11:10:00Z")])  # 10:00 given up, 10:40 held
    assert held_times(first) == ["2026-11-01T10:00:00Z"]
    late = the_resolver.resolve([assume("ASIAK", "Dev", "ivy", at="2026-11-01T09:59:00Z")])
    released = [r for r in late.resolutions if r.held]
    assert [r.method for r in released] == [Method.ISSUING_EVENT]  # the 10:40 event
    assert [item.access_key_id for item in late.late] == ["ASIAK"]  # and the 10:00 one


def test_a_chain_step_judged_with_an_enforced_session_name_is_judged_again_by_the_issuance() -> (
    None
):
    """A role-chain step signed by a session named only from its record (the role enforces
    ``${aws:username}``) is judged again when the session's issuance is read after it: the
    check then names the caller as an in-order read does (soak finding 19)."""

    def enforces(role: str, _at: float) -> bool:
        return role.endswith("/Enf")

    the_resolver = resolver.IdentityResolver(role_enforces=enforces)
    caller = session_identity("ASIAK", "Enf", "ivy")
    step = assume("ASIAC", "Dev", "not-ivy", caller=caller, at="2026-11-01T10:05:00Z")
    first = the_resolver.resolve([step])
    (blind,) = first.assumptions
    assert blind.caller.method is Method.ENFORCED_SESSION_NAME
    issuance = assume("ASIAK", "Enf", "ivy", at="2026-11-01T10:00:00Z")
    storage: dict[str, Any] = {}
    the_resolver.save(storage)  # the issuance comes in a later pull
    reloaded, _ = resolver.IdentityResolver.load(
        json.loads(json.dumps(storage["index"])), role_enforces=enforces
    )
    later = reloaded.resolve([issuance])
    (judged,) = [c for c in later.assumptions if c.session_name == "not-ivy"]
    assert judged.caller.method is Method.ISSUING_EVENT
    assert judged.caller.origin is not None and judged.caller.origin.user_name == "ivy"
    assert [link.access_key_id for link in judged.caller.chain] == ["ASIAK"]
