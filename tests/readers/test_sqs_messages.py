"""The SQS message parser is total: any body, of any shape or size, gives a
``ParsedMessage``; a wrong one gives an ``error`` that says where and what, bounded,
without echoing the values it found."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.sqs_messages import (
    MAX_BODY_CHARS,
    MAX_KEY_BYTES,
    MAX_OBJECTS_PER_MESSAGE,
    ParsedMessage,
    parse_message_body,
    shown,
)

BUCKET = "trail-bucket-0001"
KEY = (
    "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/"
    "123456789012_CloudTrail_us-east-1_20261129T1155Z_AbCdEfGh12345678.json.gz"
)
MARKER = "SECRET-VALUE-7f3a"  # planted in hostile values: must never come back in an error


def s3_event(key: Any = KEY, bucket: Any = BUCKET) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 20}},
            }
        ]
    }


def eventbridge(detail: Any) -> dict[str, Any]:
    return {"detail-type": "Object Created", "source": "aws.s3", "detail": detail}


def sns(message: Any) -> dict[str, Any]:
    return {"Type": "Notification", "Message": message}


def error_of(doc: Any) -> str:
    parsed = parse_message_body(json.dumps(doc))
    assert not parsed.objects
    return parsed.error


# ------------------------------------------------------------------ each hostile class


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("just a string", "the message is a string, expected a JSON object"),
        ([1, 2], "the message is a list, expected a JSON object"),
        (eventbridge("a string"), "detail is a string, expected an object"),
        (eventbridge({"bucket": BUCKET}), "detail.bucket is a string, expected an object"),
        ({"Records": {"0": {}}}, "Records is an object, expected a list"),
        ({"Records": ["x"]}, "Records[0] is a string, expected an object"),
        ({"Records": [{"eventName": "ObjectCreated:Put", "s3": 7}]}, "Records[0].s3 is a number"),
        (s3_event(key=12345), "Records[0].s3.object.key is a number, expected a string"),
        (s3_event(bucket=["b"]), "Records[0].s3.bucket.name is a list, expected a string"),
        (s3_event(bucket="Not A Bucket!"), "Records[0].s3.bucket.name is not a valid S3 bucket"),
        (s3_event(key=""), "Records[0].s3.object.key is empty"),
        (s3_event(key="k" * (MAX_KEY_BYTES + 1)), "is not a valid S3 key"),
        (s3_event(key="AWSLogs/\ud800.json.gz"), "is not a valid S3 key"),
        (sns({"s3Bucket": BUCKET}), "the SNS envelope's Message is an object, expected a string"),
        ({"s3Bucket": BUCKET, "s3ObjectKey": KEY}, "s3ObjectKey is a string, expected a list"),
        ({"s3Bucket": 5, "s3ObjectKey": [KEY]}, "s3Bucket is a number, expected a string"),
        ({"s3Bucket": BUCKET, "s3ObjectKey": [KEY, None]}, "s3ObjectKey[1] is null"),
        ({"hello": 1}, "not an S3 object notification"),
    ],
)
def test_a_wrong_shape_at_any_level_is_named_by_its_path_and_type(doc: Any, expected: str) -> None:
    assert expected in error_of(doc)


def test_absurd_record_counts_are_refused_without_reading_them() -> None:
    doc = {"Records": [s3_event()["Records"][0]] * (MAX_OBJECTS_PER_MESSAGE + 1)}
    assert f"has {MAX_OBJECTS_PER_MESSAGE + 1} entries" in error_of(doc)


def test_deep_nesting_is_an_error_not_a_recursion_error() -> None:
    assert "nested too deeply" in parse_message_body("[" * 200_000 + "]" * 200_000).error
    inner = '{"a":' * 100_000 + "1" + "}" * 100_000
    assert "nested too deeply" in parse_message_body(json.dumps(sns(inner))).error


def test_huge_bodies_and_invalid_text_are_errors() -> None:
    big = json.dumps("x" * 256_000)  # a 256 KB body of valid JSON, the wrong shape
    assert parse_message_body(big).error == "the message is a string, expected a JSON object"
    assert "over" in parse_message_body(" " * (MAX_BODY_CHARS + 1)).error
    assert parse_message_body(b"\xff\xfe{}").error == "the message body is not valid UTF-8"
    assert parse_message_body(None).error == "the message body is null, expected text"
    assert parse_message_body("9" * 5000).error == "the message body is not JSON"


def test_control_characters_in_a_key_are_kept_for_s3_but_escaped_when_shown() -> None:
    key = "AWSLogs/\x1b[31m\u202e\r\nx.json.gz"
    (obj,) = parse_message_body(json.dumps(s3_event(key=key))).objects
    assert obj.key == key
    assert shown(key) == "AWSLogs/\\u001b[31m\\u202e\\u000d\\u000ax.json.gz"
    assert shown("é" * 1000, 10) == "é" * 10 + "…"


def test_a_region_that_is_not_a_region_name_is_not_used_for_an_endpoint() -> None:
    doc = s3_event()
    doc["Records"][0]["awsRegion"] = "evil.example.com/x"
    (obj,) = parse_message_body(json.dumps(doc)).objects
    assert obj.region == ""


def test_wrong_types_where_nothing_depends_on_them_are_tolerated() -> None:
    doc = s3_event()
    doc["Records"][0]["s3"]["object"]["size"] = "20"
    doc["Records"][0]["awsRegion"] = 7
    (obj,) = parse_message_body(json.dumps(doc)).objects
    assert (obj.key, obj.size, obj.region) == (KEY, None, "")


# ------------------------------------------------------------------ the property

FIELDS = (
    "Records", "s3", "bucket", "object", "key", "name", "eventName", "Type", "Message",
    "detail", "detail-type", "source", "s3Bucket", "s3ObjectKey", "Event",
)  # fmt: skip
any_text = st.text(st.characters(exclude_categories=()), max_size=30)  # surrogates too
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | any_text
    | st.just(MARKER),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

TEMPLATES = [
    s3_event(),
    sns(json.dumps(s3_event())),
    eventbridge({"bucket": {"name": BUCKET}, "object": {"key": KEY}}),
    {"s3Bucket": BUCKET, "s3ObjectKey": [KEY]},
]


def _paths(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(_paths(value, (*path, key)))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.extend(_paths(value, (*path, i)))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


@st.composite
def mutated_notifications(draw: st.DrawFn) -> str:
    """A real notification with one value, anywhere in it, replaced by any JSON."""
    template = draw(st.sampled_from(TEMPLATES))
    path = draw(st.sampled_from(_paths(template)))
    return json.dumps(_replace(template, path, draw(json_values)))


hostile_bodies = st.one_of(
    mutated_notifications(),
    json_values.map(json.dumps),
    st.text(st.characters(exclude_categories=()), max_size=200),
    st.binary(max_size=200),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_bodies)
def test_any_body_parses_to_a_result_or_a_bounded_error_that_echoes_nothing(body: Any) -> None:
    parsed = parse_message_body(body)
    assert isinstance(parsed, ParsedMessage)
    if parsed.error:
        assert not parsed.objects
        assert len(parsed.error) <= 200
        assert MARKER not in parsed.error
    for obj in parsed.objects:
        assert 0 < len(obj.key.encode("utf-8")) <= MAX_KEY_BYTES
        assert 3 <= len(obj.bucket) <= 63
