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
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
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


# --- bounded inputs -----------------------------------------------------------------------------


class _Endless(io.RawIOBase):
    """An input that never ends: the CLI must stop reading at its limit."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b" " * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def test_an_input_larger_than_the_limit_is_refused_without_reading_it_whole(capsys, monkeypatch):
    endless = _Endless()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(endless)))
    code, out, err = run(capsys, ["--max-input-bytes", "1000", "-"])
    assert code == 2 and out == ""
    assert "larger than the limit of 1000 bytes (--max-input-bytes)" in err
    assert endless.served < 64 * 1024  # one buffer, not 50 MB


def test_a_policy_larger_than_iam_allows_is_refused_naming_the_limit(capsys, monkeypatch):
    big = policy(*(statement(ROOT, RULE, sid=f"S{i}") for i in range(120)))
    code, out, err = run(capsys, ["-"], json.dumps(big), monkeypatch)
    assert code == 2 and out == ""
    assert "more than the limit of 8192 (--max-policy-chars" in err


def test_the_policy_limit_can_be_lowered_to_iams_default(capsys, monkeypatch):
    document = json.dumps(policy(*(statement(ROOT, RULE, sid=f"S{i}") for i in range(30))))
    assert 2048 < len(document) < 8192
    code, _, _ = run(capsys, ["-"], document, monkeypatch)
    assert code == 0
    code, _, err = run(capsys, ["--max-policy-chars", "2048", "-"], document, monkeypatch)
    assert code == 2 and "more than the limit of 2048" in err


def test_inside_a_listing_an_oversized_policy_is_unparseable_and_the_others_judged(
    capsys, monkeypatch
):
    big = policy(*(statement(ROOT, RULE, sid=f"S{i}") for i in range(120)))
    response = {
        "Roles": [
            {
                "RoleName": "big",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/big",
                "Path": "/",
                "AssumeRolePolicyDocument": big,
            },
            {
                "RoleName": "ok",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/ok",
                "Path": "/",
                "AssumeRolePolicyDocument": policy(statement(ROOT, RULE)),
            },
        ]
    }
    code, out, _ = run(capsys, ["-"], json.dumps(response), monkeypatch)
    verdicts = json.loads(out)
    assert code == 0
    assert [v["status"] for v in verdicts] == ["unparseable", "enforced"]
    assert verdicts[0]["reasons"][0]["code"] == "RSN053"
    assert "IAM allows at most 8192" in verdicts[0]["reasons"][0]["message"]
