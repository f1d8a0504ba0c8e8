"""A durable outbox for Splunk delivery, kept in CE storage (``storage["outbox"]``).

CE persists the plugin's storage only when ``pull_alerts`` returns normally, so the outbox is
exactly as durable as a pull: what is enqueued (and what is marked delivered) during a pull
survives if and only if that pull returns. Consequences, stated honestly in docs/delivery.md:

- A HEC outage never loses an alert: ``flush`` reports instead of raising, the pull returns,
  the alerts reach CE and stay queued here for the next pull.
- A process killed after a successful POST but before the pull returns loses the
  "delivered" marks, and the next pull sends those events again. Splunk delivery is
  therefore at-least-once; events carry a stable ``id`` and ``alert_version`` so a search
  removes the copies (``| dedup id alert_version``). Call ``flush`` as the very last step of
  the pull to keep that window as small as a handful of milliseconds.

Bounded on purpose (the storage is one database document): at most ``max_pending`` events and
``max_pending_bytes`` of them as stored, oldest dropped first, and every drop is itemised in
the next ``FlushReport`` (never silent). Each pending event is stored zlib-compressed (base64):
about half its size, so twice as many alerts wait out a Splunk outage in the same room.
Delivered ids are remembered for ``delivered_ttl_seconds`` and
at most ``delivered_max`` of them, so a retried pull does not send them again.

Enqueue is idempotent per alert id and content version: the same content is not sent twice;
changed content (new version) is sent again and replaces a not-yet-sent older version.
Ids are stored in lists, never as keys: alert ids may contain dots, which MongoDB (CE's
storage) does not accept in field names. Everything stored is inert text (``utils/text.py``):
bodies are encoded by ``encode_envelope``, ids and drop details pass the sanitiser.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol

from ..compact import pack, unpack
from ..text import CAPS, inert, inert_id
from .cim import envelope_version
from .errors import HecConfigError, HecError, SendResult
from .hec_client import DEFAULT_MAX_BATCH_BYTES, HecEvent, encode_envelope

STORAGE_KEY: Final = "outbox"
SCHEMA: Final = 1


class EventSender(Protocol):
    """What the outbox needs from a HEC client (``HecClient`` satisfies it)."""

    def send(self, events: Sequence[HecEvent]) -> SendResult: ...


class AckQuerier(Protocol):
    """A sender that can say which deferred acknowledgements have come (``HecClient``)."""

    use_ack: bool

    def acknowledged(self, ack_ids: Sequence[int]) -> set[int]: ...


@dataclass(frozen=True)
class OutboxLimits:
    """Bounds of the outbox; the defaults keep it well under 3 MB of storage."""

    max_pending: int = 1000
    max_pending_bytes: int = 2_000_000  # as stored (compressed)
    max_event_bytes: int = DEFAULT_MAX_BATCH_BYTES
    delivered_max: int = 5000
    delivered_ttl_seconds: float = 7 * 24 * 3600.0
    max_itemised_drops: int = 100
    # An event accepted under an ackId that is still not indexed this long after it was
    # sent is sent again (Splunk forgets the ackIds of idle channels; at-least-once).
    ack_timeout_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_event_bytes > self.max_pending_bytes:
            raise ValueError("max_event_bytes must not exceed max_pending_bytes")
        if min(self.max_pending, self.delivered_max, self.max_itemised_drops) < 1:
            raise ValueError("outbox limits must be positive")


class Enqueued(StrEnum):
    """What ``enqueue`` did with an alert."""

    QUEUED = "queued"
    SUPERSEDED = "superseded"  # replaced a pending, older version of the same alert
    ALREADY_PENDING = "already_pending"
    ALREADY_DELIVERED = "already_delivered"
    TOO_LARGE = "too_large"


class DropReason(StrEnum):
    OUTBOX_FULL = "outbox full"
    TOO_LARGE = "event too large"
    REJECTED = "rejected by Splunk"
    MALFORMED = "alert cannot be formatted"
    UNREADABLE = "unreadable outbox entry"


@dataclass(frozen=True)
class Drop:
    """An alert that will not reach Splunk, with why."""

    alert_id: str
    version: str
    reason: DropReason
    detail: str = ""
    code: int | None = None

    def describe(self) -> str:
        extra = f": {self.detail}" if self.detail else ""
        return f"{self.alert_id} ({self.reason}{extra})"


@dataclass
class FlushReport:
    """The outcome of one ``flush``, for the pull's log line and the health summary."""

    delivered: list[str] = field(default_factory=list)
    dropped: list[Drop] = field(default_factory=list)
    drops_not_itemised: int = 0
    unacknowledged: list[str] = field(default_factory=list)
    awaiting_ack: int = 0  # accepted by HEC, acknowledgement asked for in a later flush
    pending: int = 0
    oldest_pending_age: float | None = None
    error: str | None = None
    error_field: str | None = None
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.dropped and not self.drops_not_itemised

    def summary(self) -> str:
        """One line for the log: counts, then what went wrong, never a secret."""
        parts = [f"delivered {len(self.delivered)}", f"{self.pending} pending"]
        if self.awaiting_ack:
            parts.append(f"{self.awaiting_ack} of them sent, awaiting indexer acknowledgement")
        if self.unacknowledged:
            parts.append(f"{len(self.unacknowledged)} not yet acknowledged (will be re-sent)")
        total_dropped = len(self.dropped) + self.drops_not_itemised
        if total_dropped:
            shown = "; ".join(d.describe() for d in self.dropped[:5])
            more = total_dropped - min(5, len(self.dropped))
            tail = f" and {more} more" if more else ""
            parts.append(f"dropped {total_dropped}: {shown}{tail}")
        line = "Splunk HEC delivery: " + ", ".join(parts) + "."
        if self.error:
            line += f" Delivery stopped: {self.error}"
        return line


@dataclass
class _Entry:
    alert_id: str
    version: str
    body: str
    stored: str  # ``body`` as kept in storage: zlib, base64
    enqueued_at: float
    attempts: int = 0
    ack: int | None = None  # the ackId HEC accepted it under, while not yet indexed
    sent_at: float | None = None

    @property
    def size(self) -> int:
        """Bytes it takes in storage (what ``max_pending_bytes`` bounds)."""
        return len(self.stored)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.alert_id,
            "version": self.version,
            "size": self.size,
            "enqueued_at": self.enqueued_at,
            "attempts": self.attempts,
            "z": self.stored,
        }
        if self.ack is not None:
            data["ack"] = self.ack
            data["sent_at"] = self.sent_at
        return data


class Outbox:
    """The ``storage["outbox"]`` state and the operations on it; see the module docstring."""

    def __init__(
        self, storage: MutableMapping[str, Any], limits: OutboxLimits | None = None
    ) -> None:
        self.limits = limits or OutboxLimits()
        state = storage.get(STORAGE_KEY)
        if not isinstance(state, MutableMapping) or state.get("schema") != SCHEMA:
            state = {"schema": SCHEMA}
            storage[STORAGE_KEY] = state
        self._state: MutableMapping[str, Any] = state
        # One HEC channel for the life of the outbox: deferred ackIds belong to it.
        channel = state.get("channel")
        if not isinstance(channel, str) or not channel:
            channel = str(uuid.uuid4())
            state["channel"] = channel
        self.channel: str = channel
        self._drops: list[dict[str, Any]] = [
            d for d in _list(state.get("drops")) if isinstance(d, dict)
        ]
        self._totals: dict[str, int] = {
            k: v for k, v in dict(state.get("totals") or {}).items() if isinstance(v, int)
        }
        not_itemised = state.get("drops_not_itemised")
        self._not_itemised = not_itemised if isinstance(not_itemised, int) else 0
        self._pending: list[_Entry] = []
        for item in _list(state.get("pending")):
            entry = _entry_from_json(item)
            if entry is None:
                self._record_drop(_drop_of_unreadable(item))
            else:
                self._pending.append(entry)
        self._delivered: dict[str, tuple[str, float]] = {}
        for item in _list(state.get("delivered")):
            if (
                isinstance(item, list)
                and len(item) == 3
                and isinstance(item[0], str)
                and isinstance(item[1], str)
                and isinstance(item[2], int | float)
            ):
                self._delivered[item[0]] = (item[1], float(item[2]))
        self._save(delivered=True)

    # ----------------------------------------------------------------- queries

    @property
    def pending_ids(self) -> list[str]:
        return [entry.alert_id for entry in self._pending]

    @property
    def pending_bytes(self) -> int:
        return sum(entry.size for entry in self._pending)

    def delivered_version(self, alert_id: str) -> str | None:
        record = self._delivered.get(alert_id)
        return record[0] if record else None

    @property
    def totals(self) -> Mapping[str, int]:
        """Counters since the outbox was created (delivered, dropped per reason)."""
        return dict(self._totals)

    # ----------------------------------------------------------------- enqueue

    def enqueue(self, alert_id: str, envelope: Mapping[str, Any], now: float) -> Enqueued:
        """Queue one HEC envelope for ``alert_id`` unless that exact content is already
        pending or delivered; a changed version replaces a pending older one in place."""
        alert_id = inert_id(alert_id)
        version = envelope_version(envelope)
        body = encode_envelope(envelope).decode()
        size = len(body.encode())
        if size > self.limits.max_event_bytes:
            self._record_drop(
                Drop(
                    alert_id,
                    version,
                    DropReason.TOO_LARGE,
                    f"{size} bytes, the limit is {self.limits.max_event_bytes}",
                )
            )
            self._save()
            return Enqueued.TOO_LARGE
        delivered = self.delivered_version(alert_id)
        existing = next((e for e in self._pending if e.alert_id == alert_id), None)
        if existing is not None and existing.version == version:
            return Enqueued.ALREADY_PENDING
        if existing is not None and delivered == version:
            self._pending.remove(existing)  # reverted to what Splunk already has
            self._save()
            return Enqueued.ALREADY_DELIVERED
        if existing is None and delivered == version:
            return Enqueued.ALREADY_DELIVERED
        if existing is not None:
            existing.version, existing.body, existing.stored = version, body, _pack(body)
            existing.attempts = 0
            existing.ack = existing.sent_at = None  # the new content has not been sent
            outcome = Enqueued.SUPERSEDED
        else:
            self._pending.append(_Entry(alert_id, version, body, _pack(body), now))
            outcome = Enqueued.QUEUED
        self._enforce_bounds()
        self._save()
        return outcome

    def _enforce_bounds(self) -> None:
        total = self.pending_bytes
        while self._pending and (
            len(self._pending) > self.limits.max_pending or total > self.limits.max_pending_bytes
        ):
            oldest = self._pending.pop(0)
            total -= oldest.size
            self._record_drop(
                Drop(
                    oldest.alert_id,
                    oldest.version,
                    DropReason.OUTBOX_FULL,
                    f"oldest of more than {self.limits.max_pending} events or "
                    f"{self.limits.max_pending_bytes} bytes waiting for Splunk",
                )
            )

    # ----------------------------------------------------------------- flush

    def flush(self, sender: EventSender, now: float) -> FlushReport:
        """Send what is pending, oldest first; keep what could not be sent.

        Never raises: a HEC outage or a configuration error is reported (``error``,
        ``error_field``) so the pull still returns its alerts to CE.
        """
        self._prune_delivered(now)
        report = FlushReport()
        self._settle_acks(sender, report, now)
        sendable = [e for e in self._pending if e.ack is None]
        if sendable:
            events = [HecEvent(e.alert_id, e.body.encode()) for e in sendable]
            try:
                result = sender.send(events)
            except HecError as error:
                result = error.partial
                report.error = str(error)
                report.error_field = error.field if isinstance(error, HecConfigError) else None
                report.exception = error
            except Exception as error:  # the boundary that keeps alerts flowing to CE
                result = SendResult()
                report.error = f"unexpected {type(error).__name__} while sending to Splunk HEC"
                report.exception = error
            self._apply(result, report, now, {e.alert_id for e in sendable})
        report.dropped = [_drop_from_json(d) for d in self._drops]
        report.drops_not_itemised, self._not_itemised = self._not_itemised, 0
        self._drops.clear()
        report.pending = len(self._pending)
        report.awaiting_ack = sum(1 for e in self._pending if e.ack is not None)
        if self._pending:
            report.oldest_pending_age = max(0.0, now - self._pending[0].enqueued_at)
        self._save(delivered=True)
        return report

    def _settle_acks(self, sender: EventSender, report: FlushReport, now: float) -> None:
        """Events sent by an earlier flush under an ackId: delivered once Splunk says they
        are indexed, sent again when that has not happened within ``ack_timeout_seconds``
        (or acknowledgement has been switched off)."""
        waiting = [e for e in self._pending if e.ack is not None]
        if not waiting:
            return
        acked: set[int] = set()
        query = getattr(sender, "acknowledged", None)
        if not getattr(sender, "use_ack", True) or query is None:
            for entry in waiting:
                entry.ack = entry.sent_at = None
            return
        try:
            acked = set(query(sorted({e.ack for e in waiting if e.ack is not None})))
        except HecError as error:
            report.error = str(error)
            report.error_field = error.field if isinstance(error, HecConfigError) else None
            report.exception = error
        settled: set[str] = set()
        for entry in waiting:
            if entry.ack in acked:
                self._mark_delivered(entry, report, now)
                settled.add(entry.alert_id)
            elif now - (entry.sent_at or 0.0) >= self.limits.ack_timeout_seconds:
                entry.ack = entry.sent_at = None
                report.unacknowledged.append(entry.alert_id)
        self._pending = [e for e in self._pending if e.alert_id not in settled]
        self._count("delivered", len(settled))

    def _mark_delivered(self, entry: _Entry, report: FlushReport, now: float) -> None:
        self._delivered.pop(entry.alert_id, None)  # re-insert: newest delivery last
        self._delivered[entry.alert_id] = (entry.version, now)
        report.delivered.append(entry.alert_id)

    def _apply(self, result: SendResult, report: FlushReport, now: float, sent: set[str]) -> None:
        by_id = {entry.alert_id: entry for entry in self._pending}
        finished: set[str] = set()
        delivered_before = len(report.delivered)
        for alert_id in result.delivered:
            entry = by_id.get(alert_id)
            if entry is None:
                continue
            self._mark_delivered(entry, report, now)
            finished.add(alert_id)
        for ack_id, keys in result.awaiting.items():
            for alert_id in keys:
                entry = by_id.get(alert_id)
                if entry is not None:
                    entry.ack, entry.sent_at = ack_id, now
        for rejection in result.rejected:
            entry = by_id.get(rejection.key)
            if entry is None:
                continue
            finished.add(rejection.key)
            self._record_drop(
                Drop(
                    entry.alert_id,
                    entry.version,
                    DropReason.REJECTED,
                    rejection.reason,
                    rejection.code,
                )
            )
        report.unacknowledged.extend(result.unacknowledged)
        self._pending = [e for e in self._pending if e.alert_id not in finished]
        for entry in self._pending:
            if entry.alert_id in sent:
                entry.attempts += 1
        self._count("delivered", len(report.delivered) - delivered_before)
        self._prune_delivered(now)

    def _prune_delivered(self, now: float) -> None:
        horizon = now - self.limits.delivered_ttl_seconds
        for alert_id in [k for k, (_v, at) in self._delivered.items() if at < horizon]:
            del self._delivered[alert_id]
        excess = len(self._delivered) - self.limits.delivered_max
        for alert_id in list(self._delivered)[: max(0, excess)]:
            del self._delivered[alert_id]

    # ----------------------------------------------------------------- bookkeeping

    def record_drop(self, drop: Drop) -> None:
        """Report an alert that never made it into the outbox (e.g. it cannot be formatted)."""
        self._record_drop(drop)
        self._save()

    def _record_drop(self, drop: Drop) -> None:
        self._count(f"dropped_{drop.reason.name.lower()}", 1)
        if len(self._drops) < self.limits.max_itemised_drops:
            self._drops.append(
                {
                    "id": inert_id(drop.alert_id),
                    "version": inert(drop.version, CAPS.name),
                    "reason": drop.reason.value,
                    "detail": inert(drop.detail, CAPS.line),
                    "code": drop.code,
                }
            )
        else:
            self._not_itemised += 1

    def _count(self, name: str, amount: int) -> None:
        if amount:
            self._totals[name] = self._totals.get(name, 0) + amount

    def _save(self, *, delivered: bool = False) -> None:
        """Write the in-memory view back into the same ``storage["outbox"]`` dict.

        The delivered window (up to thousands of ids) only changes in ``flush``; it is not
        rewritten on every ``enqueue``.
        """
        self._state["pending"] = [entry.to_json() for entry in self._pending]
        if delivered:
            self._state["delivered"] = [[k, v, at] for k, (v, at) in self._delivered.items()]
        self._state["drops"] = self._drops
        self._state["drops_not_itemised"] = self._not_itemised
        self._state["totals"] = self._totals


def _pack(body: str) -> str:
    return pack(body.encode())


def _unpack(stored: str) -> str | None:
    """The event ``_pack`` stored, or None when the text is not what it wrote."""
    data = unpack(stored)
    try:
        return data.decode() if data is not None else None
    except UnicodeDecodeError:
        return None


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _entry_from_json(item: Any) -> _Entry | None:
    if not isinstance(item, Mapping):
        return None
    alert_id, version = item.get("id"), item.get("version")
    if not (isinstance(alert_id, str) and isinstance(version, str)):
        return None
    stored, plain = item.get("z"), item.get("body")
    if isinstance(stored, str):
        body = _unpack(stored)
    elif isinstance(plain, str):  # as 1.0.0 stored it
        body, stored = plain, _pack(plain)
    else:
        return None
    if body is None:
        return None
    enqueued_at = item.get("enqueued_at")
    attempts = item.get("attempts")
    ack, sent_at = item.get("ack"), item.get("sent_at")
    ack_id = ack if isinstance(ack, int) and isinstance(sent_at, int | float) else None
    sent = float(sent_at) if ack_id is not None and isinstance(sent_at, int | float) else None
    return _Entry(
        alert_id,
        version,
        body,
        stored,
        float(enqueued_at) if isinstance(enqueued_at, int | float) else 0.0,
        attempts if isinstance(attempts, int) else 0,
        ack_id,
        sent,
    )


def _drop_of_unreadable(item: Any) -> Drop:
    alert_id = item.get("id") if isinstance(item, Mapping) else None
    return Drop(str(alert_id or "?"), "", DropReason.UNREADABLE)


def _drop_from_json(item: Mapping[str, Any]) -> Drop:
    code = item.get("code")
    try:
        reason = DropReason(str(item.get("reason")))
    except ValueError:
        reason = DropReason.UNREADABLE
    return Drop(
        str(item.get("id", "?")),
        str(item.get("version", "")),
        reason,
        str(item.get("detail", "")),
        code if isinstance(code, int) else None,
    )


__all__ = [
    "AckQuerier",
    "Drop",
    "DropReason",
    "Enqueued",
    "EventSender",
    "FlushReport",
    "Outbox",
    "OutboxLimits",
    "STORAGE_KEY",
]
