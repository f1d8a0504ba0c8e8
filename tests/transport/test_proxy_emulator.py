"""The recording proxy itself: forwards absolute-URI requests, tunnels CONNECT, demands
Basic credentials when configured, resolves test-only names, and records no secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.proxy import ProxyEmulator
from devkit.tls import DevPki

from .conftest import PROXY_PASSWORD, PROXY_USER

TOKEN = "11111111-2222-4333-8444-555566667777"


@pytest.fixture
def plain_hec() -> Iterator[HecEmulator]:
    with HecEmulator({TOKEN: TokenSpec()}) as emulator:
        yield emulator


@pytest.fixture
def tls_hec(pki: DevPki) -> Iterator[HecEmulator]:
    cert, key = pki.server_files()
    with HecEmulator({TOKEN: TokenSpec()}, tls_cert=cert, tls_key=key) as emulator:
        yield emulator


def test_absolute_uri_requests_are_forwarded_and_recorded(
    proxy: ProxyEmulator, plain_hec: HecEmulator
) -> None:
    url = f"{plain_hec.url}/services/collector/health?token=not-recorded"
    response = requests.get(url, proxies=proxy.proxies(), timeout=5)
    assert response.status_code == 200
    assert response.json()["text"] == "HEC is healthy"
    [record] = proxy.records
    assert (record.method, record.target, record.path) == (
        "GET",
        f"127.0.0.1:{plain_hec.port}",
        "/services/collector/health",
    )
    assert record.authorized and record.credentials_sent and record.status == 200


def test_post_bodies_reach_the_target_intact(proxy: ProxyEmulator, plain_hec: HecEmulator) -> None:
    response = requests.post(
        f"{plain_hec.url}/services/collector/event",
        data=b'{"event": {"n": 1}}{"event": {"n": 2}}',
        headers={"Authorization": f"Splunk {TOKEN}"},
        proxies=proxy.proxies(),
        timeout=5,
    )
    assert response.status_code == 200
    assert [e["event"]["n"] for e in plain_hec.events] == [1, 2]


def test_connect_tunnels_tls_end_to_end(
    proxy: ProxyEmulator, tls_hec: HecEmulator, pki: DevPki
) -> None:
    response = requests.get(
        f"{tls_hec.url}/services/collector/health",
        proxies=proxy.proxies(),
        verify=str(pki.server_ca_path),
        timeout=5,
    )
    assert response.status_code == 200
    [record] = proxy.records
    assert (record.method, record.target, record.path) == (
        "CONNECT",
        f"127.0.0.1:{tls_hec.port}",
        "",
    )


def test_requests_without_credentials_get_407(proxy: ProxyEmulator, plain_hec: HecEmulator) -> None:
    response = requests.get(
        f"{plain_hec.url}/services/collector/health",
        proxies={"http": proxy.url(username="")},
        timeout=5,
    )
    assert response.status_code == 407
    assert response.headers["Proxy-Authenticate"].startswith("Basic")
    [record] = proxy.records
    assert not record.credentials_sent and not record.authorized and record.status == 407
    assert plain_hec.requests == []


def test_connect_with_wrong_credentials_is_refused(
    proxy: ProxyEmulator, tls_hec: HecEmulator
) -> None:
    with pytest.raises(requests.exceptions.ProxyError, match="407"):
        requests.get(
            f"{tls_hec.url}/services/collector/health",
            proxies=proxy.proxies(password="wrong"),
            verify=False,  # noqa: S501 - the tunnel is refused before any TLS
            timeout=5,
        )
    [record] = proxy.records
    assert record.credentials_sent and not record.authorized
    assert tls_hec.requests == []


def test_names_only_the_proxy_knows_resolve_through_it(
    proxy: ProxyEmulator, plain_hec: HecEmulator
) -> None:
    url = f"http://splunk.invalid:{plain_hec.port}/services/collector/health"
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)  # without the proxy the name does not resolve
    assert requests.get(url, proxies=proxy.proxies(), timeout=5).status_code == 200
    assert proxy.targets() == {f"splunk.invalid:{plain_hec.port}"}


def test_records_hold_no_credentials(proxy: ProxyEmulator, plain_hec: HecEmulator) -> None:
    requests.get(f"{plain_hec.url}/services/collector/health", proxies=proxy.proxies(), timeout=5)
    text = repr(proxy.records)
    assert PROXY_PASSWORD not in text and PROXY_USER not in text


def test_an_open_proxy_needs_no_credentials(plain_hec: HecEmulator) -> None:
    with ProxyEmulator() as open_proxy:
        response = requests.get(
            f"{plain_hec.url}/services/collector/health", proxies=open_proxy.proxies(), timeout=5
        )
    assert response.status_code == 200
    assert open_proxy.records[0].authorized
