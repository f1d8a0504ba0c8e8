"""The issuance index in CE storage (``storage["index"]``), kept within a byte budget.

Stored form (JSON-able, compact lists rather than objects because the budget is bytes)::

    {"v": 1, "watermark": 1688990087,
     "sessions": [[key, kind, origin..., parent_key, role_arn, session_name, account, region,
                   issued_at, expires_at, source_identity, assumed_role_id, shared_event_id,
                   caller_copy], ...],
     "console": [[principal_id, created_at, origin..., role_arn, session_name, account,
                  expires_at], ...],
     "held": [[[awaited, ...], deadline, [event, ...]], ...],
     "given_up": [[awaited, session key, deadline], ...],
     "given_up_checks": [[session key, [AssumeRole event, ...]], ...],
     "timeline": {"<account>/<role name>": [[at, enforces], ...]}}

Within the budget (default 8 MB serialized) sessions expired longer ago than the retention go
first (trust-policy changes superseded more than a week ago, too: an event read hours
behind the watermark must still find the change that governed its session's creation); then
held events beyond a quarter of the budget (handed back to the resolver, which
reports them unresolved rather than losing them); then live sessions, oldest issued first;
then the oldest roles' timelines. Every drop is counted in the ``SaveReport``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from .events import TrailEvent, to_dict
from .hold_queue import HeldGroup
from .index import ConsoleSwitch, IssuanceIndex, IssuedSession
from .resolution import Origin
from .stdlib_model import RecordError, event_from_mapping
from .timeline import TrustTimeline

STORAGE_VERSION: Final = 1
DEFAULT_BUDGET_BYTES: Final = 8 * 1024 * 1024
HELD_SHARE: Final = 0.25  # of the budget, at most, for held events
_SEPARATORS: Final = (",", ":")


@dataclass(slots=True)
class SaveReport:
    bytes: int = 0
    sessions: int = 0
    held: int = 0
    expired_dropped: int = 0
    live_evicted: int = 0
    timeline_dropped: int = 0
    console_dropped: int = 0
    given_up_dropped: int = 0  # given-up sessions not saved for want of room
    held_overflow: list[HeldGroup] = field(default_factory=list)


@dataclass(slots=True)
class LoadReport:
    sessions: int = 0
    held: int = 0
    skipped: int = 0  # malformed entries ignored
    reset: bool = False  # the stored index was unusable (other version, not an object)


def to_storage(
    index: IssuanceIndex,
    *,
    budget_bytes: int = DEFAULT_BUDGET_BYTES,
    retention_seconds: float = 7200.0,
    timeline_retention_seconds: float = 7 * 86400.0,
) -> tuple[dict[str, Any], SaveReport]:
    """The index as stored, within ``budget_bytes`` serialized (see module docstring).
    Sessions are kept ``retention_seconds`` past their expiry; trust-policy changes
    ``timeline_retention_seconds`` past being superseded.

    Held events that do not fit are removed and returned in ``SaveReport.held_overflow``.
    """
    report = SaveReport()
    horizon = index.watermark - retention_seconds
    before = len(index.sessions)
    consoles = len(index.console)
    index.prune(horizon)
    report.expired_dropped = before - len(index.sessions)
    report.console_dropped = consoles - len(index.console)
    report.timeline_dropped = index.timeline.trim(
        index.watermark - max(retention_seconds, timeline_retention_seconds)
    )

    # Expired sessions first (kept for trail files read late), then live ones, each
    # oldest issued first: the budget drops from the front.
    watermark = index.watermark
    holds = index.holds
    sessions = sorted(
        index.sessions.values(), key=lambda s: (s.expires_at > watermark, s.issued_at)
    )
    session_rows = [_session_row(s) for s in sessions]
    held_rows = [
        [list(g.awaited), int(g.deadline), [to_dict(e) for e in holds.events_of(g)]]
        for g in holds.groups()
    ]
    console_rows = [_console_row(c) for c in index.console.values()]
    document: dict[str, Any] = {
        "v": STORAGE_VERSION,
        "watermark": int(index.watermark),
        "sessions": session_rows,
        "console": console_rows,
        "held": held_rows,
        **_given_up_sections(index),
        "timeline": index.timeline.to_storage(),
    }
    size = _size(document)
    if size > budget_bytes:
        size = _fit(index, document, sessions, budget_bytes, size, report)
    report.bytes = size
    report.sessions = len(document["sessions"])
    report.held = sum(len(row[2]) for row in document["held"])
    return document, report


def _given_up_sections(index: IssuanceIndex) -> dict[str, list[list[Any]]]:
    return {
        "given_up": [
            [awaited, key, int(deadline)]
            for awaited, waiting in index.holds.given_up.items()
            for key, deadline in waiting.items()
        ],
        "given_up_checks": [
            [key, [to_dict(event) for event in events]]
            for key, events in index.holds.given_up_checks.items()
        ],
    }


def restore_given_up(
    index: IssuanceIndex, document: dict[str, Any], *, budget_bytes: int, report: SaveReport
) -> None:
    """Rewrite ``document``'s given-up sections from the index as it is now.

    ``to_storage`` removes the held events that do not fit; the caller then gives them
    up (``give_up``), after the document was built. Without this, what it gave up would
    not be saved, and the next pull could not attribute those sessions late. While the
    document is over ``budget_bytes``, kept AssumeRole events and then given-up sessions
    are dropped, oldest first (``_trim_given_up``).
    """
    document.update(_given_up_sections(index))
    _trim_given_up(index, document, _size(document), budget_bytes, report)
    report.bytes = _size(document)


def _trim_given_up(
    index: IssuanceIndex, document: dict[str, Any], size: int, budget: int, report: SaveReport
) -> int:
    """Drop kept AssumeRole events, then given-up sessions, oldest first, from ``document``
    and the index while ``size`` (the document's) is over ``budget``; the size after."""
    checks: list[list[Any]] = document["given_up_checks"]
    drop = 0
    while size > budget and drop < len(checks):
        size -= _size(checks[drop]) + 1
        drop += 1
    for key, _events in checks[:drop]:
        index.holds.take_checks(key)
    document["given_up_checks"] = checks[drop:]
    given: list[list[Any]] = document["given_up"]
    drop = 0
    while size > budget and drop < len(given):
        size -= _size(given[drop]) + 1
        drop += 1
    for awaited, key, _deadline in given[:drop]:
        index.holds.forget_given_up(awaited, key)
    document["given_up"] = given[drop:]
    report.given_up_dropped += drop
    return size


def _fit(
    index: IssuanceIndex,
    document: dict[str, Any],
    sessions: list[IssuedSession],
    budget: int,
    size: int,
    report: SaveReport,
) -> int:
    held_rows: list[list[Any]] = document["held"]
    held_size = _size(held_rows)
    held_limit = int(budget * HELD_SHARE)
    if held_size > held_limit:
        drop = 0
        while held_size > held_limit and drop < len(held_rows):
            held_size -= _size(held_rows[drop]) + 1
            drop += 1
        report.held_overflow = index.holds.take_oldest(drop)
        document["held"] = held_rows[drop:]
        size = _size(document)
    if size > budget:  # what was given up yields before live sessions do
        size = _trim_given_up(index, document, size, budget, report)
    rows: list[list[Any]] = document["sessions"]
    evict = 0
    while size > budget and evict < len(rows):
        size -= _size(rows[evict]) + 1
        evict += 1
    if evict:
        expired = 0
        for session in sessions[:evict]:
            expired += session.expires_at <= index.watermark
            index.forget(session)
        document["sessions"] = rows[evict:]
        report.expired_dropped += expired
        report.live_evicted = evict - expired
        size = _size(document)
    while size > budget and len(index.timeline):
        report.timeline_dropped += index.timeline.drop_oldest_roles(
            max(1, len(index.timeline) // 10)
        )
        document["timeline"] = index.timeline.to_storage()
        size = _size(document)
    return size


def from_storage(data: object) -> tuple[IssuanceIndex, LoadReport]:
    """The index stored by ``to_storage``; unusable parts are skipped and counted."""
    index = IssuanceIndex()
    holds = index.holds
    report = LoadReport()
    if data is None:
        return index, report
    if not isinstance(data, dict) or data.get("v") != STORAGE_VERSION:
        report.reset = True
        return index, report
    watermark = data.get("watermark")
    index.watermark = float(watermark) if isinstance(watermark, int | float) else 0.0
    for row in _rows(data.get("sessions")):
        session = _session_from_row(row)
        if session is None:
            report.skipped += 1
        else:
            index.add(session)
    for row in _rows(data.get("console")):
        switch = _console_from_row(row)
        if switch is None:
            report.skipped += 1
        else:
            index.add_console_switch(switch)
    for row in _rows(data.get("held")):
        group, skipped = _held_from_row(row)
        report.skipped += skipped
        if group is not None:
            holds.hold(group)
    for row in _rows(data.get("given_up")):
        if (
            isinstance(row, list)
            and len(row) == 3
            and isinstance(row[0], str)
            and isinstance(row[1], str)
            and isinstance(row[2], int | float)
        ):
            holds.give_up(row[0], row[1], float(row[2]))
        else:
            report.skipped += 1
    for row in _rows(data.get("given_up_checks")):
        if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str)):
            report.skipped += 1
            continue
        for stored in _rows(row[1]):
            holds.given_up_checks.setdefault(row[0], [])  # kept even if none loads, as before
            try:
                holds.keep_check(row[0], event_from_mapping(stored))
            except RecordError:
                report.skipped += 1
    index.timeline, skipped = TrustTimeline.from_storage(data.get("timeline"))
    report.skipped += skipped
    report.sessions = len(index.sessions)
    report.held = holds.held_count
    return index, report


def _size(value: object) -> int:
    return len(json.dumps(value, separators=_SEPARATORS))


def _rows(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _origin_row(origin: Origin) -> list[Any]:
    return [
        origin.type,
        origin.arn,
        origin.user_name,
        origin.account_id,
        origin.principal_id,
        origin.provider,
    ]


def _origin_from(values: list[Any]) -> Origin | None:
    if not isinstance(values[0], str) or not all(_opt_str(v) for v in values[1:6]):
        return None
    return Origin(*values[:6])


def _session_row(s: IssuedSession) -> list[Any]:
    return [
        s.access_key_id,
        s.kind,
        *_origin_row(s.origin),
        s.parent_key,
        s.role_arn,
        s.session_name,
        s.account_id,
        s.region,
        int(s.issued_at),
        int(s.expires_at),
        s.source_identity,
        s.assumed_role_id,
        s.shared_event_id,
        1 if s.caller_copy else 0,
    ]


_SESSION_FIELDS: Final = 19


def _session_from_row(row: object) -> IssuedSession | None:
    if not isinstance(row, list) or len(row) != _SESSION_FIELDS:
        return None
    key, kind = row[0], row[1]
    origin = _origin_from(row[2:8])
    strings = row[8:13] + row[15:18]
    times = row[13:15]
    if (
        not isinstance(key, str)
        or not isinstance(kind, str)
        or origin is None
        or not all(_opt_str(v) for v in strings)
        or not all(_is_number(t) for t in times)
        or row[18] not in (0, 1)
    ):
        return None
    parent, role_arn, session_name, account, region = row[8:13]
    source_identity, assumed_role_id, shared = row[15:18]
    return IssuedSession(
        key,
        kind,
        origin,
        parent,
        role_arn,
        session_name,
        account,
        region,
        float(times[0]),
        float(times[1]),
        source_identity,
        assumed_role_id,
        shared,
        row[18] == 1,
    )


def _console_row(c: ConsoleSwitch) -> list[Any]:
    return [
        c.principal_id,
        int(c.created_at),
        *_origin_row(c.origin),
        c.role_arn,
        c.session_name,
        c.account_id,
        int(c.expires_at),
    ]


def _console_from_row(row: object) -> ConsoleSwitch | None:
    if not isinstance(row, list) or len(row) != 12:
        return None
    origin = _origin_from(row[2:8])
    if (
        not isinstance(row[0], str)
        or not _is_number(row[1])
        or origin is None
        or not all(_opt_str(v) for v in row[8:11])
        or not _is_number(row[11])
    ):
        return None
    return ConsoleSwitch(row[0], float(row[1]), origin, row[8], row[9], row[10], float(row[11]))


def _held_from_row(row: object) -> tuple[HeldGroup | None, int]:
    """A stored held group, and how many of its parts were unusable."""
    if not isinstance(row, list) or len(row) != 3:
        return None, 1
    awaited, deadline, stored = row
    if (
        not isinstance(awaited, list)
        or not awaited
        or not all(isinstance(key, str) for key in awaited)
        or not _is_number(deadline)
        or not isinstance(stored, list)
    ):
        return None, 1
    held: list[TrailEvent] = []
    skipped = 0
    for data in stored:
        try:
            held.append(event_from_mapping(data))
        except RecordError:
            skipped += 1
    if not held:
        return None, skipped or 1
    return HeldGroup(tuple(awaited), float(deadline), held[0], held[1:]), skipped


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _opt_str(value: object) -> bool:
    return value is None or isinstance(value, str)
