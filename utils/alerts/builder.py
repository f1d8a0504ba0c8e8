"""CE alerts as plain dicts: stable namespaced ids, routing fields, flat ``rawData``.

Ids are derived only from what identifies the finding (never the pull time), so the same
finding gets the same id across pulls and restarts and CE's upsert dedupes it. ``rawData``
keys are flat strings/numbers a ServiceNow queue maps with ``$placeholders``; structured
values (reasons, policies, counts) are also given as compact JSON strings.

Every alert passes through ``make_alert``, so it is where alerts are made inert
(``utils/text.py``): the builders of each kind put attacker-written strings in as they
are, and what leaves is valid UTF-8, escaped, bounded and free of expandable ``$names``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..constants import ALERT_ID_NAMESPACE, APP_CATEGORY, APP_NAME, PLUGIN_NAME
from ..text import inert_alert
from .catalogue import SERVICENOW_SEVERITY, AlertKind


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def short_hash(*parts: Any, length: int = 16) -> str:
    return hashlib.sha256(compact_json(parts).encode("utf-8")).hexdigest()[:length]


def stored_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """An alert as kept in storage (JSON: the timestamp as ISO 8601), inert like any exit."""
    stamp = alert["timestamp"]
    kept = inert_alert(alert)
    kept["timestamp"] = stamp.isoformat() if isinstance(stamp, datetime) else stamp
    return kept


def loaded_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """An alert read back from storage (the timestamp as a datetime again)."""
    stamp = alert.get("timestamp")
    if isinstance(stamp, str):
        return {**alert, "timestamp": datetime.fromisoformat(stamp)}
    return alert


def alert_id(kind: AlertKind, *parts: str) -> str:
    """``aws-rsi:<kind>:<part>:...``: namespaced, stable, readable in CE's alert list."""
    return ":".join((ALERT_ID_NAMESPACE, kind.key, *parts))


def make_alert(
    kind: AlertKind,
    *,
    id_parts: tuple[str, ...],
    timestamp: datetime,
    user: str | None,
    severity: str,
    description: str,
    raw: Mapping[str, Any],
    status: str = "new",
) -> dict[str, Any]:
    """One alert with the catalogue's words and the fields every alert carries."""
    raw_data: dict[str, Any] = {
        "severity": severity,
        "servicenow_severity": SERVICENOW_SEVERITY.get(severity, "3"),
        "status": status,
        "finding_code": kind.code,
        "title": kind.title,
        "description": description,
        "remediation": kind.remediation,
        "vendor_product": PLUGIN_NAME,
    }
    raw_data.update({k: v for k, v in raw.items() if v is not None})
    return inert_alert(
        {
            "id": alert_id(kind, *id_parts),
            "alertName": kind.title,
            "alertType": kind.alert_type,
            "type": kind.code,
            "app": APP_NAME,
            "appCategory": APP_CATEGORY,
            "user": user,
            "timestamp": timestamp,
            "rawData": raw_data,
        }
    )
