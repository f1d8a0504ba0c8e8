"""Keep the plugin's whole storage under what CE can save.

CE keeps a plugin's storage in one MongoDB document (16 MiB at most); a storage CE cannot
save fails every pull from then on, from the same checkpoint. Each section is bounded on its
own; the issuance index is the one whose bound an admin sets (*Session Index Budget*, up to
64 MB), so it gets what is left once the other sections have their room: the ones already
written this pull as they are, the ones written after the index (open session windows, the
Splunk outbox, the replay, the health record) at their bounds.
"""

from __future__ import annotations

import json
from typing import Any, Final

STORAGE_LIMIT_BYTES: Final = 14_000_000  # under MongoDB's 16 MiB, with room for CE's fields
# Written after the index is saved, at their bounds (see each section's module):
LATER_SECTIONS: Final[dict[str, int]] = {
    "activity": 2_000_000,  # open windows (1.3 MB), counted ids (two records), users, checks
    "outbox": 2_600_000,  # pending (2 MB) + delivered ids
    "replay": 760_000,  # REPLAY_MAX_BYTES
    "health": 60_000,
}
MIN_INDEX_BYTES: Final = 1024 * 1024


def index_room(storage: dict[str, Any], configured_bytes: int) -> int:
    """The index budget to use: the configured one, or less when the rest needs the room."""
    settled = sum(
        len(json.dumps(value, separators=(",", ":"), default=str))
        for key, value in storage.items()
        if key != "index" and key not in LATER_SECTIONS
    )
    room = STORAGE_LIMIT_BYTES - settled - sum(LATER_SECTIONS.values())
    return max(MIN_INDEX_BYTES, min(configured_bytes, room))
