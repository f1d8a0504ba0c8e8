"""Alerts say when the identity they name is a claim, keep a claim out of CE's ``user``, and
name the person once the session's issuing event is read (same alert id)."""

from __future__ import annotations

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts import (
    activity_alerts,
    session_windows,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import resolution

from tests.cloudtrail.helpers import event, events

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/OpenRole"
KEY = "ASIAOPENROLE00000001"
MALLORY = resolution.Origin(
    "IAMUser", arn=f"arn:aws:iam::{ACCOUNT}:user/mallory", user_name="mallory", account_id=ACCOUNT
)


def _use(event_id: str) -> events.TrailEvent:
    return event(
        eventID=event_id,
        eventName="ListBuckets",
        eventSource="s3.amazonaws.com",
        eventTime="2026-11-01T10:02:00Z",
        userIdentity={
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLE00001:build",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/OpenRole/build",
            "accountId": ACCOUNT,
            "accessKeyId": KEY,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": ROLE, "userName": "OpenRole"},
                "attributes": {"creationDate": "2026-11-01T10:00:00Z"},
            },
        },
    )


def _claimed() -> resolution.Resolution:
    return resolution.Resolution(
        resolution.Status.RESOLVED,
        resolution.Method.SOURCE_IDENTITY,
        resolution.Origin("SourceIdentity", user_name="ceo@corp.com"),
        role_arn=ROLE,
        session_name="build",
        access_key_id=KEY,
        source_identity="ceo@corp.com",
    )


def _window_alert(windows: session_windows.SessionWindows) -> dict:
    (window,) = windows.windows.values()
    return activity_alerts.noncompliant_activity_alert(window, "not_enforced")


def test_a_claimed_identity_is_said_claimed_and_replaced_by_the_issuance_under_the_same_id() -> (
    None
):
    windows = session_windows.SessionWindows(3600, 100, retention_seconds=86400)
    windows.add(_use("use-1"), _claimed(), ACCOUNT)
    before = _window_alert(windows)
    raw = before["rawData"]
    assert raw["identity_evidence"] == "claimed"
    assert raw["origin_user_name"] == "ceo@corp.com"  # shown, as what it is
    assert before["user"] is None  # never what CE's rules and tickets key on
    assert raw["description"].startswith(
        "ceo@corp.com (claimed, not verified: the session's SourceIdentity"
    )
    assert "source_identity (resolved, claimed)." in raw["description"]

    assert KEY in windows.provisional_keys()
    issued = resolution.Resolution(
        resolution.Status.RESOLVED,
        resolution.Method.ISSUING_EVENT,
        MALLORY,
        role_arn=ROLE,
        session_name="build",
        access_key_id=KEY,
        source_identity="ceo@corp.com",
    )
    assert windows.attribute_late(KEY, issued) == 1
    after = _window_alert(windows)
    assert after["id"] == before["id"]
    assert after["user"] == MALLORY.arn
    assert after["rawData"]["identity_evidence"] == "verified"
    assert after["rawData"]["description"].startswith("mallory acted through role")
    assert "claimed" not in after["rawData"]["description"]


def test_an_identity_center_session_window_is_renamed_by_its_issuance() -> None:
    """Identity Center sessions are named from their own record (provisional), so the
    window is named as an in-order read names it once the AssumeRoleWithSAML is read."""
    named = resolution.Resolution(
        resolution.Status.RESOLVED,
        resolution.Method.IDENTITY_CENTER_SESSION,
        resolution.Origin("IdentityCenterUser", user_name="dave@example.com"),
        role_arn=ROLE,
        session_name="build",
        access_key_id=KEY,
    )
    windows = session_windows.SessionWindows(3600, 100, retention_seconds=86400)
    windows.add(_use("use-1"), named, ACCOUNT)
    before = _window_alert(windows)
    assert before["rawData"]["identity_evidence"] == "verified"
    assert before["user"] == "dave@example.com"
    assert KEY in windows.provisional_keys()
    issued = resolution.Resolution(
        resolution.Status.RESOLVED,
        resolution.Method.FEDERATION,
        resolution.Origin("IdentityCenterUser", user_name="dave@example.com", provider="p"),
        role_arn=ROLE,
        session_name="build",
        access_key_id=KEY,
    )
    assert windows.attribute_late(KEY, issued) == 1
    assert _window_alert(windows)["id"] == before["id"]


def test_an_unresolved_window_has_no_identity_evidence() -> None:
    unresolved = resolution.Resolution(
        resolution.Status.UNRESOLVED,
        resolution.Method.NO_ISSUANCE,
        role_arn=ROLE,
        session_name="ceo@corp.com",
        access_key_id=KEY,
    )
    windows = session_windows.SessionWindows(3600, 100, retention_seconds=86400)
    windows.add(_use("use-1"), unresolved, ACCOUNT)
    alert = _window_alert(windows)
    assert alert["rawData"]["identity_evidence"] == "none"
    assert alert["user"] is None
    assert alert["rawData"]["description"].startswith("an unresolved identity acted")


def test_a_window_stored_before_evidence_existed_is_judged_by_its_method() -> None:
    """Windows in storage from an earlier version have no ``evidence``: derived again."""
    windows = session_windows.SessionWindows(3600, 100, retention_seconds=86400)
    windows.add(_use("use-1"), _claimed(), ACCOUNT)
    (window,) = windows.windows.values()
    window.resolution.pop("evidence")
    window.resolution["evidence"] = "verified"  # nor can a stored value upgrade a claim
    alert = activity_alerts.noncompliant_activity_alert(window, "not_enforced")
    assert alert["rawData"]["identity_evidence"] == "claimed"
    assert alert["user"] is None
