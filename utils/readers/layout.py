"""CloudTrail's S3 key layout, and a compact encoding of keys for the processed-key record.

Trail files live at
``<prefix>/AWSLogs/[o-<org>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz``
(the ``o-…`` level only for organization trails). Within one account/Region prefix keys
sort by date folder, then by the delivery minute in the name, so ``StartAfter`` with a
synthetic key built from a time lists exactly the files delivered from that minute on.
Digest files (``CloudTrail-Digest/``) and Insights (``CloudTrail-Insight/``) sit in sibling
folders and are never listed; stray objects are filtered by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_KEY = re.compile(
    r"^(?P<root>(?:.*/)?AWSLogs/)(?:(?P<org>o-[a-z0-9]{10,32})/)?(?P<account>\d{12})/CloudTrail/"
    r"(?P<region>[a-z0-9-]+)/(?P<rest>.+)$"
)
_DATE_PATH = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/")
_NAME_TIME = re.compile(r"_(\d{8}T\d{4}Z)_")
ACCOUNT_ID = re.compile(r"^\d{12}$")
ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
_GZ = ".json.gz"


@dataclass(frozen=True, order=True, slots=True)
class TrailPrefix:
    """One account/Region folder of a trail: the unit that carries its own cursor."""

    root: str
    org_id: str
    account_id: str
    region: str

    @property
    def path(self) -> str:
        org = f"{self.org_id}/" if self.org_id else ""
        return f"{self.root}{org}{self.account_id}/CloudTrail/{self.region}/"

    @property
    def file_stem(self) -> str:
        """How every trail file name in this folder starts."""
        return f"{self.account_id}_CloudTrail_{self.region}_"


@dataclass(frozen=True, slots=True)
class TrailKey:
    prefix: TrailPrefix
    suffix: str  # the key after ``prefix.path``: "YYYY/MM/DD/<name>"


def logs_root(bucket_prefix: str) -> str:
    """``<prefix>/AWSLogs/`` for the configured trail prefix.

    Admins sometimes paste the prefix with ``AWSLogs`` included; both forms work.
    """
    prefix = bucket_prefix.strip("/")
    if not prefix:
        return "AWSLogs/"
    if prefix == "AWSLogs" or prefix.endswith("/AWSLogs"):
        return f"{prefix}/"
    return f"{prefix}/AWSLogs/"


def parse_trail_key(key: str) -> TrailKey | None:
    """The account/Region folder of a trail object key, or ``None`` if it is not one."""
    match = _KEY.match(key)
    if match is None:
        return None
    prefix = TrailPrefix(
        root=match["root"],
        org_id=match["org"] or "",
        account_id=match["account"],
        region=match["region"],
    )
    return TrailKey(prefix, match["rest"])


def skip_reason(key: str) -> str | None:
    """Why an object is not a trail log file (``None`` if it is one)."""
    if "CloudTrail-Digest" in key:
        return "digest"
    if "CloudTrail-Insight" in key:
        return "insight"
    if not (key.endswith((_GZ, ".json"))):
        return "not_json"
    return None


def start_after(prefix: TrailPrefix, when: datetime) -> str:
    """A synthetic key sorting just before every file of ``prefix`` delivered at ``when``
    (to the minute) or later. CloudTrail names and folders are in UTC."""
    when = when.astimezone(UTC) if when.tzinfo is not None else when
    return f"{prefix.path}{when:%Y/%m/%d}/{prefix.file_stem}{when:%Y%m%dT%H%M}Z"


def time_token(suffix: str) -> str:
    """Sortable delivery time of a key suffix (``YYYYMMDDTHHmmZ``), for ordering files
    of different folders; falls back to the date folder, then to the empty string."""
    found = _NAME_TIME.search(suffix)
    if found:
        return found.group(1)
    date = _DATE_PATH.match(suffix)
    if date:
        return f"{date.group(1)}{date.group(2)}{date.group(3)}T0000Z"
    return ""


def token_time(token: str) -> float | None:
    """Epoch seconds of a ``time_token`` (None for the empty token). A trail file holds no
    event newer than its delivery minute."""
    if not token:
        return None
    try:
        return datetime.strptime(token, "%Y%m%dT%H%MZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def encode_suffix(prefix: TrailPrefix, suffix: str) -> str:
    """Compact, reversible form of a key suffix for storage (about half the size).

    Standard names lose their repeated ``<account>_CloudTrail_<region>_`` stem and
    ``.json.gz`` extension (marked ``*``); anything else is kept verbatim (marked ``=``).
    """
    head, _, name = suffix.rpartition("/")
    head = f"{head}/" if head else ""
    stem = prefix.file_stem
    if name.startswith(stem) and name.endswith(_GZ):
        return f"{head}*{name[len(stem) : -len(_GZ)]}"
    return f"{head}={name}"


def decode_suffix(prefix: TrailPrefix, encoded: str) -> str:
    head, _, name = encoded.rpartition("/")
    head = f"{head}/" if head else ""
    if name.startswith("*"):
        return f"{head}{prefix.file_stem}{name[1:]}{_GZ}"
    if name.startswith("="):
        return f"{head}{name[1:]}"
    raise ValueError(f"not an encoded key suffix: {encoded!r}")
