"""A small tenant in moto for contract tests: one compliant and one non-compliant role."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY

ACCOUNT = "123456789012"
OPEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
ENFORCED_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
        }
    ],
}


def seed_small_tenant(bucket: str = "contract-trail") -> None:
    iam = boto3.client("iam")
    iam.create_role(RoleName="OpenRole", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST))
    iam.create_role(RoleName="EnforcedRole", AssumeRolePolicyDocument=json.dumps(ENFORCED_TRUST))
    boto3.client("s3").create_bucket(Bucket=bucket)


def configuration(**overrides: dict[str, Any]) -> dict[str, Any]:
    """A full configuration (every step) for the small tenant."""
    config: dict[str, Any] = {
        "aws": {
            "authentication_method": "access_keys",
            "access_key_id": DEMO_ACCESS_KEY_ID,
            "secret_access_key": DEMO_SECRET_ACCESS_KEY,
            "role_arn": "",
            "external_id": "",
            "regions": "us-east-1",
            "account_scope": "single_account",
            "member_role_name": "RoleSessionAuditor",
        },
        "cloudtrail": {
            "source": "s3",
            "bucket_name": "contract-trail",
            "bucket_prefix": "",
            "sqs_queue_url": "",
            "lookback_hours": 24,
            "index_budget_mb": 8,
        },
        "rule": {
            "alert_kinds": ["posture", "noncompliant_activity"],
            "activity_scope": "all",
            "sensitive_actions": "s3:GetObject, iam:*",
            "exempt_role_patterns": "",
            "posture_interval_minutes": 60,
            "aggregation_window_minutes": 60,
            "max_alerts_per_pull": 1000,
        },
        "splunk": {
            "hec_url": "",
            "hec_token": "",
            "index": "",
            "sourcetype": "netskope:ce:aws:rolesession",
            "use_ack": "no",
        },
    }
    for step, values in overrides.items():
        config[step] = {**config[step], **values}
    return config
