"""At most ``Maximum Alerts per Pull`` alerts per pull; the rest waits, nothing vanishes.

When a pull finds more, the most severe go first, the excess is kept in a bounded backlog in
storage for the next pulls, and one ``alert_volume_capped`` alert counts what was deferred
(and, if the backlog itself overflowed, dropped - by kind) so the cut is never silent.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .builder import loaded_alert, make_alert, stored_alert
from .catalogue import SEVERITY_ORDER, VOLUME_CAPPED

BACKLOG_FACTOR = 5  # the backlog holds up to five pulls' worth of alerts...
BACKLOG_MAX_BYTES = 1_000_000  # ...and at most this much of CE's storage document


@dataclass
class Capped:
    alerts: list[dict[str, Any]]
    deferred: int
    dropped: int


def _rank(alert: dict[str, Any]) -> int:
    severity = str(alert.get("rawData", {}).get("severity", "medium"))
    return -SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -2


def cap_alerts(
    alerts: list[dict[str, Any]], section: dict[str, Any], limit: int, now: datetime
) -> Capped:
    """This pull's alerts within ``limit`` (backlog first), the excess deferred."""
    waiting = [loaded_alert(a) for a in section.get("alerts", []) if isinstance(a, dict)]
    fresh_ids = {a["id"] for a in alerts}
    pool = [a for a in waiting if a.get("id") not in fresh_ids] + alerts
    if len(pool) <= limit:
        section["alerts"] = []
        return Capped(pool, 0, 0)
    keep = limit - 1  # one slot for the summary
    ordered = sorted(pool, key=_rank)
    sent, rest = ordered[:keep], ordered[keep:]
    stored: list[dict[str, Any]] = []
    size = 0
    for alert in rest[: limit * BACKLOG_FACTOR]:
        entry = stored_alert(alert)
        size += len(json.dumps(entry, separators=(",", ":"), default=str))
        if size > BACKLOG_MAX_BYTES:
            break
        stored.append(entry)
    backlog, dropped = rest[: len(stored)], rest[len(stored) :]
    section["alerts"] = stored
    deferred_kinds = Counter(str(a.get("type")) for a in backlog)
    dropped_kinds = Counter(str(a.get("type")) for a in dropped)
    description = (
        f"{len(pool)} alerts were due but Maximum Alerts per Pull is {limit}: {len(backlog)} "
        f"are deferred to the next pulls ({_counts(deferred_kinds)})"
        + (f" and {len(dropped)} were dropped ({_counts(dropped_kinds)})" if dropped else "")
        + "."
    )
    summary = make_alert(
        VOLUME_CAPPED,
        id_parts=(now.strftime("%Y%m%dT%H%M%SZ"),),
        timestamp=now,
        user=None,
        severity=VOLUME_CAPPED.default_severity if not dropped else "medium",
        description=description,
        raw={
            "alerts_due": len(pool),
            "deferred": len(backlog),
            "dropped": len(dropped),
            "deferred_by_kind": _counts(deferred_kinds),
            "dropped_by_kind": _counts(dropped_kinds),
            "dropped_ids": ", ".join(a["id"] for a in dropped[:20]),
        },
    )
    return Capped([*sent, summary], len(backlog), len(dropped))


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counter.items())) or "none"
