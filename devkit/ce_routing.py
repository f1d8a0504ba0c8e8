"""CE core's part of Ticket Orchestrator delivery, handing alerts to official receiver plugins.

CE stores the alerts a pull returns; then, per **business rule** (a filter on the alert's
standard fields) and **queue** of a receiver configuration, it renders the queue's
**mapping** and calls the receiver plugin. This module is that core part; everything after
it is the unmodified official plugin (ServiceNow, Jira, Webhook) talking to its server:

1. ``BusinessRule``: conditions on ``id, alertName, alertType, app, appCategory, user,
   type`` only (CE filters reliably on nothing else; ``rawData`` is refused here).
2. ``map_fields``: a mapping names an ``extracted_field`` (that value) or ``custom_message``
   (a template); ``$name`` is read from the alert for CE's main attributes and from
   ``rawData[name]`` otherwise; ``\\$`` escapes a dollar; an unknown name becomes the text
   ``value_unavailable``; values are handed over as strings; a field without a value is
   left out.
3. ``TicketOrchestrator``: an alert a route has no task for yet gets
   ``plugin.create_task(alert, mapped, queue)``; an alert received again (CE upserts by id,
   and each pull repeats the previous pull's alerts) is **deduplicated**: the task's
   ``dedupeCount`` goes up and ``plugin.update_task(task, alert, dedup_mapped, queue)`` is
   called with the queue's dedup mapping (a work note, a comment); nothing new is created.
   ``sync`` calls ``plugin.sync_states(tasks)`` per receiver, as CE's periodic sync does.
   One alert's failure is recorded and does not stop the others.

The example queues (``servicenow_routes``, ``jira_routes``, ``webhook_routes``) are the
ones the README documents: actions through a non-compliant role go to a queue whose mapping
shows the resources touched; every other finding to a queue without that line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from devkit.loader import install_sdk

install_sdk()

from netskope.integrations.itsm.models import Alert, FieldMapping, Queue, Task  # noqa: E402

# CE reads these from the Alert itself; every other placeholder from rawData.
MAIN_ATTRS: Final = frozenset(
    {"id", "alertName", "alertType", "eventType", "app", "appCategory", "user", "type",
     "fileType", "timestamp"}
)  # fmt: skip
BUSINESS_RULE_FIELDS: Final = frozenset(
    {"id", "alertName", "alertType", "app", "appCategory", "user", "type"}
)
VALUE_UNAVAILABLE: Final = "value_unavailable"
PLACEHOLDER: Final = re.compile(r"(?<!\\)\$([A-Za-z0-9_]+)")
ACTIVITY_TYPE: Final = "noncompliant_role_activity"

Operator = Literal["equals", "not_equals", "in", "not_in", "contains", "regex"]


@dataclass(frozen=True)
class Condition:
    """One business-rule condition on a standard alert field."""

    field: str
    operator: Operator
    value: str | tuple[str, ...]

    def __post_init__(self) -> None:
        if self.field not in BUSINESS_RULE_FIELDS:
            raise ValueError(
                f"business rules filter on {sorted(BUSINESS_RULE_FIELDS)}, not {self.field!r}"
            )

    def matches(self, alert: Alert) -> bool:
        actual = "" if getattr(alert, self.field) is None else str(getattr(alert, self.field))
        values = (self.value,) if isinstance(self.value, str) else self.value
        checks: dict[str, Callable[[], bool]] = {
            "equals": lambda: actual == values[0],
            "not_equals": lambda: actual != values[0],
            "in": lambda: actual in values,
            "not_in": lambda: actual not in values,
            "contains": lambda: values[0].lower() in actual.lower(),
            "regex": lambda: re.search(values[0], actual) is not None,
        }
        return checks[self.operator]()


@dataclass(frozen=True)
class BusinessRule:
    """A CE business rule: an alert matches when every condition holds."""

    name: str
    conditions: tuple[Condition, ...]

    def matches(self, alert: Alert) -> bool:
        return all(condition.matches(alert) for condition in self.conditions)


FINDINGS: Final = (
    Condition("app", "equals", "AWS IAM"),
    Condition("alertType", "in", ("Posture", "Activity", "Identity", "Configuration")),
)
DEFAULT_BUSINESS_RULE: Final = BusinessRule("AWS role session findings", FINDINGS)
ACTIVITY_RULE: Final = BusinessRule(
    "Actions through non-compliant roles", (*FINDINGS, Condition("type", "equals", ACTIVITY_TYPE))
)
OTHER_FINDINGS_RULE: Final = BusinessRule(
    "Other AWS role session findings",
    (*FINDINGS, Condition("type", "not_equals", ACTIVITY_TYPE)),
)


def _alert_value(alert: Alert, name: str) -> Any:
    if name in MAIN_ATTRS:
        return getattr(alert, name, VALUE_UNAVAILABLE)
    return alert.rawData.get(name, VALUE_UNAVAILABLE)


def substitute(template: str, alert: Alert) -> str:
    """Fill ``$name`` placeholders as CE does (unknown names -> ``value_unavailable``)."""
    return PLACEHOLDER.sub(lambda m: str(_alert_value(alert, m.group(1))), template)


def _as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def map_fields(alert: Alert, mappings: Sequence[FieldMapping]) -> dict[str, str]:
    """The receiver fields of one alert, rendered as CE's core renders a queue mapping."""
    result: dict[str, str] = {}
    for mapping in mappings:
        if mapping.extracted_field not in (None, "", "custom_message"):
            name = mapping.extracted_field
            value = getattr(alert, name, None) if name in MAIN_ATTRS else alert.rawData.get(name)
        else:
            value = substitute(mapping.custom_message, alert)
        if value is not None:
            result[mapping.destination_field] = _as_text(value)
    return result


def custom(destination: str, template: str) -> FieldMapping:
    return FieldMapping(
        extracted_field="custom_message", destination_field=destination, custom_message=template
    )


@dataclass(frozen=True)
class QueueConfig:
    """A CE queue of one receiver configuration: the plugin's queue and the mappings."""

    queue: Queue
    mappings: tuple[FieldMapping, ...]
    dedup: tuple[FieldMapping, ...] = ()


@dataclass(frozen=True)
class Route:
    """A business rule sending its alerts to one queue of one receiver configuration."""

    rule: BusinessRule
    receiver: str  # the receiver configuration's name
    queue: QueueConfig


# ------------------------------------------------------------------ the documented examples

_IDENTITY = (
    "$description\n\n"
    "Identity: $user\n"
    "Role: $role_arn\n"
    "Account: $account_id, Region: $region\n"
    "Source IP: $source_ip\n"
    "Finding: $type ($alertType), severity $severity\n"
    "CE alert id: $id\n\n"
    "Remediation:\n$remediation"
)
_WITH_RESOURCES = _IDENTITY.replace("Source IP:", "Resources touched: $resources\nSource IP:")
DEDUP_NOTE: Final = "Cloud Exchange received alert $id again (status $status, severity $severity)."


def servicenow_queue(queue: Queue, *, resources: bool) -> QueueConfig:
    """Security Incidents: numeric severity, the CE alert id as correlation id."""
    return QueueConfig(
        queue,
        (
            custom("short_description", "[$severity] $alertName: $user ($account_id)"),
            custom("description", _WITH_RESOURCES if resources else _IDENTITY),
            custom("severity", "$servicenow_severity"),
            FieldMapping(extracted_field="id", destination_field="correlation_id"),
            custom("correlation_display", "Netskope CE AWS Role Session Identity"),
            custom("category", "$alertType"),
        ),
        (custom("work_notes", DEDUP_NOTE),),
    )


def jira_queue(queue: Queue, *, resources: bool) -> QueueConfig:
    """Jira issues: one-line summary, labels without spaces, a comment on dedup."""
    return QueueConfig(
        queue,
        (
            custom("summary", "[$severity] $alertName: $user ($account_id)"),
            custom("description", _WITH_RESOURCES if resources else _IDENTITY),
            custom("labels", "netskope-ce, aws-role-session, $type, severity-$severity"),
        ),
        (custom("comment", DEDUP_NOTE),),
    )


# Only values that cannot hold a quote or a backslash go into the webhook's JSON template:
# CE fills placeholders as text, so one such character would make the payload invalid JSON.
WEBHOOK_TEMPLATE: Final = (
    '{"source": "netskope-ce", "id": "$id", "finding": "$type", "title": "$alertName", '
    '"severity": "$severity", "status": "$status", "user": "$user", '
    '"account_id": "$account_id", "role_arn": "$role_arn", "session_name": "$session_name"}'
)


def webhook_queue(queue: Queue) -> QueueConfig:
    return QueueConfig(queue, (custom("json_object", WEBHOOK_TEMPLATE),))


def servicenow_routes(receiver: str, queue: Queue) -> list[Route]:
    return [
        Route(ACTIVITY_RULE, receiver, servicenow_queue(queue, resources=True)),
        Route(OTHER_FINDINGS_RULE, receiver, servicenow_queue(queue, resources=False)),
    ]


def jira_routes(receiver: str, queue: Queue) -> list[Route]:
    return [
        Route(ACTIVITY_RULE, receiver, jira_queue(queue, resources=True)),
        Route(OTHER_FINDINGS_RULE, receiver, jira_queue(queue, resources=False)),
    ]


def webhook_routes(receiver: str, queue: Queue) -> list[Route]:
    return [Route(DEFAULT_BUSINESS_RULE, receiver, webhook_queue(queue))]


# ------------------------------------------------------------------------- orchestration


def plugin_label(plugin: Any) -> str:
    """``"<manifest name> <version>"`` of a plugin instance (what delivered a set)."""
    metadata = type(plugin).metadata
    return f"{metadata.get('name')} {metadata.get('version')}"


@dataclass
class Delivery:
    """What one receiver configuration did in one pass."""

    receiver: str
    plugin: str
    created: list[Task] = field(default_factory=list)
    deduplicated: list[Task] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (alert id, error)
    synced: int = 0


class TicketOrchestrator:
    """CE core's task handling for a set of receiver configurations (see the docstring)."""

    def __init__(self, receivers: dict[str, Any], routes: Sequence[Route]) -> None:
        unknown = {r.receiver for r in routes} - set(receivers)
        if unknown:
            raise ValueError(f"routes name unknown receivers: {sorted(unknown)}")
        self.receivers = receivers  # configuration name -> plugin instance
        self.routes = list(routes)
        self.tasks: dict[tuple[str, str], Task] = {}  # (rule, receiver), alert id -> task
        self.filtered_out: set[str] = set()

    def deliver(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        report = {
            name: Delivery(name, plugin_label(plugin)) for name, plugin in self.receivers.items()
        }
        routed = set()
        for alert in alerts:
            for route in self.routes:
                if not route.rule.matches(alert):
                    continue
                plugin = self.receivers[route.receiver]
                delivery = report[route.receiver]
                routed.add(alert.id)
                key = (f"{route.rule.name}|{route.receiver}", alert.id)
                try:
                    existing = self.tasks.get(key)
                    if existing is None:
                        mapped = map_fields(alert, route.queue.mappings)
                        task = plugin.create_task(alert, mapped, route.queue.queue)
                        task.createdAt = datetime.now(UTC)
                        task.businessRule = route.rule.name
                        task.configuration = route.receiver
                        delivery.created.append(task)
                    else:
                        existing.dedupeCount += 1
                        mapped = map_fields(alert, route.queue.dedup)
                        task = plugin.update_task(existing, alert, mapped, route.queue.queue)
                        delivery.deduplicated.append(task)
                    self.tasks[key] = task
                except Exception as error:  # CE marks the task failed and goes on
                    delivery.failed.append((alert.id, f"{type(error).__name__}: {error}"))
        self.filtered_out = {a.id for a in alerts} - routed
        return report

    def sync(self, report: dict[str, Delivery] | None = None) -> dict[str, int]:
        """``sync_states`` per receiver on its tasks, as CE's periodic sync does."""
        counts: dict[str, int] = {}
        for name, plugin in self.receivers.items():
            keys = [k for k in self.tasks if k[0].endswith(f"|{name}")]
            synced = plugin.sync_states([self.tasks[k] for k in keys]) if keys else []
            for key, task in zip(keys, synced, strict=True):
                self.tasks[key] = task
            counts[name] = len(synced)
            if report is not None and name in report:
                report[name].synced = len(synced)
        return counts

    def tasks_of(self, receiver: str) -> list[Task]:
        return [task for (route, _), task in self.tasks.items() if route.endswith(f"|{receiver}")]
