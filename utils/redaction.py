"""Last line of defence against secrets in text the plugin emits (logs, alerts, messages)."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"
# user:password@ in URLs (proxy URLs, HEC URLs with credentials)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and URL credential masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
