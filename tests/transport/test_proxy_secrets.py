"""Proxy credentials (``user:password@`` in CE's proxy URL) never reach a log record, an
exception, a validation message, an alert, stored state or Splunk - on success and when the
proxy refuses them with 407 (AWS and HEC are HTTPS in production, so refusals are tested on
CONNECT, where clients see them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from netskope.common.utils import Logger
from netskope.integrations.itsm.plugin_base import set_ce_proxy_settings

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.hec import HecEmulator
from devkit.emulators.proxy import ProxyRecord
from devkit.loader import load_plugin
from devkit.tls import DevPki

from .conftest import (
    PROXY_PASSWORD,
    PROXY_USER,
    ProxiedPull,
    recording_proxy,
    splunk_config,
    tls_hec,
    without_proxy_environment,
)

WRONG_PASSWORD = "Wr0ng-but-still-Secret-77"


def tenant_config(hec: HecEmulator) -> dict[str, Any]:
    return splunk_config(f"https://splunk.invalid:{hec.port}")  # only the proxy resolves it


def https_aws(hec: HecEmulator) -> dict[str, str]:
    """An HTTPS AWS endpoint: clients must CONNECT through the proxy (refused before TLS)."""
    return {"AWS_ENDPOINT_URL": f"https://moto.invalid:{hec.port}"}


def assert_no_proxy_credentials(*texts: str, password: str = PROXY_PASSWORD) -> None:
    for text in texts:
        assert password not in text
        assert f"{PROXY_USER}:" not in text
        assert f"%3A{password}" not in text


@dataclass
class Refused:
    """What CE showed and logged when the proxy refused its credentials."""

    messages: dict[str, str]
    log: str
    pull_error: BaseException
    proxy_records: list[ProxyRecord]


@pytest.fixture(scope="module")
def refused(moto_server: MotoServer, pki: DevPki) -> Iterator[Refused]:
    """Validation of the aws and splunk steps, then a pull, through a proxy that refuses CE's
    credentials (run once: botocore's retries of the refused tunnel take seconds)."""
    moto_server.reset()
    with (
        without_proxy_environment(),
        recording_proxy() as proxy,
        tls_hec(pki) as hec,
        patched_env(
            {**moto_server.env(), **https_aws(hec), "REQUESTS_CA_BUNDLE": str(pki.server_ca_path)}
        ),
    ):
        config = tenant_config(hec)
        set_ce_proxy_settings(proxy.proxies(password=WRONG_PASSWORD))
        logger = Logger()
        plugin_cls = load_plugin()
        validator = plugin_cls("proxy-407", None, {}, None, logger, use_proxy=True)
        messages = {s: validator.validate_step(s, config).message for s in ("aws", "splunk")}
        puller = plugin_cls("proxy-407", config, {}, None, logger, use_proxy=True)
        with pytest.raises(Exception) as failure:
            puller.pull_alerts()
        set_ce_proxy_settings({})
        yield Refused(messages, logger.text(), failure.value, proxy.records)


def test_a_proxied_pull_leaks_no_proxy_credentials(proxied_pull: ProxiedPull) -> None:
    assert proxied_pull.alert_ids and proxied_pull.hec_events and proxied_pull.proxy_records
    assert_no_proxy_credentials(
        proxied_pull.log,
        proxied_pull.alerts_json,
        proxied_pull.storage,
        proxied_pull.checkpoint,
        json.dumps(proxied_pull.hec_events),
        proxied_pull.hec_requests_json,
        repr(proxied_pull.proxy_records),
    )


def test_refusals_by_the_proxy_name_no_proxy_credentials(refused: Refused) -> None:
    assert refused.proxy_records and {r.status for r in refused.proxy_records} == {407}
    assert_no_proxy_credentials(
        *refused.messages.values(),
        refused.log,
        str(refused.pull_error),
        repr(refused.pull_error),
        password=WRONG_PASSWORD,
    )


def test_refusals_by_the_proxy_mention_the_proxy(refused: Refused) -> None:
    assert all("proxy" in message.lower() for message in refused.messages.values())
    assert "proxy" in str(refused.pull_error).lower()
    assert "Pull failed" in refused.log


def test_a_proxy_refusal_is_not_reported_as_bad_aws_keys(refused: Refused) -> None:
    assert "Authentication Method" not in refused.messages["aws"]
    assert (
        "Settings > Proxy" in refused.messages["aws"] or "proxy settings" in refused.messages["aws"]
    )
