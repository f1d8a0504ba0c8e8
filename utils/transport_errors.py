"""Readable reasons for transport failures (TLS, proxies), shared by every HTTP client.

requests and urllib3 bury OpenSSL's verdict ("self-signed certificate", "unable to get
local issuer certificate", a host name mismatch) inside nested exception text; an admin needs
exactly that phrase to choose between trusting the CA and turning SSL validation off.
"""

from __future__ import annotations

import re

_SSL_REASON = re.compile(r"certificate verify failed: ([^()'\"\]]+)", re.I)
_HOSTNAME_REASON = re.compile(r"(Hostname mismatch[^()'\"\]]*)", re.I)
_TUNNEL_REASON = re.compile(r"Tunnel connection failed: (\d{3}[^()'\"\]]*)", re.I)


def ssl_reason(error: BaseException) -> str:
    """OpenSSL's reason for a failed TLS handshake, as an admin can act on it."""
    text = str(error)
    for pattern in (_SSL_REASON, _HOSTNAME_REASON):
        match = pattern.search(text)
        if match:
            reason = match.group(1).strip().rstrip(".,")
            return reason if pattern is _HOSTNAME_REASON else f"certificate verify failed: {reason}"
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return "the endpoint does not speak TLS on this port"
    return "TLS handshake failed"


def proxy_reason(error: BaseException) -> str:
    """Why a proxy refused a CONNECT tunnel (407: its credentials)."""
    text = str(error)
    match = _TUNNEL_REASON.search(text)
    if match:
        reason = match.group(1).strip()
        if reason.startswith("407"):
            return f"{reason}: the proxy user name or password is missing or wrong"
        return reason
    return "the proxy could not be reached or closed the connection"
