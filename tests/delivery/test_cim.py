"""An alert becomes a HEC envelope whose event follows the Splunk CIM Alerts data model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.cim import (
    alert_epoch,
    envelope_version,
    to_envelope,
)


@pytest.fixture
def activity(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return alerts[1]


def test_the_envelope_has_hec_metadata_and_the_alert_time(activity: dict[str, Any]) -> None:
    envelope = to_envelope(activity, index="security", host="ce-prod-1")
    assert envelope["time"] == datetime(2026, 11, 28, 9, 42, 10, tzinfo=UTC).timestamp()
    assert envelope["host"] == "ce-prod-1"
    assert envelope["sourcetype"] == "netskope:ce:aws:rolesession"
    assert envelope["source"] == "netskope_ce:aws_role_session_cto"
    assert envelope["index"] == "security"


def test_an_empty_index_is_left_to_the_token_default(activity: dict[str, Any]) -> None:
    envelope = to_envelope(activity)
    assert "index" not in envelope and "host" not in envelope


def test_the_event_carries_the_cim_alerts_fields(activity: dict[str, Any]) -> None:
    event = to_envelope(activity)["event"]
    assert event["id"] == activity["id"]
    assert event["app"] == "AWS IAM"
    assert event["type"] == "alert"
    assert event["severity"] == "high"
    assert event["signature"] == "Action through a non-compliant role"
    assert event["signature_id"] == "noncompliant_role_activity"
    assert event["description"].startswith("support_user assumed MyBucketRole")
    assert event["dest"] == "arn:aws:iam::111122223333:role/MyBucketRole"
    assert event["dest_type"] == "aws_iam_role"
    assert event["src"] == "198.51.100.23"
    assert event["user"] == "support_user"
    assert event["user_name"] == "support_user"
    assert event["vendor_account"] == "111122223333"
    assert event["vendor_region"] == "us-east-1"


def test_every_raw_data_key_is_a_flat_field_of_the_event(activity: dict[str, Any]) -> None:
    event = to_envelope(activity)["event"]
    for key, value in activity["rawData"].items():
        assert event[key] == value
    assert event["alert_type"] == "Activity"


def test_a_raw_data_key_that_collides_with_a_cim_field_is_kept_under_raw(
    activity: dict[str, Any],
) -> None:
    activity["rawData"]["type"] = "aggregated"
    event = to_envelope(activity)["event"]
    assert event["type"] == "alert"
    assert event["raw_type"] == "aggregated"


def test_a_severity_outside_the_cim_values_is_unknown(activity: dict[str, Any]) -> None:
    activity["rawData"]["severity"] = "other"
    assert to_envelope(activity)["event"]["severity"] == "unknown"


def test_the_version_is_stable_for_the_same_content_and_changes_with_it(
    activity: dict[str, Any],
) -> None:
    first = to_envelope(activity)
    assert envelope_version(to_envelope(dict(activity))) == envelope_version(first)
    activity["rawData"]["event_counts"] = {"s3:ListObjects": 4, "s3:GetObject": 1}
    changed = to_envelope(activity)
    assert envelope_version(changed) != envelope_version(first)
    assert changed["event"]["alert_version"] == envelope_version(changed)


def test_the_version_ignores_where_the_event_is_sent(activity: dict[str, Any]) -> None:
    assert envelope_version(to_envelope(activity, index="a")) == envelope_version(
        to_envelope(activity, index="b", host="h")
    )


@pytest.mark.parametrize(
    "timestamp",
    [
        datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 9, 0),  # naive: CE's UTC
        "2026-11-28T09:00:00Z",
        "2026-11-28T10:00:00+01:00",
        1795856400,
    ],
)
def test_alert_timestamps_become_epoch_seconds(timestamp: Any) -> None:
    assert alert_epoch(timestamp) == 1795856400.0
