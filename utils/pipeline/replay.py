"""Return the previous pull's alerts once more, so CE's own save window cannot lose them.

CE saves a plugin's storage and checkpoint when ``pull_alerts`` returns, *then* upserts the
returned alerts: a CE process that dies between the two writes keeps the new checkpoint and
loses that pull's alerts - and nothing would ever produce them again. Each pull therefore
also returns the alerts the previous pull returned (CE upserts by id, so a repeat is a
no-op; the plugin already re-emits ids when findings change).

They are kept in ``storage["replay"]`` as one compressed blob (zlib, base64: alerts of one
pull repeat most of their keys and values, so a full pull of 1,000 alerts takes a few
hundred kB instead of a few MB) within ``REPLAY_MAX_BYTES``; when a pull's alerts do not
fit, the most severe are kept and the rest are counted in ``not_replayable``.
"""

from __future__ import annotations

import json
from typing import Any

from ..alerts.builder import loaded_alert, stored_alert
from ..alerts.catalogue import SEVERITY_ORDER
from ..compact import pack, unpack

REPLAY_MAX_BYTES = 750_000  # the encoded blob
_FORMAT = "zlib+base64/json"


def _rank(alert: dict[str, Any]) -> int:
    severity = str(alert.get("rawData", {}).get("severity", "medium"))
    return -SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -2


def encode_alerts(entries: list[dict[str, Any]]) -> str:
    return pack(json.dumps(entries, separators=(",", ":"), default=str).encode())


def decode_alerts(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts a section keeps; a blob that cannot be read counts as none (nothing else
    depends on it: it only closes CE's save window once)."""
    blob = section.get("blob")
    if not isinstance(blob, str) or section.get("format") != _FORMAT:
        return []
    raw = unpack(blob)
    try:
        entries = json.loads(raw) if raw is not None else []
    except ValueError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _fitting(entries: list[dict[str, Any]], budget: int) -> tuple[str, int]:
    """The blob of the longest prefix of ``entries`` (most severe first) within ``budget``."""
    count = len(entries)
    blob = encode_alerts(entries)
    while len(blob) > budget and count:
        count = min(count - 1, int(count * budget / len(blob) * 0.95))
        blob = encode_alerts(entries[:count])
    return blob, count


def with_replay(alerts: list[dict[str, Any]], section: dict[str, Any]) -> list[dict[str, Any]]:
    """This pull's alerts plus the previous pull's; remembers this pull's for the next."""
    fresh = {alert["id"] for alert in alerts}
    previous = [loaded_alert(a) for a in decode_alerts(section) if a.get("id") not in fresh]
    entries = [stored_alert(alert) for alert in sorted(alerts, key=_rank)]
    blob, kept = _fitting(entries, REPLAY_MAX_BYTES)
    section["format"] = _FORMAT
    section["blob"] = blob
    section["count"] = kept
    section["not_replayable"] = len(alerts) - kept
    return alerts + previous
