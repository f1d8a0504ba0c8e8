"""The hostile soak: one hostile item of every class in the stream, the reference alerts all
arrive and each item is reported exactly once (``make soak-hostile``, docs/soak.md)."""

from __future__ import annotations

import io
from pathlib import Path

from devkit import soak_hostile
from devkit.soak import hostile_options, run_soak


def test_hostile_items_change_no_alert_and_are_each_reported_once(tmp_path: Path) -> None:
    out = io.StringIO()
    report = run_soak(hostile_options(tmp_path, keep_states=False), out)
    assert report["verdict"]["ok"], (report["verdict"], out.getvalue()[-3000:])
    items = report["hostile"]["items"]
    assert {i["kind"] for i in items} == set(soak_hostile.OBJECTS) | set(soak_hostile.RECORDS)
    assert all(i["reports"] == 1 for i in items)
    assert report["comparison"]["ce"]["missing"] == report["comparison"]["ce"]["extra"] == 0


def test_an_item_reported_never_or_twice_fails_the_soak() -> None:
    items = [
        soak_hostile.HostileItem("gzip_bomb", "k/a.json.gz", "object", 0),
        soak_hostile.HostileItem("deep_record", "k/b.json.gz", "record", 1),
        soak_hostile.HostileItem("not_json", "k/c.json.gz", "object", 2),
    ]
    pulls = [["Skipped s3://x/k/a.json.gz: ..."], ["k/b.json.gz: record 1: ..."], ["k/b.json.gz"]]
    figures = soak_hostile.reports(items, pulls)
    assert [i["reports"] for i in figures["items"]] == [1, 2, 0]
    assert len(figures["failures"]) == 2
