"""Vendor the optional accelerators into the package's ``lib/`` for CE's runtime.

CE's core image runs CPython 3.11 on Linux x86_64 and lacks msgspec and isal. This
downloads their wheels for exactly that platform (versions pinned in requirements-dev.txt)
and unpacks them into ``<stage>/lib/``, where ``utils/fastpath.py`` finds them. Nothing
binary is committed; the wheels are cached under ``build/wheels``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from devkit.loader import REPO_ROOT

PACKAGES = ("msgspec", "isal")
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"


def pinned_version(name: str) -> str:
    text = (REPO_ROOT / "requirements-dev.txt").read_text("utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, re.MULTILINE | re.IGNORECASE)
    if not match:
        raise SystemExit(f"{name} is not pinned in requirements-dev.txt")
    return match.group(1)


def download(name: str, cache: Path) -> Path:
    version = pinned_version(name)
    cache.mkdir(parents=True, exist_ok=True)
    pattern = f"{name}-{version}-cp311-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                PYTHON_VERSION,
                "--platform",
                PLATFORM,
                "--platform",
                "manylinux_2_17_x86_64",
                "--platform",
                "manylinux_2_28_x86_64",
                "-d",
                str(cache),
                f"{name}=={version}",
            ],
            check=True,
        )
        found = sorted(cache.glob(pattern))
    if not found:
        raise SystemExit(f"no CPython 3.11 x86_64 wheel of {name}=={version} was downloaded")
    return found[-1]


def unpack(wheel: Path, target: Path) -> None:
    """Extract the wheel's packages, keeping only METADATA and licences of its dist-info."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            in_dist_info = member.split("/", 1)[0].endswith(".dist-info")
            if in_dist_info and not ("LICENSE" in member or member.endswith("/METADATA")):
                continue
            archive.extract(member, target)  # zipfile refuses absolute and ../ paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit vendor")
    parser.add_argument("--target", type=Path, required=True, help="the staged plugin's lib/")
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "build" / "wheels")
    args = parser.parse_args(argv)
    if args.target.exists():
        shutil.rmtree(args.target)
    args.target.mkdir(parents=True)
    (args.target / "__init__.py").write_text(
        '"""Vendored optional accelerators (msgspec, isal) for CPython 3.11 x86_64."""\n'
    )
    for name in PACKAGES:
        wheel = download(name, args.cache)
        unpack(wheel, args.target)
        print(f"vendored {wheel.name}")
    for cache_dir in args.target.rglob("__pycache__"):
        shutil.rmtree(cache_dir)
    return 0
