"""The SQS reader's checkpoint (``storage["sources"]["sqs"]``), compact and bounded.

At organization scale one pull finishes thousands of messages, and the receipt handle of
each must survive until the next pull deletes it (two-phase delete): about 400 bytes
each, which dominates the section. So handles are stored as a bare list (no message ids),
the record of recently read objects as one string of 11-character base64 digests, and
the reader caps the bytes of handles it keeps (``max_pending_bytes``; see the reader).

Version 2::

    {"v": 2, "queue_url": str, "pending_deletes": [receipt handle, ...],
     "recent": "<11-char digest>...", "unread": {digest: epoch seconds}}

Version 1 (``pending_deletes: [{id, rh}]``, ``recent: [hex digest]``) is read and
rewritten as version 2, so an upgrade between two pulls deletes what it owes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STATE_VERSION = 2
MAX_UNREAD_KEYS = 1_000  # objects remembered as failed to read (the oldest are kept)
MAX_RECEIPT_CHARS = 8_192  # far above what SQS issues; longer stored values are dropped
# Poison messages come back until the redrive policy moves them (maxReceiveCount): each is
# reported on its first receive only; 1,000 remembered ids take 11 kB.
MAX_REPORTED = 1_000
_DIGEST_CHARS = 11  # base64 of the 8-byte digest, without padding


def key_digest(bucket: str, key: str) -> str:
    """Short, stable id of an object for the recently-read record (64 bits, hex)."""
    data = f"{bucket}/{key}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@dataclass
class SqsCheckpoint:
    pending_deletes: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)  # hex digests, oldest first
    unread: dict[str, float] = field(default_factory=dict)  # hex digest -> epoch seconds
    reported: list[str] = field(default_factory=list)  # poison messages already reported
    problem: str = ""  # why a stored section was not usable ("" when it was)


def pack_recent(digests: Iterable[str]) -> str:
    return "".join(
        base64.urlsafe_b64encode(bytes.fromhex(d)).decode()[:_DIGEST_CHARS] for d in digests
    )


def unpack_recent(text: str) -> list[str]:
    if len(text) % _DIGEST_CHARS:
        raise ValueError("not a whole number of digests")
    return [
        base64.urlsafe_b64decode(text[i : i + _DIGEST_CHARS] + "=").hex()
        for i in range(0, len(text), _DIGEST_CHARS)
    ]


def load(stored: Any, queue_url: str) -> SqsCheckpoint:
    """The checkpoint in ``stored`` (an empty one, with ``problem`` set, if unusable)."""
    if stored is None:
        return SqsCheckpoint()
    version = stored.get("v") if isinstance(stored, dict) else None
    if version not in (1, STATE_VERSION) or not isinstance(stored, dict):
        return SqsCheckpoint(problem="not in a format this version understands")
    try:
        recent = _recent(stored.get("recent"), version)
    except (ValueError, binascii.Error):
        return SqsCheckpoint(problem="its record of recently read objects is damaged")
    unread = _unread(stored.get("unread"))
    if stored.get("queue_url") != queue_url:
        return SqsCheckpoint(recent=recent, unread=unread)  # another queue's handles
    try:  # a damaged record only means a poison message may be reported once more
        reported = _recent(stored.get("reported", ""), STATE_VERSION)[-MAX_REPORTED:]
    except (ValueError, binascii.Error):
        reported = []
    pending = _pending(stored.get("pending_deletes"), version)
    return SqsCheckpoint(pending, recent, unread, reported)


def dump(
    queue_url: str,
    pending_deletes: list[str],
    recent: Iterable[str],
    unread: dict[str, float],
    reported: Iterable[str] = (),
) -> dict[str, Any]:
    oldest = sorted(unread.items(), key=lambda item: (item[1], item[0]))[:MAX_UNREAD_KEYS]
    section: dict[str, Any] = {
        "v": STATE_VERSION,
        "queue_url": queue_url,
        "pending_deletes": list(pending_deletes),
        "recent": pack_recent(recent),
        "unread": {digest: int(at) for digest, at in oldest},
    }
    kept = list(reported)[-MAX_REPORTED:]
    if kept:
        section["reported"] = pack_recent(kept)
    return section


def message_digest(message_id: str) -> str:
    """Short, stable id of a message for the record of poison messages already reported."""
    return hashlib.blake2b(message_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def stored_bytes(section: dict[str, Any]) -> int:
    """Bytes the section takes as compact JSON (what CE's store holds, within a few %)."""
    return len(json.dumps(section, separators=(",", ":")).encode())


def pending_entry_bytes(receipt: str) -> int:
    """What one receipt handle adds to ``pending_deletes`` in compact JSON."""
    return len(receipt) + 3


def _pending(raw: Any, version: int) -> list[str]:
    if not isinstance(raw, list):
        return []
    if version == 1:
        raw = [p.get("rh") for p in raw if isinstance(p, dict)]
    return [rh for rh in raw if isinstance(rh, str) and 0 < len(rh) <= MAX_RECEIPT_CHARS]


def _recent(raw: Any, version: int) -> list[str]:
    if raw is None:
        return []
    if version == 1:
        if not isinstance(raw, list):
            raise ValueError("not a list")
        return [d for d in raw if isinstance(d, str) and len(d) == 16 and _is_hex(d)]
    if not isinstance(raw, str):
        raise ValueError("not a string")
    return unpack_recent(raw)


def _unread(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    unread = {
        digest: float(at)
        for digest, at in raw.items()
        if isinstance(digest, str)
        and len(digest) == 16
        and _is_hex(digest)
        and isinstance(at, int | float)
        and not isinstance(at, bool)
    }
    oldest = sorted(unread.items(), key=lambda item: (item[1], item[0]))[:MAX_UNREAD_KEYS]
    return dict(oldest)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
