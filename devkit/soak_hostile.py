"""The soak's hostile mode (``python -m devkit soak --hostile``, ``make soak-hostile``).

Whoever can write to the trail bucket writes the plugin's input. In hostile mode the
disturbed run's stream carries, besides the corpus, one hostile item of every class at the
object and record boundaries (threat model: deep nesting, wrong shapes, invalid UTF-8, a
gzip bomb, absurd record counts, shapes that cost many times their bytes once decoded, a
record nested too deeply or of the wrong shape inside a valid trail file). The reference run
reads the corpus alone. Pass: every reference alert arrives (the soak's usual comparison:
the hostile items change no alert), and each hostile item is reported exactly once over the
run's committed pulls (``health.problems``), never again (never retried forever).
"""

from __future__ import annotations

import gzip
import json
import random
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEEP = 200_000  # levels of nesting: far past any parser's recursion limit
MiB = 1024 * 1024


@dataclass(frozen=True)
class HostileItem:
    """One hostile item: its class, the object key it travels in, and where it is."""

    kind: str
    key: str
    boundary: str  # "object": a whole object of its own | "record": inside a corpus file
    increment: int


def _gz(body: bytes) -> bytes:
    return gzip.compress(body, 6, mtime=0)


def _bomb(inflated: int) -> bytes:
    """A few MB of gzip inflating to ``inflated`` bytes of trail-like records (streamed)."""
    record = json.dumps(
        {"eventID": "bomb", "eventName": "GetObject", "eventSource": "s3.amazonaws.com"}
    ).encode()
    block = (record + b",") * (MiB // (len(record) + 1))
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b'{"Records":[')]
    for _ in range(inflated // len(block)):
        parts.append(packer.compress(block))
    parts += [packer.compress(b"{}]}"), packer.flush()]
    return b"".join(parts)


OBJECTS: dict[str, Callable[[], bytes]] = {
    "deep_nesting": lambda: _gz(b'{"Records":[' + b"[" * DEEP + b"]" * DEEP + b"]}"),
    "records_not_a_list": lambda: _gz(b'{"Records": {"eventID": "x"}}'),
    "json_scalar": lambda: _gz(b'"Records"'),
    "invalid_utf8": lambda: _gz(b'{"Records":[{"eventID":"\xff\xfe"}]}'),
    "not_json": lambda: _gz(b"<html>not a trail file</html>"),
    "gzip_bomb": lambda: _bomb(512 * MiB),
    "absurd_record_count": lambda: _gz(b'{"Records":[' + b"{}," * 100_000 + b"{}]}"),
    "costly_shape": lambda: _gz(b'{"Records":[' + b"0," * 10_000_000 + b"0]}"),
}


def _deep_record() -> bytes:
    return b'{"eventID":"hostile-deep","x":' + b"[" * DEEP + b"]" * DEEP + b"}"


RECORDS: dict[str, Callable[[], bytes]] = {
    "deep_record": _deep_record,
    "record_of_the_wrong_shape": lambda: json.dumps(
        {
            "eventID": "hostile-shape",
            "eventName": "AssumeRole",
            "eventSource": "sts.amazonaws.com",
            "eventTime": "2026-01-01T00:00:00Z",
            "userIdentity": "root",
        }
    ).encode(),
    "record_a_scalar": lambda: b'"eventID"',
}


def with_record(original: bytes, hostile: bytes) -> bytes:
    """A corpus trail file (gzip JSON) with ``hostile`` inserted as its second record."""
    records = json.loads(gzip.decompress(original))["Records"]
    encoded = [json.dumps(r).encode() for r in records]
    encoded.insert(min(1, len(encoded)), hostile)
    return _gz(b'{"Records":[' + b",".join(encoded) + b"]}")


def plan_items(
    increments: Sequence[Any],
    renamed: Callable[[str, random.Random], str],
    upload_type: Callable[..., Any],
    seed: int,
) -> list[HostileItem]:
    """Add one hostile item of every class to the plan's increments (in place), spread
    over them; returns the items. ``upload_type`` builds the soak's ``Upload``s."""
    rng = random.Random(seed + 17)
    items: list[HostileItem] = []
    usable = [inc for inc in increments if any(u.kind == "trail" for u in inc.uploads)]
    kinds = [("object", kind) for kind in OBJECTS] + [("record", kind) for kind in RECORDS]
    for number, (boundary, kind) in enumerate(kinds):
        increment = usable[number % len(usable)]
        trail = [u for u in increment.uploads if u.kind == "trail" and u.hostile_body is None]
        host = trail[rng.randrange(len(trail))]
        if boundary == "object":
            key = renamed(host.key, rng)
            increment.uploads.append(upload_type(key, "hostile", body=OBJECTS[kind]()))
        else:
            key = host.key
            index = increment.uploads.index(host)
            increment.uploads[index] = upload_type(
                host.key,
                host.kind,
                path=host.path,
                body=host.body,
                hostile_body=with_record(host.data(), RECORDS[kind]()),
            )
        items.append(HostileItem(kind, key, boundary, increment.number))
    return items


def reports(items: Sequence[HostileItem], problems: Sequence[Sequence[str]]) -> dict[str, Any]:
    """How often each item was reported over the committed pulls (each pull's
    ``health.problems``), and the verdict's failures."""
    counts = {
        item.key: sum(1 for pulled in problems for text in pulled if item.key in text)
        for item in items
    }
    failures = [
        f"hostile item {item.kind} ({item.boundary}, {item.key}) reported "
        f"{counts[item.key]} times, not once"
        for item in items
        if counts[item.key] != 1
    ]
    return {
        "items": [
            {
                "kind": item.kind,
                "boundary": item.boundary,
                "increment": item.increment,
                "key": item.key,
                "reports": counts[item.key],
            }
            for item in items
        ],
        "failures": failures,
    }


def summary_lines(figures: Mapping[str, Any]) -> list[str]:
    items = figures.get("items") or []
    once = sum(1 for item in items if item["reports"] == 1)
    lines = [f"  hostile items: {len(items)}, reported exactly once: {once}"]
    lines += [
        f"    {item['kind']:<26} {item['boundary']:<7} increment {item['increment']:<3} "
        f"reports {item['reports']}"
        for item in items
    ]
    return lines
