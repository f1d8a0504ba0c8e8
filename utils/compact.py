"""Text kept compact in CE storage: zlib-compressed, then base64 (JSON-safe)."""

from __future__ import annotations

import base64
import binascii
import zlib


def pack(data: bytes) -> str:
    """``data`` as stored: zlib (level 6), base64."""
    return base64.b64encode(zlib.compress(data, 6)).decode("ascii")


def unpack(stored: str) -> bytes | None:
    """The bytes ``pack`` stored, or None when ``stored`` is not what it wrote."""
    try:
        return zlib.decompress(base64.b64decode(stored, validate=True))
    except (binascii.Error, zlib.error, ValueError):
        return None
