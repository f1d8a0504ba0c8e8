"""S3 trail reader against moto (server mode): layouts, per-prefix cursors, look-back,
exactly-once across restarts and failed pulls, bad objects and denied prefixes."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import S3TrailReader
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.s3_state import (
    cursor_minute,
    decode_section,
    minute_of,
)

from tests.conftest import DATASETS
from tests.readers.helpers import (
    Factory,
    FakeClock,
    Storage,
    at,
    client_error,
    drain,
    trail_bytes,
    trail_key,
)

BUCKET = "trail-bucket-0001"
NOW = at("2026-11-29T12:00:00")
A = "111111111111"
B = "222222222222"
ORG = "o-a1b2c3d4e5"
INVICTUS = DATASETS / "cloudtrail" / "invictus-aws-dataset"


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def factory():
    return Factory()


@pytest.fixture
def store():
    return Storage()


def put(s3, key, body=None):
    s3.put_object(Bucket=BUCKET, Key=key, Body=trail_bytes() if body is None else body)
    return key


def folders(store, root="AWSLogs/"):
    """The saved checkpoint, decoded: ``{folder path: PrefixState}``."""
    return decode_section(store.saved["sources"]["s3"], root).states


def make_reader(factory, storage, clock, **options):
    options.setdefault("lookback_hours", 6)
    options.setdefault("fetch_workers", 2)
    return S3TrailReader(
        factory, storage.setdefault("sources", {}), bucket=BUCKET, clock=clock, **options
    )


def pull(store, factory, clock, **options):
    """One successful pull: names handed out, and the reader (for its stats)."""
    storage = store.begin()
    reader = make_reader(factory, storage, clock, **options)
    names = [b.name for b in drain(reader)]
    reader.commit()
    store.save(storage)
    return names, reader


def test_first_pull_reads_the_look_back_window_oldest_first_across_both_layouts(
    s3, factory, clock, store
):
    a11 = put(s3, trail_key(at("2026-11-29T11:00:00"), account=A))
    a07 = put(s3, trail_key(at("2026-11-29T07:00:00"), account=A))
    b09 = put(s3, trail_key(at("2026-11-29T09:00:00"), account=B, region="eu-west-1", org=ORG))
    put(s3, trail_key(at("2026-11-29T05:00:00"), account=A))  # before the look-back

    names, reader = pull(store, factory, clock)

    assert names == [a07, b09, a11]
    assert reader.stats.objects_read == 3
    assert set(folders(store)) == {
        f"AWSLogs/{A}/CloudTrail/us-east-1/",
        f"AWSLogs/{ORG}/{B}/CloudTrail/eu-west-1/",
    }


def test_real_trail_files_are_handed_out_byte_for_byte_gzipped_or_plain(s3, factory, store):
    files = sorted(INVICTUS.glob("218007301253_CloudTrail_us-east-1_20230710T12*.json"))[:3]
    assert len(files) == 3
    expected = {}
    for i, path in enumerate(files):
        data = path.read_bytes()
        body = gzip.compress(data) if i != 1 else data
        key = f"trail/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/{path.name}"
        key += ".gz" if i != 1 else ""
        put(s3, key, body)
        expected[key] = body
    clock = FakeClock(at("2023-07-10T13:00:00"))
    storage: dict = {}
    reader = make_reader(factory, storage, clock, prefix="trail")
    batches = drain(reader)

    assert {b.name: b.payload for b in batches} == expected
    assert reader.stats.objects_failed == 0
    assert {(b.account_id, b.region, b.kind, b.bucket) for b in batches} == {
        ("218007301253", "us-east-1", "object", BUCKET)
    }


def test_restart_between_pulls_loses_nothing_and_repeats_nothing(s3, factory, clock, store):
    first = [put(s3, trail_key(at(f"2026-11-29T11:{m}:00"), account=A)) for m in ("00", "05")]
    assert pull(store, factory, clock)[0] == first

    clock.advance(600)
    second = [put(s3, trail_key(at(f"2026-11-29T12:{m}:00"), account=A)) for m in ("00", "05")]
    assert pull(store, factory, clock)[0] == second  # a new reader over the saved storage
    assert pull(store, factory, clock)[0] == []


def test_late_file_inside_the_look_back_is_read_exactly_once(s3, factory, clock, store):
    put(s3, trail_key(at("2026-11-29T11:00:00"), account=A))
    put(s3, trail_key(at("2026-11-29T11:30:00"), account=A))
    pull(store, factory, clock)

    late = put(s3, trail_key(at("2026-11-29T09:55:00"), account=A, rand="LateLateLate0001"))
    clock.advance(300)
    assert pull(store, factory, clock)[0] == [late]
    clock.advance(300)
    assert pull(store, factory, clock)[0] == []


def test_file_arriving_later_than_the_look_back_is_not_read(s3, factory, clock, store):
    pull(store, factory, clock)
    put(s3, trail_key(at("2026-11-29T05:00:00"), account=A))  # 7 h old, look-back is 6 h
    clock.advance(60)
    assert pull(store, factory, clock)[0] == []


def test_a_pull_that_raises_leaves_storage_untouched_and_is_repeated(s3, factory, clock, store):
    keys = [put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A)) for m in range(3)]
    storage = store.begin()
    reader = make_reader(factory, storage, clock)
    assert [b.name for b in drain(reader)] == keys
    assert storage == {"sources": {}}  # nothing written before commit()
    # ... the pipeline raises here: CE does not save storage ...

    assert pull(store, factory, clock)[0] == keys
    assert pull(store, factory, clock)[0] == []


def test_each_account_region_prefix_keeps_its_own_cursor(s3, factory, clock, store):
    east = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    west = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A, region="eu-west-1"))
    assert pull(store, factory, clock, max_objects_per_pull=1)[0] == [west]

    states = folders(store)
    east_state = states[f"AWSLogs/{A}/CloudTrail/us-east-1/"]
    west_state = states[f"AWSLogs/{A}/CloudTrail/eu-west-1/"]
    # east not reached: its cursor stops before its first unread file, which it remembers
    assert cursor_minute(east_state.prefix, east_state.cursor) == minute_of(at("2026-11-29T10:00"))
    assert east_state.unread and not east_state.recent
    assert not west_state.unread and west_state.cursor > west
    assert pull(store, factory, clock, max_objects_per_pull=1)[0] == [east]
    assert pull(store, factory, clock, max_objects_per_pull=1)[0] == []


def test_corrupt_and_truncated_objects_are_counted_reported_and_not_retried(
    s3, factory, clock, store
):
    good = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A, rand="good"))
    corrupt = put(s3, trail_key(at("2026-11-29T10:01:00"), account=A, rand="bad"), b"garbage")
    truncated = put(
        s3, trail_key(at("2026-11-29T10:02:00"), account=A, rand="cut"), trail_bytes()[:20]
    )
    not_cloudtrail = put(
        s3, trail_key(at("2026-11-29T10:03:00"), account=A, rand="other"), b'{"foo": 1}'
    )

    names, reader = pull(store, factory, clock)

    assert names == [good, corrupt, truncated, not_cloudtrail]
    assert reader.stats.objects_failed == 3
    reported = " ".join(p.message for p in reader.stats.problems)
    for key in (corrupt, truncated, not_cloudtrail):
        assert key in reported
    assert pull(store, factory, clock)[0] == []


def test_access_denied_on_one_prefix_is_reported_and_the_others_are_read(s3, factory, clock, store):
    a = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    b = put(s3, trail_key(at("2026-11-29T10:00:00"), account=B, org=ORG))
    denied = f"AWSLogs/{ORG}/{B}/CloudTrail/us-east-1/"
    factory.faults["s3"] = {
        "list_objects_v2": lambda kw: (
            client_error("AccessDenied", "ListObjectsV2") if kw["Prefix"] == denied else None
        )
    }

    names, reader = pull(store, factory, clock)

    assert names == [a]
    assert reader.stats.access_denied == {f"{B}/us-east-1": 1}
    problem = next(p for p in reader.stats.problems if p.code == "access_denied")
    assert denied in problem.message and BUCKET in problem.message
    assert "s3:ListBucket" in problem.resolution
    assert folders(store)[denied].cursor is None  # never listed: no progress recorded

    factory.faults["s3"].clear()
    assert pull(store, factory, clock)[0] == [b]


def test_denied_object_is_retried_while_inside_the_look_back(s3, factory, clock, store):
    key = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    later = put(s3, trail_key(at("2026-11-29T10:05:00"), account=A))
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("AccessDenied", "GetObject") if kw["Key"] == key else None
        )
    }
    names, reader = pull(store, factory, clock)
    assert names == [later]
    problem = next(p for p in reader.stats.problems if p.code == "access_denied")
    assert key in problem.message and "kms:Decrypt" in problem.resolution

    factory.faults["s3"].clear()
    assert pull(store, factory, clock)[0] == [key]
    assert pull(store, factory, clock)[0] == []


def test_denied_object_is_abandoned_and_reported_once_it_leaves_the_look_back(
    s3, factory, clock, store
):
    key = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    factory.faults["s3"] = {"get_object": lambda kw: client_error("AccessDenied", "GetObject")}
    assert pull(store, factory, clock)[0] == []

    clock.advance(5 * 3600)  # 10:00 is now older than the 6-hour look-back
    _names, reader = pull(store, factory, clock)
    assert reader.stats.objects_abandoned == 1
    assert any(p.code == "object_abandoned" and key in p.message for p in reader.stats.problems)

    factory.faults["s3"].clear()
    names, reader = pull(store, factory, clock)
    assert names == [] and reader.stats.objects_abandoned == 0


def test_transient_read_failure_during_a_catch_up_is_retried_not_abandoned(
    s3, factory, clock, store
):
    put(s3, trail_key(at("2026-11-29T11:00:00"), account=A))
    pull(store, factory, clock)
    keys = [put(s3, trail_key(at(f"2026-11-29T{h}:00:00"), account=A)) for h in range(13, 16)]
    clock.now = at("2026-11-30T06:00:00")  # all three are older than the look-back now
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("InternalError", "GetObject") if kw["Key"] == keys[1] else None
        )
    }
    names, reader = pull(store, factory, clock)
    assert names == [keys[0], keys[2]]
    assert reader.stats.objects_abandoned == 0

    factory.faults["s3"].clear()
    assert pull(store, factory, clock)[0] == [keys[1]]
    assert pull(store, factory, clock)[0] == []


def test_backlog_is_split_across_pulls_by_the_budget_without_repeats(s3, factory, clock, store):
    keys = [put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A)) for m in range(5)]
    got = [pull(store, factory, clock, max_objects_per_pull=2)[0] for _ in range(4)]
    assert got == [keys[:2], keys[2:4], keys[4:], []]


def test_a_cursor_held_back_any_number_of_minutes_is_kept_and_nothing_is_read_twice(
    s3, factory, clock, store
):
    """The budget stops a pull at a file 33 minutes old: the folder's cursor is kept at that
    file (its stored offset, 33 in base 36, is "x", like the exact-cursor mark), so the next
    pull reads the rest of the folder and not its first file again."""
    first = put(s3, trail_key(at("2026-11-29T11:20:00"), account=A))
    rest = [put(s3, trail_key(at(f"2026-11-29T11:{m}:00"), account=A)) for m in (27, 32)]

    assert pull(store, factory, clock, max_objects_per_pull=1)[0] == [first]
    state = folders(store)[f"AWSLogs/{A}/CloudTrail/us-east-1/"]
    assert cursor_minute(state.prefix, state.cursor) == minute_of(at("2026-11-29T11:27:00"))
    assert pull(store, factory, clock)[0] == rest
    clock.advance(60)
    assert pull(store, factory, clock)[0] == []


def test_downtime_longer_than_the_look_back_is_caught_up_without_loss(s3, factory, clock, store):
    put(s3, trail_key(at("2026-11-29T11:00:00"), account=A))
    pull(store, factory, clock)
    keys = [put(s3, trail_key(at(f"2026-11-29T{h}:00:00"), account=A)) for h in range(13, 21)]
    clock.now = at("2026-11-30T03:00:00")  # 15 h later; files from 13:00 are out of look-back
    got = []
    for _ in range(4):
        got += pull(store, factory, clock, max_objects_per_pull=3)[0]
    assert got == keys


def test_digest_insight_and_non_json_objects_are_skipped_and_counted(s3, factory, clock, store):
    log = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    folder = f"AWSLogs/{A}/CloudTrail/us-east-1/2026/11/29/"
    put(s3, f"{folder}readme.txt", b"x")
    put(s3, f"{folder}zz_CloudTrail-Digest_us-east-1.json.gz", b"x")
    put(s3, f"AWSLogs/{A}/CloudTrail-Digest/us-east-1/2026/11/29/d.json.gz", b"x")

    names, reader = pull(store, factory, clock)

    assert names == [log]
    assert reader.stats.objects_skipped == {"not_json": 1, "digest": 1}


def test_regions_and_accounts_filters_limit_the_prefixes_read(s3, factory, clock, store):
    wanted = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A, region="eu-west-1"))
    put(s3, trail_key(at("2026-11-29T10:00:00"), account=A, region="us-east-1"))
    put(s3, trail_key(at("2026-11-29T10:00:00"), account=B, region="eu-west-1", org=ORG))
    names, _ = pull(store, factory, clock, regions=["eu-west-1"], accounts=[A])
    assert names == [wanted]


def test_processed_key_record_stays_bounded_without_repeating_files(s3, factory, clock, store):
    """Files read in order leave nothing behind but the cursor; only late files are recorded,
    and when that record is full a late file waits rather than costing a repeat."""
    for m in range(6):
        put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A))
    names, reader = pull(store, factory, clock, max_seen_keys=3)
    assert len(names) == 6
    assert not any(p.code == "processed_record_full" for p in reader.stats.problems)
    state = folders(store)[f"AWSLogs/{A}/CloudTrail/us-east-1/"]
    assert state.recent == set()  # all below the cursor now
    # moto stamps LastModified with today's date, so these files count as landed late
    assert len(state.late) == 6
    late = put(s3, trail_key(at("2026-11-29T09:00:00"), account=A, rand="LateLateLate0001"))
    names, reader = pull(store, factory, clock, max_seen_keys=3)
    assert names == []
    assert any(p.code == "processed_record_full" for p in reader.stats.problems)
    assert reader.unread_since() is None  # a refused late file does not hold expiry back
    names, reader = pull(store, factory, clock, max_seen_keys=10)
    assert names == [late]
    assert pull(store, factory, clock, max_seen_keys=10)[0] == []


def test_hand_out_order_does_not_depend_on_the_number_of_fetch_threads(s3, factory, clock):
    for m in range(9):
        put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A if m % 2 else B))
    runs = []
    for workers in (1, 4):
        reader = make_reader(factory, {}, clock, fetch_workers=workers)
        runs.append([(b.name, b.payload) for b in reader.batches()])
    assert runs[0] == runs[1] and len(runs[0]) == 9


def test_checkpoint_is_compact_json(s3, factory, clock, store):
    for m in range(10):
        put(s3, trail_key(at(f"2026-11-29T10:{m:02}:00"), account=A))
    pull(store, factory, clock)
    section = store.saved["sources"]["s3"]
    assert section["bucket"] == BUCKET and section["v"] == 2
    # one folder: its cursor, schedule and one 8-byte digest per file (late, for moto)
    assert len(json.dumps(section, separators=(",", ":"))) < 250


def test_changed_bucket_prefix_starts_over_and_says_so(s3, factory, clock, store):
    put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    pull(store, factory, clock)
    names, reader = pull(store, factory, clock, prefix="other")
    assert names == []
    assert any(p.code == "source_changed" for p in reader.stats.problems)


def test_missing_bucket_is_reported_and_does_not_raise(aws, factory, clock, store):
    names, reader = pull(store, factory, clock)
    assert names == []
    problem = next(p for p in reader.stats.problems if p.code == "bucket_not_found")
    assert BUCKET in problem.message


def test_batches_may_be_iterated_once_per_reader(s3, factory, clock):
    reader = make_reader(factory, {}, clock)
    list(reader.batches())
    with pytest.raises(RuntimeError, match="once per reader"):
        list(reader.batches())


def epoch(text):
    return at(text).timestamp()


def test_unread_since_names_a_failed_object_until_a_later_pull_reads_it(s3, factory, clock, store):
    """Hold expiry must not run past an object known but not read (the resolver asks)."""
    first = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    failing = put(s3, trail_key(at("2026-11-29T11:00:00"), account=A))
    newer = put(s3, trail_key(at("2026-11-29T11:30:00"), account=A))
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("InternalError", "GetObject") if kw["Key"] == failing else None
        )
    }
    storage = store.begin()
    reader = make_reader(factory, storage, clock)
    assert reader.unread_since() is None  # nothing listed yet
    seen = []
    names = [b.name for b in drain(reader, on_batch=lambda b: seen.append(reader.unread_since()))]
    assert names == [first, newer]
    # at the first object the next one still to read is the 11:00 one; then it has failed
    assert seen == [epoch("2026-11-29T11:00:00")] * 2
    reader.commit()
    store.save(storage)
    prefix = f"AWSLogs/{A}/CloudTrail/us-east-1/"
    assert list(folders(store)[prefix].retry.values()) == ["e"]  # kept for a retry

    # the prefix cannot even be listed next pull: the stored record still names the object
    factory.faults["s3"]["list_objects_v2"] = lambda kw: (
        client_error("InternalError", "ListObjectsV2") if kw["Prefix"] == prefix else None
    )
    storage = store.begin()
    reader = make_reader(factory, storage, clock)
    assert drain(reader) == []
    assert reader.unread_since() == epoch("2026-11-29T11:00:00")
    reader.commit()
    store.save(storage)

    factory.faults["s3"].clear()
    storage = store.begin()
    reader = make_reader(factory, storage, clock)
    seen.clear()
    names = [b.name for b in drain(reader, on_batch=lambda b: seen.append(reader.unread_since()))]
    assert names == [failing] and seen == [None]
    reader.commit()
    store.save(storage)
    assert not folders(store)[prefix].retry and not folders(store)[prefix].unread


def test_unread_since_ignores_objects_older_than_the_look_back(s3, factory, clock, store):
    failing = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    factory.faults["s3"] = {"get_object": lambda kw: client_error("InternalError", "GetObject")}
    _names, reader = pull(store, factory, clock)
    assert reader.unread_since() == epoch("2026-11-29T10:00:00")
    clock.advance(5 * 3600)  # 10:00 is now older than the 6-hour look-back
    names, reader = pull(store, factory, clock)
    assert names == [] and reader.stats.objects_errored == 1  # still retried, ...
    assert reader.unread_since() is None  # ... but no longer holds expiry back
    assert failing in " ".join(p.message for p in reader.stats.problems)


def test_unread_since_counts_objects_left_for_a_later_pull_by_the_budget(s3, factory, clock, store):
    keys = [put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A)) for m in range(3)]
    storage = store.begin()
    reader = make_reader(factory, storage, clock, max_objects_per_pull=2)
    seen = []
    names = [b.name for b in drain(reader, on_batch=lambda b: seen.append(reader.unread_since()))]
    assert names == keys[:2]
    assert seen == [epoch("2026-11-29T10:01:00"), epoch("2026-11-29T10:02:00")]
    assert reader.unread_since() == epoch("2026-11-29T10:02:00")


def test_a_version_1_checkpoint_is_migrated_without_losing_or_repeating_files(
    s3, factory, clock, store
):
    read_by_v1 = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    unread = put(s3, trail_key(at("2026-11-29T10:05:00"), account=A))
    path = f"AWSLogs/{A}/CloudTrail/us-east-1/"
    store.saved = {
        "sources": {
            "s3": {
                "v": 1,
                "bucket": BUCKET,
                "prefix": "",
                "prefixes": {
                    path: {
                        "after": f"2026/11/29/{A}_CloudTrail_us-east-1_20261129T0600Z",
                        "seen": ["2026/11/29/*20261129T1000Z_AbCdEfGh12345678"],
                    }
                },
            }
        }
    }
    names, reader = pull(store, factory, clock)
    assert names == [unread] and read_by_v1 not in names
    assert not reader.stats.problems
    assert store.saved["sources"]["s3"]["v"] == 2
    assert pull(store, factory, clock)[0] == []


def test_an_unreadable_checkpoint_restarts_from_the_look_back_and_says_so(
    s3, factory, clock, store
):
    key = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    store.saved = {"sources": {"s3": {"v": 2, "bucket": BUCKET, "prefix": "", "o": "garbage"}}}
    names, reader = pull(store, factory, clock)
    assert names == [key]
    assert [p.code for p in reader.stats.problems] == ["checkpoint_unreadable"]
    assert pull(store, factory, clock)[0] == []


def test_failed_reads_beyond_the_retry_record_hold_the_cursor_and_are_read_later(
    s3, factory, clock, store
):
    keys = [put(s3, trail_key(at(f"2026-11-29T10:0{m}:00"), account=A)) for m in range(4)]
    failing = {keys[1], keys[2]}
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("InternalError", "GetObject") if kw["Key"] in failing else None
        )
    }
    names, reader = pull(store, factory, clock, max_retry_keys=1)
    assert names == [keys[0], keys[3]]
    state = folders(store)[f"AWSLogs/{A}/CloudTrail/us-east-1/"]
    assert len(state.retry) == 1  # one kept for a retry; the other holds the cursor
    assert state.unread and state.cursor < keys[2]
    assert reader.unread_since() == epoch("2026-11-29T10:01:00")

    factory.faults["s3"].clear()
    names, _ = pull(store, factory, clock, max_retry_keys=1)
    assert sorted(names) == sorted(failing)
    assert pull(store, factory, clock, max_retry_keys=1)[0] == []


def test_a_key_deleted_between_listing_and_reading_is_skipped_once(s3, factory, clock, store):
    gone = put(s3, trail_key(at("2026-11-29T10:00:00"), account=A))
    kept = put(s3, trail_key(at("2026-11-29T10:05:00"), account=A))
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("NoSuchKey", "GetObject") if kw["Key"] == gone else None
        )
    }
    names, reader = pull(store, factory, clock)
    assert names == [kept] and reader.stats.objects_skipped["deleted"] == 1
    factory.faults["s3"].clear()
    assert pull(store, factory, clock)[0] == []
