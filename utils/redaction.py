"""Last line of defence against secrets in text the plugin emits (logs, alerts, messages).

Three tools, each linear in the text (the text may be written by an attacker: no regular
expression here can backtrack):

- ``redact`` masks the values the plugin knows to be secret and the ``user:password@`` of
  URLs (proxy URLs, HEC URLs);
- ``mask_key_material`` masks what is *shaped* like a credential even when nobody said it
  was one (a private key pasted into the wrong field): PEM blocks, AWS access key IDs,
  40-character secret access keys, GUID tokens (Splunk HEC) and long opaque base64 runs;
- ``excerpt`` is all a message may show of a value an admin entered: its first few
  characters and its length, or only its shape when it looks like key material.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Final

from .text import inert

MASK = "********"
EXCERPT_CHARS: Final = 6  # never a whole secret, nor 8 characters of one

_PEM_BEGIN: Final = "-----BEGIN "
_PEM_END: Final = "-----END "
_PEM_DASHES: Final = "-----"
# A maximal run of the characters credentials are written in. One character class with
# ``+`` matches each run once, left to right: linear.
_TOKEN_RUN: Final = re.compile(r"[A-Za-z0-9+/=_-]+")
_ACCESS_KEY_PREFIXES: Final = ("AKIA", "ASIA", "ABIA", "ACCA")
_BASE64: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_LONG_OPAQUE: Final = 32  # AWS secret keys are 40, base64 lines of PEM bodies 64


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and URL credential masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _mask_url_credentials(text)


_SCHEME_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-"
)
_MAX_SCHEME: Final = 32


def _has_scheme(text: str, colon: int) -> bool:
    """Whether a URL scheme (a letter, then letters, digits, ``+.-``) ends at ``colon``."""
    start = colon
    while start > max(0, colon - _MAX_SCHEME) and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    return start < colon and text[start].isascii() and text[start].isalpha()


def _mask_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` (or ``scheme://token@host``) as
    ``scheme://********@host``, in one pass."""
    pieces: list[str] = []
    copied = 0
    index = text.find("://")
    while index != -1:
        authority = index + 3
        end = authority
        while end < len(text) and text[end] != "/" and not text[end].isspace():
            end += 1
        at = text.rfind("@", authority, end)
        if at > authority and _has_scheme(text, index):
            pieces.append(text[copied:authority])
            pieces.append(MASK)
            copied = at
        index = text.find("://", max(end, index + 3))
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def key_material_kind(value: str) -> str | None:
    """What credential ``value`` looks like (for a message), or None."""
    if _PEM_BEGIN in value or _PEM_END in value:
        return "a PEM private key or certificate"
    for match in _TOKEN_RUN.finditer(value):
        kind = _token_kind(match.group())
        if kind is not None:
            return kind
    return None


def _token_kind(token: str) -> str | None:
    if len(token) == 20 and token.startswith(_ACCESS_KEY_PREFIXES) and token.isalnum():
        return "an AWS access key ID"
    if len(token) == 40 and set(token) <= _BASE64 and _random_looking(token, symbols="+/"):
        return "an AWS secret access key"
    if _guid(token):
        return "a token"
    if len(token) >= _LONG_OPAQUE and _random_looking(token):
        return "an encoded key or token"
    return None


def _random_looking(token: str, symbols: str = "") -> bool:
    """Upper and lower case letters and digits (or ``symbols``) together, changing class as
    often as random text does: about every second character, against every fourth or fifth
    in a CamelCase name such as ``CloudTrailNotifications2024``."""
    has_digit = any(c.isdigit() or c in symbols for c in token)
    if not (has_digit and any(c.isupper() for c in token) and any(c.islower() for c in token)):
        return False
    changes = sum(_char_class(a) != _char_class(b) for a, b in itertools.pairwise(token))
    return changes >= 0.45 * len(token)


def _char_class(char: str) -> int:
    return 0 if char.isupper() else 1 if char.islower() else 2 if char.isdigit() else 3


def _guid(token: str) -> bool:
    parts = token.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(set(p) <= _HEX for p in parts)


def mask_key_material(text: str) -> str:
    """``text`` with every PEM block and credential-shaped token replaced by a mask."""
    text = _mask_pem_blocks(text)
    pieces: list[str] = []
    copied = 0
    for match in _TOKEN_RUN.finditer(text):
        if _token_kind(match.group()) is not None:
            pieces.append(text[copied : match.start()])
            pieces.append(MASK)
            copied = match.end()
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def _mask_pem_blocks(text: str) -> str:
    pieces: list[str] = []
    copied = 0
    begin = text.find(_PEM_BEGIN)
    while begin != -1:
        end = text.find(_PEM_END, begin)
        # The END line's closing dashes, or the end of the text when the block is cut.
        close = text.find(_PEM_DASHES, end + len(_PEM_END)) if end != -1 else -1
        stop = close + len(_PEM_DASHES) if close != -1 else len(text)
        pieces.append(text[copied:begin])
        pieces.append("[PEM block removed]")
        copied = stop
        begin = text.find(_PEM_BEGIN, stop)
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)


def excerpt(value: object) -> str:
    """What a message may show of a value an admin entered: ``'arn:aw…' (37 characters)``, or
    only its shape when it looks like key material (``(a 1,704-character value that looks
    like a PEM private key or certificate)``). Never 8 characters of the value."""
    text = value if isinstance(value, str) else str(value)
    kind = key_material_kind(text)
    if kind is not None:
        return f"(a {len(text):,}-character value that looks like {kind})"
    if len(text) <= EXCERPT_CHARS:
        return f"'{inert(text)}'"
    return f"'{inert(text[:EXCERPT_CHARS])}\u2026' ({len(text):,} characters)"
