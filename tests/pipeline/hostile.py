"""Shared set-up of the hostile-input tests: a tenant whose storage holds every section, and
the helpers that compare a pull over hostile input with the same pull without it."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant
from tests.pipeline.trail import assume_role, put_trail_file, role_action

BUCKET = "contract-trail"
TOKEN = "feedface-0000-4000-8000-00000000cafe"
KINDS = ["posture", "noncompliant_activity", "session_spoofing", "unattributed_activity"]
STORED_STATE = "Stored state '"


def hec_emulator() -> HecEmulator:
    return HecEmulator({TOKEN: TokenSpec("ce", ("main",), "main")})


def tenant(hec: HecEmulator | None = None, **rule: Any) -> TenantConfig:
    splunk = {"hec_url": hec.url, "hec_token": TOKEN, "index": "main"} if hec else {}
    return TenantConfig(
        "hostile", configuration(rule={"alert_kinds": KINDS, **rule}, splunk=splunk)
    )


def seed_valid_trail(now: datetime) -> None:
    """Activity of an open role (windows, a spoofed session name), a session whose issuance
    is missing (held events), in two objects."""
    seed_small_tenant(BUCKET)
    at = (now - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    put_trail_file(
        BUCKET,
        at + timedelta(minutes=5),
        [
            assume_role("alice", "OpenRole", "bob", "ASIAHOSTILEVALID0001", at),
            role_action("OpenRole", "bob", "ASIAHOSTILEVALID0001", at + timedelta(minutes=1)),
            role_action("OpenRole", "x", "ASIAHOSTILEORPHAN001", at + timedelta(minutes=2)),
        ],
        suffix="V000000000000001",
    )
    put_trail_file(
        BUCKET,
        at + timedelta(minutes=10),
        [
            assume_role("carol", "OpenRole", "job", "ASIAHOSTILEVALID0002", at),
            role_action(
                "OpenRole", "job", "ASIAHOSTILEVALID0002", at + timedelta(minutes=6), "PutObject"
            ),
        ],
        suffix="V000000000000002",
    )
    many = []
    for n in range(12):  # more windows than one pull's cap of 10: a backlog
        key = f"ASIAHOSTILEMANY{n:05d}"
        many.append(assume_role("dave", "OpenRole", f"run-{n}", key, at))
        many.append(role_action("OpenRole", f"run-{n}", key, at + timedelta(minutes=3)))
    put_trail_file(BUCKET, at + timedelta(minutes=15), many, suffix="V000000000000003")


def fresh(result: PullResult) -> list[Any]:
    """The alerts this pull raised (without the previous pull's replayed ones)."""
    return list(result.alerts[: result.storage["health"]["alerts"]])


def alert_summary(alerts: list[Any]) -> list[tuple[str, str, str]]:
    """Alerts by id, kind and user (the cap's summary alert is named by the pull's time)."""
    return sorted((a.id, a.type, a.user or "") for a in alerts if a.type != "alert_volume_capped")


def warnings(result: PullResult) -> list[str]:
    return [r.message for r in result.logger.records if r.level in ("warn", "warning")]


def sections_reported(result: PullResult) -> list[str]:
    """The stored sections this pull reported resetting, one entry per report."""
    return [
        text.split(STORED_STATE, 1)[1].split("'", 1)[0]
        for text in warnings(result)
        if STORED_STATE in text
    ]


def pull_with_storage(config: TenantConfig, directory: Path, storage: dict[str, Any]) -> PullResult:
    """One pull from ``storage`` (written where the local CE keeps it)."""
    state = StateDir(directory)
    (directory / "storage.json").write_text(json.dumps(storage), "utf-8")
    return run_pull(config, state, validate=False)


def paths_of(value: Any, prefix: tuple[Any, ...] = (), depth: int = 4) -> list[tuple[Any, ...]]:
    """Every place in ``value`` down to ``depth`` (dict keys; the first and last list items)."""
    out = [prefix] if prefix else []
    if depth == 0:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths_of(item, (*prefix, key), depth - 1))
    elif isinstance(value, list) and value:
        for index in sorted({0, len(value) - 1}):
            out.extend(paths_of(value[index], (*prefix, index), depth - 1))
    return out


def replaced(storage: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    damaged = copy.deepcopy(storage)
    target: Any = damaged
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return damaged


def section_of(path: tuple[Any, ...]) -> str:
    if path[0] == "sources" and len(path) > 1:
        return f"sources.{path[1]}"
    return str(path[0])


NOW = datetime.now(UTC).replace(microsecond=0)
