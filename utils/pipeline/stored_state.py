"""Typed loading of CE storage: every section checked against the shape its writer writes.

CE hands back whatever it saved, and what it saved may come from another version of the
plugin, a restore, or a bug. Each component loads its own section defensively, but a value
of the wrong type in the wrong place (``outbox.totals`` a string, ``posture.last_scan`` not a
time, ``posture.roles`` a number) used to fail every pull from then on, while other damage
was dropped without a word. So before anything reads storage, each section is checked here
against the model its writer produces: a section that does not match is removed (its owner
starts it afresh) and reported once, naming the section, where it was wrong and what was
lost. The others are left as they are.

The checks are deliberately as strict as the writers: a stored value the code would not have
written is damage, whatever its owner's loader would make of it. Compressed blobs are
inflated with a bound, so a damaged blob cannot balloon the pull either.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ..cloudtrail.index_storage import STORAGE_VERSION as INDEX_VERSION
from ..json_kind import json_kind as _kind
from ..readers import lookup_events
from ..splunk.outbox import SCHEMA as OUTBOX_SCHEMA
from .posture_phase import STORAGE_VERSION as POSTURE_VERSION

KNOWN_READER_VERSION: Final = 1  # the checkpoint version the reader models below describe
ACTIVITY_VERSION: Final = 1  # activity_phase.STORAGE_VERSION (not imported: a cycle)
MAX_BLOB_BYTES: Final = 16 * 1024 * 1024  # inflated size of one stored blob, at most
PREFIX: Final = "Stored state"


class Invalid(Exception):
    """Where a stored value departs from its model (the path) and how (the message)."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path
        self.what = what


Check = Callable[[Any, str], None]


def _expect(value: object, path: str, wanted: str) -> Invalid:
    return Invalid(path, f"{_kind(value)} where {wanted} was expected")


def string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _expect(value, path, "a string")


def integer(value: Any, path: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _expect(value, path, "an integer")


def number(value: Any, path: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _expect(value, path, "a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise Invalid(path, "not a finite number")


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise _expect(value, path, "true or false")


def anything(value: Any, path: str) -> None:
    return None


def optional(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return run


def exactly(expected: object) -> Check:
    def run(value: Any, path: str) -> None:
        if type(value) is not type(expected) or value != expected:
            raise Invalid(path, f"version {str(value)[:20]!r}, this version reads {expected!r}")

    return run


def aware_time(value: Any, path: str) -> None:
    """An ISO 8601 time with a UTC offset, as ``datetime.isoformat`` writes an aware one."""
    string(value, path)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(path, "not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise Invalid(path, "a time without a UTC offset")


def list_of(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _expect(value, path, "an array")
        for index, item in enumerate(value):
            check(item, f"{path}[{index}]")

    return run


def row(*checks: Check, optional_tail: int = 0) -> Check:
    """A fixed-length array (a compact row), each position with its own check."""

    def run(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _expect(value, path, "an array")
        if not len(checks) - optional_tail <= len(value) <= len(checks):
            raise Invalid(path, f"{len(value)} items where {len(checks)} were expected")
        for index, (item, check) in enumerate(zip(value, checks, strict=False)):
            check(item, f"{path}[{index}]")

    return run


def mapping(values: Check, keys: Check = string) -> Check:
    """An object used as a map (any keys passing ``keys``, every value passing ``values``)."""

    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _expect(value, path, "an object")
        for key, item in value.items():
            keys(key, f"{path} key")
            values(item, f"{path}.{str(key)[:40]}")

    return run


def record(
    fields: Mapping[str, Check], *, required: tuple[str, ...] = (), closed: bool = False
) -> Check:
    """An object with known fields (``required`` ones present; ``closed``: no others)."""

    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _expect(value, path, "an object")
        for name in required:
            if name not in value:
                raise Invalid(path, f"{name!r} is missing")
        for name, item in value.items():
            check = fields.get(name)
            if check is None:
                if closed:
                    raise Invalid(path, f"unexpected field {str(name)[:40]!r}")
                continue
            check(item, f"{path}.{name}")

    return run


def digits(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value.isdigit() or not value.isascii():
        raise Invalid(path, "not a decimal number")


def base64_text(value: Any, path: str) -> None:
    string(value, path)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(path, "not base64") from None


def inflate_bounded(stored: str, path: str) -> bytes:
    """What ``compact.pack`` stored, inflated to at most ``MAX_BLOB_BYTES``."""
    try:
        packed = base64.b64decode(stored, validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_BLOB_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise Invalid(path, "not a compressed blob") from None
    if len(data) > MAX_BLOB_BYTES or inflater.unconsumed_tail:
        raise Invalid(path, f"inflates to more than {MAX_BLOB_BYTES} bytes")
    if not inflater.eof:
        raise Invalid(path, "a truncated compressed blob")
    return data


def blob_of(check: Check) -> Check:
    """A ``compact.pack`` blob whose JSON content passes ``check``."""

    def run(value: Any, path: str) -> None:
        string(value, path)
        data = inflate_bounded(value, path)
        try:
            content = json.loads(data)
        except (ValueError, RecursionError):
            raise Invalid(path, "its content is not JSON") from None
        check(content, f"{path}(inflated)")

    return run


# ------------------------------------------------------------------ the sections' models

# An alert as ``builder.stored_alert`` keeps it (backlog, replay, judged checks).
STORED_ALERT: Final = record(
    {
        "id": string,
        "alertName": string,
        "alertType": string,
        "type": string,
        "app": optional(string),
        "appCategory": optional(string),
        "user": optional(string),
        "timestamp": aware_time,
        "rawData": mapping(anything),
    },
    required=("id", "alertName", "alertType", "type", "timestamp", "rawData"),
    closed=True,
)

POSTURE: Final = record(
    {
        "v": exactly(POSTURE_VERSION),
        "last_scan": optional(aware_time),
        "roles": list_of(row(string, string, string, string, string)),
    },
    required=("v",),
)

_TIMES: Final = list_of(number)
_STRINGS: Final = list_of(string)
SESSION_WINDOW: Final = record(
    {
        "key": string,
        "account_id": string,
        "role_arn": string,
        "session_name": string,
        "window_start": number,
        "first_seen": number,
        "last_seen": number,
        "resolution": mapping(anything),
        "counts": list_of(row(string, integer)),
        "samples": _STRINGS,
        "source_ips": _STRINGS,
        "user_agents": _STRINGS,
        "regions": _STRINGS,
        "access_keys": _STRINGS,
        "errors": integer,
        "samples_at": _TIMES,
        "source_ips_at": _TIMES,
        "user_agents_at": _TIMES,
        "regions_at": _TIMES,
        "access_keys_at": _TIMES,
        "resources": _STRINGS,
        "resources_at": _TIMES,
        "resolution_at": list_of(anything),
        "created": optional(number),
        "withdrawn": boolean,
        "raised": boolean,
    },
    required=(
        "key",
        "account_id",
        "role_arn",
        "session_name",
        "window_start",
        "first_seen",
        "last_seen",
        "resolution",
    ),
    closed=True,
)
JUDGED_CHECK: Final = record(
    {
        "alert": STORED_ALERT,
        "account_id": string,
        "role_arn": string,
        "at": number,
        "raised": boolean,
        "sent": boolean,
    },
    required=("alert", "account_id", "role_arn", "at", "raised", "sent"),
    closed=True,
)


def _counted(value: Any, path: str) -> None:
    if isinstance(value, list):  # 1.0.1 and earlier: the ids themselves
        _STRINGS(value, path)
    else:
        base64_text(value, path)


ACTIVITY: Final = record(
    {
        "v": exactly(ACTIVITY_VERSION),
        "open": list_of(SESSION_WINDOW),
        "counted": _counted,
        "shadows": base64_text,
        "checks": blob_of(list_of(JUDGED_CHECK)),
        "users": _STRINGS,
    },
    required=("v",),
)


def _array(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise _expect(value, path, "an array")


# Row contents are the index's own loader's to judge: it drops and counts what it cannot read
# (reported as this section too), and walking every item here would double its work.
_ROWS: Final = list_of(_array)
INDEX: Final = record(
    {
        "v": exactly(INDEX_VERSION),
        "watermark": number,
        "sessions": _ROWS,
        "console": _ROWS,
        "held": _ROWS,
        "given_up": list_of(row(string, string, number)),
        "given_up_checks": list_of(row(string, list_of(mapping(anything)))),
        "timeline": mapping(list_of(row(number, optional(boolean)))),
    },
    required=("v",),
)

OUTBOX: Final = record(
    {
        "schema": exactly(OUTBOX_SCHEMA),
        "channel": string,
        "pending": list_of(
            record(
                {
                    "id": string,
                    "version": string,
                    "size": integer,
                    "enqueued_at": number,
                    "attempts": integer,
                    "z": blob_of(anything),
                    "body": string,
                    "ack": integer,
                    "sent_at": number,
                },
                required=("id", "version"),
            )
        ),
        "delivered": list_of(row(string, string, number)),
        "drops": list_of(
            record(
                {
                    "id": string,
                    "version": string,
                    "reason": string,
                    "detail": string,
                    "code": optional(integer),
                }
            )
        ),
        "drops_not_itemised": integer,
        "totals": mapping(integer),
    },
    required=("schema",),
)

REPLAY: Final = record(
    {
        "format": string,
        "blob": blob_of(list_of(STORED_ALERT)),
        "count": integer,
        "not_replayable": integer,
    }
)
BACKLOG: Final = record({"alerts": list_of(STORED_ALERT)})
HEALTH: Final = mapping(anything)


def _when_version(version: int, check: Check) -> Check:
    """A reader's checkpoint, checked only in the version this module knows: another
    version is its reader's to judge (and report), not damage."""

    def run(value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("v") != version:
            return
        check(value, path)

    return run


_WINDOW: Final = record(
    {
        "start": aware_time,
        "end": aware_time,
        "until": aware_time,
        "next_page": string,
        "oldest": aware_time,
    },
    required=("start", "end", "until"),
)
LOOKUP_CHECKPOINT: Final = _when_version(
    KNOWN_READER_VERSION,
    record(
        {
            "v": integer,
            "attribute": string,
            "scopes": mapping(
                record(
                    {
                        "cursor": optional(aware_time),
                        "ids": mapping(string, keys=digits),
                        "window": _WINDOW,
                    }
                )
            ),
        },
        required=("v",),
    ),
)
# The readers' own versions: a checkpoint model above applies only while they match.
# The S3 and SQS readers validate their compact checkpoints themselves, entry by entry, so a
# damaged folder or handle costs only itself rather than the whole section.
_READER_VERSIONS: Final = {
    "lookup_events": (lookup_events.STATE_VERSION, LOOKUP_CHECKPOINT),
}

# What a reset costs, per section, in the words of the problem an admin reads.
LOST: Final[dict[str, str]] = {
    "posture": "the last trust-policy verdicts; every role is scanned again now",
    "activity": (
        "open activity windows, counted event ids and recent session-name checks; events "
        "already counted may be counted again in new windows"
    ),
    "index": (
        "issued sessions, held events and the trust-policy timeline; events of sessions "
        "issued before this pull may be reported unattributed"
    ),
    "sources.s3": "the S3 read position; reading restarts from the look-back window",
    "sources.sqs": (
        "pending message deletes and recently read objects; some messages may be read twice "
        "(alerts keep their ids)"
    ),
    "sources.lookup_events": "the LookupEvents read position; reading restarts from the look-back",
    "sources": "every reader's read position; reading restarts from the look-back window",
    "outbox": (
        "Splunk events waiting for delivery (they reached CE) and the delivered-id window "
        "(some may be sent to Splunk again)"
    ),
    "backlog": "alerts deferred by Maximum Alerts per Pull",
    "replay": "the previous pull's alerts kept for one repeat to CE",
    "health": "the previous pull's health record (rewritten by this pull)",
}
SECTIONS: Final[dict[str, Check]] = {
    "posture": POSTURE,
    "activity": ACTIVITY,
    "index": INDEX,
    "outbox": OUTBOX,
    "backlog": BACKLOG,
    "replay": REPLAY,
    "health": HEALTH,
}


@dataclass(frozen=True, slots=True)
class SectionReset:
    """One stored section that did not match its model and was reset."""

    section: str
    where: str
    what: str

    @property
    def message(self) -> str:
        return (
            f"{PREFIX} '{self.section}' could not be read ({self.where}: {self.what}) and was "
            f"reset. Lost: {LOST.get(self.section, 'its content')}."
        )


def _check(check: Check, value: Any, path: str) -> Invalid | None:
    try:
        check(value, path)
    except Invalid as invalid:
        return invalid
    except RecursionError:  # nested deeper than any writer nests
        return Invalid(path, "nested too deeply")
    return None


def load_storage(storage: dict[str, Any]) -> list[SectionReset]:
    """Check every known section of ``storage`` in place; remove those that fail (their
    owners start them afresh) and return one ``SectionReset`` per removal."""
    resets: list[SectionReset] = []
    for section, check in SECTIONS.items():
        if section not in storage:
            continue
        invalid = _check(check, storage[section], section)
        if invalid is not None:
            del storage[section]
            resets.append(SectionReset(section, invalid.path, invalid.what))
    if "sources" in storage:
        resets.extend(_load_sources(storage))
    return resets


def _load_sources(storage: dict[str, Any]) -> list[SectionReset]:
    sources = storage["sources"]
    if not isinstance(sources, dict):
        del storage["sources"]
        what = f"{_kind(sources)} where an object was expected"
        return [SectionReset("sources", "sources", what)]
    resets: list[SectionReset] = []
    for key, (version, check) in _READER_VERSIONS.items():
        if key not in sources or version != KNOWN_READER_VERSION:  # a reader moved on
            continue
        name = f"sources.{key}"
        invalid = _check(check, sources[key], name)
        if invalid is not None:
            del sources[key]
            resets.append(SectionReset(name, invalid.path, invalid.what))
    return resets
