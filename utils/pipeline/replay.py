"""Return the previous pull's alerts once more, so CE's own save window cannot lose them.

CE saves a plugin's storage and checkpoint when ``pull_alerts`` returns, *then* upserts the
returned alerts: a CE process that dies between the two writes keeps the new checkpoint and
loses that pull's alerts - and nothing would ever produce them again. Each pull therefore
also returns the alerts the previous pull returned (CE upserts by id, so a repeat is a
no-op; the plugin already re-emits ids when findings change). Kept in ``storage["replay"]``
within ``REPLAY_MAX_BYTES``, most severe first; what does not fit is counted.
"""

from __future__ import annotations

import json
from typing import Any

from ..alerts.builder import loaded_alert, stored_alert
from ..alerts.catalogue import SEVERITY_ORDER

REPLAY_MAX_BYTES = 500_000


def _rank(alert: dict[str, Any]) -> int:
    severity = str(alert.get("rawData", {}).get("severity", "medium"))
    return -SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -2


def with_replay(alerts: list[dict[str, Any]], section: dict[str, Any]) -> list[dict[str, Any]]:
    """This pull's alerts plus the previous pull's; remembers this pull's for the next."""
    fresh = {alert["id"] for alert in alerts}
    previous = [
        loaded_alert(a)
        for a in section.get("alerts", [])
        if isinstance(a, dict) and a.get("id") not in fresh
    ]
    kept: list[dict[str, Any]] = []
    size = 0
    for alert in sorted(alerts, key=_rank):
        entry = stored_alert(alert)
        size += len(json.dumps(entry, separators=(",", ":"), default=str))
        if size > REPLAY_MAX_BYTES:
            break
        kept.append(entry)
    section["alerts"] = kept
    section["not_replayable"] = len(alerts) - len(kept)
    return alerts + previous
