"""The HEC emulator answers like Splunk over real HTTP: parsing, codes, faults, inspection."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.errors import (
    HecConfigError,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    HecClient,
    HecEvent,
)

from devkit.aws_emulator import free_port
from devkit.emulators.hec import HecEmulator, TokenSpec

from .conftest import ACK_TOKEN, DISABLED_TOKEN, TOKEN

AUTH = {"Authorization": f"Splunk {TOKEN}"}


def post(
    hec: HecEmulator,
    body: bytes | str,
    headers: dict[str, str] | None = None,
    path: str = "/services/collector/event",
) -> requests.Response:
    return requests.post(
        hec.url + path, data=body, headers=AUTH if headers is None else headers, timeout=5
    )


def answer(response: requests.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


# --------------------------------------------------------------------------- parsing


def test_concatenated_envelopes_with_or_without_whitespace_are_all_indexed(
    hec: HecEmulator,
) -> None:
    body = '{"event":"a","time":1}{"event":{"k":"b"}}\n\n  {"event":"c","index":"security"}\r\n'
    assert answer(post(hec, body)) == (200, {"text": "Success", "code": 0})
    assert [e["event"] for e in hec.events] == ["a", {"k": "b"}, "c"]
    assert [e["index"] for e in hec.events] == ["main", "main", "security"]
    assert hec.events[0]["time"] == 1 and hec.events[0]["token_name"] == "ce"


def test_events_before_a_malformed_one_are_kept_and_its_position_is_named(
    hec: HecEmulator,
) -> None:
    status, body = answer(post(hec, '{"event":"a"}{"event":"b"}{"event":'))
    assert (status, body) == (
        400,
        {"text": "Invalid data format", "code": 6, "invalid-event-number": 2},
    )
    assert [e["event"] for e in hec.events] == ["a", "b"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", (400, {"text": "No data", "code": 5})),
        ("   \n", (400, {"text": "No data", "code": 5})),
        (
            '{"time":1}',
            (400, {"text": "Event field is required", "code": 12, "invalid-event-number": 0}),
        ),
        (
            '{"event":"a"}{"event":""}',
            (400, {"text": "Event field cannot be blank", "code": 13, "invalid-event-number": 1}),
        ),
        (
            '{"event":{}}',
            (400, {"text": "Event field cannot be blank", "code": 13, "invalid-event-number": 0}),
        ),
        ('["event"]', (400, {"text": "Invalid data format", "code": 6, "invalid-event-number": 0})),
    ],
)
def test_bodies_splunk_refuses_get_splunks_code(
    hec: HecEmulator, body: str, expected: tuple[int, Any]
) -> None:
    assert answer(post(hec, body)) == expected


def test_an_index_outside_the_tokens_allow_list_is_code_7(hec: HecEmulator) -> None:
    status, body = answer(post(hec, '{"event":"x","index":"finance"}'))
    assert (status, body["code"], body["text"]) == (400, 7, "Incorrect index")
    assert body["invalid-event-number"] == 1  # Splunk's off-by-one for this code
    assert hec.events == []


# --------------------------------------------------------------------------- auth and channels


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (401, {"text": "Token is required", "code": 2})),
        ({"Authorization": f"Bearer {TOKEN}"}, (401, {"text": "Invalid authorization", "code": 3})),
        (
            {"Authorization": "Splunk 00000000-0000-0000-0000-000000000000"},
            (403, {"text": "Invalid token", "code": 4}),
        ),
        (
            {"Authorization": f"Splunk {DISABLED_TOKEN}"},
            (403, {"text": "Token disabled", "code": 1}),
        ),
    ],
)
def test_token_authentication_answers_with_splunks_codes(
    hec: HecEmulator, headers: dict[str, str], expected: tuple[int, Any]
) -> None:
    assert answer(post(hec, '{"event":"x"}', headers)) == expected
    assert hec.events == []


def test_a_token_in_the_query_string_is_refused_unless_enabled(hec: HecEmulator) -> None:
    response = requests.post(
        f"{hec.url}/services/collector/event?token={TOKEN}", data='{"event":"x"}', timeout=5
    )
    assert answer(response) == (
        400,
        {"text": "Query string authorization is not enabled", "code": 16},
    )


def test_a_token_with_acknowledgement_requires_a_valid_channel(hec: HecEmulator) -> None:
    ack_auth = {"Authorization": f"Splunk {ACK_TOKEN}"}
    assert answer(post(hec, '{"event":"x"}', ack_auth))[1]["code"] == 10
    bad = {**ack_auth, "X-Splunk-Request-Channel": "not-a-guid"}
    assert answer(post(hec, '{"event":"x"}', bad))[1]["code"] == 11


def test_acknowledgement_ids_count_per_channel_and_become_true(hec: HecEmulator) -> None:
    channel = str(uuid.uuid4())
    headers = {"Authorization": f"Splunk {ACK_TOKEN}", "X-Splunk-Request-Channel": channel}
    ids = [post(hec, '{"event":"x"}', headers).json()["ackId"] for _ in range(2)]
    assert ids == [0, 1]
    acks = post(hec, '{"acks":[0,1,7]}', headers, "/services/collector/ack").json()
    assert acks == {"acks": {"0": True, "1": True, "7": False}}


def test_acks_can_be_held_back_to_test_timeouts(hec: HecEmulator) -> None:
    hec.ack_delay = None
    channel = str(uuid.uuid4())
    headers = {"Authorization": f"Splunk {ACK_TOKEN}", "X-Splunk-Request-Channel": channel}
    post(hec, '{"event":"x"}', headers)
    assert post(hec, '{"acks":[0]}', headers, "/services/collector/ack").json() == {
        "acks": {"0": False}
    }


def test_the_ack_endpoint_of_a_token_without_acks_is_code_14(hec: HecEmulator) -> None:
    assert answer(post(hec, '{"acks":[0]}', path="/services/collector/ack")) == (
        400,
        {"text": "ACK is disabled", "code": 14},
    )


# --------------------------------------------------------------------------- health, 404, faults


def test_health_needs_no_token_and_can_be_made_unhealthy(hec: HecEmulator) -> None:
    health = hec.url + "/services/collector/health"
    assert answer(requests.get(health, timeout=5)) == (200, {"text": "HEC is healthy", "code": 17})
    hec.add_fault({"kind": "unhealthy"})
    assert answer(requests.get(health, timeout=5)) == (
        503,
        {"text": "HEC is unhealthy, queues are full", "code": 18},
    )


def test_unknown_paths_get_splunks_404(hec: HecEmulator) -> None:
    assert post(hec, "{}", path="/services/collector/nope").status_code == 404


def test_busy_for_n_requests_then_normal(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "busy", "count": 2})
    codes = [answer(post(hec, '{"event":"x"}')) for _ in range(3)]
    assert codes[:2] == [(503, {"text": "Server is busy", "code": 9})] * 2
    assert codes[2][0] == 200 and len(hec.events) == 1


def test_a_fault_with_a_duration_expires(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "busy", "count": None, "duration": 0.2})
    assert post(hec, '{"event":"x"}').status_code == 503
    time.sleep(0.25)
    assert post(hec, '{"event":"x"}').status_code == 200


def test_throttling_answers_429_with_retry_after(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "throttle", "retry_after": 3})
    response = post(hec, '{"event":"x"}')
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")


def test_a_slow_fault_delays_the_answer(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "slow", "delay": 0.3})
    started = time.monotonic()
    assert post(hec, '{"event":"x"}').status_code == 200
    assert time.monotonic() - started >= 0.3


def test_a_drop_before_processing_resets_the_connection_and_keeps_nothing(
    hec: HecEmulator,
) -> None:
    hec.add_fault({"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        post(hec, '{"event":"x"}')
    assert hec.events == []


def test_a_drop_after_processing_keeps_the_events_but_loses_the_answer(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "drop", "phase": "after"})
    with pytest.raises(requests.ConnectionError):
        post(hec, '{"event":"x"}')
    assert len(hec.events) == 1


def test_an_invalid_event_can_be_injected_at_a_position(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "invalid_event", "position": 1})
    status, body = answer(post(hec, '{"event":"a"}{"event":"b"}{"event":"c"}'))
    assert (status, body["code"], body["invalid-event-number"]) == (400, 6, 1)
    assert [e["event"] for e in hec.events] == ["a"]


def test_faults_events_and_reset_are_controllable_over_http(hec: HecEmulator) -> None:
    control = hec.url + "/_emulator"
    added = requests.post(control + "/faults", json=[{"kind": "busy", "count": 1}], timeout=5)
    assert added.status_code == 200
    assert requests.get(control + "/faults", timeout=5).json()["faults"][0]["kind"] == "busy"
    assert post(hec, '{"event":"x"}').status_code == 503
    assert post(hec, '{"event":"y"}').status_code == 200
    events = requests.get(control + "/events", timeout=5).json()["events"]
    assert [e["event"] for e in events] == ["y"]
    logged = requests.get(control + "/requests", timeout=5).json()["requests"]
    assert [r["status"] for r in logged if r["path"].startswith("/services")] == [503, 200]
    assert all(r["headers"].get("authorization") in (None, "<masked>") for r in logged)
    assert requests.post(control + "/reset", timeout=5).json() == {"reset": True}
    assert requests.get(control + "/events", timeout=5).json() == {"events": []}


def test_an_unknown_fault_kind_is_refused(hec: HecEmulator) -> None:
    response = requests.post(hec.url + "/_emulator/faults", json={"kind": "meteor"}, timeout=5)
    assert response.status_code == 400 and "unknown fault kind" in response.json()["error"]


def test_a_request_larger_than_the_content_limit_is_413(hec: HecEmulator) -> None:
    hec.max_content_length = 100
    assert post(hec, '{"event":"' + "x" * 200 + '"}').status_code == 413


# --------------------------------------------------------------------------- TLS and standalone


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "hec.pem", directory / "hec.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with HecEmulator({TOKEN: TokenSpec()}, tls_cert=cert, tls_key=key) as tls_hec:
        assert tls_hec.url.startswith("https://")
        trusting = HecClient(tls_hec.url, TOKEN, user_agent="t", proxies={}, verify=str(cert))
        assert trusting.send([HecEvent.from_envelope("a", {"event": "x"})]).delivered == ["a"]
        strict = HecClient(tls_hec.url, TOKEN, user_agent="t", proxies={}, verify=True)
        with pytest.raises(HecConfigError, match=r"^HEC URL: the TLS connection"):
            strict.send([HecEvent.from_envelope("a", {"event": "x"})])


def test_the_emulator_runs_standalone() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devkit.emulators.hec", "--port", str(port), "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}" in process.stdout.readline()
        response = requests.post(
            f"http://127.0.0.1:{port}/services/collector/event",
            data='{"event":"x"}',
            headers=AUTH,
            timeout=5,
        )
        assert answer(response) == (200, {"text": "Success", "code": 0})
    finally:
        process.terminate()
        process.wait(timeout=10)
