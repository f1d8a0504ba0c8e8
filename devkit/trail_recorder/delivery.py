"""Delivery as CloudTrail does it: files per account, Region and 5-minute slot, then S3 events.

Real trails deliver a record minutes after its call, split a slot over several files, shuffle
records inside a file and sometimes deliver an issuing ``AssumeRole`` *after* the first use of
its key; the plugin must cope with all of that, so the demo's trail does all of it too.
``flush_to_s3`` writes gzip ``{"Records": [...]}`` objects under
``[<prefix>/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/``, can send the S3
``ObjectCreated`` notifications (``s3:TestEvent`` first, URL-encoded keys) and can write plain
JSON copies for the offline CLI.
"""

from __future__ import annotations

import gzip
import json
import math
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from devkit.trail_recorder.formats import DELIVERY_SLOT, iso_z, parse_time
from devkit.trail_recorder.records import RecordBuilder


@dataclass
class TrailFile:
    """One CloudTrail log object: an account, a Region, a delivery minute and its records."""

    account_id: str
    region: str
    delivered_at: datetime
    suffix: str
    records: list[dict[str, Any]]

    def key(self, prefix: str = "") -> str:
        """``[<prefix>/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz``."""
        stamp = self.delivered_at.strftime("%Y%m%dT%H%MZ")
        name = f"{self.account_id}_CloudTrail_{self.region}_{stamp}_{self.suffix}.json.gz"
        folder = (
            f"AWSLogs/{self.account_id}/CloudTrail/{self.region}/"
            f"{self.delivered_at:%Y/%m/%d}/{name}"
        )
        prefix = prefix.strip("/")
        return f"{prefix}/{folder}" if prefix else folder

    def body(self) -> bytes:
        """Compact JSON, as CloudTrail writes it."""
        return json.dumps({"Records": self.records}, separators=(",", ":")).encode()


def ceil_slot(moment: datetime) -> datetime:
    epoch = moment.timestamp()
    slot = DELIVERY_SLOT.total_seconds()
    return datetime.fromtimestamp(math.ceil(epoch / slot) * slot, UTC)


class TrailDelivery(RecordBuilder):
    """Plans the pending records into trail files and writes them to the trail bucket."""

    def plan_files(self) -> list[TrailFile]:
        """Group the not-yet-delivered records into CloudTrail files (pure but for the rng).

        Each record is delivered 1-5 minutes after its call, rounded up to a 5-minute slot; a
        slot with several records may be split over up to three files; order inside a file
        is random; late issuances go one or two slots after the slot of their key's first use.
        """
        records = self.records[self._flushed :]
        delivery: dict[int, datetime] = {}
        for index, record in enumerate(records):
            moment = parse_time(record["eventTime"])
            delivery[index] = ceil_slot(moment + timedelta(seconds=self._rng.randint(60, 300)))
        self._place_late_issuances(records, delivery)
        groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = {}
        for index, record in enumerate(records):
            group = (record["recipientAccountId"], record["awsRegion"], delivery[index])
            groups.setdefault(group, []).append(record)
        files: list[TrailFile] = []
        for (account, region, slot), grouped in sorted(groups.items(), key=lambda g: g[0][2]):
            members = list(grouped)
            self._rng.shuffle(members)
            parts = 1 if len(members) < 3 else self._rng.randint(1, min(3, len(members) // 2))
            for part in range(parts):
                chunk = members[part::parts]
                files.append(TrailFile(account, region, slot, self._alnum(16), chunk))
        return files

    def _place_late_issuances(
        self, records: list[dict[str, Any]], delivery: dict[int, datetime]
    ) -> None:
        first_use: dict[str, int] = {}
        for index, record in enumerate(records):
            key = (record.get("userIdentity") or {}).get("accessKeyId")
            if key and (key not in first_use or _earlier(records, index, first_use[key])):
                first_use[key] = index
        issuances: list[tuple[int, str]] = []
        for index, record in enumerate(records):
            if record["eventName"] != "AssumeRole" or record.get("errorCode"):
                continue
            key = ((record.get("responseElements") or {}).get("credentials") or {}).get(
                "accessKeyId"
            )
            if key and key in first_use:
                issuances.append((index, key))
        chosen = {key for _, key in issuances if key in self._late_keys}
        eligible = [
            (index, key)
            for index, key in issuances
            if key not in chosen
            and parse_time(records[first_use[key]]["eventTime"])
            - parse_time(records[index]["eventTime"])
            <= timedelta(minutes=20)
        ]
        for _, key in self._rng.sample(eligible, min(self.late_issuance, len(eligible))):
            chosen.add(key)
        for index, key in issuances:
            if key in chosen:
                use_slot = delivery[first_use[key]]
                delivery[index] = use_slot + DELIVERY_SLOT * self._rng.randint(1, 2)

    def flush_to_s3(
        self,
        s3_client: Any,
        bucket: str,
        prefix: str = "",
        *,
        sqs_client: Any = None,
        queue_url: str | None = None,
        local_dir: Path | None = None,
    ) -> list[str]:
        """Write the pending records as CloudTrail files; returns the object keys in order.

        With ``sqs_client`` + ``queue_url`` it also sends what S3 sends for each new object
        (an ``s3:TestEvent`` first, once per queue; keys URL-encoded with ``/`` kept). With
        ``local_dir`` it writes plain-JSON copies (same tree, ``.json``) for offline tools.
        """
        files = self.plan_files()
        if sqs_client is not None and queue_url and queue_url not in self._test_event_sent:
            sqs_client.send_message(
                QueueUrl=queue_url, MessageBody=json.dumps(self._test_event(bucket))
            )
            self._test_event_sent.add(queue_url)
        keys: list[str] = []
        for trail_file in files:
            key = trail_file.key(prefix)
            body = trail_file.body()
            packed = gzip.compress(body, mtime=int(trail_file.delivered_at.timestamp()))
            answer = s3_client.put_object(
                Bucket=bucket, Key=key, Body=packed, ContentType="application/json"
            )
            keys.append(key)
            if local_dir is not None:
                target = Path(local_dir) / key.removesuffix(".gz")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
            if sqs_client is not None and queue_url:
                event = self._object_created_event(
                    bucket, key, len(packed), str(answer.get("ETag", "")), trail_file
                )
                sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
        self._flushed = len(self.records)
        return keys

    def _test_event(self, bucket: str) -> dict[str, Any]:
        return {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": iso_z(self.clock.now()).replace("Z", ".000Z"),
            "Bucket": bucket,
            "RequestId": self._alnum(16, string.ascii_uppercase + string.digits),
            "HostId": self._alnum(76),
        }

    def _object_created_event(
        self, bucket: str, key: str, size: int, etag: str, trail_file: TrailFile
    ) -> dict[str, Any]:
        """The S3 event notification for one delivered object (``Put`` by CloudTrail)."""
        delivered = trail_file.delivered_at + timedelta(seconds=self._rng.randint(0, 59))
        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": trail_file.region,
                    "eventTime": delivered.strftime("%Y-%m-%dT%H:%M:%S.") + "000Z",
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "AWS:AROAQYTBK6ZCBXZ7EXAMPL:regional-trail"},
                    "requestParameters": {"sourceIPAddress": "cloudtrail.amazonaws.com"},
                    "responseElements": {
                        "x-amz-request-id": self._alnum(16, string.ascii_uppercase + string.digits),
                        "x-amz-id-2": self._alnum(76),
                    },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "cloudtrail-new-objects",
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {
                            "key": quote_plus(key, safe="/"),
                            "size": size,
                            "eTag": etag.strip('"'),
                            "sequencer": f"{int(delivered.timestamp() * 1000):X}".rjust(18, "0"),
                        },
                    },
                }
            ]
        }


def _earlier(records: list[dict[str, Any]], left: int, right: int) -> bool:
    return parse_time(records[left]["eventTime"]) < parse_time(records[right]["eventTime"])


def iter_records(files: Iterable[TrailFile]) -> Iterator[dict[str, Any]]:
    """Every record of some planned files (tests and offline tools)."""
    for trail_file in files:
        yield from trail_file.records
