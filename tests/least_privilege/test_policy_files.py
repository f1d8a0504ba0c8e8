"""The files in docs/iam/ are well-formed, use only documented placeholders, grant no
wildcard action, and the README's least-privilege section describes exactly them."""

from __future__ import annotations

import json
import re

import pytest

from .iam_policy import (
    IAM_DIR,
    MEMBER_STATEMENTS,
    MODE_STATEMENTS,
    PLACEHOLDER,
    REPO_ROOT,
    actions_of,
    load,
    sids,
    statements,
)

FILES = sorted(p.name for p in IAM_DIR.glob("*.json"))
PLACEHOLDERS = {
    "TRAIL_BUCKET",
    "TRAIL_PREFIX",
    "REGION",
    "ACCOUNT_ID",
    "QUEUE_NAME",
    "MANAGEMENT_ACCOUNT_ID",
    "EXTERNAL_ID",
}


def readme_section() -> str:
    text = (REPO_ROOT / "README.md").read_text("utf-8")
    start = text.index("### Least-privilege IAM policy")
    end = text.index("\n## ", start)
    return text[start:end]


@pytest.mark.parametrize("name", FILES)
def test_each_file_is_an_iam_policy_with_named_allow_statements(name: str) -> None:
    document = load(name)
    assert document["Version"] == "2012-10-17"
    names = sids(document)
    assert len(set(names)) == len(names) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in names)
    for statement in statements(document):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        assert all(a != "*" and not a.endswith(":*") for a in actions_of(statement))


def test_only_documented_placeholders_are_used_and_the_readme_explains_each() -> None:
    used = {p for name in FILES for p in PLACEHOLDER.findall((IAM_DIR / name).read_text())}
    assert used == PLACEHOLDERS
    section = readme_section()
    assert [p for p in sorted(PLACEHOLDERS) if f"`{p}`" not in section] == []


def test_the_readme_links_every_file_and_names_every_statement() -> None:
    section = readme_section()
    assert [n for n in FILES if f"(docs/iam/{n})" not in section] == []
    named = {sid for name in FILES for sid in sids(load(name))}
    assert [sid for sid in sorted(named) if f"`{sid}`" not in section] == []


def test_every_statement_of_the_plugin_policy_belongs_to_some_mode() -> None:
    in_modes = {sid for kept in MODE_STATEMENTS.values() for sid in kept}
    assert in_modes == set(sids(load("plugin-policy.json")))
    in_member_modes = {sid for kept in MEMBER_STATEMENTS.values() for sid in kept}
    assert in_member_modes == set(sids(load("member-audit-role-permissions.json")))


def test_the_files_are_formatted_as_committed() -> None:
    """Two-space JSON, as the README shows them, so a copy-paste diff stays readable."""
    for name in FILES:
        text = (IAM_DIR / name).read_text("utf-8")
        assert text == json.dumps(json.loads(text), indent=2) + "\n", name
