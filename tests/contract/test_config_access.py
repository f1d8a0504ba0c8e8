"""Configuration is read the way CE hands it: Secrets-Manager references resolve only through
``[]``/``.get()``, and a step name the plugin does not know (CE 6's own keys) succeeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from netskope.common.utils import Logger
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import PluginConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config_schema import (
    schema_errors,
)

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.loader import load_plugin
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import ACCOUNT, ENFORCED_TRUST, configuration, seed_small_tenant

VAULT = {
    "aws-secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYVaultKey001",
    "external-id": "ext-from-the-vault-42",
    "hec": "7a7a7a7a-1111-4222-8333-944455556666",
    "ra-key": (
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----"
    ),
    "ra-pass": "vault-passphrase",
    "proxy": "http://user:pw@proxy.example.com:3128",
}


class SecretsManagerDict(dict[str, Any]):
    """CE's configuration mapping, as far as the plugin can tell: a dict whose ``[]`` and
    ``.get()`` resolve ``secret:<name>`` (from the vault) and ``plain:<value>``, while
    ``items()``, ``values()``, iteration, ``dict(...)`` and ``**`` see the references."""

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and not isinstance(value, SecretsManagerDict):
            return SecretsManagerDict(value)
        if isinstance(value, str) and value.startswith("secret:"):
            return VAULT[value.removeprefix("secret:")]
        if isinstance(value, str) and value.startswith("plain:"):
            return value.removeprefix("plain:")
        return value

    def __getitem__(self, key: str) -> Any:
        return self._resolve(super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._resolve(super().__getitem__(key)) if key in self else default


def referenced(config: dict[str, Any]) -> SecretsManagerDict:
    return SecretsManagerDict({step: SecretsManagerDict(values) for step, values in config.items()})


def test_the_stand_in_mapping_really_hides_secrets_from_items_and_dict() -> None:
    mapping = SecretsManagerDict({"k": "secret:hec"})
    assert mapping["k"] == mapping.get("k") == VAULT["hec"]
    assert dict(mapping) == {"k": "secret:hec"}
    assert list(mapping.values()) == ["secret:hec"]


def test_plugin_config_gets_every_secret_resolved() -> None:
    config = configuration(
        aws={
            "authentication_method": "iam_roles_anywhere",
            "secret_access_key": "secret:aws-secret",
            "access_key_id": "plain:AKIAIOSFODNN7EXAMPLE",
            "external_id": "secret:external-id",
            "ra_private_key": "secret:ra-key",
            "ra_private_key_passphrase": "secret:ra-pass",
        },
        splunk={"hec_url": "https://splunk.example.com:8088", "hec_token": "secret:hec"},
    )
    parsed = PluginConfig.from_configuration(referenced(config))
    assert parsed.aws.secret_access_key == VAULT["aws-secret"]
    assert parsed.aws.access_key_id == "AKIAIOSFODNN7EXAMPLE"
    assert parsed.aws.external_id == VAULT["external-id"]
    assert parsed.splunk.hec_token == VAULT["hec"]
    assert parsed.aws.roles_anywhere is not None
    assert parsed.aws.roles_anywhere.private_key == VAULT["ra-key"]
    assert parsed.aws.roles_anywhere.passphrase == VAULT["ra-pass"]
    assert not any(s.startswith(("secret:", "plain:")) for s in parsed.secrets)


def test_manifest_defaults_still_fill_what_ce_does_not_hold() -> None:
    parsed = PluginConfig.from_configuration(SecretsManagerDict({"rule": SecretsManagerDict()}))
    assert parsed.rule.max_alerts_per_pull == 1000
    assert parsed.splunk.sourcetype == "netskope:ce:aws:rolesession"


def test_the_schema_checks_the_resolved_values_not_the_references() -> None:
    step = SecretsManagerDict(
        {
            "authentication_method": "access_keys",
            "access_key_id": "plain:AKIAIOSFODNN7EXAMPLE",  # the reference itself is invalid
            "secret_access_key": "secret:aws-secret",
            "regions": "us-east-1",
            "account_scope": "single_account",
        }
    )
    assert schema_errors("aws", step) == []


def test_the_proxy_is_read_with_get() -> None:
    plugin_cls = load_plugin()

    class WithVaultProxy(plugin_cls):  # type: ignore[misc,valid-type]
        @property
        def proxy(self) -> dict[str, str]:
            return SecretsManagerDict({"http": "secret:proxy", "https": "secret:proxy"})

    plugin = WithVaultProxy("p", None, {}, None, Logger())
    assert plugin.proxies == {"http": VAULT["proxy"], "https": VAULT["proxy"]}


@pytest.mark.parametrize("step", ["mapping_config", "some_future_ce_key", "\u202e$id"])
def test_a_step_the_plugin_does_not_know_succeeds(step: str) -> None:
    plugin = load_plugin()("p", None, {}, None, Logger())
    config: dict[str, Any] = {**configuration(), step: {"anything": "at all"}}
    result = plugin.validate_step(step, config)
    assert result.success, result.message


TOKEN = VAULT["hec"]


@pytest.fixture
def hec() -> Iterator[HecEmulator]:
    with HecEmulator({TOKEN: TokenSpec("ce", ("main",), "main")}) as emulator:
        yield emulator


def test_validation_and_a_pull_with_secrets_manager_references_reach_splunk(
    aws: object, hec: HecEmulator, tmp_path: Path
) -> None:
    seed_small_tenant()
    boto3.client("iam").create_role(
        RoleName="AuditorRole", AssumeRolePolicyDocument=json.dumps(ENFORCED_TRUST)
    )
    config = referenced(
        configuration(
            aws={
                "role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole",
                "external_id": "secret:external-id",
            },
            splunk={"hec_url": hec.url, "hec_token": "secret:hec", "index": "main"},
        )
    )
    plugin = load_plugin()("vault", None, {}, None, Logger())
    for step in ("aws", "splunk"):
        result = plugin.validate_step(step, config)
        assert result.success, (step, result.message)
    # The local CE hands the same references over through its own Secrets Manager.
    raw = {step: dict(values) for step, values in config.items()}
    tenant = TenantConfig("vault", raw, secrets=dict(VAULT))
    pulled = run_pull(tenant, StateDir(tmp_path), validate=False)
    assert pulled.alerts
    assert hec.events, "the HEC emulator accepts only the resolved token"
