"""Every AWS call of a full CE pull (validation included) goes through CE's proxy, and only
when the configuration uses it. AWS (moto) is addressed by a name only the proxy resolves, so
a client that ignored the proxy would fail the pull instead of quietly going direct."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from devkit.aws_emulator import MotoServer, patched_env
from devkit.emulators.proxy import ProxyEmulator
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, OPEN_TRUST, configuration, seed_small_tenant


def proxied_moto_env(aws: MotoServer) -> dict[str, str]:
    """boto3 addresses moto as ``moto.invalid``; moto is told that name is its S3 endpoint
    (path-style buckets, not ``<bucket>.moto.invalid``)."""
    endpoint = f"http://moto.invalid:{aws.port}"
    return {"AWS_ENDPOINT_URL": endpoint, "MOTO_S3_CUSTOM_ENDPOINTS": endpoint}


def test_a_pull_reaches_aws_only_through_the_proxy(
    aws: MotoServer, proxy: ProxyEmulator, tmp_path: Path
) -> None:
    """Clients made before and after AssumeRole (the configured role) all use the proxy."""
    seed_small_tenant()
    boto3.client("iam").create_role(
        RoleName="AuditorRole", AssumeRolePolicyDocument=json.dumps(OPEN_TRUST)
    )
    config = configuration(aws={"role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole"})
    tenant = TenantConfig("proxied", config, use_proxy=True, proxy=proxy.proxies())
    with patched_env(proxied_moto_env(aws)):
        result = run_pull(tenant, StateDir(tmp_path))
    assert result.alerts
    assert {"sts", "iam", "s3"} <= proxy.aws_services()
    assert proxy.targets() == {f"moto.invalid:{aws.port}"}
    assert all(r.authorized and r.status < 500 for r in proxy.records)


def test_without_use_proxy_the_proxy_sees_nothing(
    aws: MotoServer, proxy: ProxyEmulator, tmp_path: Path
) -> None:
    seed_small_tenant()
    tenant = TenantConfig("direct", configuration(), use_proxy=False, proxy=proxy.proxies())
    result = run_pull(tenant, StateDir(tmp_path))
    assert result.alerts
    assert proxy.records == []
