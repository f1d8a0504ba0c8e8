"""The availability invariant (threat model): a pull over valid data plus one hostile item
completes, produces exactly the alerts of the valid data alone, and reports the hostile item
once, naming it; the next pull does not report it again (never retried forever).

Sources driven: S3 (moto server, whole pipeline through the local CE) and LookupEvents
(botocore Stubber, since moto lacks LookupEvents, through the pipeline's activity phase).
Damaged storage has its own property test (test_hostile_storage.py).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import PluginConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.activity_phase import (
    ActivityRun,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.posture_phase import (
    PostureState,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import (
    LookupEventsReader,
    RateLimiter,
)

from devkit.aws_emulator import MotoServer
from devkit.runner import StateDir, run_pull
from tests.contract.tenant import configuration
from tests.pipeline.hostile import (
    BUCKET,
    KINDS,
    NOW,
    alert_summary,
    fresh,
    seed_valid_trail,
    tenant,
    warnings,
)
from tests.pipeline.trail import assume_role, put_raw, role_action, trail_key
from tests.readers.helpers import ACCOUNT, Factory, FakeClock

DEEP = 200_000  # far past any parser's recursion limit


def _valid_record(event_id: str) -> dict[str, Any]:
    at = NOW - timedelta(hours=1)
    record = role_action("OpenRole", "h", "ASIAHOSTILEITEM00001", at)
    record["eventID"] = event_id
    return record


def _deep_record() -> bytes:
    record = json.dumps(_valid_record("hostile-deep")).encode()
    return record[:-1] + b', "x": ' + b"[" * DEEP + b"]" * DEEP + b"}"


def _bomb(inflated: int) -> bytes:
    """A gzip member inflating to ``inflated`` bytes of one repeated record (streamed: the
    test never holds the inflated form)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = json.dumps(_valid_record("bomb")).encode() + b","
    block = chunk * (1024 * 1024 // len(chunk))
    parts = [packer.compress(b'{"Records":[')]
    written = 0
    while written < inflated:
        parts.append(packer.compress(block))
        written += len(block)
    parts.append(packer.compress(b"{}]}"))
    parts.append(packer.flush())
    return b"".join(parts)


def _gz(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


# Whole hostile objects: the object is skipped and reported once by key.
HOSTILE_OBJECTS: dict[str, Callable[[], bytes]] = {
    "deep_nesting": lambda: _gz(b'{"Records":[' + b"[" * DEEP + b"]" * DEEP + b"]}"),
    "deep_nesting_plain": lambda: b"[" * DEEP + b"]" * DEEP,
    "records_not_a_list": lambda: _gz(b'{"Records": "everything"}'),
    "json_scalar": lambda: _gz(b'"Records"'),
    "invalid_utf8": lambda: _gz(b'{"Records":[{"eventID":"\xff\xfe"}]}'),
    "not_json": lambda: _gz(b"\x00\x01 definitely not JSON"),
    "gzip_bomb": lambda: _bomb(64 * 1024 * 1024),
    "absurd_record_count": lambda: _gz(b'{"Records":[' + b"{}," * 100_000 + b"{}]}"),
    "costly_shape": lambda: _gz(b'{"Records":[' + b"0," * 10_000_000 + b"0]}"),
}

# Hostile records inside an object of valid ones: the record is skipped and counted, the
# object's other records proceed.
HOSTILE_RECORDS: dict[str, bytes] = {
    "deep_record": _deep_record(),
    "record_is_a_string": b'"eventID"',
    "record_is_an_array": b"[1, 2, 3]",
    "user_identity_a_string": json.dumps(
        {**_valid_record("hostile-shape"), "userIdentity": "root"}
    ).encode(),
    "event_time_an_object": json.dumps(
        {**_valid_record("hostile-time"), "eventTime": {"at": 1}}
    ).encode(),
}


def _object_with(records: list[bytes]) -> bytes:
    return _gz(b'{"Records":[' + b",".join(records) + b"]}")


def _valid_object_records() -> list[bytes]:
    at = NOW - timedelta(hours=1)
    return [
        json.dumps(assume_role("erin", "OpenRole", "erin-job", "ASIAHOSTILEMIXED001", at)).encode(),
        json.dumps(
            role_action("OpenRole", "erin-job", "ASIAHOSTILEMIXED001", at + timedelta(minutes=1))
        ).encode(),
    ]


def _control(tmp_path: Path) -> list[tuple[str, str, str]]:
    return alert_summary(fresh(run_pull(tenant(), StateDir(tmp_path / "control"))))


@pytest.mark.parametrize("kind", sorted(HOSTILE_OBJECTS))
def test_s3_one_hostile_object(aws: MotoServer, tmp_path: Path, kind: str) -> None:
    seed_valid_trail(NOW)
    expected = _control(tmp_path)
    key = put_raw(BUCKET, NOW - timedelta(minutes=30), HOSTILE_OBJECTS[kind](), "H000000000000001")
    state = StateDir(tmp_path / "hostile")
    first = run_pull(tenant(), state, validate=False)
    assert alert_summary(fresh(first)) == expected
    health = first.storage["health"]
    # skipped whole, or (an array nested too deeply) as its one unusable record
    assert (health["objects_failed"], health["record_errors"]) in ((1, 0), (0, 1))
    assert sum(key in text for text in warnings(first)) == 1, warnings(first)
    second = run_pull(tenant(), state, validate=False)
    assert not any(key in text for text in warnings(second))
    assert second.storage["health"]["objects_failed"] == 0


@pytest.mark.parametrize("kind", sorted(HOSTILE_RECORDS))
def test_s3_one_hostile_record_in_a_valid_object(
    aws: MotoServer, tmp_path: Path, kind: str
) -> None:
    seed_valid_trail(NOW)
    at = NOW - timedelta(minutes=30)
    good = _valid_object_records()
    boto3.client("s3").put_object(
        Bucket=BUCKET, Key=trail_key(at, "M000000000000001"), Body=_object_with(good)
    )
    expected = _control(tmp_path)
    key = trail_key(at, "M000000000000002")
    mixed = _object_with([good[0], HOSTILE_RECORDS[kind], good[1]])
    # The same valid records again under another key: repeats (same eventID) are dropped,
    # so the alerts are those of the valid data alone only if the hostile record is the
    # only thing lost.
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=mixed)
    state = StateDir(tmp_path / "hostile")
    first = run_pull(tenant(), state, validate=False)
    assert alert_summary(fresh(first)) == expected
    assert first.storage["health"]["objects_failed"] == 0
    assert first.storage["health"]["record_errors"] == 1
    reported = [text for text in warnings(first) if key in text]
    assert len(reported) == 1 and "record 1" in reported[0], reported
    second = run_pull(tenant(), state, validate=False)
    assert not any(key in text for text in warnings(second))


# ------------------------------------------------------------------ LookupEvents


def _lookup_event(record: dict[str, Any] | None, text: str | None = None) -> dict[str, Any]:
    body = text if text is not None else json.dumps(record)
    event_id = record["eventID"] if record else f"hostile-{abs(hash(body)) % 10**8}"
    return {"EventId": event_id, "EventName": "x", "EventTime": NOW, "CloudTrailEvent": body}


def _lookup_pull(events: list[dict[str, Any]]) -> tuple[list[tuple[str, str, str]], Any]:
    """One pass of the activity phase over one LookupEvents page holding ``events``."""
    clock = FakeClock(NOW)
    factory = Factory()
    client = boto3.client(
        "cloudtrail",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    factory.clients[("cloudtrail", "us-east-1")] = client
    stub = Stubber(client)
    stub.add_response("lookup_events", {"Events": events})
    stub.activate()
    config = PluginConfig.from_configuration(
        configuration(
            cloudtrail={"source": "lookup_events", "bucket_name": ""},
            rule={"alert_kinds": KINDS},
        )
    )
    sources: dict[str, Any] = {}
    reader = LookupEventsReader(
        [factory],
        sources,
        regions=["us-east-1"],
        limiter=RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep),
        sleep=clock.sleep,
        clock=clock,
    )
    open_role = [f"arn:aws:iam::{ACCOUNT}:role/OpenRole", "not_enforced", "fp", "", "high"]
    posture = PostureState({"v": 1, "last_scan": None, "roles": [open_role]})
    run = ActivityRun(config, {"sources": sources}, posture, now=NOW.timestamp())
    run.read(reader)
    outcome = run.finish(caught_up=True)
    reader.commit()
    summary = sorted((a["id"], a["type"], a.get("user") or "") for a in outcome.alerts)
    return summary, reader.stats


def _valid_lookup_events() -> list[dict[str, Any]]:
    at = NOW - timedelta(hours=1)
    return [
        _lookup_event(assume_role("frank", "OpenRole", "frank-ci", "ASIAHOSTILELOOKUP01", at)),
        _lookup_event(
            role_action("OpenRole", "frank-ci", "ASIAHOSTILELOOKUP01", at + timedelta(minutes=1))
        ),
    ]


HOSTILE_EVENT_TEXTS: dict[str, str] = {
    "deep_nesting": "[" * DEEP + "]" * DEEP,
    "deep_inside_a_record": _deep_record().decode(),
    "not_json": "<html>nope</html>",
    "json_of_the_wrong_shape": '["eventID", 1]',
    "a_string": '"eventID"',
    "user_identity_a_number": json.dumps({**_valid_record("hostile-lookup"), "userIdentity": 5}),
    "huge": json.dumps({"eventID": "x" * 2_000_000}),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_EVENT_TEXTS))
def test_lookup_events_one_hostile_event(kind: str) -> None:
    valid = _valid_lookup_events()
    expected, _ = _lookup_pull(valid)
    assert any(t == "noncompliant_role_activity" for _, t, _ in expected)
    hostile = _lookup_event(None, HOSTILE_EVENT_TEXTS[kind])
    got, stats = _lookup_pull([valid[0], hostile, valid[1]])
    assert got == expected
    named = [p for p in stats.problems if hostile["EventId"] in p.message]
    assert [p.code for p in named] == ["event_unreadable"]
    assert stats.events_failed == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["eventID", "eventTime", "userIdentity", "x"]), inner)
        ),
        max_leaves=8,
    ).map(json.dumps)
    | st.text(max_size=40)
)
def test_lookup_events_any_cloudtrail_event_text(text: str) -> None:
    """Any text in CloudTrailEvent: the valid events' alerts are unchanged, and the text is
    either a usable event or reported once."""
    valid = _valid_lookup_events()
    expected, _ = _lookup_pull(valid)
    hostile = _lookup_event(None, text)
    got, stats = _lookup_pull([*valid, hostile])
    named = [p for p in stats.problems if hostile["EventId"] in p.message]
    if named:
        assert len(named) == 1 and stats.events_failed == 1
        assert got == expected
    else:  # decoded: a (strange) event of its own, never fewer alerts for the valid ones
        assert set(expected) <= set(got)


_TEXT = st.text(max_size=12) | st.sampled_from(
    [
        "2026-12-06T10:00:00Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "AssumeRole",
        "CreateRole",
        "UpdateAssumeRolePolicy",
        "sts.amazonaws.com",
        "AssumedRole",
        "IAMUser",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/OpenRole/x",
        f"arn:aws:iam::{ACCOUNT}:role/OpenRole",
        "Jul 10, 2023, 12:09:47 PM",
    ]
)
_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_PART_NAMES = [
    "type",
    "arn",
    "accessKeyId",
    "principalId",
    "accountId",
    "userName",
    "sessionContext",
    "sessionIssuer",
    "attributes",
    "creationDate",
    "sourceIdentity",
    "credentials",
    "assumedRoleUser",
    "roleArn",
    "roleSessionName",
    "roleName",
    "assumeRolePolicyDocument",
    "expiration",
]
_PART = st.recursive(
    st.dictionaries(st.sampled_from(_PART_NAMES), _ANY, max_size=5),
    lambda inner: st.dictionaries(st.sampled_from(_PART_NAMES), inner | _ANY, max_size=5),
    max_leaves=12,
)
_ODD_RECORD = st.fixed_dictionaries(
    {"eventID": st.uuids().map(str), "eventName": _TEXT, "eventSource": _TEXT, "eventTime": _TEXT},
    optional={
        "userIdentity": _PART,
        "requestParameters": _PART,
        "responseElements": _PART,
        "additionalEventData": _PART,
        "addendum": _PART,
        "recipientAccountId": _TEXT,
        "errorCode": _TEXT,
        "sharedEventID": _TEXT,
        "userAgent": _TEXT,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=_ODD_RECORD)
def test_lookup_events_any_decodable_record_never_fails_the_pull(record: dict[str, Any]) -> None:
    """A record of the right shape with any values in it (times that do not parse or
    overflow, identities and issuances that make no sense) is resolved or reported, never
    a failure of the pull."""
    valid = _valid_lookup_events()
    hostile = _lookup_event(record)
    _, stats = _lookup_pull([*valid, hostile])
    named = [p for p in stats.problems if hostile["EventId"] in p.message]
    # Either used as an event, or refused once with a problem naming it.
    assert stats.events_failed == len(named) <= 1
