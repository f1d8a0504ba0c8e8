"""What the SQS reader leaves on the soak's queue, and whether the queue at the end of a run
agrees with the reader's policy for messages it cannot process (docs/readers.md, *Hostile and
poison messages*).

The soak's queue has a redrive policy (``MAX_RECEIVES``), so the reader deletes no message it
cannot process: it reports it once (``poison_message`` / ``message_malformed``, naming the
message id and its fate, "left for the queue's redrive policy") and leaves it to the queue,
which moves it to the dead-letter queue after ``maxReceiveCount`` receives. Such a message is
therefore still on the queue (or already in the dead-letter queue) when a run ends, and that
is correct. Any *other* message there is one the plugin neither processed nor reported: that
fails the soak, as does a message the plugin reported leaving that is no longer there (it was
deleted against the policy; only checked for the hostile items, whose objects stay unreadable).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from devkit.soak.options import QUEUE

_MESSAGE = "Message "
# How the reader's problem goes on after the message id and the queue name when it leaves
# the message on the queue: a poison message's fate comes first, a malformed body's last.
_LEFT = ", left "
_MALFORMED = " is not an S3 object notification"
_MALFORMED_LEFT = "; left "


def reported_left(problems: Iterable[str], queue: str = QUEUE) -> set[str]:
    """Ids of the messages the reader reported leaving on ``queue`` (not deleting), from
    the ``health.problems`` texts of committed pulls. Plain string tests, no regex: the
    texts carry object keys whoever writes to the bucket chose."""
    found: set[str] = set()
    marker = f" on queue {queue}"
    for text in problems:
        if not text.startswith(_MESSAGE):
            continue
        ident, sep, rest = text[len(_MESSAGE) :].partition(marker)
        if not sep or not ident or " " in ident:
            continue
        if rest.startswith(_LEFT) or (rest.startswith(_MALFORMED) and _MALFORMED_LEFT in rest):
            found.add(ident)
    return found


def look(sqs: Any, queue_url: str, *, settle_seconds: float) -> dict[str, str]:
    """Every message on the queue, ``{message id: receipt handle of this look}``, leaving it
    as it was but for one more receive each: messages in flight are waited for (at most
    ``settle_seconds``, the reader's visibility timeout and a margin: it never extends a
    message it cannot process), each is received once (a visibility timeout longer than
    the look) and then made visible again."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    expected = sum(int(counts.get(name, 0)) for name in names)
    seen: dict[str, str] = {}
    end = time.monotonic() + settle_seconds
    while len(seen) < expected and time.monotonic() < end:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=int(settle_seconds) + 30,
            WaitTimeSeconds=1,
        )
        for message in answer.get("Messages") or []:
            seen[str(message["MessageId"])] = str(message["ReceiptHandle"])
    handles = list(seen.values())
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(handles[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
    return seen


def queue_failures(left: Mapping[str, str], reported: Collection[str]) -> list[str]:
    """The verdict's failures for the messages on the queue or in its dead-letter queue at
    the end (``{id: "queue" | "dead_letter"}``): each must be one the reader reported
    leaving there."""
    unreported = sorted(ident for ident in left if ident not in reported)
    if not unreported:
        return []
    where = ", ".join(f"{ident} ({left[ident]})" for ident in unreported[:5])
    more = f" and {len(unreported) - 5} more" if len(unreported) > 5 else ""
    return [
        f"{len(unreported)} SQS messages left on the queue or in its dead-letter queue that "
        f"the plugin did not report leaving there: {where}{more}"
    ]


def hostile_failures(
    keys: Sequence[tuple[str, str]], problems: Iterable[str], left: Collection[str]
) -> list[str]:
    """Hostile objects (``(kind, key)``) whose message the reader reported leaving for the
    queue's redrive policy must still be there (on the queue or in its dead-letter queue):
    their objects never become readable, so only a delete could have removed them."""
    texts = list(problems)
    failures = []
    for kind, key in keys:
        for ident in sorted(reported_left(t for t in texts if key in t)):
            if ident not in left:
                failures.append(
                    f"hostile item {kind} ({key}): its message {ident} was reported left for "
                    "the queue's redrive policy but is neither on the queue nor in its "
                    "dead-letter queue"
                )
    return failures
