"""A ServiceNow Table API on 127.0.0.1, enough of it to exercise CE's ServiceNow receiver.

- ``GET /api/now/table/<table>``: ``sysparm_query`` (``^``-joined AND terms with ``=``,
  ``!=``, ``STARTSWITH``, ``ENDSWITH``, ``LIKE``, ``IN``, ``NOT IN``, ``ISEMPTY``,
  ``ISNOTEMPTY``, ``ORDERBY``/``ORDERBYDESC``, ``^OR`` binding to the term before it as
  ServiceNow reads it), ``sysparm_limit``, ``sysparm_offset``, ``sysparm_fields``;
  ``X-Total-Count`` header. ``^NQ`` is refused with a 400 rather than silently misread.
- ``sys_user_group`` and ``sys_dictionary`` rows (``seed_reference_data``): the groups CE's
  ServiceNow plugin offers as queues and the columns it offers as mapping fields.
- ``GET|PATCH|PUT|DELETE /api/now/table/<table>/<sys_id>``, ``POST /api/now/table/<table>``.
- Basic auth; ServiceNow's error shape ``{"error": {"message", "detail"}, "status":
  "failure"}`` (401 ``User Not Authenticated``, 400 ``Invalid table``, 404 ``No Record
  found``...).
- Records as ServiceNow returns them: every value a string, generated ``sys_id`` (32 hex)
  and ``number`` (``SIR0010001`` for ``sn_si_incident``, ``INC0010001`` for ``incident``),
  ``sys_created_on``/``sys_updated_on``, ``sys_mod_count``. Journal fields (``work_notes``,
  ``comments``) are appended to a journal and read back empty, as on a real instance.
- Choice fields with numeric scales (``severity``, ``impact``, ``urgency`` on security
  incidents: 1 High, 2 Medium, 3 Low) keep whatever is written, as ServiceNow does, but a
  value outside the scale is listed in ``choice_violations`` so tests catch a mapping that
  writes ``high`` where ``1`` belongs.
- Faults (besides ``status``, ``slow``, ``drop``): ``busy`` (503) and ``throttle`` (429
  with ``Retry-After``). Inspection: ``GET /_emulator/records[?table=]``,
  ``GET /_emulator/journal``, ``GET /_emulator/choice_violations``.

Run it alone: ``python -m devkit.emulators.servicenow --port 8443 --user admin --password x``.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from devkit.emulators.base import (
    Emulator,
    Fault,
    Request,
    Response,
    first,
    serve_until_interrupted,
    server_arguments,
    server_options,
)

TABLE_PREFIX = "/api/now/table/"
SCALE_1_3 = frozenset({"1", "2", "3"})
JOURNAL_FIELDS = frozenset({"work_notes", "comments"})


@dataclass(frozen=True)
class TableSpec:
    """What the emulator knows of a table: number prefix, defaults, numeric choice scales."""

    number_prefix: str | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)


TABLES: dict[str, TableSpec] = {
    "sn_si_incident": TableSpec(
        "SIR",
        {"state": "10", "severity": "3", "impact": "3", "urgency": "3", "priority": "5"},
        {"severity": SCALE_1_3, "impact": SCALE_1_3, "urgency": SCALE_1_3},
    ),
    "incident": TableSpec(
        "INC",
        {"state": "1", "impact": "3", "urgency": "3", "priority": "5"},
        {"impact": SCALE_1_3, "urgency": SCALE_1_3},
    ),
    "sys_user": TableSpec(),
    "sys_user_group": TableSpec(),
    "sys_dictionary": TableSpec(),
}

# Columns of the incident tables (``sys_dictionary``: what a queue mapping can target). The
# task fields are inherited by both tables, as ``name=<table>^ORname=task`` reads them.
TASK_COLUMNS: dict[str, str] = {
    "short_description": "Short description",
    "description": "Description",
    "work_notes": "Work notes",
    "comments": "Additional comments",
    "assignment_group": "Assignment group",
    "assigned_to": "Assigned to",
    "state": "State",
    "impact": "Impact",
    "urgency": "Urgency",
    "priority": "Priority",
    "correlation_id": "Correlation ID",
    "correlation_display": "Correlation display",
    "sys_id": "Sys ID",
}
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "sn_si_incident": {"severity": "Business impact", "category": "Category"},
    "incident": {"category": "Category", "caller_id": "Caller"},
}
DEFAULT_GROUPS = ("Cloud Security", "Identity and Access")


def seed_reference_data(emulator: ServiceNowEmulator) -> None:
    """The rows CE's ServiceNow plugin reads besides incidents: assignment groups (its
    queues) and the dictionary of the incident tables (its mapping fields)."""
    rows: list[tuple[str, dict[str, str]]] = [
        ("sys_user_group", {"name": name}) for name in DEFAULT_GROUPS
    ]
    columns = {"task": TASK_COLUMNS, **TABLE_COLUMNS}
    for table, fields in columns.items():
        rows += [
            ("sys_dictionary", {"name": table, "element": element, "column_label": label,
                                "internal_type": "string"})
            for element, label in fields.items()
        ]  # fmt: skip
    rows.append(("sys_dictionary", {"name": "task", "element": "", "internal_type": "collection"}))
    for table, values in rows:
        emulator.insert(table, values)


def _error(status: int, message: str, detail: str | None) -> Response:
    return Response(status, {"error": {"message": message, "detail": detail}, "status": "failure"})


NOT_AUTHENTICATED = (401, "User Not Authenticated", "Required to provide Auth information")
NO_RECORD = (404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")

_TERM = re.compile(
    r"^(?P<field>[A-Za-z0-9_.]+?)"
    r"(?P<op>ISNOTEMPTY|ISEMPTY|NOT IN|STARTSWITH|ENDSWITH|NOT LIKE|LIKE|IN|!=|=)"
    r"(?P<value>.*)$"
)


class QueryError(ValueError):
    """A ``sysparm_query`` the emulator does not support."""


Predicate = Callable[[Mapping[str, str]], bool]


def parse_query(query: str) -> tuple[list[Predicate], list[tuple[str, bool]]]:
    """``sysparm_query`` as predicates (all must hold) and an order (field, descending)."""
    predicates: list[Predicate] = []
    order: list[tuple[str, bool]] = []
    for term in filter(None, query.split("^")):
        if term.startswith("ORDERBYDESC"):
            order.append((term.removeprefix("ORDERBYDESC"), True))
            continue
        if term.startswith("ORDERBY"):
            order.append((term.removeprefix("ORDERBY"), False))
            continue
        if term == "EQ":
            continue
        if term.startswith("NQ"):
            raise QueryError("'^NQ' queries are not supported by the emulator")
        alternative = term.startswith("OR")
        if alternative and not predicates:
            raise QueryError(f"'^{term}' has no term before it to be an alternative to")
        match = _TERM.match(term[2:] if alternative else term)
        if match is None:
            raise QueryError(f"cannot read query term {term!r}")
        predicate = _predicate(match["field"], match["op"], match["value"])
        if alternative:  # a^ORb^c is (a OR b) AND c, as ServiceNow reads it
            predicates.append(_either(predicates.pop(), predicate))
        else:
            predicates.append(predicate)
    return predicates, order


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda record: first(record) or second(record)


def _predicate(name: str, op: str, value: str) -> Predicate:
    listed = {v.strip() for v in value.split(",")}
    tests: dict[str, Callable[[str], bool]] = {
        "=": lambda v: v == value,
        "!=": lambda v: v != value,
        "STARTSWITH": lambda v: v.startswith(value),
        "ENDSWITH": lambda v: v.endswith(value),
        "LIKE": lambda v: value.lower() in v.lower(),
        "NOT LIKE": lambda v: value.lower() not in v.lower(),
        "IN": lambda v: v in listed,
        "NOT IN": lambda v: v not in listed,
        "ISEMPTY": lambda v: v == "",
        "ISNOTEMPTY": lambda v: v != "",
    }
    test = tests[op]
    return lambda record: test(record.get(name, ""))


def _sort_key(name: str) -> Callable[[Mapping[str, str]], str]:
    return lambda record: record.get(name, "")


def _as_servicenow_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class ServiceNowEmulator(Emulator):
    """See the module docstring."""

    name: ClassVar[str] = "servicenow"
    fault_kinds: ClassVar[frozenset[str]] = frozenset({"busy", "throttle"})
    default_fault_paths: ClassVar[Mapping[str, tuple[str, ...]]] = dict.fromkeys(
        ("status", "slow", "drop", "busy", "throttle"), (TABLE_PREFIX,)
    )

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        tables: Mapping[str, TableSpec] | None = None,
        **server_options: Any,
    ) -> None:
        super().__init__(**server_options)
        self.users = dict(users or {})
        self.tables = dict(tables or TABLES)
        self._records: dict[str, dict[str, dict[str, str]]] = {}
        self._numbers: dict[str, int] = {}
        self.journal: list[dict[str, str]] = []
        self.choice_violations: list[dict[str, str]] = []

    def reset_state(self) -> None:
        self._records.clear()
        self._numbers.clear()
        self.journal.clear()
        self.choice_violations.clear()

    def insert(self, table: str, values: Mapping[str, str]) -> dict[str, str]:
        """Add a row as ServiceNow would (generated sys_id, timestamps), for seeding."""
        sys_id = secrets.token_hex(16)
        record = {"sys_id": sys_id, "sys_created_on": _now_text(), "sys_mod_count": "0"}
        record.update({k: _as_servicenow_value(v) for k, v in values.items()})
        with self.lock:
            self._records.setdefault(table, {})[sys_id] = record
        return dict(record)

    def records(self, table: str) -> list[dict[str, str]]:
        with self.lock:
            return [dict(r) for r in self._records.get(table, {}).values()]

    # ----------------------------------------------------------------- endpoints

    def control(self, request: Request) -> Response | None:
        path = request.path.removeprefix("/_emulator")
        if request.method != "GET":
            return None
        with self.lock:
            if path == "/records":
                table = first(request.query, "table")
                tables = [table] if table else sorted(self._records)
                return Response(200, {"records": {t: self.records(t) for t in tables}})
            if path == "/journal":
                return Response(200, {"journal": list(self.journal)})
            if path == "/choice_violations":
                return Response(200, {"choice_violations": list(self.choice_violations)})
        return None

    def handle(self, request: Request, fault: Fault | None) -> Response:
        if fault is not None and fault.kind == "busy":
            return _error(503, "Service Unavailable", "The instance is busy; try again later")
        if fault is not None and fault.kind == "throttle":
            response = _error(429, "Too Many Requests", "Rate limit exceeded")
            response.headers["Retry-After"] = fault.retry_after or "1"
            return response
        if not self._authenticated(request):
            return _error(*NOT_AUTHENTICATED)
        if not request.path.startswith(TABLE_PREFIX):
            return _error(400, "Requested URI does not represent any resource", None)
        table, _, sys_id = request.path[len(TABLE_PREFIX) :].partition("/")
        if table not in self.tables:
            return _error(400, f"Invalid table {table}", f"Table {table} does not exist")
        with self.lock:
            if not sys_id and request.method == "GET":
                return self._list(table, request)
            if not sys_id and request.method == "POST":
                return self._insert(table, request)
            if sys_id and request.method == "GET":
                record = self._records.get(table, {}).get(sys_id)
                return Response(200, {"result": record}) if record else _error(*NO_RECORD)
            if sys_id and request.method in ("PATCH", "PUT"):
                return self._update(table, sys_id, request)
            if sys_id and request.method == "DELETE":
                if self._records.get(table, {}).pop(sys_id, None) is None:
                    return _error(*NO_RECORD)
                return Response(204)
        return _error(405, "Method not supported", f"{request.method} on {request.path}")

    def _authenticated(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def _list(self, table: str, request: Request) -> Response:
        try:
            predicates, order = parse_query(first(request.query, "sysparm_query") or "")
            limit = int(first(request.query, "sysparm_limit") or 10000)
            offset = int(first(request.query, "sysparm_offset") or 0)
        except (QueryError, ValueError) as error:
            return _error(400, "Invalid query", str(error))
        rows = [r for r in self._records.get(table, {}).values() if all(p(r) for p in predicates)]
        for name, descending in reversed(order):
            rows.sort(key=_sort_key(name), reverse=descending)
        fields = [f for f in (first(request.query, "sysparm_fields") or "").split(",") if f]
        page = rows[offset : offset + limit]
        if fields:
            page = [{f: r.get(f, "") for f in fields} for r in page]
        return Response(200, {"result": page}, {"X-Total-Count": str(len(rows))})

    def _body(self, request: Request) -> dict[str, Any] | Response:
        try:
            data = request.json()
        except ValueError:
            return _error(400, "Exception while reading request", "The payload is not valid JSON.")
        if not isinstance(data, dict):
            return _error(400, "Exception while reading request", "The payload is not valid JSON.")
        return data

    def _write(self, table: str, record: dict[str, str], data: Mapping[str, Any]) -> None:
        spec = self.tables[table]
        for name, value in data.items():
            text = _as_servicenow_value(value)
            if name in JOURNAL_FIELDS:
                if text:
                    self.journal.append(
                        {"table": table, "sys_id": record["sys_id"], "field": name, "value": text}
                    )
                record[name] = ""
                continue
            scale = spec.choices.get(name)
            if scale is not None and text and text not in scale:
                self.choice_violations.append(
                    {"table": table, "sys_id": record["sys_id"], "field": name, "value": text}
                )
            record[name] = text

    def _insert(self, table: str, request: Request) -> Response:
        data = self._body(request)
        if isinstance(data, Response):
            return data
        spec = self.tables[table]
        requested = str(data.pop("sys_id", "") or "")
        sys_id = requested if re.fullmatch(r"[0-9a-f]{32}", requested) else secrets.token_hex(16)
        now = _now_text()
        record: dict[str, str] = {
            **spec.defaults,
            "sys_id": sys_id,
            "sys_created_on": now,
            "sys_updated_on": now,
            "sys_mod_count": "0",
            "sys_class_name": table,
        }
        if spec.number_prefix:
            self._numbers[table] = self._numbers.get(table, 10000) + 1
            record["number"] = f"{spec.number_prefix}{self._numbers[table]:07d}"
        self._write(table, record, data)
        self._records.setdefault(table, {})[sys_id] = record
        return Response(201, {"result": dict(record)}, {"Location": request.path + "/" + sys_id})

    def _update(self, table: str, sys_id: str, request: Request) -> Response:
        record = self._records.get(table, {}).get(sys_id)
        if record is None:
            return _error(*NO_RECORD)
        data = self._body(request)
        if isinstance(data, Response):
            return data
        data.pop("sys_id", None)
        self._write(table, record, data)
        record["sys_updated_on"] = _now_text()
        record["sys_mod_count"] = str(int(record.get("sys_mod_count", "0")) + 1)
        return Response(200, {"result": dict(record)})


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments(__doc__.split("\n")[0], 8443)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    args = parser.parse_args(argv)
    emulator = ServiceNowEmulator({args.user: args.password}, **server_options(args))
    serve_until_interrupted(emulator.start(), "ServiceNow emulator")


if __name__ == "__main__":
    main()
