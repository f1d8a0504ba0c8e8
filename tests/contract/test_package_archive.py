"""`make package` builds an archive CE accepts, holding only the plugin, which runs as built."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from devkit.aws_emulator import MotoServer

from .tenant import configuration, seed_small_tenant

REPO = Path(__file__).resolve().parents[2]
DEV_ONLY = (
    "tests",
    "devkit",
    "bench",
    "docs",
    ".ci",
    "Makefile",
    "pyproject.toml",
    "requirements-dev.txt",
    "requirements-dev.in",
    "README.md",
    ".venv",
    "build",
    "dist",
)


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    subprocess.run(["make", "-s", "package"], cwd=REPO, check=True, capture_output=True)
    manifest = json.loads((REPO / "manifest.json").read_text())
    archive = REPO / "dist" / f"{manifest['id']}-{manifest['version']}.tar.gz"
    target = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def test_archive_has_one_root_directory_named_after_the_manifest_id(unpacked: Path) -> None:
    assert [p.name for p in unpacked.iterdir()] == ["aws_role_session_cto"]


def test_archive_holds_the_plugin_files(unpacked: Path) -> None:
    root = unpacked / "aws_role_session_cto"
    for name in ("main.py", "manifest.json", "icon.png", "CHANGELOG.md", "__init__.py"):
        assert (root / name).is_file(), name
    assert (root / "utils" / "trust" / "evaluator.py").is_file()
    assert (root / "lib" / "msgspec").is_dir() and (root / "lib" / "isal").is_dir()


def test_archive_holds_no_tests_dev_tooling_or_caches(unpacked: Path) -> None:
    root = unpacked / "aws_role_session_cto"
    names = {p.relative_to(root).parts[0] for p in root.rglob("*")}
    assert not names & set(DEV_ONLY)
    assert not [p for p in root.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_icon_is_a_small_wide_png_of_the_stated_size(unpacked: Path) -> None:
    data = (unpacked / "aws_role_session_cto" / "icon.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (428, 118)
    assert len(data) < 15 * 1024


def test_changelog_follows_ce_headings_and_matches_the_manifest_version(unpacked: Path) -> None:
    root = unpacked / "aws_role_session_cto"
    version = json.loads((root / "manifest.json").read_text())["version"]
    changelog = (root / "CHANGELOG.md").read_text()
    assert changelog.startswith(f"# {version}\n")
    assert "## Added" in changelog


def test_unpacked_plugin_imports_and_pulls_under_the_sdk_stand_in(
    unpacked: Path, aws: MotoServer, tmp_path: Path
) -> None:
    seed_small_tenant()
    tenant = {"name": "archive", "configuration": configuration()}
    (tmp_path / "tenant.json").write_text(json.dumps(tenant))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devkit",
            "run",
            "--config",
            str(tmp_path / "tenant.json"),
            "--state",
            str(tmp_path / "state"),
            "--plugin-dir",
            str(unpacked / "aws_role_session_cto"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 alerts (1 new, 0 updated)" in result.stdout
    assert "OpenRole" in result.stdout
