"""The member audit role's trust policy enforces the rule the plugin checks, and the plugin's
own AssumeRole requests satisfy it.

moto cannot prove this: it evaluates a trust policy only when the role is in the caller's own
account, compares principals literally (``arn:aws:iam::<account>:root`` never matches a user),
and only ``sts:ExternalId`` reaches its condition evaluation - ``sts:RoleSessionName`` and
``aws:PrincipalAccount`` are skipped as if they held. The last test pins that, so the day moto
learns it this proof can move there. Until then the plugin's trust evaluator (which decides as
IAM does, see docs/trust-evaluator.md) judges the policy, and the AssumeRole requests the
plugin really sent in Organizations mode (recorded from botocore) are evaluated against the
policy's conditions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.aws_session import (
    session_name_for,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.conditions import (
    evaluate_conditions,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    TrustStatus,
    evaluate_policy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.policy import parse_policy

from .conftest import (
    EXTERNAL_ID,
    PLUGIN_USER,
    SCOPE_ORGANIZATION,
    LeastPrivilegeTenant,
    ModeRun,
)
from .iam_policy import Placeholders, complete, filled

Runs = Callable[[str, str], ModeRun]
MANAGEMENT = "123456789012"


def trust_document() -> dict[str, Any]:
    values = Placeholders(account_id=MANAGEMENT, external_id=EXTERNAL_ID)
    return complete(filled("member-audit-role-trust.json", values))


def conditions_hold(request: dict[str, str | None]) -> bool | None:
    policy = parse_policy(trust_document())
    (statement,) = policy.statements
    holds: bool | None = evaluate_conditions(
        statement.conditions, request, policy.variables_enabled
    )
    return holds


def request_of(
    user: str | None, session_name: str, external_id: str = EXTERNAL_ID, account: str = MANAGEMENT
) -> dict[str, str | None]:
    return {
        "aws:username": user,
        "sts:rolesessionname": session_name,
        "sts:externalid": external_id,
        "aws:principalaccount": account,
    }


def test_the_trust_policy_enforces_the_session_name_rule() -> None:
    verdict = evaluate_policy(trust_document(), account_id="210987654321", partition="aws")
    assert verdict.status is TrustStatus.ENFORCED


def test_the_plugins_member_role_requests_satisfy_the_trust_conditions(mode_runs: Runs) -> None:
    run = mode_runs("s3", SCOPE_ORGANIZATION)
    requests = [c.params for c in run.recorder.calls if c.name == "sts:AssumeRole"]
    assert requests
    for params in requests:
        assert params["RoleArn"] == run.member_role_arn
        request = request_of(PLUGIN_USER, params["RoleSessionName"], params["ExternalId"])
        assert conditions_hold(request) is True


def test_any_other_session_name_external_id_or_account_is_refused() -> None:
    assert conditions_hold(request_of(PLUGIN_USER, "admin")) is False
    assert conditions_hold(request_of(PLUGIN_USER, PLUGIN_USER, external_id="guess")) is False
    assert conditions_hold(request_of(PLUGIN_USER, PLUGIN_USER, account="999988887777")) is False


def test_the_policy_requires_the_plugin_to_authenticate_as_an_iam_user() -> None:
    """A role session (Deployed on AWS, Role ARN to Assume, Roles Anywhere) has no
    aws:username, and the plugin then names its sessions with a fixed fallback: the trust
    policy refuses it (README: the audit role trust policy assumes Access keys)."""
    session_name = session_name_for("arn:aws:sts::123456789012:assumed-role/CeHost/i-0abc")
    assert session_name == "netskope-ce-rsi"
    assert conditions_hold(request_of(None, session_name)) is False
    assert session_name_for(f"arn:aws:iam::{MANAGEMENT}:user/{PLUGIN_USER}") == PLUGIN_USER


def test_moto_does_not_evaluate_the_trust_policy_across_accounts(lp: LeastPrivilegeTenant) -> None:
    """Pinned moto gap: a foreign session name and a wrong External ID are let in."""
    lp.grant(complete(filled("plugin-policy-organizations.json", lp.values())))
    user = boto3.Session(
        aws_access_key_id=lp.user_keys["AccessKeyId"],
        aws_secret_access_key=lp.user_keys["SecretAccessKey"],
        region_name="us-east-1",
    )
    answer = user.client("sts").assume_role(
        RoleArn=lp.member_role_arn, RoleSessionName="not-the-user", ExternalId="wrong"
    )
    role_name = lp.member_role_arn.rsplit("/", 1)[-1]
    assert answer["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role_name}/not-the-user")
