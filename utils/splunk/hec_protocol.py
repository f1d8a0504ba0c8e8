"""Splunk HTTP Event Collector wire facts: endpoints, status codes and their HTTP statuses.

One table serves both the client (to name a rejection precisely) and the devkit HEC
emulator (to answer exactly as Splunk does), so the two cannot drift apart. Codes and texts
are Splunk's published HEC status table (Splunk docs "Troubleshoot HTTP Event Collector";
the same table is quoted in Splunk's own cloudfwd client and in SplunkAdmins' HEC lookup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

EVENT_PATH: Final = "/services/collector/event"
ACK_PATH: Final = "/services/collector/ack"
HEALTH_PATH: Final = "/services/collector/health"
CHANNEL_HEADER: Final = "X-Splunk-Request-Channel"


@dataclass(frozen=True)
class HecStatus:
    """One row of Splunk's HEC status table."""

    code: int
    http_status: int
    text: str

    def body(self, **extra: object) -> dict[str, object]:
        """The JSON body Splunk sends for this status (``invalid-event-number``, ``ackId``...)."""
        return {"text": self.text, "code": self.code, **extra}


SUCCESS: Final = HecStatus(0, 200, "Success")
TOKEN_DISABLED: Final = HecStatus(1, 403, "Token disabled")
TOKEN_REQUIRED: Final = HecStatus(2, 401, "Token is required")
INVALID_AUTHORIZATION: Final = HecStatus(3, 401, "Invalid authorization")
INVALID_TOKEN: Final = HecStatus(4, 403, "Invalid token")
NO_DATA: Final = HecStatus(5, 400, "No data")
INVALID_DATA_FORMAT: Final = HecStatus(6, 400, "Invalid data format")
INCORRECT_INDEX: Final = HecStatus(7, 400, "Incorrect index")
INTERNAL_ERROR: Final = HecStatus(8, 500, "Internal server error")
SERVER_BUSY: Final = HecStatus(9, 503, "Server is busy")
CHANNEL_MISSING: Final = HecStatus(10, 400, "Data channel is missing")
INVALID_CHANNEL: Final = HecStatus(11, 400, "Invalid data channel")
EVENT_REQUIRED: Final = HecStatus(12, 400, "Event field is required")
EVENT_BLANK: Final = HecStatus(13, 400, "Event field cannot be blank")
ACK_DISABLED: Final = HecStatus(14, 400, "ACK is disabled")
INDEXED_FIELDS_ERROR: Final = HecStatus(15, 400, "Error in handling indexed fields")
QUERY_STRING_AUTH_DISABLED: Final = HecStatus(16, 400, "Query string authorization is not enabled")
HEALTHY: Final = HecStatus(17, 200, "HEC is healthy")
UNHEALTHY_QUEUES_FULL: Final = HecStatus(18, 503, "HEC is unhealthy, queues are full")
UNHEALTHY_ACK_UNAVAILABLE: Final = HecStatus(19, 503, "HEC is unhealthy, ack service unavailable")
UNHEALTHY_BOTH: Final = HecStatus(
    20, 503, "HEC is unhealthy, queues are full, ack service unavailable"
)

STATUSES: Final[dict[int, HecStatus]] = {
    s.code: s
    for s in (
        SUCCESS,
        TOKEN_DISABLED,
        TOKEN_REQUIRED,
        INVALID_AUTHORIZATION,
        INVALID_TOKEN,
        NO_DATA,
        INVALID_DATA_FORMAT,
        INCORRECT_INDEX,
        INTERNAL_ERROR,
        SERVER_BUSY,
        CHANNEL_MISSING,
        INVALID_CHANNEL,
        EVENT_REQUIRED,
        EVENT_BLANK,
        ACK_DISABLED,
        INDEXED_FIELDS_ERROR,
        QUERY_STRING_AUTH_DISABLED,
        HEALTHY,
        UNHEALTHY_QUEUES_FULL,
        UNHEALTHY_ACK_UNAVAILABLE,
        UNHEALTHY_BOTH,
    )
}

# Rejections of the token itself: retrying cannot help, the admin must fix "HEC Token".
TOKEN_CODES: Final = frozenset({1, 2, 3, 4})
# Rejections of one event inside a batch (Splunk names it with ``invalid-event-number``):
# the events before it were indexed, the event is unsendable, the rest can be resent.
EVENT_CODES: Final = frozenset({5, 6, 12, 13, 15})


def describe(code: int | None) -> str:
    """``"HEC code 9, Server is busy"`` for messages; unknown codes are named as such."""
    if code is None:
        return "no HEC status code"
    status = STATUSES.get(code)
    return f"HEC code {code}, {status.text}" if status else f"HEC code {code}"
