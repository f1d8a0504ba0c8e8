"""No configured secret (secret key, External ID, HEC token) reaches a log, alert, error,
stored state or a payload Splunk receives - through validation, pulls and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from netskope.common.utils import Logger

from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.loader import load_plugin
from devkit.runner import StateDir, TenantConfig, run_pull

from .tenant import ACCOUNT, ENFORCED_TRUST, configuration, seed_small_tenant

SECRET_KEY = "wJalrXUtnFEMI/SECRET+KEY/forLeakTests0001"
EXTERNAL_ID = "ext-id-Leak-Test-7f3a9c"
HEC_TOKEN = "0badf00d-1111-4222-8333-944455556666"
SECRETS = (SECRET_KEY, EXTERNAL_ID, HEC_TOKEN)


@pytest.fixture
def hec() -> Iterator[HecEmulator]:
    with HecEmulator({HEC_TOKEN: TokenSpec("ce", ("main",), "main")}) as emulator:
        yield emulator


def secret_config(hec_url: str, token: str = HEC_TOKEN) -> dict[str, object]:
    boto3.client("iam").create_role(
        RoleName="AuditorRole", AssumeRolePolicyDocument=json.dumps(ENFORCED_TRUST)
    )
    return configuration(
        aws={
            "secret_access_key": SECRET_KEY,
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole",
            "external_id": EXTERNAL_ID,
        },
        splunk={"hec_url": hec_url, "hec_token": token, "index": "main"},
    )


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_validation_and_pulls_leak_no_secret(aws: object, hec: HecEmulator, tmp_path: Path) -> None:
    seed_small_tenant()
    config = secret_config(hec.url)
    logger = Logger()
    plugin = load_plugin()("leak", None, {}, None, logger)
    messages = [plugin.validate_step(step, config).message for step in config]
    tenant = TenantConfig("leak", config)
    result = run_pull(tenant, StateDir(tmp_path))
    hec.add_fault({"kind": "busy", "count": None})
    outage = run_pull(tenant, StateDir(tmp_path / "outage"), validate=False)
    assert result.alerts and outage.alerts
    assert hec.events  # the first pull really delivered to Splunk
    assert_clean(
        "\n".join(messages),
        logger.text(),
        result.logger.text(),
        outage.logger.text(),
        json.dumps([a.model_dump(mode="json") for a in result.alerts + outage.alerts]),
        (tmp_path / "storage.json").read_text(),
        (tmp_path / "outage" / "storage.json").read_text(),
        json.dumps(hec.events),
    )


def test_rejected_hec_token_is_named_but_not_shown(aws: object, hec: HecEmulator) -> None:
    wrong = "ffffffff-2222-4333-8444-955566667777"
    config = secret_config(hec.url, token=wrong)
    logger = Logger()
    result = load_plugin()("leak", None, {}, None, logger).validate_step("splunk", config)
    assert not result.success
    assert "HEC Token" in result.message
    assert wrong not in result.message and wrong not in logger.text()


def test_failed_assume_role_names_the_role_not_the_external_id(aws: object) -> None:
    import os

    config = configuration(
        aws={
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/AuditorRole",
            "external_id": EXTERNAL_ID,
            "secret_access_key": SECRET_KEY,
        }
    )
    os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
    logger = Logger()
    plugin = load_plugin()("leak", config, {}, None, logger)
    with pytest.raises(Exception) as failure:
        plugin.pull_alerts()
    assert_clean(str(failure.value), logger.text())
    assert "Pull failed" in logger.text()


# --------------------------------------------------------------------------- pasted secrets


def private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


PRIVATE_KEY = private_key_pem()
# Shaped like a real secret access key: 40 random base64 characters.
PASTED_SECRET_KEY = "siq2SXkKYFPwLRxTCnT/xG9mtvaW3iNeaUIPFabZ"


def shares_eight_characters(value: str, text: str) -> str | None:
    """The first 8-character substring of ``value`` found in ``text`` (None when none is)."""
    grams = {value[i : i + 8] for i in range(len(value) - 7)}
    return next((text[i : i + 8] for i in range(len(text) - 7) if text[i : i + 8] in grams), None)


def logged(logger: Logger) -> str:
    return "\n".join(
        f"{r.message}\n{r.details or ''}\n{r.resolution or ''}" for r in logger.records
    )


@pytest.mark.parametrize(
    ("field", "value", "auth"),
    [
        ("ra_trust_anchor_arn", PRIVATE_KEY, "iam_roles_anywhere"),
        ("ra_profile_arn", PRIVATE_KEY, "iam_roles_anywhere"),
        ("access_key_id", PASTED_SECRET_KEY, "access_keys"),
        ("role_arn", PASTED_SECRET_KEY, "access_keys"),
        ("regions", PASTED_SECRET_KEY, "access_keys"),
        ("member_role_name", PRIVATE_KEY, "access_keys"),
        ("ra_certificate", PRIVATE_KEY.replace("PRIVATE KEY", "CERTIFICATE"), "iam_roles_anywhere"),
    ],
)
def test_a_secret_pasted_into_the_wrong_field_is_named_but_never_echoed(
    aws: object, field: str, value: str, auth: str
) -> None:
    seed_small_tenant()
    config = configuration(aws={"authentication_method": auth, field: value})
    logger = Logger()
    result = load_plugin()("leak", None, {}, None, logger).validate_step("aws", config)
    assert not result.success
    assert shares_eight_characters(value, result.message) is None, result.message
    assert shares_eight_characters(value, logged(logger)) is None
    label = next(
        f["label"]
        for s in load_plugin().metadata["configuration"]
        for f in s["fields"]
        if f["key"] == field
    )
    assert label in result.message or "Roles Anywhere" in result.message, result.message


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ("cloudtrail", "bucket_name"),
        ("cloudtrail", "sqs_queue_url"),
        ("splunk", "hec_url"),
        ("splunk", "index"),
        ("rule", "sensitive_actions"),
    ],
)
@pytest.mark.parametrize("value", [PRIVATE_KEY, PASTED_SECRET_KEY], ids=["pem", "secret_key"])
def test_no_validation_message_of_any_step_echoes_a_pasted_secret(
    aws: object, step: str, field: str, value: str
) -> None:
    seed_small_tenant()
    config = configuration(**{step: {field: value, "source": "sqs", "activity_scope": "sensitive"}})
    logger = Logger()
    result = load_plugin()("leak", None, {}, None, logger).validate_step(step, config)
    assert not result.success
    assert shares_eight_characters(value, result.message) is None, result.message
    assert shares_eight_characters(value, logged(logger)) is None


def test_a_huge_value_is_refused_by_its_length_at_once(aws: object) -> None:
    config = configuration(aws={"role_arn": " " * 200_000 + "x"})
    result = load_plugin()("leak", None, {}, None, Logger()).validate_step("aws", config)
    assert not result.success
    assert result.message.startswith("Role ARN to Assume: the value is too long (200,001")


def test_an_unexpected_error_in_validation_logs_no_secret(
    aws: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils import validator

    def explode(step: str, values: object) -> list[str]:
        raise RuntimeError(f"boom with {PASTED_SECRET_KEY} and {PRIVATE_KEY}")

    monkeypatch.setattr(validator, "schema_errors", explode)
    logger = Logger()
    config = configuration(aws={"access_key_id": PASTED_SECRET_KEY})
    result = load_plugin()("leak", None, {}, None, logger).validate_step("aws", config)
    assert not result.success
    assert "boom" in logged(logger)  # the traceback is there, the secrets are not
    for secret in (PASTED_SECRET_KEY, PRIVATE_KEY):
        assert shares_eight_characters(secret, result.message + logged(logger)) is None


@pytest.mark.parametrize(
    "name",
    [
        "http://127.0.0.1:58523/123456789012/lp-action-GetQueueAttributes",
        "arn:aws:sqs:us-east-1:123456789012:CloudTrailNotificationsQueue",
        "arn:aws:iam::123456789012:role/MyVeryLongRoleNameForAuditing2024",
        "bucket-with-a-long-name-0123456789-for-trails",
    ],
)
def test_key_masking_leaves_names_in_messages_alone(name: str) -> None:
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.redaction import (
        mask_key_material,
    )

    assert mask_key_material(f"queue {name} was denied") == f"queue {name} was denied"


def test_key_masking_removes_every_credential_shape() -> None:
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.redaction import (
        mask_key_material,
    )

    text = (
        f"a {PRIVATE_KEY.strip()} b {PASTED_SECRET_KEY} c AKIAIOSFODNN7EXAMPLE d {HEC_TOKEN} "
        "e o0C8d2BctGrz-r8t2X6qz3v5N7nq8q8f5V6yhyR__VI f"
    )
    assert mask_key_material(text) == (
        "a [PEM block removed] b ******** c ******** d ******** e ******** f"
    )
