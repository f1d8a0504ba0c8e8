"""LookupEvents reader with botocore's Stubber on real clients (moto lacks LookupEvents)
and a fake clock: windows read to the end, pacing per account/Region, throttling,
overlap de-duplication, rejected tokens, restarts and failed pulls."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import AwsAuthError
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import (
    LookupEventsReader,
    RateLimiter,
)

from tests.readers.helpers import ACCOUNT, Factory, FakeClock, Storage, at, drain

NOW = at("2026-11-29T12:00:00")
DAY = timedelta(hours=24)
OVERLAP = timedelta(minutes=15)


def event(event_id, when, name="AssumeRole"):
    body = {"eventID": event_id, "eventTime": when.isoformat(), "eventName": name}
    return {
        "EventId": event_id,
        "EventName": name,
        "EventTime": when,
        "CloudTrailEvent": json.dumps(body),
    }


def params(start, end, token=None, attribute=None):
    expected = {"StartTime": start, "EndTime": end, "MaxResults": 50}
    if attribute:
        expected["LookupAttributes"] = [
            {"AttributeKey": attribute[0], "AttributeValue": attribute[1]}
        ]
    if token:
        expected["NextToken"] = token
    return expected


class Tenant:
    """One account whose CloudTrail clients (one per Region) are stubbed."""

    def __init__(self, regions=("us-east-1",), account=ACCOUNT):
        self.factory = Factory(account)
        self.stubs = {}
        for region in regions:
            client = boto3.client(
                "cloudtrail",
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            self.factory.clients[("cloudtrail", region)] = client
            self.stubs[region] = Stubber(client)
            self.stubs[region].activate()

    def page(self, region, expected, events, token=None):
        response = {"Events": events}
        if token:
            response["NextToken"] = token
        self.stubs[region].add_response("lookup_events", response, expected)

    def error(self, region, code, expected=None):
        self.stubs[region].add_client_error(
            "lookup_events",
            service_error_code=code,
            http_status_code=400,
            expected_params=expected,
        )

    def done(self):
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def store():
    return Storage()


def make_reader(tenants, storage, clock, regions=("us-east-1",), **options):
    options.setdefault("limiter", RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep))
    return LookupEventsReader(
        [t.factory for t in tenants],
        storage.setdefault("sources", {}),
        regions=list(regions),
        sleep=clock.sleep,
        rng=lambda: 0.5,
        clock=clock,
        **options,
    )


def pull(store, tenants, clock, regions=("us-east-1",), **options):
    storage = store.begin()
    reader = make_reader(tenants, storage, clock, regions, **options)
    ids = [i for b in drain(reader) for i in b.event_ids]
    reader.commit()
    store.save(storage)
    return ids, reader


def scope(store, key=f"{ACCOUNT}:us-east-1"):
    return store.saved["sources"]["lookup_events"]["scopes"][key]


def test_pages_are_read_newest_first_to_the_end_of_the_window_with_identical_parameters(
    clock, store
):
    tenant = Tenant()
    window = (NOW - DAY, NOW)  # first pull: lookback_hours back
    tenant.page("us-east-1", params(*window), [event("e5", NOW - timedelta(minutes=1))], "t1")
    tenant.page("us-east-1", params(*window, "t1"), [event("e4", NOW - timedelta(hours=2))], "t2")
    tenant.page("us-east-1", params(*window, "t2"), [event("e3", NOW - timedelta(hours=9))])

    ids, reader = pull(store, [tenant], clock)

    tenant.done()
    assert ids == ["e5", "e4", "e3"]
    assert scope(store)["cursor"] == "2026-11-29T12:00:00Z"
    assert "window" not in scope(store)
    assert reader.stats.pages_read == 3 and reader.stats.events_read == 3


def test_checkpoint_moves_to_the_window_end_only_after_its_last_page(clock, store):
    tenant = Tenant()
    window = (NOW - DAY, NOW)
    tenant.page("us-east-1", params(*window), [event("e3", NOW - timedelta(minutes=1))], "t1")
    tenant.page("us-east-1", params(*window, "t1"), [event("e2", NOW - timedelta(hours=1))], "t2")
    assert pull(store, [tenant], clock, max_pages_per_pull=2)[0] == ["e3", "e2"]
    assert scope(store)["cursor"] is None
    assert scope(store)["window"]["next_page"] == "t2"

    clock.advance(60)  # the next pull continues the same window with the same parameters
    tenant.page("us-east-1", params(*window, "t2"), [event("e1", NOW - timedelta(hours=5))])
    tenant.page("us-east-1", params(NOW - OVERLAP, NOW + timedelta(seconds=60)), [])
    assert pull(store, [tenant], clock, max_pages_per_pull=2)[0] == ["e1"]
    tenant.done()
    assert scope(store)["cursor"] == "2026-11-29T12:01:00Z"


def test_requests_never_exceed_two_per_second_per_account_and_region(clock, store):
    regions = ("us-east-1", "eu-west-1")
    tenant = Tenant(regions)
    calls = []
    tenant.factory.on_call = lambda _name, region, _kw: calls.append((region, clock.monotonic()))
    for region in regions:
        for n in range(6):
            token_in = f"t{n}" if n else None
            token_out = f"t{n + 1}" if n < 5 else None
            events = [event(f"{region}-{n}", NOW - timedelta(minutes=n + 1))]
            tenant.page(region, params(NOW - DAY, NOW, token_in), events, token_out)

    ids, _ = pull(store, [tenant], clock, regions)

    tenant.done()
    assert len(ids) == 12
    for region in regions:
        times = [t for r, t in calls if r == region]
        assert len(times) == 6
        for first, third in zip(times, times[2:], strict=False):
            assert third - first >= 1.0 - 1e-9, "three requests inside one second"
    east_last = [t for r, t in calls if r == "us-east-1"][-1]
    west_first = next(t for r, t in calls if r == "eu-west-1")
    assert west_first == east_last  # another Region does not wait for this one's quota


def test_two_readers_sharing_the_limiter_share_the_quota(clock, store):
    limiter = RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep)
    tenant = Tenant()
    tenant.page("us-east-1", params(NOW - DAY, NOW), [])
    tenant.page("us-east-1", params(NOW - DAY, NOW, attribute=("EventName", "AssumeRole")), [])
    start = clock.monotonic()
    pull(store, [tenant], clock, limiter=limiter)
    other_configuration = Storage()
    attribute = ("EventName", "AssumeRole")
    pull(other_configuration, [tenant], clock, limiter=limiter, lookup_attribute=attribute)
    tenant.done()
    assert clock.monotonic() - start >= 0.5


def test_lookup_attribute_is_sent_with_every_page(clock, store):
    tenant = Tenant()
    attribute = ("EventName", "AssumeRole")
    window = (NOW - DAY, NOW)
    tenant.page("us-east-1", params(*window, attribute=attribute), [event("e1", NOW)], "t1")
    tenant.page("us-east-1", params(*window, "t1", attribute=attribute), [])
    ids, _ = pull(store, [tenant], clock, lookup_attribute=attribute)
    tenant.done()
    assert ids == ["e1"]
    assert store.saved["sources"]["lookup_events"]["attribute"] == "EventName=AssumeRole"


def test_throttling_is_retried_after_a_backoff(clock, store):
    tenant = Tenant()
    tenant.error("us-east-1", "ThrottlingException", params(NOW - DAY, NOW))
    tenant.page("us-east-1", params(NOW - DAY, NOW), [event("e1", NOW)])
    ids, reader = pull(store, [tenant], clock)
    tenant.done()
    assert ids == ["e1"]
    assert reader.stats.throttles == 1
    assert clock.sleeps == [0.75]  # base 1 s, "equal jitter" with rng 0.5


def test_persistent_throttling_leaves_the_window_for_the_next_pull(clock, store):
    tenant = Tenant()
    for _ in range(3):
        tenant.error("us-east-1", "ThrottlingException")
    ids, reader = pull(store, [tenant], clock, max_attempts=3)
    assert ids == [] and reader.stats.throttles == 3
    assert clock.sleeps == [0.75, 1.5]
    assert next(p for p in reader.stats.problems if p.code == "throttled")

    clock.advance(60)
    tenant.page("us-east-1", params(NOW - DAY, NOW), [event("e1", NOW)])  # same window
    tenant.page("us-east-1", params(NOW - OVERLAP, clock.now.replace(microsecond=0)), [])
    assert pull(store, [tenant], clock)[0] == ["e1"]
    tenant.done()


def test_overlapping_windows_hand_out_each_event_once(clock, store):
    tenant = Tenant()
    e1, e2 = event("e1", NOW - timedelta(minutes=2)), event("e2", NOW - timedelta(minutes=20))
    tenant.page("us-east-1", params(NOW - DAY, NOW), [e1, e2])
    assert pull(store, [tenant], clock)[0] == ["e1", "e2"]

    clock.advance(300)
    e3 = event("e3", NOW + timedelta(minutes=1))
    tenant.page("us-east-1", params(NOW - OVERLAP, NOW + timedelta(minutes=5)), [e3, e1])
    ids, reader = pull(store, [tenant], clock)
    tenant.done()
    assert ids == ["e3"] and reader.stats.events_duplicate == 1


def test_a_pull_that_raises_is_repeated_from_the_same_window(clock, store):
    tenant = Tenant()
    tenant.page("us-east-1", params(NOW - DAY, NOW), [])
    pull(store, [tenant], clock)

    clock.advance(300)
    later = NOW + timedelta(minutes=5)
    tenant.page("us-east-1", params(NOW - OVERLAP, later), [event("e1", NOW)])
    storage = store.begin()
    reader = make_reader([tenant], storage, clock)
    assert [i for b in drain(reader) for i in b.event_ids] == ["e1"]
    assert storage == store.saved  # nothing written before commit()
    # ... the pipeline raises: CE keeps the old storage ...

    clock.advance(300)
    tenant.page(
        "us-east-1", params(NOW - OVERLAP, later + timedelta(minutes=5)), [event("e1", NOW)]
    )
    assert pull(store, [tenant], clock)[0] == ["e1"]
    tenant.done()


def test_rejected_token_restarts_the_window_below_what_was_handed_out(clock, store):
    tenant = Tenant()
    window = (NOW - DAY, NOW)
    e5, e4 = event("e5", NOW - timedelta(minutes=1)), event("e4", NOW - timedelta(minutes=3))
    tenant.page("us-east-1", params(*window), [e5, e4], "t1")
    pull(store, [tenant], clock, max_pages_per_pull=1)

    tenant.error("us-east-1", "InvalidNextTokenException", params(*window, "t1"))
    lowered = (NOW - DAY, NOW - timedelta(minutes=3) + timedelta(seconds=1))
    tenant.page("us-east-1", params(*lowered), [e4, event("e3", NOW - timedelta(minutes=10))])
    ids, reader = pull(store, [tenant], clock, max_pages_per_pull=3)
    tenant.done()
    assert ids == ["e3"]
    assert scope(store)["cursor"] == "2026-11-29T12:00:00Z"
    assert any(p.code == "page_expired" for p in reader.stats.problems)


def test_access_denied_in_one_region_is_reported_and_the_others_are_read(clock, store):
    tenant = Tenant(("us-east-1", "eu-west-1"))
    tenant.error("us-east-1", "AccessDeniedException")
    tenant.page("eu-west-1", params(NOW - DAY, NOW), [event("w1", NOW)])
    ids, reader = pull(store, [tenant], clock, ("us-east-1", "eu-west-1"))
    tenant.done()
    assert ids == ["w1"]
    assert reader.stats.access_denied == {f"{ACCOUNT}/us-east-1": 1}
    problem = next(p for p in reader.stats.problems if p.code == "access_denied")
    assert "us-east-1" in problem.message and "cloudtrail:LookupEvents" in problem.resolution


def test_accounts_keep_separate_checkpoints_and_an_unavailable_account_is_skipped(clock, store):
    first, second = Tenant(account="111111111111"), Tenant(account="222222222222")
    first.page("us-east-1", params(NOW - DAY, NOW), [event("a1", NOW)])
    second.page("us-east-1", params(NOW - DAY, NOW), [event("b1", NOW)])

    class Broken:
        @property
        def account_id(self):
            raise AwsAuthError("Could not assume role arn:aws:iam::333333333333:role/audit")

        def client(self, service, region=None):  # pragma: no cover - never reached
            raise AssertionError

    storage = store.begin()
    reader = LookupEventsReader(
        [first.factory, Broken(), second.factory],
        storage.setdefault("sources", {}),
        regions=["us-east-1"],
        limiter=RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep),
        sleep=clock.sleep,
        clock=clock,
    )
    assert [i for b in drain(reader) for i in b.event_ids] == ["a1", "b1"]
    reader.commit()
    store.save(storage)
    assert set(store.saved["sources"]["lookup_events"]["scopes"]) == {
        "111111111111:us-east-1",
        "222222222222:us-east-1",
    }
    assert any("333333333333" in p.message for p in reader.stats.problems)


def test_recent_event_ids_stay_bounded(clock, store):
    tenant = Tenant()
    events = [event(f"e{m}", NOW - timedelta(minutes=m + 1)) for m in range(8)]
    tenant.page("us-east-1", params(NOW - DAY, NOW), events)
    ids, reader = pull(store, [tenant], clock, max_seen_ids=3)
    tenant.done()
    assert len(ids) == 8
    packed = scope(store)["ids"]
    assert sum(len(v) // 16 for v in packed.values()) <= 3
    assert reader.stats.record_evictions >= 5


def test_ids_older_than_the_overlap_are_pruned_when_the_window_completes(clock, store):
    tenant = Tenant()
    old, recent = event("old", NOW - timedelta(hours=3)), event("new", NOW - timedelta(minutes=5))
    tenant.page("us-east-1", params(NOW - DAY, NOW), [recent, old])
    pull(store, [tenant], clock)
    tenant.done()
    assert sum(len(v) // 16 for v in scope(store)["ids"].values()) == 1


def test_reported_decode_failures_are_counted(clock, store):
    tenant = Tenant()
    tenant.page("us-east-1", params(NOW - DAY, NOW), [event("e1", NOW)])
    storage: dict = {}
    reader = make_reader([tenant], storage, clock)
    (batch,) = list(reader.batches())
    reader.mark_failed(batch.batch_id, "eventID e1: not JSON")
    assert reader.stats.events_failed == 1
    assert "us-east-1" in reader.stats.problems[0].message


def test_invalid_settings_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="regions is required"):
        LookupEventsReader([], {}, regions=[])
    with pytest.raises(ValueError, match="not one of"):
        LookupEventsReader([], {}, regions=["us-east-1"], lookup_attribute=("Bogus", "x"))


def test_unread_since_names_where_a_region_not_read_yet_or_failed_resumes(clock, store):
    """Hold expiry must not run past events known but not read: another Region's (an
    issuance is logged in the Region that served it), or a failed Region's until a later
    pull reads it."""
    regions = ("us-east-1", "us-west-2")
    tenant = Tenant(regions)
    hour = timedelta(hours=1)
    for region in regions:
        tenant.page(region, params(NOW - DAY, NOW), [event(f"{region}-0", NOW - hour)])
    pull(store, [tenant], clock, regions)

    clock.advance(3600)  # pull 2: us-west-2 fails
    tenant.page("us-east-1", params(NOW - OVERLAP, NOW + hour), [event("e-1", NOW + hour / 2)])
    tenant.error("us-west-2", "InternalError", params(NOW - OVERLAP, NOW + hour))
    storage = store.begin()
    reader = make_reader([tenant], storage, clock, regions)
    seen = []
    drain(reader, on_batch=lambda _b: seen.append(reader.unread_since()))
    assert seen == [NOW.timestamp()]  # us-east-1 is read to now; us-west-2 is not yet
    assert reader.unread_since() == (NOW - OVERLAP).timestamp()  # us-west-2 failed there
    reader.commit()
    store.save(storage)

    clock.advance(3600)  # pull 3: us-west-2 is read again, from where it failed
    later = NOW + 2 * hour
    tenant.page("us-east-1", params(NOW + hour - OVERLAP, later), [event("e-2", later - hour)])
    tenant.page("us-west-2", params(NOW - OVERLAP, NOW + hour), [event("w-2", NOW)])
    tenant.page("us-west-2", params(NOW + hour - OVERLAP, later), [])
    storage = store.begin()
    reader = make_reader([tenant], storage, clock, regions)
    seen = []
    drain(reader, on_batch=lambda _b: seen.append(reader.unread_since()))
    # us-west-2's failed window first, then its next one (from its new cursor)
    assert seen == [(NOW - OVERLAP).timestamp(), (NOW + hour).timestamp()]
    assert reader.unread_since() is None
    tenant.done()


def test_unread_since_ignores_a_region_failing_beyond_the_look_back(clock, store):
    tenant = Tenant()
    tenant.page("us-east-1", params(NOW - DAY, NOW), [])
    pull(store, [tenant], clock, lookback_hours=24)
    clock.advance(25 * 3600)
    tenant.error("us-east-1", "InternalError")
    _ids, reader = pull(store, [tenant], clock, lookback_hours=24)
    assert reader.unread_since() is None


def test_a_damaged_scope_checkpoint_restarts_that_scope_without_failing():
    clock = FakeClock(NOW)
    storage = Storage()
    storage.saved = {
        "sources": {
            "lookup_events": {
                "v": 1,
                "attribute": "",
                "scopes": {f"{ACCOUNT}:us-east-1": {"cursor": 5, "ids": ["x"], "window": "w"}},
            }
        }
    }
    tenant = Tenant()
    tenant.page("us-east-1", params(NOW - DAY, NOW), [event("e1", NOW - timedelta(minutes=5))])
    ids, _reader = pull(storage, [tenant], clock)
    assert ids == ["e1"]
    tenant.done()
