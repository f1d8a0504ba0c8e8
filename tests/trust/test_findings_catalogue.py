"""One catalogue owns every finding's words; code only emits codes."""

from __future__ import annotations

import re
from pathlib import Path

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust import findings
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.findings import (
    CATALOGUE,
    Code,
    Severity,
)

TRUST_DIR = Path(findings.__file__).parent


def test_every_code_has_exactly_one_catalogue_entry():
    assert set(CATALOGUE) == set(Code)
    assert len({c.value for c in Code}) == len(Code)
    assert all(re.fullmatch(r"RSN\d{3}", c.value) for c in Code)


def test_every_entry_has_title_severity_explanation_and_remediation():
    for code, entry in CATALOGUE.items():
        assert entry.code is code
        assert entry.title and entry.explanation and entry.remediation and entry.message
        assert isinstance(entry.severity, Severity)


def test_explanations_of_rule_findings_cite_the_iam_documentation():
    # Input problems and the configuration rest on no IAM rule; which duplicate key IAM
    # honoured is undocumented (the catalogue says so).
    uncited = {Code.EXEMPT_CONFIGURED, Code.UNPARSEABLE, Code.NO_TRUST_POLICY, Code.DUPLICATE_KEYS}
    for code, entry in CATALOGUE.items():
        if code not in uncited:
            assert re.search(r"\[[A-Z]+\]", entry.explanation), code


def test_every_message_template_renders_with_its_named_parameters():
    params = dict.fromkeys(
        (
            "statement",
            "principals",
            "values",
            "operator",
            "example",
            "deny",
            "why",
            "version",
            "effect",
            "keys",
            "reading",
            "key",
            "path",
            "pattern",
            "policy_status",
            "error",
            "name",
            "imitated",
            "reserved",
            "work",
            "budget",
            "size",
            "limit",
        ),
        "x",
    )
    for entry in CATALOGUE.values():
        assert "{" not in entry.message.format_map(params).replace("${aws:username}", "")


def test_no_user_facing_finding_text_lives_outside_the_catalogue():
    # The evaluator builds reasons from codes; titles never appear in its source.
    for module in ("evaluator.py", "analysis.py", "witness.py", "verdict.py"):
        source = (TRUST_DIR / module).read_text("utf-8")
        for entry in CATALOGUE.values():
            assert entry.title not in source, (module, entry.code)
