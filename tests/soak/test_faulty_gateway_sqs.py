"""The faulty gateway in front of moto's SQS, as the SQS soak uses it: faults chosen by
operation (``X-Amz-Target``), answered with SQS's JSON error so botocore reads the code
the way it reads AWS's, and answers lost after SQS acted."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from devkit.aws_emulator import MotoServer
from devkit.emulators.faulty_gateway import (
    BadGatewayFault,
    FaultyGateway,
    GatewayFault,
    request_operation,
)

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=5)


@pytest.fixture
def gateway(aws: MotoServer) -> Iterator[FaultyGateway]:
    gw = FaultyGateway(aws.endpoint, seed=1).start()
    try:
        yield gw
    finally:
        gw.stop()


def sqs_client(gateway: FaultyGateway, config: Config | None = None) -> object:
    return boto3.client("sqs", endpoint_url=gateway.url, region_name="us-east-1", config=config)


def test_a_json_protocol_request_is_named_by_its_target_and_an_s3_one_by_its_path() -> None:
    assert request_operation("POST", "/", "AmazonSQS.DeleteMessageBatch") == "DeleteMessageBatch"
    assert request_operation("GET", "/bucket?list-type=2", None) == "ListObjectsV2"
    assert request_operation("GET", "/bucket/AWSLogs/x.json.gz", None) == "GetObject"


def test_operations_must_be_a_list_of_names_and_narrow_the_fault() -> None:
    fault = GatewayFault.from_json({"kind": "status", "operations": ["ReceiveMessage"]})
    assert fault.matches("POST", "/", "ReceiveMessage")
    assert not fault.matches("POST", "/", "DeleteMessageBatch")
    assert fault.to_json()["operations"] == ["ReceiveMessage"]
    with pytest.raises(BadGatewayFault, match="unknown fault fields"):
        GatewayFault.from_json({"kind": "status", "operation": "ReceiveMessage"})


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "RequestThrottled", "RequestThrottled"),
        (500, None, "InternalFailure"),
        (503, None, "ServiceUnavailable"),
    ],
)
def test_a_status_fault_reaches_botocore_as_the_sqs_error_it_plays(
    gateway: FaultyGateway, status: int, code: str | None, expected: str
) -> None:
    sqs = sqs_client(gateway, NO_RETRIES)
    url = sqs.create_queue(QueueName="gw-errors")["QueueUrl"]  # type: ignore[attr-defined]
    fault = {"kind": "status", "status": status, "code": code, "operations": ["ReceiveMessage"]}
    gateway.add_fault(fault)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # type: ignore[attr-defined]
    assert caught.value.response["Error"]["Code"] == expected
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    # Only the operation named fails; the queue itself was reached through the gateway.
    sqs.send_message(QueueUrl=url, MessageBody="still works")  # type: ignore[attr-defined]
    stats = gateway.snapshot()
    assert stats["failed"] == {"status:ReceiveMessage": 1}
    assert stats["forwarded"]["SendMessage"] == 1


def test_botocore_retries_a_throttled_receive_and_gets_the_message(
    gateway: FaultyGateway,
) -> None:
    sqs = sqs_client(gateway, Config(retries={"mode": "standard", "total_max_attempts": 3}))
    url = sqs.create_queue(QueueName="gw-retry")["QueueUrl"]  # type: ignore[attr-defined]
    sqs.send_message(QueueUrl=url, MessageBody="hello")  # type: ignore[attr-defined]
    gateway.add_fault({"kind": "status", "status": 400, "code": "RequestThrottled", "count": 2})
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)  # type: ignore[attr-defined]
    assert [m["Body"] for m in got["Messages"]] == ["hello"]
    assert gateway.snapshot()["failed"] == {"status:ReceiveMessage": 2}


def test_a_receive_whose_answer_is_lost_leaves_its_message_in_flight(
    gateway: FaultyGateway, aws: MotoServer
) -> None:
    sqs = sqs_client(gateway, NO_RETRIES)
    url = sqs.create_queue(QueueName="gw-lost")["QueueUrl"]  # type: ignore[attr-defined]
    sqs.send_message(QueueUrl=url, MessageBody="unseen")  # type: ignore[attr-defined]
    gateway.add_fault({"kind": "drop_after", "count": 1, "operations": ["ReceiveMessage"]})
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        sqs.receive_message(  # type: ignore[attr-defined]
            QueueUrl=url, WaitTimeSeconds=0, VisibilityTimeout=60
        )
    direct = boto3.client("sqs", endpoint_url=aws.endpoint, region_name="us-east-1")
    attributes = direct.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }
