"""HecClient against scripted HEC answers (``responses``): batching, retries, errors, acks."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import responses
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.errors import (
    HecConfigError,
    HecRequestError,
    HecUnavailableError,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    HecClient,
    HecEvent,
    RetryPolicy,
    iter_batches,
    parse_retry_after,
)

from .conftest import TOKEN, FakeClock

BASE = "https://splunk.example.com:8088"
EVENT_URL = BASE + "/services/collector/event"
ACK_URL = BASE + "/services/collector/ack"
SUCCESS = {"text": "Success", "code": 0}


def client(clock: FakeClock, **options: Any) -> HecClient:
    options.setdefault("user_agent", "netskope-ce-5.1.0-cto-test-v1.0.0")
    options.setdefault("proxies", {"https": "http://proxy.example.com:3128"})
    options.setdefault("verify", True)
    return HecClient(BASE, TOKEN, sleep=clock.sleep, monotonic=clock.monotonic, **options)


def event(key: str, size: int = 10) -> HecEvent:
    return HecEvent.from_envelope(key, {"time": 1.0, "event": {"id": key, "pad": "x" * size}})


def sent_keys(call: Any) -> list[str]:
    decoder, text, keys, offset = json.JSONDecoder(), call.request.body.decode(), [], 0
    while offset < len(text):
        while text[offset].isspace():
            offset += 1
        envelope, offset = decoder.raw_decode(text, offset)
        keys.append(envelope["event"]["id"])
    return keys


# --------------------------------------------------------------------------- batching


def test_batches_never_exceed_one_megabyte_and_keep_order() -> None:
    events = [event(f"a{i}", 300_000) for i in range(7)]
    batches = list(iter_batches(events))
    assert [len(b) for b in batches] == [3, 3, 1]
    for batch in batches:
        assert sum(len(e.body) for e in batch) + len(batch) - 1 <= 1_000_000
    assert [e.key for b in batches for e in b] == [f"a{i}" for i in range(7)]


@responses.activate
def test_a_send_of_2500_events_makes_requests_of_at_most_1000_events(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    result = client(clock).send([event(f"e{i}", 1) for i in range(2500)])
    assert [len(sent_keys(c)) for c in responses.calls] == [1000, 1000, 500]
    assert len(result.delivered) == 2500


@responses.activate
def test_every_request_carries_token_user_agent_channel_proxies_tls_and_timeout(
    clock: FakeClock,
) -> None:
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    hec = client(clock, verify="/etc/ce/ca.pem", timeout=20.0)
    hec.send([event("a")])
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"Splunk {TOKEN}"
    assert request.headers["User-Agent"] == "netskope-ce-5.1.0-cto-test-v1.0.0"
    assert request.headers["X-Splunk-Request-Channel"] == hec.channel
    assert request.req_kwargs["verify"] == "/etc/ce/ca.pem"
    assert request.req_kwargs["proxies"]["https"] == "http://proxy.example.com:3128"
    assert request.req_kwargs["timeout"] == (10.0, 20.0)


def test_a_full_endpoint_url_is_trimmed_to_the_collector_base() -> None:
    hec = HecClient(
        BASE + "/services/collector/event/", TOKEN, user_agent="ua", proxies={}, verify=True
    )
    assert "url='https://splunk.example.com:8088'" in repr(hec)


# --------------------------------------------------------------------------- retries


@responses.activate
def test_429_waits_the_retry_after_seconds_then_succeeds(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=429, headers={"Retry-After": "7"})
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    result = client(clock).send([event("a")])
    assert clock.sleeps == [7.0]
    assert result.delivered == ["a"]


@responses.activate
def test_a_retry_after_that_looks_like_an_epoch_is_not_slept(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=429, headers={"Retry-After": "1764410000"})
    with pytest.raises(HecUnavailableError, match=r"retry after 1.76441e") as raised:
        client(clock).send([event("a")])
    assert clock.sleeps == []
    assert raised.value.retry_after == 1764410000.0
    assert raised.value.partial.delivered == []


def test_retry_after_is_read_as_delta_seconds_only() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after(None) is None


@responses.activate
def test_503_server_busy_is_retried_with_doubling_backoff_then_succeeds(clock: FakeClock) -> None:
    busy = {"text": "Server is busy", "code": 9}
    responses.add(responses.POST, EVENT_URL, status=503, json=busy)
    responses.add(responses.POST, EVENT_URL, status=503, json=busy)
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    result = client(clock).send([event("a")])
    assert clock.sleeps == [1.0, 2.0]
    assert result.delivered == ["a"]


@responses.activate
def test_5xx_until_attempts_run_out_raises_unavailable_naming_the_last_answer(
    clock: FakeClock,
) -> None:
    responses.add(responses.POST, EVENT_URL, status=500, json={"text": "x", "code": 8})
    with pytest.raises(HecUnavailableError) as raised:
        client(clock, retry=RetryPolicy(max_attempts=4)).send([event("a")])
    assert len(responses.calls) == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert raised.value.attempts == 4
    assert "HTTP 500, HEC code 8, Internal server error" in str(raised.value)


@responses.activate
def test_total_wait_is_bounded_by_the_retry_budget(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=503, headers={"Retry-After": "30"})
    policy = RetryPolicy(max_attempts=10, budget_seconds=60.0)
    with pytest.raises(HecUnavailableError):
        client(clock, retry=policy).send([event("a")])
    assert sum(clock.sleeps) <= 60.0
    assert clock.sleeps == [30.0, 30.0]


@responses.activate
def test_connection_errors_are_retried(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, body=requests.ConnectionError("reset by peer"))
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    assert client(clock).send([event("a")]).delivered == ["a"]
    assert clock.sleeps == [1.0]


@responses.activate
def test_a_tls_failure_is_a_configuration_error_and_not_retried(clock: FakeClock) -> None:
    responses.add(
        responses.POST, EVENT_URL, body=requests.exceptions.SSLError("certificate verify failed")
    )
    with pytest.raises(HecConfigError, match=r"HEC URL: the TLS connection") as raised:
        client(clock).send([event("a")])
    assert len(responses.calls) == 1
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# --------------------------------------------------------------------------- configuration errors


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [(403, 4, "Invalid token"), (401, 3, "Invalid authorization"), (401, 2, "Token is required")],
)
@responses.activate
def test_a_rejected_token_raises_a_config_error_naming_the_field_not_the_token(
    clock: FakeClock, status: int, code: int, text: str
) -> None:
    responses.add(responses.POST, EVENT_URL, status=status, json={"text": text, "code": code})
    with pytest.raises(HecConfigError) as raised:
        client(clock).send([event("a")])
    message = str(raised.value)
    assert message.startswith("HEC Token: Splunk rejected the token")
    assert f"HEC code {code}" in message
    assert TOKEN not in message and TOKEN not in repr(raised.value)
    assert raised.value.field == "HEC Token"
    assert len(responses.calls) == 1


@responses.activate
def test_a_disabled_token_says_how_to_enable_it(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=403, json={"text": "Token disabled", "code": 1})
    with pytest.raises(HecConfigError, match=r"token is disabled.*Enable it"):
        client(clock).send([event("a")])


@responses.activate
def test_incorrect_index_names_the_index_field_and_the_fix(clock: FakeClock) -> None:
    responses.add(
        responses.POST,
        EVENT_URL,
        status=400,
        json={"text": "Incorrect index", "code": 7, "invalid-event-number": 1},
    )
    with pytest.raises(HecConfigError) as raised:
        client(clock, index="secops").send([event("a"), event("b")])
    assert raised.value.field == "Index"
    assert "index 'secops'" in str(raised.value)
    assert "Selected Indexes" in str(raised.value)


@responses.activate
def test_404_points_at_the_url_field(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=404, body="<html>Not Found</html>")
    with pytest.raises(HecConfigError, match=r"^HEC URL: nothing answers"):
        client(clock).send([event("a")])


def test_a_token_with_a_line_break_is_refused_before_any_request() -> None:
    with pytest.raises(HecConfigError, match=r"HEC Token: the value contains spaces") as raised:
        HecClient(BASE, TOKEN + "\n", user_agent="ua", proxies={}, verify=True)
    assert TOKEN not in str(raised.value)


# --------------------------------------------------------------------------- partial failures


@responses.activate
def test_an_invalid_event_is_dropped_and_only_the_events_after_it_are_resent(
    clock: FakeClock,
) -> None:
    responses.add(
        responses.POST,
        EVENT_URL,
        status=400,
        json={"text": "Invalid data format", "code": 6, "invalid-event-number": 1},
    )
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    result = client(clock).send([event("a"), event("b"), event("c"), event("d")])
    assert sent_keys(responses.calls[1]) == ["c", "d"]
    assert result.delivered == ["a", "c", "d"]
    assert [(r.key, r.code) for r in result.rejected] == [("b", 6)]


@responses.activate
def test_a_400_without_a_position_is_bisected_down_to_the_bad_event(clock: FakeClock) -> None:
    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        bad = b'"id":"c"' in request.body
        body = {"text": "Invalid data format", "code": 6} if bad else SUCCESS
        return (400 if bad else 200, {}, json.dumps(body))

    responses.add_callback(responses.POST, EVENT_URL, callback=reply)
    result = client(clock).send([event(k) for k in "abcd"])
    assert sorted(result.delivered) == ["a", "b", "d"]
    assert [r.key for r in result.rejected] == ["c"]


@responses.activate
def test_an_event_larger_than_a_request_is_rejected_without_sending_it(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    result = client(clock).send([event("huge", 1_100_000), event("small")])
    assert [r.key for r in result.rejected] == ["huge"]
    assert "request limit" in result.rejected[0].reason
    assert [sent_keys(c) for c in responses.calls] == [["small"]]


@responses.activate
def test_an_outage_after_the_first_batch_reports_what_was_delivered(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json=SUCCESS)
    responses.add(responses.POST, EVENT_URL, status=503, json={"text": "Server is busy", "code": 9})
    with pytest.raises(HecUnavailableError) as raised:
        client(clock, max_batch_events=2).send([event(k) for k in "abcd"])
    assert raised.value.partial.delivered == ["a", "b"]


@responses.activate
def test_an_unexpected_refusal_is_a_request_error(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=409, json={"text": "Conflict"})
    with pytest.raises(HecRequestError, match=r"HTTP 409"):
        client(clock).send([event("a")])


# --------------------------------------------------------------------------- acknowledgement


@responses.activate
def test_with_acks_events_count_as_delivered_once_indexed(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json={**SUCCESS, "ackId": 5})
    responses.add(responses.POST, ACK_URL, json={"acks": {"5": False}})
    responses.add(responses.POST, ACK_URL, json={"acks": {"5": True}})
    hec = client(clock, use_ack=True)
    result = hec.send([event("a"), event("b")])
    assert result.delivered == ["a", "b"]
    ack_request = responses.calls[1].request
    assert json.loads(ack_request.body) == {"acks": [5]}
    assert ack_request.headers["X-Splunk-Request-Channel"] == hec.channel
    assert clock.sleeps == [0.5]


@responses.activate
def test_acks_that_do_not_arrive_in_time_leave_events_unacknowledged(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json={**SUCCESS, "ackId": 0})
    responses.add(responses.POST, ACK_URL, json={"acks": {"0": False}})
    result = client(clock, use_ack=True).send([event("a")])
    assert result.delivered == []
    assert result.unacknowledged == ["a"]
    assert sum(clock.sleeps) == pytest.approx(30.0)


@responses.activate
def test_ack_disabled_on_the_token_names_the_acknowledgement_field(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json={**SUCCESS, "ackId": 0})
    responses.add(responses.POST, ACK_URL, status=400, json={"text": "ACK is disabled", "code": 14})
    with pytest.raises(HecConfigError, match=r"^Use Indexer Acknowledgement:") as raised:
        client(clock, use_ack=True).send([event("a")])
    assert raised.value.partial.unacknowledged == ["a"]


@responses.activate
def test_without_use_ack_an_ack_id_in_the_answer_is_not_waited_for(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, json={**SUCCESS, "ackId": 3})
    assert client(clock).send([event("a")]).delivered == ["a"]
    assert len(responses.calls) == 1


# --------------------------------------------------------------------------- probes


@responses.activate
def test_the_token_probe_posts_an_empty_body_and_accepts_no_data(clock: FakeClock) -> None:
    responses.add(responses.POST, EVENT_URL, status=400, json={"text": "No data", "code": 5})
    client(clock).probe_token()
    assert responses.calls[0].request.body in (b"", None)


@responses.activate
def test_health_is_checked_without_sending_the_token(clock: FakeClock) -> None:
    responses.add(
        responses.GET,
        BASE + "/services/collector/health",
        json={"text": "HEC is healthy", "code": 17},
    )
    health = client(clock).check_health()
    assert (health.healthy, health.code) == (True, 17)
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_an_unreachable_collector_is_unhealthy_with_a_reason(clock: FakeClock) -> None:
    responses.add(
        responses.GET, BASE + "/services/collector/health", body=requests.ConnectionError("x")
    )
    health = client(clock).check_health()
    assert not health.healthy and health.status is None
    assert "connection failed" in health.text
