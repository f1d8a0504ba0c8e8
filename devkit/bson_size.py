"""The size of a JSON-like document once encoded as BSON, which is how CE keeps a plugin's
storage (one MongoDB document, at most 16 MiB).

BSON spends a type byte, the key (an array element's key is its index as text) and, for a
string, a length and a terminator on every element, so lists of short values take more
room than their compact JSON: the issuance index about 17 % more, the SQS checkpoint 40 %.
The plugin bounds its sections in compact JSON; the soak measures both (bsonspec.org).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MONGODB_DOCUMENT_LIMIT = 16 * 1024 * 1024


def bson_size(document: dict[str, Any]) -> int:
    """Bytes of ``document`` as a BSON document (ints as int32 or int64 as they fit)."""
    return _document(document.items())


def _document(items: Iterable[tuple[str, Any]]) -> int:
    total = 5  # int32 length + terminating NUL
    for key, value in items:
        total += 2 + len(key.encode()) + _value(value)  # type byte + key + NUL
    return total


def _value(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return 4 if -(2**31) <= value < 2**31 else 8
    if isinstance(value, float):
        return 8
    if isinstance(value, str):
        return 5 + len(value.encode())  # int32 length + bytes + NUL
    if isinstance(value, dict):
        return _document((str(k), v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return _document((str(i), v) for i, v in enumerate(value))
    return _value(str(value))  # what json.dumps(default=str) would store
