"""`make demo`'s pipeline names the right people: every planted case yields its alert with
the right identity and the resources it touched, nothing planted as innocent is alerted, the
official ServiceNow, Jira and Webhook plugins deliver every finding, every role gets the
verdict its trust policy implies (a look-alike of an Identity Center role included: judged on
its policy, never exempted by its name, and reported once as a look-alike), and the second run
duplicates nothing in CE, Splunk, ServiceNow, Jira or the webhook."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.demo import JIRA, SERVICENOW, WEBHOOK, DemoRun, report, run_demo
from devkit.demo_scenario import LOOKALIKE_ROLE_NAME
from devkit.demo_tenant import ExpectedFinding

KIND_CODES = {
    "posture": "role_session_name_not_enforced",
    "noncompliant_activity": "noncompliant_role_activity",
    "session_spoofing": "session_name_spoofing",
    "denied_assume_role": "denied_assume_role",
    "trust_policy_weakened": "trust_policy_weakened",
    "role_name_imitation": "role_name_imitates_aws_managed_role",
}
LOOKALIKE = KIND_CODES["role_name_imitation"]
#: Findings about a role itself: no person, no session.
ROLE_KINDS = ("posture", "role_name_imitation")


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
        if finding.kind in ROLE_KINDS or (
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
        if f.kind in KIND_CODES and f.kind not in ROLE_KINDS and matching(demo, f)
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


def test_every_role_gets_the_verdict_its_trust_policy_implies(demo: DemoRun) -> None:
    scanned = {
        arn: (status, alert_id)
        for arn, status, _fp, alert_id, _severity in demo.pulls[-1].storage["posture"]["roles"]
    }
    assert set(scanned) == set(demo.tenant.role_arns.values())
    verdicts = {name: scanned[arn][0] for name, arn in demo.tenant.role_arns.items()}
    assert verdicts == {name: v.status for name, v in demo.tenant.posture.items()}
    for name, verdict in demo.tenant.posture.items():
        if verdict.alert is not None:
            assert bool(scanned[demo.tenant.role_arns[name]][1]) is verdict.alert, name


def _lookalike(demo: DemoRun) -> tuple[dict[str, Any], ExpectedFinding]:
    (alert,) = [a for a in demo.alerts if a["type"] == LOOKALIKE]
    (finding,) = [f for f in demo.tenant.expected if f.kind == "role_name_imitation"]
    return alert, finding


def test_only_the_planted_look_alike_is_reported_as_imitating_an_aws_managed_role(
    demo: DemoRun,
) -> None:
    """The real Identity Center and service-linked roles (reserved paths) are not."""
    alert, finding = _lookalike(demo)
    arn = demo.tenant.role_arns[LOOKALIKE_ROLE_NAME]
    assert (
        finding.role_arn == arn == f"arn:aws:iam::{demo.tenant.account_id}:role/{finding.role_name}"
    )
    raw = alert["rawData"]
    assert (alert["user"], raw["role_arn"], raw["role_name"], raw["role_path"]) == (
        arn,
        arn,
        LOOKALIKE_ROLE_NAME,
        "/",
    )
    assert raw["severity"] == finding.details["severity"] == "high"
    assert raw["imitated_role_kind"] == finding.details["imitated_role_kind"]
    assert raw["reserved_path"] == finding.details["reserved_path"]
    assert raw["verdict"] == raw["policy_status"] == finding.details["verdict"] == "not_enforced"


def test_the_look_alike_is_judged_on_its_trust_policy_beside_its_imitation_alert(
    demo: DemoRun,
) -> None:
    arn = demo.tenant.role_arns[LOOKALIKE_ROLE_NAME]
    (posture,) = [
        a
        for a in demo.alerts
        if a["type"] == KIND_CODES["posture"] and a["rawData"]["role_arn"] == arn
    ]
    assert posture["rawData"]["verdict"] == "not_enforced"
    assert posture["rawData"]["principals"] == f"arn:aws:iam::{demo.tenant.account_id}:root"
    assert posture["rawData"]["corrected_policy"]  # remediated like any other role
    assert posture["id"] != _lookalike(demo)[0]["id"]


def test_exactly_one_look_alike_alert_reaches_splunk_servicenow_jira_and_the_webhook(
    demo: DemoRun,
) -> None:
    """Counted after both pulls, so the second pull added no copy anywhere."""
    alert, _ = _lookalike(demo)
    arn = alert["rawData"]["role_arn"]
    splunk = [e["event"] for e in demo.splunk_events if e["event"]["signature_id"] == LOOKALIKE]
    assert [(e["id"], e["severity"], e["user"], e["dest"]) for e in splunk] == [
        (alert["id"], "high", arn, arn)
    ]
    incidents = [i for i in demo.incidents if f"Finding: {LOOKALIKE} " in i["description"]]
    assert [(i["correlation_id"], i["severity"]) for i in incidents] == [(alert["id"], "1")]
    assert incidents[0]["short_description"].startswith("[high] ")
    assert f"Role: {arn}\n" in incidents[0]["description"]
    issues = [i for i in demo.issues if LOOKALIKE in i["fields"]["labels"]]
    assert len(issues) == 1
    assert "severity-high" in issues[0]["fields"]["labels"]
    assert arn in issues[0]["fields"]["summary"]
    hooks = [h["json"] for h in demo.webhooks if h["json"]["finding"] == LOOKALIKE]
    assert [(h["id"], h["severity"], h["role_arn"]) for h in hooks] == [(alert["id"], "high", arn)]


def test_the_second_run_re_sends_the_look_alike_and_creates_nothing(demo: DemoRun) -> None:
    alert, _ = _lookalike(demo)
    assert [a.id for a in demo.pulls[1].alerts if a.type == LOOKALIKE] == [alert["id"]]
    second = demo.deliveries[1]
    for name in (SERVICENOW, JIRA):
        assert [t.dataItem.id for t in second[name].created] == []
        deduplicated = [t.dataItem.id for t in second[name].deduplicated]
        assert deduplicated.count(alert["id"]) == 1, name
    assert second[WEBHOOK].created == []


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
