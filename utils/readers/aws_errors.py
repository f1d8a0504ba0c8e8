"""Sorting boto3 errors into the few cases a reader treats differently.

A reader never lets one AWS error end the pull: access problems are reported with the
missing permission and the reader moves on to the next prefix, object, account or Region;
throttling is counted (and, for LookupEvents, retried with backoff); anything else is
treated as transient and retried on a later pull.
"""

from __future__ import annotations

import enum

from botocore.exceptions import BotoCoreError, ClientError

from ..redaction import redact

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
