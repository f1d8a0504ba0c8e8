"""Every trust policy of the shared public datasets is evaluated, with verdicts asserted.

* custodian-placebo: recorded ListRoles/GetRole responses (URL-encoded trust policies).
* access-analyzer-samples: AWS's reference/candidate trust policies (markdown, PASS/FAIL).
* CloudTrail CreateRole/UpdateAssumeRolePolicy events (Invictus and Stratus Red Team): the
  policy as a JSON string in requestParameters and URL-encoded in responseElements, the
  path the alert builder takes.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.trust.evaluator import (
    evaluate_policy,
    evaluate_role,
)

from tests.conftest import DATASETS

PLACEBO = DATASETS / "trust-policies" / "custodian-placebo"
SAMPLES = DATASETS / "trust-policies" / "access-analyzer-samples"
CLOUDTRAIL = DATASETS / "cloudtrail"

# --- custodian placebo ------------------------------------------------------------------------

# Role name -> expected status, for roles whose every recorded document gives the same verdict.
# All of these are trusted only by AWS services (lambda, ec2, config, apigateway, sagemaker...).
_SERVICE_ONLY = {
    "AmazonSageMaker-ExecutionRole-20180108T122369",
    "ApiGwLogger",
    "app1",
    "c7n-test-delete",
    "cloudcustodian-test",
    "config-role-us-east-1",
    "custodian-mu",
    "hello_world-role-wktizgp5",
    "lambda_basic_execution",
    "mandeep",
    "root_joshua",
    "test",
    "test-kms-role-gux84ofy",
    "test-role-us-east-1",
    "test_role",
}


def _placebo_expectation(role: dict[str, Any]) -> tuple[str, str]:
    """(status, leading code) a reviewer derives from the recorded role by hand."""
    name = role["RoleName"]
    document = role.get("AssumeRolePolicyDocument")
    if name == "AWSServiceRoleForSupport":
        return "exempt", "RSN040"  # path /aws-service-role/support.amazonaws.com/
    if document is None:
        return "unparseable", "RSN051"  # ListRoles recording without the trust policy
    decoded = json.loads(urllib.parse.unquote(document))
    statements = decoded.get("Statement", [])
    if not statements:
        return "unsatisfiable", "RSN014"  # {"Version": "2012-10-17"}: nobody can assume
    if all(s["Effect"] == "Deny" for s in statements):
        return "unsatisfiable", "RSN014"  # only a Deny for ec2.amazonaws.com
    if any("AWS" in s["Principal"] for s in statements):
        # CloudCustodianRole: the account root and an IAM user, no condition at all.
        return "not_enforced", "RSN001"
    assert name in _SERVICE_ONLY or name in {
        "CloudCustodianRole",
        "c7n-pratyush-test",
        "accountmgr-dev",
    }, name
    return "exempt", "RSN042"


def _placebo_files() -> list[Path]:
    return sorted(PLACEBO.glob("*.json"))


def test_the_placebo_recordings_are_present():
    assert len(_placebo_files()) == 105


@pytest.mark.parametrize("path", _placebo_files(), ids=lambda p: p.name)
def test_placebo_recording_roles_get_the_expected_verdict(path):
    recording = json.loads(path.read_text("utf-8"))
    data = recording["data"]
    if "Error" in data:
        # Four GetRole recordings of deleted roles: no role, nothing to evaluate.
        assert recording["status_code"] == 404
        assert data["Error"]["Code"] == "NoSuchEntity"
        return
    roles = data.get("Roles") or [data["Role"]]
    assert roles
    for role in roles:
        result = evaluate_role(role)
        status, code = _placebo_expectation(role)
        assert (result.status.value, result.reasons[0].code.value) == (status, code), role[
            "RoleName"
        ]


def test_placebo_url_encoded_policies_equal_their_decoded_form():
    for path in _placebo_files():
        data = json.loads(path.read_text("utf-8"))["data"]
        for role in data.get("Roles") or ([data["Role"]] if "Role" in data else []):
            raw = role.get("AssumeRolePolicyDocument")
            if raw is None:
                continue
            decoded = json.loads(urllib.parse.unquote(raw))
            assert evaluate_policy(raw).status is evaluate_policy(decoded).status


# --- access-analyzer samples ----------------------------------------------------------------

_HEADING = re.compile(r"^#{2,6}\s+(?P<title>.+?)\s*$", re.MULTILINE)
_JSON_BLOCK = re.compile(r"```json\s*\n(?P<body>.*?)```", re.DOTALL)

# File stem -> expected (heading prefix, our status) per JSON block, in order. The samples check
# *which* principals are trusted (allowlists); our rule checks that AWS principals must name
# their session after themselves. Where they agree and where they differ is noted per block.
_SAMPLE_EXPECTATIONS: dict[str, list[tuple[str, str]]] = {
    "allowlist-account-principals": [
        # Reference: two accounts, no session-name condition; the "*" statement has NotAction
        # sts:AssumeRole and so grants no assumption at all.
        ("Reference policy", "not_enforced"),
        # PASS for them (allowlisted account) - FAIL for us: no session-name condition.
        ("Candidate policy 1: PASS", "not_enforced"),
        # PASS for them - FAIL for us: a role principal has no aws:username (real gap).
        ("Candidate policy 2: PASS", "not_enforced"),
        # Federated (OIDC) only: outside our rule, exempt; they pass it too.
        ("Candidate policy 3: PASS", "exempt"),
        # FAIL for them (service not allowlisted) - exempt for us: services have no user name.
        ("Candidate policy 4: FAIL", "exempt"),
        # FAIL for both: an AWS account/role trusted without the condition.
        ("Candidate policy 5: FAIL", "not_enforced"),
        ("Candidate policy 6: FAIL", "not_enforced"),
    ],
    "allowlist-aws-service-principal": [
        # Services only ("*" has NotAction sts:AssumeRole): exempt.
        ("Reference policy", "exempt"),
        ("Candidate policy 1: PASS", "exempt"),
        ("Candidate policy 2: PASS", "exempt"),
        # FAIL for them (glue not allowlisted) - exempt for us, as above.
        ("Candidate policy 3: FAIL", "exempt"),
        # FAIL for both: AWS principals without the condition.
        ("Candidate policy 4: FAIL", "not_enforced"),
        ("Candidate policy 4: FAIL", "not_enforced"),
    ],
    "allowlist-federated-access-oidc": [
        # Reference: "*" with NotAction [AssumeRoleWithSAML, AssumeRoleWithWebIdentity] DOES
        # grant sts:AssumeRole to every principal of every account, without the condition.
        ("Reference policy", "not_enforced"),
        ("Candidate policy 1: PASS", "exempt"),
        ("Candidate policy 2: PASS", "exempt"),
        # FAIL for them (provider not allowlisted) - exempt for us: federated, no user name.
        ("Candidate policy 3: FAIL", "exempt"),
        ("Candidate policy 4: FAIL", "exempt"),
        ("Candidate policy 5: FAIL", "exempt"),
    ],
    "allowlist-federated-access-saml": [
        ("Reference policy", "not_enforced"),  # same "*" NotAction pattern as the OIDC file
        ("Candidate policy 1: PASS", "exempt"),
        ("Candidate policy 2: PASS", "exempt"),
        ("Candidate policy 3: FAIL", "exempt"),
        ("Candidate policy 4: FAIL", "exempt"),
        ("Candidate policy 5: FAIL", "exempt"),
    ],
}


def sample_blocks(markdown: str) -> list[tuple[str, str]]:
    """(nearest heading above, JSON text) for each ```json block of a samples file."""
    headings = [(m.start(), m.group("title")) for m in _HEADING.finditer(markdown)]
    blocks = []
    for match in _JSON_BLOCK.finditer(markdown):
        title = next((t for start, t in reversed(headings) if start < match.start()), "")
        blocks.append((title, match.group("body")))
    return blocks


def sample_files(directory: Path = SAMPLES) -> list[Path]:
    return sorted(p for p in directory.glob("*.md") if p.is_file() and p.stat().st_size > 0)


def check_sample_file(path: Path) -> None:
    expected = _SAMPLE_EXPECTATIONS[path.stem]
    blocks = sample_blocks(path.read_text("utf-8"))
    assert len(blocks) == len(expected), path.name
    for (title, body), (prefix, status) in zip(blocks, expected, strict=True):
        assert title.startswith(prefix), (path.name, title)
        result = evaluate_policy(body)
        assert result.status.value == status, (path.name, title, result.codes)


def test_access_analyzer_sample_verdicts():
    files = sample_files()
    if not files:
        pytest.skip(
            f"{SAMPLES} holds no markdown samples (the dataset copy left a 0-byte file named "
            "'*.md'); re-copy resource-policies/role-trust-policies/*.md from "
            "aws-samples/iam-access-analyzer-custom-policy-check-samples"
        )
    assert {p.stem for p in files} == set(_SAMPLE_EXPECTATIONS)
    for path in files:
        check_sample_file(path)


def test_sample_reference_policy_with_wildcard_not_action_is_publicly_assumable():
    # The pattern of the federated samples' reference policies, inline so it is always checked.
    reference = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::<ACCOUNT ID>:oidc-provider/MyProvider"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": ["sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"],
            },
        ],
    }
    result = evaluate_policy(reference)
    assert result.status.value == "not_enforced"
    assert result.publicly_assumable


def test_sample_markdown_parser_pairs_blocks_with_their_headings():
    markdown = (
        '## Title\n#### Reference policy\n```json\n{"Version": "2012-10-17"}\n```\n'
        "###### Candidate policy 1: PASS - x\n```json\n{}\n```\n"
    )
    assert sample_blocks(markdown) == [
        ("Reference policy", '{"Version": "2012-10-17"}\n'),
        ("Candidate policy 1: PASS - x", "{}\n"),
    ]


# --- CloudTrail trust-policy changes ---------------------------------------------------------


def _trust_policy_events() -> list[dict[str, Any]]:
    events = []
    for path in sorted(CLOUDTRAIL.glob("*/*.json")):
        loaded = json.loads(path.read_text("utf-8"))
        records = loaded["Records"] if isinstance(loaded, dict) else loaded
        events.extend(
            r for r in records if r.get("eventName") in ("CreateRole", "UpdateAssumeRolePolicy")
        )
    return events


def test_cloudtrail_datasets_hold_trust_policy_changes():
    assert len(_trust_policy_events()) == 17


def _principal_accounts(document: dict[str, Any]) -> set[str]:
    accounts = set()
    for item in document["Statement"]:
        for entry in [item["Principal"].get("AWS", [])]:
            for text in entry if isinstance(entry, list) else [entry]:
                accounts.add(text.split(":")[4] if text.startswith("arn:") else text)
    return accounts


def test_cloudtrail_request_and_response_policies_get_the_expected_verdicts():
    for event in _trust_policy_events():
        params = event["requestParameters"]
        text = params.get("assumeRolePolicyDocument") or params["policyDocument"]
        account = event["recipientAccountId"]
        result = evaluate_policy(text, account_id=account, partition="aws")
        foreign = _principal_accounts(json.loads(text)) - {account}
        has_aws = bool(_principal_accounts(json.loads(text)))
        # Stratus Red Team trusts its own account (or a foreign one) without any condition;
        # every other role is trusted by an AWS service only.
        assert result.status.value == ("not_enforced" if has_aws else "exempt")
        assert set(result.cross_account_unpinned) == {f"arn:aws:iam::{a}:root" for a in foreign}
        response = (event.get("responseElements") or {}).get("role") or {}
        if "assumeRolePolicyDocument" in response:
            encoded = response["assumeRolePolicyDocument"]
            assert encoded.startswith("%7B")
            assert evaluate_policy(encoded, account_id=account).status is result.status


def test_cloudtrail_backdoor_adds_an_unpinned_foreign_account():
    updates = [
        e
        for e in _trust_policy_events()
        if e["eventName"] == "UpdateAssumeRolePolicy"
        and "193672423079" in e["requestParameters"]["policyDocument"]
    ]
    assert updates
    for event in updates:
        result = evaluate_policy(
            event["requestParameters"]["policyDocument"],
            account_id=event["recipientAccountId"],
            partition="aws",
        )
        assert result.status.value == "not_enforced"
        assert result.cross_account_unpinned == ("arn:aws:iam::193672423079:root",)
        assert result.offending_statements == (1,)
