"""CE's routing (rule, queue, mapping) handing our alerts to the official receiver plugins,
unmodified, over real HTTP: ServiceNow incidents, Jira issues, webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from netskope.common.utils import Logger, ResolvingConfiguration, SecretStore
from netskope.integrations.itsm.models import Alert, FieldMapping, Queue, TaskStatus

from devkit.ce_routing import (
    DEFAULT_BUSINESS_RULE,
    BusinessRule,
    Condition,
    QueueConfig,
    Route,
    TicketOrchestrator,
    jira_routes,
    map_fields,
    servicenow_routes,
    substitute,
    webhook_routes,
)
from devkit.emulators.jira import JiraEmulator, document_text
from devkit.emulators.servicenow import ServiceNowEmulator, seed_reference_data
from devkit.emulators.webhook import WebhookCapture
from devkit.loader import load_plugin, official_plugins_dir

from .conftest import SN_PASSWORD, SN_USER

PLUGINS = official_plugins_dir()
pytestmark = pytest.mark.skipif(
    not PLUGINS.is_dir(), reason=f"official CE plugins not found at {PLUGINS}"
)
JIRA_EMAIL, JIRA_TOKEN = "ce@example.com", "jira-api-token-for-tests"
BUCKET = "arn:aws:s3:::mysensitivebucket"


@pytest.fixture
def models(alerts: list[dict[str, Any]]) -> list[Alert]:
    found = [Alert(**a) for a in alerts]
    found[1].rawData["resources"] = BUCKET  # the activity alert, as the plugin now builds it
    return found


@pytest.fixture
def logger() -> Logger:
    return Logger()


def configured(folder: str, name: str, config: dict[str, Any], logger: Logger) -> Any:
    """An official plugin configured as CE does: secrets as Secrets-Manager references."""
    store = SecretStore({"sn": SN_PASSWORD, "jira": JIRA_TOKEN})
    plugin_cls = load_plugin(PLUGINS / folder)
    return plugin_cls(name, ResolvingConfiguration(config, store), {}, None, logger)


def servicenow_plugin(
    sn: ServiceNowEmulator,
    logger: Logger,
    password: str = "secret:sn",  # noqa: S107 - a Secrets-Manager reference
) -> Any:
    seed_reference_data(sn)
    auth = {"url": sn.url, "username": SN_USER, "password": password, "table": "sn_si_incident"}
    config = {"auth": auth, "params": {"default_mappings": "no"}}
    return configured("servicenow_itsm", "sn", config, logger)


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    with JiraEmulator({JIRA_EMAIL: JIRA_TOKEN}) as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookCapture]:
    with WebhookCapture() as server:
        yield server


def sn_orchestrator(sn: ServiceNowEmulator, logger: Logger) -> tuple[Any, TicketOrchestrator]:
    plugin = servicenow_plugin(sn, logger)
    group = next(q for q in plugin.get_queues() if q.label == "Cloud Security")
    return plugin, TicketOrchestrator({"sn": plugin}, servicenow_routes("sn", group))


# --------------------------------------------------------------------------- rule and mapping


def test_the_default_rule_routes_findings_but_not_operational_alerts(models: list[Alert]) -> None:
    matched = [a.type for a in models if DEFAULT_BUSINESS_RULE.matches(a)]
    assert matched == [
        "role_session_name_not_enforced",
        "noncompliant_role_activity",
        "session_name_spoofing",
    ]


def test_business_rules_only_filter_on_standard_fields() -> None:
    with pytest.raises(ValueError, match="business rules filter on"):
        Condition("severity", "equals", "high")


def test_a_rule_with_several_conditions_needs_all_of_them(models: list[Alert]) -> None:
    rule = BusinessRule(
        "spoofing of support_user",
        (Condition("type", "equals", "session_name_spoofing"), Condition("user", "regex", "^dev")),
    )
    assert [a.user for a in models if rule.matches(a)] == ["dev_user"]


def test_placeholders_read_standard_fields_then_raw_data(models: list[Alert]) -> None:
    text = substitute("$alertName by $user from $source_ip on $resources", models[1])
    assert text == (
        "Action through a non-compliant role by support_user from 198.51.100.23 on " + BUCKET
    )
    assert substitute("role $no_such_key", models[0]) == "role value_unavailable"
    assert substitute(r"cost \$user", models[0]) == r"cost \$user"


def test_a_direct_field_mapping_copies_the_value_as_text(models: list[Alert]) -> None:
    mappings = (
        FieldMapping(extracted_field="id", destination_field="correlation_id"),
        FieldMapping(extracted_field="timestamp", destination_field="u_when"),
        FieldMapping(extracted_field="missing", destination_field="u_missing"),
    )
    assert map_fields(models[1], mappings) == {
        "correlation_id": models[1].id,
        "u_when": str(models[1].timestamp),
    }


# --------------------------------------------------------------------------- ServiceNow


def test_the_official_servicenow_plugin_opens_security_incidents_from_our_alerts(
    servicenow: ServiceNowEmulator, models: list[Alert], logger: Logger
) -> None:
    _, orchestrator = sn_orchestrator(servicenow, logger)
    report = orchestrator.deliver(models)["sn"]
    assert report.plugin == "ServiceNow 2.2.0"
    assert (len(report.created), report.failed) == (3, [])
    assert orchestrator.filtered_out == {"aws-rsi:volume:2026-11-28T10"}
    records = {r["correlation_id"]: r for r in servicenow.records("sn_si_incident")}
    activity = records[models[1].id]
    assert activity["short_description"] == (
        "[high] Action through a non-compliant role: support_user (111122223333)"
    )
    assert activity["severity"] == "1" and activity["category"] == "Activity"
    assert "Identity: support_user" in activity["description"]
    assert f"Resources touched: {BUCKET}" in activity["description"]
    assert "value_unavailable" not in activity["description"]
    group = next(r for r in servicenow.records("sys_user_group") if r["name"] == "Cloud Security")
    assert activity["assignment_group"] == group["sys_id"]
    assert "Resources touched" not in records[models[0].id]["description"]  # posture queue
    assert servicenow.choice_violations == []
    task = report.created[1]
    assert task.id == activity["sys_id"] and task.link.endswith(f"sys_id={task.id}")
    assert (task.status, task.severity) == ("10", "1")  # the incident's own state and severity


def test_a_second_pass_deduplicates_with_a_work_note_and_syncs_states(
    servicenow: ServiceNowEmulator, models: list[Alert], logger: Logger
) -> None:
    _, orchestrator = sn_orchestrator(servicenow, logger)
    orchestrator.deliver(models)
    again = orchestrator.deliver(models)["sn"]
    assert again.created == [] and len(again.deduplicated) == 3
    assert [t.dedupeCount for t in again.deduplicated] == [1, 1, 1]
    assert len(servicenow.records("sn_si_incident")) == 3
    notes = [j for j in servicenow.journal if j["field"] == "work_notes"]
    assert len(notes) == 3
    assert notes[0]["value"].startswith(f"Cloud Exchange received alert {models[0].id} again")
    assert orchestrator.sync() == {"sn": 3}


def test_an_incident_deleted_in_servicenow_is_synced_as_deleted(
    servicenow: ServiceNowEmulator, models: list[Alert], logger: Logger
) -> None:
    _, orchestrator = sn_orchestrator(servicenow, logger)
    created = orchestrator.deliver(models[:1])["sn"].created[0]
    servicenow.reset_state()  # the incident is gone from the instance
    orchestrator.sync()
    (task,) = orchestrator.tasks_of("sn")
    assert task.id == created.id and task.status == TaskStatus.DELETED


def test_a_throttled_instance_is_retried_by_the_plugin_after_retry_after(
    servicenow: ServiceNowEmulator,
    models: list[Alert],
    logger: Logger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, orchestrator = sn_orchestrator(servicenow, logger)
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    servicenow.add_fault({"kind": "throttle", "retry_after": 4})
    report = orchestrator.deliver(models[:1])["sn"]
    assert (len(report.created), report.failed, sleeps) == (1, [], [4])


def test_one_refused_alert_does_not_stop_the_others(
    servicenow: ServiceNowEmulator, models: list[Alert], logger: Logger
) -> None:
    _, orchestrator = sn_orchestrator(servicenow, logger)
    servicenow.add_fault(
        {
            "kind": "status",
            "status": 400,
            "count": 1,
            "paths": ["/api/now/table/sn_si_incident"],
            "body": {"error": {"message": "Invalid value", "detail": None}, "status": "failure"},
        }
    )
    report = orchestrator.deliver(models)["sn"]
    assert [alert_id for alert_id, _ in report.failed] == [models[0].id]
    assert "Received exit code 400, Bad Request" in report.failed[0][1]
    assert len(report.created) == 2


def test_wrong_credentials_fail_validation_without_showing_the_password(
    servicenow: ServiceNowEmulator, logger: Logger
) -> None:
    plugin = servicenow_plugin(servicenow, logger, password="plain:not-the-password")
    result = plugin.validate_step("auth", plugin.configuration)
    assert not result.success
    assert result.message.startswith("Received exit code 401, Unauthorized")
    assert "not-the-password" not in result.message + logger.text()


# --------------------------------------------------------------------------- Jira and Webhook


def test_the_official_jira_plugin_creates_issues_and_comments_on_dedup(
    jira: JiraEmulator, models: list[Alert], logger: Logger
) -> None:
    auth = {"url": jira.url, "email": JIRA_EMAIL, "api_token": "secret:jira"}
    plugin = configured(
        "jira_itsm", "jira", {"auth": auth, "params": {"issue_type": "Task"}}, logger
    )
    assert plugin.validate_step("params", plugin.configuration).success
    (queue,) = [q for q in plugin.get_queues() if q.label == "Security - Task"]
    orchestrator = TicketOrchestrator({"jira": plugin}, jira_routes("jira", queue))
    first = orchestrator.deliver(models)["jira"]
    assert first.plugin == "Jira 2.3.0" and (len(first.created), first.failed) == (3, [])
    issues = {i["key"]: i for i in jira.issues}
    activity = issues[first.created[1].id]["fields"]
    assert activity["summary"].startswith("[high] Action through a non-compliant role")
    assert activity["labels"] == [
        "netskope-ce",
        "aws-role-session",
        "noncompliant_role_activity",
        "severity-high",
    ]
    assert f"Resources touched: {BUCKET}" in document_text(activity["description"])
    second = orchestrator.deliver(models)["jira"]
    assert second.created == [] and len(jira.issues) == 3
    comments = issues[first.created[1].id]["fields"]["comment"]["comments"]
    assert comments == []  # the snapshot above; the emulator now has one
    current = {i["key"]: i for i in jira.issues}[first.created[1].id]
    (comment,) = current["fields"]["comment"]["comments"]
    assert document_text(comment["body"]).startswith("Cloud Exchange received alert")
    assert orchestrator.sync() == {"jira": 3}
    assert {t.status for t in orchestrator.tasks_of("jira")} == {"To Do"}


def test_the_official_webhook_plugin_posts_one_json_object_per_alert(
    webhook: WebhookCapture, models: list[Alert], logger: Logger
) -> None:
    config = {"params": {"webhook_url": webhook.url + "/hooks/ce"}}
    plugin = configured("webhook_cto", "hook", config, logger)
    (queue,) = plugin.get_queues()
    orchestrator = TicketOrchestrator({"hook": plugin}, webhook_routes("hook", queue))
    report = orchestrator.deliver(models)["hook"]
    assert report.plugin == "Webhook 1.0.0" and len(report.created) == 3
    bodies = [r["json"] for r in webhook.received]
    assert [b["id"] for b in bodies] == [m.id for m in models[:3]]
    assert bodies[1]["user"] == "support_user" and bodies[1]["severity"] == "high"
    assert webhook.received[0]["path"] == "/hooks/ce"
    assert webhook.received[0]["headers"]["user-agent"].endswith("-cto-webhook-v1.0.0")
    orchestrator.deliver(models)
    assert len(webhook.received) == 3  # dedup: the plugin's update_task posts nothing


def test_a_value_with_a_quote_breaks_a_webhook_template_so_the_example_avoids_them(
    webhook: WebhookCapture, models: list[Alert], logger: Logger
) -> None:
    plugin = configured("webhook_cto", "hook", {"params": {"webhook_url": webhook.url}}, logger)
    queue = QueueConfig(
        Queue(label="Notification", value="notification"),
        (FieldMapping(destination_field="json_object", custom_message='{"d": "$description"}'),),
    )
    models[0].rawData["description"] = 'say "hi"'
    route = Route(DEFAULT_BUSINESS_RULE, "hook", queue)
    report = TicketOrchestrator({"hook": plugin}, [route]).deliver(models[:1])["hook"]
    assert report.failed and "Invalid payload found" in report.failed[0][1]
    assert webhook.received == []


def test_every_example_template_is_valid_json_for_every_alert(models: list[Alert]) -> None:
    queue = Queue(label="Notification", value="notification")
    (route,) = webhook_routes("hook", queue)
    for alert in models:
        body = json.loads(map_fields(alert, route.queue.mappings)["json_object"])
        assert body["id"] == alert.id
