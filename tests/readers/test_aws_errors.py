"""The one policy every reader applies to an AWS error it moves past: what is counted where,
and which single problem the pull reports."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.aws_errors import (
    ErrorKind,
    report,
    tally,
    tally_and_report,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.base import (
    Problem,
    ReaderStats,
)

DENIED = ("Reading x was denied.", "Grant s3:GetObject.")
GONE = Problem("bucket_not_found", "x does not exist.", "Check the bucket name.")
SLOW = Problem("throttled", "x stayed throttled.", "Retried later.")
FAILED = Problem("read_failed", "x failed.", "Retried on the next pull.")


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetObject")


@pytest.mark.parametrize(
    ("error", "kind", "denied", "throttles"),
    [
        (client_error("AccessDenied"), ErrorKind.ACCESS_DENIED, {"scope": 1}, 0),
        (client_error("SlowDown"), ErrorKind.THROTTLED, {}, 1),
        (client_error("NoSuchKey"), ErrorKind.NOT_FOUND, {}, 0),
        (EndpointConnectionError(endpoint_url="https://s3.invalid"), ErrorKind.OTHER, {}, 0),
    ],
)
def test_tally_counts_denials_under_their_scope_and_throttles(
    error: BaseException, kind: ErrorKind, denied: dict[str, int], throttles: int
) -> None:
    stats = ReaderStats("test")
    assert tally(stats, error, "scope") is kind
    assert (dict(stats.access_denied), stats.throttles) == (denied, throttles)


def test_a_reader_that_counted_its_retries_does_not_count_the_last_throttle_again() -> None:
    stats = ReaderStats("test")
    assert tally(stats, client_error("ThrottlingException"), "s", throttles=False) is (
        ErrorKind.THROTTLED
    )
    assert stats.throttles == 0


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (ErrorKind.ACCESS_DENIED, Problem("access_denied", *DENIED)),
        (ErrorKind.NOT_FOUND, GONE),
        (ErrorKind.THROTTLED, SLOW),
        (ErrorKind.STALE_PAGE, FAILED),
        (ErrorKind.OTHER, FAILED),
    ],
)
def test_each_kind_reports_its_own_problem_or_the_fallback(
    kind: ErrorKind, expected: Problem
) -> None:
    stats = ReaderStats("test")
    report(stats, kind, denied=DENIED, not_found=GONE, throttled=SLOW, otherwise=FAILED)
    assert stats.problems == [expected]


@pytest.mark.parametrize("kind", [ErrorKind.NOT_FOUND, ErrorKind.THROTTLED, ErrorKind.OTHER])
def test_kinds_without_a_problem_fall_back_to_otherwise(kind: ErrorKind) -> None:
    stats = ReaderStats("test")
    report(stats, kind, denied=DENIED, otherwise=FAILED)
    assert stats.problems == [FAILED]


def test_no_fallback_reports_only_a_denial() -> None:
    stats = ReaderStats("test")
    for kind in (ErrorKind.NOT_FOUND, ErrorKind.THROTTLED, ErrorKind.OTHER):
        report(stats, kind, denied=DENIED, otherwise=None)
    assert stats.problems == []
    report(stats, ErrorKind.ACCESS_DENIED, denied=DENIED, otherwise=None)
    assert stats.problems == [Problem("access_denied", *DENIED)]


def test_tally_and_report_counts_then_reports_once() -> None:
    stats = ReaderStats("test")
    kind = tally_and_report(
        stats, client_error("AccessDenied"), "bucket/b", denied=DENIED, otherwise=FAILED
    )
    assert kind is ErrorKind.ACCESS_DENIED
    assert stats.access_denied == {"bucket/b": 1}
    assert stats.problems == [Problem("access_denied", *DENIED)]
