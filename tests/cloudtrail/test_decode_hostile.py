"""Hostile objects and events end at their own boundary, on both paths: nesting past the
parsers' limits, too many records, shapes that cost far more than their bytes once decoded,
text that is not an event. Nothing but ``TrailObjectError`` (object) or a record error
(record, LookupEvents event) ever leaves the decoder."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloudtrail.helpers import FAST_AVAILABLE, decode, decoder, decoder_params, events

TrailObjectError = decode.TrailObjectError
RecordError = decode.RecordError
DEEP = 100_000


def _record(event_id: str) -> bytes:
    return json.dumps(
        {
            "eventID": event_id,
            "eventName": "GetObject",
            "eventSource": "s3.amazonaws.com",
            "eventTime": "2026-11-01T10:00:00Z",
        }
    ).encode()


def _deep(levels: int = DEEP) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest.fixture(params=decoder_params())
def trail(request: pytest.FixtureRequest) -> decode.TrailDecoder:
    return decoder(request.param)


@pytest.mark.parametrize("form", ["records", "array"])
def test_a_record_nested_too_deeply_is_lost_alone(trail: decode.TrailDecoder, form: str) -> None:
    deep = _record("deep")[:-1] + b', "x": ' + _deep() + b"}"
    body = b",".join([_record("a"), deep, _record("b")])
    data = b'{"Records": [' + body + b"]}" if form == "records" else b"[" + body + b"]"
    decoded = trail.decode_object(gzip.compress(data), name="k")
    assert [e.eventID for e in decoded.events] == ["a", "b"]
    assert decoded.errors == ["k: record 1: nested too deeply"]


def test_an_object_nested_too_deeply_everywhere_is_an_object_error(
    trail: decode.TrailDecoder,
) -> None:
    with pytest.raises(TrailObjectError, match=r"^k: JSON nested too deeply"):
        trail.decode_object(b'{"other": ' + _deep() + b', "Records": []}', name="k")


def test_brackets_inside_strings_do_not_confuse_the_split(trail: decode.TrailDecoder) -> None:
    tricky = json.dumps({**json.loads(_record("t")), "userAgent": '"]}[{,\\"'}).encode()
    deep = b'{"eventID": "d", "x": ' + _deep() + b"}"
    decoded = trail.decode_object(b"[" + tricky + b"," + deep + b"]", name="k")
    assert [e.eventID for e in decoded.events] == ["t"]
    assert decoded.events[0].userAgent == '"]}[{,\\"'
    assert len(decoded.errors) == 1


def test_more_records_than_allowed_is_an_object_error(trail: decode.TrailDecoder) -> None:
    data = b"[" + b",".join([_record("r")] * 11) + b"]"
    with pytest.raises(TrailObjectError, match="holds 11 records, over the 10 allowed"):
        trail.decode_object(data, name="k", max_records=10)
    assert len(trail.decode_object(data, name="k", max_records=11).events) == 11


@pytest.mark.parametrize(
    "unit",
    [b"0,", b"{},", b"[],", b'{"eventID":"a","eventName":"b","eventSource":"c","eventTime":"d"},'],
)
def test_costly_shapes_are_refused_before_decoding(trail: decode.TrailDecoder, unit: bytes) -> None:
    data = b"[" + unit * (3_000_000 // len(unit)) + b"0]"
    with pytest.raises(TrailObjectError, match="over the 10 MB allowed for one object"):
        trail.decode_object(data, name="k", max_decode_bytes=10_000_000)


def test_a_real_object_is_within_the_default_budget(trail: decode.TrailDecoder) -> None:
    record = json.loads(_record("r"))
    record["userIdentity"] = {"type": "AssumedRole", "accessKeyId": "ASIAEXAMPLE", "arn": "a" * 80}
    record["requestParameters"] = {"bucketName": "b" * 40, "key": "k" * 200}
    data = json.dumps({"Records": [record] * 20_000}).encode()  # ~10 MB
    assert len(data) > 2 * 1024 * 1024
    assert len(trail.decode_object(gzip.compress(data), name="k").events) == 20_000


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEEP + "]" * DEEP,
        '{"eventID": "x", "deep": ' + "[" * DEEP + "]" * DEEP + "}",
        "x" * (2 * 1024 * 1024),
        '"eventID"',
        "[1, 2]",
        '{"eventID": "\\ud800", "eventName": 5}',
    ],
    ids=["deep", "deep-inside", "huge", "string", "array", "wrong-types"],
)
def test_a_bad_cloudtrail_event_is_a_record_error(trail: decode.TrailDecoder, text: str) -> None:
    with pytest.raises(RecordError):
        trail.decode_event_json(text)


@pytest.mark.parametrize("fast", decoder_params())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_no_other_exception_leaves_the_decoder(fast: bool, data: bytes) -> None:
    the_decoder = decoder(fast)
    try:
        decoded = the_decoder.decode_object(data, name="hostile-object")
    except TrailObjectError as error:
        assert str(error).startswith("hostile-object: ")  # the problem names the object
    else:
        assert decoded.name == "hostile-object"
        assert all(isinstance(e, events.TrailEvent) for e in decoded.events)
        assert all(isinstance(e, str) and e for e in decoded.errors)
    try:
        event = the_decoder.decode_event_json(data)
    except RecordError as error:
        assert str(error)
    else:
        assert isinstance(event, events.TrailEvent)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["eventID", "eventTime", "userIdentity", "x"]), inner)
    ),
    max_leaves=10,
)
_hostile_record = _json.map(lambda v: json.dumps(v).encode()) | st.integers(2_000, 50_000).map(
    lambda depth: b'{"eventID": "deep", "x": ' + _deep(depth) + b"}"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile=_hostile_record, where=st.integers(0, 3), gz=st.booleans())
def test_one_hostile_record_costs_only_itself(hostile: bytes, where: int, gz: bool) -> None:
    """Valid records plus any one JSON value as a record, anywhere: every valid record is
    decoded, on both paths, and at most one error is reported."""
    valid = [_record(f"v{n}") for n in range(3)]
    records = [*valid[:where], hostile, *valid[where:]]
    data = b'{"Records": [' + b",".join(records) + b"]}"
    for fast in (True, False):
        try:
            the_decoder = decoder(fast)
        except RuntimeError:  # no fast path here
            continue
        decoded = the_decoder.decode_object(gzip.compress(data) if gz else data, name="k")
        ids = [e.eventID for e in decoded.events]
        assert [i for i in ids if i.startswith("v")] == ["v0", "v1", "v2"]
        assert len(decoded.errors) + len(ids) == 4


def _typed_shapes() -> dict[str, bytes]:
    """Records built to make typed decoding allocate as much as possible per byte of text:
    every declared part present and empty, every declared string two characters long (one
    character is a shared object), non-ASCII text, numbers that are not cached."""
    required = '"eventID":"","eventName":"","eventSource":"","eventTime":""'

    def strings(part: type[events.Model], value: str) -> str:
        return ",".join(f'"{f.name}":"{value}"' for f in events.fields_of(part) if f.scalar is str)

    parts = (
        '"userIdentity":{"sessionContext":{"attributes":{},"sessionIssuer":{}},'
        '"onBehalfOf":{}},"addendum":{},"requestParameters":{},"responseElements":'
        '{"credentials":{},"assumedRoleUser":{},"federatedUser":{}},'
        '"additionalEventData":{},"resources":[]'
    )
    records = {
        "minimal": "{" + required + "}",
        "empty parts": "{" + required + "," + parts + "}",
        "one big part": "{" + required + ',"requestParameters":{}}',
        "short strings": "{"
        + strings(events.TrailEvent, "ab")
        + ',"requestParameters":{'
        + strings(events.RequestParameters, "ab")
        + "}}",
        "non-ASCII strings": "{"
        + required
        + ',"requestParameters":{'
        + strings(events.RequestParameters, "\u00e9\u4e2d")
        + "}}",
        "numbers": "{" + required + ',"requestParameters":{"durationSeconds":123456789012}}',
    }
    return {
        name: ('{"Records":[' + ",".join([record] * (1_000_000 // len(record))) + "]}").encode()
        for name, record in records.items()
    }


@pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")
@pytest.mark.parametrize("shape", list(_typed_shapes()))
def test_typed_decoding_costs_at_most_its_bound_per_byte(shape: str) -> None:
    """The typed path decodes files of up to budget / ``_TYPED_MAX_PER_BYTE`` bytes without
    counting their structure: no text may cost more per byte than that bound."""
    import tracemalloc

    data = _typed_shapes()[shape]
    typed = decode.TrailDecoder(fast=True).fast
    assert typed is not None
    tracemalloc.start()
    try:
        records = typed.file.decode(data).Records
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert records, "the shape must be typed, not refused"
    assert peak <= decode._TYPED_MAX_PER_BYTE / 1.5 * len(data), f"{peak / len(data):.1f} per byte"
