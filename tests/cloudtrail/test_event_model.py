"""The declared event model and its two implementations."""

from __future__ import annotations

import json

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import (
    fast_model,
    stdlib_model,
)

from tests.cloudtrail.helpers import FAST_AVAILABLE, decoder, events

RECORD = {
    "eventID": "e-1",
    "eventName": "AssumeRole",
    "eventSource": "sts.amazonaws.com",
    "eventTime": "2026-11-01T10:00:00Z",
    "readOnly": True,
    "tlsDetails": {"tlsVersion": "TLSv1.3"},
    "userIdentity": {
        "type": "AssumedRole",
        "accessKeyId": "ASIAPARENT",
        "sessionContext": {
            "sessionIssuer": {"arn": "arn:aws:iam::1:role/R"},
            "sourceIdentity": "sid",
        },
    },
    "requestParameters": {"roleArn": "arn:aws:iam::1:role/T", "durationSeconds": 900},
    "responseElements": {"credentials": {"accessKeyId": "ASIACHILD", "sessionToken": "secret"}},
}


def test_every_declared_part_lists_its_fields_in_declaration_order() -> None:
    names = [f.name for f in events.fields_of(events.TrailEvent)]
    assert names[:4] == ["eventID", "eventName", "eventSource", "eventTime"]
    assert all(f.required for f in events.fields_of(events.TrailEvent)[:4])
    assert not any(f.required for f in events.fields_of(events.TrailEvent)[4:])
    parts = {f.name: f.part for f in events.fields_of(events.UserIdentity) if f.part}
    assert parts == {"sessionContext": events.SessionContext, "onBehalfOf": events.OnBehalfOf}


def test_to_dict_keeps_declared_present_fields_only() -> None:
    event = decoder(False).decode_event_json(json.dumps(RECORD))
    shape = events.to_dict(event)
    assert "tlsDetails" not in shape
    assert shape["responseElements"] == {"credentials": {"accessKeyId": "ASIACHILD"}}
    assert shape["userIdentity"]["sessionContext"]["sourceIdentity"] == "sid"
    assert events.to_dict(stdlib_model.event_from_mapping(shape)) == shape


def test_stdlib_views_are_trail_events_and_read_the_record_lazily() -> None:
    event = stdlib_model.event_from_mapping(dict(RECORD))
    assert isinstance(event, events.TrailEvent)
    assert isinstance(event.userIdentity, events.UserIdentity)
    assert event.requestParameters is not None
    assert event.requestParameters.durationSeconds == 900
    assert repr(event).startswith("TrailEvent({'eventID': 'e-1'")


@pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")
def test_fast_structs_are_trail_events_of_the_same_shape() -> None:
    assert fast_model.DECODERS is not None
    event = fast_model.DECODERS.event.decode(json.dumps(RECORD))
    assert isinstance(event, events.TrailEvent)
    assert isinstance(event.userIdentity.sessionContext, events.SessionContext)
    assert events.to_dict(event) == events.to_dict(stdlib_model.event_from_mapping(dict(RECORD)))
    assert events.declaration_of(type(event)) is events.TrailEvent


def test_session_events_are_those_of_assumed_roles_and_federated_identities() -> None:
    session = decoder(False).decode_event_json(json.dumps(RECORD))
    user = decoder(False).decode_event_json(
        json.dumps({**RECORD, "userIdentity": {"type": "IAMUser"}})
    )
    assert events.is_session_event(session)
    assert not events.is_session_event(user)


def test_a_held_view_keeps_exactly_what_the_model_declares() -> None:
    """A held stdlib event is packed without what the model does not declare (at every
    level), and reads back as the event it was: the typed decoder keeps the same."""
    record = json.loads(json.dumps(RECORD))
    record["requestParameters"]["policy"] = "x" * 10_000  # undeclared: not kept
    record["userIdentity"]["sessionContext"]["webIdFederationData"] = {"big": "y" * 10_000}
    event = stdlib_model.event_from_mapping(record)
    packed = stdlib_model.pack_held(event)
    assert isinstance(packed, bytes)
    assert len(packed) < 2_000
    back = stdlib_model.unpack_held(packed)
    assert events.to_dict(back) == events.to_dict(event)
    assert back.requestParameters is not None
    assert back.requestParameters.durationSeconds == 900
    assert back.responseElements is not None and back.responseElements.credentials is not None
    assert back.responseElements.credentials.accessKeyId == "ASIACHILD"


def test_an_msgspec_too_old_for_the_fast_path_leaves_the_stdlib_path() -> None:
    """A copy of msgspec in the CE image wins over the vendored one; one that lacks what the
    typed decoders use must not break the plugin's import."""
    import types

    class _OldRaw:  # no ``copy``
        pass

    assert fast_model.build_decoders(None) is None
    assert fast_model.build_decoders(types.SimpleNamespace(Raw=_OldRaw)) is None

    def defstruct(*args: object, **kwargs: object) -> None:
        raise TypeError("defstruct() got an unexpected keyword argument 'namespace'")

    class _Raw:
        def copy(self) -> None: ...

    old = types.SimpleNamespace(
        Raw=_Raw,
        defstruct=defstruct,
        ValidationError=ValueError,
        DecodeError=ValueError,
    )
    assert fast_model.build_decoders(old) is None
    if FAST_AVAILABLE:
        import msgspec

        assert fast_model.build_decoders(msgspec) is not None
