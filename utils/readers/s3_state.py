"""The S3 trail reader's checkpoint: one compact cursor per account/Region folder.

A folder's state says which of its keys are done without listing them:

* ``cursor`` — a ``StartAfter`` key. Every key ≤ the cursor is done, except files that
  CloudTrail delivered *late* (their S3 ``LastModified`` is more than ``LATE_SECONDS``
  after the delivery minute in their name) and that are not in ``late``. Normally the
  cursor is the synthetic key of a minute (``layout.start_after``), stored as that minute.
* ``recent`` — digests of done keys above the cursor (the cursor trails the newest file
  by ``CURSOR_LAG_MINUTES``, so that a file landing a little after a newer one of the same
  folder is still listed by the next forward listing; these are the files of those minutes).
* ``late`` — digests of done late files at or below the cursor (found by sweeps).
* ``retry`` — keys that failed to read (``d`` denied, ``e`` transient), read again
  directly on later pulls; they do not hold the cursor back.
* ``last`` / ``due`` / ``swept`` — epoch minutes: the newest delivery seen (or when the
  folder was first found), when to list it next, when it was last swept from the
  look-back horizon. ``fresh`` folders have never been listed (no cursor yet).

Stored form (``storage["sources"]["s3"]``), sized for organization trails (about 50 bytes
per folder, so 17,000 folders ≈ 0.9 MB)::

    {"v": 2, "bucket", "prefix", "t": <epoch minute of the commit>, "dt": <last discovery>,
     "o": {<org id or "">: {<account>: {<region>: "<c>,<last>,<due>,<swept>[,u]/<recent>/<late>"}}},
     "x": {<folder path>: <exact cursor suffix, encoded>},   # rare: migrated cursors
     "r": {<folder path>: ["d<encoded suffix>", "e<encoded suffix>"]}}  # rare: failed reads

Minutes are base-36 offsets from ``t`` (``t - cursor``, ``t - last``, ``due - t``,
``t - swept``); an empty cursor field marks a fresh folder, and a cursor field ``x`` with an
entry in ``x`` an exact cursor (without one, ``x`` is the offset 33); ``u`` marks a folder that had
known unread files at the commit. Digests are 8 base64url characters (48 bits of BLAKE2b
of the key suffix): a collision within one folder's handful of entries is negligible.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .layout import TrailPrefix, decode_suffix, encode_suffix, parse_trail_key, start_after

STATE_VERSION = 2
DIGEST_CHARS = 8
# A file is late when it lands in S3 this long after the delivery minute in its name.
LATE_SECONDS = 600
# The cursor stays this far behind the clock: LATE_SECONDS plus a margin for the skew
# between this host's clock and S3's, so a file that is not late is listed forward.
CURSOR_LAG_MINUTES = 15
# The cursor field of a folder whose cursor is exact (its key is in the section's ``x``).
# It is also a base-36 offset (33 minutes): the ``x`` entry, not the field, decides.
EXACT_MARK = "x"


def digest(suffix: str) -> str:
    """8-character digest of a key suffix (its folder is implied by where it is stored)."""
    raw = hashlib.blake2b(suffix.encode("utf-8", "surrogatepass"), digest_size=6).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def minute_of(moment: datetime) -> int:
    """Epoch minute (floor) of an aware datetime."""
    return int(moment.timestamp() // 60)


def minute_key(prefix: TrailPrefix, minute: int) -> str:
    """The synthetic ``StartAfter`` key just before every file of ``prefix`` delivered at
    ``minute`` or later."""
    return start_after(prefix, datetime.fromtimestamp(minute * 60, UTC))


def cursor_minute(prefix: TrailPrefix, key: str) -> int | None:
    """The minute of a synthetic cursor key (None when ``key`` is not one)."""
    token = key[-14:]
    try:
        moment = datetime.strptime(token, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    minute = minute_of(moment)
    return minute if minute_key(prefix, minute) == key else None


def _b36(value: int) -> str:
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    value = abs(value)
    digits = []
    while value:
        value, rem = divmod(value, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[rem])
    return sign + "".join(reversed(digits))


@dataclass(slots=True)
class PrefixState:
    """One account/Region folder's cursor and schedule (see the module docstring)."""

    prefix: TrailPrefix
    cursor: str | None  # full key; None: never listed (fresh)
    last: int
    due: int
    swept: int
    unread: bool = False
    recent: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    retry: dict[str, str] = field(default_factory=dict)  # encoded suffix -> "d" | "e"


@dataclass(slots=True)
class Section:
    """The decoded checkpoint: folders by path, plus when discovery last ran."""

    states: dict[str, PrefixState]
    discovered: int | None = None


class UnreadableState(ValueError):
    """The stored section is not in a form this version understands."""


def encode_section(
    section: Section, *, bucket: str, prefix: str, root: str, now: int
) -> dict[str, Any]:
    """The JSON-ready section (see the module docstring)."""
    orgs: dict[str, dict[str, dict[str, str]]] = {}
    exact: dict[str, str] = {}
    retries: dict[str, list[str]] = {}
    for path in sorted(section.states):
        state = section.states[path]
        p = state.prefix
        if state.cursor is None:
            cursor_field = ""
        else:
            minute = cursor_minute(p, state.cursor)
            if minute is None:
                cursor_field = EXACT_MARK
                exact[path] = encode_suffix(p, state.cursor[len(path) :])
            else:
                cursor_field = _b36(now - minute)
        head = ",".join(
            (
                cursor_field,
                _b36(now - state.last),
                _b36(state.due - now),
                _b36(now - state.swept),
                *(("u",) if state.unread else ()),
            )
        )
        value = f"{head}/{''.join(sorted(state.recent))}/{''.join(sorted(state.late))}"
        orgs.setdefault(p.org_id, {}).setdefault(p.account_id, {})[p.region] = value
        if state.retry:
            retries[path] = [f"{kind}{enc}" for enc, kind in sorted(state.retry.items())]
    out: dict[str, Any] = {
        "v": STATE_VERSION,
        "bucket": bucket,
        "prefix": prefix,
        "t": now,
        "o": orgs,
    }
    if section.discovered is not None:
        out["dt"] = section.discovered
    if exact:
        out["x"] = exact
    if retries:
        out["r"] = retries
    return out


def _digests(text: str) -> set[str]:
    if len(text) % DIGEST_CHARS:
        raise ValueError("digest list of the wrong length")
    return {text[i : i + DIGEST_CHARS] for i in range(0, len(text), DIGEST_CHARS)}


def decode_section(stored: dict[str, Any], root: str) -> Section:
    """The section written by ``encode_section``; a damaged folder entry is skipped (it
    only costs that folder a fresh start). Raises ``UnreadableState`` for a section whose
    overall shape is wrong."""
    now = stored.get("t")
    orgs = stored.get("o")
    if not isinstance(now, int) or not isinstance(orgs, dict):
        raise UnreadableState("missing t or o")
    exact_stored, retries_stored = stored.get("x"), stored.get("r")
    exact: dict[str, Any] = exact_stored if isinstance(exact_stored, dict) else {}
    retries: dict[str, Any] = retries_stored if isinstance(retries_stored, dict) else {}
    states: dict[str, PrefixState] = {}
    for org, accounts in orgs.items():
        if not isinstance(org, str) or not isinstance(accounts, dict):
            continue
        for account, regions in accounts.items():
            if not isinstance(account, str) or not isinstance(regions, dict):
                continue
            for region, value in regions.items():
                p = TrailPrefix(root, org, account, str(region))
                parsed = parse_trail_key(f"{p.path}x")
                if parsed is None or parsed.prefix != p or not isinstance(value, str):
                    continue
                try:
                    states[p.path] = _decode_value(p, value, now, exact, retries)
                except (ValueError, TypeError, OverflowError, OSError):
                    continue
    discovered = stored.get("dt")
    return Section(states, discovered if isinstance(discovered, int) else None)


def _decode_value(
    p: TrailPrefix, value: str, now: int, exact: dict[str, Any], retries: dict[str, Any]
) -> PrefixState:
    head, recent, late = value.split("/")
    fields = head.split(",")
    if len(fields) not in (4, 5) or (len(fields) == 5 and fields[4] != "u"):
        raise ValueError("bad folder entry")
    cursor: str | None
    stored = exact.get(p.path)
    if fields[0] == "":
        cursor = None
    elif fields[0] == EXACT_MARK and isinstance(stored, str):
        cursor = p.path + decode_suffix(p, stored)
    else:
        # "x" is also the base-36 digit 33: without an exact entry it is a minute cursor
        # 33 minutes back (a folder whose reading stopped at an older file).
        cursor = minute_key(p, now - int(fields[0], 36))
    retry: dict[str, str] = {}
    entries = retries.get(p.path)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str) and len(entry) > 1 and entry[0] in "de":
            decode_suffix(p, entry[1:])  # validates
            retry[entry[1:]] = entry[0]
    return PrefixState(
        prefix=p,
        cursor=cursor,
        last=now - int(fields[1], 36),
        due=now + int(fields[2], 36),
        swept=now - int(fields[3], 36),
        unread=len(fields) == 5,
        recent=_digests(recent),
        late=_digests(late),
        retry=retry,
    )


def migrate_v1(stored: dict[str, Any], now: int) -> Section:
    """A version-1 section (``{prefixes: {path: {after, seen[], unread?}}}``) in the
    current form, losing and repeating nothing: ``after`` becomes an exact cursor and the
    keys in ``seen`` (all above ``after``) become ``recent`` digests."""
    prefixes = stored.get("prefixes")
    if not isinstance(prefixes, dict):
        raise UnreadableState("no prefixes")
    states: dict[str, PrefixState] = {}
    for path, entry in prefixes.items():
        parsed = parse_trail_key(f"{path}x") if isinstance(path, str) else None
        if (
            parsed is None
            or parsed.prefix.path != path
            or not isinstance(entry, dict)
            or not isinstance(entry.get("after"), str)
            or not isinstance(entry.get("seen"), list)
        ):
            continue
        p = parsed.prefix
        try:
            recent = {digest(decode_suffix(p, e)) for e in entry["seen"] if isinstance(e, str)}
        except ValueError:
            continue
        cursor = f"{path}{entry['after']}"
        minute = cursor_minute(p, cursor)
        states[path] = PrefixState(
            prefix=p,
            cursor=cursor,
            last=minute if minute is not None else now,
            due=now,
            swept=now,
            unread=isinstance(entry.get("unread"), str),
            recent=recent,
        )
    return Section(states, None)
