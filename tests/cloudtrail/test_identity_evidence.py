"""An identity comes from evidence AWS wrote or IAM guaranteed; a name the caller chose is a
claim, said so, and replaced by the issuing event when it is read.

The look-alike: anyone with iam:CreateRole can make ``AWSReservedSSO_Backdoor_…`` at path
``/`` and assume it under someone else's name. Only a role at Identity Center's reserved
path (which only AWS can create) has its session named after an Identity Center user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cloudtrail.helpers import (
    Method,
    Status,
    attribution_of,
    decoder,
    decoder_params,
    resolution,
    resolver,
)

ACCOUNT = "123456789012"
LOOK_ALIKE = "AWSReservedSSO_Backdoor_0123456789abcdef"
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
SSO_PROVIDER = f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"
MALLORY_KEY, SESSION_KEY = "AKIAMALLORY000000001", "ASIABACKDOOR00000001"
VICTIM = "ceo@corp.com"
Evidence = resolution.Evidence


def _mallory() -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDAMALLORY000000001",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
        "accountId": ACCOUNT,
        "accessKeyId": MALLORY_KEY,
        "userName": "mallory",
    }


def _session(
    role: str,
    name: str,
    key: str = SESSION_KEY,
    *,
    path: str = "/",
    issuer_arn: str | None = None,
    created: str = "2026-11-01T10:00:00Z",
    **context: Any,
) -> dict[str, Any]:
    """A session's ``userIdentity``; ``issuer_arn=""``: a record without a session issuer."""
    arn = issuer_arn if issuer_arn is not None else f"arn:aws:iam::{ACCOUNT}:role{path}{role}"
    session_context: dict[str, Any] = {
        "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
        **context,
    }
    if arn:
        session_context["sessionIssuer"] = {
            "type": "Role",
            "principalId": "AROAEXAMPLEROLE00001",
            "arn": arn,
            "accountId": ACCOUNT,
            "userName": role,
        }
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLE00001:{name}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": session_context,
    }


def _action(identity: dict[str, Any], event_id: str, at: str = "2026-11-01T10:02:00Z") -> dict:
    return {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventName": "ListBuckets",
        "eventSource": "s3.amazonaws.com",
        "eventTime": at,
        "awsRegion": "us-east-1",
        "userIdentity": identity,
        "recipientAccountId": ACCOUNT,
        "eventType": "AwsApiCall",
    }


def _assume_role(
    role: str,
    name: str,
    *,
    source_identity: str | None = None,
    at: str = "2026-11-01T10:00:00Z",
    key: str = SESSION_KEY,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "roleSessionName": name,
    }
    if source_identity:
        request["sourceIdentity"] = source_identity
    return {
        "eventVersion": "1.08",
        "eventID": f"assume-{key}",
        "eventName": "AssumeRole",
        "eventSource": "sts.amazonaws.com",
        "eventTime": at,
        "awsRegion": "us-east-1",
        "userIdentity": _mallory(),
        "requestParameters": request,
        "responseElements": {
            "credentials": {"accessKeyId": key, "expiration": "Nov 1, 2026, 11:00:00 AM"},
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{name}",
                "assumedRoleId": f"AROAEXAMPLEROLE00001:{name}",
            },
            **({"sourceIdentity": source_identity} if source_identity else {}),
        },
        "recipientAccountId": ACCOUNT,
        "eventType": "AwsApiCall",
    }


def _sso_issuance(user: str, key: str, provider: str = SSO_PROVIDER) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "eventID": f"saml-{key}",
        "eventName": "AssumeRoleWithSAML",
        "eventSource": "sts.amazonaws.com",
        "eventTime": "2026-11-01T10:00:00Z",
        "awsRegion": "us-east-1",
        "userIdentity": {
            "type": "SAMLUser",
            "principalId": f"SAMLPRINCIPAL:{user}",
            "userName": user,
            "identityProvider": "SAMLPRINCIPAL",
        },
        "requestParameters": {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}",
            "principalArn": provider,
        },
        "responseElements": {
            "credentials": {"accessKeyId": key, "expiration": "Nov 1, 2026, 11:00:00 AM"},
            "assumedRoleUser": {
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{SSO_ROLE}/{user}",
                "assumedRoleId": f"AROAEXAMPLEROLE00001:{user}",
            },
            "subject": user,
            "subjectType": "persistent",
        },
        "recipientAccountId": ACCOUNT,
        "eventType": "AwsApiCall",
    }


def _trust_change(role: str, enforcing: bool, at: str) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
    }
    if enforcing:
        statement["Condition"] = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return {
        "eventVersion": "1.08",
        "eventID": f"trust-{role}-{at}",
        "eventName": "UpdateAssumeRolePolicy",
        "eventSource": "iam.amazonaws.com",
        "eventTime": at,
        "awsRegion": "us-east-1",
        "userIdentity": _mallory(),
        "requestParameters": {"roleName": role, "policyDocument": document},
        "recipientAccountId": ACCOUNT,
        "eventType": "AwsApiCall",
    }


def _resolve(
    the_resolver: resolver.IdentityResolver, records: list[dict[str, Any]], fast: bool = False
) -> dict[str, resolution.Resolution]:
    """One batch (a trail file); the resolutions emitted, by event id."""
    payload = json.dumps({"Records": records}).encode()
    decoded = decoder(fast).decode_object(payload, name="trail.json")
    result = the_resolver.resolve(decoded.events)
    return {e.eventID: r for e, r in zip(result.events, result.resolutions, strict=True)}


def _mallory_named(found: resolution.Resolution | None) -> None:
    assert found is not None and found.origin is not None
    assert found.origin.arn == f"arn:aws:iam::{ACCOUNT}:user/mallory"
    assert found.method is Method.ISSUING_EVENT
    assert found.evidence is Evidence.VERIFIED


@pytest.mark.parametrize("fast", decoder_params())
def test_a_look_alike_identity_center_role_does_not_name_its_session(fast: bool) -> None:
    """Read before its issuance, the look-alike's session waits for it like any role's
    (the name ``ceo@corp.com`` names no one); the issuance names mallory."""
    the_resolver = resolver.IdentityResolver()
    early = _resolve(the_resolver, [_action(_session(LOOK_ALIKE, VICTIM), "use-1")], fast)
    assert early == {}  # held: no identity from the role's name or the session's
    late = _resolve(the_resolver, [_assume_role(LOOK_ALIKE, VICTIM)], fast)
    _mallory_named(late["use-1"])
    assert late["use-1"].held


def test_a_look_alike_session_whose_issuance_never_comes_stays_unresolved() -> None:
    the_resolver = resolver.IdentityResolver()
    assert _resolve(the_resolver, [_action(_session(LOOK_ALIKE, VICTIM), "use-1")]) == {}
    drained = the_resolver.drain()
    (given_up,) = drained.resolutions
    assert given_up.status is Status.UNRESOLVED
    assert given_up.origin is None and given_up.evidence is None
    assert given_up.session_name == VICTIM  # shown as the session's name, not as a person


@pytest.mark.parametrize(
    "issuer_arn",
    [
        f"arn:aws:iam::{ACCOUNT}:role/{LOOK_ALIKE}",
        # A path may hold ":": the reserved path's text inside another path is not it.
        f"arn:aws:iam::{ACCOUNT}:role/x:role{SSO_PATH}{LOOK_ALIKE}",
        f"arn:aws:iam::{ACCOUNT}:role/team{SSO_PATH}{LOOK_ALIKE}",
    ],
)
def test_only_the_reserved_path_itself_makes_a_role_identity_center(issuer_arn: str) -> None:
    the_resolver = resolver.IdentityResolver()
    identity = _session(LOOK_ALIKE, VICTIM, issuer_arn=issuer_arn)
    assert _resolve(the_resolver, [_action(identity, "use-1")]) == {}


@pytest.mark.parametrize("fast", decoder_params())
def test_a_real_identity_center_session_names_its_user_verified_then_by_its_issuance(
    fast: bool,
) -> None:
    the_resolver = resolver.IdentityResolver()
    identity = _session(SSO_ROLE, "dave@example.com", "ASIASSO0000000000001", path=SSO_PATH)
    early = _resolve(the_resolver, [_action(identity, "use-1")], fast)["use-1"]
    assert early.method is Method.IDENTITY_CENTER_SESSION
    assert early.origin is not None and early.origin.user_name == "dave@example.com"
    assert early.origin.type == "IdentityCenterUser"
    assert early.evidence is Evidence.VERIFIED
    assert early.method in resolution.PROVISIONAL_METHODS  # its issuance names it better
    _resolve(the_resolver, [_sso_issuance("dave@example.com", "ASIASSO0000000000001")], fast)
    found = attribution_of(the_resolver, "ASIASSO0000000000001")
    assert found is not None and found.origin is not None
    assert found.method is Method.FEDERATION
    assert found.origin.type == "IdentityCenterUser"  # SAML through Identity Center's provider
    assert found.origin.user_name == "dave@example.com"
    assert found.origin.provider == SSO_PROVIDER
    assert found.evidence is Evidence.VERIFIED


def test_saml_through_another_provider_is_a_saml_user() -> None:
    the_resolver = resolver.IdentityResolver()
    provider = f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta"
    _resolve(the_resolver, [_sso_issuance("dave@example.com", "ASIASSO0000000000002", provider)])
    found = attribution_of(the_resolver, "ASIASSO0000000000002")
    assert found is not None and found.origin is not None
    assert found.origin.type == "SAMLUser"


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (SSO_PATH, True),
        (f"{SSO_PATH}eu-west-1/", True),
        ("/", False),
        (f"/team{SSO_PATH}", False),
        (None, False),
    ],
)
def test_without_a_session_issuer_the_posture_scan_s_path_decides(
    path: str | None, named: bool
) -> None:
    """A record without a session issuer gives the role's name only (the assumed-role ARN
    carries no path): the posture scan's roles say where the role is."""
    asked: list[tuple[str, str]] = []

    def role_path(account: str, role: str) -> str | None:
        asked.append((account, role))
        return path

    the_resolver = resolver.IdentityResolver(role_path=role_path)
    identity = _session(SSO_ROLE, "dave@example.com", issuer_arn="")
    emitted = _resolve(the_resolver, [_action(identity, "use-1")])
    assert asked == [(ACCOUNT, SSO_ROLE)]
    if named:
        assert emitted["use-1"].method is Method.IDENTITY_CENTER_SESSION
        assert emitted["use-1"].evidence is Evidence.VERIFIED
    else:
        assert emitted == {}


@pytest.mark.parametrize("fast", decoder_params())
def test_a_source_identity_is_a_claim_until_the_issuance_names_the_caller(fast: bool) -> None:
    the_resolver = resolver.IdentityResolver()
    identity = _session("OpenRole", "build", sourceIdentity=VICTIM)
    early = _resolve(the_resolver, [_action(identity, "use-1")], fast)["use-1"]
    assert early.method is Method.SOURCE_IDENTITY
    assert early.origin is not None and early.origin.user_name == VICTIM
    assert early.evidence is Evidence.CLAIMED
    assert early.to_json()["evidence"] == "claimed"
    _resolve(the_resolver, [_assume_role("OpenRole", "build", source_identity=VICTIM)], fast)
    found = attribution_of(the_resolver, SESSION_KEY)
    _mallory_named(found)
    assert found is not None and found.source_identity == VICTIM  # still shown, as a claim


def test_an_enforced_session_name_is_verified_and_still_replaced_by_its_issuance() -> None:
    the_resolver = resolver.IdentityResolver(role_enforces=lambda arn, at: True)
    early = _resolve(the_resolver, [_action(_session("Strict", "mallory"), "use-1")])["use-1"]
    assert early.method is Method.ENFORCED_SESSION_NAME
    assert early.evidence is Evidence.VERIFIED
    _resolve(the_resolver, [_assume_role("Strict", "mallory")])
    _mallory_named(attribution_of(the_resolver, SESSION_KEY))


def test_the_posture_verdict_of_now_does_not_vouch_for_a_time_before_a_known_change() -> None:
    """Opened, used under the CEO's name, then fixed: the posture scan says the role
    enforces the rule, but the change read from the trail shows that is only since 10:30.
    The session created at 10:00 waits for its issuance, which names mallory."""
    the_resolver = resolver.IdentityResolver(
        policy_enforces=lambda document: "aws:username" in document,
        role_enforces=lambda arn, at: True,
    )
    _resolve(the_resolver, [_trust_change("Strict", True, "2026-11-01T10:30:00Z")])
    early = _resolve(the_resolver, [_action(_session("Strict", VICTIM), "use-1")])
    assert early == {}
    after = _session("Strict", "mallory", "ASIASTRICT0000000002", created="2026-11-01T10:31:00Z")
    named = _resolve(the_resolver, [_action(after, "use-2", "2026-11-01T10:32:00Z")])
    assert named["use-2"].method is Method.ENFORCED_SESSION_NAME  # the timeline vouches
    late = _resolve(the_resolver, [_assume_role("Strict", VICTIM)])
    _mallory_named(late["use-1"])


@pytest.mark.parametrize(
    ("method", "origin_type", "evidence"),
    [
        (Method.SOURCE_IDENTITY, "SourceIdentity", Evidence.CLAIMED),
        (Method.CONSOLE_SESSION, "AssumedRole", Evidence.CLAIMED),  # a switch from a session
        (Method.IDENTITY_CENTER_SESSION, "IdentityCenterUser", Evidence.VERIFIED),
        (Method.ENFORCED_SESSION_NAME, "IAMUser", Evidence.VERIFIED),
        (Method.ISSUING_EVENT, "IAMUser", Evidence.VERIFIED),
        (Method.ON_BEHALF_OF, "IdentityCenterUser", Evidence.VERIFIED),
        (Method.NO_ISSUANCE, None, None),
    ],
)
def test_evidence_by_method(
    method: resolution.Method, origin_type: str | None, evidence: resolution.Evidence | None
) -> None:
    origin = resolution.Origin(origin_type, user_name="x") if origin_type else None
    found = resolution.Resolution(Status.RESOLVED, method, origin)
    assert found.evidence is evidence
    assert resolution.stored_evidence(found.to_json()) is evidence
    assert found.to_json().get("evidence") == (evidence.value if evidence else None)
