"""Each action of ReadTrailNotifications, one at a time.

``validate_step`` probes sqs:GetQueueAttributes (the queue's ARN), and sqs:DeleteMessage and
sqs:ChangeMessageVisibility with a receipt handle that cannot name a message: AWS (and moto)
authorize before reading the handle, so the answer is AccessDenied or ReceiptHandleIsInvalid
and nothing changes. sqs:ReceiveMessage has no such probe - a receive counts towards the
queue's redrive ``maxReceiveCount`` even when nothing is processed - so its denial is shown by
the pull, which reports it naming the permission.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from devkit.runner import ValidationFailed

from .conftest import SCOPE_SINGLE, LeastPrivilegeTenant, mode_policies
from .iam_policy import actions_of, statements

PROBED = ["sqs:GetQueueAttributes", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]


def sqs_policy_without(
    lp: LeastPrivilegeTenant, queue_url: str, action: str | None
) -> dict[str, Any]:
    policy, _member = mode_policies(lp, "sqs", SCOPE_SINGLE, queue_url.rsplit("/", 1)[-1])
    policy = copy.deepcopy(policy)
    for statement in statements(policy):
        if statement["Sid"] == "ReadTrailNotifications":
            statement["Action"] = [a for a in actions_of(statement) if a != action]
    return policy


@pytest.mark.parametrize("action", PROBED)
def test_validation_names_a_missing_queue_action(
    lp: LeastPrivilegeTenant, tmp_path: Path, action: str
) -> None:
    queue_url = lp.fresh_queue(f"lp-action-{action.split(':')[1]}")
    lp.grant(sqs_policy_without(lp, queue_url, action))

    with pytest.raises(ValidationFailed) as failure:
        lp.pull(tmp_path, lp.configuration(tmp_path, "sqs", queue_url=queue_url))

    assert failure.value.step == "cloudtrail"
    assert failure.value.message.startswith(f"SQS Queue URL: {action} on queue {queue_url}")
    assert "statement ReadTrailNotifications of" in failure.value.message


def test_the_validation_probes_leave_every_message_in_the_queue(
    lp: LeastPrivilegeTenant, tmp_path: Path
) -> None:
    queue_url = lp.fresh_queue("lp-probe-inert")
    lp.grant(sqs_policy_without(lp, queue_url, None))
    config = lp.configuration(tmp_path, "sqs", queue_url=queue_url)
    assert lp.validate_step("cloudtrail", config).success
    attributes = lp.admin.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {
        "ApproximateNumberOfMessages": str(len(lp.notifications)),
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_without_receive_message_the_pull_reports_the_denial(
    lp: LeastPrivilegeTenant, tmp_path: Path
) -> None:
    queue_url = lp.fresh_queue("lp-no-receive")
    lp.grant(sqs_policy_without(lp, queue_url, "sqs:ReceiveMessage"))

    result = lp.pull(tmp_path, lp.configuration(tmp_path, "sqs", queue_url=queue_url))

    problems = result.storage["health"]["problems"]
    assert len(problems) == 1
    assert problems[0].startswith("sqs:ReceiveMessage on queue lp-no-receive was denied")
    assert result.storage["health"]["source"]["access_denied"] == {"queue/lp-no-receive": 1}


def test_the_next_pull_deletes_what_the_previous_one_finished(
    lp: LeastPrivilegeTenant, tmp_path: Path
) -> None:
    """sqs:DeleteMessage (called as DeleteMessageBatch) and sqs:ChangeMessageVisibility (the
    hold) in use: the second pull deletes every message the first one processed."""
    queue_url = lp.fresh_queue("lp-two-pulls")
    lp.grant(sqs_policy_without(lp, queue_url, None))
    config = lp.configuration(tmp_path, "sqs", queue_url=queue_url)
    first = lp.pull(tmp_path, config)
    # Something to receive, so the second pull's first long poll returns at once.
    lp.admin.client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({"Event": "s3:TestEvent"})
    )

    second = lp.pull(tmp_path, config, validate=False)

    assert first.storage["health"]["problems"] == second.storage["health"]["problems"] == []
    assert second.storage["health"]["source"]["messages_deleted"] == len(lp.notifications)
