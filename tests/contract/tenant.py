"""A small tenant in moto for contract tests: one compliant and one non-compliant role."""

from __future__ import annotations

import json
from typing import Any

import boto3

from devkit.tenant_config import tenant_configuration

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
    config: dict[str, Any] = tenant_configuration(
        regions="us-east-1",
        bucket="contract-trail",
        lookback_hours=24,
        rule={
            "alert_kinds": ["posture", "noncompliant_activity"],
            "sensitive_actions": "s3:GetObject, iam:*",
        },
    )
    for step, values in overrides.items():
        config[step] = {**config[step], **values}
    return config
