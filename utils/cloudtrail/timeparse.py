"""CloudTrail's time formats, parsed to epoch seconds without the locale or the clock.

``eventTime`` and ``creationDate`` are ISO-8601 UTC (``2023-07-10T11:54:47Z``);
``credentials.expiration`` is whatever the STS front end rendered — in public trails an
``en_US`` string such as ``Jul 30, 2024, 9:46:15 PM`` (UTC, sometimes with a narrow no-break
space before ``PM``), elsewhere ISO-8601. ``time.strptime`` would depend on the process
locale, so the month names are matched here.
"""

from __future__ import annotations

import re
from calendar import timegm
from datetime import date, datetime
from time import gmtime
from typing import Final

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_EPOCH_DAY: Final = date(1970, 1, 1).toordinal()
_LOCALE_TIME: Final = re.compile(
    r"\s*([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([AaPp])\.?[Mm]\.?\s*(?:UTC|GMT|Z)?\s*"
)


# Times already parsed: a trail file's records fall in a few minutes of whole seconds, and
# the resolver parses the times of issuances, held events and their sessions' creation
# dates, so most calls repeat a recent string. Bounded: emptied when full.
_PARSED: dict[str, float | None] = {}
_MAX_PARSED: Final = 4096


def parse_iso(text: str | None) -> float | None:
    """Epoch seconds of an ISO-8601 time (naive times are UTC), or None."""
    if not text:
        return None
    try:
        return _PARSED[text]
    except KeyError:
        pass
    except TypeError:  # not a string: nothing to parse
        return None
    parsed = _parse_iso(text)
    if len(_PARSED) >= _MAX_PARSED:
        _PARSED.clear()
    _PARSED[text] = parsed
    return parsed


def _parse_iso(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return timegm(moment.timetuple()) + moment.microsecond / 1e6
    return moment.timestamp()


def parse_expiration(text: str | None) -> float | None:
    """Epoch seconds of a ``credentials.expiration`` value (locale string or ISO), or None."""
    if not text:
        return None
    try:
        return _EXPIRATIONS[text]
    except KeyError:
        pass
    except TypeError:  # not a string: nothing to parse
        return None
    parsed = _parse_expiration(text)
    if len(_EXPIRATIONS) >= _MAX_PARSED:
        _EXPIRATIONS.clear()
    _EXPIRATIONS[text] = parsed
    return parsed


# Sessions issued in the same second for the same duration expire at the same string.
_EXPIRATIONS: dict[str, float | None] = {}


def _parse_expiration(text: str) -> float | None:
    match = _LOCALE_TIME.fullmatch(text)
    if match is None:
        return parse_iso(text)
    name, day, year, hour, minute, second, half = match.groups()
    month = _MONTHS.get(name.lower())
    hour_number = int(hour)
    if month is None or not 1 <= hour_number <= 12:
        return None
    try:
        days = date(int(year), month, int(day)).toordinal() - _EPOCH_DAY
    except ValueError:
        return None
    seconds = int(minute) * 60 + min(int(second or 0), 59)
    if seconds >= 3600:
        return None
    hour_number = hour_number % 12 + (12 if half in "Pp" else 0)
    return float(days * 86400 + hour_number * 3600 + seconds)


def format_iso(epoch: float) -> str:
    """``epoch`` as CloudTrail writes times (whole seconds, UTC, ``Z``)."""
    t = gmtime(int(epoch))
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}T{t[3]:02d}:{t[4]:02d}:{t[5]:02d}Z"
