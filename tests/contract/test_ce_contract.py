"""The plugin honours CE's contract, replayed in CE's call order against the SDK stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from netskope.common.utils import Logger
from netskope.integrations.itsm.models import Alert
from netskope.integrations.itsm.plugin_base import PluginBase, ValidationResult

from devkit.loader import load_plugin
from devkit.runner import StateDir, TenantConfig, ValidationFailed, run_pull

from .tenant import configuration, seed_small_tenant


@pytest.fixture
def plugin_cls() -> type[PluginBase]:
    return load_plugin()


def tenant(config: dict[str, object]) -> TenantConfig:
    return TenantConfig(name="contract", configuration=config)


def test_throw_away_instantiation_reads_no_configuration(plugin_cls: type[PluginBase]) -> None:
    logger = Logger()
    plugin = plugin_cls(None, None, {}, None, logger)
    assert plugin.log_prefix == "CTO AWS Role Session Identity [None]"
    assert logger.records == []


def test_metadata_is_the_manifest_with_the_icon(plugin_cls: type[PluginBase]) -> None:
    assert plugin_cls.metadata["id"] == "aws_role_session_cto"
    assert plugin_cls.metadata["module"] == "CTO"
    assert plugin_cls.metadata["icon"].startswith("iVBORw0KGgo")  # base64 of the PNG signature


def test_manifest_steps_are_aws_cloudtrail_rule_splunk(plugin_cls: type[PluginBase]) -> None:
    steps = [step["name"] for step in plugin_cls.metadata["configuration"]]
    assert steps == ["aws", "cloudtrail", "rule", "splunk"]
    assert all(step["type"] == "step" for step in plugin_cls.metadata["configuration"])


def test_every_step_validates_against_a_real_tenant(
    aws: object, plugin_cls: type[PluginBase]
) -> None:
    seed_small_tenant()
    plugin = plugin_cls("contract", None, {}, None, Logger())
    for step in ("aws", "cloudtrail", "rule", "splunk"):
        result = plugin.validate_step(step, configuration())
        assert isinstance(result, ValidationResult)
        assert result.success, (step, result.message)


@pytest.mark.parametrize(
    ("step", "override", "expected"),
    [
        (
            "aws",
            {"authentication_method": "access_keys", "secret_access_key": ""},
            "Secret Access Key is required when Authentication Method is 'Access keys'.",
        ),
        (
            "aws",
            {"regions": "us-east-1, mars-north-1x"},
            "Regions: 'mars-n…' (13 characters) is not an AWS Region code.",
        ),
        (
            "aws",
            {"role_arn": "arn:aws:iam::123456789012:user/alice"},
            "Role ARN to Assume: value 'arn:aw…' (36 characters) is not valid.",
        ),
        (
            "cloudtrail",
            {"bucket_name": "no-such-trail-bucket"},
            "Trail Bucket Name: bucket 'no-such-trail-bucket' does not exist.",
        ),
        (
            "cloudtrail",
            {"source": "sqs", "sqs_queue_url": ""},
            "SQS Queue URL is required when Event Source is SQS notifications.",
        ),
        (
            "cloudtrail",
            {"lookback_hours": 0},
            "Initial Look-back (hours): value (0) is out of range.",
        ),
        ("rule", {"alert_kinds": []}, "Alert Kinds: has nothing selected."),
        (
            "rule",
            {"activity_scope": "sensitive", "sensitive_actions": "s3 GetObject"},
            "Sensitive Actions: 's3 Get…' (12 characters) is not an action pattern.",
        ),
        (
            "splunk",
            {"hec_url": "https://splunk.example.com:8088", "hec_token": ""},
            "HEC Token is required when HEC URL is set.",
        ),
    ],
)
def test_bad_values_fail_validation_with_a_message_naming_the_field(
    aws: object, plugin_cls: type[PluginBase], step: str, override: dict[str, object], expected: str
) -> None:
    seed_small_tenant()
    plugin = plugin_cls("contract", None, {}, None, Logger())
    result = plugin.validate_step(step, configuration(**{step: override}))
    assert not result.success
    assert result.message.startswith(expected), result.message


def test_unreachable_aws_fails_the_aws_step_naming_the_network_path(
    aws: object, plugin_cls: type[PluginBase]
) -> None:
    import os

    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens there
    plugin = plugin_cls("contract", None, {}, None, Logger())
    result = plugin.validate_step("aws", configuration())
    assert not result.success
    assert "sts:GetCallerIdentity" in result.message
    assert "could not be reached" in result.message


def test_runner_rejects_a_configuration_like_ce_with_a_400(aws: object, tmp_path: Path) -> None:
    seed_small_tenant()
    bad = configuration(cloudtrail={"bucket_name": "missing-bucket"})
    with pytest.raises(ValidationFailed) as failure:
        run_pull(tenant(bad), StateDir(tmp_path))
    assert str(failure.value).startswith("400 Bad Request: step 'cloudtrail':")
    assert not (tmp_path / "storage.json").exists()


def test_pull_returns_alerts_with_ids_stable_across_runs(aws: object, tmp_path: Path) -> None:
    seed_small_tenant()
    first = run_pull(tenant(configuration()), StateDir(tmp_path / "a"))
    second = run_pull(tenant(configuration()), StateDir(tmp_path / "b"))
    assert first.alerts and all(isinstance(a, Alert) for a in first.alerts)
    assert sorted(a.id for a in first.alerts) == sorted(a.id for a in second.alerts)
    assert all(a.id.startswith("aws-rsi:") for a in first.alerts)
    assert {a.rawData["role_name"] for a in first.alerts} == {"OpenRole"}


def test_storage_is_mutated_in_place_and_saved_after_success(aws: object, tmp_path: Path) -> None:
    seed_small_tenant()
    result = run_pull(tenant(configuration()), StateDir(tmp_path))
    saved = json.loads((tmp_path / "storage.json").read_text())
    assert saved == json.loads(json.dumps(result.storage, default=str))
    assert {"posture", "health"} <= set(saved)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["last_run_at"]


def test_an_unchanged_alert_is_returned_by_its_pull_and_the_next_only(
    aws: object, tmp_path: Path
) -> None:
    """The next pull repeats the previous pull's alerts (CE's save-then-upsert window)."""
    seed_small_tenant()
    state = StateDir(tmp_path)
    first = run_pull(tenant(configuration()), state)
    second = run_pull(tenant(configuration()), state, validate=False)
    third = run_pull(tenant(configuration()), state, validate=False)
    assert first.upsert.inserted == 1
    assert [a.model_dump() for a in second.alerts] == [a.model_dump() for a in first.alerts]
    assert second.upsert.inserted == 0 and second.upsert.updated == 1
    assert third.alerts == []


def test_alerts_lost_in_ces_save_window_come_back_with_the_next_pull(
    aws: object, tmp_path: Path
) -> None:
    """CE saved storage and checkpoint, then died before storing the alerts."""
    seed_small_tenant()
    state = StateDir(tmp_path)
    first = run_pull(tenant(configuration()), state)
    (tmp_path / "alerts.sqlite").unlink()  # the alerts never reached CE's collection
    second = run_pull(tenant(configuration()), state, validate=False)
    assert second.upsert.inserted == len(first.alerts) == 1
    assert second.alerts[0].id == first.alerts[0].id


def test_nothing_is_saved_when_the_pull_raises(aws: object, tmp_path: Path) -> None:
    import os

    seed_small_tenant()
    state = StateDir(tmp_path)
    run_pull(tenant(configuration()), state)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix == ".json"}
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # AWS unreachable: the pull raises
    with pytest.raises(Exception, match="sts:GetCallerIdentity"):
        run_pull(tenant(configuration()), state, validate=False)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix == ".json"}
    assert after == before
