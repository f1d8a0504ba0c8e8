"""The identity cases public data lacks, on project-authored trail files (see their READMEs)."""

from __future__ import annotations

import json

import pytest

from tests.cloudtrail.helpers import (
    FIXTURES,
    Method,
    Status,
    by_event_id,
    decoder,
    decoder_params,
    resolution,
    resolve_paths,
    resolver,
    trail_files,
)


def _only(result: resolver.ResolveResult, event_name: str) -> list[resolution.Resolution]:
    return [
        r
        for e, r in zip(result.events, result.resolutions, strict=True)
        if e.eventName == event_name
    ]


@pytest.mark.parametrize("fast", decoder_params())
def test_cross_account_uses_resolve_to_the_caller_from_either_copy_order(fast: bool) -> None:
    folder = FIXTURES / "cross_account_pair"
    for files in (trail_files([folder]), list(reversed(trail_files([folder])))):
        result = resolve_paths(files, fast=fast, as_given=True)
        uses = _only(result, "DescribeInstances") + _only(result, "PutBucketPolicy")
        assert len(uses) == 4
        for use in uses:
            assert use.status is Status.RESOLVED
            assert use.origin is not None
            assert use.origin.arn == "arn:aws:iam::111111111111:user/alice"
            assert use.role_arn == "arn:aws:iam::222222222222:role/CrossAccountAdmin"


def test_the_role_account_copy_resolves_as_the_callers_copy() -> None:
    result = resolve_paths([FIXTURES / "cross_account_pair"])
    copies = [
        r
        for e, r in zip(result.events, result.resolutions, strict=True)
        if e.userIdentity is not None and e.userIdentity.type == "AWSAccount"
    ]
    (copy,) = copies
    assert copy.method is Method.SHARED_EVENT
    assert copy.origin is not None and copy.origin.user_name == "alice"
    assert len(result.assumptions) == 1, "one check per call, from the caller's copy"
    assert result.assumptions[0].caller_user_name == "alice"


def test_uses_wait_while_only_the_role_account_copy_is_known() -> None:
    folder = FIXTURES / "cross_account_pair"
    role_file = next(p for p in trail_files([folder]) if "roleaccount" in p.name)
    the_resolver = resolver.IdentityResolver()
    events = decoder(False).decode_object(role_file.read_bytes(), name="r").events
    assert the_resolver.resolve(events).events == []
    drained = the_resolver.drain()
    uses = [
        r
        for e, r in zip(drained.events, drained.resolutions, strict=True)
        if e.eventName != "AssumeRole"
    ]
    assert {r.status for r in uses} == {Status.UNRESOLVED}
    assert all(r.origin is not None and r.origin.type == "AWSAccount" for r in uses)
    assert all("only the role account's copy" in (r.reason or "") for r in uses)


@pytest.mark.parametrize("fast", decoder_params())
def test_a_three_hop_chain_across_two_accounts_resolves_to_its_origin(fast: bool) -> None:
    result = resolve_paths([FIXTURES / "three_hop_chain"], fast=fast)
    uses = _only(result, "ListRoles") + _only(result, "AttachRolePolicy")
    assert len(uses) == 4
    for use in uses:
        assert use.origin is not None
        assert use.origin.arn == "arn:aws:iam::111111111111:user/bob"
        assert [link.role_arn for link in use.chain] == [
            "arn:aws:iam::111111111111:role/jump/JumpRole",
            "arn:aws:iam::222222222222:role/DeployRole",
            "arn:aws:iam::222222222222:role/ops/BreakGlass",
        ]
        assert [link.access_key_id for link in use.chain] == [
            "ASIAEXAMPLECHAIN0001",
            "ASIAEXAMPLECHAIN0002",
            "ASIAEXAMPLECHAIN0003",
        ]
        assert use.held, "the uses arrived before the outer hops"


def test_chained_assume_roles_are_checked_against_the_chains_origin() -> None:
    result = resolve_paths([FIXTURES / "three_hop_chain"])
    checks = {a.role_arn: a for a in result.assumptions}
    hop3 = checks["arn:aws:iam::222222222222:role/ops/BreakGlass"]
    assert hop3.caller_user_name == "bob"
    assert hop3.session_name == "bg-1234"
    assert hop3.name_matches_caller is False


@pytest.mark.parametrize("fast", decoder_params())
def test_source_identity_names_the_user_before_any_issuance_arrives(fast: bool) -> None:
    result = resolve_paths([FIXTURES / "source_identity"], fast=fast)
    uses = _only(result, "GetObject")
    assert len(uses) == 3
    for use in uses:
        assert use.method is Method.SOURCE_IDENTITY
        assert use.origin is not None and use.origin.user_name == "carol"
        assert not use.held


def test_with_the_chain_known_the_issuances_name_the_origin_and_carry_the_source_identity() -> None:
    folder = FIXTURES / "source_identity"
    result = resolve_paths(reversed(trail_files([folder])), as_given=True)
    (use, *_) = _only(result, "GetObject")
    assert use.method is Method.FEDERATION
    assert use.origin is not None
    assert use.origin.type == "SAMLUser"
    assert use.origin.user_name == "carol@example.com"
    assert use.source_identity == "carol"
    assert [link.role_arn for link in use.chain] == [
        "arn:aws:iam::111111111111:role/SamlAdmins",
        "arn:aws:iam::222222222222:role/DataReader",
    ]


@pytest.mark.parametrize("fast", decoder_params())
def test_identity_center_sessions_resolve_to_the_identity_center_user(fast: bool) -> None:
    result = resolve_paths([FIXTURES / "identity_center"], fast=fast)
    permission_set = _only(result, "RunInstances")
    assert {r.method for r in permission_set} == {Method.IDENTITY_CENTER_SESSION}
    assert {r.origin.user_name for r in permission_set if r.origin} == {"dave@example.com"}
    for name in ("GetObject", "Chat"):
        (on_behalf,) = _only(result, name)
        assert on_behalf.method is Method.ON_BEHALF_OF
        assert on_behalf.origin is not None
        assert on_behalf.origin.user_name == "94482488-3041-7026-18f3-be45837cd0e4"
        assert on_behalf.origin.provider == (
            "arn:aws:identitystore::111111111111:identitystore/d-9067642ac7"
        )


@pytest.mark.parametrize("fast", decoder_params())
def test_console_requests_after_a_role_switch_resolve_to_the_switching_user(fast: bool) -> None:
    result = resolve_paths([FIXTURES / "console_role_switch"], fast=fast)
    assert len(result.events) == 5
    for event, outcome in zip(result.events, result.resolutions, strict=True):
        assert outcome.method is Method.CONSOLE_SESSION, event.eventName
        assert outcome.origin is not None
        assert outcome.origin.arn == "arn:aws:iam::111111111111:user/erin"
        assert outcome.role_arn == "arn:aws:iam::222222222222:role/Operator"
    early = by_event_id(result)["describe-0000-4000-8000-000000000047"]
    assert early.held, "delivered before the SwitchRole record"


def test_a_denied_assume_role_issues_nothing_and_is_reported_with_its_session_name() -> None:
    result = resolve_paths([FIXTURES / "failed_assume_role"])
    denied = [a for a in result.assumptions if a.denied]
    assert len(denied) == 2
    named = [a for a in denied if a.session_name is not None]
    assert named[0].session_name == "admin"
    assert named[0].caller_user_name == "frank"
    assert named[0].name_matches_caller is False
    assert all(a.issued_key is None and a.error_code == "AccessDenied" for a in denied)


def test_a_session_name_other_than_the_callers_is_flagged() -> None:
    result = resolve_paths([FIXTURES / "failed_assume_role"])
    granted = {a.session_name: a for a in result.assumptions if not a.denied}
    assert granted["grace"].name_matches_caller is False
    assert granted["frank"].name_matches_caller is True
    (use,) = _only(result, "GetObject")
    assert use.origin is not None and use.origin.user_name == "frank"
    assert use.session_name == "grace"


def test_a_key_used_before_its_issuance_is_held_across_pulls_with_the_index_in_storage() -> None:
    pull1, pull2 = trail_files([FIXTURES / "key_before_issuance_two_pulls"])
    storage: dict[str, object] = {}

    first = resolver.IdentityResolver()
    result1 = first.resolve(decoder(False).decode_object(pull1.read_bytes(), name="p1").events)
    assert result1.events == [], "every use waits for its issuance"
    report, overflow = first.save(storage)
    assert report.held == 4 and overflow.events == []
    storage = json.loads(json.dumps(storage))  # CE stores it as JSON

    second, loaded = resolver.IdentityResolver.load(storage["index"])
    assert loaded.held == 4 and loaded.skipped == 0
    result2 = second.resolve(decoder(False).decode_object(pull2.read_bytes(), name="p2").events)
    released = [r for e, r in zip(result2.events, result2.resolutions, strict=True) if r.held]
    assert len(released) == 3
    assert all(r.origin is not None and r.origin.user_name == "gina" for r in released)
    assert all(r.method is Method.ISSUING_EVENT for r in released)
    later = by_event_id(result2)["getquery-0000-4000-8000-000000000075"]
    assert not later.held and later.origin is not None and later.origin.user_name == "gina"

    expired = second.expire_held(now=4_102_444_800.0)
    (orphan,) = expired.resolutions
    assert orphan.status is Status.UNRESOLVED and orphan.method is Method.NO_ISSUANCE
    (unattributed,) = expired.unattributed
    assert unattributed.access_key_id == "ASIAEXAMPLEORPHAN001"
    assert unattributed.role_arn == "arn:aws:iam::111111111111:role/analytics/Analyst"


@pytest.mark.parametrize("fast", decoder_params())
def test_duplicates_are_dropped_and_updated_data_addenda_kept(fast: bool) -> None:
    the_resolver = resolver.IdentityResolver()
    result = resolve_paths([FIXTURES / "duplicates_and_addendum"], fast=fast, resolve=the_resolver)
    names = sorted(e.eventName for e in result.events)
    assert names == ["ScheduleKeyDeletion", "ScheduleKeyDeletion", "TerminateInstances"]
    updated = [e for e in result.events if e.addendum is not None]
    assert len(updated) == 1
    assert updated[0].addendum is not None and updated[0].addendum.reason == "UPDATED_DATA"
    assert the_resolver.stats.duplicates == 3
    assert the_resolver.stats.addendum_updates == 1
