"""An in-process S3 bucket with a boto3-client-like surface, for scale benchmarks.

It implements what the trail readers call, with the semantics of the real API:

* ``list_objects_v2``: keys in UTF-8 binary order; ``Prefix``; ``StartAfter`` (ignored
  when a ``ContinuationToken`` is given); ``Delimiter`` rolling keys up into
  ``CommonPrefixes`` (each counted once against ``MaxKeys``, default and ceiling 1,000);
  ``IsTruncated`` / ``NextContinuationToken`` (opaque); ``Contents`` omitted when empty;
  ``LastModified`` and ``Size`` per key.
* ``get_object``: ``Body`` (``read(n)``/``close()``) and ``ContentLength``;
  ``NoSuchKey`` as a botocore ``ClientError``.

Every call sleeps ``latency`` seconds first (outside any lock), so concurrent callers
overlap the way they do against the real service, and is counted by operation. Keys are
kept in one sorted list; additions are batched and merged before the next listing
(Timsort merges the appended run in linear time).
"""

from __future__ import annotations

import base64
import threading
import time
from bisect import bisect_left
from collections import Counter
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

MAX_KEYS = 1000


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, amount: int | None = None) -> bytes:
        end = len(self._data) if amount is None else min(len(self._data), self._pos + amount)
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def close(self) -> None:
        self._data = b""


def _after_all_with(prefix: str) -> str:
    """The least string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class FakeS3Client:
    """One bucket's objects (the ``Bucket`` argument is checked, not used for routing)."""

    def __init__(self, bucket: str, latency: float = 0.02) -> None:
        self.bucket = bucket
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self._objects: dict[str, tuple[bytes, datetime]] = {}
        self._keys: list[str] = []
        self._added: list[str] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------ test side

    def put(self, key: str, body: bytes, modified: datetime) -> None:
        with self._lock:
            if key not in self._objects:
                self._added.append(key)
            self._objects[key] = (body, modified)

    def __len__(self) -> int:
        return len(self._objects)

    def _sorted(self) -> list[str]:
        with self._lock:
            if self._added:
                self._keys.extend(self._added)
                self._keys.sort()
                self._added.clear()
            return self._keys

    def _enter(self, operation: str, bucket: str) -> None:
        with self._lock:
            self.calls[operation] += 1
        if self.latency > 0:
            time.sleep(self.latency)
        if bucket != self.bucket:
            raise ClientError(
                {"Error": {"Code": "NoSuchBucket", "Message": "The bucket does not exist"}},
                operation,
            )

    # ------------------------------------------------------------- boto3 side

    def list_objects_v2(
        self,
        *,
        Bucket: str,
        Prefix: str = "",
        StartAfter: str = "",
        ContinuationToken: str | None = None,
        Delimiter: str = "",
        MaxKeys: int = MAX_KEYS,
        **_ignored: Any,
    ) -> dict[str, Any]:
        self._enter("ListObjectsV2", Bucket)
        keys = self._sorted()
        limit = max(0, min(MaxKeys, MAX_KEYS))
        if ContinuationToken is not None:
            index = bisect_left(keys, base64.urlsafe_b64decode(ContinuationToken).decode())
        else:
            index = bisect_left(keys, StartAfter + "\0") if StartAfter else 0
        index = max(index, bisect_left(keys, Prefix))
        contents: list[dict[str, Any]] = []
        common: list[dict[str, str]] = []
        while index < len(keys) and len(contents) + len(common) < limit:
            key = keys[index]
            if not key.startswith(Prefix):
                break
            if Delimiter:
                cut = key.find(Delimiter, len(Prefix))
                if cut >= 0:
                    rolled = key[: cut + len(Delimiter)]
                    common.append({"Prefix": rolled})
                    index = bisect_left(keys, _after_all_with(rolled), index)
                    continue
            body, modified = self._objects[key]
            contents.append(
                {
                    "Key": key,
                    "LastModified": modified,
                    "Size": len(body),
                    "ETag": '"0"',
                    "StorageClass": "STANDARD",
                }
            )
            index += 1
        truncated = index < len(keys) and keys[index].startswith(Prefix)
        response: dict[str, Any] = {
            "IsTruncated": truncated,
            "Name": Bucket,
            "Prefix": Prefix,
            "MaxKeys": limit,
            "KeyCount": len(contents) + len(common),
        }
        if contents:
            response["Contents"] = contents
        if common:
            response["CommonPrefixes"] = common
        if Delimiter:
            response["Delimiter"] = Delimiter
        if StartAfter:
            response["StartAfter"] = StartAfter
        if truncated:
            response["NextContinuationToken"] = base64.urlsafe_b64encode(
                keys[index].encode()
            ).decode()
        return response

    def get_object(self, *, Bucket: str, Key: str, **_ignored: Any) -> dict[str, Any]:
        self._enter("GetObject", Bucket)
        found = self._objects.get(Key)
        if found is None:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey", "Message": "The specified key does not exist."}},
                "GetObject",
            )
        body, modified = found
        return {"Body": _Body(body), "ContentLength": len(body), "LastModified": modified}


class FakeFactory:
    """A ``ClientFactory`` whose S3 clients are all the one fake bucket (boto3 clients are
    shared between threads the same way)."""

    def __init__(self, s3: FakeS3Client, account_id: str = "123456789012") -> None:
        self._s3 = s3
        self._account_id = account_id

    @property
    def account_id(self) -> str:
        return self._account_id

    def client(self, service: str, region: str | None = None) -> Any:
        if service != "s3":
            raise ValueError(f"the fake factory only serves s3, not {service}")
        return self._s3
