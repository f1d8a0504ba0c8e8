"""The identity resolver against the decoder alone and against DuckDB, in one run, per trail shape.

Each profile of ``devkit.corpus`` (``today``: long-lived sessions; ``churn``: an organization
trail of short, chained, cross-account sessions read partly before their issuance) gets its
own corpus and table. Every contender reads the same corpus files in the same (delivery)
order, in its own subprocess so its peak RSS is its own, single-threaded (DuckDB
``threads=1``; msgspec, isal and the resolver are single-threaded anyway):

* ``raw-fast``: the resolver's gunzip (isal) + its typed msgspec decoder, touching
  ``userIdentity.accessKeyId`` of every record — the floor the resolver builds on;
* ``resolver-fast``: decode (fast path) + ``IdentityResolver`` end to end, counting outcomes;
* ``raw-stdlib``: ``zlib`` + ``json.loads``, touching ``userIdentity.accessKeyId``;
* ``resolver-stdlib``: the same resolver with ``AWS_RSI_FASTPATH=0``;
* ``duckdb``: what an analyst would run instead: typed ``read_json`` of the needed columns,
  ``DISTINCT ON (eventID)``, a recursive CTE walking AssumeRole issuances to IAM users;
* ``cli-summary``: ``python -m devkit resolve --summary`` over the corpus folder (the
  offline tool a user would time; its tally must cost nothing measurable);
* ``resolver-fast`` again on the first tenth of the files, to show how peak RSS grows with
  the corpus;
* ``check-fast`` (and with ``--thorough`` ``check-stdlib``), not timed: the resolver checked
  event by event against the generator's ground truth (``attribution_digest``);
* ``interleaved-fast`` (``--thorough``: ``-stdlib`` too), raw decode and the resolver
  alternating file by file in one process, a cross-check immune to the host's drift.

Check: every event the generator attributes to an IAM user must be named so, by that
user, by the resolver (the per-event digest), and DuckDB and both resolvers must count the
same events, less the copies of a record farther apart than the resolver's duplicate window
(reported). Exit status 1 when they disagree; the speed targets are reported, not enforced
(shared machines are noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from devkit.corpus import (
    PROFILES,
    Profile,
    add_digests,
    attribution_digest,
    corpus_dir,
    corpus_files,
    write_corpus,
)

CONTENDERS = (
    "raw-fast",
    "resolver-fast",
    "raw-stdlib",
    "resolver-stdlib",
    "duckdb",
    "cli-summary",
    "check-fast",
    "check-stdlib",
    "interleaved-fast",
    "interleaved-stdlib",
)
_MAX_DECOMPRESSED = 512 * 1024 * 1024


def _clock() -> tuple[float, float]:
    """(CPU, wall) seconds now. Rates use CPU seconds of the (single-threaded) process: other
    load on a shared host does not inflate them as it inflates wall time."""
    return time.process_time(), time.perf_counter()


def _elapsed(started: tuple[float, float]) -> dict[str, float]:
    cpu, wall = _clock()
    return {"seconds": cpu - started[0], "wall_seconds": wall - started[1]}


def _peak_rss_mb() -> float:
    """This process's peak RSS (``VmHWM``: reset by exec, unlike ``ru_maxrss``, which a child
    inherits from the parent that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ contenders (subprocess)


def _plugin(name: str) -> Any:
    from devkit.loader import plugin_module

    return plugin_module(f"utils.cloudtrail.{name}")


class RawFast:
    """The resolver's gunzip and typed decoder, touching every record's access key."""

    def __init__(self) -> None:
        self.decoder = _plugin("decode").TrailDecoder(fast=True)
        self.events = self.keyed = 0

    def step(self, data: bytes, name: str) -> None:
        payload = self.decoder.payload(data, name=name, max_decompressed_bytes=_MAX_DECOMPRESSED)
        for event in self.decoder.fast.file.decode(payload).Records:
            identity = event.userIdentity
            if identity is not None and identity.accessKeyId:
                self.keyed += 1
            self.events += 1

    def finish(self) -> dict[str, Any]:
        return {"events": self.events, "keyed": self.keyed}


class RawStdlib:
    """zlib + json.loads, touching every record's access key."""

    def __init__(self) -> None:
        self.gunzip = _plugin("decode").gunzip
        self.events = self.keyed = 0

    def step(self, data: bytes, name: str) -> None:
        import zlib

        payload = self.gunzip(
            data, name=name, limit=_MAX_DECOMPRESSED, decompressobj=zlib.decompressobj
        )
        for record in json.loads(payload.decode("utf-8"))["Records"]:
            identity = record.get("userIdentity")
            if identity is not None and identity.get("accessKeyId"):
                self.keyed += 1
            self.events += 1

    def finish(self) -> dict[str, Any]:
        return {"events": self.events, "keyed": self.keyed}


class Resolver:
    """Decode + ``IdentityResolver`` end to end; a consumer tallying the outcomes.

    Resolutions are shared per session and hash by identity, so a ``Counter`` over a
    batch's resolutions is the cheap way a consumer aggregates; per-kind counts come from
    the distinct ones and are folded in after each batch. (Keeping one ``Counter`` over the
    whole run would keep every session's resolution — and the strings of the events it
    came from — alive to the end: a consumer that grows with the corpus and scatters the
    heap the decoder allocates in, which is not what the plugin does.)
    """

    def __init__(self, fast: bool) -> None:
        self.decoder = _plugin("decode").TrailDecoder(fast=fast)
        self.resolver = _plugin("resolver").IdentityResolver()
        self.outcomes: Counter[str] = Counter()
        self.attributed = 0
        self.events = self.errors = 0

    def step(self, data: bytes, name: str) -> None:
        decoded = self.decoder.decode_object(
            data, name=name, max_decompressed_bytes=_MAX_DECOMPRESSED
        )
        self.events += len(decoded.events)
        self.errors += len(decoded.errors)
        self._tally(self.resolver.resolve(decoded.events).resolutions)

    def _tally(self, resolutions: list[Any]) -> None:
        for resolution, count in Counter(resolutions).items():
            self.outcomes[resolution.status.value] += count
            origin = resolution.origin
            if (
                resolution.method == "issuing_event"
                and origin is not None
                and origin.type == "IAMUser"
            ):
                self.attributed += count

    def finish(self) -> dict[str, Any]:
        self._tally(self.resolver.drain().resolutions)
        stats = self.resolver.stats
        return {
            "events": self.events,
            "record_errors": self.errors,
            "attributed": self.attributed,
            "outcomes": dict(self.outcomes),
            "held": stats.held,
            "released": stats.released,
            "expired": stats.expired,
            "duplicates": stats.duplicates,
            "sessions_in_index": len(self.resolver.index.sessions),
            "fast_path": self.decoder.uses_fast_path,
        }


class Check(Resolver):
    """The resolver end to end, checked event by event against the ground truth (not timed).

    Every emitted event named an IAM user through its issuances adds its share of
    ``attribution_digest(eventID, user ARN)``; events emitted twice (copies farther apart
    than the resolver's duplicate window) are counted, and added once, so the digest checks
    who each event is attributed to and the copies are reported on their own.
    """

    def __init__(self, fast: bool) -> None:
        super().__init__(fast)
        self.digest = 0
        self.emitted: set[str] = set()
        self.emitted_twice = 0
        self.attributed_twice = 0

    def step(self, data: bytes, name: str) -> None:
        decoded = self.decoder.decode_object(
            data, name=name, max_decompressed_bytes=_MAX_DECOMPRESSED
        )
        self.events += len(decoded.events)
        self._check(self.resolver.resolve(decoded.events))

    def _check(self, result: Any) -> None:
        for event, resolution in zip(result.events, result.resolutions, strict=True):
            origin = resolution.origin
            attributed = (
                resolution.method == "issuing_event"
                and origin is not None
                and origin.type == "IAMUser"
            )
            if event.eventID in self.emitted:
                self.emitted_twice += 1
                self.attributed_twice += attributed
                continue
            self.emitted.add(event.eventID)
            if attributed and origin is not None:
                self.attributed += 1
                self.digest = add_digests(
                    self.digest, attribution_digest(event.eventID, origin.arn or "")
                )

    def finish(self) -> dict[str, Any]:
        self._check(self.resolver.drain())
        return {
            "events": self.events,
            "attributed": self.attributed,
            "attribution_digest": f"{self.digest:016x}",
            "emitted_twice": self.emitted_twice,
            "attributed_twice": self.attributed_twice,
            "duplicates_dropped": self.resolver.stats.duplicates,
        }


def _alone(contender: Any, files: list[Path]) -> dict[str, Any]:
    """One contender over every file; CPU time covers reading, decoding and its own work."""
    started = _clock()
    for path in files:
        contender.step(path.read_bytes(), str(path))
    result = contender.finish()
    return {**_elapsed(started), **result}


def _interleaved(files: list[Path], fast: bool) -> dict[str, Any]:
    """Raw decode and the resolver over the same files, alternating file by file in one
    process, so both see the same machine (a shared host's speed drifts by tens of per cent
    within minutes, which makes ratios of separate runs unreliable)."""
    raw: Any = RawFast() if fast else RawStdlib()
    resolver = Resolver(fast)
    spent = {"raw": 0.0, "resolver": 0.0}
    for number, path in enumerate(files):
        data = path.read_bytes()
        order = [("raw", raw), ("resolver", resolver)]
        for label, contender in order if number % 2 else reversed(order):
            started = time.process_time()
            contender.step(data, str(path))
            spent[label] += time.process_time() - started
    started = time.process_time()
    summary = resolver.finish()
    spent["resolver"] += time.process_time() - started
    return {
        "raw_seconds": spent["raw"],
        "resolver_seconds": spent["resolver"],
        "events": summary["events"],
        "attributed": summary["attributed"],
        "raw": raw.finish(),
    }


_DUCKDB_RECORD = (
    "STRUCT(eventID VARCHAR, eventName VARCHAR, eventSource VARCHAR, errorCode VARCHAR, "
    "userIdentity STRUCT(type VARCHAR, accessKeyId VARCHAR, arn VARCHAR), "
    "responseElements STRUCT(credentials STRUCT(accessKeyId VARCHAR)))[]"
)
_DUCKDB_QUERY = """
CREATE TEMP TABLE ev AS
SELECT DISTINCT ON (r.eventID)
       r.eventID AS id, r.eventName AS name, r.eventSource AS source, r.errorCode AS err,
       r.userIdentity.type AS utype, r.userIdentity.accessKeyId AS ukey,
       r.userIdentity.arn AS uarn, r.responseElements.credentials.accessKeyId AS issued
FROM (SELECT unnest(Records) AS r
      FROM read_json(?, format = 'unstructured', records = true,
                     columns = {'Records': '%s'},
                     maximum_object_size = 536870912));
WITH RECURSIVE issuance AS (
    SELECT issued AS key, utype AS caller_type, ukey AS caller_key, uarn AS caller_arn
    FROM ev
    WHERE source = 'sts.amazonaws.com' AND name = 'AssumeRole' AND err IS NULL
      AND issued IS NOT NULL AND utype <> 'AWSAccount'
), walk(key, caller_type, caller_key, caller_arn, depth) AS (
    SELECT key, caller_type, caller_key, caller_arn, 1 FROM issuance
    UNION ALL
    SELECT w.key, i.caller_type, i.caller_key, i.caller_arn, w.depth + 1
    FROM walk w JOIN issuance i ON i.key = w.caller_key
    WHERE w.caller_type = 'AssumedRole' AND w.depth < 16
)
SELECT (SELECT count(*) FROM ev) AS events, count(*) AS attributed
FROM ev JOIN walk ON ev.ukey = walk.key
WHERE ev.utype = 'AssumedRole' AND walk.caller_type = 'IAMUser'
"""


def _duckdb(files: list[Path]) -> dict[str, Any]:
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET threads TO 1")
    started = _clock()
    create, query = _DUCKDB_QUERY.split(";\n", 1)
    connection.execute(create % _DUCKDB_RECORD, [[str(p) for p in files]])
    row = connection.execute(query).fetchone()
    elapsed = _elapsed(started)
    assert row is not None
    return {**elapsed, "events": int(row[0]), "attributed": int(row[1]), "threads": 1}


def _cli_summary(corpus: Path) -> dict[str, Any]:
    """``devkit resolve --summary --json`` over the corpus, its summary kept from stderr."""
    import contextlib
    import io

    from devkit import resolve_cli

    for module in ("decode", "resolver", "events"):  # imported before the clock, as elsewhere
        _plugin(module)
    err = io.StringIO()
    started = _clock()
    with contextlib.redirect_stderr(err):
        status = resolve_cli.main([str(corpus / "AWSLogs"), "--summary", "--json"])
    elapsed = _elapsed(started)
    if status != 0:
        raise SystemExit(f"devkit resolve failed ({status}):\n{err.getvalue()}")
    summary = json.loads(err.getvalue().strip().splitlines()[-1])
    events = summary["events"] + summary["duplicates"]  # every record, as the others count
    return {**elapsed, "events": events, "by_method": summary["by_method"]}


def run_contender(name: str, corpus: Path, limit: int | None) -> dict[str, Any]:
    files = corpus_files(corpus)
    if limit is not None:
        files = files[:limit]
    if name == "raw-fast":
        result = _alone(RawFast(), files)
    elif name == "raw-stdlib":
        result = _alone(RawStdlib(), files)
    elif name == "resolver-fast":
        result = _alone(Resolver(fast=True), files)
    elif name == "resolver-stdlib":
        result = _alone(Resolver(fast=False), files)
    elif name == "interleaved-fast":
        result = _interleaved(files, fast=True)
    elif name == "interleaved-stdlib":
        result = _interleaved(files, fast=False)
    elif name == "duckdb":
        result = _duckdb(files)
    elif name == "cli-summary":
        result = _cli_summary(corpus)
    elif name in ("check-fast", "check-stdlib"):
        result = _alone(Check(fast=name == "check-fast"), files)
    else:
        raise SystemExit(f"unknown contender {name!r}")
    result["files"] = len(files)
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


# ------------------------------------------------------------------ driver


def _spawn(name: str, corpus: Path, limit: int | None) -> dict[str, Any]:
    env = dict(os.environ)
    if name.endswith("stdlib"):
        env["AWS_RSI_FASTPATH"] = "0"
    command = [sys.executable, "-m", "bench.bench_resolver", "--contender", name]
    command += ["--corpus", str(corpus)]
    if limit is not None:
        command += ["--limit", str(limit)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _json_bytes(corpus: Path, files: int) -> int:
    """Decompressed size of the first ``files`` objects (MB/s counts JSON bytes)."""
    import gzip

    return sum(len(gzip.decompress(p.read_bytes())) for p in corpus_files(corpus)[:files])


def drive(profile: Profile, records: int, repeat: int, thorough: bool = False) -> dict[str, Any]:
    """Every contender over one profile's corpus; the table, ratios and checks printed; the
    figures returned (``ok`` False when an attribution count or a raw count disagrees)."""
    corpus = corpus_dir(profile, records)
    print(f"[{profile.name}] corpus: {corpus} ({records} records requested) …", flush=True)
    manifest = write_corpus(records, corpus, profile=profile)
    total_files = manifest["files"]
    small = max(1, total_files // 10)
    json_bytes = {total_files: manifest["json_bytes"], small: _json_bytes(corpus, small)}
    shape = manifest.get("shape", {})
    print(
        f"  {manifest['files']} files, {manifest['records']} records, "
        f"{manifest['json_bytes'] / 1e6:.0f} MB JSON ({manifest['compressed_bytes'] / 1e6:.0f} MB "
        f"gzip), {manifest['json_bytes'] / manifest['records']:.0f} B/record; "
        f"{manifest.get('accounts', '?')} accounts x {manifest.get('regions', '?')} Regions; "
        f"AssumeRole {shape.get('assume_role_share', 0):.1%} of records, "
        f"{shape.get('calls_per_session', 0):.0f} calls per session, "
        f"{shape.get('read_before_share', 0):.0%} of session calls read before their issuance, "
        f"{shape.get('cross_account_calls', 0)} cross-account AssumeRole pairs; ground truth "
        f"{manifest['attributed']} events attributed to IAM users",
        flush=True,
    )
    runs: dict[str, dict[str, Any]] = {}
    timed = [name for name in CONTENDERS if not name.startswith(("interleaved", "check"))]
    plan = [(name, None) for name in timed]
    once = ["check-fast", "interleaved-fast"]
    if thorough:
        once += ["check-stdlib", "interleaved-stdlib"]
    plan = plan * repeat + [("resolver-fast", small)] + [(name, None) for name in once]
    for name, limit in plan:
        label = name if limit is None else f"{name}@{limit}files"
        result = _spawn(name, corpus, limit)
        result["json_bytes"] = json_bytes[limit or total_files]
        seconds = result.get("seconds", result.get("resolver_seconds", 0.0))
        best = runs.get(label)
        if best is None or seconds < best.get("seconds", best.get("resolver_seconds", 0.0)):
            runs[label] = result
        print(f"  ran {label}: {seconds:.2f} s CPU", flush=True)
    print()
    print(
        f"[{profile.name}] Every contender single-threaded (DuckDB SET threads = 1), in its own "
        f"process; rates per CPU second, best of {repeat} runs (a shared host's speed drifts by "
        "tens of per cent)."
    )
    print(
        f"{'contender':26} {'events':>9} {'CPU s':>7} {'events/s':>9} {'MB/s':>6} "
        f"{'peak RSS':>8} {'attributed':>10}"
    )
    for label, r in runs.items():
        if "seconds" not in r or label.startswith("check"):
            continue
        print(
            f"{label:26} {r['events']:>9} {r['seconds']:>7.2f} "
            f"{r['events'] / r['seconds']:>9.0f} {r['json_bytes'] / 1e6 / r['seconds']:>6.0f} "
            f"{r['peak_rss_mb']:>6.0f}MB {r.get('attributed', '-'):>10}"
        )
    rate = {
        label: r["events"] / r["seconds"]
        for label, r in runs.items()
        if "seconds" in r and not label.startswith("check")
    }
    ratios = [
        ("resolver-fast / raw-fast", rate["resolver-fast"] / rate["raw-fast"], 0.75),
        ("resolver-fast / duckdb (1 thread)", rate["resolver-fast"] / rate["duckdb"], 1.0),
        ("resolver-stdlib / raw-stdlib", rate["resolver-stdlib"] / rate["raw-stdlib"], None),
        ("resolver-stdlib / duckdb (1 thread)", rate["resolver-stdlib"] / rate["duckdb"], None),
        ("cli-summary / resolver-fast", rate["cli-summary"] / rate["resolver-fast"], 0.9),
    ]
    print()
    for text, value, target in ratios:
        verdict = (
            ""
            if target is None
            else f"(target >= {target}x) " + ("ok" if value >= target else "MISSED")
        )
        print(f"{text:44} {value:5.2f}x {verdict}")
    print()
    print(
        "Cross-check, immune to drift: raw decode and the resolver alternating file by file in "
        "one process\n(flatters the resolver: the raw decode then also runs with the caches the "
        "resolver's work left):"
    )
    interleaved: dict[str, float] = {}
    for kind in ("fast", "stdlib"):
        if f"interleaved-{kind}" not in runs:
            continue
        r = runs[f"interleaved-{kind}"]
        raw_rate = r["events"] / r["raw_seconds"]
        resolver_rate = r["events"] / r["resolver_seconds"]
        interleaved[kind] = resolver_rate / raw_rate
        print(
            f"  resolver-{kind} / raw-{kind}: {resolver_rate / raw_rate:5.2f}x  "
            f"({resolver_rate:.0f} vs {raw_rate:.0f} events/s)"
        )
    small_label = f"resolver-fast@{small}files"
    rss_full = runs["resolver-fast"]["peak_rss_mb"]
    rss_small = runs[small_label]["peak_rss_mb"]
    flat = rss_full <= rss_small * 1.2 + 4  # within the noise of a process's footprint
    verdict = "ok" if rss_full <= 100 and flat else "MISSED"
    print(
        f"{'resolver-fast peak RSS':44} {rss_small:.0f} MB at {small} files, {rss_full:.0f} MB at "
        f"{total_files} files (target <= 100 MB, flat: {'yes' if flat else 'no'}) {verdict}"
    )
    # What the growth is: the sessions the index must keep (issued within their lifetime
    # and retention, all of this corpus on a short churn trail), per session kept.
    kept_small = runs[small_label].get("sessions_in_index", 0)
    kept_full = runs["resolver-fast"].get("sessions_in_index", 0)
    if kept_full > kept_small:
        per_session = (rss_full - rss_small) * 1024 * 1024 / (kept_full - kept_small)
        print(
            f"{'  growth per session kept in the index':44} {per_session:.0f} bytes "
            f"({kept_small} sessions at {small} files, {kept_full} at {total_files})"
        )
    counts = {
        "ground truth": manifest["attributed"],
        "resolver-fast": runs["resolver-fast"]["attributed"],
        "resolver-stdlib": runs["resolver-stdlib"]["attributed"],
        "duckdb": runs["duckdb"]["attributed"],
    }
    twice = runs["check-fast"]["attributed_twice"]
    agree = {counts["ground truth"], counts["duckdb"]} == {counts["resolver-fast"] - twice} and (
        counts["resolver-fast"] == counts["resolver-stdlib"]
    )
    print(
        f"{'attributed counts':44} {counts} {'agree' if agree else 'DISAGREE'}"
        + (f" (the resolvers' include {twice} copies emitted twice)" if twice else "")
    )
    truth = manifest["attribution_digest"]
    checks_ok = True
    for kind in ("fast", "stdlib"):
        if f"check-{kind}" not in runs:
            continue
        check = runs[f"check-{kind}"]
        same = (
            check["attribution_digest"] == truth and check["attributed"] == manifest["attributed"]
        )
        checks_ok = checks_ok and same
        print(
            f"{'per event, resolver-' + kind:44} {check['attributed']} events named as in the "
            f"ground truth: {'identical' if same else 'DIFFERENT'} (digest "
            f"{check['attribution_digest']} vs {truth}); duplicates dropped "
            f"{check['duplicates_dropped']} of {manifest['duplicates']}, "
            f"{check['emitted_twice']} emitted twice (farther apart than the window)"
        )
    keyed = {label: runs[label]["keyed"] for label in ("raw-fast", "raw-stdlib")}
    same_keyed = len(set(keyed.values())) == 1
    print(f"{'raw decoders: keyed events':44} {keyed}")
    print(flush=True)
    return {
        "profile": profile.name,
        "manifest": manifest,
        "runs": runs,
        "rates": rate,
        "interleaved": interleaved,
        "ok": checks_ok and agree and same_keyed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="identity resolver benchmark")
    parser.add_argument(
        "--profile",
        action="append",
        choices=sorted(PROFILES),
        help="trail shape (repeatable; default: every profile)",
    )
    parser.add_argument(
        "--records", type=int, default=None, help="corpus size (default: each profile's own)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per contender (best kept)")
    parser.add_argument("--json-out", type=Path, help="also write the figures here as JSON")
    parser.add_argument(
        "--thorough",
        action="store_true",
        help="also check the stdlib path event by event and interleave it with raw decode",
    )
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.contender:
        print(json.dumps(run_contender(args.contender, args.corpus, args.limit)))
        return 0
    reports = [
        drive(PROFILES[name], args.records or PROFILES[name].records, args.repeat, args.thorough)
        for name in args.profile or list(PROFILES)
    ]
    if len(reports) > 1:
        print("Summary (events/s per CPU second; ratios within a profile, same run):")
        for report in reports:
            rate = report["rates"]
            print(
                f"  {report['profile']:8} resolver-fast {rate['resolver-fast']:>9.0f} "
                f"= {rate['resolver-fast'] / rate['raw-fast']:.2f}x raw-fast, "
                f"{rate['resolver-fast'] / rate['duckdb']:.2f}x duckdb; resolver-stdlib "
                f"{rate['resolver-stdlib'] / rate['raw-stdlib']:.2f}x raw-stdlib"
            )
    if args.json_out:
        args.json_out.write_text(json.dumps(reports, indent=2, default=str))
    return 0 if all(report["ok"] for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
