"""The SQS reader against the in-process queue of ``bench/fake_sqs.py`` (fast enough for
property tests and thousands of messages): hostile messages quarantined one by one, the
policy that keeps them from being retried forever, time-bounded pulls, the bounded
checkpoint and the progress figures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import sqs_state
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import Deadline
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.sqs_messages import (
    parse_message_body,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.sqs_notifications import (
    SqsNotificationReader,
)

from bench.fake_sqs import FakeFactory, FakeS3, FakeSqs
from tests.readers.helpers import (
    FakeClock,
    Storage,
    at,
    client_error,
    drain,
    trail_bytes,
    trail_key,
)
from tests.readers.test_sqs_messages import hostile_bodies

BUCKET = "trail-bucket-0001"
NOW = at("2026-11-29T12:00:00")


class World:
    """One queue, one bucket, CE's storage and a clock shared by the reader and the queue."""

    def __init__(self, *, redrive: bool = False, max_receive_count: int = 5) -> None:
        self.clock = FakeClock(NOW)
        self.sqs = FakeSqs(
            clock=self.epoch,
            redrive=redrive,
            max_receive_count=max_receive_count,
            long_poll_cap=0,
        )
        self.s3 = FakeS3()
        self.factory = FakeFactory(self.sqs, self.s3)
        self.store = Storage()

    def epoch(self) -> float:
        return self.clock.now.timestamp()

    def trail_object(self, n: int, *, upload: bool = True) -> str:
        key = trail_key(at("2026-11-29T00:00:00").replace(hour=n // 60, minute=n % 60))
        if upload:
            self.s3.put(BUCKET, key, trail_bytes())
        return key

    def notify(self, key: str) -> str:
        return self.sqs.send(json.dumps(s3_event(key)))

    def reader(self, storage: dict[str, Any], **options: Any) -> SqsNotificationReader:
        options.setdefault("wait_time_seconds", 0)
        return SqsNotificationReader(
            self.factory,
            storage.setdefault("sources", {}),
            queue_url=self.sqs.queue_url,
            bucket=BUCKET,
            clock=self.clock,
            **options,
        )

    def pull(self, **options: Any) -> tuple[list[str], SqsNotificationReader]:
        storage = self.store.begin()
        reader = self.reader(storage, **options)
        names = [b.name for b in drain(reader)]
        reader.commit()
        self.store.save(storage)
        return names, reader

    def later(self, seconds: float = 301) -> None:
        """Let in-flight messages' visibility timeouts lapse."""
        self.clock.advance(seconds)

    @property
    def saved(self) -> dict[str, Any]:
        section: dict[str, Any] = self.store.saved["sources"]["sqs"]
        return section


def s3_event(key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "awsRegion": "us-east-1",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": key, "size": 20}},
            }
        ]
    }


CONCURRENT = {"receive_workers": 3, "fetch_workers": 4, "sqs_workers": 3}


# ------------------------------------------------------------- hostile messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=hostile_bodies, position=st.integers(0, 12))
def test_one_hostile_message_changes_nothing_but_one_report(body: Any, position: int) -> None:
    text = body if isinstance(body, str) else body.decode("utf-8", "replace")  # SQS: text
    if not parse_message_body(text).error:
        return  # a body that happens to be a valid notification is not hostile
    runs = []
    for with_hostile in (False, True):
        world = World()
        keys = [world.trail_object(n) for n in range(12)]
        hostile_id = ""
        for i in range(len(keys) + 1):
            if with_hostile and i == position:
                hostile_id = world.sqs.send(text)
            if i < len(keys):
                world.notify(keys[i])
        names, reader = world.pull(**CONCURRENT)
        runs.append((names, reader, hostile_id))
    (clean, clean_reader, _), (names, reader, hostile_id) = runs
    assert names == clean == keys
    assert not clean_reader.stats.problems
    reports = [p for p in reader.stats.problems if p.code == "message_malformed"]
    (report,) = reports
    assert hostile_id in report.message and len(report.message) < 1_000
    assert reader.stats.messages_poison == 1
    assert [p.code for p in reader.stats.problems] == ["message_malformed", "no_redrive_policy"]


def test_a_hostile_message_without_redrive_policy_is_deleted_at_once_and_never_seen_again():
    world = World()
    world.sqs.send(json.dumps({"detail-type": "Object Created", "source": "aws.s3", "detail": "x"}))
    _, reader = world.pull()
    assert reader.stats.messages_deleted == 1 and len(world.sqs) == 0
    assert "detail is a string, expected an object" in reader.stats.problems[0].message
    world.later()
    _, reader = world.pull()
    assert reader.stats.messages_poison == 0


def test_a_hostile_message_is_left_to_the_redrive_policy_which_moves_it_to_the_dlq():
    world = World(redrive=True, max_receive_count=3)
    world.sqs.send('{"Records": "nope"}')
    fates = []
    for _ in range(4):
        _, reader = world.pull()
        fates.append([p.message for p in reader.stats.problems])
        world.later()
    assert [len(f) for f in fates] == [1, 0, 0, 0]  # reported once, on its first receive
    assert "left for the queue's redrive policy (received 1 times)" in fates[0][0]
    assert len(world.sqs.dead_letters) == 1 and len(world.sqs) == 0


def test_a_message_whose_object_stays_missing_is_deleted_after_max_receive_count_receives():
    world = World()
    world.notify(world.trail_object(1, upload=False))
    outcomes, reports = [], []
    for _ in range(3):
        _, reader = world.pull(max_receive_count=3)
        outcomes.append((reader.stats.messages_poison, reader.stats.messages_deleted))
        reports.append([p.message for p in reader.stats.problems if p.code == "poison_message"])
        world.later()
    assert outcomes == [(1, 0), (1, 0), (1, 1)]
    assert len(world.sqs) == 0
    assert [len(r) for r in reports] == [1, 0, 0]  # reported once, with its fate
    assert "deleted after 3 receives" in reports[0][0]


def test_a_poison_message_is_reported_on_its_first_receive_only_across_restarts() -> None:
    world = World(redrive=True, max_receive_count=10)
    world.sqs.send('{"Records": "nope"}')
    counts = []
    for _ in range(4):
        _, reader = world.pull()
        counts.append((reader.stats.messages_poison, len(reader.stats.problems)))
        world.later()
    assert counts == [(1, 1), (1, 0), (1, 0), (1, 0)]
    assert "reported" in world.saved  # the record survives CE's save


def test_a_message_with_a_readable_object_and_a_missing_one_is_held_two_phase_when_deleted():
    """Deleting it must wait like any message whose object was handed out."""
    world = World()
    good, missing = world.trail_object(1), world.trail_object(2, upload=False)
    world.sqs.send(json.dumps({"s3Bucket": BUCKET, "s3ObjectKey": [good, missing]}))
    names, reader = world.pull(max_receive_count=1)
    assert names == [good] and reader.stats.messages_poison == 1
    assert len(world.saved["pending_deletes"]) == 1 and len(world.sqs) == 1
    world.pull()
    assert len(world.sqs) == 0


# ------------------------------------------------------------- time-bounded pulls


def test_a_pull_stops_at_its_deadline_and_the_next_reads_the_rest_once():
    world = World()
    keys = [world.trail_object(n) for n in range(60)]
    for key in keys:
        world.notify(key)
    ticks = [0.0]
    storage = world.store.begin()
    reader = world.reader(storage, deadline=Deadline(5, monotonic=lambda: ticks[0]), **CONCURRENT)
    first = [b.name for b in drain(reader, on_batch=lambda _b: ticks.__setitem__(0, ticks[0] + 1))]
    reader.commit()
    world.store.save(storage)
    stats = reader.stats
    assert 5 <= len(first) < 60 and stats.budget_exhausted
    assert stats.backlog == 60 - len(first)
    assert stats.oldest_unread is not None and stats.elapsed_seconds >= 5

    rest, reader = world.pull(**CONCURRENT)
    assert sorted(first + rest) == sorted(keys) and not reader.stats.budget_exhausted
    assert reader.stats.backlog == 0
    world.pull()
    assert len(world.sqs) == 0


def test_an_expired_deadline_still_deletes_what_the_saved_pull_finished():
    world = World()
    world.notify(world.trail_object(1))
    world.pull()
    names, reader = world.pull(deadline=Deadline(0))
    assert names == [] and reader.stats.messages_deleted == 1
    assert reader.stats.api_calls["sqs:ReceiveMessage"] == 0


def test_without_a_deadline_a_pull_stops_when_it_has_caught_up():
    world = World()
    for n in range(35):
        world.notify(world.trail_object(n))
    names, reader = world.pull(**CONCURRENT)
    assert len(names) == 35 and not reader.stats.budget_exhausted
    sizes = reader.stats.api_calls["sqs:ReceiveMessage"]
    assert 4 <= sizes <= 4 + CONCURRENT["receive_workers"]  # 10+10+10+5, then in flight


def test_a_failing_receive_ends_receiving_with_one_problem_and_loses_nothing():
    world = World()
    keys = [world.trail_object(n) for n in range(30)]
    for key in keys:
        world.notify(key)
    calls = [0]

    def fault(_kwargs: dict[str, Any]) -> BaseException | None:
        calls[0] += 1
        return client_error("ServiceUnavailable", "ReceiveMessage") if calls[0] > 1 else None

    world.sqs.faults["ReceiveMessage"] = fault
    first, reader = world.pull(**CONCURRENT)
    assert len(first) == 10
    assert [p.code for p in reader.stats.problems] == ["sqs_failed"]
    world.sqs.faults.clear()
    rest, _ = world.pull(**CONCURRENT)
    assert sorted(first + rest) == sorted(keys)


def test_failed_deletes_are_reported_once_and_the_messages_deleted_when_they_come_back():
    world = World()
    for n in range(25):
        world.notify(world.trail_object(n))
    world.pull()
    world.sqs.faults["DeleteMessageBatch"] = lambda _kw: client_error("Throttling", "Delete")
    _, reader = world.pull()
    assert [p.code for p in reader.stats.problems] == ["sqs_failed"]
    assert reader.stats.throttles == 3  # one per batch call, one problem
    world.sqs.faults.clear()
    world.later(901)  # the hold lapses: the 25 messages come back
    names, reader = world.pull()
    assert names == [] and reader.stats.objects_skipped["already_read"] == 25
    assert reader.stats.messages_deleted == 25 and len(world.sqs) == 0


# ------------------------------------------------------------- bounded checkpoint


def test_the_checkpoint_of_a_3400_message_pull_fits_in_2_mb():
    world = World()
    for n in range(3_400):
        key = trail_key(NOW, account=f"{100000000000 + n:012d}")
        world.s3.put(BUCKET, key, trail_bytes())
        world.notify(key)
    names, _reader = world.pull()
    assert len(names) == 3_400
    section = world.saved
    assert len(section["pending_deletes"]) == 3_400
    assert len(section["pending_deletes"][0]) >= 400  # as long as AWS's receipt handles
    assert sqs_state.stored_bytes(section) <= 2_000_000


def test_finished_messages_beyond_the_delete_record_are_released_and_deleted_next_pull():
    world = World()
    keys = [world.trail_object(n) for n in range(5)]
    for key in keys:
        world.notify(key)
    budget = 2 * 403 + 10  # two receipt handles of about 400 characters
    names, reader = world.pull(max_pending_bytes=budget)
    assert names == keys
    assert len(world.saved["pending_deletes"]) == 2
    assert reader.stats.messages_released == 3
    assert [p.code for p in reader.stats.problems] == ["delete_record_full"]

    names, reader = world.pull(max_pending_bytes=budget)
    assert names == [] and reader.stats.objects_skipped["already_read"] == 3
    assert reader.stats.messages_deleted == 5 and len(world.sqs) == 0


def test_a_version_1_checkpoint_is_read_and_its_pending_deletes_done():
    world = World()
    key = world.trail_object(1)
    world.notify(key)
    (message,) = world.sqs.receive_message(
        QueueUrl=world.sqs.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=900
    )["Messages"]
    world.store.saved = {
        "sources": {
            "sqs": {
                "v": 1,
                "queue_url": world.sqs.queue_url,
                "pending_deletes": [{"id": message["MessageId"], "rh": message["ReceiptHandle"]}],
                "recent": [sqs_state.key_digest(BUCKET, key)],
                "unread": {},
            }
        }
    }
    names, reader = world.pull()
    assert names == [] and reader.stats.messages_deleted == 1 and len(world.sqs) == 0
    assert world.saved["v"] == 2
    assert sqs_state.unpack_recent(world.saved["recent"]) == [sqs_state.key_digest(BUCKET, key)]


@pytest.mark.parametrize(
    "stored",
    [
        {"v": 2, "queue_url": "q", "recent": "abc"},
        {"v": 2, "queue_url": "q", "recent": ["x"]},
        {"v": 9},
        "a string",
    ],
)
def test_a_damaged_checkpoint_is_reported_and_reset(stored: Any) -> None:
    world = World()
    world.store.saved = {"sources": {"sqs": stored}}
    _, reader = world.pull()
    assert [p.code for p in reader.stats.problems] == ["checkpoint_unreadable"]
    assert world.saved["v"] == 2


def test_stored_receipt_handles_that_cannot_be_sqs_ones_are_dropped():
    world = World()
    world.store.saved = {
        "sources": {
            "sqs": {
                "v": 2,
                "queue_url": world.sqs.queue_url,
                "pending_deletes": ["x" * 10_000, 5, None],
                "recent": "",
                "unread": {"zz": 1, "0123456789abcdef": "later"},
            }
        }
    }
    _, reader = world.pull()
    assert reader.stats.api_calls["sqs:DeleteMessageBatch"] == 0
    assert not reader.stats.problems and world.saved["unread"] == {}


# ------------------------------------------------------------------ account scope


def test_objects_of_accounts_outside_the_scope_are_skipped_and_their_messages_deleted() -> None:
    world = World()
    when = at("2026-11-29T00:05:00")
    inside = trail_key(when, account="111111111111")
    outside = trail_key(when, account="222222222222")
    for key in (inside, outside):
        world.s3.put(BUCKET, key, trail_bytes())
        world.notify(key)
    names, reader = world.pull(accounts=["111111111111"])
    assert names == [inside]
    assert reader.stats.objects_skipped["account_not_in_scope"] == 1
    world.later()
    again, _ = world.pull(accounts=["111111111111"])
    assert again == []  # neither message comes back: both were finished


def test_the_reported_record_is_bounded_and_a_damaged_one_is_dropped() -> None:
    ids = [sqs_state.message_digest(f"m-{n}") for n in range(sqs_state.MAX_REPORTED + 50)]
    section = sqs_state.dump("q", [], [], {}, ids)
    loaded = sqs_state.load(section, "q")
    assert loaded.reported == ids[-sqs_state.MAX_REPORTED :]
    assert sqs_state.load({**section, "reported": "not*digests"}, "q").reported == []
    assert sqs_state.load({**section, "reported": 7}, "q").problem == ""
