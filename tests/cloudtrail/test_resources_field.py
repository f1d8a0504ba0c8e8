"""A record's ``resources``: read alike on both paths, and never a hold on its trail file."""

from __future__ import annotations

import gzip
import json
import sys
from typing import Any

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import (
    events,
    resolver,
)

from tests.cloudtrail.helpers import FAST_AVAILABLE, decoder, decoder_params

BASE = {
    "eventVersion": "1.08",
    "eventID": "e-1",
    "eventName": "GetObject",
    "eventSource": "s3.amazonaws.com",
    "eventTime": "2026-11-01T10:00:00Z",
}
SHAPES: list[Any] = [
    [{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object", "accountId": "1"}],
    [{"ARN": 5}, "text", None, {"ARN": "arn:aws:s3:::b"}],  # odd items: objects kept
    [],
    None,
    "not a list",
    {"ARN": "an object, not a list"},
]


def _file(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


@pytest.mark.parametrize("fast", decoder_params())
@pytest.mark.parametrize("shape", SHAPES, ids=[f"shape{n}" for n in range(len(SHAPES))])
def test_resources_read_the_same_on_both_paths(fast: bool, shape: Any) -> None:
    record = dict(BASE, resources=shape)
    (event,) = decoder(fast).decode_object(_file([record]), name="f").events
    (view,) = decoder(False).decode_object(_file([record]), name="f").events
    assert events.to_dict(event) == events.to_dict(view)
    listed = event.resources
    if isinstance(shape, list):
        assert listed is not None
        expected = [x.get("ARN") if isinstance(x.get("ARN"), str) else None for x in shape
                    if isinstance(x, dict)]  # fmt: skip
        assert [item.ARN for item in listed] == expected
    else:
        assert listed is None


@pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")
def test_a_held_event_keeps_no_hold_on_its_trail_file() -> None:
    """The fast path keeps ``resources`` as a slice of the file's buffer until read; an event
    the resolver keeps (held for its issuance, or given up) must not keep that buffer."""
    signed = dict(
        BASE,
        userIdentity={"type": "AssumedRole", "accessKeyId": "ASIAWAITING", "principalId": "x"},
        resources=[{"ARN": "arn:aws:s3:::b/k", "type": "AWS::S3::Object"}],
    )
    the_decoder = decoder(True)
    payload = json.dumps({"Records": [signed] + [dict(BASE, eventID=f"o-{n}") for n in range(50)]})
    data = payload.encode()
    baseline = sys.getrefcount(data)
    decoded = the_decoder.fast.file.decode(data).Records  # what the decoder does with a file
    assert sys.getrefcount(data) > baseline, "the raw resources slice the buffer"
    the_resolver = resolver.IdentityResolver()
    result = the_resolver.resolve(decoded)
    assert the_resolver.holds.held_count == 1
    assert "e-1" not in {event.eventID for event in result.events}
    del decoded, result
    assert sys.getrefcount(data) == baseline, "the held event still holds the file's buffer"
    (held,) = the_resolver.drain().events
    assert [item.ARN for item in held.resources or []] == ["arn:aws:s3:::b/k"]
