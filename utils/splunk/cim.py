"""Our CE alert as a Splunk HEC envelope whose event follows the CIM *Alerts* data model.

Splunk ES searches and dashboards read CIM field names, so the event carries the Alerts
model's fields (``app, description, dest, id, severity, signature, signature_id, src, type,
user`` and the optional ``dest_type, user_name, vendor_account, vendor_region``) next to every
``rawData`` key of the alert, flat, so an analyst sees the whole finding in one event.

Choices worth knowing:

- ``type`` is the CIM's prescribed ``"alert"``; our finding code (the alert's ``type``) is
  ``signature_id`` and the human title (``alertName``) is ``signature``.
- ``severity`` is CE's value when it is one of the CIM's prescribed values (CE's set is a
  subset), otherwise ``unknown``.
- A ``rawData`` key that collides with a CIM or envelope-level field keeps its value under
  ``raw_<key>`` when the two differ, so nothing the builder wrote is lost.
- ``alert_version`` fingerprints the event Splunk receives (not its time): the same finding
  re-sent after a crash has the same ``id`` and ``alert_version`` (``dedup id alert_version``
  removes the copy), a finding whose content changed has a new one.
- The alert is made inert again (``utils/text.py``; idempotent) and the envelope is bounded
  to ``CAPS.hec_event_bytes`` of JSON: when a finding is larger (a long trust policy),
  its longest strings are cut to one common length, marked, and the CE alert keeps them
  whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ..constants import PLUGIN_ID
from ..text import CAPS, bound_json_bytes, inert_alert

DEFAULT_SOURCETYPE: Final = "netskope:ce:aws:rolesession"
DEFAULT_SOURCE: Final = f"netskope_ce:{PLUGIN_ID}"
VENDOR_PRODUCT: Final = "Netskope Cloud Exchange AWS Role Session Identity"
CIM_SEVERITIES: Final = frozenset({"critical", "high", "medium", "low", "informational"})

# CIM field -> rawData keys it is read from (first non-empty wins). The alert builder's key
# names are the contract; the alternatives tolerate an older spelling.
CIM_FROM_RAW: Final[Mapping[str, tuple[str, ...]]] = {
    "dest": ("role_arn", "dest"),
    "src": ("source_ip", "src"),
    "user_name": ("origin_user_name", "user_name"),
    "vendor_account": ("account_id", "account"),
    "vendor_region": ("region", "aws_region"),
    "mitre_technique_id": ("mitre_technique_id",),
}


def alert_epoch(timestamp: Any) -> float:
    """The alert's time as HEC's ``time`` (epoch seconds, millisecond precision).

    Accepts what an alert dict may hold: a datetime (naive means UTC, as CE stores it), an
    ISO 8601 string (``Z`` allowed) or a number of epoch seconds.
    """
    if isinstance(timestamp, bool):
        raise TypeError("alert timestamp must be a datetime, an ISO 8601 string or a number")
    if isinstance(timestamp, int | float):
        return round(float(timestamp), 3)
    moment: datetime | None = None
    if isinstance(timestamp, str):
        moment = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    elif isinstance(timestamp, datetime):
        moment = timestamp
    if moment is not None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return round(moment.timestamp(), 3)
    raise TypeError("alert timestamp must be a datetime, an ISO 8601 string or a number")


def fingerprint(value: Any) -> str:
    """A short stable hash of JSON-able content (key order and whitespace do not matter)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def cim_severity(value: Any) -> str:
    severity = str(value or "").strip().lower()
    return severity if severity in CIM_SEVERITIES else "unknown"


def _first(raw: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = raw.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def cim_event(alert: Mapping[str, Any]) -> dict[str, Any]:
    """The HEC ``event`` for one alert: CIM Alerts fields, our own fields, then rawData."""
    alert = inert_alert(alert)
    raw: Mapping[str, Any] = alert.get("rawData") or {}
    fields: dict[str, Any] = {
        "id": alert["id"],
        "app": alert.get("app") or "AWS",
        "type": "alert",
        "severity": cim_severity(raw.get("severity")),
        "signature": alert["alertName"],
        "signature_id": alert["type"],
        "description": raw.get("description") or alert["alertName"],
        "user": alert.get("user"),
        "alert_name": alert["alertName"],
        "alert_type": alert["alertType"],
        "app_category": alert.get("appCategory"),
        "vendor_product": VENDOR_PRODUCT,
    }
    for cim_field, keys in CIM_FROM_RAW.items():
        fields[cim_field] = _first(raw, keys)
    if raw.get("role_arn"):
        fields["dest_type"] = "aws_iam_role"
    event = {key: value for key, value in fields.items() if value is not None}
    for key, value in raw.items():
        if key not in event:
            event[key] = value
        elif event[key] != value:
            event[f"raw_{key}"] = value
    return event


def to_envelope(
    alert: Mapping[str, Any],
    *,
    index: str = "",
    sourcetype: str = DEFAULT_SOURCETYPE,
    source: str = DEFAULT_SOURCE,
    host: str | None = None,
    max_bytes: int = CAPS.hec_event_bytes,
) -> dict[str, Any]:
    """The HEC envelope ``{time, host, source, sourcetype, index, event}`` for one alert,
    at most ``max_bytes`` of JSON (see the module docstring).

    An empty ``index`` (or ``host``) is left out so HEC applies the token's default.
    """
    event = cim_event(alert)
    envelope: dict[str, Any] = {"time": alert_epoch(alert["timestamp"])}
    if host:
        envelope["host"] = host
    envelope["source"] = source
    envelope["sourcetype"] = sourcetype or DEFAULT_SOURCETYPE
    if index:
        envelope["index"] = index
    envelope["event"] = _bounded(event, envelope, max_bytes)
    # The version fingerprints the finding's content, not the moment it was (re)observed: a
    # finding re-sent after a lost save is the same version even if re-stamped.
    envelope["event"]["alert_version"] = fingerprint({"event": envelope["event"]})
    return envelope


_VERSION_ROOM: Final = len(',"alert_version":""') + 16


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


def _bounded(event: dict[str, Any], envelope: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    """``event`` with its longest strings cut until the envelope fits ``max_bytes``."""
    for _ in range(3):  # a second round only when a cut met the minimum length
        excess = _size({**envelope, "event": event}) + _VERSION_ROOM - max_bytes
        if excess <= 0:
            break
        strings = sum(_size(v) - 2 for v in event.values() if isinstance(v, str))
        event = bound_json_bytes(event, max(0, strings - excess))
    return event


def envelope_version(envelope: Mapping[str, Any]) -> str:
    """The content version of an envelope (``alert_version``, or a fingerprint of it)."""
    event = envelope.get("event")
    if isinstance(event, Mapping) and isinstance(event.get("alert_version"), str):
        return str(event["alert_version"])
    return fingerprint({"event": event})


__all__ = [
    "CIM_FROM_RAW",
    "DEFAULT_SOURCE",
    "DEFAULT_SOURCETYPE",
    "alert_epoch",
    "cim_event",
    "cim_severity",
    "envelope_version",
    "fingerprint",
    "to_envelope",
]
