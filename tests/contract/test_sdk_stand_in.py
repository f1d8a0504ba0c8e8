"""The SDK stand-in behaves as CE does where plugins can tell the difference."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from netskope.common.utils import PluginBase as CommonPluginBase
from netskope.common.utils import ResolvingConfiguration, SecretStore, add_user_agent
from netskope.integrations.itsm.models import Task, TaskStatus, UpdatedTaskValues
from netskope.integrations.itsm.plugin_base import PluginBase, set_ce_proxy_settings

from devkit.loader import load_plugin
from devkit.runner import TenantConfig


def test_secret_references_resolve_only_through_item_access_and_get() -> None:
    store = SecretStore({"hec": "s3cr3t-token-value"})
    config = ResolvingConfiguration(
        {"splunk": {"hec_token": "secret:hec", "index": "plain:main", "url": "https://x"}}, store
    )
    step = config["splunk"]
    assert step["hec_token"] == "s3cr3t-token-value"
    assert step.get("index") == "main" and step.get("missing", "d") == "d"
    assert step["url"] == "https://x"
    # Every other way of reading the mapping sees the references, as in CE.
    assert dict(step.items())["hec_token"] == "secret:hec"
    assert "secret:hec" in step.values()
    assert {**step}["index"] == "plain:main"
    assert "s3cr3t" not in json.dumps(config)
    assert copy.deepcopy(config)["splunk"]["hec_token"] == "s3cr3t-token-value"
    with pytest.raises(KeyError, match="no secret named 'nope'"):
        ResolvingConfiguration({"a": "secret:nope"}, store)["a"]
    assert "s3cr3t" not in repr(store)


def test_proxy_is_always_http_and_https_empty_when_unset() -> None:
    plugin = PluginBase("n", {}, {}, None, None)
    assert plugin.proxy == {"http": "", "https": ""}
    set_ce_proxy_settings({"http": "http://p:3128", "https": "http://p:3128"})
    try:
        assert plugin.proxy == {"http": "http://p:3128", "https": "http://p:3128"}
        no_proxy = PluginBase("n", {}, {}, None, None, use_proxy=False)
        assert no_proxy.proxy == {"http": "", "https": ""}
    finally:
        set_ce_proxy_settings(None)
    assert plugin.proxy == {"http": "", "https": ""}


def test_storage_is_read_only_and_last_run_at_settable() -> None:
    plugin = PluginBase("n", {}, {"a": 1}, None, None)
    with pytest.raises(AttributeError):
        plugin.storage = {}  # type: ignore[misc]
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    plugin.last_run_at = moment
    assert plugin.last_run_at == moment


def test_the_metaclass_registers_plugin_classes_beside_a_manifest_only() -> None:
    plugin_cls = load_plugin()
    assert plugin_cls in CommonPluginBase.plugins
    assert PluginBase not in CommonPluginBase.plugins
    assert plugin_cls.metadata["id"] == "aws_role_session_cto"

    class Helper(PluginBase):  # defined in a test module: no manifest beside it
        pass

    assert Helper not in CommonPluginBase.plugins


def test_task_states_are_receiver_strings_and_enums_are_str_enums() -> None:
    task = Task(id="abc", status="10", severity="1")
    task.updatedValues = UpdatedTaskValues(assignee=None, oldAssignee=None)
    task.updatedValues.oldStatus, task.updatedValues.status = "10", TaskStatus.DELETED
    assert task.status == "10" and task.updatedValues.status == "deleted"
    assert str(TaskStatus.NEW) == "TaskStatus.NEW"  # (str, Enum), as CE declares them
    assert add_user_agent()["User-Agent"] == "netskope-ce-6.0.0"
    assert add_user_agent({"User-Agent": "mine"})["User-Agent"] == "mine"


def test_the_runner_hands_the_configuration_over_as_ces_secrets_mapping() -> None:
    tenant = TenantConfig(
        name="t",
        configuration={"splunk": {"hec_token": "secret:hec"}},
        secrets={"hec": "tok-value-1234"},
    )
    handed = tenant.handed_over()
    assert handed["splunk"]["hec_token"] == "tok-value-1234"
    assert dict(handed["splunk"].items()) == {"hec_token": "secret:hec"}
    handed["splunk"]["hec_token"] = "changed"  # a fresh copy each time
    assert tenant.handed_over()["splunk"]["hec_token"] == "tok-value-1234"
    assert "tok-value" not in repr(tenant)
