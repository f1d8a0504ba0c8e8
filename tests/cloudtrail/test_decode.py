"""Decoding trail objects: shapes, object-level failures, record-level errors, both paths."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from tests.cloudtrail.helpers import (
    FAST_AVAILABLE,
    INVICTUS,
    STRATUS,
    decode,
    decoder,
    decoder_params,
    events,
)

INVICTUS_FILE = INVICTUS / "218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json"
STRATUS_FILE = STRATUS / "aws.persistence.sts-federation-token.json"
TrailObjectError = decode.TrailObjectError


def _record(**fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "eventID": "e-1",
        "eventName": "GetCallerIdentity",
        "eventSource": "sts.amazonaws.com",
        "eventTime": "2026-11-01T10:00:00Z",
        "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAEXAMPLE", "userName": "u"},
    }
    record.update(fields)
    return record


def _dicts(decoded: decode.DecodedObject) -> list[dict[str, object]]:
    return [events.to_dict(e) for e in decoded.events]


@pytest.fixture(params=decoder_params())
def trail(request: pytest.FixtureRequest) -> decode.TrailDecoder:
    return decoder(request.param)


def test_records_object_decodes_every_record(trail: decode.TrailDecoder) -> None:
    data = INVICTUS_FILE.read_bytes()
    decoded = trail.decode_object(data, name="f.json")
    assert len(decoded.events) == len(json.loads(data)["Records"])
    assert decoded.errors == []


def test_json_array_of_records_decodes(trail: decode.TrailDecoder) -> None:
    decoded = trail.decode_object(STRATUS_FILE.read_bytes(), name="a.json")
    assert [e.eventName for e in decoded.events] == ["GetFederationToken", "GetCallerIdentity"]


def test_gzip_object_decodes_like_the_plain_one(trail: decode.TrailDecoder) -> None:
    data = INVICTUS_FILE.read_bytes()
    plain = trail.decode_object(data, name="f.json")
    packed = trail.decode_object(gzip.compress(data), name="f.json.gz")
    assert _dicts(packed) == _dicts(plain)
    assert packed.decompressed_bytes == len(data)


def test_every_gzip_member_is_read(trail: decode.TrailDecoder) -> None:
    data = json.dumps([_record(eventID="a"), _record(eventID="b")]).encode()
    two_members = gzip.compress(data[:10]) + gzip.compress(data[10:])
    assert [e.eventID for e in trail.decode_object(two_members, name="m").events] == ["a", "b"]


def test_zero_padding_after_gzip_is_accepted(trail: decode.TrailDecoder) -> None:
    data = gzip.compress(json.dumps([_record()]).encode()) + b"\0" * 16
    assert len(trail.decode_object(data, name="p").events) == 1


def test_truncated_gzip_raises_naming_the_object(trail: decode.TrailDecoder) -> None:
    packed = gzip.compress(INVICTUS_FILE.read_bytes())
    with pytest.raises(TrailObjectError, match=r"^s3://b/k\.json\.gz: gzip data is truncated"):
        trail.decode_object(packed[: len(packed) // 2], name="s3://b/k.json.gz")


def test_corrupt_gzip_raises(trail: decode.TrailDecoder) -> None:
    packed = bytearray(gzip.compress(INVICTUS_FILE.read_bytes()))
    packed[40:60] = b"\xff" * 20
    with pytest.raises(TrailObjectError, match="k: gzip data is corrupt"):
        trail.decode_object(bytes(packed), name="k")


def test_garbage_after_gzip_raises(trail: decode.TrailDecoder) -> None:
    with pytest.raises(TrailObjectError, match="unexpected bytes after the gzip data"):
        trail.decode_object(gzip.compress(b"[]") + b"junk", name="k")


def test_gzip_bomb_is_refused_past_the_cap(trail: decode.TrailDecoder) -> None:
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    assert len(bomb) < 10_000
    with pytest.raises(TrailObjectError, match="inflates to more than 1000000 bytes"):
        trail.decode_object(bomb, name="bomb", max_decompressed_bytes=1_000_000)


def test_a_lying_size_trailer_does_not_lift_the_cap(trail: decode.TrailDecoder) -> None:
    bomb = bytearray(gzip.compress(b"[" + b" " * 5_000_000 + b"]"))
    bomb[-4:] = (100).to_bytes(4, "little")  # claims 100 bytes
    with pytest.raises(TrailObjectError, match="inflates to more than 1000000 bytes"):
        trail.decode_object(bytes(bomb), name="bomb", max_decompressed_bytes=1_000_000)


def test_plain_object_larger_than_the_cap_is_refused(trail: decode.TrailDecoder) -> None:
    with pytest.raises(TrailObjectError, match="exceed max_decompressed_bytes"):
        trail.decode_object(b"[" + b" " * 100 + b"]", name="big", max_decompressed_bytes=50)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (b"PK\x03\x04zipfile", "is neither gzip nor JSON"),
        (b'{"Records": [}', "malformed JSON"),
        (b'{"eventVersion": "1.08"}', 'not a CloudTrail object \\(no "Records" list\\)'),
        (b'{"Records": {"eventID": "x"}}', 'not a CloudTrail object \\(no "Records" list'),
        (b'{"Records": []} trailing', "malformed JSON"),
        (b'[{"eventID": NaN}]', "malformed JSON"),
        (b'{"Records": [{"eventID": "\xff"}]}', "not UTF-8 text"),
        (b"\xef\xbb\xbf[]", "is neither gzip nor JSON"),
    ],
)
def test_unusable_objects_raise_naming_the_object_and_problem(
    trail: decode.TrailDecoder, data: bytes, problem: str
) -> None:
    with pytest.raises(TrailObjectError, match=f"^obj: {problem}"):
        trail.decode_object(data, name="obj")


def test_a_scalar_document_is_not_cloudtrail() -> None:
    with pytest.raises(TrailObjectError, match="a JSON scalar"):
        decode._stdlib_object(b'"text"', "obj")


def test_unusable_records_are_errors_and_the_others_are_kept(trail: decode.TrailDecoder) -> None:
    records = [
        _record(eventID="good-1"),
        "not an object",
        _record(eventID=17),
        {"eventID": "no-name", "eventSource": "s", "eventTime": "t"},
        _record(eventID="bad-identity", userIdentity="IAMUser"),
        _record(eventID="good-2"),
    ]
    decoded = trail.decode_object(json.dumps({"Records": records}).encode(), name="o")
    assert [e.eventID for e in decoded.events] == ["good-1", "good-2"]
    assert decoded.errors == [
        "o: record 1: is a JSON string, not an object",
        "o: record 2: record: eventID is a JSON number, not a string",
        "o: record 3: event 'no-name': eventName is missing",
        "o: record 4: event 'bad-identity': userIdentity is not an object",
    ]
    assert decoded.records == 6


def test_a_mistyped_optional_field_reads_as_absent(trail: decode.TrailDecoder) -> None:
    record = _record(
        readOnly="true",
        requestParameters={"roleArn": 5, "name": {"first": "x"}, "durationSeconds": 900.0},
        responseElements="n/a",
    )
    record["userIdentity"] = {"type": "AssumedRole", "arn": ["x"], "accessKeyId": "ASIAX"}
    (event,) = trail.decode_object(json.dumps([record]).encode(), name="o").events
    assert event.readOnly is None
    assert event.responseElements is None
    assert event.requestParameters is not None
    assert event.requestParameters.roleArn is None
    assert event.requestParameters.name is None
    assert event.requestParameters.durationSeconds is None
    assert event.userIdentity is not None
    assert event.userIdentity.arn is None
    assert event.userIdentity.accessKeyId == "ASIAX"


def test_the_session_token_never_enters_the_model(trail: decode.TrailDecoder) -> None:
    data = (STRATUS / "aws.persistence.sts-federation-token.json").read_bytes()
    assert b"sessionToken" in data
    decoded = trail.decode_object(data, name="o")
    assert "sessionToken" not in json.dumps(_dicts(decoded))
    assert "IQoJb3JpZ2lu" not in repr(decoded.events)


@pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")
@pytest.mark.parametrize(
    "path",
    sorted(INVICTUS.glob("*.json")) + sorted(STRATUS.glob("*.json")),
    ids=lambda p: p.name[:48],
)
def test_fast_and_stdlib_paths_give_the_same_events(path: object) -> None:
    data = path.read_bytes()  # type: ignore[attr-defined]
    fast = decoder(True).decode_object(data, name="x")
    slow = decoder(False).decode_object(data, name="x")
    assert _dicts(fast) == _dicts(slow)
    assert fast.errors == slow.errors
    assert all(isinstance(e, events.TrailEvent) for e in fast.events + slow.events)


def test_lookup_events_string_decodes_to_an_event(trail: decode.TrailDecoder) -> None:
    text = json.dumps(_record(eventID="lookup-1"))
    assert trail.decode_event_json(text).eventID == "lookup-1"
    assert trail.decode_event_json(text.encode()).eventID == "lookup-1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not valid JSON"),
        ("[]", "is a JSON array, not an object"),
        (json.dumps({"eventID": "x"}), "eventName is missing"),
        (b"\xff", "not UTF-8"),
    ],
)
def test_unusable_lookup_events_string_raises_record_error(
    trail: decode.TrailDecoder, text: str | bytes, problem: str
) -> None:
    with pytest.raises(decode.RecordError, match=problem):
        trail.decode_event_json(text)


def test_module_level_helpers_use_the_default_decoder() -> None:
    data = json.dumps([_record(eventID="m-1")]).encode()
    assert decode.decode_trail_object(data, name="n").events[0].eventID == "m-1"
    assert decode.decode_event_json(json.dumps(_record(eventID="m-2"))).eventID == "m-2"
    assert decode.default_decoder().uses_fast_path == FAST_AVAILABLE


def test_stdlib_gunzip_agrees_with_zlib() -> None:
    data = INVICTUS_FILE.read_bytes()
    packed = gzip.compress(data)
    out = decode.gunzip(packed, name="n", limit=10**8, decompressobj=zlib.decompressobj)
    assert out == data
