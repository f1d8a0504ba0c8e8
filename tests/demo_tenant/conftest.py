"""Fixtures for the demo tenant: one seeded moto per test worker, kept out of others' resets.

The seeded tenant lives in its own moto *process*: thread servers in one process share moto's
module-level backends, so another test's reset of the shared ``moto_server`` would wipe it.
The process is started with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` (the documented way for a
process server). Seeding once per worker keeps the whole directory to a few seconds.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.aws_emulator import MotoServer, patched_env
from devkit.demo_tenant import DemoTenant, seed_demo_tenant


@dataclass
class SeededDemo:
    server: MotoServer
    tenant: DemoTenant
    files: dict[str, list[dict[str, Any]]]  # trail key -> records

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for records in self.files.values() for record in records]


@pytest.fixture(scope="session")
def seeded_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDemo]:
    server = MotoServer().start_process({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    local_dir: Path = tmp_path_factory.mktemp("demo-trail")
    with patched_env(server.env()):
        tenant = seed_demo_tenant(prefix="org-trail", local_dir=local_dir)
        s3 = boto3.client("s3")
        files = {
            key: json.loads(
                gzip.decompress(s3.get_object(Bucket=tenant.bucket, Key=key)["Body"].read())
            )["Records"]
            for key in tenant.trail_keys
        }
    yield SeededDemo(server, tenant, files)
    server.stop()


@pytest.fixture
def demo(seeded_demo: SeededDemo) -> Iterator[SeededDemo]:
    """The seeded tenant with boto3 pointed at its moto server for the test's duration."""
    with patched_env(seeded_demo.server.env()):
        yield seeded_demo
