"""Seeding on the shared moto server: managed-policy preparation and moto's own notifications."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import boto3
import pytest

from devkit.aws_emulator import MotoServer
from devkit.demo_tenant import DemoTenantError, seed_demo_tenant


def test_seeding_without_managed_policies_names_the_fix(aws: MotoServer) -> None:
    with pytest.raises(DemoTenantError, match="MOTO_IAM_LOAD_MANAGED_POLICIES=true"):
        seed_demo_tenant()


def test_moto_notification_mode_lets_moto_send_the_test_event_and_object_events(
    aws: MotoServer,
) -> None:
    tenant = seed_demo_tenant(server=aws, notifications="moto")
    sqs = boto3.client("sqs")
    bodies = []
    while batch := sqs.receive_message(
        QueueUrl=tenant.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        bodies += [json.loads(m["Body"]) for m in batch]
    assert bodies[0]["Event"] == "s3:TestEvent"
    keys = sorted(unquote_plus(b["Records"][0]["s3"]["object"]["key"]) for b in bodies[1:])
    assert keys == sorted(tenant.trail_keys)
