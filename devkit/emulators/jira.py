"""A Jira Cloud REST API v3 on 127.0.0.1: what CE's official Jira plugin calls.

- ``GET /rest/api/3/myself`` (connectivity check), ``GET /rest/api/3/field``;
- ``GET /rest/api/3/project/search?expand=issueTypes`` (paged: ``startAt``/``maxResults``,
  ``isLast``), the plugin's queues and issue-type validation;
- ``GET /rest/api/3/issue/createmeta/{projectId}/issuetypes/{issueTypeId}`` (fields on the
  create screen, paged; 404 for an unknown project or issue type);
- ``POST /rest/api/3/issue``: validated as Jira does where a mapping can go wrong: the
  summary is required, at most 255 characters and on one line; ``description`` must be an
  Atlassian Document (v3 API); labels are strings without spaces; a field not on the create
  screen is refused; answers ``201 {"id", "key", "self"}``;
- ``GET /rest/api/3/issue/{key}``, ``GET .../editmeta``, ``PUT .../{key}`` (``fields`` and
  ``update.comment[].add.body``, 204), ``GET|POST .../transitions``;
- ``POST /rest/api/3/search/jql`` with ``key IN (A,B)`` (what the plugin syncs states with);
- ``GET /rest/api/3/users/search``.

Basic auth (e-mail and API token); Jira's error shape ``{"errorMessages": [...], "errors":
{field: message}}``. Inspection: ``issues`` (Python) or ``GET /_emulator/issues``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
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

API = "/rest/api/3"
SUMMARY_MAX = 255
_ISSUE_PATH = re.compile(r"^/rest/api/3/issue/([A-Z][A-Z0-9]*-[0-9]+)(/editmeta|/transitions)?$")
_CREATEMETA = re.compile(r"^/rest/api/3/issue/createmeta/([^/]+)/issuetypes/([^/]+)$")
_JQL_KEYS = re.compile(r"^\s*key\s+IN\s*\(([^)]*)\)\s*$", re.IGNORECASE)

# Field id -> display name of the fields every issue type's screens carry here.
SCREEN_FIELDS: Mapping[str, str] = {
    "summary": "Summary",
    "description": "Description",
    "labels": "Labels",
    "priority": "Priority",
    "assignee": "Assignee",
    "issuetype": "Issue Type",
    "project": "Project",
}
EDIT_FIELDS: Mapping[str, str] = {**SCREEN_FIELDS, "comment": "Comment"}
TRANSITIONS = (("11", "To Do"), ("21", "In Progress"), ("31", "Done"))


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_types: dict[str, str] = field(default_factory=dict)  # id -> name


DEFAULT_PROJECTS = (Project("10000", "SEC", "Security", {"10001": "Task", "10002": "Bug"}),)


def _error(status: int, message: str | None = None, **errors: str) -> Response:
    return Response(status, {"errorMessages": [message] if message else [], "errors": errors})


def _is_document(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and "content" in value


class JiraEmulator(Emulator):
    """See the module docstring."""

    name: ClassVar[str] = "jira"
    default_fault_paths: ClassVar[Mapping[str, tuple[str, ...]]] = dict.fromkeys(
        ("status", "slow", "drop"), (API + "/",)
    )

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        projects: tuple[Project, ...] = DEFAULT_PROJECTS,
        **server_options: Any,
    ) -> None:
        super().__init__(**server_options)
        self.users = dict(users or {})  # e-mail -> API token
        self.projects = {p.id: p for p in projects}
        self._issues: dict[str, dict[str, Any]] = {}
        self._numbers = itertools.count(1)

    def reset_state(self) -> None:
        self._issues.clear()
        self._numbers = itertools.count(1)

    @property
    def issues(self) -> list[dict[str, Any]]:
        with self.lock:
            return [_copy(issue) for issue in self._issues.values()]

    def control(self, request: Request) -> Response | None:
        if request.method == "GET" and request.path == "/_emulator/issues":
            return Response(200, {"issues": self.issues})
        return None

    # ----------------------------------------------------------------- endpoints

    def handle(self, request: Request, fault: Fault | None) -> Response:
        email = self._authenticated(request)
        if email is None:
            return _error(401, "Client must be authenticated to access this resource.")
        path, method = request.path, request.method
        with self.lock:
            if path == f"{API}/myself" and method == "GET":
                return Response(200, {"accountId": _account_id(email), "emailAddress": email})
            if path == f"{API}/field" and method == "GET":
                return Response(200, [{"id": k, "name": v} for k, v in EDIT_FIELDS.items()])
            if path == f"{API}/project/search" and method == "GET":
                return self._projects(request)
            if path == f"{API}/users/search" and method == "GET":
                users = [{"accountId": _account_id(e), "emailAddress": e} for e in self.users]
                return Response(200, users)
            if path == f"{API}/issue" and method == "POST":
                return self._create(request)
            if path == f"{API}/search/jql" and method == "POST":
                return self._search(request)
            meta = _CREATEMETA.match(path)
            if meta and method == "GET":
                return self._createmeta(meta[1], meta[2], request)
            issue = _ISSUE_PATH.match(path)
            if issue:
                return self._issue(issue[1], issue[2] or "", request)
        return _error(404, f"No endpoint {method} {path}")

    def _authenticated(self, request: Request) -> str | None:
        scheme, _, encoded = (request.header("authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            email, _, token = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        expected = self.users.get(email)
        if expected is None or not secrets.compare_digest(expected, token):
            return None
        return email

    def _projects(self, request: Request) -> Response:
        start = int(first(request.query, "startAt") or 0)
        size = int(first(request.query, "maxResults") or 50)
        expand = "issueTypes" in (first(request.query, "expand") or "")
        values = []
        for project in list(self.projects.values())[start : start + size]:
            shown: dict[str, Any] = {"id": project.id, "key": project.key, "name": project.name}
            if expand:
                shown["issueTypes"] = [{"id": i, "name": n} for i, n in project.issue_types.items()]
            values.append(shown)
        total = len(self.projects)
        return Response(
            200,
            {
                "startAt": start,
                "maxResults": size,
                "total": total,
                "isLast": start + size >= total,
                "values": values,
            },
        )

    def _createmeta(self, project_id: str, issue_type: str, request: Request) -> Response:
        project = self.projects.get(project_id)
        if project is None or issue_type not in project.issue_types:
            return _error(404, "Issue type or project not found.")
        start = int(first(request.query, "startAt") or 0)
        size = int(first(request.query, "maxResults") or 50)
        fields = [
            {"key": k, "fieldId": k, "name": v, "required": k in ("summary", "issuetype")}
            for k, v in SCREEN_FIELDS.items()
        ]
        page = fields[start : start + size]
        return Response(
            200, {"startAt": start, "maxResults": size, "total": len(fields), "fields": page}
        )

    def _fields_problems(
        self, fields: Mapping[str, Any], allowed: Mapping[str, str]
    ) -> dict[str, str]:
        problems: dict[str, str] = {}
        for name, value in fields.items():
            if name not in allowed:
                problems[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                )
            elif name == "summary":
                if not isinstance(value, str) or not value.strip():
                    problems[name] = "You must specify a summary of the issue."
                elif "\n" in value or "\r" in value:
                    problems[name] = (
                        "The summary is invalid because it contains newline characters."
                    )
                elif len(value) > SUMMARY_MAX:
                    problems[name] = "Summary must be less than 255 characters."
            elif name == "description" and value is not None and not _is_document(value):
                problems[name] = "Operation value must be an Atlassian Document."
            elif name == "labels":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    problems[name] = "Labels must be a list of strings."
                else:
                    spaced = [v for v in value if not v or " " in v]
                    if spaced:
                        problems[name] = (
                            f"The label '{spaced[0]}' contains spaces which is invalid."
                        )
        return problems

    def _create(self, request: Request) -> Response:
        body = _json(request)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _error(400, "No 'fields' in the request.")
        project = self.projects.get(str((fields.get("project") or {}).get("id", "")))
        issue_type = str((fields.get("issuetype") or {}).get("id", ""))
        if project is None:
            return _error(400, None, project="valid project is required")
        if issue_type not in project.issue_types:
            return _error(400, None, issuetype="valid issue type is required")
        problems = self._fields_problems(fields, SCREEN_FIELDS)
        if "summary" not in fields:
            problems["summary"] = "You must specify a summary of the issue."
        if problems:
            return _error(400, None, **problems)
        number = next(self._numbers)
        key = f"{project.key}-{number}"
        issue_id = str(10000 + number)
        stored = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        self._issues[key] = {
            "id": issue_id,
            "key": key,
            "fields": {
                **stored,
                "project": {"id": project.id, "key": project.key, "name": project.name},
                "issuetype": {"id": issue_type, "name": project.issue_types[issue_type]},
                "status": {"name": "To Do"},
                "assignee": None,
                "comment": {"comments": []},
            },
        }
        return Response(
            201, {"id": issue_id, "key": key, "self": f"{self.url}{API}/issue/{issue_id}"}
        )

    def _issue(self, key: str, sub: str, request: Request) -> Response:
        issue = self._issues.get(key)
        if issue is None:
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        if sub == "/editmeta" and request.method == "GET":
            return Response(
                200, {"fields": {k: {"key": k, "name": v} for k, v in EDIT_FIELDS.items()}}
            )
        if sub == "/transitions" and request.method == "GET":
            return Response(200, {"transitions": [{"id": i, "name": n} for i, n in TRANSITIONS]})
        if sub == "/transitions" and request.method == "POST":
            wanted = str(((_json(request) or {}).get("transition") or {}).get("id", ""))
            names = dict(TRANSITIONS)
            if wanted not in names:
                return _error(400, "Transition id is not valid.")
            issue["fields"]["status"] = {"name": names[wanted]}
            return Response(204)
        if not sub and request.method == "GET":
            return Response(200, _copy(issue))
        if not sub and request.method == "PUT":
            return self._update(issue, request)
        return _error(405, f"{request.method} is not allowed here.")

    def _update(self, issue: dict[str, Any], request: Request) -> Response:
        body = _json(request)
        if not isinstance(body, dict):
            return _error(400, "The request body is not JSON.")
        fields = body.get("fields") or {}
        problems = self._fields_problems(fields, EDIT_FIELDS) if isinstance(fields, dict) else {}
        comments = ((body.get("update") or {}).get("comment")) or []
        for operation in comments:
            added = (operation or {}).get("add") or {}
            if not _is_document(added.get("body")):
                problems["comment"] = "Comment body must be an Atlassian Document."
        if problems:
            return _error(400, None, **problems)
        issue["fields"].update(fields)
        for operation in comments:
            issue["fields"]["comment"]["comments"].append({"body": operation["add"]["body"]})
        return Response(204)

    def _search(self, request: Request) -> Response:
        body = _json(request)
        jql = str((body or {}).get("jql", "")) if isinstance(body, dict) else ""
        match = _JQL_KEYS.match(jql)
        if match is None:
            return _error(400, f"The emulator reads only 'key IN (...)' queries, not {jql!r}.")
        keys = [k.strip() for k in match[1].split(",") if k.strip()]
        found = [self._issues[k] for k in keys if k in self._issues]
        issues = [
            {
                "id": i["id"],
                "key": i["key"],
                "fields": {"status": i["fields"]["status"], "assignee": i["fields"]["assignee"]},
            }
            for i in found
        ]
        return Response(200, {"issues": issues})


def _account_id(email: str) -> str:
    return "acct-" + base64.b32encode(email.encode()).decode().strip("=").lower()[:16]


def _json(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


def _copy(issue: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(issue)


def document_text(document: Any) -> str:
    """The plain text of an Atlassian Document (paragraph texts joined by newlines)."""
    if not isinstance(document, dict):
        return str(document or "")
    parts = []
    for block in document.get("content", []):
        parts.append("".join(str(n.get("text", "")) for n in block.get("content", [])))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments(__doc__.split("\n")[0], 8444)
    parser.add_argument("--email", default="ce@example.com")
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    emulator = JiraEmulator({args.email: args.token}, **server_options(args))
    serve_until_interrupted(emulator.start(), "Jira emulator")


if __name__ == "__main__":
    main()
