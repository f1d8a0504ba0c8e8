"""Sorting boto3 errors into the few cases a reader treats differently.

A reader never lets one AWS error end the pull: access problems are reported with the
missing permission and the reader moves on to the next prefix, object, account or Region;
throttling is counted (and, for LookupEvents, retried with backoff); anything else is
treated as transient and retried on a later pull.

``tally`` and ``report`` keep that policy in one place: which kinds are counted where in the
pull's statistics, and which one problem each kind adds to the pull's report.
"""

from __future__ import annotations

import enum

from botocore.exceptions import BotoCoreError, ClientError

from ..redaction import redact
from .base import Problem, ReaderStats

AWS_ERRORS = (ClientError, BotoCoreError)


class ErrorKind(enum.Enum):
    ACCESS_DENIED = "access_denied"
    THROTTLED = "throttled"
    NOT_FOUND = "not_found"
    STALE_PAGE = "stale_page"  # a NextToken the service no longer accepts
    OTHER = "other"


_ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AllAccessDisabled",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AWS.SimpleQueueService.AccessDenied",
        "KMS.AccessDeniedException",
        "KMS.DisabledException",
        # Calls into a Region that is not enabled for the account fail with these.
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "OptInRequired",
        "403",
        "Forbidden",
    }
)
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestThrottledError",
    }
)
_NOT_FOUND = frozenset(
    {
        "NoSuchKey",
        "NoSuchBucket",
        "NotFound",
        "404",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)
_STALE_PAGE = frozenset({"InvalidNextTokenException", "InvalidNextToken"})


def error_code(error: BaseException) -> str:
    """The AWS error code of a ``ClientError`` ('' for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def classify(error: BaseException) -> ErrorKind:
    code = error_code(error)
    if code in _ACCESS_DENIED:
        return ErrorKind.ACCESS_DENIED
    if code in _THROTTLED:
        return ErrorKind.THROTTLED
    if code in _NOT_FOUND:
        return ErrorKind.NOT_FOUND
    if code in _STALE_PAGE:
        return ErrorKind.STALE_PAGE
    return ErrorKind.OTHER


def describe(error: BaseException) -> str:
    """One line that is safe to log: the operation, code and AWS message.

    botocore's connection errors can quote a proxy URL, which may carry credentials:
    those are masked.
    """
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        message = str(err.get("Message", "")).strip()
        text = f"{error.operation_name} failed with {err.get('Code', 'an error')}"
        return redact(f"{text}: {message}" if message else text)
    if isinstance(error, BotoCoreError):
        return redact(f"{type(error).__name__}: {error}")
    return type(error).__name__


ACCESS_DENIED_PROBLEM = "access_denied"


def tally(
    stats: ReaderStats, error: BaseException, scope: str, *, throttles: bool = True
) -> ErrorKind:
    """Classify ``error`` and count it: a denial under ``scope`` (the least-privilege report
    names each scope that was refused), a throttle in the pull's throttle count.

    ``throttles=False`` for a reader that already counted every throttled attempt as it retried.
    """
    kind = classify(error)
    if kind is ErrorKind.ACCESS_DENIED:
        stats.access_denied[scope] += 1
    elif kind is ErrorKind.THROTTLED and throttles:
        stats.throttles += 1
    return kind


def report(
    stats: ReaderStats,
    kind: ErrorKind,
    *,
    denied: tuple[str, str],
    otherwise: Problem | None,
    not_found: Problem | None = None,
    throttled: Problem | None = None,
) -> None:
    """Add the one problem a failure of ``kind`` deserves to the pull's report.

    A denial is always reported, as ``(message, resolution)`` under one code so the admin
    sees every missing permission alike. A kind without its own problem gets ``otherwise``;
    ``None`` there means the caller reports the failure some other way (or not at all).
    """
    if kind is ErrorKind.ACCESS_DENIED:
        stats.problem(ACCESS_DENIED_PROBLEM, *denied)
        return
    chosen = {ErrorKind.NOT_FOUND: not_found, ErrorKind.THROTTLED: throttled}.get(kind)
    chosen = chosen or otherwise
    if chosen is not None:
        stats.problem(chosen.code, chosen.message, chosen.resolution)


def tally_and_report(
    stats: ReaderStats,
    error: BaseException,
    scope: str,
    *,
    denied: tuple[str, str],
    otherwise: Problem | None,
    not_found: Problem | None = None,
    throttled: Problem | None = None,
    throttles: bool = True,
) -> ErrorKind:
    """``tally`` then ``report``: what a reader does with an AWS error it moves past."""
    kind = tally(stats, error, scope, throttles=throttles)
    report(
        stats, kind, denied=denied, otherwise=otherwise, not_found=not_found, throttled=throttled
    )
    return kind
