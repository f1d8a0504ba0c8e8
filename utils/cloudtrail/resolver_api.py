"""What the identity resolver is given and gives back: the callbacks it asks, its settings,
its counters and one call's result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .events import TrailEvent
from .resolution import (
    AssumptionCheck,
    LateAttribution,
    Resolution,
    ResolvedEvent,
    UnattributedKey,
)

PolicyEnforces = Callable[[str], bool | None]
"""Whether a trust-policy document (JSON text) enforces the session-name rule (None: unknown)."""
RoleEnforces = Callable[[str, float], bool | None]
"""Whether the role (ARN) enforced the rule at a time (epoch seconds); None: unknown."""
RolePath = Callable[[str, str], str | None]
"""The path (``/`` or ``/a/b/``) of the role called so in an account, as the posture scan
listed it; None: unknown."""


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    hold_seconds: float = 3600.0  # event time a key may be used before its issuance is read
    max_held: int = 20_000  # events held at once; beyond, the oldest is emitted unresolved
    session_retention_seconds: float = 7200.0  # keep sessions this long after they expire
    # Trust-policy changes superseded longer ago than this (event time) are forgotten: an
    # event read that far behind the watermark (a late file, a re-delivered SQS message)
    # still finds the change that governed its session's creation. Changes are rare and
    # small; the budget drops whole roles' histories under pressure.
    timeline_retention_seconds: float = 7 * 86400.0
    max_chain_depth: int = 16
    dedupe_window: int = 32_768  # event ids remembered, about (bounded memory), at least
    # and at most (about 12 MB): the window grows with the trail folders read (seen_window)
    dedupe_window_max: int = 131_072
    # Keys whose resolution is remembered, emptied when full. A key is used in bursts (a
    # session's calls fall within minutes), so a few thousand recent keys answer nearly
    # every repeat; a miss walks the index again, a few microseconds. Measured on both
    # benchmark profiles: 8,192 costs no throughput against 100,000 and keeps about 8 MB
    # less on a churn-heavy trail (a cached resolution and its chain are ~350 bytes).
    cache_size: int = 8_192


@dataclass(slots=True)
class ResolverStats:
    events: int = 0  # events given to resolve()
    emitted: int = 0
    duplicates: int = 0
    addendum_updates: int = 0
    issued: int = 0  # sessions learnt (or upgraded to the caller's copy)
    held: int = 0
    released: int = 0  # held events emitted after their issuance arrived
    expired: int = 0  # held events emitted unresolved at their deadline
    overflowed: int = 0  # held events emitted unresolved because the hold was full
    attributed_late: int = 0  # given-up sessions attributed when their issuance came after all
    sessions_pruned: int = 0


@dataclass(slots=True)
class ResolveResult:
    """What one call produced, in parallel lists: ``events[i]`` resolved as
    ``resolutions[i]`` (held events appear in the call that releases them); the AssumeRole
    checks and the keys that stayed unattributed, for alerts."""

    events: list[TrailEvent] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    assumptions: list[AssumptionCheck] = field(default_factory=list)
    unattributed: list[UnattributedKey] = field(default_factory=list)
    late: list[LateAttribution] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # keys whose caller's issuance was learnt

    @property
    def resolved(self) -> list[ResolvedEvent]:
        """The events with their resolutions, as pairs."""
        return [ResolvedEvent(e, r) for e, r in zip(self.events, self.resolutions, strict=True)]

    def extend(self, other: ResolveResult) -> None:
        self.events.extend(other.events)
        self.resolutions.extend(other.resolutions)
        self.assumptions.extend(other.assumptions)
        self.unattributed.extend(other.unattributed)
        self.late.extend(other.late)
        self.issued.extend(other.issued)
