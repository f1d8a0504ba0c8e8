"""`make demo`'s pipeline names the right people: every planted case yields its alert with
the right identity and the resources it touched, nothing planted as innocent is alerted, the
official ServiceNow, Jira and Webhook plugins deliver every finding, and the second run
duplicates nothing in CE, Splunk, ServiceNow, Jira or the webhook."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.demo import DemoRun, report, run_demo
from devkit.demo_tenant import ExpectedFinding

KIND_CODES = {
    "posture": "role_session_name_not_enforced",
    "noncompliant_activity": "noncompliant_role_activity",
    "session_spoofing": "session_name_spoofing",
    "denied_assume_role": "denied_assume_role",
    "trust_policy_weakened": "trust_policy_weakened",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    yield run_demo(tmp_path_factory.mktemp("demo"))


def matching(run: DemoRun, finding: ExpectedFinding) -> list[dict[str, Any]]:
    found = []
    for alert in run.alerts:
        raw = alert["rawData"]
        if alert["type"] != KIND_CODES[finding.kind]:
            continue
        if raw.get("role_name") != finding.role_name:
            continue
        single_event = finding.kind in (
            "trust_policy_weakened",
            "session_spoofing",
            "denied_assume_role",
        )
        if (
            single_event
            and finding.event_names
            and raw.get("event_names") not in (finding.event_names)
        ):
            continue
        if finding.kind == "posture" or (
            alert["user"] == finding.identity_arn
            and (finding.session_name is None or raw.get("session_name") == finding.session_name)
        ):
            found.append(alert)
    return found


def test_the_seed_listing_of_the_sensitive_bucket_names_support_user(demo: DemoRun) -> None:
    seed = [
        a
        for a in demo.alerts
        if a["type"] == "noncompliant_role_activity"
        and a["rawData"]["role_name"] == "MyBucketRole"
        and "s3:ListObjects" in a["rawData"]["event_names"]
    ]
    assert len(seed) == 1
    assert seed[0]["user"] == f"arn:aws:iam::{demo.tenant.account_id}:user/support_user"
    assert seed[0]["rawData"]["resolution_method"] == "issuing_event"
    bucket = f"arn:aws:s3:::{demo.tenant.sensitive_bucket}"
    assert bucket in seed[0]["rawData"]["resources"].split(", ")
    assert f"Resources touched: {bucket}" in seed[0]["rawData"]["description"]


def test_every_planted_case_yields_its_alert_with_the_right_identity(demo: DemoRun) -> None:
    missing = [f.to_dict() for f in demo.tenant.expected if not matching(demo, f)]
    assert missing == []


def test_expected_actions_appear_in_the_activity_alerts(demo: DemoRun) -> None:
    for finding in demo.tenant.expected:
        if finding.kind != "noncompliant_activity":
            continue
        names = " ".join(a["rawData"]["event_names"] for a in matching(demo, finding))
        for event_name in finding.event_names:
            assert f":{event_name}" in names, (finding.role_name, event_name, names)


def test_nothing_planted_as_innocent_is_alerted(demo: DemoRun) -> None:
    wrongly = [
        f.to_dict()
        for f in demo.tenant.absent
        if f.kind in KIND_CODES and f.kind != "posture" and matching(demo, f)
    ]
    assert wrongly == []
    alerted_roles = {
        a["rawData"]["role_name"]
        for a in demo.alerts
        if a["type"] == "role_session_name_not_enforced"
    }
    for finding in demo.tenant.absent:
        if finding.kind == "posture":
            assert finding.role_name not in alerted_roles


def test_the_second_run_duplicates_nothing(demo: DemoRun) -> None:
    assert len(demo.pulls) == 2
    assert demo.pulls[1].upsert.inserted == 0
    assert len(demo.splunk_events) == demo.splunk_after_first
    assert len(demo.incidents) == demo.incidents_after_first
    assert len(demo.issues) == demo.issues_after_first
    assert len(demo.webhooks) == demo.webhooks_after_first
    assert len({a["id"] for a in demo.alerts}) == len(demo.alerts)
    for delivery in demo.deliveries[1].values():
        assert delivery.created == [] and delivery.failed == []
        assert len(delivery.deduplicated) == delivery.synced == len(demo.alerts)


def test_the_official_plugins_delivered_each_set(demo: DemoRun) -> None:
    plugins = {d.plugin for d in demo.deliveries[0].values()}
    assert plugins == {"ServiceNow 2.2.0", "Jira 2.3.0", "Webhook 1.0.0"}
    assert all(not d.failed for d in demo.deliveries[0].values())
    support = [i for i in demo.incidents if "support_user" in i["short_description"]]
    bucket = f"arn:aws:s3:::{demo.tenant.sensitive_bucket}"
    assert any(f"Resources touched: {bucket}" in i["description"] for i in support)
    work_notes = [n for n in demo.work_notes if n["field"] == "work_notes"]
    assert len(work_notes) == len(demo.alerts)  # one per deduplicated alert, second run


def test_every_ce_alert_reached_splunk_servicenow_jira_and_the_webhook_once(demo: DemoRun) -> None:
    ids = sorted(a["id"] for a in demo.alerts)
    splunk_ids = sorted(e["event"]["id"] for e in demo.splunk_events)
    assert splunk_ids == ids
    correlation = sorted(i["correlation_id"] for i in demo.incidents)
    assert correlation == ids
    assert sorted(h["json"]["id"] for h in demo.webhooks) == ids
    assert len(demo.issues) == len(ids)


def test_report_and_outputs_carry_no_secret(demo: DemoRun, tmp_path: Path) -> None:
    out = io.StringIO()
    report(demo, out)
    assert "no duplicates" in out.getvalue()
    texts = [
        out.getvalue(),
        json.dumps(demo.alerts, default=str),
        json.dumps(demo.incidents),
        json.dumps(demo.splunk_events),
        json.dumps(demo.issues),
        json.dumps(demo.webhooks),
        json.dumps(demo.work_notes),
        demo.receiver_logs,
    ]
    texts += [p.logger.text() for p in demo.pulls]
    for secret in demo.secrets:
        assert all(secret not in text for text in texts)
