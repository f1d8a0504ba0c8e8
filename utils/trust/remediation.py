"""The minimal corrected trust policy and the AWS CLI command that applies it.

The correction touches only the statements the evaluator named: it replaces whatever
session-name conditions they carry with ``StringEquals sts:RoleSessionName ${aws:username}``
(keeping every other condition), and sets ``Version`` to 2012-10-17 so the variable is
substituted. A statement that also trusts Service, Federated or CanonicalUser principals is
split: those principals keep the original statement, unchanged, and the AWS principals move to
a copy with the condition, so services keep working. Everything else is left as it was.

``sts:ExternalId`` values are masked in what this module returns: trust policies of audit
roles carry the plugin's own External ID, which must never reach an alert, ticket or log. A
masked command is fail-closed (it would set a different External ID, never open the role);
the caller states that the value must be put back before running it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection, Mapping
from typing import Any, Final

from ..redaction import MASK
from .policy import VERSION_2012

SESSION_NAME_KEY: Final = "sts:RoleSessionName"
USERNAME_VARIABLE: Final = "${aws:username}"
EXTERNAL_ID_KEY: Final = "sts:externalid"


def _with_session_condition(statement: dict[str, Any]) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    for operator, block in (statement.get("Condition") or {}).items():
        kept = {k: v for k, v in block.items() if k.casefold() != SESSION_NAME_KEY.casefold()}
        if kept:
            conditions[operator] = kept
    conditions.setdefault("StringEquals", {})[SESSION_NAME_KEY] = USERNAME_VARIABLE
    statement["Condition"] = conditions
    return statement


def _unique_sid(base: str, taken: set[str]) -> str:
    candidate, counter = f"{base}UserSession", 2
    while candidate in taken:
        candidate, counter = f"{base}UserSession{counter}", counter + 1
    taken.add(candidate)
    return candidate


def corrected_document(document: Mapping[str, Any], statements: Collection[int]) -> dict[str, Any]:
    """``document`` with the session-name condition on the statements at ``statements``."""
    # A JSON round trip copies a JSON document several times faster than copy.deepcopy.
    original: dict[str, Any] = json.loads(json.dumps(document))
    raw = original.get("Statement", [])
    single = isinstance(raw, Mapping)
    items: list[Any] = [raw] if single else list(raw)
    taken = {s["Sid"] for s in items if isinstance(s, Mapping) and isinstance(s.get("Sid"), str)}
    fixed: list[Any] = []
    for index, statement in enumerate(items):
        if index not in statements:
            fixed.append(statement)
            continue
        principal = statement.get("Principal")
        if isinstance(principal, Mapping) and "AWS" in principal and len(principal) > 1:
            others = dict(statement)
            others["Principal"] = {k: v for k, v in principal.items() if k != "AWS"}
            aws_only = dict(statement)
            aws_only["Principal"] = {"AWS": principal["AWS"]}
            if statement.get("Sid"):
                aws_only["Sid"] = _unique_sid(str(statement["Sid"]), taken)
            fixed.extend((others, _with_session_condition(aws_only)))
        else:
            fixed.append(_with_session_condition(dict(statement)))
    result: dict[str, Any] = {"Version": VERSION_2012}
    result.update((k, v) for k, v in original.items() if k != "Version")
    result["Statement"] = fixed[0] if single and len(fixed) == 1 else fixed
    return result


def mask_external_ids(document: Any) -> tuple[Any, bool]:
    """A copy of ``document`` with every ``sts:ExternalId`` condition value masked."""
    masked = False

    def walk(node: Any, in_condition: bool) -> Any:
        nonlocal masked
        if isinstance(node, Mapping):
            result: dict[str, Any] = {}
            for key, value in node.items():
                if in_condition and isinstance(value, Mapping):
                    block = {}
                    for cond_key, cond_value in value.items():
                        if str(cond_key).casefold() == EXTERNAL_ID_KEY:
                            masked = True
                            block[cond_key] = (
                                [MASK for _ in cond_value] if isinstance(cond_value, list) else MASK
                            )
                        else:
                            block[cond_key] = cond_value
                    result[key] = block
                else:
                    result[key] = walk(value, key == "Condition")
            return result
        if isinstance(node, list):
            return [walk(item, False) for item in node]
        return node

    return walk(document, False), masked


def compact_json(document: Mapping[str, Any]) -> str:
    """The policy as the AWS CLI takes it: one line, no spaces."""
    return json.dumps(document, separators=(",", ":"))


def update_command(role_name: str, document: Mapping[str, Any]) -> str:
    """``aws iam update-assume-role-policy`` for ``role_name``, safely shell-quoted."""
    return (
        f"aws iam update-assume-role-policy --role-name {shlex.quote(role_name)} "
        f"--policy-document {shlex.quote(compact_json(document))}"
    )
