"""Fixtures for Splunk and ServiceNow delivery: emulators on real sockets, a fake clock,
sample alerts (project-authored: the CE alert builder's shape for the demo scenario)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.servicenow import ServiceNowEmulator

# Token values look like Splunk's (GUIDs); tests scan every output for them.
TOKEN = "5c0ffee0-1d2a-4b3c-8d4e-5f6a7b8c9d01"
ACK_TOKEN = "ac4ac4ac-1d2a-4b3c-8d4e-5f6a7b8c9d02"
DISABLED_TOKEN = "d15ab1ed-1d2a-4b3c-8d4e-5f6a7b8c9d03"
SN_USER = "ce_integration"
SN_PASSWORD = "Sn-Pa55word-for-tests"
SECRETS = (TOKEN, ACK_TOKEN, DISABLED_TOKEN, SN_PASSWORD)

ALERTS_FILE = Path(__file__).with_name("alerts_project_authored.json")


class FakeClock:
    """``sleep`` and ``monotonic`` for clients: sleeping advances time, instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def alerts() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(ALERTS_FILE.read_text("utf-8"))
    return copy.deepcopy(data)


@pytest.fixture(scope="session")
def hec_server() -> Iterator[HecEmulator]:
    tokens = {
        TOKEN: TokenSpec("ce", ("main", "security"), "main"),
        ACK_TOKEN: TokenSpec("ce-ack", ("main", "security"), "main", ack=True),
        DISABLED_TOKEN: TokenSpec("old", (), "main", disabled=True),
    }
    with HecEmulator(tokens) as server:
        yield server


@pytest.fixture
def hec(hec_server: HecEmulator) -> HecEmulator:
    """The session's HEC emulator, emptied (events, faults, request log, acks)."""
    hec_server.reset()
    hec_server.ack_delay = 0.0
    hec_server.max_content_length = 1_048_576
    return hec_server


@pytest.fixture(scope="session")
def sn_server() -> Iterator[ServiceNowEmulator]:
    with ServiceNowEmulator({SN_USER: SN_PASSWORD}) as server:
        yield server


@pytest.fixture
def servicenow(sn_server: ServiceNowEmulator) -> ServiceNowEmulator:
    sn_server.reset()
    return sn_server
