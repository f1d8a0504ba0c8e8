"""Secret scan: no HEC token, proxy credential or ServiceNow password in anything delivery
produces - messages, reprs, tracebacks, reports, storage, log lines, received payloads.

The CE logger stand-in used here does no redaction, so a pass proves the texts are clean
at the source, not merely masked later by the plugin's logger.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from netskope.common.utils import Logger
from netskope.integrations.itsm.models import Alert
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import SplunkConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.errors import HecError
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    HecClient,
    HecEvent,
    RetryPolicy,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.sink import deliver_alerts
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.validation import probe_hec

from devkit.aws_emulator import free_port
from devkit.ce_routing import TicketOrchestrator, servicenow_routes
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.servicenow import ServiceNowEmulator, seed_reference_data
from devkit.loader import load_plugin, official_plugins_dir

from .conftest import DISABLED_TOKEN, SECRETS, SN_PASSWORD, SN_USER, TOKEN
from .test_hec_emulator import self_signed

PROXY_PASSWORD = "pr0xy-Pa55w0rd"
NOW = 1_795_856_400.0


def assert_clean(*texts: object) -> None:
    for text in texts:
        rendered = text if isinstance(text, str) else json.dumps(text, default=str)
        for secret in (*SECRETS, PROXY_PASSWORD):
            assert secret not in rendered, f"secret leaked into: {rendered[:300]}"


def everything_about(error: BaseException) -> list[str]:
    detail = getattr(error, "detail", None)
    return [str(error), repr(error), str(detail), "".join(traceback.format_exception(error))]


def fast_client(url: str, token: str = TOKEN, **options: Any) -> HecClient:
    options.setdefault("proxies", {})
    options.setdefault("verify", True)
    return HecClient(
        url,
        token,
        user_agent="t",
        retry=RetryPolicy(max_attempts=2),
        sleep=lambda _s: None,
        **options,
    )


@pytest.fixture
def tls_hec(tmp_path: Path) -> Iterator[HecEmulator]:
    cert, key = self_signed(tmp_path)
    with HecEmulator({TOKEN: TokenSpec()}, tls_cert=cert, tls_key=key) as server:
        yield server


def failures(hec: HecEmulator, tls_url: str) -> dict[str, Callable[[], Any]]:
    closed = f"http://127.0.0.1:{free_port()}"
    proxy = {"http": f"http://ce-proxy:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"}
    one = [HecEvent.from_envelope("a", {"event": "x"})]
    return {
        "invalid token": lambda: fast_client(hec.url, "wrong-" + TOKEN).send(one),
        "disabled token": lambda: fast_client(hec.url, DISABLED_TOKEN).send(one),
        "token with a newline": lambda: fast_client(hec.url, TOKEN + "\n"),
        "connection refused": lambda: fast_client(closed).send(one),
        "proxy with credentials": lambda: fast_client(closed, proxies=proxy).send(one),
        "tls verification": lambda: fast_client(tls_url).send(one),
        "timeout": lambda: fast_client(hec.url, timeout=0.05).send(one),
    }


@pytest.mark.parametrize(
    "case",
    [
        "invalid token",
        "disabled token",
        "token with a newline",
        "connection refused",
        "proxy with credentials",
        "tls verification",
        "timeout",
    ],
)
def test_no_hec_failure_puts_a_secret_in_its_message_repr_or_traceback(
    hec: HecEmulator, tls_hec: HecEmulator, case: str
) -> None:
    hec.add_fault({"kind": "slow", "delay": 0.3, "count": None})
    with pytest.raises(HecError) as raised:
        failures(hec, tls_hec.url)[case]()
    assert_clean(*everything_about(raised.value))


def test_the_client_repr_has_no_token(hec: HecEmulator) -> None:
    client = fast_client(hec.url, proxies={"https": f"http://u:{PROXY_PASSWORD}@p:1"})
    assert_clean(repr(client), str(vars(client).get("index")))


def test_a_failed_pull_delivery_logs_and_stores_no_secret(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    """What main.py will log: the summary, and the traceback of ``report.exception``."""
    logger = Logger()
    storage: dict[str, Any] = {}
    proxy = {"http": f"http://ce-proxy:{PROXY_PASSWORD}@127.0.0.1:{free_port()}"}
    config = SplunkConfig.from_step({"hec_url": hec.url, "hec_token": TOKEN, "index": ""})
    report = deliver_alerts(
        alerts,
        storage,
        config,
        now=NOW,
        user_agent="t",
        proxies=proxy,
        verify=True,
        client_options={"retry": RetryPolicy(max_attempts=2), "sleep": lambda _s: None},
    )
    assert report.exception is not None
    logger.error(
        report.summary(),
        details="".join(traceback.format_exception(report.exception)),
    )
    assert_clean(logger.text(), storage)


def test_validation_messages_have_no_token(hec: HecEmulator) -> None:
    config = SplunkConfig.from_step({"hec_url": hec.url, "hec_token": DISABLED_TOKEN})
    with pytest.raises(HecError) as raised:
        probe_hec(config, "t", {}, True)
    assert "token is disabled" in str(raised.value)
    assert_clean(*everything_about(raised.value))


def test_what_splunk_receives_and_logs_has_no_token(
    hec: HecEmulator, alerts: list[dict[str, Any]]
) -> None:
    config = SplunkConfig.from_step({"hec_url": hec.url, "hec_token": TOKEN})
    storage: dict[str, Any] = {}
    deliver_alerts(alerts, storage, config, now=NOW, user_agent="t", proxies={}, verify=True)
    assert len(hec.events) == len(alerts)
    assert_clean(hec.events, hec.requests, storage)


def test_servicenow_routing_reveals_no_password(
    servicenow: ServiceNowEmulator, alerts: list[dict[str, Any]]
) -> None:
    """The official ServiceNow plugin, its connections dropped: failures and logs name no
    password (it is configured as CE passes it, a Secrets-Manager mapping)."""
    from netskope.common.utils import ResolvingConfiguration, SecretStore

    seed_reference_data(servicenow)
    auth = {"url": servicenow.url, "username": SN_USER, "password": "secret:sn"}
    config = ResolvingConfiguration(
        {"auth": {**auth, "table": "sn_si_incident"}, "params": {"default_mappings": "no"}},
        SecretStore({"sn": SN_PASSWORD}),
    )
    logger = Logger()
    plugin = load_plugin(official_plugins_dir() / "servicenow_itsm")("sn", config, {}, None, logger)
    (queue,) = [q for q in plugin.get_queues() if q.value == "no_queue"]
    servicenow.add_fault({"kind": "drop", "count": None})
    orchestrator = TicketOrchestrator({"sn": plugin}, servicenow_routes("sn", queue))
    report = orchestrator.deliver([Alert(**a) for a in alerts])["sn"]
    assert report.failed
    assert_clean(report.failed, logger.text(), servicenow.requests)


@responses.activate
def test_transport_errors_and_answers_that_echo_secrets_are_redacted() -> None:
    """Defence in depth: an exception or a proxy page quoting the token or proxy URL."""
    url = "https://splunk.example.com:8088/services/collector/event"
    proxy_url = f"http://ce-proxy:{PROXY_PASSWORD}@proxy.example.com:3128"
    echo = f"boom: Authorization: Splunk {TOKEN} via {proxy_url}"
    responses.add(responses.POST, url, body=requests.ConnectionError(echo))
    responses.add(responses.POST, url, status=502, body=f"<html>{echo}</html>")
    client = HecClient(
        url,
        TOKEN,
        user_agent="t",
        proxies={"https": proxy_url},
        verify=True,
        retry=RetryPolicy(max_attempts=2),
        sleep=lambda _s: None,
    )
    with pytest.raises(HecError) as raised:
        client.send([HecEvent.from_envelope("a", {"event": "x"})])
    assert "HTTP 502: <html>boom: Authorization: Splunk ********" in str(raised.value)
    assert_clean(*everything_about(raised.value))
