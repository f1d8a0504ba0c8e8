"""The value formats and constants CloudTrail records use, and the scenario's clock.

Everything here is pure: the rest of the recorder builds records out of these formats, so they
live below it and every layer can use them without an import loop.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

EVENT_VERSION = "1.10"
DELIVERY_SLOT = timedelta(minutes=5)
DEFAULT_TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
CLI_USER_AGENT = "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.0 os/linux#6.8.0 lang/python#3.12.9"
CONSOLE_USER_AGENT = (
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
# What the console's own back-end calls show as user agent in real trails.
CONSOLE_API_USER_AGENT = "AWS Internal"


class RecorderError(RuntimeError):
    """A recorded call could not be attributed or shaped; the message names the item and fix."""


def iso_z(moment: datetime) -> str:
    """``eventTime`` / ``creationDate`` format: second precision, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock_12h(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{hour}:{moment:%M:%S} {half}"


def cloudtrail_expiration(moment: datetime) -> str:
    """STS credential expiration as CloudTrail writes it: ``Jul 10, 2023, 1:12:44 PM``.

    Written by hand (not ``%-d``/``%-I``) because those strftime flags are glibc-only.
    """
    moment = moment.astimezone(UTC)
    return f"{moment:%b} {moment.day}, {moment.year}, {_clock_12h(moment)}"


def cloudtrail_create_date(moment: datetime) -> str:
    """IAM ``createDate`` in responseElements: ``Jul 10, 2023 12:09:21 PM`` (no second comma)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%b} {moment.day}, {moment.year} {_clock_12h(moment)}"


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, Mapping):
        return {lower_camel(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class TrailClock:
    """The scenario's clock: moves only when told, plus a few seconds after each recorded call.

    Why: the demo must span realistic times (hours between AssumeRole and use) while running
    in a second, so ``eventTime`` comes from this clock, never from the wall clock.
    """

    def __init__(
        self, start: datetime, *, jitter_seconds: tuple[int, int] = (2, 20), seed: int = 0
    ) -> None:
        if start.tzinfo is None:
            raise RecorderError("TrailClock start must be timezone-aware (use UTC)")
        self._now = start.astimezone(UTC).replace(microsecond=0)
        self._jitter = jitter_seconds
        self._rng = random.Random(seed)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> datetime:
        self._now = moment.astimezone(UTC).replace(microsecond=0)
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``, e.g. ``advance(hours=3)``."""
        self._now += timedelta(**delta)
        return self._now

    def tick(self) -> datetime:
        """The time of the next call; then step a few seconds so calls never share a second."""
        moment = self._now
        self._now += timedelta(seconds=self._rng.randint(*self._jitter))
        return moment
