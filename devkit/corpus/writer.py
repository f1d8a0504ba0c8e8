"""Writing a corpus to disk in the S3 layout (or reusing one whose manifest matches), and
reading it back in delivery order."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from devkit.corpus.generator import Generator, object_key
from devkit.corpus.profile import DEFAULT_DIR, PROFILES, SEED, START, TODAY, Profile

DESCRIPTION = (
    "Realistic CloudTrail corpora in the S3 layout, generated deterministically for benchmarks."
)


def _gzip(data: bytes) -> bytes:
    try:
        from isal import igzip
    except ImportError:
        return gzip.compress(data, compresslevel=6, mtime=0)
    packed: bytes = igzip.compress(data, compresslevel=2, mtime=0)
    return packed


GENERATOR_VERSION = 5  # bump when the records generated or the manifest's fields change


def corpus_dir(profile: Profile, records: int) -> Path:
    """Where ``make bench`` keeps a profile's corpus of ``records`` records."""
    prefix = "corpus" if profile is TODAY else profile.name
    return DEFAULT_DIR / f"{prefix}-{records}"


def write_corpus(
    records: int,
    directory: Path,
    *,
    seed: int = SEED,
    profile: Profile = TODAY,
    start: datetime = START,
) -> dict[str, Any]:
    """Generate (or reuse, when its manifest matches) the corpus; return its manifest.

    ``start`` is the first delivery slot's start. It is not part of the manifest's match: a
    caller that moves it keeps corpora of different dates in different directories."""
    manifest_path = directory / "manifest.json"
    wanted = (records, seed, GENERATOR_VERSION, profile.name, profile.knobs())
    if manifest_path.exists():
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        found = tuple(manifest.get(k) for k in ("requested", "seed", "version", "profile", "knobs"))
        if found == json.loads(json.dumps(wanted)):
            return manifest
    if directory.exists():
        shutil.rmtree(directory)
    generator = Generator(records, seed, profile, start)
    names = random.Random(seed + 1)
    shuffler = random.Random(seed + 2)
    totals = {"files": 0, "compressed_bytes": 0, "json_bytes": 0}
    order: dict[tuple[str, str, int], tuple[str, str]] = {}

    def flush(files: dict[tuple[str, str, int], list[dict[str, Any]]]) -> None:
        for (account, region, slot), rows in sorted(files.items()):
            shuffler.shuffle(rows)
            data = json.dumps({"Records": rows}, separators=(",", ":")).encode()
            packed = _gzip(data)
            name = object_key(account, region, slot, names, profile.delivery_minutes, start)
            path = directory / name
            order[(account, region, slot)] = _delivery_order(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(packed)
            totals["files"] += 1
            totals["compressed_bytes"] += len(packed)
            totals["json_bytes"] += len(data)

    generator.run(flush)
    shape: dict[str, float] = dict(sorted(generator.shape.items()))
    shape.update(generator.read_before(order))
    human_calls = sum(generator.reads.values())
    records_total = generator.truth["records"]
    shape["assume_role_share"] = round(shape.get("assume_role_records", 0) / records_total, 4)
    shape["read_before_share"] = round(shape["read_before_issuance"] / max(1, human_calls), 4)
    # API calls per human session (sessions issued, chained hops included)
    shape["calls_per_session"] = round(human_calls / max(1, shape.get("sessions_issued", 0)), 2)
    manifest = {
        "requested": records,
        "seed": seed,
        "version": GENERATOR_VERSION,
        "profile": profile.name,
        "knobs": profile.knobs(),
        "accounts": len(profile.accounts),
        "regions": len(profile.regions),
        **totals,
        "records": records_total,
        "duplicates": generator.truth["duplicates"],
        "attributed": generator.truth["attributed"],
        "attribution_digest": f"{generator.digest:016x}",
        "session_events": generator.truth["session_events"],
        "shape": shape,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return manifest


def corpus_files(directory: Path) -> list[Path]:
    """The corpus objects in delivery order (the time in their names), as a reader sees them."""
    return sorted(directory.glob("AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz"), key=_delivery_order)


def _delivery_order(path: Path) -> tuple[str, str]:
    parts = path.name.split("_")
    return (parts[3] if len(parts) > 4 else "", path.name)


def iter_objects(directory: Path, limit: int | None = None) -> Iterator[tuple[str, bytes]]:
    for path in corpus_files(directory)[:limit]:
        yield str(path), path.read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--profile", choices=sorted(PROFILES), default=TODAY.name)
    parser.add_argument("--records", type=int, default=None, help="default: the profile's")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    records = args.records or profile.records
    directory = args.out or corpus_dir(profile, records)
    manifest = write_corpus(records, directory, profile=profile)
    json.dump(manifest, sys.stdout, indent=2)
    print()
    return 0
