"""Small builders for trust policies in tests (project-authored, not real data)."""

from __future__ import annotations

from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    PolicyVerdict,
    evaluate_policy,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci-runner"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-runner/build-17"

RULE = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
GUARD = {"StringNotEquals": {"sts:RoleSessionName": "${aws:username}"}}


def statement(
    principal: Any = ROOT,
    condition: dict[str, Any] | None = None,
    *,
    effect: str = "Allow",
    action: Any = "sts:AssumeRole",
    not_action: Any = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """A statement; a plain string principal means ``{"AWS": principal}`` (except "*")."""
    result: dict[str, Any] = {"Effect": effect}
    if sid is not None:
        result["Sid"] = sid
    if isinstance(principal, str) and principal != "*":
        principal = {"AWS": principal}
    result["Principal"] = principal
    if not_action is not None:
        result["NotAction"] = not_action
    else:
        result["Action"] = action
    if condition is not None:
        result["Condition"] = condition
    return result


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    result: dict[str, Any] = {}
    if version is not None:
        result["Version"] = version
    result["Statement"] = list(statements)
    return result


def verdict(document: Any, account_id: str | None = ACCOUNT) -> PolicyVerdict:
    """The verdict for a role in ``account_id`` (partition aws)."""
    return evaluate_policy(document, account_id=account_id, partition="aws")


def codes(document: Any, account_id: str | None = ACCOUNT) -> set[str]:
    return {code.value for code in verdict(document, account_id).codes}
