"""Shared helpers for the CloudTrail decoder and identity resolver tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devkit.loader import register_package
from devkit.resolve_cli import trail_files

register_package()

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import (  # noqa: E402
    decode,
    events,
    fast_model,
    resolution,
    resolver,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASETS = (REPO_ROOT.parent / "shared" / "datasets").resolve()
INVICTUS = DATASETS / "cloudtrail" / "invictus-aws-dataset"
STRATUS = DATASETS / "cloudtrail" / "stratus-detonation-logs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAST_AVAILABLE = fast_model.DECODERS is not None

Status = resolution.Status
Method = resolution.Method


def attribution_of(
    the_resolver: resolver.IdentityResolver, key: str
) -> resolution.Resolution | None:
    """Who is behind session ``key`` by its issuances, as far as they are known now (None: a
    link is missing, or the chain loops)."""
    found = the_resolver.attribution_or_link(key)
    return found if isinstance(found, resolution.Resolution) else None


def decoder_params() -> list[Any]:
    """``fast`` and ``stdlib`` decoders, for tests that must hold on both paths."""
    import pytest

    return [
        pytest.param(
            True,
            id="fast",
            marks=pytest.mark.skipif(not FAST_AVAILABLE, reason="msgspec fast path unavailable"),
        ),
        pytest.param(False, id="stdlib"),
    ]


def decoder(fast: bool) -> decode.TrailDecoder:
    return decode.TrailDecoder(fast=fast)


def resolve_paths(
    paths: Iterable[Path],
    *,
    fast: bool = False,
    resolve: resolver.IdentityResolver | None = None,
    drain: bool = True,
    as_given: bool = False,
) -> resolver.ResolveResult:
    """Feed the trail files under ``paths`` one file per batch, in delivery order (or in
    the order given)."""
    the_decoder = decoder(fast)
    the_resolver = resolve if resolve is not None else resolver.IdentityResolver()
    result = resolver.ResolveResult()
    for path in list(paths) if as_given else trail_files(paths):
        decoded = the_decoder.decode_object(path.read_bytes(), name=str(path))
        result.extend(the_resolver.resolve(decoded.events))
    if drain:
        result.extend(the_resolver.drain())
    return result


def by_event_id(result: resolver.ResolveResult) -> dict[str, resolution.Resolution]:
    return {e.eventID: r for e, r in zip(result.events, result.resolutions, strict=True)}


def raw_records(path: Path) -> list[dict[str, Any]]:
    """The records of a plain JSON trail file, read with json (independently of the decoder)."""
    document = json.loads(path.read_text())
    return list(document["Records"] if isinstance(document, dict) else document)


def records_under(folder: Path) -> list[dict[str, Any]]:
    return [r for path in sorted(folder.glob("*.json")) for r in raw_records(path)]


def event(**fields: Any) -> events.TrailEvent:
    """A TrailEvent from CloudTrail-shaped keyword fields (required ones defaulted)."""
    record: dict[str, Any] = {
        "eventID": fields.pop("eventID", f"evt-{id(fields)}"),
        "eventName": "GetCallerIdentity",
        "eventSource": "sts.amazonaws.com",
        "eventTime": "2026-11-01T10:00:00Z",
    }
    record.update(fields)
    return decode.TrailDecoder(fast=False).decode_event_json(json.dumps(record))
