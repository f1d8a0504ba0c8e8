"""CloudTrail event sources: S3 trail files, SQS notifications, LookupEvents.

Each reader hands out raw payloads (``RawBatch``) and keeps a checkpoint in
``storage["sources"]`` that moves only in ``commit()``, which the pipeline calls when the
pull's results are safe (see ``base.py``).
"""

from .base import BatchKind, Clock, EventSource, Problem, RawBatch, ReaderStats, system_clock
from .lookup_events import LookupEventsReader
from .rate_limit import RateLimiter, shared_lookup_limiter
from .s3_trail import S3TrailReader
from .sqs_notifications import SqsNotificationReader, parse_message_body

__all__ = [
    "EventSource",
    "RawBatch",
    "BatchKind",
    "ReaderStats",
    "Problem",
    "Clock",
    "system_clock",
    "S3TrailReader",
    "SqsNotificationReader",
    "parse_message_body",
    "LookupEventsReader",
    "RateLimiter",
    "shared_lookup_limiter",
]
