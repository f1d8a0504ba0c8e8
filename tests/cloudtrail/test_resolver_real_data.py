"""Acceptance on public trails nobody on this project wrote (Invictus, Stratus Red Team)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cloudtrail.helpers import (
    INVICTUS,
    STRATUS,
    Method,
    Status,
    decoder,
    decoder_params,
    raw_records,
    records_under,
    resolve_paths,
    resolver,
)

BERT_JAN = "arn:aws:iam::123837392027:user/bert-jan"


def _keys_issued(records: list[dict[str, object]], caller: str) -> set[str]:
    """Keys that ``caller`` (a userIdentity arn or invokedBy) obtained by successful AssumeRole,
    read straight from the JSON, independently of the resolver."""
    keys = set()
    for record in records:
        identity = record.get("userIdentity") or {}
        assert isinstance(identity, dict)
        who = identity.get("arn") or identity.get("invokedBy")
        response = record.get("responseElements")
        if record["eventName"] == "AssumeRole" and who == caller and isinstance(response, dict):
            keys.add(response["credentials"]["accessKeyId"])
    return keys


def _key_of(record: dict[str, object]) -> str | None:
    identity = record.get("userIdentity")
    return identity.get("accessKeyId") if isinstance(identity, dict) else None  # type: ignore[return-value]


@pytest.fixture(scope="module", params=decoder_params())
def invictus(request: pytest.FixtureRequest) -> resolver.ResolveResult:
    return resolve_paths([INVICTUS], fast=request.param)


def test_every_event_signed_with_a_key_bert_jan_assumed_resolves_to_bert_jan(
    invictus: resolver.ResolveResult,
) -> None:
    records = records_under(INVICTUS)
    keys = _keys_issued(records, BERT_JAN)
    expected = {r["eventID"] for r in records if _key_of(r) in keys}
    assert len(expected) >= 40
    resolved = {
        e.eventID: r
        for e, r in zip(invictus.events, invictus.resolutions, strict=True)
        if e.eventID in expected
    }
    assert set(resolved) == expected
    for resolution in resolved.values():
        assert resolution.status is Status.RESOLVED
        assert resolution.method is Method.ISSUING_EVENT
        assert resolution.origin is not None
        assert resolution.origin.arn == BERT_JAN
        assert resolution.chain[0].role_arn is not None
        assert resolution.chain[0].role_arn.startswith("arn:aws:iam::123837392027:role/stratus-")


def test_keys_whose_assume_role_is_in_a_later_file_are_held_then_resolved(
    invictus: resolver.ResolveResult,
) -> None:
    # ASIATFQR7NSC2632JLFK is used in a 12:05 file; its AssumeRole is delivered at 12:10.
    late = [
        r
        for e, r in zip(invictus.events, invictus.resolutions, strict=True)
        if e.userIdentity is not None and e.userIdentity.accessKeyId == "ASIATFQR7NSC2632JLFK"
    ]
    assert len(late) == 15
    assert all(r.held and r.origin is not None and r.origin.arn == BERT_JAN for r in late)


def test_ec2_instance_role_keys_resolve_as_workload(invictus: resolver.ResolveResult) -> None:
    records = records_under(INVICTUS)
    keys = _keys_issued(records, "ec2.amazonaws.com")
    assert len(keys) == 4
    used = [
        r
        for e, r in zip(invictus.events, invictus.resolutions, strict=True)
        if e.userIdentity is not None and e.userIdentity.accessKeyId in keys
    ]
    assert len(used) >= 20
    assert all(r.status is Status.WORKLOAD for r in used)
    assert all(r.origin is not None and r.origin.user_name == "ec2.amazonaws.com" for r in used)


def test_no_session_event_in_the_invictus_trail_stays_unresolved(
    invictus: resolver.ResolveResult,
) -> None:
    statuses = {
        r.status
        for e, r in zip(invictus.events, invictus.resolutions, strict=True)
        if e.userIdentity is not None and e.userIdentity.type == "AssumedRole"
    }
    assert statuses == {Status.RESOLVED, Status.WORKLOAD}
    assert len(invictus.events) == 2900


def test_denied_assume_roles_issue_nothing_and_are_reported(
    invictus: resolver.ResolveResult,
) -> None:
    denied = [a for a in invictus.assumptions if a.denied]
    assert len(denied) == 13
    assert {a.caller.origin.arn for a in denied if a.caller.origin} == {BERT_JAN}
    assert all(a.issued_key is None for a in denied)


# Stratus Red Team detonations: (file, IAM user ARN behind the issued keys, issuing call).
STRATUS_CASES = [
    (
        "aws.credential-access.ec2-get-password-data.json",
        "arn:aws:iam::457448411975:user/christophe",
        "AssumeRole",
    ),
    (
        "aws.discovery.ec2-download-user-data.json",
        "arn:aws:iam::321848314756:user/christophe",
        "AssumeRole",
    ),
    (
        "aws.defense-evasion.organizations-leave.json",
        "arn:aws:iam::307578594326:user/christophe",
        "AssumeRole",
    ),
    (
        "aws.execution.ec2-launch-unusual-instances.json",
        "arn:aws:iam::900138736586:user/christophe",
        "AssumeRole",
    ),
    (
        "aws.persistence.sts-federation-token.json",
        "arn:aws:iam::742491224508:user/stratus-red-team-user-federation-user",
        "GetFederationToken",
    ),
]


@pytest.mark.parametrize("fast", decoder_params())
@pytest.mark.parametrize(
    ("name", "user_arn", "call"), STRATUS_CASES, ids=[c[0] for c in STRATUS_CASES]
)
def test_stratus_issued_keys_resolve_to_their_iam_user(
    fast: bool, name: str, user_arn: str, call: str
) -> None:
    records = raw_records(STRATUS / name)
    keys = {
        r["responseElements"]["credentials"]["accessKeyId"]
        for r in records
        if r["eventName"] == call and r.get("responseElements")
    }
    uses = [r["eventID"] for r in records if _key_of(r) in keys]
    assert uses, "the detonation uses the issued key"
    result = resolve_paths([STRATUS / name], fast=fast)
    resolutions = dict(zip([e.eventID for e in result.events], result.resolutions, strict=True))
    for event_id in uses:
        resolution = resolutions[event_id]
        assert resolution.status is Status.RESOLVED
        assert resolution.origin is not None
        assert resolution.origin.arn == user_arn
        expected = Method.FEDERATION if call == "GetFederationToken" else Method.ISSUING_EVENT
        assert resolution.method is expected


def test_stratus_records_fed_one_per_batch_newest_first_are_held_then_resolved() -> None:
    """The detonation logs are newest first: fed record by record, every use precedes its
    AssumeRole, so each is held and emitted when the issuance arrives."""
    path = STRATUS / "aws.discovery.ec2-download-user-data.json"
    the_resolver = resolver.IdentityResolver()
    the_decoder = decoder(False)
    out = resolver.ResolveResult()
    for record in raw_records(path):
        out.extend(the_resolver.resolve([the_decoder.decode_event_json(json.dumps(record))]))
    out.extend(the_resolver.drain())
    sessions = [
        r for e, r in zip(out.events, out.resolutions, strict=True) if e.eventName != "AssumeRole"
    ]
    held = [r for r in sessions if r.held]
    assert held
    assert all(r.origin is not None and r.origin.user_name == "christophe" for r in held)
    assert the_resolver.stats.released == len(held)


def test_identity_center_permission_set_session_resolves_to_its_user() -> None:
    result = resolve_paths(
        [STRATUS / "aws.lateral-movement.ec2-serial-console-send-ssh-public-key.json"]
    )
    assert {r.method for r in result.resolutions} == {Method.IDENTITY_CENTER_SESSION}
    assert {r.origin.user_name for r in result.resolutions if r.origin} == {
        "randomca0L529zwNAY@gmail.com"
    }


def test_stolen_instance_credentials_are_still_the_instance_role_workload() -> None:
    result = resolve_paths([STRATUS / "aws.credential-access.ec2-steal-instance-credentials.json"])
    stolen = [
        r
        for e, r in zip(result.events, result.resolutions, strict=True)
        if e.userIdentity and e.userIdentity.type == "AssumedRole"
    ]
    assert len(stolen) == 2
    assert all(r.status is Status.WORKLOAD and r.method is Method.EC2_INSTANCE_ROLE for r in stolen)


def test_a_session_whose_issuance_is_not_in_the_data_ends_unresolved_and_unattributed() -> None:
    result = resolve_paths([STRATUS / "aws.impact.bedrock-invoke-model.json"])
    assert {r.status for r in result.resolutions} == {Status.UNRESOLVED}
    assert {r.method for r in result.resolutions} == {Method.NO_ISSUANCE}
    (unattributed,) = result.unattributed
    assert unattributed.access_key_id == "ASIA6FTSFH98XNF7DFZB"
    assert unattributed.role_arn == "arn:aws:iam::494659789341:role/test-role"
    assert unattributed.events == 15


def test_every_stratus_file_resolves_without_error() -> None:
    paths = sorted(Path(STRATUS).glob("*.json"))
    result = resolve_paths(paths)
    assert len(result.events) == sum(len(raw_records(p)) for p in paths)
