"""Fixtures of the transport tests: a recording proxy, the throw-away PKI, a clean proxy
environment (``NO_PROXY=127.0.0.1`` would let clients bypass the proxy under test), and one
full proxied pull whose traces several tests read (a pull against moto costs seconds)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from netskope.integrations.itsm.plugin_base import set_ce_proxy_settings

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.proxy import ProxyEmulator, ProxyRecord
from devkit.runner import StateDir, TenantConfig, run_pull
from devkit.tls import DevPki, dev_pki
from tests.contract.tenant import ACCOUNT, OPEN_TRUST, configuration, seed_small_tenant

PROXY_USER = "ce-proxy-user"
PROXY_PASSWORD = "Pr0xy-P4ss-never-logged"
HEC_TOKEN = "0badf00d-1111-4222-8333-944455556666"
PROXY_ONLY_NAMES = ("moto.invalid", "splunk.invalid", "rolesanywhere.invalid")
PROXY_ENV = (
    "NO_PROXY",
    "no_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "AWS_CA_BUNDLE",
)


@contextmanager
def without_proxy_environment() -> Iterator[None]:
    """No proxy or CA bundle from the environment: only CE's settings may apply. CE's own
    proxy settings (a process-wide value ``run_pull`` sets and never clears) start and end
    empty, so no test inherits a proxy another test stopped."""
    saved = {key: os.environ.pop(key) for key in PROXY_ENV if key in os.environ}
    set_ce_proxy_settings({})
    try:
        yield
    finally:
        set_ce_proxy_settings({})
        for key in PROXY_ENV:
            os.environ.pop(key, None)
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def clean_proxy_env() -> Iterator[None]:
    with without_proxy_environment():
        yield


@pytest.fixture(scope="session")
def pki() -> DevPki:
    return dev_pki()


def recording_proxy() -> ProxyEmulator:
    """A proxy requiring Basic credentials, resolving the ``*.invalid`` test names."""
    hosts = dict.fromkeys(PROXY_ONLY_NAMES, "127.0.0.1")
    return ProxyEmulator(username=PROXY_USER, password=PROXY_PASSWORD, hosts=hosts)


@pytest.fixture
def proxy() -> Iterator[ProxyEmulator]:
    with recording_proxy() as emulator:
        yield emulator


def proxied_moto_env(aws: MotoServer) -> dict[str, str]:
    """boto3 addresses moto as ``moto.invalid``, a name only the proxy resolves; moto is told
    that name is its S3 endpoint (path-style buckets, not ``<bucket>.moto.invalid``)."""
    endpoint = f"http://moto.invalid:{aws.port}"
    return {"AWS_ENDPOINT_URL": endpoint, "MOTO_S3_CUSTOM_ENDPOINTS": endpoint}


def tls_hec(pki: DevPki, *, self_signed: bool = False) -> HecEmulator:
    cert, key = pki.server_files(self_signed=self_signed)
    spec = TokenSpec("ce", ("main",), "main")
    return HecEmulator({HEC_TOKEN: spec}, tls_cert=cert, tls_key=key)


def splunk_config(url: str, **overrides: dict[str, Any]) -> dict[str, Any]:
    return configuration(
        splunk={"hec_url": url, "hec_token": HEC_TOKEN, "index": "main"}, **overrides
    )


@dataclass(frozen=True)
class ProxiedPull:
    """Everything one CE pull through an authenticating proxy left behind."""

    alert_ids: set[str]
    alerts_json: str
    log: str
    storage: str
    checkpoint: str
    hec_events: list[dict[str, Any]]
    hec_requests_json: str
    proxy_records: list[ProxyRecord]
    moto_target: str
    hec_target: str


@pytest.fixture(scope="session")
def proxied_pull(
    moto_server: MotoServer, pki: DevPki, tmp_path_factory: pytest.TempPathFactory
) -> ProxiedPull:
    """Validation and a pull (with AssumeRole and Splunk delivery) with ``use_proxy=True``:
    AWS and HEC are reachable only through the proxy; CE trusts the collector's CA."""
    state = tmp_path_factory.mktemp("proxied-pull")
    moto_server.reset()
    with (
        without_proxy_environment(),
        patched_env(moto_server.env()),
        recording_proxy() as proxy,
        tls_hec(pki) as hec,
    ):
        seed_small_tenant()
        boto3.client("iam").create_role(
            RoleName="AuditorRole", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST)
        )
        hec_target = f"splunk.invalid:{hec.port}"
        config = splunk_config(
            f"https://{hec_target}", aws={"role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole"}
        )
        tenant = TenantConfig("proxied", config, use_proxy=True, proxy=proxy.proxies())
        with patched_env(
            {**proxied_moto_env(moto_server), "REQUESTS_CA_BUNDLE": str(pki.server_ca_path)}
        ):
            result = run_pull(tenant, StateDir(state))
        return ProxiedPull(
            alert_ids={a.id for a in result.alerts},
            alerts_json=json.dumps([a.model_dump(mode="json") for a in result.alerts]),
            log=result.logger.text(),
            storage=(state / "storage.json").read_text(),
            checkpoint=(state / "checkpoint.json").read_text(),
            hec_events=hec.events,
            hec_requests_json=json.dumps(hec.requests),
            proxy_records=proxy.records,
            moto_target=f"moto.invalid:{moto_server.port}",
            hec_target=hec_target,
        )
