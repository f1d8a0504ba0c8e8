"""Through the whole pull: a role *named* like an Identity Center role does not let its
caller pick who the alerts name, and a claimed identity is said to be claimed until the
issuing event, read in a later pull, names the caller under the same alert id."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import decode, resolver
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.posture_phase import (
    PostureState,
)

from devkit.aws_emulator import MotoServer
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, OPEN_TRUST, configuration, seed_small_tenant
from tests.pipeline.test_late_issuance import fresh
from tests.pipeline.trail import assume_role, put_trail_file, role_action, user_identity

BUCKET = "contract-trail"
KINDS = ["posture", "noncompliant_activity", "session_spoofing"]
LOOK_ALIKE = "AWSReservedSSO_Backdoor_0123456789abcdef"
MALLORY = f"arn:aws:iam::{ACCOUNT}:user/mallory"
VICTIM = "ceo@corp.com"


def _create_role(name: str, at: datetime) -> dict[str, Any]:
    """Mallory's CreateRole of ``name`` at path ``/``, open to the whole account (made after
    the last posture scan: the trail is what says how it is trusted)."""
    record = assume_role("mallory", name, "unused", "ASIAUNUSED0000000000", at)
    record.update(
        eventSource="iam.amazonaws.com",
        eventName="CreateRole",
        requestParameters={
            "roleName": name,
            "path": "/",
            "assumeRolePolicyDocument": json.dumps(OPEN_TRUST),
        },
        responseElements=None,
        userIdentity=user_identity("mallory"),
    )
    return record


def _two_pulls(
    tmp_path: Path, first: list[dict[str, Any]], second: list[dict[str, Any]], base: datetime
) -> tuple[PullResult, PullResult]:
    seed_small_tenant(BUCKET)
    put_trail_file(BUCKET, base + timedelta(minutes=5), first, suffix="E01")
    tenant = TenantConfig("pipeline", configuration(rule={"alert_kinds": KINDS}))
    state = StateDir(tmp_path)
    before = run_pull(tenant, state)
    put_trail_file(BUCKET, base + timedelta(minutes=10), second, suffix="E02")
    return before, run_pull(tenant, state, validate=False)


def _activity(result: PullResult) -> list[Any]:
    return [a for a in fresh(result) if a.type == "noncompliant_role_activity"]


def test_a_look_alike_identity_center_role_names_its_caller_not_the_name_chosen(
    aws: MotoServer, tmp_path: Path
) -> None:
    """Mallory makes ``AWSReservedSSO_Backdoor_…`` at ``/`` and acts through it as
    ``ceo@corp.com``; the activity's file is read a pull before the AssumeRole's."""
    key = "ASIABACKDOOR00000001"
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    activity = role_action(LOOK_ALIKE, VICTIM, key, base + timedelta(minutes=2), created=base)
    first, second = _two_pulls(
        tmp_path,
        [_create_role(LOOK_ALIKE, base - timedelta(minutes=10)), activity],
        [assume_role("mallory", LOOK_ALIKE, VICTIM, key, base)],
        base,
    )
    # Pull 1: the session waits for its issuance; no alert names anyone after its name.
    assert _activity(first) == []
    named = [a for a in fresh(first) if VICTIM in (a.user, a.rawData.get("origin_user_name"))]
    assert named == []
    # Pull 2: the issuance names mallory, verified.
    (window,) = _activity(second)
    assert window.user == MALLORY
    assert window.rawData["identity_evidence"] == "verified"
    assert window.rawData["resolution_method"] == "issuing_event"
    assert window.rawData["session_name"] == VICTIM  # the name, shown as the session's
    assert window.rawData["description"].startswith("mallory acted through role ")
    (spoofing,) = [a for a in fresh(second) if a.type == "session_name_spoofing"]
    assert spoofing.user == MALLORY
    assert spoofing.rawData["session_name"] == VICTIM


def test_a_claimed_identity_is_said_claimed_then_replaced_by_the_issuance_same_alert_id(
    aws: MotoServer, tmp_path: Path
) -> None:
    """Mallory sets SourceIdentity ``ceo@corp.com`` on an open role; the activity is read a
    pull before the AssumeRole."""
    key = "ASIASOURCEIDENTITY01"
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    activity = role_action("OpenRole", "build", key, base + timedelta(minutes=2), created=base)
    activity["userIdentity"]["sessionContext"]["sourceIdentity"] = VICTIM
    issuance = assume_role("mallory", "OpenRole", "build", key, base)
    issuance["requestParameters"]["sourceIdentity"] = VICTIM
    issuance["responseElements"]["sourceIdentity"] = VICTIM
    first, second = _two_pulls(tmp_path, [activity], [issuance], base)

    (before,) = _activity(first)
    assert before.user is None  # a claim is never CE's user
    assert before.rawData["identity_evidence"] == "claimed"
    assert before.rawData["origin_user_name"] == VICTIM
    assert before.rawData["description"].startswith(f"{VICTIM} (claimed, not verified: ")
    (after,) = _activity(second)
    assert after.id == before.id
    assert after.user == MALLORY
    assert after.rawData["identity_evidence"] == "verified"
    assert after.rawData["resolution_method"] == "issuing_event"
    assert "claimed" not in after.rawData["description"]
    assert second.storage["health"]["windows_attributed_late"] == 1


def test_the_posture_scan_s_roles_give_the_path_a_record_without_an_issuer_lacks() -> None:
    """``ActivityRun`` hands ``PostureState.path_of`` to the resolver as ``role_path``."""
    sso = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
    sso_arn = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/{sso}"
    rows = [
        [sso_arn, "exempt", "fingerprint", "alert-id", "low"],
        [f"arn:aws:iam::{ACCOUNT}:role/{LOOK_ALIKE}", "not_enforced", "f", "a", "high"],
    ]
    posture = PostureState({"v": 1, "last_scan": None, "roles": rows})
    the_resolver = resolver.IdentityResolver(role_path=posture.path_of)
    named = {}
    at = datetime(2026, 11, 1, 10, 2, tzinfo=UTC)
    for role, key in ((sso, "ASIANOISSUER00000001"), (LOOK_ALIKE, "ASIANOISSUER00000002")):
        record = role_action(role, "dave@example.com", key, at)
        del record["userIdentity"]["sessionContext"]["sessionIssuer"]
        decoded = decode.TrailDecoder(fast=False).decode_event_json(json.dumps(record))
        result = the_resolver.resolve([decoded])
        named[role] = [r.method.value for r in result.resolutions]
    assert named == {sso: ["identity_center_session"], LOOK_ALIKE: []}
