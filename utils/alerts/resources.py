"""The resources an action touched: what an analyst needs beside who did it.

"Who listed s3://MySensitiveBucket?" needs the bucket in the alert, not only
``s3:ListObjects``. Each event gives the ARNs of its record's ``resources`` (CloudTrail
fills it for data events and many management events) and the names found in well-known
request parameters (``bucketName``, ``key``, ``roleName``, ``policyArn``, ``secretId``...).
Session windows keep a bounded set of them (the earliest distinct ones by event time, so
the same set however events are split across files and pulls); alerts show them in the
description and as ``rawData["resources"]``.

Every name is attacker-influenced text (object keys, function names): characters that are
not printable (control, format and separator characters, which could forge lines in a
ticket or hide text) are dropped and each name is cut to ``MAX_RESOURCE_CHARS``.
"""

from __future__ import annotations

from typing import Final

from ..cloudtrail.events import TrailEvent

MAX_RESOURCES: Final = 10  # per session window (and so per alert)
MAX_RESOURCE_CHARS: Final = 200
MAX_RECORD_RESOURCES: Final = 20  # entries of one record's ``resources`` looked at
ELLIPSIS: Final = "…"

# Request parameters naming what a call acted on; an ARN is kept as is, any other value
# as ``<parameter>:<value>`` so the reader knows what kind of name it is.
NAMED_PARAMETERS: Final = (
    "roleArn",
    "policyArn",
    "topicArn",
    "queueUrl",
    "roleName",
    "userName",
    "groupName",
    "instanceId",
    "functionName",
    "secretId",
    "keyId",
    "tableName",
)


def clean(text: str) -> str:
    """``text`` without non-printable characters, at most ``MAX_RESOURCE_CHARS`` long."""
    shown = "".join(ch for ch in text[: MAX_RESOURCE_CHARS * 4] if ch.isprintable()).strip()
    if len(shown) > MAX_RESOURCE_CHARS:
        shown = shown[: MAX_RESOURCE_CHARS - 1] + ELLIPSIS
    return shown


def _covered(name: str, found: list[str]) -> bool:
    """Whether ``name`` (a bare name) is already shown within one of ``found``'s ARNs."""
    return any(f == name or f.endswith((f"/{name}", f":{name}")) for f in found)


def resources_of(event: TrailEvent) -> tuple[str, ...]:
    """The distinct, cleaned names and ARNs of what ``event`` acted on, record ARNs first."""
    found: list[str] = []

    def add(value: str) -> None:
        shown = clean(value)
        if shown and shown not in found:
            found.append(shown)

    listed = event.resources
    if listed is not None:
        for item in listed[:MAX_RECORD_RESOURCES]:
            if item.ARN:
                add(item.ARN)
    params = event.requestParameters
    if params is None:
        return tuple(found)
    bucket = params.bucketName
    if bucket:
        add(f"arn:aws:s3:::{bucket}")
        if params.key:
            add(f"arn:aws:s3:::{bucket}/{params.key}")
    for name in NAMED_PARAMETERS:
        value = getattr(params, name)
        if not value:
            continue
        if value.startswith(("arn:", "https://")):
            add(value)
        elif not _covered(value, found):
            add(f"{name}:{value}")
    return tuple(found)


def resources_field(resources: list[str]) -> str:
    """``rawData["resources"]``: the names comma-separated; empty, not absent, when the
    events named none, so a queue mapping ``$resources`` renders nothing rather than CE's
    ``value_unavailable``."""
    return ", ".join(resources)


def describe_resources(resources: list[str]) -> str:
    """The description's sentence naming the resources (empty when there are none)."""
    if not resources:
        return ""
    more = " (the first distinct ones)" if len(resources) >= MAX_RESOURCES else ""
    return f" Resources touched{more}: {', '.join(resources)}."


__all__ = [
    "MAX_RESOURCES",
    "describe_resources",
    "resources_field",
    "resources_of",
]
