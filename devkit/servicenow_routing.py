"""How CE's core routes this plugin's CTO alerts to ServiceNow, emulated end to end.

CE stores the alerts a pull returns, then, per **business rule** (a filter on the alert's
standard fields), hands matching alerts to a **queue** of a ticketing plugin. The queue's
**mapping** fills receiver fields either from one alert field or from a template with
``$placeholders``; CE's ServiceNow receiver then calls the Table API. This module replays
that chain against the ServiceNow emulator (or any instance) so the mapping shipped in the
README is exercised for real:

1. ``BusinessRule``: conditions on ``id, alertName, alertType, app, appCategory, user, type``
   only (CE filters reliably on nothing else; using ``rawData`` here is refused).
2. ``map_fields``: CE ServiceNow receiver semantics (``servicenow_itsm`` plugin): a mapping
   names an ``extracted_field`` (its value, unchanged) or ``custom_message`` (a template);
   ``$name`` is read from the alert itself for CE's main attributes and from
   ``rawData[name]`` otherwise; ``\\$`` escapes a dollar; **an unknown placeholder becomes
   the text ``value_unavailable``**, exactly as CE renders it; every value is sent as a
   string; a ``sys_id`` mapping is ignored; a queue other than "No Queue" sets
   ``assignment_group``.
3. ``ServiceNowReceiver``: POST to the queue's table (``sn_si_incident`` by default). CE itself
   deduplicates through its own ticket records; the emulation does it the way a Table API
   client can, by ``correlation_id`` (the alert id in the default mapping): an existing
   ticket is PATCHed with the fields that changed (plus a work note) or left alone.
   The ticket's CE-side severity and status come from ``rawData["severity"]`` and
   ``rawData["status"]``, as CE's receiver reads them.

Severity: CE's receiver does **not** translate severities; whatever the mapping produces is
written to the incident verbatim. Security incidents use a numeric scale (1 High, 2 Medium,
3 Low), so the default mapping reads ``$servicenow_severity``, which the alert builder sets
from ``SIR_SEVERITY`` next to the CE ``severity``. A word such as ``high`` in that field would
be kept by ServiceNow as an invalid choice (the emulator lists it in ``choice_violations``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import requests

from devkit.loader import install_sdk

install_sdk()

from netskope.integrations.itsm.models import Alert, FieldMapping, Queue  # noqa: E402

# CE's ServiceNow receiver reads these from the Alert; every other name from rawData.
MAIN_ATTRS: Final = frozenset(
    {"id", "alertName", "alertType", "eventType", "app", "appCategory", "user", "type",
     "fileType", "timestamp"}
)  # fmt: skip
BUSINESS_RULE_FIELDS: Final = frozenset(
    {"id", "alertName", "alertType", "app", "appCategory", "user", "type"}
)
VALUE_UNAVAILABLE: Final = "value_unavailable"
PLACEHOLDER: Final = re.compile(r"(?<!\\)\$([A-Za-z0-9_]+)")
NO_QUEUE: Final = Queue(label="No Queue", value="no_queue")
JOURNAL_FIELDS: Final = frozenset({"work_notes", "comments"})

# CE severity -> sn_si_incident severity/impact/urgency (1 High, 2 Medium, 3 Low).
SIR_SEVERITY: Final[Mapping[str, str]] = {
    "critical": "1",
    "high": "1",
    "medium": "2",
    "low": "3",
    "informational": "3",
}


def _custom(destination: str, template: str) -> FieldMapping:
    return FieldMapping(
        extracted_field="custom_message", destination_field=destination, custom_message=template
    )


# The queue mapping the README documents (Ticket Orchestrator > Queues > ServiceNow).
DEFAULT_MAPPINGS: Final[tuple[FieldMapping, ...]] = (
    _custom("short_description", "[$severity] $alertName: $user ($account_id)"),
    _custom(
        "description",
        "$description\n\n"
        "Identity: $user\n"
        "Role: $role_arn\n"
        "Account: $account_id, Region: $region\n"
        "Source IP: $source_ip\n"
        "Finding: $type ($alertType), severity $severity\n"
        "CE alert id: $id\n\n"
        "Remediation:\n$remediation",
    ),
    _custom("severity", "$servicenow_severity"),
    FieldMapping(extracted_field="id", destination_field="correlation_id"),
    _custom("correlation_display", "Netskope CE AWS Role Session Identity"),
    _custom("category", "$alertType"),
)

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


DEFAULT_BUSINESS_RULE: Final = BusinessRule(
    "AWS role session findings",
    (
        Condition("app", "equals", "AWS IAM"),
        Condition("alertType", "in", ("Posture", "Activity", "Identity", "Configuration")),
    ),
)


@dataclass(frozen=True)
class QueueConfig:
    """A CE queue: the receiver table, the field mapping and the ServiceNow queue."""

    name: str = "AWS role sessions to Security Incidents"
    table: str = "sn_si_incident"
    mappings: tuple[FieldMapping, ...] = DEFAULT_MAPPINGS
    queue: Queue = field(default_factory=lambda: NO_QUEUE)


@dataclass(frozen=True)
class ServiceNowTarget:
    """Where the receiver writes, with CE's HTTP settings."""

    url: str
    username: str
    password: str = field(repr=False)
    verify: bool | str = True
    proxies: Mapping[str, str] | None = None
    timeout: float = 30.0


def _alert_value(alert: Alert, name: str) -> Any:
    if name in MAIN_ATTRS:
        return getattr(alert, name, VALUE_UNAVAILABLE)
    return alert.rawData.get(name, VALUE_UNAVAILABLE)


def substitute(template: str, alert: Alert) -> str:
    """Fill ``$name`` placeholders as CE does (unknown names -> ``value_unavailable``)."""
    return PLACEHOLDER.sub(lambda m: str(_alert_value(alert, m.group(1))), template)


def map_fields(alert: Alert, mappings: Sequence[FieldMapping]) -> dict[str, str]:
    """The receiver fields of one alert, with CE's semantics (see the module docstring)."""
    result: dict[str, str] = {}
    for mapping in mappings:
        if mapping.extracted_field not in (None, "", "custom_message"):
            name = mapping.extracted_field
            value = getattr(alert, name, None) if name in MAIN_ATTRS else alert.rawData.get(name)
        else:
            value = substitute(mapping.custom_message, alert)
        if value is not None:
            result[mapping.destination_field] = str(value)
    result.pop("sys_id", None)
    return result


@dataclass(frozen=True)
class Ticket:
    """What the receiver did for one alert (CE's Task, plus the action taken)."""

    alert_id: str
    action: Literal["created", "updated", "unchanged"]
    table: str
    sys_id: str
    number: str
    link: str
    severity: str  # CE-side Task severity: rawData["severity"]
    status: str  # CE-side Task status: rawData["status"]
    fields: Mapping[str, str]


@dataclass
class RoutingReport:
    matched: list[str] = field(default_factory=list)
    filtered_out: list[str] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def _with(self, action: str) -> list[Ticket]:
        return [t for t in self.tickets if t.action == action]

    @property
    def created(self) -> list[Ticket]:
        return self._with("created")

    @property
    def updated(self) -> list[Ticket]:
        return self._with("updated")

    @property
    def unchanged(self) -> list[Ticket]:
        return self._with("unchanged")


class ServiceNowError(Exception):
    """The Table API refused a call (message from ServiceNow's error body, no credentials)."""


class ServiceNowReceiver:
    """CE's ServiceNow receiver, reduced to what routing needs, plus correlation dedupe."""

    def __init__(
        self,
        target: ServiceNowTarget,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 3,
    ) -> None:
        self._target = target
        self._session = session or requests.Session()
        self._sleep = sleep
        self._max_attempts = max_attempts

    def deliver(self, alert: Alert, queue: QueueConfig) -> Ticket:
        fields = map_fields(alert, queue.mappings)
        if queue.queue.value != NO_QUEUE.value:
            fields["assignment_group"] = queue.queue.value
        correlation = fields.get("correlation_id") or alert.id
        path = f"/api/now/table/{queue.table}"
        found = self._call(
            "GET",
            path,
            params={"sysparm_query": f"correlation_id={correlation}", "sysparm_limit": "1"},
        )["result"]
        if not found:
            record = self._call("POST", path, json=fields)["result"]
            action: Literal["created", "updated", "unchanged"] = "created"
        else:
            record = found[0]
            changes = {
                k: v for k, v in fields.items() if k not in JOURNAL_FIELDS and record.get(k) != v
            }
            action = "unchanged"
            if changes:
                note = f"CE alert {alert.id} changed ({', '.join(sorted(changes))})."
                record = self._call(
                    "PATCH", f"{path}/{record['sys_id']}", json={**changes, "work_notes": note}
                )["result"]
                action = "updated"
        sys_id = str(record["sys_id"])
        return Ticket(
            alert_id=alert.id,
            action=action,
            table=queue.table,
            sys_id=sys_id,
            number=str(record.get("number", "")),
            link=f"{self._target.url.rstrip('/')}/{queue.table}.do?sys_id={sys_id}",
            severity=str(alert.rawData.get("severity") or "other"),
            status=str(alert.rawData.get("status") or "other"),
            fields=fields,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One Table API call; 429/5xx and connection drops retried a bounded number of times,
        honouring ``Retry-After`` seconds (capped at 60)."""
        target = self._target
        for attempt in range(1, self._max_attempts + 1):
            try:
                response = self._session.request(
                    method,
                    target.url.rstrip("/") + path,
                    auth=(target.username, target.password),
                    headers={"Accept": "application/json"},
                    proxies=dict(target.proxies or {}),
                    verify=target.verify,
                    timeout=target.timeout,
                    **kwargs,
                )
            except requests.ConnectionError:
                if attempt == self._max_attempts:
                    raise ServiceNowError(f"{method} {path}: connection failed") from None
                self._sleep(float(2 ** (attempt - 1)))
                continue
            if response.status_code in (429, 503, 502, 504, 500) and attempt < self._max_attempts:
                retry_after = response.headers.get("Retry-After", "")
                delay = float(retry_after) if retry_after.isdigit() else float(2 ** (attempt - 1))
                self._sleep(min(delay, 60.0))
                continue
            if response.status_code >= 400:
                try:
                    error = response.json().get("error") or {}
                except ValueError:
                    error = {}
                raise ServiceNowError(
                    f"{method} {path}: HTTP {response.status_code} "
                    f"{error.get('message') or response.reason}"
                )
            data: dict[str, Any] = response.json()
            return data
        raise ServiceNowError(f"{method} {path}: gave up after {self._max_attempts} attempts")


def route(
    alerts: Sequence[Alert],
    receiver: ServiceNowReceiver,
    rule: BusinessRule = DEFAULT_BUSINESS_RULE,
    queue: QueueConfig | None = None,
) -> RoutingReport:
    """Filter by the business rule, then create or update one ticket per matching alert.

    One alert's failure is recorded in ``errors`` and does not stop the others.
    """
    queue = queue or QueueConfig()
    report = RoutingReport()
    for alert in alerts:
        if not rule.matches(alert):
            report.filtered_out.append(alert.id)
            continue
        report.matched.append(alert.id)
        try:
            report.tickets.append(receiver.deliver(alert, queue))
        except ServiceNowError as error:
            report.errors.append((alert.id, str(error)))
    return report
