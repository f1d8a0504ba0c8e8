"""What one trail object can cost: a pull's peak RSS stays under 200 MB whatever a single
object holds (a gzip bomb, shapes that cost many times their bytes once decoded, one huge
string), measured with ``resource.getrusage`` in processes of their own."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.aws_emulator import MotoServer
from tests.pipeline.hostile import BUCKET, NOW, seed_valid_trail, tenant
from tests.pipeline.trail import put_raw, role_action

REPO = Path(__file__).resolve().parents[2]
LIMIT_MB = 200
MiB = 1024 * 1024


def _measure(*args: str, fast: bool = True) -> dict[str, Any]:
    env = {**os.environ, "AWS_RSI_FASTPATH": "1" if fast else "0"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.pipeline.peak_rss", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(args[0], Path(args[-1]).name, outcome)  # the figures, for the report (pytest -s)
    return outcome


def _streamed_gzip(head: bytes, unit: bytes, size: int, tail: bytes) -> bytes:
    """gzip of ``head + unit * n + tail`` (about ``size`` bytes inflated), never holding it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = unit * max(1, MiB // len(unit))
    parts = [packer.compress(head)]
    for _ in range(max(1, size // len(block))):
        parts.append(packer.compress(block))
    parts += [packer.compress(tail), packer.flush()]
    return b"".join(parts)


def _record(**fields: Any) -> bytes:
    record = role_action("OpenRole", "s", "ASIABOUNDSKEY0000001", NOW - timedelta(hours=1))
    record.update(fields)
    return json.dumps(record).encode()


def bomb() -> bytes:
    """3-4 MB of gzip inflating to 512 MiB of trail records."""
    return _streamed_gzip(b'{"Records":[', _record() + b",", 512 * MiB, b"{}]}")


SHORT_FIELDS = [
    "eventID",
    "eventName",
    "eventSource",
    "eventTime",
    "eventType",
    "awsRegion",
    "recipientAccountId",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "sharedEventID",
]
SHAPES = {
    "gzip_bomb_512MiB": bomb,
    # Each of these fits the inflated cap; once decoded they would cost far more.
    "zeros": lambda: _streamed_gzip(b'{"Records":[', b"0,", 46 * MiB, b"0]}"),
    "empty_objects": lambda: _streamed_gzip(b"[", b"{},", 46 * MiB, b"{}]"),
    "minimal_records": lambda: _streamed_gzip(
        b"[", b'{"eventID":"a","eventName":"b","eventSource":"c","eventTime":"d"},', 46 * MiB, b"0]"
    ),
    "short_strings": lambda: _streamed_gzip(
        b"[",
        json.dumps(dict.fromkeys(SHORT_FIELDS, "ab")).encode() + b",",
        46 * MiB,
        b"0]",
    ),
    "real_records_at_the_cap": lambda: _streamed_gzip(
        b'{"Records":[', _record() + b",", 46 * MiB, _record() + b"]}"
    ),
    "one_40MB_user_agent": lambda: gzip.compress(
        b'{"Records":[' + _record(userAgent="A" * (40 * MiB)) + b"]}", 1
    ),
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    directory = tmp_path_factory.mktemp("shapes")
    paths = {}
    for name, build in SHAPES.items():
        path = directory / f"{name}.json.gz"
        path.write_bytes(build())
        paths[name] = path
    yield paths


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "stdlib"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_decoding_any_object_stays_bounded(shapes: dict[str, Path], shape: str, fast: bool) -> None:
    outcome = _measure("decode", str(shapes[shape]), fast=fast)
    # The decoding process alone; the pull below adds the rest of the plugin around it.
    # A pull's process holds ~30 MB more than this one before it reads (86 against 55).
    assert outcome["peak_rss_mb"] < LIMIT_MB - 30, outcome
    if shape in ("gzip_bomb_512MiB", "zeros", "empty_objects", "minimal_records"):
        assert "rejected" in outcome, outcome


def test_a_pull_with_a_gzip_bomb_stays_under_200_mb(aws: MotoServer, tmp_path: Path) -> None:
    seed_valid_trail(NOW)
    config = tmp_path / "tenant.json"
    config.write_text(json.dumps({"name": "bounds", "configuration": tenant().configuration}))
    calm = _measure("pull", str(tmp_path / "calm"), str(config))
    data = bomb()
    assert len(data) < 5 * MiB
    key = put_raw(BUCKET, NOW - timedelta(minutes=30), data, "B000000000000001")
    hostile = _measure("pull", str(tmp_path / "bomb"), str(config))
    assert hostile["objects_failed"] == 1
    assert any(
        key in problem and "inflates to more than" in problem for problem in hostile["problems"]
    )
    assert hostile["alerts"] == calm["alerts"]
    assert hostile["peak_rss_mb"] < LIMIT_MB, (calm, hostile)
