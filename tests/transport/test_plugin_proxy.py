"""Every AWS call of a full CE pull (validation included) goes through CE's proxy, and only
when the configuration uses it. AWS (moto) is addressed by a name only the proxy resolves, so
a client that ignored the proxy would fail the pull instead of quietly going direct."""

from __future__ import annotations

from pathlib import Path

from devkit.aws_emulator import MotoServer
from devkit.emulators.proxy import ProxyEmulator
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant

from .conftest import ProxiedPull


def test_a_pull_reaches_aws_only_through_the_proxy(proxied_pull: ProxiedPull) -> None:
    """Clients made before and after AssumeRole (the configured role) all use the proxy;
    the pull succeeded although moto.invalid resolves nowhere else."""
    assert proxied_pull.alert_ids
    aws_records = [r for r in proxied_pull.proxy_records if r.target == proxied_pull.moto_target]
    assert {"sts", "iam", "s3"} <= {r.aws_service for r in aws_records}
    assert {r.target for r in proxied_pull.proxy_records} == {
        proxied_pull.moto_target,
        proxied_pull.hec_target,
    }
    assert all(r.authorized and r.status < 500 for r in proxied_pull.proxy_records)


def test_without_use_proxy_the_proxy_sees_nothing(
    aws: MotoServer, proxy: ProxyEmulator, tmp_path: Path
) -> None:
    seed_small_tenant()
    tenant = TenantConfig("direct", configuration(), use_proxy=False, proxy=proxy.proxies())
    result = run_pull(tenant, StateDir(tmp_path))
    assert result.alerts
    assert proxy.records == []
