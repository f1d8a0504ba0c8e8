"""``python -m devkit resolve PATH... [--json] [--summary]``: name the people behind trail files.

Reads CloudTrail files or folders of them (gzip or plain; ``{"Records": [...]}`` objects or
JSON arrays) in delivery order — the time in CloudTrail's file names, then the name — one
file per resolver batch, as the plugin's trail reader feeds them. Prints one JSON line per
event signed by an assumed-role or federated session::

    {"eventID": …, "eventTime": …, "eventName": …,
     "resolution": {"status", "origin": {…}, "method", "chain": […], "roleArn", …}}

and a summary (counts by status and by method, over all events) on stderr — as JSON with
``--json``. ``--summary`` prints only the summary, so the resolver can be timed without the
cost of output. Events whose issuing event never appears are printed at the end,
``unresolved``, once every file has been read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from functools import partial
from operator import attrgetter, is_not
from pathlib import Path
from typing import Any, TextIO

from devkit.loader import plugin_module

_TRAIL_NAME = re.compile(r"_CloudTrail_[^_]+_(\d{8}T\d{4}Z)_")
_SUFFIXES = (".json", ".json.gz", ".gz")


def trail_files(paths: Iterable[Path]) -> list[Path]:
    """The files to read, in delivery order (CloudTrail name time, then name)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES))
        else:
            found.append(path)
    return sorted(set(found), key=delivery_order)


def delivery_order(path: Path) -> tuple[str, str]:
    match = _TRAIL_NAME.search(path.name)
    return (match.group(1) if match else "", path.name)


_identity_of = attrgetter("userIdentity")
_type_of = attrgetter("type")
_present = partial(is_not, None)


class Report:
    """Counts for the summary, and the JSON lines for session events.

    The counts cost next to nothing per event, so ``--summary`` times the resolver: one
    ``Resolution`` serves every event of a session (and hashes by identity), so a batch's
    resolutions are counted by a C ``Counter`` and only the distinct ones are read; the
    identity types of session events are counted the same way.
    """

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.status: Counter[str] = Counter()
        self.method: Counter[str] = Counter()
        self.session_events = 0
        self.events = 0
        self._session_types = plugin_module("utils.cloudtrail.events").SESSION_IDENTITY_TYPES
        self._identity_types: Counter[str | None] = Counter()

    def add(self, result: Any) -> None:
        self.events += len(result.events)
        for resolution, count in Counter(result.resolutions).items():
            self.status[resolution.status.value] += count
            self.method[resolution.method.value] += count
        if self.out is None:
            self._identity_types.update(
                map(_type_of, filter(_present, map(_identity_of, result.events)))
            )
            return
        session_types = self._session_types
        for event, resolution in zip(result.events, result.resolutions, strict=True):
            identity = event.userIdentity
            if identity is None or identity.type not in session_types:
                continue
            self.session_events += 1
            line = {
                "eventID": event.eventID,
                "eventTime": event.eventTime,
                "eventName": event.eventName,
                "resolution": resolution.to_json(),
            }
            self.out.write(json.dumps(line, separators=(",", ":")) + "\n")

    def finish(self) -> None:
        """Fold the identity types counted in summary mode into ``session_events``."""
        types = self._identity_types
        self.session_events += sum(types[kind] for kind in self._session_types)
        types.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit resolve", description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="trail files or folders")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--summary", action="store_true", help="print only the summary")
    parser.add_argument(
        "--hold-seconds",
        type=float,
        default=3600.0,
        help="event time a key may be used before its issuing event is read (default 1 h)",
    )
    args = parser.parse_args(argv)
    decode = plugin_module("utils.cloudtrail.decode")
    resolver_module = plugin_module("utils.cloudtrail.resolver")

    files = trail_files(args.paths)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"resolve: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    decoder = decode.TrailDecoder()
    resolver = resolver_module.IdentityResolver(
        settings=resolver_module.ResolverSettings(hold_seconds=args.hold_seconds)
    )
    report = Report(None if args.summary else sys.stdout)
    skipped: list[str] = []
    record_errors = 0
    for path in files:
        try:
            decoded = decoder.decode_object(path.read_bytes(), name=str(path))
        except decode.TrailObjectError as error:
            skipped.append(str(error))
            print(f"resolve: skipped {error}", file=sys.stderr)
            continue
        for message in decoded.errors:
            print(f"resolve: {message}", file=sys.stderr)
        record_errors += len(decoded.errors)
        report.add(resolver.resolve(decoded.events))
    report.add(resolver.drain())
    report.finish()
    stats = resolver.stats
    summary = {
        "files": len(files),
        "objects_skipped": len(skipped),
        "record_errors": record_errors,
        "events": report.events,
        "session_events": report.session_events,
        "duplicates": stats.duplicates,
        "held": stats.held,
        "released_after_hold": stats.released,
        "unresolved_after_hold": stats.expired + stats.overflowed,
        "by_status": dict(report.status.most_common()),
        "by_method": dict(report.method.most_common()),
        "fast_path": decoder.uses_fast_path,
    }
    if args.json:
        print(json.dumps(summary), file=sys.stderr)
    else:
        _print_summary(summary, sys.stderr)
    return 0


def _print_summary(summary: dict[str, Any], out: TextIO) -> None:
    print(
        f"resolve: {summary['files']} files ({summary['objects_skipped']} skipped), "
        f"{summary['events']} events ({summary['record_errors']} record errors, "
        f"{summary['duplicates']} duplicates), {summary['session_events']} session events; "
        f"{summary['held']} held, {summary['released_after_hold']} released, "
        f"{summary['unresolved_after_hold']} unresolved after the hold",
        file=out,
    )
    for title in ("by_status", "by_method"):
        counts = ", ".join(f"{name} {count}" for name, count in summary[title].items())
        print(f"  {title.replace('_', ' ')}: {counts}", file=out)


if __name__ == "__main__":
    sys.exit(main())
