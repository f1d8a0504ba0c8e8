"""What the plugin talks to: moto (a separate process), the faulty S3 and SQS gateways, the
HEC emulator, and the tenant configuration that points the local CE at them."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import boto3

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY, MotoServer
from devkit.emulators.faulty_gateway import FaultyGateway
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.runner import SQS_TIMINGS_ENV
from devkit.soak import poison
from devkit.soak.options import (
    BUCKET,
    DEAD_LETTER_QUEUE,
    MAX_RECEIVES,
    QUEUE,
    SNS_WRAPPED_EVERY,
    SQS_TIMINGS,
    SoakError,
    SoakOptions,
)
from devkit.soak.plan import Corpus, Increment, Upload, role_policy, role_variants
from devkit.tenant_config import tenant_configuration


class World:
    """moto (separate process), the faulty S3 (and, with SQS, SQS) gateways and the HEC
    emulator."""

    def __init__(self, corpus: Corpus, options: SoakOptions) -> None:
        self.corpus = corpus
        self.options = options
        self.account = corpus.accounts[0]
        self.hec_token = secrets.token_hex(16)
        self.moto = MotoServer()
        self.gateway: FaultyGateway | None = None
        self.sqs_gateway: FaultyGateway | None = None
        self.queue_url = ""
        self.dead_letter_url = ""
        self.notifications = 0
        self.hec = HecEmulator(
            {self.hec_token: TokenSpec("soak", (), "main", options.use_ack)},
            ack_delay=options.ack_delay,
        )

    def start(self) -> World:
        self.moto.start_process({"MOTO_ACCOUNT_ID": self.account})
        self.gateway = FaultyGateway(self.moto.endpoint, seed=self.options.seed).start()
        if self.options.source == "sqs":
            seed = self.options.seed + 3
            self.sqs_gateway = FaultyGateway(self.moto.endpoint, seed=seed).start()
        self.hec.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.hec.stop()
        for gateway in (self.gateway, self.sqs_gateway):
            if gateway is not None:
                with contextlib.suppress(Exception):
                    gateway.stop()
        with contextlib.suppress(Exception):
            self.moto.stop()

    @property
    def gw(self) -> FaultyGateway:
        assert self.gateway is not None
        return self.gateway

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.moto.endpoint,
            region_name="us-east-1",
            aws_access_key_id=DEMO_ACCESS_KEY_ID,
            aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
        )

    def reset(self) -> None:
        """A fresh account: IAM roles, an empty trail bucket, no faults, nothing received."""
        self.moto.reset()
        self.gw.reset()
        if self.sqs_gateway is not None:
            self.sqs_gateway.reset()
        self.hec.reset()
        iam = self.client("iam")
        for arn, variant in role_variants(self.corpus, self.options.seed).items():
            resource = arn.split(":role/", 1)[1]
            head, _, name = resource.rpartition("/")
            iam.create_role(
                RoleName=name,
                Path=f"/{head}/" if head else "/",
                AssumeRolePolicyDocument=json.dumps(role_policy(variant, self.corpus.accounts)),
            )
        self.client("s3").create_bucket(Bucket=BUCKET)
        self.notifications = 0
        if self.options.source == "sqs":
            sqs = self.client("sqs")
            self.dead_letter_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
            dead_letter_arn = sqs.get_queue_attributes(
                QueueUrl=self.dead_letter_url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": MAX_RECEIVES}
            self.queue_url = sqs.create_queue(
                QueueName=QUEUE, Attributes={"RedrivePolicy": json.dumps(redrive)}
            )["QueueUrl"]
            # What S3 sends first when a notification configuration is saved.
            test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
            sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(test_event))

    def upload(self, increment: Increment, hostile: bool = False) -> None:
        """Upload an increment's objects; ``hostile``: with its hostile items (the
        disturbed run of ``--hostile``), else without them (the reference)."""
        s3 = self.client("s3")  # boto3 clients are safe to share between threads

        def put(upload: Upload) -> tuple[str, int]:
            body = upload.hostile_body if hostile and upload.hostile_body else upload.data()
            s3.put_object(Bucket=BUCKET, Key=upload.key, Body=body)
            return upload.key, len(body)

        uploads = [u for u in increment.uploads if hostile or u.kind != "hostile"]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="soak-upload") as pool:
            stored = list(pool.map(put, uploads))
        if self.options.source == "sqs":
            self.notify(stored)

    def notify(self, stored: Sequence[tuple[str, int]]) -> None:
        """Announce the objects stored (key, size) on the queue as S3 does: one
        ``ObjectCreated:Put`` event notification per object, keys URL-encoded; every fifth
        wrapped in an SNS envelope (a bucket notifying an SNS topic the queue subscribes to)."""
        sqs = self.client("sqs")
        bodies: list[str] = []
        for key, size in stored:
            record = {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": quote_plus(key), "size": size},
                },
            }
            body = json.dumps({"Records": [record]})
            self.notifications += 1
            if self.notifications % SNS_WRAPPED_EVERY == 0:
                body = json.dumps({"Type": "Notification", "Message": body})
            bodies.append(body)
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start : start + 10])
            ]
            failed = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed")
            if failed:
                raise SoakError(f"SQS refused notifications: {failed}")

    def queue_depth(self) -> dict[str, int]:
        """Messages visible / in flight on the queue and waiting in the dead-letter queue."""
        if self.options.source != "sqs":
            return {}
        sqs = self.client("sqs")
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        main = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)
        dead = sqs.get_queue_attributes(QueueUrl=self.dead_letter_url, AttributeNames=names)
        return {
            "visible": int(main["Attributes"]["ApproximateNumberOfMessages"]),
            "in_flight": int(main["Attributes"]["ApproximateNumberOfMessagesNotVisible"]),
            "dead_letter": sum(int(v) for v in dead["Attributes"].values()),
        }

    def queue_messages(self) -> dict[str, str]:
        """The messages on the queue and in its dead-letter queue, ``{id: "queue" |
        "dead_letter"}``, looked at without consuming them (``poison.look``: waits for the
        ones in flight, at most the reader's visibility timeout and a margin)."""
        if self.options.source != "sqs":
            return {}
        sqs = self.client("sqs")
        settle = int(SQS_TIMINGS.split(",")[0]) + 3
        found = dict.fromkeys(poison.look(sqs, self.queue_url, settle_seconds=settle), "queue")
        dead = poison.look(sqs, self.dead_letter_url, settle_seconds=settle)
        return {**found, **dict.fromkeys(dead, "dead_letter")}

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.moto.env())
        env["AWS_ENDPOINT_URL_S3"] = self.gw.url  # S3 only through the faulty gateway
        if self.sqs_gateway is not None:
            env["AWS_ENDPOINT_URL_SQS"] = self.sqs_gateway.url  # and SQS through its own
        env.pop("PYTHONHASHSEED", None)
        if self.options.source == "sqs":
            env[SQS_TIMINGS_ENV] = SQS_TIMINGS
        if self.options.hash_seed is not None:
            env["PYTHONHASHSEED"] = str(self.options.hash_seed)
        return env

    def tenant(self, lookback_hours: int) -> dict[str, Any]:
        rule: dict[str, Any] = {
            "activity_scope": "all",
            "posture_interval_minutes": 1440,
            "max_alerts_per_pull": 10000,
        }
        if self.options.alert_kinds:
            rule["alert_kinds"] = list(self.options.alert_kinds)
        configuration = tenant_configuration(
            regions=",".join(self.corpus.regions),
            source=self.options.source,
            bucket=BUCKET,
            queue_url=self.queue_url,
            lookback_hours=lookback_hours,
            hec_url=self.hec.url,
            hec_token=self.hec_token,
            rule=rule,
            splunk={"use_ack": "yes" if self.options.use_ack else "no"},
        )
        return {"name": "soak", "configuration": configuration, "use_proxy": False}
