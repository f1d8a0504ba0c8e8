"""How CloudTrail shapes a call's parameters, resources and host: pure functions of the call.

Kept apart from the recorder's state so the per-service quirks (S3 sub-resources, data-event
operations, renamed events) can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devkit.trail_recorder.formats import jsonable, lower_camel
from devkit.trail_recorder.principals import (
    Principal,
    SessionPrincipal,
    UserPrincipal,
)

# S3 operations CloudTrail logs as *data* events (object level and object listing).
S3_DATA_OPERATIONS = frozenset(
    {
        "GetObject",
        "HeadObject",
        "PutObject",
        "DeleteObject",
        "DeleteObjects",
        "CopyObject",
        "ListObjects",
        "ListObjectsV2",
        "ListObjectVersions",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "RestoreObject",
        "SelectObjectContent",
    }
)
# CloudTrail names some API operations differently from the SDK.
EVENT_NAME_ALIASES = {("s3", "ListObjectsV2"): "ListObjects"}
# S3 bucket sub-resources CloudTrail shows as an empty-valued request parameter.
S3_SUBRESOURCES = {
    "GetBucketAcl": "acl",
    "GetBucketPolicy": "policy",
    "GetBucketLocation": "location",
    "GetBucketVersioning": "versioning",
    "GetBucketTagging": "tagging",
    "GetBucketEncryption": "encryption",
    "GetBucketLogging": "logging",
}


def denied_message(caller: Principal, role_arn: str) -> str:
    who = caller.arn if isinstance(caller, UserPrincipal | SessionPrincipal) else "anonymous"
    return f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


def role_resource(role_arn: str) -> dict[str, Any]:
    return {"accountId": role_arn.split(":")[4], "type": "AWS::IAM::Role", "ARN": role_arn}


def is_read_only(operation: str) -> bool:
    return operation.startswith(("Get", "List", "Describe", "Head", "Lookup")) or operation in {
        "AssumeRole",
        "GetCallerIdentity",
    }


def request_host(service: str, region: str, params: Mapping[str, Any]) -> str:
    if service == "iam":
        return "iam.amazonaws.com"
    if service == "s3":
        bucket = params.get("Bucket")
        return f"{bucket}.s3.{region}.amazonaws.com" if bucket else f"s3.{region}.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


def request_parameters(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> dict[str, Any] | None:
    """``requestParameters`` as CloudTrail shapes them for the calls the demo makes."""
    if service == "sts" and operation == "AssumeRole":
        shaped: dict[str, Any] = {
            "roleArn": params["RoleArn"],
            "roleSessionName": params["RoleSessionName"],
        }
        for source, target in (
            ("DurationSeconds", "durationSeconds"),
            ("ExternalId", "externalId"),
            ("SourceIdentity", "sourceIdentity"),
            ("Policy", "policy"),
            ("SerialNumber", "serialNumber"),
        ):
            if params.get(source) is not None:
                shaped[target] = params[source]
        if params.get("Tags"):
            shaped["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in params["Tags"]]
        return shaped
    if service == "s3":
        return s3_request_parameters(operation, params, region)
    if service == "iam" and params.get("Tags"):
        params = {
            **params,
            "Tags": [{"key": t["Key"], "value": t["Value"]} for t in params["Tags"]],
        }
    shaped = {lower_camel(k): jsonable(v) for k, v in params.items()}
    return shaped or None


def s3_request_parameters(operation: str, params: Mapping[str, Any], region: str) -> dict[str, Any]:
    bucket = params.get("Bucket")
    if bucket is None:
        return {"Host": f"s3.{region}.amazonaws.com"}
    shaped: dict[str, Any] = {}
    if operation == "ListObjectsV2":
        shaped["list-type"] = "2"
    shaped["bucketName"] = bucket
    if operation in ("ListObjects", "ListObjectsV2"):
        shaped["encoding-type"] = params.get("EncodingType", "url")
        shaped["prefix"] = params.get("Prefix", "")
        if params.get("MaxKeys") is not None:
            shaped["max-keys"] = str(params["MaxKeys"])
    shaped["Host"] = f"{bucket}.s3.{region}.amazonaws.com"
    if params.get("Key") is not None:
        shaped["key"] = params["Key"]
    if operation in S3_SUBRESOURCES:
        shaped[S3_SUBRESOURCES[operation]] = ""
    return shaped


def s3_resources(
    operation: str, params: Mapping[str, Any], account_id: str
) -> list[dict[str, Any]] | None:
    bucket = params.get("Bucket")
    if not bucket:
        return None
    bucket_resource = {
        "accountId": account_id,
        "type": "AWS::S3::Bucket",
        "ARN": f"arn:aws:s3:::{bucket}",
    }
    if params.get("Key") is not None:
        return [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{params['Key']}"},
            bucket_resource,
        ]
    return [bucket_resource]
