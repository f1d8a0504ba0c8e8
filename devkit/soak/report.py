"""A run's figures and the summary table printed at the end of a soak."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from devkit import soak_hostile
from devkit.soak.runs import Attempt, RunState, read_storage


def run_figures(run: RunState) -> dict[str, Any]:
    attempts = run.attempts
    ok = [a for a in attempts if a.outcome == "ok"]
    killed = [a for a in attempts if a.outcome == "killed"]
    exposures = [a.exposure for a in ok if a.exposure is not None]
    durations = [a.seconds for a in ok]
    storage = read_storage(run)
    outbox = storage.get("outbox") or {}
    return {
        "pulls": len(ok),
        "attempts": len(attempts),
        "kills": len(killed),
        "kills_by_trigger": dict(Counter(str(a.kill_plan) for a in killed)),
        "kills_by_phase": dict(Counter(str(a.phase) for a in killed)),
        "kill_triggers_not_reached": sum(
            1 for a in attempts if a.kill_plan is not None and a.outcome != "killed"
        ),
        "failed_attempts": sum(a.outcome == "failed" for a in attempts),
        "timeouts": sum(a.outcome == "timeout" for a in attempts),
        "failure_examples": [a.error[-600:] for a in attempts if a.outcome == "failed"][:3],
        "hec_faults_injected": sum(a.hec_faults for a in attempts),
        "hec_faults_by_kind": _sum_by(attempts, "hec_stretch", "hec_faults"),
        "s3_faults_injected": sum(a.s3_faults for a in attempts),
        "s3_faults_by_kind": _sum_by(attempts, "s3_stretch", "s3_faults"),
        "sqs_faults_injected": sum(a.sqs_faults for a in attempts),
        "sqs_faults_by_kind": _sum_by(attempts, "sqs_stretch", "sqs_faults"),
        "attempts_in_hec_stretches": sum(a.hec_stretch is not None for a in attempts),
        "attempts_in_s3_stretches": sum(a.s3_stretch is not None for a in attempts),
        "attempts_in_sqs_stretches": sum(a.sqs_stretch is not None for a in attempts),
        "pulls_with_unread_objects": sum(1 for a in attempts if a.committed and a.objects_errored),
        "windows_judged_again": sum(a.windows_judged_again for a in attempts if a.committed),
        "objects_read": run.source_totals["objects_read"],
        "objects_errored": run.source_totals["objects_errored"],
        "events_read": run.source_totals["events"],
        "alerts_returned": run.pull_alerts,
        "resent_after_kill": sum(a.hec_accepted for a in killed if not a.committed),
        "storage_max_bytes": run.storage_max,
        "storage_bson_max_bytes": run.bson_max,
        "storage_final_bytes": run.storage_sizes[-1] if run.storage_sizes else 0,
        "storage_section_max_bytes": dict(sorted(run.section_max.items())),
        "outbox_totals": outbox.get("totals") or {},
        "outbox_pending_final": len(outbox.get("pending") or []),
        "pull_seconds_median": round(statistics.median(durations), 2) if durations else 0,
        "pull_seconds_max": round(max(durations), 2) if durations else 0,
        "exposure_seconds": _distribution(exposures),
        "exposure_share": round(sum(exposures) / sum(durations), 4) if durations else 0.0,
        "wall_seconds": run.seconds,
        "time_split_seconds": {
            "uploading_increments": round(run.upload_seconds, 1),
            "pull_attempts": round(sum(a.seconds for a in attempts), 1),
            "soak_bookkeeping": round(
                run.seconds - run.upload_seconds - sum(a.seconds for a in attempts), 1
            ),
        },
        "sabotaged": run.sabotaged,
        "queue_final": run.queue_final,
        "queue_left": run.queue_left,
        "poison_left_reported": sorted(run.poison_reported()),
        "sqs_calls": run.sqs_calls,
    }


def _sum_by(attempts: Sequence[Attempt], key: str, value: str) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for attempt in attempts:
        kind = getattr(attempt, key)
        if kind is not None:
            totals[kind] += getattr(attempt, value)
    return dict(totals)


def _distribution(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "median": round(statistics.median(ordered), 4),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4),
        "max": round(ordered[-1], 4),
    }


def print_summary(report: Mapping[str, Any], out: TextIO) -> None:
    ref, dis = report["reference"], report["disturbed"]
    cmp_ = report["comparison"]
    rows: list[tuple[str, Any, Any]] = [
        ("pulls (successful)", ref["pulls"], dis["pulls"]),
        ("pull attempts", ref["attempts"], dis["attempts"]),
        ("kills (SIGKILL)", ref["kills"], dis["kills"]),
        ("  by phase", "", _inline(dis["kills_by_phase"])),
        ("  by trigger", "", _inline(dis["kills_by_trigger"])),
        ("failed pulls (plugin raised)", ref["failed_attempts"], dis["failed_attempts"]),
        ("HEC faults injected", ref["hec_faults_injected"], dis["hec_faults_injected"]),
        ("  by stretch", "", _inline(dis["hec_faults_by_kind"])),
        ("S3 faults injected", ref["s3_faults_injected"], dis["s3_faults_injected"]),
        ("  by stretch", "", _inline(dis["s3_faults_by_kind"])),
        (
            "SQS faults injected",
            ref.get("sqs_faults_injected", 0),
            dis.get("sqs_faults_injected", 0),
        ),
        ("  by stretch", "", _inline(dis.get("sqs_faults_by_kind", {}))),
        ("trail objects read", ref["objects_read"], dis["objects_read"]),
        (
            "pulls saved with unread objects",
            ref["pulls_with_unread_objects"],
            dis["pulls_with_unread_objects"],
        ),
        ("CloudTrail events read", ref["events_read"], dis["events_read"]),
        ("CE alerts (unique ids)", cmp_["ce"]["reference_alerts"], cmp_["ce"]["alerts"]),
        ("CE alerts missing / extra", "-", f"{cmp_['ce']['missing']} / {cmp_['ce']['extra']}"),
        ("  extra, withdrawn by a late trust change", "-", cmp_["ce"].get("extra_withdrawn", 0)),
        (
            "  missing, withdrawn in the reference",
            "-",
            cmp_["ce"].get("missing_withdrawn_in_reference", 0),
        ),
        (
            "alerts withdrawn (late trust change)",
            cmp_["ce"].get("alerts_withdrawn", {}).get("reference", 0),
            cmp_["ce"].get("alerts_withdrawn", {}).get("disturbed", 0),
        ),
        (
            "activity windows judged again (late trust change)",
            ref.get("windows_judged_again", 0),
            dis.get("windows_judged_again", 0),
        ),
        ("CE alerts not up to date", "-", cmp_["ce"]["content_differs"]),
        (
            "  of these in CE's save->upsert gap",
            "-",
            f"{cmp_['ce']['missing_in_save_gap']} missing, "
            f"{cmp_['ce']['differs_in_save_gap']} not up to date",
        ),
        (
            "Splunk events (raw)",
            cmp_["splunk"]["reference"]["events"],
            cmp_["splunk"]["disturbed"]["events"],
        ),
        (
            "Splunk unique (id, version)",
            cmp_["splunk"]["reference"]["unique_id_versions"],
            cmp_["splunk"]["disturbed"]["unique_id_versions"],
        ),
        (
            "Splunk duplicates (raw)",
            cmp_["splunk"]["reference"]["duplicates_raw"],
            cmp_["splunk"]["disturbed"]["duplicates_raw"],
        ),
        (
            "  (id, version) sent >1 time",
            cmp_["splunk"]["reference"]["duplicated_id_versions"],
            cmp_["splunk"]["disturbed"]["duplicated_id_versions"],
        ),
        (
            "  same content, new version",
            cmp_["splunk"]["reference"]["same_content_new_version"],
            cmp_["splunk"]["disturbed"]["same_content_new_version"],
        ),
        (
            "CE alerts Splunk never received",
            cmp_["splunk"]["ce_ids_never_sent_reference"],
            cmp_["splunk"]["ce_ids_never_sent"],
        ),
        (
            "Splunk missing ids / final versions",
            "-",
            f"{cmp_['splunk']['missing_ids']} / {cmp_['splunk']['missing_final_versions']}",
        ),
        (
            "Splunk coalesced intermediate versions",
            "-",
            cmp_["splunk"]["coalesced_intermediate_versions"],
        ),
        ("Splunk phantom versions", "-", cmp_["splunk"]["phantom_versions"]),
        ("events re-sent after kills (expected)", "-", dis["resent_after_kill"]),
        ("outbox drops (reported)", _drops(ref), _drops(dis)),
        ("max storage.json (bytes)", ref["storage_max_bytes"], dis["storage_max_bytes"]),
        (
            "max storage as BSON (bytes)",
            ref.get("storage_bson_max_bytes", 0),
            dis.get("storage_bson_max_bytes", 0),
        ),
        ("at-least-once window median/p95 (s)", _window(ref), _window(dis)),
        (
            "pull seconds median/max",
            f"{ref['pull_seconds_median']}/{ref['pull_seconds_max']}",
            f"{dis['pull_seconds_median']}/{dis['pull_seconds_max']}",
        ),
        ("wall time (s)", ref["wall_seconds"], dis["wall_seconds"]),
    ]
    if report["soak"].get("source") == "sqs":
        rows.append(
            (
                "SQS left: visible / in flight / dead-letter",
                _queue(ref.get("queue_final") or {}),
                _queue(dis.get("queue_final") or {}),
            )
        )
        rows.append(
            (
                "  of these reported left (poison) by the plugin",
                _reported(ref),
                _reported(dis),
            )
        )
    width = max(len(r[0]) for r in rows)
    out.write(f"\n{'':{width}}  {'reference':>14}  disturbed\n")
    for label, left, right in rows:
        out.write(f"{label:{width}}  {left!s:>14}  {right}\n")
    if report.get("hostile"):
        out.write("\n" + "\n".join(soak_hostile.summary_lines(report["hostile"])) + "\n")
    failures = report["verdict"]["failures"]
    out.write(
        f"\nverdict: {'PASS' if not failures else 'FAIL'}; total wall time "
        f"{report['soak']['wall_seconds']} s; report {report['soak']['report_path']}\n"
    )
    for failure in failures:
        out.write(f"  - {failure}\n")


def _inline(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or "-"


def _queue(depth: Mapping[str, int]) -> str:
    return (
        f"{depth.get('visible', 0)} / {depth.get('in_flight', 0)} / {depth.get('dead_letter', 0)}"
    )


def _reported(figures: Mapping[str, Any]) -> int:
    reported = set(figures.get("poison_left_reported") or [])
    return sum(1 for ident in figures.get("queue_left") or {} if ident in reported)


def _drops(figures: Mapping[str, Any]) -> int:
    return sum(v for k, v in figures["outbox_totals"].items() if k.startswith("dropped"))


def _window(figures: Mapping[str, Any]) -> str:
    window = figures["exposure_seconds"]
    if not window.get("count"):
        return "-"
    return f"{window['median']}/{window['p95']}"
