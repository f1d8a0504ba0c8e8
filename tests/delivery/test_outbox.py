"""The outbox in CE storage: bounded, oldest first, idempotent, and lossless across outages.

``pull()`` below plays CE: it copies the saved storage, runs the plugin's delivery step and
saves the storage back only when that step returned, exactly as CE's core does.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.cim import to_envelope
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.errors import (
    HecConfigError,
    HecUnavailableError,
    Rejection,
    SendResult,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    HecClient,
    HecEvent,
    RetryPolicy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.outbox import (
    DropReason,
    Enqueued,
    Outbox,
    OutboxLimits,
)

from devkit.emulators.hec import HecEmulator

from .conftest import ACK_TOKEN, TOKEN, FakeClock

NOW = 1_795_856_400.0


class FakeSender:
    """Records what it was asked to send; delivers everything unless told otherwise."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.reject: set[str] = set()
        self.unack: set[str] = set()
        self.error: Exception | None = None

    def send(self, events: Sequence[HecEvent]) -> SendResult:
        keys = [e.key for e in events]
        self.calls.append(keys)
        if self.error is not None:
            raise self.error
        return SendResult(
            delivered=[k for k in keys if k not in self.reject | self.unack],
            rejected=[Rejection(k, 6, "Invalid data format") for k in keys if k in self.reject],
            unacknowledged=[k for k in keys if k in self.unack],
        )


def envelope(alert_id: str, detail: str = "listed MySensitiveBucket") -> dict[str, Any]:
    return {"time": NOW, "sourcetype": "s", "event": {"id": alert_id, "detail": detail}}


def enqueue_all(outbox: Outbox, ids: Sequence[str], now: float = NOW) -> list[Enqueued]:
    return [outbox.enqueue(i, envelope(i), now) for i in ids]


def test_pending_alerts_are_sent_oldest_first() -> None:
    outbox, sender = Outbox({}), FakeSender()
    enqueue_all(outbox, ["a", "b", "c"])
    report = outbox.flush(sender, NOW)
    assert sender.calls == [["a", "b", "c"]]
    assert report.delivered == ["a", "b", "c"] and report.pending == 0 and report.ok


def test_a_full_outbox_drops_the_oldest_and_reports_each_drop_once() -> None:
    storage: dict[str, Any] = {}
    outbox = Outbox(storage, OutboxLimits(max_pending=3))
    enqueue_all(outbox, ["a", "b", "c", "d", "e"])
    assert outbox.pending_ids == ["c", "d", "e"]
    sender = FakeSender()
    sender.error = HecUnavailableError("down", attempts=5)
    report = outbox.flush(sender, NOW)
    assert [(d.alert_id, d.reason) for d in report.dropped] == [
        ("a", DropReason.OUTBOX_FULL),
        ("b", DropReason.OUTBOX_FULL),
    ]
    assert "dropped 2: a (outbox full" in report.summary()
    assert outbox.totals["dropped_outbox_full"] == 2
    assert outbox.flush(sender, NOW).dropped == []


def test_the_outbox_is_also_bounded_in_bytes() -> None:
    outbox = Outbox({}, OutboxLimits(max_pending_bytes=300, max_event_bytes=200))
    enqueue_all(outbox, ["a", "b", "c", "d"])
    assert outbox.pending_bytes <= 300
    assert outbox.pending_ids[-1] == "d"


class BodySender(FakeSender):
    """Also keeps the bytes of every event it was asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: dict[str, bytes] = {}

    def send(self, events: Sequence[HecEvent]) -> SendResult:
        self.bodies.update((e.key, e.body) for e in events)
        return super().send(events)


def realistic_envelope(alert_id: str) -> dict[str, Any]:
    """About the 3.7 KB of a real alert event: prose, ARNs, sample ids, remediation JSON."""
    detail = {
        "description": f"IAM user user-{alert_id} assumed a role whose trust policy does not "
        "enforce sts:RoleSessionName = ${aws:username}; 37 calls followed. " * 8,
        "sample_event_ids": [f"{alert_id}-{n:04d}-4b1c-9a7e-2f0c8d1e3a5b" for n in range(10)],
        "remediation": json.dumps({"Statement": [{"Condition": {"StringEquals": {}}}] * 6}),
        "chain": [f"arn:aws:iam::111122223333:role/team-{n}/Deployer-{alert_id}" for n in range(6)],
    }
    return {"time": NOW, "sourcetype": "s", "event": {"id": alert_id, **detail}}


def test_pending_events_are_stored_compressed_and_sent_byte_for_byte() -> None:
    storage: dict[str, Any] = {}
    outbox = Outbox(storage)
    outbox.enqueue("a", realistic_envelope("a"), NOW)
    (entry,) = storage["outbox"]["pending"]
    assert "body" not in entry
    plain = len(json.dumps(realistic_envelope("a")))
    assert entry["size"] == len(entry["z"]) < plain * 0.6
    sender = BodySender()
    Outbox(json.loads(json.dumps(storage))).flush(sender, NOW)
    assert json.loads(sender.bodies["a"]) == json.loads(json.dumps(realistic_envelope("a")))


def test_a_thousand_realistic_alerts_wait_out_an_outage_without_a_drop() -> None:
    storage: dict[str, Any] = {}
    outbox = Outbox(storage)
    for n in range(1000):
        outbox.enqueue(f"alert-{n}", realistic_envelope(str(n)), NOW)
    sender = FakeSender()
    sender.error = HecUnavailableError("down", attempts=5)
    report = outbox.flush(sender, NOW)
    assert report.dropped == [] and report.pending == 1000
    assert len(json.dumps(storage["outbox"])) < 3_000_000  # the section's documented bound


def test_an_event_stored_plain_by_1_0_0_is_still_sent() -> None:
    body = json.dumps(envelope("a"))
    entry = {"id": "a", "version": "v1", "size": 9, "enqueued_at": NOW, "body": body}
    storage: dict[str, Any] = {"outbox": {"schema": 1, "pending": [entry]}}
    sender = BodySender()
    report = Outbox(storage).flush(sender, NOW)
    assert report.delivered == ["a"] and sender.bodies["a"] == body.encode()


def test_a_corrupt_stored_event_is_reported_not_sent() -> None:
    storage: dict[str, Any] = {}
    Outbox(storage).enqueue("a", envelope("a"), NOW)
    storage["outbox"]["pending"][0]["z"] = "bm90IHpsaWI="  # base64 of "not zlib"
    sender = FakeSender()
    report = Outbox(storage).flush(sender, NOW)
    assert [d.reason for d in report.dropped] == [DropReason.UNREADABLE]
    assert sender.calls == []


def test_drops_beyond_the_itemised_limit_are_still_counted() -> None:
    outbox = Outbox({}, OutboxLimits(max_pending=1, max_itemised_drops=2))
    enqueue_all(outbox, ["a", "b", "c", "d", "e"])
    report = outbox.flush(FakeSender(), NOW)
    assert len(report.dropped) == 2 and report.drops_not_itemised == 2
    assert "dropped 4" in report.summary()


def test_an_event_larger_than_a_request_is_dropped_at_enqueue_and_reported() -> None:
    outbox = Outbox({}, OutboxLimits(max_event_bytes=100))
    assert outbox.enqueue("big", envelope("big", "x" * 200), NOW) is Enqueued.TOO_LARGE
    report = outbox.flush(FakeSender(), NOW)
    assert [(d.alert_id, d.reason) for d in report.dropped] == [("big", DropReason.TOO_LARGE)]


def test_the_same_content_is_not_queued_twice() -> None:
    outbox = Outbox({})
    assert enqueue_all(outbox, ["a", "a"]) == [Enqueued.QUEUED, Enqueued.ALREADY_PENDING]
    assert outbox.pending_ids == ["a"]


def test_a_changed_alert_replaces_its_unsent_older_version_in_place() -> None:
    outbox = Outbox({})
    enqueue_all(outbox, ["a", "b"])
    assert outbox.enqueue("a", envelope("a", "listed twice"), NOW) is Enqueued.SUPERSEDED
    assert outbox.pending_ids == ["a", "b"]
    sender = FakeSender()
    outbox.flush(sender, NOW)
    assert sender.calls == [["a", "b"]]


def test_a_delivered_alert_is_not_sent_again_but_its_changed_version_is() -> None:
    outbox, sender = Outbox({}), FakeSender()
    enqueue_all(outbox, ["a"])
    outbox.flush(sender, NOW)
    assert outbox.enqueue("a", envelope("a"), NOW + 60) is Enqueued.ALREADY_DELIVERED
    assert outbox.enqueue("a", envelope("a", "now also deleted"), NOW + 60) is Enqueued.QUEUED
    outbox.flush(sender, NOW + 60)
    assert sender.calls == [["a"], ["a"]]


def test_an_alert_reverted_to_the_delivered_content_is_not_resent() -> None:
    outbox, sender = Outbox({}), FakeSender()
    enqueue_all(outbox, ["a"])
    outbox.flush(sender, NOW)
    outbox.enqueue("a", envelope("a", "changed"), NOW)
    assert outbox.enqueue("a", envelope("a"), NOW) is Enqueued.ALREADY_DELIVERED
    assert outbox.pending_ids == []


def test_delivered_ids_are_forgotten_after_the_window() -> None:
    outbox, sender = Outbox({}, OutboxLimits(delivered_ttl_seconds=3600)), FakeSender()
    enqueue_all(outbox, ["a"])
    outbox.flush(sender, NOW)
    outbox.flush(sender, NOW + 3601)
    assert outbox.delivered_version("a") is None
    assert outbox.enqueue("a", envelope("a"), NOW + 3601) is Enqueued.QUEUED


def test_the_delivered_window_keeps_only_the_newest_ids() -> None:
    outbox = Outbox({}, OutboxLimits(delivered_max=2))
    enqueue_all(outbox, ["a", "b", "c"])
    outbox.flush(FakeSender(), NOW)
    assert [outbox.delivered_version(i) is not None for i in "abc"] == [False, True, True]


def test_events_splunk_rejects_are_dropped_with_their_alert_id_and_reason() -> None:
    outbox, sender = Outbox({}), FakeSender()
    sender.reject = {"b"}
    enqueue_all(outbox, ["a", "b", "c"])
    report = outbox.flush(sender, NOW)
    assert report.delivered == ["a", "c"] and report.pending == 0
    assert [(d.alert_id, d.reason, d.code) for d in report.dropped] == [
        ("b", DropReason.REJECTED, 6)
    ]


def test_unacknowledged_events_stay_queued_for_the_next_pull() -> None:
    outbox, sender = Outbox({}), FakeSender()
    sender.unack = {"b"}
    enqueue_all(outbox, ["a", "b"])
    report = outbox.flush(sender, NOW)
    assert report.unacknowledged == ["b"] and outbox.pending_ids == ["b"]
    sender.unack = set()
    assert outbox.flush(sender, NOW).delivered == ["b"]


def test_a_configuration_error_is_reported_with_its_field_and_nothing_is_lost() -> None:
    outbox, sender = Outbox({}), FakeSender()
    sender.error = HecConfigError("Index", "refused")
    enqueue_all(outbox, ["a"])
    report = outbox.flush(sender, NOW)
    assert (report.error, report.error_field) == ("Index: refused", "Index")
    assert outbox.pending_ids == ["a"]


def test_flush_never_raises_even_on_an_unexpected_error() -> None:
    outbox, sender = Outbox({}), FakeSender()
    sender.error = RuntimeError("bug")
    enqueue_all(outbox, ["a"])
    report = outbox.flush(sender, NOW)
    assert report.error == "unexpected RuntimeError while sending to Splunk HEC"
    assert isinstance(report.exception, RuntimeError)
    assert outbox.pending_ids == ["a"]


def test_partial_delivery_before_an_outage_is_remembered() -> None:
    outbox, sender = Outbox({}), FakeSender()
    error = HecUnavailableError("down", attempts=5)
    error.partial = SendResult(delivered=["a"])
    sender.error = error
    enqueue_all(outbox, ["a", "b"])
    report = outbox.flush(sender, NOW)
    assert report.delivered == ["a"] and outbox.pending_ids == ["b"]


def test_the_storage_is_plain_json_with_ids_only_in_values() -> None:
    storage: dict[str, Any] = {}
    outbox = Outbox(storage)
    outbox.enqueue("aws-rsi:posture:1.2", envelope("aws-rsi:posture:1.2"), NOW)
    outbox.enqueue("b", envelope("b"), NOW)
    outbox.flush(FakeSender(), NOW)
    outbox.enqueue("c", envelope("c"), NOW)
    assert json.loads(json.dumps(storage)) == storage

    def keys(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys(v)}
        return set()

    assert not any("." in k or k.startswith("$") for k in keys(storage))
    reloaded = Outbox(json.loads(json.dumps(storage)))
    assert reloaded.pending_ids == ["c"]
    assert reloaded.delivered_version("aws-rsi:posture:1.2") is not None


def test_an_unreadable_outbox_entry_is_reported_not_fatal() -> None:
    storage = {"outbox": {"schema": 1, "pending": [{"id": "x", "body": 3}, "junk"]}}
    report = Outbox(storage).flush(FakeSender(), NOW)
    assert [d.reason for d in report.dropped] == [DropReason.UNREADABLE] * 2


# --------------------------------------------------------------------------- across pulls


class CE:
    """Saves the storage only when a pull returns, like CE's core."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}

    def pull(self, step: Callable[[dict[str, Any]], Any]) -> Any:
        storage = copy.deepcopy(self.saved)
        result = step(storage)
        self.saved = storage
        return result


def hec_client(hec: HecEmulator, clock: FakeClock) -> HecClient:
    return HecClient(
        hec.url,
        TOKEN,
        user_agent="test",
        proxies={},
        verify=True,
        retry=RetryPolicy(max_attempts=3),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )


def delivery(
    alerts: list[dict[str, Any]], hec: HecEmulator, clock: FakeClock, now: float = NOW
) -> Callable[[dict[str, Any]], Any]:
    def step(storage: dict[str, Any]) -> Any:
        outbox = Outbox(storage)
        for alert in alerts:
            outbox.enqueue(alert["id"], to_envelope(alert), now)
        return outbox.flush(hec_client(hec, clock), now)

    return step


def received_ids(hec: HecEmulator) -> list[str]:
    return [e["event"]["id"] for e in hec.events]


def test_hec_down_for_a_whole_pull_loses_nothing_and_the_next_pull_delivers_once(
    hec: HecEmulator, alerts: list[dict[str, Any]], clock: FakeClock
) -> None:
    ce = CE()
    hec.add_fault({"kind": "busy", "count": None})
    report = ce.pull(delivery(alerts, hec, clock))
    assert report.error is not None and "HEC code 9, Server is busy" in report.error
    assert report.pending == len(alerts) and received_ids(hec) == []
    hec.faults.clear()
    second = ce.pull(delivery(alerts, hec, clock, NOW + 60))
    third = ce.pull(delivery(alerts, hec, clock, NOW + 120))
    assert sorted(received_ids(hec)) == sorted(a["id"] for a in alerts)
    assert len(second.delivered) == len(alerts) and third.delivered == []


def test_a_retried_pull_does_not_resend_what_was_delivered(
    hec: HecEmulator, alerts: list[dict[str, Any]], clock: FakeClock
) -> None:
    ce = CE()
    ce.pull(delivery(alerts, hec, clock))
    ce.pull(delivery(alerts, hec, clock, NOW + 60))
    assert len(received_ids(hec)) == len(alerts)


def test_a_pull_that_fails_after_delivery_resends_with_the_same_id_and_version(
    hec: HecEmulator, alerts: list[dict[str, Any]], clock: FakeClock
) -> None:
    """The documented at-least-once window: CE discards the storage of a failed pull."""
    ce = CE()

    def failing(storage: dict[str, Any]) -> None:
        delivery(alerts, hec, clock)(storage)
        raise RuntimeError("the pull died after delivering")

    with pytest.raises(RuntimeError):
        ce.pull(failing)
    ce.pull(delivery(alerts, hec, clock, NOW + 60))
    copies = {(e["event"]["id"], e["event"]["alert_version"]) for e in hec.events}
    assert len(hec.events) == 2 * len(alerts)
    assert len(copies) == len(alerts)  # `| dedup id alert_version` leaves one of each


def test_an_outage_in_the_middle_of_a_flush_delivers_the_rest_on_the_next_pull(
    hec: HecEmulator, alerts: list[dict[str, Any]], clock: FakeClock
) -> None:
    ce = CE()
    hec.add_fault({"kind": "invalid_event", "position": 99})  # consumes request 1: delivered
    hec.add_fault({"kind": "busy", "count": None})

    def small_batches(storage: dict[str, Any]) -> Any:
        outbox = Outbox(storage)
        for alert in alerts:
            outbox.enqueue(alert["id"], to_envelope(alert), NOW)
        client = hec_client(hec, clock)
        client.max_batch_events = 2
        return outbox.flush(client, NOW)

    first = ce.pull(small_batches)
    assert len(first.delivered) == 2 and first.pending == len(alerts) - 2
    hec.faults.clear()
    ce.pull(delivery(alerts, hec, clock, NOW + 60))
    assert sorted(received_ids(hec)) == sorted(a["id"] for a in alerts)


# --------------------------------------------------------------- deferred acknowledgement


class AckingSender(FakeSender):
    """Accepts everything under ackIds (as HecClient with defer_acks) and says later which
    are indexed."""

    use_ack = True

    def __init__(self) -> None:
        super().__init__()
        self.next_ack = 0
        self.indexed: set[int] = set()
        self.queries: list[list[int]] = []

    def send(self, events: Sequence[HecEvent]) -> SendResult:
        keys = [e.key for e in events]
        self.calls.append(keys)
        ack, self.next_ack = self.next_ack, self.next_ack + 1
        return SendResult(awaiting={ack: keys})

    def acknowledged(self, ack_ids: Sequence[int]) -> set[int]:
        self.queries.append(list(ack_ids))
        return self.indexed & set(ack_ids)


def test_deferred_acks_are_settled_by_the_next_flush_without_resending() -> None:
    storage: dict[str, Any] = {}
    outbox, sender = Outbox(storage), AckingSender()
    enqueue_all(outbox, ["a", "b"])
    first = outbox.flush(sender, NOW)
    assert first.delivered == [] and first.awaiting_ack == 2 and first.pending == 2
    assert "2 of them sent, awaiting indexer acknowledgement" in first.summary()
    saved = json.loads(json.dumps(storage))  # what CE stores between pulls
    assert [e["ack"] for e in saved["outbox"]["pending"]] == [0, 0]
    sender.indexed = {0}
    second = Outbox(saved).flush(sender, NOW + 60)
    assert second.delivered == ["a", "b"] and second.pending == 0
    assert sender.calls == [["a", "b"]] and sender.queries == [[0]]
    assert saved["outbox"]["totals"]["delivered"] == 2


def test_events_not_acknowledged_in_time_are_sent_again() -> None:
    outbox, sender = Outbox({}, OutboxLimits(ack_timeout_seconds=300)), AckingSender()
    enqueue_all(outbox, ["a"])
    outbox.flush(sender, NOW)
    assert outbox.flush(sender, NOW + 299).awaiting_ack == 1  # still waiting, not re-sent
    late = outbox.flush(sender, NOW + 300)
    assert late.unacknowledged == ["a"] and sender.calls == [["a"], ["a"]]
    sender.indexed = {1}
    assert outbox.flush(sender, NOW + 400).delivered == ["a"]


def test_a_new_version_of_an_event_awaiting_its_ack_is_sent() -> None:
    outbox, sender = Outbox({}), AckingSender()
    outbox.enqueue("a", envelope("a"), NOW)
    outbox.flush(sender, NOW)
    assert outbox.enqueue("a", envelope("a", "listed it again"), NOW + 10) is Enqueued.SUPERSEDED
    outbox.flush(sender, NOW + 20)
    assert sender.calls == [["a"], ["a"]]


def test_awaiting_events_are_resent_when_acknowledgement_is_switched_off() -> None:
    outbox, sender = Outbox({}), AckingSender()
    enqueue_all(outbox, ["a"])
    outbox.flush(sender, NOW)
    plain = FakeSender()
    assert outbox.flush(plain, NOW + 10).delivered == ["a"]
    assert plain.calls == [["a"]]


def test_pulls_with_indexer_acknowledgement_do_not_wait_and_send_each_event_once(
    hec: HecEmulator,
) -> None:
    """Against the HEC emulator: the first pull returns without polling (acks come 0.3 s
    later), the next pull asks on the same channel, and Splunk indexed every event once."""
    hec.ack_delay = 0.3
    storage: dict[str, Any] = {}
    ids = [f"aws-rsi:test:{n}" for n in range(5)]

    def pull(now: float) -> Any:
        saved = copy.deepcopy(storage)
        client = HecClient(
            hec.url,
            ACK_TOKEN,
            user_agent="t",
            proxies={},
            verify=True,
            use_ack=True,
            defer_acks=True,
            channel=Outbox(saved).channel,
        )
        outbox = Outbox(saved)
        for alert_id in ids:
            outbox.enqueue(alert_id, envelope(alert_id), now)
        with client:
            report = outbox.flush(client, now)
        storage.clear()
        storage.update(saved)
        return report

    first = pull(NOW)
    assert first.awaiting_ack == 5 and first.delivered == []
    assert not any(r["path"].endswith("/ack") for r in hec.requests)
    time.sleep(0.4)
    second = pull(NOW + 60)
    assert sorted(second.delivered) == ids and second.pending == 0
    assert sorted(e["event"]["id"] for e in hec.events) == ids
