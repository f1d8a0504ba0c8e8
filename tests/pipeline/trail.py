"""Project-authored CloudTrail records for pipeline tests (shapes copied from real trails)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_identity(user: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{user.upper():0<17}"[:21],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "accountId": ACCOUNT,
        "accessKeyId": f"AKIA{user.upper():0<16}"[:20],
        "userName": user,
    }


def assume_role(user: str, role: str, session: str, key: str, at: datetime) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": user_identity(user),
        "eventTime": iso(at),
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "roleSessionName": session,
        },
        "responseElements": {
            "credentials": {
                "accessKeyId": key,
                "sessionToken": "redacted",
                "expiration": (at + timedelta(hours=1)).strftime("%b %d, %Y, %I:%M:%S %p"),
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROAEXAMPLEROLEID0001:{session}",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            },
        },
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }


def role_action(
    role: str,
    session: str,
    key: str,
    at: datetime,
    name: str = "ListBuckets",
    source: str = "s3.amazonaws.com",
    created: datetime | None = None,
) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLEROLEID0001:{session}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID0001",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                    "accountId": ACCOUNT,
                    "userName": role,
                },
                "attributes": {
                    "creationDate": iso(created or at - timedelta(minutes=1)),
                    "mfaAuthenticated": "false",
                },
            },
        },
        "eventTime": iso(at),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": name.startswith(("List", "Get", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
    }


def trail_key(at: datetime, suffix: str) -> str:
    return (
        f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{at:%Y/%m/%d}/"
        f"{ACCOUNT}_CloudTrail_{REGION}_{at:%Y%m%dT%H%MZ}_{suffix}.json.gz"
    )


def put_trail_file(
    bucket: str, at: datetime, records: list[dict[str, Any]], suffix: str = "AAAAAAAAAAAAAAAA"
) -> str:
    key = trail_key(at, suffix)
    body = gzip.compress(json.dumps({"Records": records}).encode("utf-8"))
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return key


def put_raw(bucket: str, at: datetime, body: bytes, suffix: str) -> str:
    key = trail_key(at, suffix)
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return key
