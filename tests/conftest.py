"""Shared test set-up: the plugin is imported where CE imports it, under the SDK stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.aws_emulator import MotoServer, patched_env
from devkit.loader import register_package

register_package()

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS = (REPO_ROOT.parent / "shared" / "datasets").resolve()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server (server mode, real HTTP on 127.0.0.1) per test worker."""
    server = MotoServer().start_thread()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server: MotoServer) -> Iterator[MotoServer]:
    """A clean moto account with boto3 (and the plugin) pointed at it; yields the server."""
    moto_server.reset()
    with patched_env(moto_server.env()):
        yield moto_server
