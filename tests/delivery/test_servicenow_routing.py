"""CE's routing to ServiceNow, emulated end to end over real HTTP: rule, mapping, receiver."""

from __future__ import annotations

from typing import Any

import pytest
from netskope.integrations.itsm.models import Alert, FieldMapping, Queue

from devkit.emulators.servicenow import ServiceNowEmulator
from devkit.servicenow_routing import (
    DEFAULT_BUSINESS_RULE,
    SIR_SEVERITY,
    BusinessRule,
    Condition,
    QueueConfig,
    ServiceNowReceiver,
    ServiceNowTarget,
    map_fields,
    route,
    substitute,
)

from .conftest import SN_PASSWORD, SN_USER, FakeClock


@pytest.fixture
def models(alerts: list[dict[str, Any]]) -> list[Alert]:
    return [Alert(**a) for a in alerts]


def receiver(sn: ServiceNowEmulator, clock: FakeClock | None = None) -> ServiceNowReceiver:
    target = ServiceNowTarget(sn.url, SN_USER, SN_PASSWORD)
    return ServiceNowReceiver(target, sleep=(clock or FakeClock()).sleep)


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
    activity = models[1]
    text = substitute("$alertName by $user from $source_ip in $account_id", activity)
    assert text == (
        "Action through a non-compliant role by support_user from 198.51.100.23 in 111122223333"
    )


def test_an_unknown_placeholder_is_rendered_value_unavailable_as_ce_does(
    models: list[Alert],
) -> None:
    assert substitute("role $no_such_key", models[0]) == "role value_unavailable"


def test_an_escaped_dollar_is_left_alone(models: list[Alert]) -> None:
    assert substitute(r"cost \$user", models[0]) == r"cost \$user"


def test_a_direct_field_mapping_copies_the_value_and_sys_id_is_never_sent(
    models: list[Alert],
) -> None:
    mappings = (
        FieldMapping(extracted_field="id", destination_field="correlation_id"),
        FieldMapping(extracted_field="role_name", destination_field="u_role"),
        FieldMapping(extracted_field="missing", destination_field="u_missing"),
        FieldMapping(extracted_field="id", destination_field="sys_id"),
    )
    assert map_fields(models[0], mappings) == {
        "correlation_id": "aws-rsi:posture:111122223333:MyBucketRole",
        "u_role": "MyBucketRole",
    }


def test_the_severity_scale_of_security_incidents() -> None:
    assert SIR_SEVERITY == {
        "critical": "1",
        "high": "1",
        "medium": "2",
        "low": "3",
        "informational": "3",
    }


# --------------------------------------------------------------------------- end to end


def test_matching_alerts_become_security_incidents_with_the_default_mapping(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    report = route(models, receiver(servicenow))
    assert report.filtered_out == ["aws-rsi:volume:2026-11-28T10"]
    assert [t.action for t in report.tickets] == ["created"] * 3
    records = {r["correlation_id"]: r for r in servicenow.records("sn_si_incident")}
    activity = records[
        "aws-rsi:activity:111122223333:MyBucketRole:ASIAEXAMPLEKEY0001:2026-11-28T09"
    ]
    assert activity["short_description"] == (
        "[high] Action through a non-compliant role: support_user (111122223333)"
    )
    assert activity["severity"] == "1"
    assert "Identity: support_user" in activity["description"]
    assert "Source IP: 198.51.100.23" in activity["description"]
    assert "value_unavailable" not in activity["description"]
    assert activity["category"] == "Activity"
    assert servicenow.choice_violations == []
    ticket = report.tickets[1]
    assert (ticket.severity, ticket.status) == ("high", "new")
    assert ticket.number.startswith("SIR") and ticket.sys_id in ticket.link


def test_a_second_run_creates_no_duplicate_tickets(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    route(models, receiver(servicenow))
    again = route(models, receiver(servicenow))
    assert [t.action for t in again.tickets] == ["unchanged"] * 3
    assert len(servicenow.records("sn_si_incident")) == 3


def test_a_changed_alert_updates_its_ticket_with_a_work_note(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    route(models, receiver(servicenow))
    models[1].rawData["source_ip"] = "198.51.100.99"
    again = route(models, receiver(servicenow))
    assert [t.action for t in again.tickets] == ["unchanged", "updated", "unchanged"]
    assert len(servicenow.records("sn_si_incident")) == 3
    assert servicenow.journal[-1]["field"] == "work_notes"
    assert "description" in servicenow.journal[-1]["value"]


def test_a_queue_sets_the_assignment_group(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    queue = QueueConfig(queue=Queue(label="Cloud SecOps", value="a1b2c3"))
    route(models[:1], receiver(servicenow), queue=queue)
    assert servicenow.records("sn_si_incident")[0]["assignment_group"] == "a1b2c3"


def test_a_throttled_instance_is_retried_after_retry_after(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    clock = FakeClock()
    servicenow.add_fault({"kind": "throttle", "retry_after": 4})
    report = route(models[:1], receiver(servicenow, clock))
    assert [t.action for t in report.tickets] == ["created"]
    assert clock.sleeps == [4.0]


def test_one_failing_alert_does_not_stop_the_others(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    servicenow.add_fault(
        {
            "kind": "status",
            "status": 400,
            "count": 1,
            "body": {"error": {"message": "Invalid value", "detail": None}, "status": "failure"},
        }
    )
    report = route(models, receiver(servicenow))
    assert [e[0] for e in report.errors] == [models[0].id]
    assert "HTTP 400 Invalid value" in report.errors[0][1]
    assert len(report.created) == 2


def test_wrong_credentials_are_reported_without_the_password(
    servicenow: ServiceNowEmulator, models: list[Alert]
) -> None:
    target = ServiceNowTarget(servicenow.url, SN_USER, "not-the-password")
    report = route(models[:1], ServiceNowReceiver(target))
    assert "HTTP 401 User Not Authenticated" in report.errors[0][1]
    assert "not-the-password" not in report.errors[0][1] + repr(target)
