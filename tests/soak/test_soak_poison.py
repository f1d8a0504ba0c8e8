"""The soak's end-of-run SQS check follows the reader's policy for messages it cannot process
(docs/readers.md): with a redrive policy they are left on the queue, so only those may be
there at the end (``devkit/soak/poison.py``)."""

from __future__ import annotations

import json
import time

import boto3

from devkit.soak import poison
from devkit.soak.options import QUEUE

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/05/x_20261205T0013Z_hostile.json.gz"
LEFT = (
    f"Message 11627478-0520-4f2e-83a0-6e173cb59cb8 on queue {QUEUE}, left for the queue's "
    f"redrive policy (received 1 times): s3://soak-bucket/{KEY} is not a readable trail file "
    "(not a CloudTrail object)."
)
UNKNOWN = (
    f"Message aaaaaaaa-0000-0000-0000-000000000001 on queue {QUEUE}, left on the queue, its "
    "redrive policy unknown (received 2 times): reading s3://soak-bucket/k failed (503)."
)
MALFORMED = (
    f"Message bbbbbbbb-0000-0000-0000-000000000002 on queue {QUEUE} is not an S3 object "
    "notification this plugin reads: Records[0].s3 is a number, expected an object; left for "
    "the queue's redrive policy (received 1 times)."
)
DELETED = (
    f"Message cccccccc-0000-0000-0000-000000000003 on queue {QUEUE}, deleted after 5 receives: "
    "the queue has no redrive policy: s3://soak-bucket/k does not exist."
)
OTHER_QUEUE = (
    "Message dddddddd-0000-0000-0000-000000000004 on queue elsewhere, left for the queue's "
    "redrive policy (received 1 times): s3://soak-bucket/k does not exist."
)
RECORD = f"{KEY}: record 1: Message eeee on queue {QUEUE}, left for the queue's"


def test_only_messages_reported_left_on_the_soak_queue_count() -> None:
    found = poison.reported_left([LEFT, UNKNOWN, MALFORMED, DELETED, OTHER_QUEUE, RECORD])
    assert found == {
        "11627478-0520-4f2e-83a0-6e173cb59cb8",
        "aaaaaaaa-0000-0000-0000-000000000001",
        "bbbbbbbb-0000-0000-0000-000000000002",
    }


def test_a_message_left_on_the_queue_that_the_plugin_did_not_report_fails_the_soak() -> None:
    reported = poison.reported_left([LEFT])
    assert poison.queue_failures({"11627478-0520-4f2e-83a0-6e173cb59cb8": "queue"}, reported) == []
    assert (
        poison.queue_failures({"11627478-0520-4f2e-83a0-6e173cb59cb8": "dead_letter"}, reported)
        == []
    )
    failures = poison.queue_failures(
        {"11627478-0520-4f2e-83a0-6e173cb59cb8": "queue", "f00d": "dead_letter"}, reported
    )
    assert len(failures) == 1 and "f00d (dead_letter)" in failures[0]
    # a message the plugin said it deleted is not allowed to stay
    assert poison.queue_failures(
        {"cccccccc-0000-0000-0000-000000000003": "queue"}, poison.reported_left([DELETED])
    )


def test_a_hostile_item_whose_message_left_for_the_redrive_policy_vanished_fails_the_soak() -> None:
    items = [("not_json", KEY), ("costly_shape", "AWSLogs/never/reported.json.gz")]
    assert poison.hostile_failures(items, [LEFT], {"11627478-0520-4f2e-83a0-6e173cb59cb8"}) == []
    failures = poison.hostile_failures(items, [LEFT], set())
    assert len(failures) == 1 and "not_json" in failures[0]


def test_looking_at_the_queue_sees_messages_in_flight_and_consumes_none(aws) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dead = sqs.create_queue(QueueName="look-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 100})
    url = sqs.create_queue(QueueName="look", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    sent = {sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"] for i in range(12)}
    taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=2)
    assert len(taken["Messages"]) == 3  # in flight for 2 s, as the reader leaves poison ones

    began = time.monotonic()
    assert set(poison.look(sqs, url, settle_seconds=8)) == sent
    assert time.monotonic() - began < 8  # stopped once every message was seen

    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert counts == {
        "ApproximateNumberOfMessages": "12",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    assert poison.look(sqs, dead, settle_seconds=2) == {}
