"""SQS notification reader against moto (server mode): message shapes, URL-decoded keys,
two-phase deletion (only after the pull's storage was saved), poison messages, visibility
extension, bounds and restarts."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from urllib.parse import quote_plus

import boto3
import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import (
    SqsNotificationReader,
    parse_message_body,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.sqs_notifications import (
    queue_region,
)

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


@pytest.fixture
def s3(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def sqs(aws):
    return boto3.client("sqs")


@pytest.fixture
def queue(sqs):
    return sqs.create_queue(QueueName="trail-notifications")["QueueUrl"]


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def factory():
    return Factory()


@pytest.fixture
def store():
    return Storage()


def s3_event(key, *, bucket=BUCKET, event="ObjectCreated:Put", encode=True):
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": event,
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": quote_plus(key, safe="/") if encode else key, "size": 20},
                },
            }
        ]
    }


def sns(message):
    return {
        "Type": "Notification",
        "MessageId": "5f1c3b0e-0000-4000-8000-000000000000",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail-topic",
        "Message": json.dumps(message),
    }


def put_object(s3, key, body=None):
    s3.put_object(Bucket=BUCKET, Key=key, Body=trail_bytes() if body is None else body)
    return key


def send(sqs, queue, body):
    sqs.send_message(
        QueueUrl=queue, MessageBody=body if isinstance(body, str) else json.dumps(body)
    )


def make_reader(factory, storage, clock, queue, **options):
    options.setdefault("wait_time_seconds", 0)
    options.setdefault("fetch_workers", 2)
    return SqsNotificationReader(
        factory,
        storage.setdefault("sources", {}),
        queue_url=queue,
        bucket=BUCKET,
        clock=clock,
        **options,
    )


def pull(store, factory, clock, queue, **options):
    storage = store.begin()
    reader = make_reader(factory, storage, clock, queue, **options)
    names = [b.name for b in drain(reader)]
    reader.commit()
    store.save(storage)
    return names, reader


def messages_left(sqs, queue):
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


KEY = trail_key(at("2026-11-29T11:55:00"))


# ------------------------------------------------------------------ message shapes


def test_s3_test_event_announces_nothing():
    parsed = parse_message_body(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}))
    assert parsed.test_event and not parsed.objects and not parsed.error


def test_s3_event_keys_are_url_decoded_plus_first():
    key = "trail logs/a+b/ü/AWSLogs/x.json.gz"
    parsed = parse_message_body(json.dumps(s3_event(key)))
    assert [o.key for o in parsed.objects] == [key]
    assert "+" in s3_event(key)["Records"][0]["s3"]["object"]["key"]  # the encoding is real


def test_sns_envelope_is_unwrapped():
    parsed = parse_message_body(json.dumps(sns(s3_event(KEY))))
    assert [(o.bucket, o.key) for o in parsed.objects] == [(BUCKET, KEY)]


def test_eventbridge_object_created_keys_are_taken_as_is_with_the_decoded_form_as_fallback():
    event = {
        "detail-type": "Object Created",
        "source": "aws.s3",
        "region": "eu-west-1",
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": "a+b/c.json.gz", "size": 5}},
    }
    (obj,) = parse_message_body(json.dumps(event)).objects
    assert (obj.key, obj.alternates, obj.region) == (
        "a+b/c.json.gz",
        ("a b/c.json.gz",),
        "eu-west-1",
    )


def test_cloudtrail_sns_notification_lists_every_delivered_object():
    message = {"s3Bucket": BUCKET, "s3ObjectKey": [KEY, KEY.replace("1155", "1200")]}
    parsed = parse_message_body(json.dumps(sns(message)))
    assert [o.key for o in parsed.objects] == message["s3ObjectKey"]


def test_object_removed_records_are_ignored_and_garbage_is_an_error():
    assert parse_message_body(json.dumps(s3_event(KEY, event="ObjectRemoved:Delete"))).ignored == (
        "not_object_created",
    )
    assert parse_message_body("not json").error
    assert parse_message_body(json.dumps({"hello": 1})).error
    assert parse_message_body(json.dumps({"Type": "Notification", "Message": "{"})).error


def test_queue_region_comes_from_the_queue_url():
    assert queue_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == "eu-west-1"
    assert queue_region("https://us-west-2.queue.amazonaws.com/123456789012/q") == "us-west-2"
    assert queue_region("https://sqs-fips.us-gov-west-1.amazonaws.com/1/q") == "us-gov-west-1"
    assert queue_region("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q") == "cn-north-1"
    assert queue_region("http://127.0.0.1:5000/123456789012/q") is None


# ------------------------------------------------------------------ against the queue


def test_test_event_is_skipped_and_its_message_deleted_at_once(
    sqs, queue, s3, factory, clock, store
):
    """Nothing built from it must become durable first, so no two-phase delete."""
    send(sqs, queue, {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    names, reader = pull(store, factory, clock, queue)
    assert names == [] and reader.stats.objects_skipped["test_event"] == 1
    assert reader.stats.messages_deleted == 1
    assert store.saved["sources"]["sqs"]["pending_deletes"] == []
    assert messages_left(sqs, queue) == 0


def test_url_encoded_key_with_spaces_and_unicode_is_read(sqs, queue, s3, factory, clock, store):
    key = put_object(s3, trail_key(at("2026-11-29T11:55:00"), root="trail logs/ü+x/AWSLogs/"))
    send(sqs, queue, s3_event(key))
    storage: dict = {}
    (batch,) = drain(make_reader(factory, storage, clock, queue))
    assert batch.name == key
    assert batch.payload == trail_bytes()
    assert (batch.account_id, batch.region) == ("123456789012", "us-east-1")


def test_sns_wrapped_eventbridge_and_cloudtrail_notifications_are_read(
    sqs, queue, s3, factory, clock, store
):
    k1 = put_object(s3, trail_key(at("2026-11-29T11:50:00")))
    k2 = put_object(s3, trail_key(at("2026-11-29T11:51:00")))
    k3 = put_object(s3, trail_key(at("2026-11-29T11:52:00")))
    send(sqs, queue, sns(s3_event(k1)))
    send(
        sqs,
        queue,
        {
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": k2}},
        },
    )
    send(sqs, queue, sns({"s3Bucket": BUCKET, "s3ObjectKey": [k3]}))
    names, _ = pull(store, factory, clock, queue)
    assert names == [k1, k2, k3]


def test_message_is_deleted_only_by_the_pull_after_the_one_whose_storage_was_saved(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    names, _ = pull(store, factory, clock, queue)
    assert names == [KEY]
    assert factory.calls("sqs", "delete_message_batch") == []
    assert messages_left(sqs, queue) == 1  # in flight, held invisible until the next pull
    (held,) = store.saved["sources"]["sqs"]["pending_deletes"]
    extension = factory.calls("sqs", "change_message_visibility_batch")[-1]
    assert extension["Entries"][0]["VisibilityTimeout"] == 900
    assert extension["Entries"][0]["ReceiptHandle"] == held

    names, reader = pull(store, factory, clock, queue)
    assert names == [] and reader.stats.messages_deleted == 1
    assert messages_left(sqs, queue) == 0


def test_a_pull_that_raises_deletes_nothing_and_its_objects_are_read_again(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    storage = store.begin()
    reader = make_reader(factory, storage, clock, queue, visibility_timeout=1)
    assert [b.name for b in drain(reader)] == [KEY]
    assert storage == {"sources": {}}
    # ... the pipeline raises: no commit, CE does not save storage ...
    time.sleep(1.2)  # moto's own clock: let the visibility timeout lapse

    names, _ = pull(store, factory, clock, queue)
    assert names == [KEY]
    pull(store, factory, clock, queue)
    assert messages_left(sqs, queue) == 0


def test_missing_object_makes_a_poison_message_left_for_the_redrive_policy(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(KEY))  # never uploaded
    names, reader = pull(store, factory, clock, queue, visibility_timeout=1)
    assert names == []
    assert reader.stats.messages_poison == 1
    assert store.saved["sources"]["sqs"]["pending_deletes"] == []
    assert factory.calls("sqs", "change_message_visibility_batch") == []
    codes = {p.code: p for p in reader.stats.problems}
    assert KEY in codes["poison_message"].message
    assert "trail-notifications" in codes["no_redrive_policy"].message

    time.sleep(1.2)
    _, reader = pull(store, factory, clock, queue, visibility_timeout=1)
    assert reader.stats.messages_poison == 1  # received again: the queue's policy decides
    assert "poison_message" not in {p.code for p in reader.stats.problems}  # reported once
    assert "received 2 times" not in " ".join(p.message for p in reader.stats.problems)


def test_corrupt_object_reported_by_the_pipeline_makes_its_message_poison(
    sqs, queue, s3, factory, clock, store
):
    good = put_object(s3, KEY)
    bad = put_object(s3, trail_key(at("2026-11-29T11:56:00")), b"\x1f\x8bnot really gzip")
    send(sqs, queue, s3_event(good))
    send(sqs, queue, s3_event(bad))
    names, reader = pull(store, factory, clock, queue)
    assert names == [good, bad]
    assert reader.stats.objects_failed == 1 and reader.stats.messages_poison == 1
    assert len(store.saved["sources"]["sqs"]["pending_deletes"]) == 1
    assert any(bad in p.message for p in reader.stats.problems)


def test_denied_object_is_reported_with_the_permission_and_its_message_kept(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    factory.faults["s3"] = {"get_object": lambda kw: client_error("AccessDenied", "GetObject")}
    names, reader = pull(store, factory, clock, queue)
    assert names == [] and reader.stats.messages_poison == 1
    denied = next(p for p in reader.stats.problems if p.code == "access_denied")
    assert KEY in denied.message and "s3:GetObject" in denied.resolution


def test_visibility_is_extended_while_objects_are_slow(sqs, queue, s3, factory, clock, store):
    keys = [put_object(s3, trail_key(at(f"2026-11-29T11:5{m}:00"))) for m in range(3)]
    for key in keys:
        send(sqs, queue, s3_event(key))
    storage: dict = {}
    reader = make_reader(factory, storage, clock, queue, visibility_timeout=60)
    drain(reader, on_batch=lambda _b: clock.advance(40))  # each object takes 40 s

    extensions = factory.calls("sqs", "change_message_visibility_batch")
    assert extensions, "slow objects must extend the visibility of in-flight messages"
    assert all(e["VisibilityTimeout"] == 60 for x in extensions for e in x["Entries"])
    assert reader.stats.visibility_extensions >= 3


def test_poison_messages_are_not_kept_invisible_while_others_are_extended(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(KEY))  # never uploaded: poison
    for m in range(2):
        send(sqs, queue, s3_event(put_object(s3, trail_key(at(f"2026-11-29T11:5{m}:00")))))
    storage: dict = {}
    reader = make_reader(factory, storage, clock, queue, visibility_timeout=60, fetch_workers=1)
    drain(reader, on_batch=lambda _b: clock.advance(40))
    extended = {
        e["ReceiptHandle"]
        for call in factory.calls("sqs", "change_message_visibility_batch")
        for e in call["Entries"]
    }
    received = factory.calls("sqs", "receive_message")
    assert received and len(extended) == 2  # the two good messages, not the poison one
    assert reader.stats.visibility_extensions >= 2


def test_no_extension_when_objects_are_fast(sqs, queue, s3, factory, clock, store):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    drain(make_reader(factory, {}, clock, queue, visibility_timeout=60))
    assert factory.calls("sqs", "change_message_visibility_batch") == []


def test_messages_per_pull_are_bounded(sqs, queue, s3, factory, clock, store):
    for m in range(25):
        key = put_object(s3, trail_key(at(f"2026-11-29T11:{m:02}:00")))
        send(sqs, queue, s3_event(key))
    names, reader = pull(store, factory, clock, queue, max_messages_per_pull=12)
    assert len(names) == 12 and reader.stats.messages_received == 12
    assert [c["MaxNumberOfMessages"] for c in factory.calls("sqs", "receive_message")] == [10, 2]


def test_long_polling_waits_on_the_first_receive(sqs, queue, s3, factory, clock, store):
    send(sqs, queue, s3_event(put_object(s3, KEY)))  # present: the receive returns at once
    pull(store, factory, clock, queue, wait_time_seconds=20, max_messages_per_pull=1)
    assert factory.calls("sqs", "receive_message")[0]["WaitTimeSeconds"] == 20


def test_duplicate_notifications_of_one_object_hand_it_out_once(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    send(sqs, queue, sns(s3_event(KEY)))
    names, _ = pull(store, factory, clock, queue)
    assert names == [KEY]
    assert len(store.saved["sources"]["sqs"]["pending_deletes"]) == 2


def test_restart_between_pulls_loses_nothing_and_repeats_nothing(
    sqs, queue, s3, factory, clock, store
):
    first = [put_object(s3, trail_key(at(f"2026-11-29T11:0{m}:00"))) for m in range(2)]
    for key in first:
        send(sqs, queue, s3_event(key))
    assert pull(store, factory, clock, queue)[0] == first
    second = [put_object(s3, trail_key(at(f"2026-11-29T11:1{m}:00"))) for m in range(2)]
    for key in second:
        send(sqs, queue, s3_event(key))
    assert pull(store, factory, clock, queue)[0] == second
    assert pull(store, factory, clock, queue)[0] == []
    assert messages_left(sqs, queue) == 0


def test_a_repeated_notification_of_an_object_already_read_is_skipped_and_deleted(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    pull(store, factory, clock, queue)
    send(sqs, queue, s3_event(KEY))  # S3/SQS deliver at least once
    names, reader = pull(store, factory, clock, queue)
    assert names == [] and reader.stats.objects_skipped["already_read"] == 1
    pull(store, factory, clock, queue)
    assert messages_left(sqs, queue) == 0


def test_other_buckets_and_non_log_objects_are_skipped_and_their_messages_deleted(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(KEY, bucket="some-other-bucket"))
    send(sqs, queue, s3_event("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/d.json.gz"))
    names, reader = pull(store, factory, clock, queue)
    assert names == []
    assert reader.stats.objects_skipped == {"other_bucket": 1, "digest": 1}
    pull(store, factory, clock, queue)
    assert messages_left(sqs, queue) == 0


def test_unparseable_message_is_reported_and_deleted_when_the_queue_has_no_redrive_policy(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, "this is not a notification")
    _, reader = pull(store, factory, clock, queue)
    assert reader.stats.messages_poison == 1
    codes = [p.code for p in reader.stats.problems]
    assert codes == ["message_malformed", "no_redrive_policy"]
    assert store.saved["sources"]["sqs"]["pending_deletes"] == []  # nothing to make durable
    assert reader.stats.messages_deleted == 1 and messages_left(sqs, queue) == 0


def test_unparseable_message_is_left_to_the_redrive_policy_when_there_is_one(
    sqs, queue, s3, factory, clock, store
):
    dlq = sqs.create_queue(QueueName="trail-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"RedrivePolicy": policy})
    send(sqs, queue, "this is not a notification")
    _, reader = pull(store, factory, clock, queue)
    (problem,) = reader.stats.problems
    assert problem.code == "message_malformed" and "redrive policy" in problem.message
    assert reader.stats.messages_deleted == 0 and messages_left(sqs, queue) == 1


def test_denied_receive_is_reported_with_the_permission_and_does_not_raise(
    sqs, queue, factory, clock, store
):
    factory.faults["sqs"] = {
        "receive_message": lambda kw: client_error("AccessDenied", "ReceiveMessage")
    }
    names, reader = pull(store, factory, clock, queue)
    assert names == []
    (problem,) = reader.stats.problems
    assert "trail-notifications" in problem.message and "sqs:ReceiveMessage" in problem.resolution


def test_messages_the_pipeline_did_not_reach_are_released_not_deleted(
    sqs, queue, s3, factory, clock, store
):
    for m in range(2):
        send(sqs, queue, s3_event(put_object(s3, trail_key(at(f"2026-11-29T11:0{m}:00")))))
    storage = store.begin()
    reader = make_reader(factory, storage, clock, queue, fetch_workers=1)
    batches = reader.batches()
    next(batches)
    batches.close()  # the pipeline stopped early (e.g. its own budget)
    reader.commit()
    store.save(storage)
    assert len(store.saved["sources"]["sqs"]["pending_deletes"]) == 1
    assert reader.stats.messages_released == 1
    names, _ = pull(store, factory, clock, queue)
    assert len(names) == 1  # the released one, read now; the first was deleted


def test_unread_since_names_a_failed_object_until_it_is_read(sqs, queue, s3, factory, clock, store):
    """Hold expiry must not run past an object known but not read: it is remembered (by
    digest) across pulls until a later notification of it is read."""
    failing = put_object(s3, trail_key(at("2026-11-29T11:50:00")))
    later = put_object(s3, KEY)
    send(sqs, queue, s3_event(failing))
    send(sqs, queue, s3_event(later))
    factory.faults["s3"] = {
        "get_object": lambda kw: (
            client_error("InternalError", "GetObject") if kw["Key"] == failing else None
        )
    }
    storage = store.begin()
    reader = make_reader(factory, storage, clock, queue)
    seen = []
    names = [b.name for b in drain(reader, on_batch=lambda b: seen.append(reader.unread_since()))]
    assert names == [later] and reader.stats.objects_errored == 1
    mark = at("2026-11-29T11:50:00").timestamp()
    assert seen == [mark] and reader.unread_since() == mark
    reader.commit()
    store.save(storage)
    assert list(store.saved["sources"]["sqs"]["unread"].values()) == [int(mark)]

    # its message is not back yet: the object is still known unread
    names, reader = pull(store, factory, clock, queue)
    assert names == [] and reader.unread_since() == mark

    factory.faults["s3"].clear()
    send(sqs, queue, s3_event(failing))  # the message comes back (redelivery)
    names, reader = pull(store, factory, clock, queue)
    assert names == [failing] and reader.unread_since() is None
    assert store.saved["sources"]["sqs"]["unread"] == {}


def test_unread_since_forgets_failed_objects_older_than_the_look_back(
    sqs, queue, s3, factory, clock, store
):
    send(sqs, queue, s3_event(put_object(s3, KEY)))
    factory.faults["s3"] = {"get_object": lambda kw: client_error("AccessDenied", "GetObject")}
    _names, reader = pull(store, factory, clock, queue, lookback_hours=2)
    assert reader.unread_since() == at("2026-11-29T11:55:00").timestamp()
    clock.advance(3 * 3600)
    _names, reader = pull(store, factory, clock, queue, lookback_hours=2)
    assert reader.unread_since() is None
    assert store.saved["sources"]["sqs"]["unread"] == {}


# ------------------------------------------------------------------ concurrency on moto


def send_all(sqs, queue, bodies):
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body if isinstance(body, str) else json.dumps(body)}
            for i, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)


CONCURRENT = {"receive_workers": 4, "fetch_workers": 8, "sqs_workers": 4}


def test_many_messages_read_concurrently_once_each_deleted_next_pull_and_none_lost_on_a_raise(
    sqs, queue, s3, factory, clock, store
):
    keys = [
        put_object(s3, trail_key(at("2026-11-29T10:00:00") + timedelta(minutes=m)))
        for m in range(120)
    ]
    send_all(sqs, queue, [s3_event(key) for key in keys])

    storage = store.begin()
    reader = make_reader(factory, storage, clock, queue, visibility_timeout=2, **CONCURRENT)
    batches = reader.batches()
    assert len({next(batches).name for _ in range(30)}) == 30
    batches.close()  # ... the pipeline raises: no commit, CE does not save storage ...
    assert storage == {"sources": {}}
    time.sleep(2.5)  # moto's own clock: let the visibility timeout lapse

    names, reader = pull(store, factory, clock, queue, **CONCURRENT)
    assert sorted(names) == sorted(keys) and len(set(names)) == len(names)
    # moto, like SQS, may hand one message to two concurrent receives: the object once
    repeats = reader.stats.objects_skipped["duplicate_notification"]
    receives = factory.calls("sqs", "receive_message")
    assert {r["MaxNumberOfMessages"] for r in receives} == {10}
    assert factory.calls("sqs", "delete_message_batch") == []
    assert messages_left(sqs, queue) == 120  # held invisible until the next pull

    names, reader = pull(store, factory, clock, queue, **CONCURRENT)
    assert names == [] and reader.stats.messages_deleted == 120 + repeats
    assert messages_left(sqs, queue) == 0


def test_hostile_messages_on_moto_change_nothing_but_their_own_reports(
    sqs, queue, s3, factory, clock, store
):
    keys = [put_object(s3, trail_key(at(f"2026-11-29T11:{m:02}:00"))) for m in range(15)]
    hostile = [
        {"detail-type": "Object Created", "source": "aws.s3", "detail": "a string"},
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": 7}}}]},
        "[" * 50_000,
        json.dumps("x" * 200_000),
    ]
    bodies = [s3_event(key) for key in keys]
    for n, body in enumerate(hostile):
        bodies.insert(3 * n + 1, body)
    send_all(sqs, queue, bodies)
    names, reader = pull(store, factory, clock, queue, **CONCURRENT)
    assert sorted(names) == sorted(keys)
    malformed = [p for p in reader.stats.problems if p.code == "message_malformed"]
    assert len(malformed) == len(hostile) == reader.stats.messages_poison
    assert all(len(p.message) < 1_000 for p in malformed)
    pull(store, factory, clock, queue, **CONCURRENT)
    assert messages_left(sqs, queue) == 0  # no redrive policy: deleted, not retried forever
