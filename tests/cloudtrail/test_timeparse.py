"""CloudTrail's time formats, read without the locale or the clock."""

from __future__ import annotations

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail.timeparse import (
    format_iso,
    parse_expiration,
    parse_iso,
)

TEN_PAST_NOON = 1_688_991_000.0  # 2023-07-10T12:10:00Z


@pytest.mark.parametrize(
    "text",
    [
        "Jul 10, 2023, 12:10:00 PM",
        "Jul 10, 2023, 12:10:00\u202fPM",  # narrow no-break space, as newer locales write it
        "Jul 10, 2023 12:10:00 PM",
        "July 10, 2023, 12:10 PM",
        "2023-07-10T12:10:00Z",
        "2023-07-10T12:10:00.000Z",
        "2023-07-10T14:10:00+02:00",
    ],
)
def test_expiration_formats_read_the_same_instant(text: str) -> None:
    assert parse_expiration(text) == TEN_PAST_NOON


@pytest.mark.parametrize(
    ("text", "hour"),
    [
        ("Jul 10, 2023, 12:05:00 AM", 0),
        ("Jul 10, 2023, 1:05:00 AM", 1),
        ("Jul 10, 2023, 11:05:00 PM", 23),
    ],
)
def test_twelve_hour_clock_maps_to_the_right_hour(text: str, hour: int) -> None:
    parsed = parse_expiration(text)
    assert parsed is not None
    assert format_iso(parsed) == f"2023-07-10T{hour:02d}:05:00Z"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "soon",
        "Foo 10, 2023, 1:00:00 PM",
        "Feb 30, 2023, 1:00:00 PM",
        "Jul 10, 2023, 13:00:00 PM",
    ],
)
def test_unreadable_expirations_are_none(text: str | None) -> None:
    assert parse_expiration(text) is None


def test_event_times_are_utc_epoch_seconds_and_naive_ones_count_as_utc() -> None:
    assert parse_iso("2023-07-10T12:10:00Z") == TEN_PAST_NOON
    assert parse_iso("2023-07-10T12:10:00") == TEN_PAST_NOON
    assert parse_iso("not a time") is None
    assert parse_iso(None) is None


def test_times_are_written_back_as_cloudtrail_writes_them() -> None:
    assert format_iso(TEN_PAST_NOON + 0.9) == "2023-07-10T12:10:00Z"
