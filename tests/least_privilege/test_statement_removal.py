"""Removing any one statement makes ``validate_step`` fail for the right step, naming the
missing permission and the statement - for every statement of every mode's policy.

Validation runs as CE runs it (``devkit.runner.run_pull``: every step in order, a failure is
CE's 400 carrying the message), so the steps before the expected one are shown to pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from devkit.runner import ValidationFailed

from .conftest import (
    SCOPE_ORGANIZATION,
    SCOPE_SINGLE,
    LeastPrivilegeTenant,
    install_recorder,
    lookup_pages,
    mode_policies,
)
from .iam_policy import MEMBER_STATEMENTS, MODE_STATEMENTS, load, sids, without

# (whose policy, statement) -> (the step that fails, the permission its message names)
EXPECTED = {
    ("plugin", "ReadRoleTrustPolicies"): ("aws", "iam:GetAccountAuthorizationDetails"),
    ("plugin", "DiscoverEnabledRegions"): ("aws", "ec2:DescribeRegions"),
    ("plugin", "ListTrailBucket"): ("cloudtrail", "s3:ListBucket"),
    ("plugin", "ReadTrailFiles"): ("cloudtrail", "s3:GetObject"),
    ("plugin", "ReadTrailNotifications"): ("cloudtrail", "sqs:GetQueueAttributes"),
    ("plugin", "LookupCloudTrailEvents"): ("cloudtrail", "cloudtrail:LookupEvents"),
    ("plugin", "ListMemberAccounts"): ("aws", "organizations:ListAccounts"),
    ("plugin", "AssumeMemberAuditRole"): ("aws", "sts:AssumeRole"),
    ("member", "ReadRoleTrustPolicies"): ("aws", "iam:GetAccountAuthorizationDetails"),
    ("member", "LookupCloudTrailEvents"): ("cloudtrail", "cloudtrail:LookupEvents"),
}


@dataclass(frozen=True)
class Removal:
    source: str
    scope: str
    whose: str  # "plugin" (the plugin user's policy) or "member" (the audit role's)
    sid: str

    @property
    def id(self) -> str:
        return f"{self.source}-{self.scope}-{self.whose}-{self.sid}"


# One case per statement of each policy file, in a mode that needs it (the trail statements in
# both modes that read trail files; each member statement in the mode that uses it).
REMOVALS = [
    Removal("none", SCOPE_SINGLE, "plugin", "ReadRoleTrustPolicies"),
    Removal("none", SCOPE_SINGLE, "plugin", "DiscoverEnabledRegions"),
    Removal("s3", SCOPE_SINGLE, "plugin", "ListTrailBucket"),
    Removal("s3", SCOPE_SINGLE, "plugin", "ReadTrailFiles"),
    Removal("sqs", SCOPE_SINGLE, "plugin", "ListTrailBucket"),
    Removal("sqs", SCOPE_SINGLE, "plugin", "ReadTrailFiles"),
    Removal("sqs", SCOPE_SINGLE, "plugin", "ReadTrailNotifications"),
    Removal("lookup_events", SCOPE_SINGLE, "plugin", "LookupCloudTrailEvents"),
    Removal("s3", SCOPE_ORGANIZATION, "plugin", "ListMemberAccounts"),
    Removal("s3", SCOPE_ORGANIZATION, "plugin", "AssumeMemberAuditRole"),
    Removal("s3", SCOPE_ORGANIZATION, "member", "ReadRoleTrustPolicies"),
    Removal("lookup_events", SCOPE_ORGANIZATION, "member", "LookupCloudTrailEvents"),
]


def test_every_statement_of_every_policy_file_has_a_removal_case() -> None:
    in_files = {
        *(("plugin", sid) for sid in sids(load("plugin-policy.json"))),
        *(("plugin", sid) for sid in sids(load("plugin-policy-organizations.json"))),
        *(("member", sid) for sid in sids(load("member-audit-role-permissions.json"))),
    }
    assert {(r.whose, r.sid) for r in REMOVALS} == in_files == set(EXPECTED)


def test_every_removal_case_is_a_statement_its_mode_keeps() -> None:
    for removal in REMOVALS:
        kept = MODE_STATEMENTS[removal.source] if removal.whose == "plugin" else ()
        if removal.whose == "member":
            kept = MEMBER_STATEMENTS[removal.source]
        elif removal.scope == SCOPE_ORGANIZATION:
            kept = (*kept, *sids(load("plugin-policy-organizations.json")))
        assert removal.sid in kept, removal


@pytest.mark.parametrize("removal", REMOVALS, ids=[r.id for r in REMOVALS])
def test_removing_a_statement_fails_validation_naming_the_permission_and_statement(
    lp: LeastPrivilegeTenant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    removal: Removal,
) -> None:
    queue_url = lp.fresh_queue(f"lp-removal-{len(lp.queues)}") if removal.source == "sqs" else ""
    policy, member = mode_policies(
        lp, removal.source, removal.scope, queue_url.rsplit("/", 1)[-1] or "QUEUE_NAME"
    )
    if removal.whose == "plugin":
        policy = without(policy, removal.sid)
    else:
        member = without(member, removal.sid)
    lp.grant(policy)
    lp.grant_member(member)
    if removal.source == "lookup_events":
        # moto has no LookupEvents: the plugin user's calls are stubbed - unless its own
        # statement is the one removed: then moto answers, and it answers AccessDenied.
        # The member role's calls always reach moto (AccessDenied when its statement is gone).
        user_removed = removal == Removal(
            removal.source, removal.scope, "plugin", "LookupCloudTrailEvents"
        )
        install_recorder(
            lp,
            monkeypatch,
            None if user_removed else lookup_pages(lp.trail_records),
            frozenset({"user"}),
        )
    steps: dict[str, dict[str, object]] = {"aws": {"account_scope": removal.scope}}
    if removal.sid == "DiscoverEnabledRegions":
        steps["aws"]["regions"] = ""  # explicit Regions need no discovery
    config = lp.configuration(tmp_path, removal.source, queue_url=queue_url, **steps)

    with pytest.raises(ValidationFailed) as failure:
        lp.pull(tmp_path, config)

    step, permission = EXPECTED[(removal.whose, removal.sid)]
    assert failure.value.step == step, failure.value.message
    assert permission in failure.value.message
    assert f"statement {removal.sid} of" in failure.value.message
    if removal.whose == "member":
        assert "member audit role" in failure.value.message
    assert not (tmp_path / "state" / "storage.json").exists()
