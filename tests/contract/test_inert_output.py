"""Every string leaving the plugin is valid UTF-8, bounded, escaped and cannot be expanded
again as a ``$placeholder``: the sanitiser's rules, then each exit (CE alert, Splunk HEC,
log line, storage) fed the hostile values an attacker can put in a CloudTrail record."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from netskope.common.utils import Logger
from netskope.plugins.custom_plugins.aws_role_session_cto.utils import text
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts.builder import (
    make_alert,
    stored_alert,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts.catalogue import (
    NONCOMPLIANT_ACTIVITY,
    POSTURE,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.plugin_logger import (
    PluginLogger,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.cim import to_envelope
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.hec_client import (
    encode_envelope,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.splunk.outbox import (
    Enqueued,
    Outbox,
)

from devkit.aws_emulator import MotoServer
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.runner import StateDir, TenantConfig, run_pull
from tests.contract.tenant import configuration, seed_small_tenant
from tests.pipeline.trail import assume_role, put_trail_file, role_action

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
CONTROLS = "".join(chr(c) for c in (*range(32), 0x7F, *range(0x80, 0xA0)))
# What an attacker puts in a userAgent: 200 KB with every character class the rule names.
HOSTILE = (
    "aws-cli/2.0 \x00\x1b[2J\r\nFAKE LOG LINE\t"
    + BIDI
    + " $id ${user} $$alertName <script>alert(1)</script> \ud800 "
) * 2600
# The ServiceNow receiver's substitution (``substitute_vars``) and Python's string.Template:
# a value must come out of both unchanged.
SERVICENOW_PLACEHOLDER = re.compile(r"(?<!\\)\$([a-zA-Z0-9_]+)")


class Everything(dict[str, str]):
    """A template mapping that has a value for every name (so any placeholder expands)."""

    def __missing__(self, key: str) -> str:
        return "EXPANDED"


def assert_inert(value: str, cap: int, *, multiline: bool = False) -> None:
    value.encode("utf-8")  # strict: no lone surrogate
    assert len(value) <= cap
    forbidden = set(CONTROLS + BIDI) - ({"\n"} if multiline else set())
    assert not forbidden & set(value)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    assert SERVICENOW_PLACEHOLDER.search(value) is None
    assert string.Template(value).safe_substitute(Everything()) == value


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


# --------------------------------------------------------------------------- the rules


def test_controls_and_bidi_characters_are_escaped_visibly() -> None:
    assert text.inert("a\x00b\x1bc\u202ed\r\ne\tf") == (
        "a\\u0000b\\u001bc\\u202ed\\u000d\\u000ae\\u0009f"
    )


def test_a_description_keeps_its_line_breaks_and_escapes_the_rest() -> None:
    assert text.inert("line 1\nline 2\r\u2028", multiline=True) == ("line 1\nline 2\\u000d\\u2028")


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    assert text.inert("ua\ud800b\udfff") == "ua\ufffdb\ufffd"
    assert text.inert("😀") == "😀"  # a real astral character is kept


def test_expandable_placeholders_get_the_full_width_dollar() -> None:
    assert text.inert("$id ${user} $$x costs $ 5 or $") == "＄id ＄{user} ＄＄x costs $ 5 or $"


def test_iam_policy_variables_are_kept_so_a_corrected_policy_stays_valid() -> None:
    policy = '{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}'
    assert text.inert(policy, text.CAPS.document) == policy


def test_a_long_value_is_cut_with_an_ellipsis_and_its_original_length() -> None:
    cut = text.inert("A" * 200_000, 1024)
    assert len(cut) == 1024
    assert cut.endswith("… [truncated from 200000 characters]")
    assert cut.startswith("A" * 900)


def test_a_cut_never_leaves_half_an_escape() -> None:
    cut = text.inert("\u202e" * 500, 100)
    assert re.search(r"\\u[0-9a-f]{0,3}…", cut) is None


def test_an_over_long_alert_id_keeps_its_start_and_stays_unique() -> None:
    first = text.inert_id("aws-rsi:x:" + "a" * 300 + "1")
    second = text.inert_id("aws-rsi:x:" + "a" * 300 + "2")
    assert first != second
    assert len(first) <= text.CAPS.name and first.startswith("aws-rsi:x:aaa")
    assert text.inert_id(first) == first
    assert text.inert_id("aws-rsi:posture:1:Role") == "aws-rsi:posture:1:Role"


# Every code point, lone surrogates included (``st.text`` leaves them out by default).
ANY_CHARACTER = st.characters(exclude_categories=())


@settings(max_examples=300, deadline=None)
@given(
    st.text(ANY_CHARACTER, max_size=400), st.integers(min_value=64, max_value=300), st.booleans()
)
def test_any_text_comes_out_inert_bounded_and_stable(value: str, cap: int, multiline: bool) -> None:
    once = text.inert(value, cap, multiline=multiline)
    assert_inert(once, cap, multiline=multiline)
    assert text.inert(once, cap, multiline=multiline) == once


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab$_{}:1 \u202e\ud800"), max_size=60))
def test_no_dollar_sequence_expands_in_either_template_engine(value: str) -> None:
    assert_inert(text.inert(value), text.CAPS.line)


def test_raw_data_is_bounded_in_total_cutting_the_longest_fields_only() -> None:
    raw = {
        "current_policy": "p" * 40_000,
        "corrected_policy": "q" * 40_000,
        "remediation_command": "r" * 40_000,
        "role_arn": "arn:aws:iam::123456789012:role/Short",
    }
    bounded = text.inert_raw_data(raw)
    assert sum(len(v) for v in bounded.values()) <= text.CAPS.raw_data
    assert bounded["role_arn"] == raw["role_arn"]
    assert all(
        bounded[k].endswith("[truncated from 40000 characters]") for k in raw if k != "role_arn"
    )


# --------------------------------------------------------------------------- the exits


def hostile_alert() -> dict[str, Any]:
    return make_alert(
        NONCOMPLIANT_ACTIVITY,
        id_parts=("111122223333", "sess\u202e$id\ud800"),
        timestamp=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        user=f"arn:aws:iam::111122223333:user/{HOSTILE[:300]}",
        severity="medium",
        description=f"someone acted with user agent {HOSTILE}",
        raw={
            "user_agent": HOSTILE,
            "session_name": HOSTILE,
            "source_ip": "198.51.100.7",
            "nested": {"k\u202e": [HOSTILE, 1, None]},
        },
    )


def test_every_string_of_an_alert_is_inert_within_its_field_cap() -> None:
    alert = hostile_alert()
    caps = text.CAPS
    assert_inert(alert["id"], caps.name)
    assert_inert(alert["user"], caps.line)
    assert_inert(alert["rawData"]["user_agent"], caps.line)
    assert_inert(alert["rawData"]["session_name"], caps.name)
    assert_inert(alert["rawData"]["description"], caps.description, multiline=True)
    for value in strings_of(alert["rawData"]):
        assert_inert(value, caps.description, multiline=True)
    assert alert["rawData"]["source_ip"] == "198.51.100.7"
    assert "<script>" in alert["rawData"]["user_agent"]  # text for every receiver, not HTML


def test_a_stored_alert_is_inert_and_json_encodable_as_strict_utf8() -> None:
    stored = stored_alert({**hostile_alert(), "user": "x\ud800"})
    json.dumps(stored, ensure_ascii=False).encode("utf-8")
    assert stored["user"] == "x\ufffd"


def test_the_hec_event_of_a_hostile_alert_is_bounded_and_inert() -> None:
    body = encode_envelope(to_envelope(hostile_alert(), index="main"))
    assert len(body) <= text.CAPS.hec_event_bytes
    event = json.loads(body)["event"]
    for value in strings_of(event):
        assert_inert(value, text.CAPS.description, multiline=True)


def test_a_large_posture_alert_keeps_its_short_fields_whole_in_splunk() -> None:
    policy = json.dumps({"Statement": [{"Sid": "s" * 8000}]})
    alert = make_alert(
        POSTURE,
        id_parts=("111122223333", "BigRole", "0123456789ab"),
        timestamp=datetime(2026, 11, 28, tzinfo=UTC),
        user="arn:aws:iam::111122223333:role/BigRole",
        severity="medium",
        description="big",
        raw={
            "role_arn": "arn:aws:iam::111122223333:role/BigRole",
            "current_policy": policy,
            "corrected_policy": policy,
            "remediation_command": policy,
        },
    )
    assert alert["rawData"]["current_policy"] == policy  # the CE alert keeps it whole
    envelope = to_envelope(alert)
    assert len(encode_envelope(envelope)) <= text.CAPS.hec_event_bytes
    event = envelope["event"]
    assert event["dest"] == "arn:aws:iam::111122223333:role/BigRole"
    assert event["current_policy"].endswith(f"[truncated from {len(policy)} characters]")
    assert to_envelope(alert) == envelope  # bounding is deterministic: same alert_version


def test_the_outbox_stores_an_envelope_holding_a_lone_surrogate() -> None:
    storage: dict[str, Any] = {}
    envelope = {"time": 1.0, "event": {"id": "a\ud800", "user_agent": "x\ud800\u202e"}}
    assert Outbox(storage).enqueue("a\ud800", envelope, 1.0) is Enqueued.QUEUED
    json.dumps(storage, ensure_ascii=False).encode("utf-8")


def test_storage_is_repaired_to_valid_utf8_in_place_and_otherwise_left_alone() -> None:
    section = {"windows": [{"agent\ud800": "ua\udfff", "n": 1}], "plain": "a\u202e$id"}
    storage: dict[str, Any] = {"index": section}
    assert text.valid_utf8_in_place(storage) == 2
    assert storage["index"] is section  # mutated in place, as CE's storage must be
    assert section == {"windows": [{"agent\ufffd": "ua\ufffd", "n": 1}], "plain": "a\u202e$id"}
    json.dumps(storage, ensure_ascii=False).encode("utf-8")


def test_a_log_line_is_one_inert_bounded_line() -> None:
    logger = Logger()
    PluginLogger(logger, "CTO x [y]").warn(
        f"object {HOSTILE} skipped", details="Traceback\n  line\x1b\ud800"
    )
    record = logger.records[-1]
    assert_inert(record.message, text.CAPS.log_message)
    assert record.details == "Traceback\n  line\\u001b\ufffd"


# --------------------------------------------------------------------------- a real pull

TOKEN = "feedface-1111-4000-8000-00000000beef"
BUCKET = "contract-trail"


@pytest.fixture
def hec() -> Iterator[HecEmulator]:
    with HecEmulator({TOKEN: TokenSpec("ce", ("main",), "main")}) as emulator:
        yield emulator


def test_a_pull_over_a_hostile_user_agent_with_splunk_on_delivers_inert_alerts(
    aws: MotoServer, hec: HecEmulator, tmp_path: Path
) -> None:
    seed_small_tenant(BUCKET)
    at = datetime.now(UTC) - timedelta(hours=1)
    key = "ASIAHOSTILEKEY000001"
    action = role_action("OpenRole", "nightly", key, at + timedelta(minutes=1))
    action["userAgent"] = HOSTILE  # 200 KB, NUL, ESC, CR/LF, bidi, $id, <script>, \ud800
    put_trail_file(BUCKET, at, [assume_role("erin", "OpenRole", "nightly", key, at), action])
    splunk = {"hec_url": hec.url, "hec_token": TOKEN, "index": "main"}
    tenant = TenantConfig("hostile", configuration(splunk=splunk))
    result = run_pull(tenant, StateDir(tmp_path))
    activity = [a for a in result.alerts if a.type == "noncompliant_role_activity"]
    assert len(activity) == 1
    agent = activity[0].rawData["user_agent"]
    assert_inert(agent, text.CAPS.line)
    assert "\ufffd" in agent or "truncated" in agent
    delivered = [e for e in hec.events if e["event"].get("type") == "alert"]
    assert activity[0].id in {e["event"]["id"] for e in delivered}
    for event in delivered:
        for value in strings_of(event["event"]):
            assert_inert(value, text.CAPS.hec_event_bytes, multiline=True)
    (tmp_path / "storage.json").read_text("utf-8")
    json.dumps(result.storage, ensure_ascii=False).encode("utf-8")
    for record in result.logger.records:
        assert_inert(record.message, text.CAPS.log_message)
