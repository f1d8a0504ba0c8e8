"""``plugin-check`` loads any CE plugin folder as CE does: the official ones and ours."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from devkit.loader import REPO_ROOT, official_plugins_dir
from devkit.plugin_check import check, main

OFFICIAL = official_plugins_dir()
needs_official = pytest.mark.skipif(
    not OFFICIAL.is_dir(), reason=f"official CE plugins not found at {OFFICIAL}"
)


def fake_plugin(tmp_path: Path, plugin_id: str, body: str, *, icon: bool = True) -> Path:
    """A minimal CTO plugin folder named after its id."""
    folder = tmp_path / plugin_id
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    manifest = {
        "name": "Fake",
        "id": plugin_id,
        "version": "0.0.1",
        "description": "test plugin",
        "module": "CTO",
        "pulling_supported": False,
        "receiving_supported": True,
        "configuration": [
            {
                "label": "P",
                "name": "params",
                "type": "step",
                "fields": [{"label": "URL", "key": "url", "type": "text", "default": "x"}],
            }
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if icon:
        shutil.copy(REPO_ROOT / "icon.png", folder / "icon.png")
    header = (
        "from netskope.integrations.itsm.plugin_base import PluginBase, ValidationResult\n"
        "from netskope.integrations.itsm.models import Queue\n"
    )
    (folder / "main.py").write_text(header + textwrap.dedent(body))
    return folder


@needs_official
@pytest.mark.parametrize(
    ("folder", "version", "class_name"),
    [
        ("servicenow_itsm", "2.2.0", "ServiceNowITSMPlugin"),
        ("jira_itsm", "2.3.0", "JiraPlugin"),
        ("webhook_cto", "1.0.0", "WebhookPlugin"),
        ("logs_itsm", "1.1.0", "CELogsPlugin"),
    ],
)
def test_each_official_plugin_loads_and_instantiates_unmodified(
    folder: str, version: str, class_name: str
) -> None:
    report = check(OFFICIAL / folder).to_json()
    assert report["ok"], report.get("fatal")
    assert report["id"] == folder and report["version"] == version
    assert report["class"].endswith(f"{folder}.main.{class_name}")
    assert report["notes"] == []
    # CE 6 adds keys of its own to a configuration; every official plugin accepts them.
    assert report["calls"]["validate_step:mapping_config"]["outcome"] == "ok"


@needs_official
def test_receivers_answer_ces_mapping_calls_offline() -> None:
    servicenow = check(OFFICIAL / "servicenow_itsm").to_json()["calls"]
    assert servicenow["get_default_mappings"]["outcome"] == "ok"
    assert servicenow["get_default_custom_mappings"]["result"]["count"] == 2
    assert servicenow["get_fields:params"]["result"]["first"]["key"] == "default_mappings"
    webhook = check(OFFICIAL / "webhook_cto").to_json()["calls"]
    assert webhook["get_queues"]["result"]["first"]["value"] == "notification"
    assert webhook["get_default_custom_mappings"]["outcome"] == "not_implemented"
    logs = check(OFFICIAL / "logs_itsm").to_json()["calls"]
    assert logs["pull_alerts"] == {"outcome": "ok", "result": {"count": 0, "first": None}}


def test_our_plugin_loads_as_ce_does_and_every_step_is_called() -> None:
    report = check(REPO_ROOT).to_json()
    assert report["ok"], report.get("fatal")
    assert report["id"] == "aws_role_session_cto"
    assert report["class"].endswith("aws_role_session_cto.main.AWSRoleSessionIdentityPlugin")
    steps = {name.split(":", 1)[1] for name in report["calls"] if name.startswith("validate")}
    assert steps == {"aws", "cloudtrail", "rule", "splunk", "mapping_config"}
    # Offline, the AWS step tries the network (credentials, STS) and is reported so.
    assert report["calls"]["validate_step:aws"]["outcome"] == "needs_network"
    assert report["calls"]["pull_alerts"]["outcome"] == "needs_network"


def test_a_call_that_reaches_for_the_network_is_cut_and_reported(tmp_path: Path) -> None:
    folder = fake_plugin(
        tmp_path,
        "net_probe",
        """
        import requests

        class NetProbe(PluginBase):
            def validate_step(self, name, configuration):
                return ValidationResult(success=True, message="ok")

            def get_queues(self):
                requests.get("http://127.0.0.1:9/", timeout=5)
                return [Queue(label="q", value="q")]
        """,
    )
    report = check(folder).to_json()
    assert report["ok"]
    assert report["calls"]["get_queues"]["outcome"] == "needs_network"
    assert report["calls"]["get_queues"]["network_attempts"] >= 1
    assert report["calls"]["get_available_fields"]["outcome"] == "not_implemented"


def test_a_plugin_reading_its_configuration_in_init_fails_ces_throw_away_instance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = fake_plugin(
        tmp_path,
        "eager_init",
        """
        class Eager(PluginBase):
            def __init__(self, name, *args, **kwargs):
                super().__init__(name, *args, **kwargs)
                self.url = self.configuration["params"]["url"]
        """,
    )
    assert main([str(folder)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["plugins"][0]["fatal"].startswith("throw-away instantiation failed: TypeError")


def test_a_plugin_that_does_not_import_is_fatal_and_others_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = fake_plugin(tmp_path, "broken_import", "import no_such_module_anywhere\n")
    fine = fake_plugin(
        tmp_path,
        "fine_one",
        """
        class Fine(PluginBase):
            pass
        """,
        icon=False,
    )
    assert main([str(broken), str(fine)]) == 1
    plugins = json.loads(capsys.readouterr().out)["plugins"]
    assert plugins[0]["fatal"].startswith("import failed: ModuleNotFoundError")
    assert plugins[1]["ok"] and "no icon.png (CE requires one)" in plugins[1]["notes"]


def test_two_plugin_classes_in_main_is_not_a_plugin_ce_can_load(tmp_path: Path) -> None:
    folder = fake_plugin(
        tmp_path,
        "two_classes",
        """
        class One(PluginBase):
            pass

        class Two(PluginBase):
            pass
        """,
    )
    report = check(folder).to_json()
    assert report["fatal"].startswith("import failed: ImportError")
    assert "found 2" in report["fatal"]
