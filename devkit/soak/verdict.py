"""The disturbed run against the reference: CE's alert store and what Splunk received
compared, then the verdict, the list of failures (empty when the soak passes)."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devkit.bson_size import MONGODB_DOCUMENT_LIMIT
from devkit.soak import poison
from devkit.soak.options import SECTION_BOUNDS, SoakOptions
from devkit.soak.runs import RunState
from devkit.soak.world import World
from devkit.store import AlertStore


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# Values an activity window samples in the order events are processed (the first few source
# IPs, Regions, user agents, keys, event ids): the same events read in another order give other
# samples. Content compared without them is the alert's "core".
SAMPLE_FIELDS = frozenset(
    {
        "source_ip",
        "src",
        "region",
        "vendor_region",
        "user_agent",
        "access_key_id",
        "sample_event_ids",
    }
)


def ce_content(row: Mapping[str, Any], observed_from: float, *, core: bool = False) -> str:
    """An alert's content for comparison across runs. Its timestamp counts unless it is an
    observation time (posture alerts carry the pull's clock, later than every trail event)."""
    data = {
        k: row.get(k)
        for k in ("alertName", "alertType", "type", "app", "appCategory", "user", "rawData")
    }
    if core:
        raw = dict(data.get("rawData") or {})
        data["rawData"] = {k: v for k, v in raw.items() if k not in SAMPLE_FIELDS}
    stamp = _epoch(row.get("timestamp"))
    if stamp is None or stamp < observed_from:
        data["timestamp"] = row.get("timestamp")
    return _digest(data)


def hec_content(record: Mapping[str, Any], observed_from: float, *, core: bool = False) -> str:
    event = dict(record.get("event") or {})
    event.pop("alert_version", None)
    if core:
        event = {k: v for k, v in event.items() if k not in SAMPLE_FIELDS}
    data: dict[str, Any] = {"event": event}
    stamp = _epoch(record.get("time"))
    if stamp is None or stamp < observed_from:
        data["time"] = record.get("time")
    return _digest(data)


@dataclass(frozen=True)
class Received:
    """One event as Splunk received it."""

    alert_id: str
    version: str
    content: str
    core: str
    kind: str


@dataclass
class Collected:
    """What a run left behind: CE's alert store and what Splunk received."""

    ce: dict[str, str]  # id -> content
    ce_core: dict[str, str]  # id -> content without order-dependent samples
    ce_exact: dict[str, str]  # id -> content including observation times
    ce_types: dict[str, str]
    splunk: list[Received]  # in arrival order
    ce_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> flat fields
    splunk_last: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> last event


def collect(run: RunState, world: World, observed_from: float) -> Collected:
    store = AlertStore(run.state / "alerts.sqlite")
    try:
        rows = store.all()
    finally:
        store.close()
    events = [e for e in world.hec.events if (e.get("event") or {}).get("type") == "alert"]
    with (run.directory / "splunk_events.jsonl").open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event, sort_keys=True, default=str) + "\n")
    return Collected(
        ce={r["id"]: ce_content(r, observed_from) for r in rows},
        ce_core={r["id"]: ce_content(r, observed_from, core=True) for r in rows},
        ce_exact={r["id"]: ce_content(r, math.inf) for r in rows},
        ce_types={r["id"]: r["type"] for r in rows},
        ce_fields={r["id"]: _flat(r) for r in rows},
        splunk_last={str(e["event"].get("id")): dict(e["event"]) for e in events},
        splunk=[
            Received(
                str(e["event"].get("id")),
                str(e["event"].get("alert_version")),
                hec_content(e, observed_from),
                hec_content(e, observed_from, core=True),
                str(e["event"].get("signature_id")),
            )
            for e in events
        ],
    )


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    fields = {k: row.get(k) for k in ("alertName", "alertType", "type", "user", "timestamp")}
    fields.update(row.get("rawData") or {})
    return fields


def _differing(
    ids: Sequence[str],
    left: Mapping[str, Mapping[str, Any]],
    right: Mapping[str, Mapping[str, Any]],
) -> dict[str, int]:
    """Which fields differ, counted over ``ids`` (why two versions of an alert differ)."""
    counts: Counter[str] = Counter()
    ignored = {"alert_version", "timestamp", "description"}
    for alert_id in ids:
        a, b = left.get(alert_id) or {}, right.get(alert_id) or {}
        counts.update(k for k in set(a) | set(b) if k not in ignored and a.get(k) != b.get(k))
    return dict(counts.most_common(12))


def splunk_figures(splunk: Sequence[Received]) -> dict[str, Any]:
    pairs = Counter((r.alert_id, r.version) for r in splunk)
    kinds = {r.alert_id: r.kind for r in splunk}
    versions_by_id: dict[str, set[str]] = defaultdict(set)
    contents_by_id: dict[str, set[str]] = defaultdict(set)
    for r in splunk:
        versions_by_id[r.alert_id].add(r.version)
        contents_by_id[r.alert_id].add(r.content)
    return {
        "events": len(splunk),
        "unique_ids": len(versions_by_id),
        "unique_id_versions": len(pairs),
        "duplicates_raw": len(splunk) - len(pairs),
        "duplicated_id_versions": sum(1 for n in pairs.values() if n > 1),
        "max_copies": max(pairs.values(), default=0),
        # Same content under another alert_version: `dedup id alert_version` keeps both.
        "same_content_new_version": sum(
            len(versions_by_id[i]) - len(contents_by_id[i]) for i in versions_by_id
        ),
        "same_content_new_version_by_type": dict(
            Counter(
                kinds[i] for i in versions_by_id if len(versions_by_id[i]) > len(contents_by_id[i])
            )
        ),
    }


def _withdrawn(run: Collected, alert_id: str) -> bool:
    """An activity or spoofing alert the run re-sent ``resolved``: a trust-policy change read
    after it showed the role enforced the rule when the session was created (assumed)."""
    return (
        run.ce_types.get(alert_id) in ("noncompliant_role_activity", "session_name_spoofing")
        and run.ce_fields.get(alert_id, {}).get("status") == "resolved"
    )


def compare(
    reference: Collected, disturbed: Collected, save_gap: Collection[str] = ()
) -> dict[str, Any]:
    """Disturbed against reference. ``save_gap``: ids of pulls killed after CE saved their
    storage but before it stored their alerts (CE's window, not the plugin's)."""
    gap = set(save_gap)
    ref_ce, dis_ce = reference.ce, disturbed.ce
    ce_missing = sorted(set(ref_ce) - set(dis_ce))
    ce_extra = sorted(set(dis_ce) - set(ref_ce))
    # Raised with what was known then, withdrawn (re-sent ``resolved``) once a trust-policy
    # change read later showed the role enforced the rule: the plugin corrected itself.
    ce_withdrawn = [i for i in ce_extra if _withdrawn(disturbed, i)]
    ce_extra = [i for i in ce_extra if not _withdrawn(disturbed, i)]
    # The mirror: the reference raised and later withdrew what the disturbed run, knowing
    # the change in time, never raised. Both end with no finding standing.
    ce_unraised = [i for i in ce_missing if _withdrawn(reference, i)]
    ce_missing = [i for i in ce_missing if not _withdrawn(reference, i)]

    ce_changed = sorted(i for i in set(ref_ce) & set(dis_ce) if ref_ce[i] != dis_ce[i])
    ce_order_only = [i for i in ce_changed if reference.ce_core[i] == disturbed.ce_core[i]]
    ce_observation_only = sum(
        1
        for i in set(ref_ce) & set(dis_ce)
        if ref_ce[i] == dis_ce[i] and reference.ce_exact[i] != disturbed.ce_exact[i]
    )

    def last(splunk: Sequence[Received]) -> dict[str, Received]:
        return {r.alert_id: r for r in splunk}

    ref_final = last(reference.splunk)
    ref_pairs = {(r.alert_id, r.content) for r in reference.splunk}
    dis_pairs = {(r.alert_id, r.content) for r in disturbed.splunk}
    received: dict[str, set[str]] = defaultdict(set)
    received_core: dict[str, set[str]] = defaultdict(set)
    for r in disturbed.splunk:
        received[r.alert_id].add(r.content)
        received_core[r.alert_id].add(r.core)
    missing_ids = sorted(set(ref_final) - set(received) - set(ce_unraised))
    missing_final = sorted(
        i for i, r in ref_final.items() if i in received and r.content not in received[i]
    )
    final_order_only = [i for i in missing_final if ref_final[i].core in received_core[i]]
    not_received = ref_pairs - dis_pairs
    coalesced = [
        (i, c) for i, c in not_received if i in received and ref_final[i].content in received[i]
    ]
    phantom = sorted(dis_pairs - ref_pairs)
    kinds = {r.alert_id: r.kind for r in (*reference.splunk, *disturbed.splunk)}
    ref_unsent = sorted(set(ref_ce) - set(ref_final))
    dis_unsent = sorted(set(dis_ce) - {r.alert_id for r in disturbed.splunk})
    return {
        "ce": {
            "reference_alerts": len(ref_ce),
            "alerts": len(dis_ce),
            "missing": len(ce_missing),
            "extra": len(ce_extra),
            "extra_withdrawn": len(ce_withdrawn),
            "missing_withdrawn_in_reference": len(ce_unraised),
            "alerts_withdrawn": {
                "reference": sum(_withdrawn(reference, i) for i in reference.ce),
                "disturbed": sum(_withdrawn(disturbed, i) for i in disturbed.ce),
            },
            "content_differs": len(ce_changed),
            "differs_in_samples_only": len(ce_order_only),
            "observation_time_differs": ce_observation_only,
            "missing_in_save_gap": sum(1 for i in ce_missing if i in gap),
            "differs_in_save_gap": sum(1 for i in ce_changed if i in gap),
            "missing_by_type": dict(Counter(reference.ce_types[i] for i in ce_missing)),
            "missing_outside_save_gap_by_type": dict(
                Counter(reference.ce_types[i] for i in ce_missing if i not in gap)
            ),
            "differing_fields_outside_save_gap": _differing(
                [i for i in ce_changed if i not in gap and i not in set(ce_order_only)],
                reference.ce_fields,
                disturbed.ce_fields,
            ),
            "extra_by_type": dict(Counter(disturbed.ce_types[i] for i in ce_extra)),
            "differs_by_type": dict(Counter(reference.ce_types[i] for i in ce_changed)),
            "examples": {
                "missing": ce_missing[:10],
                "extra": ce_extra[:10],
                "extra_withdrawn": ce_withdrawn[:10],
                "missing_withdrawn_in_reference": ce_unraised[:10],
                "content_differs": ce_changed[:10],
            },
        },
        "splunk": {
            "reference": splunk_figures(reference.splunk),
            "disturbed": splunk_figures(disturbed.splunk),
            "ce_ids_never_sent_reference": len(ref_unsent),
            "ce_ids_never_sent": len(dis_unsent),
            "missing_ids": len(missing_ids),
            "missing_final_versions": len(missing_final),
            "final_differs_in_samples_only": len(final_order_only),
            "missing_final_by_type": dict(Counter(kinds[i] for i in missing_final)),
            "missing_final_differing_fields": _differing(
                [i for i in missing_final if i not in set(final_order_only)],
                reference.splunk_last,
                disturbed.splunk_last,
            ),
            "versions_not_received": len(not_received),
            "coalesced_intermediate_versions": len(coalesced),
            "phantom_versions": len(phantom),
            "phantom_by_type": dict(Counter(kinds.get(i, "?") for i, _c in phantom)),
            "examples": {
                "missing_ids": missing_ids[:10],
                "missing_final_versions": missing_final[:10],
                "phantom_versions": [i for i, _c in phantom[:10]],
            },
        },
    }


def verdict(
    comparison: Mapping[str, Any], disturbed: Mapping[str, Any], options: SoakOptions, index_mb: int
) -> list[str]:
    """Every failed check, in words (empty: the soak passed)."""
    failures: list[str] = []
    ce = comparison["ce"]
    splunk = comparison["splunk"]
    lost_gap, stale_gap = ce["missing_in_save_gap"], ce["differs_in_save_gap"]
    if ce["missing"] - lost_gap:
        failures.append(
            f"CE alerts missing: {ce['missing'] - lost_gap} "
            f"({ce['missing_outside_save_gap_by_type']})"
        )
    if ce["extra"]:
        failures.append(
            f"CE alerts the reference does not have: {ce['extra']} ({ce['extra_by_type']})"
        )
    samples_only = ce["differs_in_samples_only"]
    other = ce["content_differs"] - stale_gap - samples_only
    if other > 0:
        failures.append(
            f"CE alerts whose content differs: {other} (fields: "
            f"{ce['differing_fields_outside_save_gap']})"
        )
    if samples_only:
        failures.append(
            f"CE alerts differing only in samples taken in processing order: {samples_only}"
        )
    if lost_gap or stale_gap:
        failures.append(
            f"CE lost {lost_gap} alerts and kept {stale_gap} out of date: pulls killed after CE "
            "saved their storage and before it stored their alerts (CE's save->upsert window)"
        )
    if splunk["ce_ids_never_sent"]:
        failures.append(
            f"CE alerts Splunk never received: {splunk['ce_ids_never_sent']} (reference run: "
            f"{splunk['ce_ids_never_sent_reference']})"
        )
    if splunk["missing_ids"]:
        failures.append(f"alert ids Splunk never received: {splunk['missing_ids']}")
    final_samples = splunk["final_differs_in_samples_only"]
    if splunk["missing_final_versions"] - final_samples:
        failures.append(
            "alerts whose final version Splunk never received: "
            f"{splunk['missing_final_versions'] - final_samples} (fields: "
            f"{splunk['missing_final_differing_fields']})"
        )
    if final_samples:
        failures.append(
            f"alerts whose final version reached Splunk only with other samples: {final_samples}"
        )
    # Versions the reference never produced come from pull boundaries that moved: a pull
    # saved with unread objects, or (SQS) a killed pull's messages read a pull or two later.
    reordered = disturbed["pulls_with_unread_objects"] or (
        options.source == "sqs" and disturbed["kills"]
    )
    if splunk["phantom_versions"] and not reordered:
        failures.append(
            f"Splunk versions the reference never produced: {splunk['phantom_versions']} "
            f"({splunk['phantom_by_type']})"
        )
    totals = disturbed["outbox_totals"]
    dropped = sum(v for k, v in totals.items() if k.startswith("dropped"))
    if dropped:
        failures.append(f"the outbox dropped {dropped} events (reported by the plugin): {totals}")
    if disturbed["storage_max_bytes"] > options.storage_budget_bytes:
        failures.append(
            f"storage.json reached {disturbed['storage_max_bytes']} bytes, over the "
            f"{options.storage_budget_bytes}-byte budget"
        )
    if disturbed.get("storage_bson_max_bytes", 0) > MONGODB_DOCUMENT_LIMIT:
        failures.append(
            f"storage as BSON reached {disturbed['storage_bson_max_bytes']} bytes, over "
            f"MongoDB's {MONGODB_DOCUMENT_LIMIT}-byte document limit (CE could not save it)"
        )
    bounds = {**SECTION_BOUNDS, "index": index_mb * 1024 * 1024}
    for section, bound in bounds.items():
        size = disturbed["storage_section_max_bytes"].get(section, 0)
        if size > bound:
            failures.append(f"storage section '{section}' reached {size} bytes (bound {bound})")
    if disturbed["timeouts"]:
        failures.append(f"{disturbed['timeouts']} pull attempts hung past the timeout")
    # With the queue's redrive policy the reader leaves what it cannot process to the queue
    # (and its dead-letter queue): only those messages may be there at the end.
    failures += poison.queue_failures(
        disturbed.get("queue_left") or {}, disturbed.get("poison_left_reported") or ()
    )
    return failures
