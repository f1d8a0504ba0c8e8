"""Both decoding paths agree, whatever bytes an object holds.

Every comparison needs the msgspec fast path, so those tests carry the skip marker; that the
stdlib path alone never crashes is ``test_decode_hostile``'s job.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cloudtrail.helpers import FAST_AVAILABLE, decode, decoder, decoder_params, events

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
needs_fast = pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# Field names the model declares, so random values land where the decoders look.
_NAMES = sorted({f.name for part in events.DECLARATIONS for f in events.fields_of(part)})


def _shaped(value_strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects shaped like records (declared names, any values), nested like records."""
    leaf = st.dictionaries(st.sampled_from(_NAMES), value_strategy, max_size=8)
    return st.recursive(
        leaf,
        lambda inner: st.dictionaries(st.sampled_from(_NAMES), inner | value_strategy, max_size=8),
        max_leaves=20,
    )


record_like = st.fixed_dictionaries(
    {},
    optional={
        "eventID": st.text(max_size=6) | json_scalars,
        "eventName": st.sampled_from(["AssumeRole", "GetObject"]) | json_scalars,
        "eventSource": st.sampled_from(["sts.amazonaws.com", "s3.amazonaws.com"]) | json_scalars,
        "eventTime": st.just("2026-11-01T10:00:00Z") | json_scalars,
        "userIdentity": _shaped(json_values) | json_values,
        "requestParameters": _shaped(json_values) | json_values,
        "responseElements": _shaped(json_values) | json_values,
        "readOnly": json_values,
        "addendum": _shaped(json_values) | json_values,
    },
)


def _outcome(fast: bool, data: bytes) -> tuple[str, Any]:
    try:
        decoded = decoder(fast).decode_object(data, name="o", max_decompressed_bytes=10**6)
    except decode.TrailObjectError as error:
        return "object-error", str(error)
    return "decoded", ([events.to_dict(e) for e in decoded.events], decoded.errors)


def _same_on_both_paths(data: bytes) -> None:
    assert _outcome(True, data) == _outcome(False, data)


@needs_fast
@FUZZ
@given(st.lists(record_like | json_values, max_size=6), st.booleans())
def test_any_records_decode_or_fail_per_record_alike_on_both_paths(
    records: list[Any], wrapped: bool
) -> None:
    document = {"Records": records} if wrapped else records
    _same_on_both_paths(json.dumps(document).encode())


@needs_fast
@FUZZ
@given(json_values)
def test_any_json_document_is_decoded_or_refused_alike(document: Any) -> None:
    _same_on_both_paths(json.dumps(document).encode())


@needs_fast
@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_decoded_or_refused_alike(data: bytes) -> None:
    _same_on_both_paths(data)


@needs_fast
@FUZZ
@given(st.lists(record_like, min_size=1, max_size=4), st.data())
def test_invalid_utf8_anywhere_is_refused_alike(records: list[Any], data: st.DataObject) -> None:
    text = json.dumps({"Records": records}).encode()
    position = data.draw(st.integers(min_value=0, max_value=len(text)))
    broken = (
        text[:position]
        + data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
        + text[position:]
    )
    _same_on_both_paths(broken)


@pytest.mark.parametrize("fast", decoder_params())
@FUZZ
@given(st.lists(record_like, min_size=1, max_size=4), st.data())
def test_truncated_gzip_is_refused_alike(
    fast: bool, records: list[Any], data: st.DataObject
) -> None:
    packed = gzip.compress(json.dumps({"Records": records}).encode())
    cut = data.draw(st.integers(min_value=1, max_value=len(packed) - 1))
    refused = _outcome(fast, packed[:cut])
    assert refused[0] == "object-error"
    assert refused[1].startswith("o: ")  # the problem names the object
    if fast:
        assert refused == _outcome(False, packed[:cut])


@needs_fast
@FUZZ
@given(st.text(max_size=40) | st.builds(json.dumps, record_like))
def test_lookup_event_strings_decode_or_raise_record_error_alike(text: str) -> None:
    def outcome(fast: bool) -> tuple[str, Any]:
        try:
            return "event", events.to_dict(decoder(fast).decode_event_json(text))
        except decode.RecordError as error:
            return "record-error", str(error)

    assert outcome(True) == outcome(False)


@needs_fast
@FUZZ
@given(st.lists(record_like, max_size=5), st.sampled_from(["eventID", "eventName", "junk"]))
def test_lone_surrogate_escapes_are_decoded_alike(records: list[Any], field: str) -> None:
    odd = {"eventID": "e", "eventName": "n", "eventSource": "s", "eventTime": "t"}
    odd[field] = "lone \ud800 and \udfff"
    text = json.dumps({"Records": [*records, odd]})  # ensure_ascii: \ud800 escapes
    assert "\\ud800" in text
    _same_on_both_paths(text.encode())
