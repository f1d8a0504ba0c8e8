"""Typed failures of Splunk delivery. Messages name the field and the fix, never the token.

Every exception is raised ``from None`` by the client: a chained ``requests`` exception
carries URLs and proxy addresses (possibly with credentials) into ``traceback.format_exc()``,
which CE stores verbatim in its logs. What the cause said survives, redacted, in ``detail``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exceptions import ConfigurationError, PluginError


@dataclass(frozen=True)
class Rejection:
    """One event HEC refused for itself (not for the batch): it can never be sent as is."""

    key: str
    code: int | None
    reason: str


@dataclass
class SendResult:
    """What happened to the events of one ``HecClient.send`` call, keyed by alert id.

    ``delivered``: HEC answered 200 for them (and, with indexer acknowledgement, indexed them).
    ``rejected``: refused individually by HEC (dropped as unsendable).
    ``unacknowledged``: accepted, but no acknowledgement arrived in the allotted time: they may
    or may not be indexed, so the caller keeps them and sends them again (at-least-once).
    ``awaiting``: accepted, acknowledgement to be asked for later (deferred acks).
    """

    delivered: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    # With acknowledgement deferred (``HecClient(defer_acks=True)``): accepted under these
    # ackIds, not confirmed yet; the caller asks later (``HecClient.acknowledged``).
    awaiting: dict[int, list[str]] = field(default_factory=dict)


class HecError(PluginError):
    """Base of Splunk HEC failures; ``partial`` says what was achieved before the failure."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail
        self.partial = SendResult()


class HecConfigError(HecError, ConfigurationError):
    """The configuration cannot work (token, index, URL, TLS, acknowledgement): retrying won't help.

    It is a ``ConfigurationError`` so ``validate_step`` shows its message to the admin as is.
    ``field`` is the manifest label of the field to fix.
    """

    def __init__(
        self,
        field_label: str,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(f"{field_label}: {message}", status=status, code=code, detail=detail)
        self.field = field_label


class HecUnavailableError(HecError):
    """HEC could not take the events now (down, busy, throttling) after bounded retries."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, detail=detail)
        self.attempts = attempts
        self.retry_after = retry_after


class HecRequestError(HecError):
    """HEC refused a request for a reason that is neither configuration nor one event."""
