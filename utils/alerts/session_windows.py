"""Actions of one role session, aggregated per time window, carried across pulls.

A session (one ``principalId`` + creation time: an SDK session, or a console session whose
requests each carry a fresh key) produces one alert per aggregation window with counts by
action, first/last seen, sample event ids, source IPs and user agents - instead of one alert
per event. A window that is still open when the pull ends is kept in storage, so events of
the same window in the next pull update the same alert (same id, new counts) rather than
replacing it with a partial count.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cloudtrail.events import TrailEvent
from ..cloudtrail.identities import names_role
from ..cloudtrail.resolution import PROVISIONAL_METHODS, Resolution
from ..cloudtrail.timeparse import format_iso, parse_iso
from .builder import short_hash
from .resources import MAX_RESOURCES, resources_of

MAX_SAMPLES = 5
# Counted events remembered across pulls: 6-byte fingerprints, stored packed in base64
# (8 characters each: 48,000 take about as much room as 1.0.1's 20,000 hex prefixes did).
MAX_REMEMBERED_EVENTS = 48_000
# Events counted in shadow windows (below), remembered apart so that they do not shorten the
# reach of the record above. With the windows (1.3 MB), the known users and the kept
# session-name checks (``judged_checks``), the activity section stays within its 2 MB.
MAX_REMEMBERED_SHADOW_EVENTS = 12_000
SHADOW_SHARE = 0.25  # of the open windows' room kept for shadow windows (see save)
FINGERPRINT_BYTES = 6
MAX_SOURCES = 5
MAX_AGENTS = 3
STORAGE_VERSION = 1

# CloudTrail event names whose IAM action differs (for action-pattern scopes).
_S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "HeadObject": "GetObject",
    "HeadBucket": "ListBucket",
}
_READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Query",
    "Scan",
    "BatchGet",
    "Select",
    "Check",
    "Validate",
    "Test",
)


def service_of(event: TrailEvent) -> str:
    return (event.eventSource or "").split(".", 1)[0] or "unknown"


def action_names(event: TrailEvent) -> tuple[str, ...]:
    """``service:EventName`` and, where it differs, the IAM action it is authorised as."""
    service = service_of(event)
    names = [f"{service}:{event.eventName}"]
    if service == "s3" and event.eventName in _S3_ACTIONS:
        names.append(f"s3:{_S3_ACTIONS[event.eventName]}")
    return tuple(names)


def is_write(event: TrailEvent) -> bool:
    if event.readOnly is not None:
        return not event.readOnly
    return not event.eventName.startswith(_READ_PREFIXES)


def session_key(event: TrailEvent, resolution: Resolution) -> str:
    identity = event.userIdentity
    context = identity.sessionContext if identity is not None else None
    created = context.attributes.creationDate if context and context.attributes else None
    principal = identity.principalId if identity is not None else None
    if principal and created:
        return f"{principal}@{created}"
    return resolution.access_key_id or principal or "unknown-session"


@dataclass
class SessionWindow:
    """One session's actions in one window (JSON-able for storage)."""

    key: str
    account_id: str
    role_arn: str
    session_name: str
    window_start: float
    first_seen: float
    last_seen: float
    resolution: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    source_ips: list[str] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    access_keys: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)  # see ``resources``
    errors: int = 0
    # Event time at which each kept value was first seen (parallel to the lists above), and
    # of the event whose resolution the window shows: what a window keeps is decided by
    # event time, never by the order events were read in, so a window has the same content
    # however its events were split across files and pulls (a retried pull, a late file).
    samples_at: list[float] = field(default_factory=list)
    source_ips_at: list[float] = field(default_factory=list)
    user_agents_at: list[float] = field(default_factory=list)
    regions_at: list[float] = field(default_factory=list)
    access_keys_at: list[float] = field(default_factory=list)
    resources_at: list[float] = field(default_factory=list)
    resolution_at: list[Any] = field(default_factory=list)  # [event time, event id]
    # When the session was created (what its role's compliance is judged at; None in
    # windows stored before 1.0.2), and whether the window was withdrawn: a trust-policy
    # change read after the window was raised showed the role enforced the rule then.
    created: float | None = None
    withdrawn: bool = False
    # Whether an alert for this window was ever handed on (windows stored before 1.0.3 all
    # were). A window withdrawn and never raised is a *shadow*: its session's role enforced
    # the rule when the session was created, as far as was known when its events were read.
    # It is kept, not sent, so that a trust-policy change read later showing the role open
    # at that time raises it with every event counted.
    raised: bool = True

    @property
    def shadow(self) -> bool:
        return self.withdrawn and not self.raised

    @property
    def events(self) -> int:
        return sum(self.counts.values())

    def add(self, event: TrailEvent, resolution: Resolution, at: float) -> None:
        action = action_names(event)[0]
        self.counts[action] = self.counts.get(action, 0) + 1
        self.first_seen = min(self.first_seen, at)
        self.last_seen = max(self.last_seen, at)
        if event.errorCode:
            self.errors += 1
        _keep_earliest(self.samples, self.samples_at, event.eventID, at, MAX_SAMPLES)
        _keep_earliest(self.source_ips, self.source_ips_at, event.sourceIPAddress, at, MAX_SOURCES)
        _keep_earliest(self.user_agents, self.user_agents_at, event.userAgent, at, MAX_AGENTS)
        _keep_earliest(self.regions, self.regions_at, event.awsRegion, at, MAX_SOURCES)
        _keep_earliest(
            self.access_keys, self.access_keys_at, resolution.access_key_id, at, MAX_SAMPLES
        )
        full = len(self.resources) >= MAX_RESOURCES and len(self.resources_at) == MAX_RESOURCES
        if not full or at <= self.resources_at[-1]:
            for name in resources_of(event):  # a full window keeps only earlier names
                _keep_earliest(self.resources, self.resources_at, name, at, MAX_RESOURCES)
        if resolution.origin is not None:
            mark = [at, event.eventID]
            if (
                not self.resolution.get("origin")
                or not self.resolution_at
                or (mark < self.resolution_at)
            ):
                self.resolution = resolution.to_json()
                self.resolution_at = mark

    def to_storage(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "counts"}
        data["counts"] = sorted(self.counts.items())  # action names as values, not keys
        if not self.resources:
            # Most windows touch nothing nameable; every byte saved keeps another window (and
            # the late events that may still reach it) within the section's bound.
            del data["resources"], data["resources_at"]
        return data

    @classmethod
    def from_storage(cls, data: Any) -> SessionWindow | None:
        if not isinstance(data, dict):
            return None
        try:
            values = dict(data)
            values["counts"] = {str(k): int(v) for k, v in values.get("counts", [])}
            return cls(**values)
        except (TypeError, ValueError):
            return None


def _fingerprint(event_id: str) -> bytes:
    """6 bytes standing for an event id in the counted record. Derived from the id's first
    16 characters, which is what 1.0.1 stored, so its record converts; for CloudTrail's UUID
    ids that is 60 random bits, and 48 keep the chance that one of 48,000 remembered ids
    makes a new event look counted under 2e-10."""
    prefix = event_id[:16].encode("utf-8", "surrogatepass")
    return hashlib.blake2b(prefix, digest_size=FINGERPRINT_BYTES).digest()


class _Sized:
    """Stored windows within a byte and a count bound, taken list by list.

    The resources a window touched have a room of their own (``resource_bytes``): naming
    them must not cost a window that late events may still reach, because such an event
    would open the window again with only itself counted. Once that room is spent, windows
    are kept without their resources (the alert then lists those read after)."""

    def __init__(self, max_bytes: int, max_count: int, resource_bytes: int) -> None:
        self.room = max_bytes
        self.left = max_count
        self.resource_room = resource_bytes

    def take(self, windows: list[SessionWindow], room: int | None = None) -> list[dict[str, Any]]:
        """The leading ``windows`` that fit (in ``room`` bytes, when given, and the rest)."""
        limit = self.room if room is None else min(room, self.room)
        taken: list[dict[str, Any]] = []
        used = 0
        for window in windows:
            if self.left <= 0:
                break
            data = window.to_storage()
            named = _resource_bytes(data)
            size = len(json.dumps(data, separators=(",", ":"))) - named
            if used + size > limit:
                break
            if named > self.resource_room:
                del data["resources"], data["resources_at"]
            else:
                self.resource_room -= named
            used += size
            self.left -= 1
            taken.append(data)
        self.room -= used
        return taken


def _resource_bytes(data: dict[str, Any]) -> int:
    """What a stored window's resource lists add to it as compact JSON."""
    if "resources" not in data:
        return 0
    lists = {"resources": data["resources"], "resources_at": data["resources_at"]}
    return len(json.dumps(lists, separators=(",", ":")))  # with the separators they need


def _unpack_fingerprints(stored: Any) -> dict[bytes, None]:
    """A counted record as stored (base64 of packed fingerprints; anything else: empty)."""
    if not isinstance(stored, str):
        return {}
    try:
        packed = base64.b64decode(stored, validate=True)
    except ValueError:
        return {}
    size = FINGERPRINT_BYTES
    usable = len(packed) - len(packed) % size
    return dict.fromkeys(packed[i : i + size] for i in range(0, usable, size))


def _pack_fingerprints(record: dict[bytes, None], limit: int) -> str:
    newest = list(record)[-limit:]
    return base64.b64encode(b"".join(newest)).decode("ascii")


def _keep_earliest(
    values: list[str], times: list[float], value: str | None, at: float, limit: int
) -> None:
    """Keep the ``limit`` distinct values seen earliest (event time, then value), in that
    order: the same values whatever order the events come in."""
    if not value:
        return
    if len(times) != len(values):  # stored before times were kept: start them afresh
        times[:] = [at] * len(values)
    if len(values) >= limit and (at, value) >= (times[-1], values[-1]):
        return  # the common case once a window is full: a later event changes nothing
    index = values.index(value) if value in values else -1
    if index >= 0 and at >= times[index]:
        return  # the other common case: a value already kept, seen later again
    pairs = list(zip(times, values, strict=True))
    if index >= 0:
        del pairs[index]
    pairs.append((at, value))
    pairs.sort()
    del pairs[limit:]
    times[:] = [t for t, _ in pairs]
    values[:] = [v for _, v in pairs]


class SessionWindows:
    """Open windows by id, loaded from and saved to ``storage["activity"]["open"]``."""

    def __init__(
        self,
        window_seconds: int,
        max_open: int,
        retention_seconds: float,
        max_bytes: int = 1_300_000,
        max_resource_bytes: int = 600_000,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_open = max_open
        self.max_bytes = max_bytes
        self.max_resource_bytes = max_resource_bytes
        self.retention_seconds = retention_seconds
        self.windows: dict[str, SessionWindow] = {}
        self.touched: set[str] = set()
        self.evicted = 0
        self.shadows_dropped = 0
        self.duplicates = 0
        # CloudTrail re-delivers records (same eventID) in later files, possibly read by a
        # later pull: ids already counted are remembered across pulls, bounded, oldest out.
        self._counted: dict[bytes, None] = {}
        self._shadow_counted: dict[bytes, None] = {}  # the same, for shadow windows
        # Window ids by (account, session, role, window start): a session's events share
        # one, and hashing it anew per event was a third of the cost of counting an event.
        self._ids: dict[tuple[str, str, str, float], str] = {}

    def load(self, stored: Any, counted: Any = None, shadow_counted: Any = None) -> None:
        for data in stored if isinstance(stored, list) else []:
            window = SessionWindow.from_storage(data)
            if window is not None:
                self.windows[window.key] = window
        if isinstance(counted, list):  # 1.0.1 and earlier: the ids' first 16 characters
            self._counted = dict.fromkeys(_fingerprint(str(c)) for c in counted)
        else:
            self._counted = _unpack_fingerprints(counted)
        self._shadow_counted = _unpack_fingerprints(shadow_counted)

    def counted_ids(self) -> str:
        """The newest ``MAX_REMEMBERED_EVENTS`` fingerprints, packed (for storage)."""
        return _pack_fingerprints(self._counted, MAX_REMEMBERED_EVENTS)

    def shadow_counted_ids(self) -> str:
        """The same for the events counted in shadow windows."""
        return _pack_fingerprints(self._shadow_counted, MAX_REMEMBERED_SHADOW_EVENTS)

    def add(
        self,
        event: TrailEvent,
        resolution: Resolution,
        account_id: str,
        created: float | None = None,
        compliant: bool = False,
    ) -> str | None:
        """Count the event in its session's window (None: this record was counted before).
        ``created``: when the session was created, the time its role was judged at;
        ``compliant``: the role enforced the rule then (a shadow window, see ``raised``)."""
        fingerprint = _fingerprint(event.eventID)
        if fingerprint in self._counted or fingerprint in self._shadow_counted:
            self.duplicates += 1
            return None
        (self._shadow_counted if compliant else self._counted)[fingerprint] = None
        at = parse_iso(event.eventTime) or 0.0
        start = at - at % self.window_seconds
        session = session_key(event, resolution)
        role_arn = resolution.role_arn or ""
        key = self._window_id(account_id, session, role_arn, start)
        window = self.windows.get(key)
        if window is None:
            window = SessionWindow(
                key=key,
                account_id=account_id,
                role_arn=role_arn,
                session_name=resolution.session_name or "",
                window_start=start,
                first_seen=at,
                last_seen=at,
                resolution=resolution.to_json(),
                created=created,
                withdrawn=compliant,
                raised=False,
            )
            self.windows[key] = window
        elif window.created is None:
            window.created = created
        # An existing window keeps its verdict: only a trust-policy change read late judges
        # it again (``judge_again``). A later event of the session judged otherwise was
        # judged by the posture scan's verdict of now, which says nothing of the time the
        # session was created (a role fixed since would withdraw a window rightly raised).
        window.add(event, resolution, at)
        self.touched.add(key)
        return key

    def _window_id(self, account_id: str, session: str, role_arn: str, start: float) -> str:
        known = (account_id, session, role_arn, start)
        key = self._ids.get(known)
        if key is None:
            role = role_arn.rsplit("/", 1)[-1]
            key = f"{account_id}:{role}:{short_hash(session, role_arn)}:{format_iso(start)}"
            if len(self._ids) >= 50_000:
                self._ids.clear()
            self._ids[known] = key
        return key

    def attribute_late(self, access_key_id: str, resolution: Resolution) -> int:
        """Give the windows of session ``access_key_id`` that were counted unresolved (its
        issuance came later than the hold), or resolved only from the session's own facts
        (``PROVISIONAL_METHODS``: its issuance was read after its first events), the
        identity its issuance gives now; how many changed."""
        changed = 0
        fresh = resolution.to_json()
        for key, window in self.windows.items():
            if access_key_id not in window.access_keys or window.resolution == fresh:
                continue
            current = window.resolution
            if current.get("status") != "unresolved" and (
                current.get("method") not in PROVISIONAL_METHODS
            ):
                continue
            window.resolution = fresh
            window.resolution_at = [window.first_seen, ""]
            self.touched.add(key)
            changed += 1
        return changed

    def judge_again(
        self,
        account_id: str,
        role_name: str,
        since: float,
        noncompliant: Callable[[str, float], bool],
    ) -> int:
        """Judge again the windows of role ``role_name`` in ``account_id`` whose session was
        created at or after ``since``, the time of a trust-policy change read only now:
        the windows were raised with what was known of the role before that change
        (CloudTrail delivers IAM's events, logged in us-east-1, independently of the
        Regions where the session acted). A window the change shows compliant is withdrawn,
        one it shows non-compliant again is restored; how many changed."""
        changed = 0
        for key, window in self.windows.items():
            created = window.created
            if created is None or created < since or window.account_id != account_id:
                continue
            if not names_role(window.role_arn, role_name):
                continue
            withdrawn = not noncompliant(window.role_arn, created)
            if withdrawn != window.withdrawn:
                window.withdrawn = withdrawn
                self.touched.add(key)
                changed += 1
        return changed

    def provisional_keys(self) -> set[str]:
        """Access keys of the windows resolved from session facts alone, which the session's
        issuance would name better (see ``attribute_late``)."""
        return {
            key
            for window in self.windows.values()
            if window.resolution.get("method") in PROVISIONAL_METHODS
            for key in window.access_keys
        }

    def save(self, now: float) -> list[dict[str, Any]]:
        """Windows that late events can still reach: trail files arrive up to the look-back
        late, so a window is kept until its end plus the retention, most recent first.

        Shadow windows have ``SHADOW_SHARE`` of the room to themselves, newest first: what
        makes them worth keeping is a trust change still to be read, minutes to a pull or
        two behind the activity, while the oldest raised windows wait only for the rare late
        file. Room either kind leaves goes to the other."""
        horizon = now - self.retention_seconds - self.window_seconds
        keep = [w for w in self.windows.values() if w.window_start > horizon]
        keep.sort(key=lambda w: -w.last_seen)
        raised = [w for w in keep if not w.shadow]
        shadows = [w for w in keep if w.shadow]
        sized = _Sized(self.max_bytes, self.max_open, self.max_resource_bytes)
        reserved = sized.take(shadows, int(self.max_bytes * SHADOW_SHARE))
        kept = sized.take(raised)
        more = sized.take(shadows[len(reserved) :])
        self.evicted += len(raised) - len(kept)
        self.shadows_dropped += len(shadows) - len(reserved) - len(more)
        return kept + reserved + more
