"""How many account/Region folders a trail bucket holds, for sizing advice at validation.

The S3 source lists every folder about once per delivery interval (five minutes), so its
LIST calls and cost grow with accounts x Regions; past ``LARGE_TRAIL_FOLDERS`` the SQS source
(one notification per file, no listing) is cheaper and keeps up with less work. The count
takes a few Delimiter listings and stops early, so validation stays quick on any bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .aws_errors import AWS_ERRORS
from .layout import ACCOUNT_ID, ORG_ID, logs_root

# 100 accounts x 17 Regions: about 340 LIST calls a minute (USD 2.50 a day) with the S3 source.
LARGE_TRAIL_FOLDERS = 1_700
MAX_PAGES = 4


@dataclass(frozen=True)
class TrailSize:
    accounts: int
    regions: int
    complete: bool  # False: the count stopped at its page limit, the trail is larger

    @property
    def folders(self) -> int:
        return self.accounts * self.regions

    @property
    def large(self) -> bool:
        return self.folders > LARGE_TRAIL_FOLDERS


def _children(client: Any, bucket: str, prefix: str) -> tuple[list[str], bool]:
    """Child folder names under ``prefix`` and whether the listing was complete."""
    names: list[str] = []
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
    for _page in range(MAX_PAGES):
        page = client.list_objects_v2(**params)
        for entry in page.get("CommonPrefixes") or []:
            child = str(entry.get("Prefix", ""))[len(prefix) :].rstrip("/")
            if child:
                names.append(child)
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return names, True
        params["ContinuationToken"] = token
    return names, False


def estimate_trail_size(
    client: Any, bucket: str, prefix: str, regions: Sequence[str]
) -> TrailSize | None:
    """Accounts and Regions under ``<prefix>/AWSLogs/`` (None when it cannot be listed: the
    permission probes report that). Regions are the configured ones, else those of the first
    account's folder."""
    root = logs_root(prefix)
    try:
        top, complete = _children(client, bucket, root)
        accounts: list[str] = []
        for child in top:
            if ACCOUNT_ID.match(child):
                accounts.append(f"{root}{child}/")
            elif ORG_ID.match(child):
                members, whole = _children(client, bucket, f"{root}{child}/")
                complete = complete and whole
                accounts.extend(f"{root}{child}/{m}/" for m in members if ACCOUNT_ID.match(m))
        if not accounts:
            return TrailSize(0, len(regions), complete)
        if regions:
            region_count = len(regions)
        else:
            found, whole = _children(client, bucket, f"{accounts[0]}CloudTrail/")
            region_count = len(found)
            complete = complete and whole
    except AWS_ERRORS:
        return None
    return TrailSize(len(accounts), region_count, complete)
