"""No configured secret (secret key, External ID, HEC token) reaches a log, alert, error,
stored state or a payload Splunk receives - through validation, pulls and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from netskope.common.utils import Logger

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.loader import load_plugin
from devkit.runner import StateDir, TenantConfig, run_pull

from .tenant import ACCOUNT, ENFORCED_TRUST, configuration, seed_small_tenant

SECRET_KEY = "wJalrXUtnFEMI/SECRET+KEY/forLeakTests0001"
EXTERNAL_ID = "ext-id-Leak-Test-7f3a9c"
HEC_TOKEN = "0badf00d-1111-4222-8333-944455556666"
SECRETS = (SECRET_KEY, EXTERNAL_ID, HEC_TOKEN)


@pytest.fixture
def hec() -> Iterator[HecEmulator]:
    with HecEmulator({HEC_TOKEN: TokenSpec("ce", ("main",), "main")}) as emulator:
        yield emulator


def secret_config(hec_url: str, token: str = HEC_TOKEN) -> dict[str, object]:
    boto3.client("iam").create_role(
        RoleName="AuditorRole", AssumeRolePolicyDocument=json.dumps(ENFORCED_TRUST)
    )
    return configuration(
        aws={
            "secret_access_key": SECRET_KEY,
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole",
            "external_id": EXTERNAL_ID,
        },
        splunk={"hec_url": hec_url, "hec_token": token, "index": "main"},
    )


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_validation_and_pulls_leak_no_secret(aws: object, hec: HecEmulator, tmp_path: Path) -> None:
    seed_small_tenant()
    config = secret_config(hec.url)
    logger = Logger()
    plugin = load_plugin()("leak", None, {}, None, logger)
    messages = [plugin.validate_step(step, config).message for step in config]
    tenant = TenantConfig("leak", config)
    result = run_pull(tenant, StateDir(tmp_path))
    hec.add_fault({"kind": "busy", "count": None})
    outage = run_pull(tenant, StateDir(tmp_path / "outage"), validate=False)
    assert result.alerts and outage.alerts
    assert hec.events  # the first pull really delivered to Splunk
    assert_clean(
        "\n".join(messages),
        logger.text(),
        result.logger.text(),
        outage.logger.text(),
        json.dumps([a.model_dump(mode="json") for a in result.alerts + outage.alerts]),
        (tmp_path / "storage.json").read_text(),
        (tmp_path / "outage" / "storage.json").read_text(),
        json.dumps(hec.events),
    )


def test_rejected_hec_token_is_named_but_not_shown(aws: object, hec: HecEmulator) -> None:
    wrong = "ffffffff-2222-4333-8444-955566667777"
    config = secret_config(hec.url, token=wrong)
    logger = Logger()
    result = load_plugin()("leak", None, {}, None, logger).validate_step("splunk", config)
    assert not result.success
    assert "HEC Token" in result.message
    assert wrong not in result.message and wrong not in logger.text()


def test_failed_assume_role_names_the_role_not_the_external_id(aws: object) -> None:
    import os

    config = configuration(
        aws={
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole",
            "external_id": EXTERNAL_ID,
            "secret_access_key": SECRET_KEY,
        }
    )
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    logger = Logger()
    plugin = load_plugin()("leak", config, {}, None, logger)
    with pytest.raises(Exception) as failure:
        plugin.pull_alerts()
    assert_clean(str(failure.value), logger.text())
    assert "Pull failed" in logger.text()
