"""CloudTrail's S3 key layout: both layouts parse, stray objects are recognised, the
look-back StartAfter key sorts right, and the compact key encoding round-trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.layout import (
    TrailPrefix,
    decode_suffix,
    encode_suffix,
    logs_root,
    parse_trail_key,
    skip_reason,
    start_after,
    time_token,
)

from tests.readers.helpers import at, trail_key

WHEN = at("2026-11-29T12:05:00")


def test_standard_layout_key_parses_to_its_account_region_folder():
    key = trail_key(WHEN, root="trails/prod/AWSLogs/", region="eu-west-1")
    parsed = parse_trail_key(key)
    assert parsed is not None
    assert parsed.prefix == TrailPrefix("trails/prod/AWSLogs/", "", "123456789012", "eu-west-1")
    assert parsed.prefix.path == "trails/prod/AWSLogs/123456789012/CloudTrail/eu-west-1/"
    assert parsed.suffix.startswith("2026/11/29/123456789012_CloudTrail_eu-west-1_20261129T1205Z_")


def test_organization_layout_key_carries_the_org_id():
    key = trail_key(WHEN, org="o-a1b2c3d4e5", account="210987654321")
    parsed = parse_trail_key(key)
    assert parsed is not None
    assert parsed.prefix.org_id == "o-a1b2c3d4e5"
    assert parsed.prefix.account_id == "210987654321"
    assert parsed.prefix.path == "AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail/us-east-1/"


def test_keys_outside_a_cloudtrail_region_folder_do_not_parse():
    assert parse_trail_key("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/x.json.gz") is None
    assert parse_trail_key("AWSLogs/123456789012/elasticloadbalancing/us-east-1/x") is None
    assert parse_trail_key("random/key.json") is None


def test_digest_insight_and_non_json_objects_are_not_log_files():
    assert skip_reason("AWSLogs/1/CloudTrail-Digest/us-east-1/2026/x_Digest.json.gz") == "digest"
    assert skip_reason("AWSLogs/1/CloudTrail-Insight/us-east-1/2026/x.json.gz") == "insight"
    assert skip_reason("AWSLogs/1/CloudTrail/us-east-1/2026/11/29/_$folder$") == "not_json"
    assert skip_reason(trail_key(WHEN)) is None
    assert skip_reason(trail_key(WHEN, ext=".json")) is None


def test_logs_root_accepts_the_prefix_with_or_without_awslogs():
    assert logs_root("") == "AWSLogs/"
    assert logs_root("/trails/") == "trails/AWSLogs/"
    assert logs_root("trails/AWSLogs") == "trails/AWSLogs/"


def test_start_after_sorts_before_files_of_that_minute_and_after_earlier_ones():
    prefix = TrailPrefix("AWSLogs/", "", "123456789012", "us-east-1")
    bound = start_after(prefix, WHEN)
    assert trail_key(at("2026-11-29T12:04:00"), rand="zzzz") < bound
    assert trail_key(WHEN, rand="0000") > bound
    assert trail_key(at("2026-11-30T00:00:00")) > bound


def test_start_after_uses_utc_folders_for_aware_times_in_other_zones():
    prefix = TrailPrefix("AWSLogs/", "", "123456789012", "us-east-1")
    local = datetime(2026, 11, 30, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert "/2026/11/29/" in start_after(prefix, local)
    assert start_after(prefix, local).endswith("20261129T2300Z")


def test_time_token_orders_files_by_delivery_minute():
    prefix = TrailPrefix("AWSLogs/", "", "123456789012", "us-east-1")
    suffix = trail_key(WHEN)[len(prefix.path) :]
    assert time_token(suffix) == "20261129T1205Z"
    assert time_token("2026/11/29/odd-name.json") == "20261129T0000Z"


@given(
    name=st.one_of(
        st.builds(
            lambda t, r: f"123456789012_CloudTrail_us-east-1_{t:%Y%m%dT%H%M}Z_{r}.json.gz",
            st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
            st.text("abcXYZ019", min_size=1, max_size=16),
        ),
        st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s),
    ),
    head=st.sampled_from(["", "2026/11/29/", "x/y/"]),
)
def test_encoded_suffixes_round_trip_and_keep_standard_names_short(name, head):
    prefix = TrailPrefix("AWSLogs/", "", "123456789012", "us-east-1")
    suffix = f"{head}{name}"
    encoded = encode_suffix(prefix, suffix)
    assert decode_suffix(prefix, encoded) == suffix
    if name.startswith(prefix.file_stem) and name.endswith(".json.gz"):
        assert len(encoded) < len(suffix) - 30
