"""Test doubles for the readers: a client factory over moto, a spy/fault-injecting client
wrapper, a fake clock, trail-key builders and a stand-in for the pull pipeline."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devkit.loader import register_package

register_package()

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import (  # noqa: E402
    RawBatch,
)

ACCOUNT = "123456789012"
Fault = Callable[[dict[str, Any]], BaseException | None]


def client_error(code: str, operation: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class SpyClient:
    """Delegates to a real boto3 client, records every call, raises injected faults."""

    def __init__(
        self,
        client: Any,
        faults: dict[str, Fault] | None = None,
        on_call: Callable[[str, str, dict[str, Any]], None] | None = None,
    ) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults = faults if faults is not None else {}
        self._on_call = on_call

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or name in {"meta", "exceptions"} or not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            if self._on_call is not None:
                self._on_call(name, self._client.meta.region_name, kwargs)
            fault = self.faults.get(name)
            error = fault(kwargs) if fault else None
            if error is not None:
                raise error
            return attr(**kwargs)

        return call

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)


class Factory:
    """A ClientFactory over a plain boto3 session (moto via AWS_ENDPOINT_URL)."""

    def __init__(self, account_id: str = ACCOUNT) -> None:
        self._session = boto3.Session()
        self._account_id = account_id
        self.faults: dict[str, dict[str, Fault]] = {}
        self.spies: dict[str, list[SpyClient]] = {}
        self.clients: dict[tuple[str, str | None], Any] = {}
        self.on_call: Callable[[str, str, dict[str, Any]], None] | None = None

    @property
    def account_id(self) -> str:
        return self._account_id

    def client(self, service: str, region: str | None = None) -> Any:
        real = self.clients.get((service, region)) or self._session.client(
            service, region_name=region or "us-east-1"
        )
        spy = SpyClient(real, self.faults.setdefault(service, {}), self.on_call)
        self.spies.setdefault(service, []).append(spy)
        return spy

    def calls(self, service: str, name: str) -> list[dict[str, Any]]:
        return [kw for spy in self.spies.get(service, []) for n, kw in spy.calls if n == name]


class FakeClock:
    """Wall clock, monotonic clock and sleep on one fake timeline."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def trail_key(
    when: datetime,
    *,
    account: str = ACCOUNT,
    region: str = "us-east-1",
    rand: str = "AbCdEfGh12345678",
    root: str = "AWSLogs/",
    org: str = "",
    ext: str = ".json.gz",
) -> str:
    org_part = f"{org}/" if org else ""
    return (
        f"{root}{org_part}{account}/CloudTrail/{region}/{when:%Y/%m/%d}/"
        f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{rand}{ext}"
    )


def trail_bytes(records: list[dict[str, Any]] | None = None, *, gz: bool = True) -> bytes:
    """A project-authored trail object (tests that need real records read the datasets)."""
    raw = json.dumps({"Records": records or [{"eventID": "e"}]}).encode()
    return gzip.compress(raw, mtime=0) if gz else raw  # mtime=0: byte-identical every call


def decode_like_pipeline(batch: RawBatch) -> None:
    """What the pipeline's decoder does, reduced: gunzip if needed, parse, expect Records."""
    assert isinstance(batch.payload, bytes)
    data = batch.payload
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("Records"), list):
        raise ValueError("not a CloudTrail log file")


def drain(reader: Any, on_batch: Callable[[RawBatch], None] | None = None) -> list[RawBatch]:
    """Run a reader the way the pipeline does (decode failures go to mark_failed)."""
    out: list[RawBatch] = []
    for batch in reader.batches():
        out.append(batch)
        if batch.kind == "object":
            try:
                decode_like_pipeline(batch)
            except (OSError, ValueError, EOFError) as error:
                reader.mark_failed(batch.batch_id, f"not a CloudTrail log file ({error})")
        if on_batch is not None:
            on_batch(batch)
    return out


class Storage:
    """CE's storage life cycle: a pull works on a copy; it is saved only if the pull
    returns normally (then round-tripped through JSON, as CE's database does)."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}

    def begin(self) -> dict[str, Any]:
        return copy.deepcopy(self.saved)

    def save(self, storage: dict[str, Any]) -> None:
        self.saved = json.loads(json.dumps(storage))
