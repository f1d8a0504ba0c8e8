"""``python -m devkit trust-eval``: every input form, JSON output, exit codes."""

from __future__ import annotations

import io
import json
import urllib.parse

import pytest

from devkit.trust_eval import main
from tests.conftest import DATASETS
from tests.trust.builders import ACCOUNT, ROOT, RULE, policy, statement

PLACEBO = DATASETS / "trust-policies" / "custodian-placebo"


def run(capsys, argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bare_policy_from_stdin_prints_one_verdict(capsys, monkeypatch):
    code, out, _ = run(capsys, ["-"], json.dumps(policy(statement(ROOT))), monkeypatch)
    result = json.loads(out)
    assert code == 0
    assert result["status"] == "not_enforced"
    assert result["reasons"][0]["code"] == "RSN001"
    assert result["fixed_policy"]["Statement"][0]["Condition"] == RULE
    assert result["remediation_command"] is None


def test_role_name_option_adds_the_command_for_a_bare_policy(capsys, monkeypatch):
    document = urllib.parse.quote(json.dumps(policy(statement(ROOT))))
    code, out, _ = run(capsys, ["--role-name", "ops"], document, monkeypatch)
    assert code == 0
    assert json.loads(out)["remediation_command"].startswith(
        "aws iam update-assume-role-policy --role-name ops "
    )


def test_a_role_object_file_prints_the_role_verdict(capsys, tmp_path):
    path = tmp_path / "role.json"
    path.write_text(
        json.dumps(
            {
                "RoleName": "deploy",
                "Path": "/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/deploy",
                "AssumeRolePolicyDocument": policy(statement(ROOT, RULE)),
            }
        )
    )
    code, out, _ = run(capsys, [str(path)])
    assert code == 0
    assert json.loads(out)["status"] == "enforced"


def test_a_placebo_list_roles_recording_prints_a_list_with_role_arns(capsys):
    code, out, _ = run(capsys, [str(PLACEBO / "test_delete_role__iam.ListRoles_1.json")])
    results = json.loads(out)
    assert code == 0
    assert [(r["role_arn"].rsplit("/", 1)[1], r["status"]) for r in results] == [
        ("AWSServiceRoleForSupport", "exempt"),
        ("c7n-test-delete", "exempt"),
    ]


def test_a_placebo_get_role_recording_prints_one_object(capsys):
    code, out, _ = run(capsys, [str(PLACEBO / "test_iam_role_tags__iam.GetRole_1.json")])
    assert code == 0
    assert isinstance(json.loads(out), dict)


def test_a_gaad_response_is_read_from_role_detail_list(capsys, monkeypatch):
    response = {
        "RoleDetailList": [
            {
                "RoleName": "a",
                "Path": "/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/a",
                "AssumeRolePolicyDocument": policy(statement(ROOT)),
            },
            {
                "RoleName": "b",
                "Path": "/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/b",
                "AssumeRolePolicyDocument": policy(statement(ROOT, RULE)),
            },
        ]
    }
    code, out, _ = run(capsys, ["--exempt", "a"], json.dumps(response), monkeypatch)
    assert code == 0
    assert [r["status"] for r in json.loads(out)] == ["exempt", "enforced"]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["/nonexistent/roles.json"], None, "cannot read /nonexistent/roles.json"),
        (["-"], "", "the input is empty"),
        (["-"], "not json", "not JSON or URL-encoded JSON"),
    ],
)
def test_unreadable_input_exits_2_with_a_message(capsys, monkeypatch, argv, stdin, message):
    code, out, err = run(capsys, argv, stdin, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.startswith("trust-eval: ") and message in err


def test_a_recorded_error_response_exits_2(capsys):
    path = PLACEBO / "test_aws_lambda_check_permission_deleted_role__iam.GetRole_1.json"
    code, _, err = run(capsys, [str(path)])
    assert code == 2
    assert "NoSuchEntity" in err
