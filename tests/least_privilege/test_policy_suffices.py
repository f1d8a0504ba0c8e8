"""A user holding exactly the README's policy for its event source validates every step and
pulls cleanly, every call the plugin makes is one the policy allows, and every action the
policy grants is used (nothing to remove).

Each run is a real CE poll through ``devkit.runner.run_pull`` (validation of all four steps,
then ``pull_alerts``) against moto with IAM authorization on. LookupEvents, which moto does
not implement, is answered by a botocore Stubber; its authorization is proven separately
(``test_moto_authorizes_lookup_events_by_the_statement``) and, like every call, checked
against the policy text here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PLUGIN_USER, SCOPE_ORGANIZATION, SCOPE_SINGLE, ModeRun
from .iam_policy import actions_of, granting_statements, required_permission, statements

RUNS = [
    ("none", SCOPE_SINGLE),
    ("s3", SCOPE_SINGLE),
    ("sqs", SCOPE_SINGLE),
    ("lookup_events", SCOPE_SINGLE),
    ("s3", SCOPE_ORGANIZATION),
    ("lookup_events", SCOPE_ORGANIZATION),
]
IDS = [f"{source}-{scope}" for source, scope in RUNS]

Runs = Callable[[str, str], ModeRun]


@pytest.fixture(params=RUNS, ids=IDS)
def run(request: pytest.FixtureRequest, mode_runs: Runs) -> ModeRun:
    source, scope = request.param
    return mode_runs(source, scope)


def policy_for(run: ModeRun, principal: str) -> dict[str, object]:
    return run.policy if principal == "user" else run.member_policy


def test_every_step_validates_and_the_pull_reports_no_problem(run: ModeRun) -> None:
    errors = [r.message for r in run.result.logger.records if r.level == "error"]
    assert errors == []
    assert run.health["problems"] == []
    assert run.health["accounts"] == (2 if run.scope == SCOPE_ORGANIZATION else 1)
    assert run.health["roles_evaluated"] > 0


def test_no_call_is_denied(run: ModeRun) -> None:
    denied = [
        (c.principal, c.name, c.error_code)
        for c in run.recorder.calls
        if c.status == 403 or "AccessDenied" in c.error_code
    ]
    assert denied == []


def test_every_call_is_allowed_by_the_policy_text(run: ModeRun) -> None:
    """Moto authorizes most calls; this also covers what it cannot: the stubbed LookupEvents,
    the ``s3:prefix`` condition, and AWS's action names for SQS batch calls."""
    principals = {c.principal for c in run.recorder.calls}
    assert principals <= {"user", *(() if run.scope == SCOPE_SINGLE else {run.member_role_arn})}
    refused = []
    for call in run.recorder.calls:
        needed = required_permission(call)
        if needed is None:
            continue
        context = dict(needed.context)
        document = policy_for(run, call.principal)
        if not granting_statements(document, needed.action, needed.resource, context):
            refused.append((call.principal, call.name, needed))
    assert refused == []


def test_every_action_the_policy_grants_is_used(run: ModeRun) -> None:
    used: dict[str, set[str]] = {"user": set(), "member": set()}
    for call in run.recorder.calls:
        needed = required_permission(call)
        if needed is not None:
            who = "user" if call.principal == "user" else "member"
            used[who].add(needed.action.lower())
    unused = [
        (who, statement["Sid"], action)
        for who, document in (("user", run.policy), ("member", run.member_policy))
        if who == "user" or run.scope == SCOPE_ORGANIZATION
        for statement in statements(document)
        for action in actions_of(statement)
        if action.lower() not in used[who]
    ]
    assert unused == []


def test_s3_mode_reads_every_trail_file(mode_runs: Runs) -> None:
    run = mode_runs("s3", SCOPE_SINGLE)
    source = run.health["source"]
    assert source["objects_read"] == len(run.trail_keys) > 0
    assert run.health["events"] > 0
    assert any(a.type == "noncompliant_role_activity" for a in run.result.alerts)


def test_sqs_mode_reads_every_announced_file_and_holds_its_messages(mode_runs: Runs) -> None:
    run = mode_runs("sqs", SCOPE_SINGLE)
    source = run.health["source"]
    assert source["objects_read"] == len(run.trail_keys)
    assert source["messages_processed"] == len(run.trail_keys) + 1  # + s3:TestEvent
    assert any(a.type == "noncompliant_role_activity" for a in run.result.alerts)


def test_lookup_events_mode_reads_both_pages_of_every_account(mode_runs: Runs) -> None:
    run = mode_runs("lookup_events", SCOPE_ORGANIZATION)
    lookups = [c for c in run.recorder.calls if c.name == "cloudtrail:LookupEvents"]
    readers = [c for c in lookups if c.params.get("MaxResults") != 1]
    assert {c.principal for c in readers} == {"user", run.member_role_arn}
    assert [c.params.get("NextToken") for c in readers if c.principal == "user"] == [
        None,
        "page-2",
    ]
    assert run.health["events"] > 0


def test_posture_mode_reads_roles_and_nothing_of_cloudtrail(mode_runs: Runs) -> None:
    run = mode_runs("none", SCOPE_SINGLE)
    services = {c.service for c in run.recorder.calls}
    assert services == {"sts", "iam", "ec2"}
    assert any(a.type == "role_session_name_not_enforced" for a in run.result.alerts)


def test_organizations_mode_evaluates_the_member_account_through_its_audit_role(
    mode_runs: Runs,
) -> None:
    run = mode_runs("s3", SCOPE_ORGANIZATION)
    member_alerts = [a for a in run.result.alerts if a.rawData.get("role_name") == "MemberOpenRole"]
    assert len(member_alerts) == 1
    assumed = [c for c in run.recorder.calls if c.name == "sts:AssumeRole"]
    assert {c.params["RoleSessionName"] for c in assumed} == {PLUGIN_USER}
    assert all(c.params.get("ExternalId") for c in assumed)
