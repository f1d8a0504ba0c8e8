"""The local AWS emulator is reached by plain boto3 over HTTP and resets between tests."""

import boto3


def test_boto3_reaches_moto_over_http_and_reset_forgets_resources(aws):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="probe-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["probe-bucket"]
    aws.reset()
    assert s3.list_buckets()["Buckets"] == []
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"
