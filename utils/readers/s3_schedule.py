"""When to list each account/Region folder of a trail, when to sweep it, when to rediscover.

CloudTrail delivers about one file per account and Region every five minutes, named with
its delivery minute. Listing a folder before its next file is due finds nothing, so a folder
that just delivered waits until ``last + CADENCE + SLACK``; a folder whose file is overdue
(an idle Region, a delayed delivery) is listed again after a back-off that doubles with the
time it has been quiet, up to ``max_idle_minutes``. A folder with files known and not read
is listed on the next pull.

A *sweep* lists a folder from the look-back horizon instead of from its cursor, to find
files delivered late with an older name. Each folder is swept every ``sweep_interval``
minutes, preferably in a pull that lists it anyway (a sweep is then free: one listing page
covers a day of five-minute files). Small trails (at most ``small_trail_folders`` folders,
about four accounts × 17 Regions) are listed, swept and rediscovered in full on every pull:
the cost is small, and a file is read on the first pull after it lands, whatever its name.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from .s3_state import PrefixState

CADENCE_MINUTES = 5
SLACK_MINUTES = 1
MAX_SWEEP_MINUTES = 120


@dataclass(frozen=True, slots=True)
class Policy:
    """The schedule of one pull, derived from the trail's size."""

    every_pull: bool  # small trail: list and sweep every folder on every pull
    sweep_interval: int  # minutes between two sweeps of one folder
    max_idle: int  # longest wait between two listings of a quiet folder
    discover: bool  # walk AWSLogs/ for new accounts and Regions in this pull


def policy(
    *,
    folders: int,
    now: int,
    previous_pull: int | None,
    discovered: int | None,
    sweeps_per_pull: int,
    small_trail_folders: int = 64,
    max_idle_minutes: int,
    discovery_minutes: int,
    lookback_minutes: int,
) -> Policy:
    """How this pull schedules ``folders`` known folders (``now`` etc. in epoch minutes)."""
    every_pull = folders <= small_trail_folders
    step = max(1, now - previous_pull) if previous_pull is not None else 1
    if every_pull:
        interval = 0
    else:
        # Spread: about ``sweeps_per_pull`` sweeps a pull, and never rarer than a fraction
        # of the look-back (so a late file is caught well before it leaves it).
        interval = max(1, math.ceil(folders / sweeps_per_pull)) * step
        interval = min(interval, MAX_SWEEP_MINUTES, max(1, lookback_minutes // 4))
    discover = (
        every_pull
        or folders == 0
        or discovered is None
        or now - discovered >= discovery_minutes
        or now < discovered
    )
    return Policy(every_pull, interval, max(1, max_idle_minutes), discover)


def spread(path: str, interval: int) -> int:
    """A stable offset in ``[0, interval)`` for ``path``, so folders found together are
    not all swept in the same later pull."""
    if interval <= 1:
        return 0
    raw = hashlib.blake2b(path.encode(), digest_size=4).digest()
    return int.from_bytes(raw, "big") % interval


def wants_listing(state: PrefixState, now: int, rule: Policy) -> tuple[bool, bool]:
    """``(list it, sweep it)`` for one folder in this pull."""
    if rule.every_pull or state.cursor is None:
        return True, True
    due = state.unread or now >= state.due or now < state.last
    sweep_owed = now - state.swept >= rule.sweep_interval
    if due:
        return True, sweep_owed
    # A quiet folder is still swept, at most one idle period after its sweep fell due.
    if now - state.swept >= rule.sweep_interval + rule.max_idle + 1:
        return True, True
    return False, False


def next_due(last: int, now: int, max_idle: int, interval: int = CADENCE_MINUTES) -> int:
    """When to list a folder whose newest file is from minute ``last``, with nothing
    known and unread. ``interval`` above the cadence lists an active folder once per
    several deliveries (fewer LIST requests, files read that much later)."""
    expected = last + max(CADENCE_MINUTES, interval) + SLACK_MINUTES
    if expected > now:
        return expected
    overdue = now - last - CADENCE_MINUTES
    return now + max(1, min(max_idle, overdue))
