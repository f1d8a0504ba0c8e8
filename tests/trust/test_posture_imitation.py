"""The posture scan: look-alike AWS-managed roles raise their own alert; oversized trust
policies are item problems, never a failed scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.posture_phase import (
    PostureState,
    run_posture,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.posture.iam_roles import IamRole

from tests.trust.builders import RULE, policy, statement

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
NOW = datetime(2026, 12, 7, tzinfo=UTC)
SSO_PATH = "/aws-reserved/sso.amazonaws.com/"
SAML = {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"}


def iam_role(name: str, path: str, document: Any) -> IamRole:
    return IamRole(
        account_id=ACCOUNT,
        name=name,
        path=path,
        arn=f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        role_id=f"AROA{abs(hash(name)) % 10**17:017d}",
        trust_policy=document,
        attached_policy_names=("AdministratorAccess",),
    )


def scan(roles: list[IamRole], state: PostureState, now: datetime = NOW):
    account = SimpleNamespace(account_id=ACCOUNT, factory=SimpleNamespace(client=lambda _: None))
    return run_posture(
        [account],
        state,
        exempt_patterns=(),
        now=now,
        interval_minutes=60,
        force=True,
        lister=lambda *_args, **_kw: list(roles),
    )


def by_type(alerts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        result.setdefault(alert["type"], []).append(alert)
    return result


BACKDOOR = iam_role("AWSReservedSSO_Backdoor_0123456789abcdef", "/", policy(statement(ROOT)))
REAL_SSO = iam_role(
    "AWSReservedSSO_Admin_0123456789abcdef",
    SSO_PATH,
    policy(
        statement(SAML, action=["sts:AssumeRoleWithSAML", "sts:TagSession"]),
    ),
)


def test_the_look_alike_is_not_enforced_with_an_imitation_alert_and_the_real_one_is_exempt():
    outcome = scan([BACKDOOR, REAL_SSO], PostureState({}))
    statuses = {role.name: verdict.status.value for role, verdict, _ in outcome.verdicts}
    assert statuses == {BACKDOOR.name: "not_enforced", REAL_SSO.name: "exempt"}
    alerts = by_type(outcome.alerts)
    (imitation,) = alerts["role_name_imitates_aws_managed_role"]
    assert imitation["rawData"]["role_arn"] == BACKDOOR.arn
    assert imitation["rawData"]["severity"] == "high"
    assert "anyone allowed iam:CreateRole" in imitation["rawData"]["description"]
    assert "/aws-reserved/sso.amazonaws.com/" in imitation["rawData"]["description"]
    assert imitation["rawData"]["description"].lower().count("evaluates as") == 1
    (posture,) = alerts["role_session_name_not_enforced"]
    assert posture["rawData"]["role_arn"] == BACKDOOR.arn
    assert "RSN044" in posture["rawData"]["reason_codes"]


def test_a_look_alike_with_a_compliant_policy_raises_a_medium_imitation_alert_only():
    role = iam_role("AWSServiceRoleForBackup", "/", policy(statement(ROOT, RULE)))
    outcome = scan([role], PostureState({}))
    (alert,) = outcome.alerts
    assert alert["type"] == "role_name_imitates_aws_managed_role"
    assert alert["rawData"]["severity"] == "medium"


def test_the_imitation_alert_is_not_repeated_and_is_resolved_when_the_role_is_deleted():
    state = PostureState({})
    scan([BACKDOOR], state)
    again = scan([BACKDOOR], state, NOW + timedelta(hours=2))
    assert again.alerts == []
    gone = scan([], state, NOW + timedelta(hours=4))
    resolved = by_type(gone.alerts)["role_name_imitates_aws_managed_role"]
    assert [a["rawData"]["status"] for a in resolved] == ["resolved"]
    first = by_type(scan([BACKDOOR], PostureState({})).alerts)
    assert resolved[0]["id"] == first["role_name_imitates_aws_managed_role"][0]["id"]


def test_an_oversized_trust_policy_is_an_item_problem_and_the_scan_goes_on():
    big = policy(*(statement(ROOT, RULE, sid=f"S{i}") for i in range(120)))
    roles = [iam_role("huge", "/", big), iam_role("fine", "/", policy(statement(ROOT, RULE)))]
    outcome = scan(roles, PostureState({}))
    statuses = {role.name: verdict.status.value for role, verdict, _ in outcome.verdicts}
    assert statuses == {"huge": "unparseable", "fine": "enforced"}
    assert any("huge" in note and "larger than IAM allows" in note for note in outcome.notes)
