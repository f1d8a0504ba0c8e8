"""What main.py calls: ``probe_hec`` (validate_step) and ``deliver_alerts`` (pull_alerts)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from netskope.integrations.itsm.models import Alert
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import SplunkConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import (
    ConfigurationError,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    RetryPolicy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.outbox import DropReason
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.sink import deliver_alerts
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.validation import (
    CONFIG_CHECK_SOURCE,
    probe_hec,
)

from devkit.aws_emulator import free_port
from devkit.emulators.hec import HecEmulator

from .conftest import ACK_TOKEN, TOKEN

NOW = 1_795_856_400.0
HTTP = {"user_agent": "netskope-ce-5.1.0-cto-test", "proxies": {}, "verify": True}


def splunk(url: str, token: str = TOKEN, index: str = "", use_ack: bool = False) -> SplunkConfig:
    return SplunkConfig.from_step(
        {"hec_url": url, "hec_token": token, "index": index, "use_ack": "yes" if use_ack else "no"}
    )


# --------------------------------------------------------------------------- validate_step


def test_a_working_configuration_without_an_index_writes_nothing(hec: HecEmulator) -> None:
    probe_hec(splunk(hec.url), **HTTP)
    assert hec.events == []


def test_the_index_probe_writes_one_labelled_event(hec: HecEmulator) -> None:
    probe_hec(splunk(hec.url, index="security"), **HTTP, now=NOW)
    [event] = hec.events
    assert (event["index"], event["source"]) == ("security", CONFIG_CHECK_SOURCE)
    assert event["event"]["type"] == "config_check"


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        (lambda url: splunk(url, token="bad-token-value"), "HEC Token", "rejected the token"),
        (lambda url: splunk(url, index="finance"), "Index", "index 'finance'"),
        (lambda url: splunk(url, use_ack=True), "Use Indexer Acknowledgement", "disabled"),
        (lambda url: splunk(url + "/splunk"), "HEC URL", "nothing answers"),
    ],
)
def test_each_misconfiguration_names_its_field(
    hec: HecEmulator, config: Any, field: str, words: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        probe_hec(config(hec.url), **HTTP)
    assert str(raised.value).startswith(f"{field}: ")
    assert words in str(raised.value)


def test_an_ack_token_with_use_ack_validates(hec: HecEmulator) -> None:
    probe_hec(splunk(hec.url, token=ACK_TOKEN, use_ack=True), **HTTP)
    acks = [r for r in hec.requests if r["path"] == "/services/collector/ack"]
    assert [r["status"] for r in acks] == [200]  # the acknowledgement probe ran and passed
    assert hec.events == []


def test_an_unreachable_collector_names_the_url(hec: HecEmulator) -> None:
    with pytest.raises(ConfigurationError, match=r"^HEC URL: could not reach Splunk HEC"):
        probe_hec(splunk(f"http://127.0.0.1:{free_port()}"), **HTTP)


def test_a_busy_collector_asks_to_save_again(hec: HecEmulator) -> None:
    hec.add_fault({"kind": "busy"})
    with pytest.raises(ConfigurationError, match=r"save again in a minute"):
        probe_hec(splunk(hec.url), **HTTP)


# --------------------------------------------------------------------------- pull delivery


def test_alerts_reach_splunk_as_cim_events(hec: HecEmulator, alerts: list[dict[str, Any]]) -> None:
    storage: dict[str, Any] = {}
    report = deliver_alerts(alerts, storage, splunk(hec.url, index="security"), now=NOW, **HTTP)
    assert report.ok and len(report.delivered) == len(alerts)
    event = next(e for e in hec.events if e["event"]["user"] == "support_user")
    assert event["sourcetype"] == "netskope:ce:aws:rolesession"
    assert event["index"] == "security"
    assert event["event"]["signature_id"] == "noncompliant_role_activity"
    assert storage["outbox"]["pending"] == []


def test_pydantic_alerts_are_accepted(hec: HecEmulator, alerts: list[dict[str, Any]]) -> None:
    report = deliver_alerts([Alert(**a) for a in alerts], {}, splunk(hec.url), now=NOW, **HTTP)
    assert len(report.delivered) == len(alerts)


def test_hec_down_keeps_the_alerts_and_reports_why(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    storage: dict[str, Any] = {}
    config = splunk(f"http://127.0.0.1:{free_port()}")
    fast = {"retry": RetryPolicy(max_attempts=2), "sleep": lambda _s: None}
    report = deliver_alerts(alerts, storage, config, now=NOW, client_options=fast, **HTTP)
    assert report.error is not None and "connection failed" in report.error
    assert len(storage["outbox"]["pending"]) == len(alerts)
    assert json.loads(json.dumps(storage)) == storage


def test_a_malformed_alert_is_dropped_and_reported_while_the_others_go(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    alerts[0]["timestamp"] = "yesterday"
    report = deliver_alerts(alerts, {}, splunk(hec.url), now=NOW, **HTTP)
    assert [(d.alert_id, d.reason) for d in report.dropped] == [
        (alerts[0]["id"], DropReason.MALFORMED)
    ]
    assert len(report.delivered) == len(alerts) - 1


def test_a_token_no_client_can_use_is_reported_and_the_alerts_kept(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    storage: dict[str, Any] = {}
    report = deliver_alerts(alerts, storage, splunk(hec.url, token="a b"), now=NOW, **HTTP)
    assert report.error_field == "HEC Token"
    assert len(storage["outbox"]["pending"]) == len(alerts)


def test_an_alert_that_never_passed_the_builder_is_delivered_inert(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    """E.g. an alert a pull of an older version left in storage, with a lone surrogate."""
    alerts[1]["rawData"]["user_agent"] = "aws-cli\ud800\u202e\r\n$id " + "x" * 50_000
    storage: dict[str, Any] = {}
    report = deliver_alerts(alerts, storage, splunk(hec.url), now=NOW, **HTTP)
    assert report.ok and len(report.delivered) == len(alerts)
    event = next(e for e in hec.events if e["event"]["id"] == alerts[1]["id"])["event"]
    assert event["user_agent"].startswith("aws-cli\ufffd\\u202e\\u000d\\u000a＄id xxx")
    assert event["user_agent"].endswith("[truncated from 50015 characters]")
    json.dumps(storage, ensure_ascii=False).encode("utf-8")
