"""``make compat``: the plugin on every CPython CE may run it with (3.11, 3.12, 3.13).

For each interpreter (found as ``pythonX.Y`` on ``PATH`` or under pyenv's versions):

1. a virtualenv ``.venv-compat/pyX.Y`` with only what the suites need
   (``requirements-compat.in``, versions pinned by ``requirements-dev.txt``), made once and
   remade when either file changes; the optional fast path (msgspec, isal) is installed where
   it builds for that interpreter, and its absence is reported, not an error: the plugin falls
   back to the standard library;
2. the plugin imported and instantiated as CE does (``plugin-check``, offline);
3. the contract suite and the core unit suites (trust-policy evaluation, CloudTrail
   decoding and resolution, alerts), which run the decoders on both paths where msgspec is
   present. Left out: packaging (``make package`` builds with the main venv) and the
   benchmark corpus (needs duckdb, a benchmark contender).

Interpreters run in parallel, each suite on one worker. Exit 1 when any interpreter is
missing or any step fails; a table of results and timings is printed at the end.

Why not 3.9 and 3.10: the plugin uses ``datetime.UTC`` and ``enum.StrEnum`` (3.11+), and
CE 6, the first release whose official plugins ship CPython 3.11 binaries, runs 3.11.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from devkit.loader import REPO_ROOT

DEFAULT_VERSIONS = ("3.11", "3.12", "3.13")
VENVS = REPO_ROOT / ".venv-compat"
REQUIREMENTS = REPO_ROOT / "requirements-compat.in"
CONSTRAINTS = REPO_ROOT / "requirements-dev.txt"
OPTIONAL = ("msgspec", "isal")
SUITES = ("tests/contract", "tests/trust", "tests/cloudtrail", "tests/alerts")
EXCLUDED = ("tests/contract/test_package_archive.py", "tests/cloudtrail/test_bench_corpus.py")
PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def find_interpreter(version: str) -> Path | None:
    """The newest pyenv build of that version, else ``pythonX.Y`` on PATH (not a pyenv
    shim, which answers only for the versions pyenv is set to)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    builds = sorted(
        glob.glob(str(root / "versions" / f"{version}.*" / "bin" / "python")),
        key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()],
    )
    if builds:
        return Path(builds[-1])
    found = shutil.which(f"python{version}")
    return Path(found) if found and "/shims/" not in found else None


@dataclass
class Outcome:
    version: str
    interpreter: str = ""
    fast_path: str = ""
    steps: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    failed: bool = False
    log: list[str] = field(default_factory=list)


def _run(
    outcome: Outcome,
    name: str,
    command: list[str],
    env: dict[str, str] | None = None,
    show_tail: bool = False,
) -> bool:
    started = time.monotonic()
    result = subprocess.run(  # noqa: PLW1510 - the return code is read below
        command, cwd=REPO_ROOT, capture_output=True, text=True, env=env
    )
    took = time.monotonic() - started
    tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or [""]
    shown = f" {tail[0]}" if show_tail else ""
    outcome.steps[name] = f"{'ok' if result.returncode == 0 else 'FAILED'} ({took:.0f}s){shown}"
    if result.returncode != 0:
        outcome.log.append(f"--- {outcome.version} {name}\n{result.stdout}\n{result.stderr}")
    return result.returncode == 0


def _stamp() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + CONSTRAINTS.read_bytes())
    return digest.hexdigest()


def prepare(version: str, outcome: Outcome) -> Path | None:
    """The interpreter's venv, made or refreshed; None when it cannot be made."""
    interpreter = find_interpreter(version)
    if interpreter is None:
        outcome.steps["venv"] = f"FAILED: no python{version} on PATH or under pyenv"
        return None
    outcome.interpreter = str(interpreter)
    venv = VENVS / f"py{version}"
    python = venv / "bin" / "python"
    stamp = venv / ".compat-installed"
    if stamp.is_file() and stamp.read_text() == _stamp() and python.exists():
        outcome.steps["venv"] = "ok (cached)"
        return python
    if venv.exists():
        shutil.rmtree(venv)
    if not _run(outcome, "venv", [str(interpreter), "-m", "venv", str(venv)]):
        return None
    requirements = ["-r", str(REQUIREMENTS), "-c", str(CONSTRAINTS)]
    if not _run(outcome, "install", [str(python), *PIP, *requirements]):
        return None
    for package in OPTIONAL:  # the fast path is optional per interpreter
        _run(outcome, f"install {package}", [str(python), *PIP, package, "-c", str(CONSTRAINTS)])
        outcome.steps[f"install {package}"] = outcome.steps[f"install {package}"].replace(
            "FAILED", "not available"
        )
    stamp.write_text(_stamp())
    return python


def check_version(version: str) -> Outcome:
    outcome = Outcome(version)
    started = time.monotonic()
    python = prepare(version, outcome)
    if python is None:
        outcome.failed = True
        return outcome
    probe = "import importlib.util as u;print(','.join(m for m in %r if u.find_spec(m)) or 'none')"
    found = subprocess.run(  # noqa: PLW1510
        [str(python), "-c", probe % (OPTIONAL,)], capture_output=True, text=True
    )
    outcome.fast_path = found.stdout.strip() or "none"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    ok = _run(outcome, "plugin-check", [str(python), "-m", "devkit", "plugin-check", "."], env=env)
    ignores = [f"--ignore={path}" for path in EXCLUDED]
    ok &= _run(
        outcome,
        "pytest",
        [str(python), "-m", "pytest", "-q", "-p", "no:randomly", *ignores, *SUITES],
        env=env,
        show_tail=True,
    )
    outcome.failed = not ok
    outcome.seconds = time.monotonic() - started
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit compat", description=__doc__)
    parser.add_argument("versions", nargs="*", default=list(DEFAULT_VERSIONS))
    parser.add_argument("--serial", action="store_true", help="one interpreter at a time")
    args = parser.parse_args(argv)
    VENVS.mkdir(exist_ok=True)
    started = time.monotonic()
    workers = 1 if args.serial else len(args.versions)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(check_version, args.versions))
    for outcome in outcomes:
        for entry in outcome.log:
            print(entry[-4000:], file=sys.stderr)
    for outcome in outcomes:
        verdict = "FAILED" if outcome.failed else "ok"
        print(
            f"CPython {outcome.version}: {verdict} in {outcome.seconds:.0f}s "
            f"({outcome.interpreter or 'not found'}; fast path: {outcome.fast_path or '-'})"
        )
        for name, text in outcome.steps.items():
            print(f"    {name:16} {text}")
    print(f"compat: {time.monotonic() - started:.0f}s in all")
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
