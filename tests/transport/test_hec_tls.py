"""Splunk HEC over HTTPS with certificates CE does not trust: ``ssl_validation`` on fails
clearly (naming the certificate problem and the fix, never the token), off works; trusting the
CA works with validation on; and HEC through CE's proxy is tunnelled with CONNECT."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netskope.common.utils import Logger

from devkit.aws_emulator import MotoServer
from devkit.emulators.hec import HecEmulator
from devkit.loader import load_plugin
from devkit.runner import StateDir, TenantConfig, run_pull
from devkit.tls import DevPki
from tests.contract.tenant import seed_small_tenant

from .conftest import HEC_TOKEN, ProxiedPull, splunk_config, tls_hec

# ssl_validation off is what some of these tests exercise.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@pytest.fixture
def self_signed_hec(pki: DevPki) -> Iterator[HecEmulator]:
    with tls_hec(pki, self_signed=True) as emulator:
        yield emulator


@pytest.fixture
def private_ca_hec(pki: DevPki) -> Iterator[HecEmulator]:
    with tls_hec(pki) as emulator:
        yield emulator


def delivered_ids(events: list[dict[str, Any]]) -> set[str]:
    return {e["event"]["id"] for e in events if e["event"].get("type") == "alert"}


def validate_splunk(url: str, *, ssl_validation: bool) -> tuple[Any, Logger]:
    logger = Logger()
    plugin = load_plugin()("tls", None, {}, None, logger, ssl_validation=ssl_validation)
    return plugin.validate_step("splunk", splunk_config(url)), logger


def test_validation_on_refuses_a_self_signed_collector_without_showing_the_token(
    self_signed_hec: HecEmulator,
) -> None:
    result, logger = validate_splunk(self_signed_hec.url, ssl_validation=True)
    assert not result.success
    assert result.message.startswith("HEC URL:")
    assert "certificate" in result.message
    assert HEC_TOKEN not in result.message and HEC_TOKEN not in logger.text()
    assert self_signed_hec.events == []


def test_validation_on_names_a_self_signed_certificate_and_both_fixes(
    self_signed_hec: HecEmulator,
) -> None:
    result, _ = validate_splunk(self_signed_hec.url, ssl_validation=True)
    assert re.search(r"self[- ]signed certificate", result.message)
    assert "trusted certificates" in result.message or "CA" in result.message
    assert re.search(r"SSL validation", result.message, re.I)


def test_validation_on_names_an_unknown_issuer(private_ca_hec: HecEmulator) -> None:
    result, _ = validate_splunk(private_ca_hec.url, ssl_validation=True)
    assert "unable to get local issuer certificate" in result.message


def test_validation_off_accepts_a_self_signed_collector(self_signed_hec: HecEmulator) -> None:
    result, _ = validate_splunk(self_signed_hec.url, ssl_validation=False)
    assert result.success, result.message


def test_trusting_the_issuing_ca_works_with_validation_on(
    private_ca_hec: HecEmulator, pki: DevPki
) -> None:
    """What "upload the CA to CE" amounts to: the CA is in the bundle requests trusts."""
    os.environ["REQUESTS_CA_BUNDLE"] = str(pki.server_ca_path)  # cleared by clean_proxy_env
    result, _ = validate_splunk(private_ca_hec.url, ssl_validation=True)
    assert result.success, result.message


def test_a_pull_with_validation_off_delivers_to_a_self_signed_collector(
    aws: MotoServer, self_signed_hec: HecEmulator, tmp_path: Path
) -> None:
    seed_small_tenant()
    tenant = TenantConfig("tls-off", splunk_config(self_signed_hec.url), ssl_validation=False)
    result = run_pull(tenant, StateDir(tmp_path))
    assert result.alerts
    assert delivered_ids(self_signed_hec.events) == {a.id for a in result.alerts}


def test_hec_through_the_proxy_is_tunnelled_with_connect(proxied_pull: ProxiedPull) -> None:
    """The collector (``splunk.invalid``) is reachable only through the proxy."""
    assert delivered_ids(proxied_pull.hec_events) == proxied_pull.alert_ids
    connects = [r for r in proxied_pull.proxy_records if r.method == "CONNECT"]
    assert connects and {r.target for r in connects} == {proxied_pull.hec_target}
    assert all(r.authorized and r.status == 200 for r in connects)
