"""``python -m devkit resolve``: JSON lines for session events, a summary on stderr."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.resolve_cli import delivery_order, main, trail_files
from tests.cloudtrail.helpers import FIXTURES, INVICTUS, REPO_ROOT, STRATUS

BERT_JAN = "arn:aws:iam::123837392027:user/bert-jan"


def test_lines_are_json_for_every_session_event_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(INVICTUS)]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 76  # the AssumedRole events of the trail
    for line in lines:
        assert set(line) == {"eventID", "eventTime", "eventName", "resolution"}
        assert set(line["resolution"]) >= {"status", "origin", "method", "chain"}
    bert_jan = [x for x in lines if (x["resolution"]["origin"] or {}).get("arn") == BERT_JAN]
    assert len(bert_jan) == 47
    assert "resolve: 55 files (0 skipped), 2900 events" in err
    assert "by status: resolved" in err and "by method: direct" in err


def test_summary_only_prints_nothing_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURES / "three_hop_chain"), "--summary"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "7 events" in err


def test_json_summary_is_one_json_object_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURES / "key_before_issuance_two_pulls"), "--json", "--summary"]) == 0
    summary = json.loads(capsys.readouterr().err)
    assert summary["by_status"] == {"resolved": 5, "unresolved": 1}
    assert summary["released_after_hold"] == 3
    assert summary["unresolved_after_hold"] == 1


def test_gzip_files_and_json_arrays_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = STRATUS / "aws.persistence.sts-federation-token.json"
    (tmp_path / "token.json.gz").write_bytes(gzip.compress(source.read_bytes()))
    assert main([str(tmp_path / "token.json.gz")]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    resolution = json.loads(line)["resolution"]
    assert resolution["method"] == "federation"
    assert resolution["origin"]["userName"] == "stratus-red-team-user-federation-user"


def test_an_unreadable_file_is_skipped_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(
        FIXTURES
        / "failed_assume_role"
        / next(p.name for p in (FIXTURES / "failed_assume_role").glob("*.json")),
        tmp_path,
    )
    (tmp_path / "broken.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert main([str(tmp_path), "--summary"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.json.gz" in err
    assert "2 files (1 skipped), 5 events" in err


def test_a_missing_path_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["/no/such/trail"]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_files_are_read_in_delivery_order_across_accounts() -> None:
    names = [p.name for p in trail_files([FIXTURES / "three_hop_chain"])]
    assert [name.split("_")[3] for name in names] == [
        "20261103T0905Z",
        "20261103T0906Z",
        "20261103T0910Z",
    ]
    assert delivery_order(Path("x.json")) == ("", "x.json")


def test_the_devkit_entry_point_runs_the_resolver() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "devkit", "resolve", str(FIXTURES / "identity_center"), "--summary"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "4 events" in completed.stderr


def test_the_summary_counts_what_the_lines_count(capsys: pytest.CaptureFixture[str]) -> None:
    """``--summary`` tallies in bulk; it must count what the per-event path counts."""
    assert main([str(INVICTUS), str(STRATUS), "--json"]) == 0
    out, err = capsys.readouterr()
    with_lines = json.loads(err)
    assert with_lines["session_events"] == len(out.splitlines())
    assert main([str(INVICTUS), str(STRATUS), "--json", "--summary"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert json.loads(err) == with_lines
