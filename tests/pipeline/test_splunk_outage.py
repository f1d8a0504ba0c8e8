"""A Splunk outage never stops alerts reaching CE; the outbox delivers them once later."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.aws_emulator import MotoServer
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant
from tests.pipeline.trail import assume_role, put_trail_file, role_action

TOKEN = "feedface-0000-4000-8000-00000000cafe"
BUCKET = "contract-trail"


@pytest.fixture
def hec() -> Iterator[HecEmulator]:
    with HecEmulator({TOKEN: TokenSpec("ce", ("main",), "main")}) as emulator:
        yield emulator


def tenant(hec: HecEmulator) -> TenantConfig:
    splunk = {"hec_url": hec.url, "hec_token": TOKEN, "index": "main"}
    return TenantConfig("outage", configuration(splunk=splunk))


def alert_ids(hec: HecEmulator) -> Counter[str]:
    return Counter(e["event"]["id"] for e in hec.events if e["event"].get("type") == "alert")


def test_hec_down_for_a_whole_pull_then_delivered_once(
    aws: MotoServer, hec: HecEmulator, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    at = datetime.now(UTC) - timedelta(hours=1)
    key = "ASIAOUTAGEKEY0000001"
    put_trail_file(
        BUCKET,
        at,
        [
            assume_role("erin", "OpenRole", "nightly", key, at),
            role_action("OpenRole", "nightly", key, at + timedelta(minutes=1)),
        ],
    )
    state = StateDir(tmp_path)  # configured (and validated) earlier, while Splunk was up
    hec.add_fault({"kind": "busy", "count": None})
    down = run_pull(tenant(hec), state, validate=False)
    assert down.alerts, "alerts still reach CE while Splunk is down"
    assert down.storage["outbox"]["pending"], "undelivered alerts wait in the outbox"
    assert "pending" in down.storage["health"]["delivery"]
    assert alert_ids(hec) == Counter()
    hec.reset()
    up = run_pull(tenant(hec), state, validate=False)
    assert {a.id for a in up.alerts} == {a.id for a in down.alerts}  # the replay, nothing new
    delivered = alert_ids(hec)
    assert set(delivered) == {a.id for a in down.alerts}
    assert set(delivered.values()) == {1}
    run_pull(tenant(hec), state, validate=False)
    assert alert_ids(hec) == delivered  # a further pull re-sends nothing
