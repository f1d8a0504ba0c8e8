"""The benchmark's in-process S3 answers ListObjectsV2 and GetObject as moto does, so
what the scale benchmark measures is the reader against real listing semantics."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from bench.fake_s3 import FakeS3Client
from tests.readers.helpers import trail_key

BUCKET = "parity-bucket-0001"
WHEN = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
KEYS = sorted(
    {
        trail_key(WHEN.replace(minute=m), account=a, region=r, org=o)
        for m in (0, 5, 10)
        for a in ("111111111111", "222222222222")
        for r in ("us-east-1", "eu-west-1")
        for o in ("", "o-a1b2c3d4e5")
    }
    | {
        "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/11/29/d.json.gz",
        "AWSLogs/readme.txt",
        "AWSLogs",
        "other/x",
    }
)
QUERIES = [
    {},
    {"Prefix": "AWSLogs/", "Delimiter": "/"},
    {"Prefix": "AWSLogs/o-a1b2c3d4e5/", "Delimiter": "/"},
    {"Prefix": "AWSLogs/111111111111/", "Delimiter": "/", "MaxKeys": 1},
    {"Prefix": "AWSLogs/111111111111/CloudTrail/", "Delimiter": "/"},
    {"Prefix": "AWSLogs/111111111111/CloudTrail/us-east-1/", "MaxKeys": 2},
    {
        "Prefix": "AWSLogs/111111111111/CloudTrail/us-east-1/",
        "StartAfter": "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/29/"
        "111111111111_CloudTrail_us-east-1_20261129T1005Z",
    },
    {"Prefix": "AWSLogs/", "StartAfter": "AWSLogs/2", "MaxKeys": 3},
    {"Prefix": "AWSLogs/", "StartAfter": "zzz"},
    {"Prefix": "nothing/"},
    {"Delimiter": "/"},
]


@pytest.fixture
def both(aws):
    real = boto3.client("s3")
    real.create_bucket(Bucket=BUCKET)
    fake = FakeS3Client(BUCKET, latency=0)
    for key in KEYS:
        real.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
        fake.put(key, key.encode(), WHEN)
    return real, fake


def walk(client, query):
    """Every page of a listing, followed through continuation tokens."""
    pages = []
    params = {"Bucket": BUCKET, **query}
    while True:
        page = client.list_objects_v2(**params)
        pages.append(
            (
                [o["Key"] for o in page.get("Contents", [])],
                [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                page["IsTruncated"],
                page["KeyCount"],
            )
        )
        if not page["IsTruncated"]:
            return pages
        params["ContinuationToken"] = page["NextContinuationToken"]


@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_listing_pages_match_moto(both, query):
    real, fake = both
    assert walk(fake, query) == walk(real, query)


def test_objects_and_missing_keys_match_moto(both):
    real, fake = both
    key = KEYS[3]
    for client in (real, fake):
        response = client.get_object(Bucket=BUCKET, Key=key)
        assert response["Body"].read() == key.encode()
        assert response["ContentLength"] == len(key)
        with pytest.raises(ClientError) as caught:
            client.get_object(Bucket=BUCKET, Key="missing")
        assert caught.value.response["Error"]["Code"] == "NoSuchKey"
