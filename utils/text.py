"""The one sanitiser for every string that leaves the plugin (CE alert, Splunk, log, storage).

The strings the plugin emits are largely written by the people it watches (user agents,
session names, request parameters, whole fake trail records), so each exit makes them
*inert* with the same rules:

- **Valid UTF-8.** A lone surrogate (``\\ud800``; JSON allows it, UTF-8 does not) becomes
  U+FFFD. Nothing downstream can fail to encode the text.
- **Control, bidirectional and invisible characters are escaped visibly**, as ``\\u202e``:
  C0 and C1 controls and DEL (a single-line field escapes even ``\\n`` and ``\\t``; a
  description keeps ``\\n``), the bidi embeddings, overrides, isolates and marks, line and
  paragraph separators, zero-width characters, the byte-order mark and Unicode tag
  characters. A reader sees that they were there; no terminal, log viewer or ticket renders
  them.
- **No template expansion.** CE fills ``$name`` in queue templates from alert fields and
  ``rawData`` (the ServiceNow plugin substitutes ``$name``; ``string.Template`` also knows
  ``${name}`` and the escape ``$$``). A ``$`` that such an engine would act on (followed by a
  letter, a digit, ``_``, ``$``, or ``{`` + an identifier + ``}``) becomes the full-width
  dollar U+FF04 ``＄``, which no template engine treats as a placeholder.
  ``${aws:username}`` (IAM's policy variable) is not an identifier in braces, no engine
  expands it, and it is kept as it is, so a corrected trust policy stays valid to paste.
- **Bounded.** Each field has a cap (``FIELD_CAPS``); a longer value keeps its start and
  ends in ``… [truncated from N characters]``, N being the length it had.

Every function is linear in the input (``str.translate`` with a precomputed table, one scan
for ``$``) and idempotent, so an exit may apply it to text another exit already cleaned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

REPLACEMENT: Final = "\ufffd"
SAFE_DOLLAR: Final = "\uff04"
ELLIPSIS: Final = "\u2026"
_MARKER_HEAD: Final = f"{ELLIPSIS} [truncated from "
_MARKER_TAIL: Final = " characters]"


@dataclass(frozen=True)
class Caps:
    """Bounds in characters (``hec_event_bytes`` in UTF-8 bytes of the JSON posted)."""

    name: int = 256  # identities, names, codes, ids
    line: int = 1024  # any other single-line value: ARNs, user agents, lists of names
    description: int = 4096  # descriptions (may keep line breaks)
    document: int = 16384  # JSON documents and commands: trust policies, the remedy
    raw_data: int = 49152  # all string values of one alert's rawData together
    log_message: int = 4096
    log_details: int = 32768  # tracebacks
    container_items: int = 100  # items of a list or dict nested in rawData
    hec_event_bytes: int = 16384


CAPS: Final = Caps()
MIN_CAP: Final = 64  # room for the truncation marker and a useful start
MAX_DEPTH: Final = 4  # nesting kept in rawData values; deeper levels become JSON text

# rawData keys (and CE fields) by the cap that fits what they hold; any other key is a line.
NAME_FIELDS: Final = frozenset(
    {
        "id",
        "alertName",
        "alertType",
        "type",
        "app",
        "appCategory",
        "configuration",
        "severity",
        "servicenow_severity",
        "status",
        "finding_code",
        "title",
        "vendor_product",
        "account_id",
        "origin_account_id",
        "session_name",
        "role_name",
        "origin_user_name",
        "caller_user_name",
        "impersonated_user",
        "origin_type",
        "resolution_status",
        "resolution_method",
        "event_id",
        "event_time",
        "error_code",
        "verdict",
        "privilege_tier",
        "role_compliance",
        "policy_fingerprint",
        "first_seen",
        "last_seen",
        "window_start",
        "session_created",
    }
)
DESCRIPTION_FIELDS: Final = frozenset({"description", "remediation"})
DOCUMENT_FIELDS: Final = frozenset(
    {
        "current_policy",
        "corrected_policy",
        "remediation_command",
        "reasons",
        "chain",
        "chain_json",
        "event_counts",
    }
)


def field_cap(key: str, caps: Caps = CAPS) -> int:
    """The cap of a CE field or rawData key (``line`` for a key not listed)."""
    if key in NAME_FIELDS:
        return caps.name
    if key in DESCRIPTION_FIELDS:
        return caps.description
    if key in DOCUMENT_FIELDS:
        return caps.document
    return caps.line


def _escaped(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _build_table(keep_newline: bool) -> dict[int, str]:
    escaped = [
        *range(0x20),  # C0 controls
        0x7F,  # DEL
        *range(0x80, 0xA0),  # C1 controls
        0x00AD,  # soft hyphen (invisible)
        0x061C,  # Arabic letter mark
        0x180E,  # Mongolian vowel separator
        *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
        0x2028,  # line separator
        0x2029,  # paragraph separator
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # byte-order mark / zero-width no-break space
        *range(0xFFF9, 0xFFFC),  # interlinear annotation
        *range(0xE0000, 0xE0080),  # tag characters
    ]
    table = {code: _escaped(code) for code in escaped}
    table.update(dict.fromkeys(range(0xD800, 0xE000), REPLACEMENT))
    if keep_newline:
        del table[0x0A]
    return table


_LINE_TABLE: Final = _build_table(keep_newline=False)
_TEXT_TABLE: Final = _build_table(keep_newline=True)
# The same rules for text that is already JSON: a character of the table can only sit
# inside a JSON string there (JSON's own syntax is ASCII), so it is escaped for JSON (the
# backslash doubled); ``json.dumps`` has escaped C0 controls itself.
_JSON_TABLE: Final = {
    code: (escape.replace("\\", "\\\\") if escape != REPLACEMENT else escape)
    for code, escape in _LINE_TABLE.items()
    if code >= 0x20
}


def inert_json_text(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every string in
    it valid UTF-8 and free of the characters ``inert`` escapes: one C-level pass, for
    serialising at an exit whatever was put in the document."""
    return text if text.isascii() else text.translate(_JSON_TABLE)


def _identifier_char(char: str) -> bool:
    return char == "_" or char.isalnum()


def _neutralise_dollars(text: str) -> str:
    """``$name``, ``${name}`` and ``$$`` with the full-width dollar; any other ``$`` as it is.

    One left-to-right scan: the identifier run after ``${`` holds no ``$``, so no character
    is looked at more than twice.
    """
    pieces: list[str] = []
    start = 0
    index = text.find("$")
    end = len(text)
    while index != -1:
        following = text[index + 1] if index + 1 < end else ""
        expandable = following == "$" or (bool(following) and _identifier_char(following))
        if following == "{":
            cursor = index + 2
            while cursor < end and _identifier_char(text[cursor]):
                cursor += 1
            expandable = cursor > index + 2 and cursor < end and text[cursor] == "}"
        if expandable:
            pieces.append(text[start:index])
            pieces.append(SAFE_DOLLAR)
            start = index + 1
        index = text.find("$", index + 1)
    if not pieces:
        return text
    pieces.append(text[start:])
    return "".join(pieces)


def _original_length(text: str) -> int:
    """The length ``text`` had before an earlier truncation (its own length otherwise)."""
    if text.endswith(_MARKER_TAIL):
        head = text.rfind(_MARKER_HEAD)
        digits = text[head + len(_MARKER_HEAD) : -len(_MARKER_TAIL)] if head != -1 else ""
        if digits.isdigit():
            return int(digits)
    return len(text)


def truncate(text: str, cap: int, original: int | None = None) -> str:
    """``text`` within ``cap`` characters, the cut marked with the length it had."""
    if len(text) <= cap:
        return text
    cap = max(cap, MIN_CAP)
    marker = f"{_MARKER_HEAD}{original if original is not None else _original_length(text)}"
    marker += _MARKER_TAIL
    return _prefix(text, cap - len(marker)) + marker


def _prefix(text: str, keep: int) -> str:
    """The first ``keep`` characters of ``text``, without half of one of our own escapes
    (``\\u202e``, ``\\U000e0001``) at the end."""
    keep = max(0, keep)
    slash = text.rfind("\\", max(0, keep - 9), keep)
    if slash != -1 and text[slash + 1 : slash + 2] in ("u", "U"):
        width = 6 if text[slash + 1] == "u" else 10
        if slash + width > keep:
            keep = slash
    return text[:keep]


def inert(text: str, cap: int = CAPS.line, *, multiline: bool = False) -> str:
    """``text`` made inert (see the module docstring) and at most ``cap`` characters long."""
    if len(text) <= cap and "$" not in text and text.isprintable():
        return text
    original = _original_length(text)
    # Every input character yields at least one output character: only the first ``cap``
    # can survive the cut, so a 200 KB value costs no more than a ``cap``-long one.
    head = text[: cap + 1]
    cleaned = head.translate(_TEXT_TABLE if multiline else _LINE_TABLE)
    if "$" in cleaned:
        cleaned = _neutralise_dollars(cleaned)
    if len(text) > cap or len(cleaned) > cap:
        return truncate(cleaned, cap, original)
    return cleaned


def inert_value(
    value: Any, cap: int, *, multiline: bool = False, caps: Caps = CAPS, depth: int = 0
) -> Any:
    """A JSON-able value with every string in it inert: strings capped at ``cap``, nested
    lists and dicts bounded in items and depth, anything else (but numbers, booleans, None
    and datetimes, which CE's model carries as they are) as inert text."""
    if type(value) is str:  # the usual case first: this runs for every field of every alert
        if len(value) <= cap and "$" not in value and value.isprintable():
            return value
        return inert(value, cap, multiline=multiline)
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return value
    if isinstance(value, str):
        return inert(value, cap, multiline=multiline)
    if depth >= MAX_DEPTH:
        return inert(json.dumps(value, default=str, ensure_ascii=False), cap)
    if isinstance(value, Mapping):
        items = list(value.items())
        bounded = {
            inert(str(k), caps.name): inert_value(
                v, cap, multiline=multiline, caps=caps, depth=depth + 1
            )
            for k, v in items[: caps.container_items]
        }
        if len(items) > caps.container_items:
            bounded[ELLIPSIS] = f"{len(items) - caps.container_items} more entries"
        return bounded
    if isinstance(value, list | tuple | set | frozenset):
        members = list(value)
        bounded_list = [
            inert_value(v, cap, multiline=multiline, caps=caps, depth=depth + 1)
            for v in members[: caps.container_items]
        ]
        if len(members) > caps.container_items:
            bounded_list.append(f"{ELLIPSIS} {len(members) - caps.container_items} more")
        return bounded_list
    return inert(str(value), cap)


def _string_cost(value: str) -> int:
    return len(value)


def bound_strings(
    values: dict[str, Any],
    budget: int,
    measure: Callable[[str], int] = _string_cost,
    shorten: Callable[[str, int], str] | None = None,
) -> dict[str, Any]:
    """``values`` whose top-level strings together measure at most ``budget``.

    The longest strings are cut to one common length, as long as possible (water filling),
    so short fields (names, ids) are never touched while one huge field takes the loss.
    ``measure`` gives a string's size (characters by default); ``shorten(text, size)``
    cuts a string to that size (``truncate`` by default).
    """
    strings = [(key, v) for key, v in values.items() if isinstance(v, str)]
    if measure is _string_cost and sum(len(v) for _, v in strings) <= budget:
        return values
    sizes = {key: measure(v) for key, v in strings}
    if sum(sizes.values()) <= budget:
        return values
    ordered = sorted(sizes.values())
    level, remaining, count = 0, budget, len(ordered)
    for position, size in enumerate(ordered):
        share = remaining // (count - position)
        if size > share:
            level = share
            break
        remaining -= size
    else:  # cannot happen: the sizes exceed the budget
        return values
    level = max(level, MIN_CAP)
    cut = shorten or truncate
    return {
        key: cut(value, level) if key in sizes and sizes[key] > level else value
        for key, value in values.items()
    }


def json_text_bytes(text: str) -> int:
    """UTF-8 bytes of ``text`` inside a JSON string, as ``ensure_ascii=False`` writes it
    (for inert text: escapes are plain ASCII, only ``"`` and ``\\`` are doubled)."""
    return len(text.encode("utf-8")) + text.count('"') + text.count("\\")


def fit_bytes(text: str, limit: int, measure: Callable[[str], int] = json_text_bytes) -> str:
    """``text`` truncated (marked) until ``measure`` of it is at most ``limit`` bytes."""
    cap = min(len(text), limit)
    cut = truncate(text, cap)
    for _ in range(8):  # proportional steps converge in two or three
        size = measure(cut)
        if size <= limit or cap <= MIN_CAP:
            break
        cap = max(MIN_CAP, min(cap - 1, cap * limit // size))
        cut = truncate(text, cap)
    return cut


def bound_json_bytes(values: dict[str, Any], budget: int) -> dict[str, Any]:
    """``values`` whose top-level strings take at most ``budget`` bytes of JSON together."""
    return bound_strings(values, budget, json_text_bytes, fit_bytes)


def inert_raw_data(raw: Mapping[str, Any], caps: Caps = CAPS) -> dict[str, Any]:
    """An alert's ``rawData``: every value inert within its field's cap, all its strings
    together within ``caps.raw_data``."""
    cleaned: dict[str, Any] = {}
    line = caps.line
    known = _known_caps(caps)
    for position, (given, value) in enumerate(raw.items()):
        if position >= caps.container_items * 2:
            break
        key = given if type(given) is str and given.isprintable() else inert(str(given), caps.name)
        cap = known.get(key, line)
        if type(value) is str and len(value) <= cap and "$" not in value and value.isprintable():
            cleaned[key] = value  # the usual case, without a call
        else:
            cleaned[key] = inert_value(value, cap, multiline=key in DESCRIPTION_FIELDS, caps=caps)
    return bound_strings(cleaned, caps.raw_data)


def _known_caps(caps: Caps) -> dict[str, int]:
    if caps is CAPS:
        return _DEFAULT_KNOWN
    return {key: field_cap(key, caps) for key in NAME_FIELDS | DESCRIPTION_FIELDS | DOCUMENT_FIELDS}


_DEFAULT_KNOWN: Final = {
    key: field_cap(key, CAPS) for key in NAME_FIELDS | DESCRIPTION_FIELDS | DOCUMENT_FIELDS
}


def inert_id(alert_id: str, caps: Caps = CAPS) -> str:
    """An alert id made inert; an over-long one keeps its start and a hash of the whole
    (``<start>~<16 hex>``), so two long ids never collapse into one (CE upserts by id)."""
    # Escapes are at most 10 characters long: this cap never cuts the first ``name`` ones.
    cleaned = inert(alert_id[: caps.name + 1], 10 * (caps.name + 1))
    if len(alert_id) <= caps.name and len(cleaned) <= caps.name:
        return cleaned
    digest = hashlib.sha256(alert_id.encode("utf-8", "backslashreplace")).hexdigest()[:16]
    return f"{_prefix(cleaned, caps.name - len(digest) - 1)}~{digest}"


def inert_alert(alert: Mapping[str, Any], caps: Caps = CAPS) -> dict[str, Any]:
    """A CE alert (a dict for ``Alert(**alert)``) with every string field and rawData inert."""
    cleaned = dict(alert)
    if isinstance(cleaned.get("id"), str):
        cleaned["id"] = inert_id(cleaned["id"], caps)
    for key in ("alertName", "alertType", "type", "app", "appCategory", "configuration"):
        if isinstance(cleaned.get(key), str):
            cleaned[key] = inert(cleaned[key], caps.name)
    if isinstance(cleaned.get("user"), str):
        cleaned["user"] = inert(cleaned["user"], caps.line)
    raw = cleaned.get("rawData")
    if isinstance(raw, Mapping):
        cleaned["rawData"] = inert_raw_data(raw, caps)
    return cleaned


def _valid_utf8(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.translate(_SURROGATES)
    return text


_SURROGATES: Final = dict.fromkeys(range(0xD800, 0xE000), REPLACEMENT)


def valid_utf8_in_place(state: dict[str, Any]) -> int:
    """Replace lone surrogates with U+FFFD in every string (keys too) of ``state``, in place;
    returns how many strings changed.

    CE keeps a plugin's storage in MongoDB, whose BSON strings must be valid UTF-8: one
    stored string with a lone surrogate would fail every save. Only that is repaired here
    (sections keep their own text as their modules wrote it); the walk is linear and costs
    one ``isascii`` per string in the usual case.
    """
    changed = 0
    stack: list[Any] = [state]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if isinstance(value, str):
                    clean = _valid_utf8(value)
                    if clean is not value:
                        node[key] = clean
                        changed += 1
                elif isinstance(value, dict | list):
                    stack.append(value)
                if isinstance(key, str) and _valid_utf8(key) is not key:
                    node[_valid_utf8(key)] = node.pop(key)
                    changed += 1
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    clean = _valid_utf8(value)
                    if clean is not value:
                        node[index] = clean
                        changed += 1
                elif isinstance(value, dict | list):
                    stack.append(value)
    return changed


__all__ = [
    "CAPS",
    "bound_json_bytes",
    "fit_bytes",
    "json_text_bytes",
    "Caps",
    "ELLIPSIS",
    "SAFE_DOLLAR",
    "bound_strings",
    "field_cap",
    "inert",
    "inert_alert",
    "inert_id",
    "inert_json_text",
    "inert_raw_data",
    "inert_value",
    "truncate",
    "valid_utf8_in_place",
]
