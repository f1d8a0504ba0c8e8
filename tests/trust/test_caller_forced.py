"""``caller_forced_to_name``: was this caller, under this session name, forced to use it?"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    caller_forced_to_name,
)

from tests.trust.builders import ACCOUNT, GUARD, ROOT, RULE, policy, statement

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ENG_ALICE = f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deploy"
LOOSE = {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}}
PINNED = policy(
    statement(ROOT, {"StringEquals": {"aws:PrincipalArn": ALICE, "sts:RoleSessionName": "alice"}}),
    statement(ROOT, {"StringEquals": {"aws:PrincipalArn": BOB}}),
)
GUARDED = policy(statement(ROOT), statement({"AWS": "*"}, GUARD, effect="Deny"))
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/alice"
CAROL_ONLY = policy(statement(f"arn:aws:iam::{ACCOUNT}:user/carol", RULE))


@pytest.mark.parametrize(
    ("document", "caller", "name", "expected"),
    [
        (policy(statement(ROOT, RULE)), ALICE, "alice", True),
        (policy(statement(ROOT, RULE)), ENG_ALICE, "alice", True),
        (GUARDED, ALICE, "alice", True),
        (policy(statement(ROOT, RULE)), ALICE, "bob", False),
        (policy(statement(ROOT)), ALICE, "alice", False),
        (policy(statement(ROOT, LOOSE)), ALICE, "alice", False),
        # Bob may use any name; Alice is pinned to hers: forced for her.
        (PINNED, ALICE, "alice", True),
        (PINNED, BOB, "bob", False),
        # No user name: role sessions and root are never forced.
        (policy(statement(ROOT, RULE)), SESSION, "alice", False),
        (policy(statement(ROOT, RULE)), ROOT, "root", False),
        # The policy does not admit the caller: it was not the policy in force.
        (CAROL_ONLY, ALICE, "alice", None),
        ("not json", ALICE, "alice", None),
        (policy(statement(ROOT, RULE)), "garbage", "alice", None),
    ],
)
def test_forced_for_the_caller(document, caller, name, expected):
    assert caller_forced_to_name(document, caller, name, role_arn=ROLE_ARN) is expected


def test_every_form_of_the_document_is_accepted():
    document = policy(statement(ROOT, RULE))
    text = json.dumps(document)
    for form in (document, text, urllib.parse.quote(text)):
        assert caller_forced_to_name(form, ALICE, "alice") is True


def test_an_oversized_document_cannot_tell():
    big = policy(*(statement(ROOT, RULE, sid=f"S{i}") for i in range(120)))
    assert caller_forced_to_name(big, ALICE, "alice") is None
