"""Activity alerts name the resources touched: bounded, distinct, clean, order-independent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts import (
    activity_alerts,
    resources,
    session_windows,
)

from tests.alerts.test_session_windows import ROLE, resolved
from tests.cloudtrail.helpers import FAST_AVAILABLE, decoder

ACCOUNT = "111122223333"


def record(n: int = 0, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventID": f"evt-{n:04d}",
        "eventName": "ListObjects",
        "eventSource": "s3.amazonaws.com",
        "eventTime": f"2026-11-01T10:{n % 60:02d}:00Z",
    }
    base.update(fields)
    return base


def decoded(data: dict[str, Any], fast: bool = False) -> Any:
    return decoder(fast).decode_event_json(json.dumps(data))


def test_a_bucket_listing_names_the_bucket_once() -> None:
    event = decoded(
        record(
            requestParameters={"bucketName": "MySensitiveBucket", "list-type": "2"},
            resources=[{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::MySensitiveBucket"}],
        )
    )
    assert resources.resources_of(event) == ("arn:aws:s3:::MySensitiveBucket",)


def test_record_arns_come_first_and_bare_names_they_show_are_not_repeated() -> None:
    event = decoded(
        record(
            eventName="PutRolePolicy",
            eventSource="iam.amazonaws.com",
            requestParameters={
                "roleName": "Admin",
                "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
                "secretId": "prod/db",
                "userName": "ivy",
            },
            resources=[
                {"ARN": f"arn:aws:iam::{ACCOUNT}:role/Admin", "type": "AWS::IAM::Role"},
                "not an object",
                {"ARN": 12},
            ],
        )
    )
    assert resources.resources_of(event) == (
        f"arn:aws:iam::{ACCOUNT}:role/Admin",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "userName:ivy",
        "secretId:prod/db",
    )


def test_an_object_read_names_bucket_and_object() -> None:
    event = decoded(
        record(eventName="GetObject", requestParameters={"bucketName": "b", "key": "a/b.csv"})
    )
    assert resources.resources_of(event) == ("arn:aws:s3:::b", "arn:aws:s3:::b/a/b.csv")


def test_names_lose_unprintable_characters_and_are_cut() -> None:
    hostile = "evil\n[high] forged line\u202etxt.exe\x00" + "k" * 500
    event = decoded(record(requestParameters={"bucketName": "b", "key": hostile}))
    _, shown = resources.resources_of(event)
    assert "\n" not in shown and "\u202e" not in shown and "\x00" not in shown
    assert shown.startswith("arn:aws:s3:::b/evil[high] forged linetxt.exe")
    assert len(shown) == resources.MAX_RESOURCE_CHARS and shown.endswith("…")


@pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable")
def test_both_decoders_give_the_same_resources() -> None:
    for data in (
        record(requestParameters={"bucketName": "b", "key": "k"}, resources=[{"ARN": "a"}]),
        record(resources={"ARN": "not a list"}),
        record(resources=[{"ARN": "x"}, 3, None], requestParameters={"keyId": 5}),
    ):
        assert resources.resources_of(decoded(data, True)) == resources.resources_of(
            decoded(data, False)
        )


def window_of(order: list[int]) -> dict[str, Any]:
    windows = session_windows.SessionWindows(3600, 100, 86400)
    for n in order:
        event = decoded(record(n, requestParameters={"bucketName": f"bucket-{n:02d}"}))
        windows.add(event, resolved(held=False), ACCOUNT)
    (window,) = windows.save(now=1_793_527_200.0)
    return window


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=25).flatmap(lambda n: st.permutations(list(range(n)))))
def test_a_window_keeps_the_earliest_distinct_resources_whatever_the_order(
    order: list[int],
) -> None:
    window = window_of(order)
    expected = [f"arn:aws:s3:::bucket-{n:02d}" for n in sorted(order)][: resources.MAX_RESOURCES]
    assert window["resources"] == expected


def test_the_activity_alert_shows_the_resources_in_description_and_raw_data() -> None:
    windows = session_windows.SessionWindows(3600, 100, 86400)
    for n, bucket in enumerate(["MySensitiveBucket", "MySensitiveBucket", "logs"]):
        event = decoded(record(n, requestParameters={"bucketName": bucket}))
        key = windows.add(event, resolved(held=False), ACCOUNT)
    assert key is not None
    alert = activity_alerts.noncompliant_activity_alert(windows.windows[key], "not_enforced")
    raw = alert["rawData"]
    assert raw["resources"] == "arn:aws:s3:::MySensitiveBucket, arn:aws:s3:::logs"
    assert raw["description"].endswith(
        "Resources touched: arn:aws:s3:::MySensitiveBucket, arn:aws:s3:::logs."
    )
    assert raw["role_arn"] == ROLE and alert["user"].endswith(":user/ivy")


def test_a_window_without_resources_says_nothing_of_them() -> None:
    windows = session_windows.SessionWindows(3600, 100, 86400)
    key = windows.add(
        decoded(record(eventName="GetCallerIdentity", eventSource="sts.amazonaws.com")),
        resolved(held=False),
        ACCOUNT,
    )
    assert key is not None
    alert = activity_alerts.noncompliant_activity_alert(windows.windows[key], "not_enforced")
    assert alert["rawData"]["resources"] == ""
    assert "Resources touched" not in alert["rawData"]["description"]


def test_a_full_window_stays_bounded_in_storage() -> None:
    window = window_of(list(range(40)))
    assert len(window["resources"]) == len(window["resources_at"]) == resources.MAX_RESOURCES
    assert all(len(name) <= resources.MAX_RESOURCE_CHARS for name in window["resources"])
