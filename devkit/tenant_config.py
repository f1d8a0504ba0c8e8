"""The CE configuration of a test tenant in moto: one builder for the demo, the soak and the
contract tests.

Every step starts from the manifest's defaults (as CE's form starts), so a field added to
manifest.json reaches every tenant without editing three copies. Authentication is
``access_keys`` with moto's documented example key (not a secret), in one account and no role
to assume; the caller names the trail, the Splunk HEC and any rule or Splunk fields it wants
other than the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY
from devkit.loader import form_defaults


def tenant_configuration(
    *,
    regions: str,
    bucket: str,
    lookback_hours: int,
    source: str = "s3",
    prefix: str = "",
    queue_url: str = "",
    hec_url: str = "",
    hec_token: str = "",
    index: str = "",
    rule: Mapping[str, Any] | None = None,
    splunk: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """``{step: {key: value}}`` for a tenant reading ``bucket`` (or its queue) with moto's key."""
    defaults = form_defaults()
    return {
        "aws": {
            **defaults.get("aws", {}),
            "authentication_method": "access_keys",
            "access_key_id": DEMO_ACCESS_KEY_ID,
            "secret_access_key": DEMO_SECRET_ACCESS_KEY,
            "role_arn": "",
            "external_id": "",
            "regions": regions,
            "account_scope": "single_account",
        },
        "cloudtrail": {
            **defaults.get("cloudtrail", {}),
            "source": source,
            "bucket_name": bucket,
            "bucket_prefix": prefix,
            "sqs_queue_url": queue_url,
            "lookback_hours": lookback_hours,
        },
        "rule": {**defaults.get("rule", {}), **(rule or {})},
        "splunk": {
            **defaults.get("splunk", {}),
            "hec_url": hec_url,
            "hec_token": hec_token,
            "index": index,
            **(splunk or {}),
        },
    }
