"""The short crash and outage soak (devkit/soak/, docs/soak.md) as a specification.

One soak run is expensive (two runs of ~20k CloudTrail records through the local CE as
subprocesses), so the first test makes every claim about that one run; the others check
that the soak can fail: a CE that loses a pull's alerts is caught, and the comparison
flags what is missing at Splunk.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from devkit.soak import Collected, Received, compare, run_soak, short_options

pytestmark = pytest.mark.slow


def short_soak(tmp_path: Path, **overrides: Any) -> tuple[dict[str, Any], str]:
    """The short soak's report, and its printed progress and verdict for failure messages."""
    out = io.StringIO()
    report = run_soak(short_options(tmp_path, **overrides), out)
    return report, f"\n{out.getvalue()}\n{report['verdict']}"


def test_killed_and_starved_plugin_ends_where_an_undisturbed_run_ends(tmp_path: Path) -> None:
    report, context = short_soak(tmp_path)
    dis = report["disturbed"]
    ce = report["comparison"]["ce"]
    splunk = report["comparison"]["splunk"]

    # The run was disturbed: killed in several phases, HEC and S3 failing for stretches.
    assert dis["kills"] >= 3, context
    assert len(dis["kills_by_phase"]) >= 2, context
    assert dis["hec_faults_injected"] > 0, context
    assert dis["s3_faults_injected"] > 0, context
    assert dis["pulls_with_unread_objects"] == 0, context  # recoverable S3 failures only

    # CE ends with exactly the reference's alerts, ids and content.
    assert ce["reference_alerts"] > 100, context
    assert (ce["missing"], ce["extra"], ce["content_differs"]) == (0, 0, 0), context

    # Splunk received every id and the final version of each; every version it received
    # is one the reference produced, and any reference version it did not receive was an
    # intermediate one replaced in the outbox by a newer version during an outage.
    assert (splunk["missing_ids"], splunk["missing_final_versions"]) == (0, 0), context
    assert splunk["phantom_versions"] == 0, context
    assert splunk["versions_not_received"] == splunk["coalesced_intermediate_versions"], context

    # Duplicates are the at-least-once window, quantified: never more copies than the
    # batches HEC accepted from pulls killed before CE saved them, plus lost HEC answers.
    # Every copy is exact (same id and alert_version), so `dedup id alert_version` removes it.
    lost_answers = dis["hec_faults_by_kind"].get("answer_lost", 0)
    assert splunk["reference"]["duplicates_raw"] == 0, context
    assert splunk["disturbed"]["duplicates_raw"] <= dis["resent_after_kill"] + 1000 * lost_answers
    assert splunk["disturbed"]["same_content_new_version"] == 0, context

    # Nothing dropped, storage within budget, and the verdict agrees.
    assert sum(v for k, v in dis["outbox_totals"].items() if k.startswith("dropped")) == 0
    assert dis["storage_max_bytes"] < 16_000_000, context
    assert report["verdict"]["ok"], context


def test_killed_plugin_reading_sqs_notifications_ends_where_an_undisturbed_run_ends(
    tmp_path: Path,
) -> None:
    """The same soak through the SQS source: a killed pull's messages come back after the
    visibility timeout (5 s here) and are read a pull or two later, out of order; messages
    are deleted only by the pull after the one whose storage CE saved. Nothing may be lost,
    nothing may reach the dead-letter queue, and CE must end as the reference does."""
    report, context = short_soak(tmp_path, source="sqs")
    dis = report["disturbed"]
    ce = report["comparison"]["ce"]
    splunk = report["comparison"]["splunk"]

    assert dis["kills"] >= 3, context
    assert len(dis["kills_by_phase"]) >= 2, context
    assert dis["objects_read"] >= report["reference"]["objects_read"], context  # at least once
    # SQS itself failed too (through its own faulty gateway), and nothing was lost for it.
    assert dis["sqs_faults_injected"] > 0, context
    assert report["reference"]["sqs_faults_injected"] == 0, context
    assert ce["reference_alerts"] > 100, context
    assert (ce["missing"], ce["extra"], ce["content_differs"]) == (0, 0, 0), context
    assert (splunk["missing_ids"], splunk["missing_final_versions"]) == (0, 0), context
    assert splunk["disturbed"]["same_content_new_version"] == 0, context
    for run in ("reference", "disturbed"):
        assert report[run]["queue_final"] == {"visible": 0, "in_flight": 0, "dead_letter": 0}
    assert report["verdict"]["ok"], context


def test_soak_fails_when_ce_loses_the_alerts_of_a_saved_pull(tmp_path: Path) -> None:
    # CE saves a pull's storage and checkpoint, then loses its alerts (the window between
    # saving and storing them): the plugin never emits them again, and the soak must say so.
    options = short_options(
        tmp_path, records=10_000, increments=3, sabotage="drop-pull-alerts", sabotage_increment=1
    )
    report = run_soak(options, io.StringIO())
    ce = report["comparison"]["ce"]
    assert report["disturbed"]["sabotaged"], report["disturbed"]
    assert ce["missing"] + ce["content_differs"] > 0, ce
    assert not report["verdict"]["ok"]
    assert any("CE alerts" in failure for failure in report["verdict"]["failures"])


def _received(alert_id: str, content: str) -> Received:
    return Received(alert_id, f"v-{content}", content, content, "session_name_spoofing")


def _collected(ce: dict[str, str], splunk: list[Received]) -> Collected:
    return Collected(
        ce=ce,
        ce_core=dict(ce),
        ce_exact=dict(ce),
        ce_types=dict.fromkeys(ce, "session_name_spoofing"),
        splunk=splunk,
    )


def test_comparison_tells_a_lost_final_version_from_a_coalesced_one() -> None:
    reference = _collected(
        {"a": "a2", "b": "b2"},
        [_received("a", "a1"), _received("a", "a2"), _received("b", "b1"), _received("b", "b2")],
    )
    disturbed = _collected(
        {"a": "a2", "b": "b2"},
        [_received("a", "a2"), _received("b", "b1"), _received("b", "b1")],
    )
    splunk: dict[str, Any] = compare(reference, disturbed)["splunk"]
    assert splunk["coalesced_intermediate_versions"] == 1  # a1 replaced by a2: by design
    assert splunk["missing_final_versions"] == 1  # b2 never arrived: a loss
    assert splunk["disturbed"]["duplicates_raw"] == 1


def test_comparison_counts_a_ce_alert_lost_in_the_save_gap_apart() -> None:
    reference = _collected({"a": "a1", "b": "b1"}, [])
    disturbed = _collected({"a": "a1"}, [])
    ce = compare(reference, disturbed, save_gap={"b"})["ce"]
    assert (ce["missing"], ce["missing_in_save_gap"]) == (1, 1)


def test_comparison_sets_withdrawn_alerts_apart_whichever_run_withdrew_them() -> None:
    """An alert one run raised and withdrew (``resolved``: a trust change read late) and the
    other never raised is no difference; one still open is."""
    reference = _collected({"a": "a1", "w": "w2", "open": "o1"}, [_received("w", "w2")])
    reference.ce_fields = {"w": {"status": "resolved"}, "open": {"status": "new"}}
    disturbed = _collected({"a": "a1", "x": "x2"}, [_received("x", "x2")])
    disturbed.ce_fields = {"x": {"status": "resolved"}}
    compared = compare(reference, disturbed)
    ce, splunk = compared["ce"], compared["splunk"]
    assert (ce["missing"], ce["missing_withdrawn_in_reference"]) == (1, 1)  # "open" missing
    assert (ce["extra"], ce["extra_withdrawn"]) == (0, 1)
    assert splunk["missing_ids"] == 0
