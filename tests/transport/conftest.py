"""Fixtures of the transport tests: a recording proxy, the throw-away PKI, a clean proxy
environment (``NO_PROXY=127.0.0.1`` would let clients bypass the proxy under test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from netskope.integrations.itsm.plugin_base import set_ce_proxy_settings

from devkit.emulators.proxy import ProxyEmulator
from devkit.tls import DevPki, dev_pki

PROXY_USER = "ce-proxy-user"
PROXY_PASSWORD = "Pr0xy-P4ss-never-logged"
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


@pytest.fixture
def proxy() -> Iterator[ProxyEmulator]:
    """A proxy requiring Basic credentials, resolving ``*.invalid`` names to 127.0.0.1."""
    hosts = dict.fromkeys(("moto.invalid", "splunk.invalid", "rolesanywhere.invalid"), "127.0.0.1")
    with ProxyEmulator(username=PROXY_USER, password=PROXY_PASSWORD, hosts=hosts) as emulator:
        yield emulator
