"""The S3 reader's compact checkpoint: round trip, size, damaged entries, v1 migration."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.layout import (
    TrailPrefix,
    encode_suffix,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.s3_state import (
    PrefixState,
    Section,
    UnreadableState,
    cursor_minute,
    decode_section,
    digest,
    encode_section,
    migrate_v1,
    minute_key,
    minute_of,
)

from tests.readers.helpers import at

ROOT = "AWSLogs/"
NOW = minute_of(at("2026-11-29T12:00:00"))
ORG = "o-a1b2c3d4e5"


def prefix(account="111111111111", region="us-east-1", org=ORG):
    return TrailPrefix(ROOT, org, account, region)


def roundtrip(section, now=NOW):
    stored = json.loads(
        json.dumps(encode_section(section, bucket="b", prefix="", root=ROOT, now=now))
    )
    return stored, decode_section(stored, ROOT)


def test_a_folder_round_trips_through_the_stored_form():
    p = prefix()
    state = PrefixState(
        prefix=p,
        cursor=minute_key(p, NOW - 15),
        last=NOW - 3,
        due=NOW + 3,
        swept=NOW - 40,
        unread=True,
        recent={digest("a"), digest("b")},
        late={digest("c")},
        retry={encode_suffix(p, "2026/11/29/x.json"): "d"},
    )
    fresh = PrefixState(prefix(region="eu-west-1", org=""), None, NOW, NOW, NOW)
    stored, back = roundtrip(Section({p.path: state, fresh.prefix.path: fresh}, NOW - 7))
    assert back.states == {p.path: state, fresh.prefix.path: fresh}
    assert back.discovered == NOW - 7
    assert stored["v"] == 2 and stored["t"] == NOW


def test_an_exact_cursor_survives_and_a_minute_cursor_is_stored_as_a_minute():
    p = prefix()
    exact = f"{p.path}2026/11/29/{p.file_stem}20261129T1000Z_AbCdEfGh12345678.json.gz"
    stored, back = roundtrip(Section({p.path: PrefixState(p, exact, NOW, NOW, NOW)}))
    assert back.states[p.path].cursor == exact and p.path in stored["x"]
    assert cursor_minute(p, minute_key(p, NOW)) == NOW
    assert cursor_minute(p, exact) is None


def test_a_minute_cursor_any_number_of_minutes_back_round_trips():
    """Offsets are base 36, so 33 minutes is stored as "x", the exact-cursor mark: only an
    entry in ``x`` makes a cursor exact (another folder's entry does not)."""
    p, q = prefix(), prefix(region="eu-west-1")
    exact = f"{q.path}2026/11/29/{q.file_stem}20261129T1000Z_AbCdEfGh12345678.json.gz"
    for offset in range(-60, 24 * 60 + 1):
        alone = {p.path: PrefixState(p, minute_key(p, NOW - offset), NOW, NOW, NOW)}
        beside = {**alone, q.path: PrefixState(q, exact, NOW, NOW, NOW)}
        for states in (alone, beside):
            assert roundtrip(Section(states))[1].states == states, offset


def test_a_steady_folder_costs_about_fifty_bytes():
    """The size the scale targets rest on: 17,000 folders must fit well under 2 MB."""
    states = {}
    for a in range(100):
        for region in ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"):
            p = prefix(account=f"{100000000000 + a:012d}", region=region)
            states[p.path] = PrefixState(
                p,
                minute_key(p, NOW - 15),
                NOW - 2,
                NOW + 4,
                NOW - 50,
                recent={digest(f"{p.path}{i}") for i in range(3)},
            )
    stored = encode_section(Section(states, NOW), bucket="b", prefix="", root=ROOT, now=NOW)
    per_folder = len(json.dumps(stored, separators=(",", ":"))) / len(states)
    assert per_folder < 60


def test_a_damaged_folder_entry_costs_only_that_folder():
    p, q = prefix(), prefix(region="eu-west-1")
    stored, _ = roundtrip(
        Section(
            {
                p.path: PrefixState(p, None, NOW, NOW, NOW),
                q.path: PrefixState(q, None, NOW, NOW, NOW),
            }
        )
    )
    stored["o"][ORG]["111111111111"]["eu-west-1"] = "zz,not/a/valid,entry"
    assert set(decode_section(stored, ROOT).states) == {p.path}


def test_a_section_of_the_wrong_shape_is_unreadable():
    with pytest.raises(UnreadableState):
        decode_section({"v": 2, "o": []}, ROOT)


@given(st.text(max_size=40))
def test_decoding_never_raises_anything_but_unreadable_state(text):
    stored = {"v": 2, "t": NOW, "o": {ORG: {"111111111111": {"us-east-1": text}}}}
    assert set(decode_section(stored, ROOT).states) <= {prefix().path}


def test_a_v1_section_migrates_losing_and_repeating_nothing():
    p = prefix(org="")
    seen = "2026/11/29/*20261129T1005Z_AbCdEfGh12345678"
    v1 = {
        "v": 1,
        "bucket": "b",
        "prefix": "",
        "prefixes": {
            p.path: {"after": f"2026/11/29/{p.file_stem}20261129T0600Z", "seen": [seen]},
            "not/a/prefix/": {"after": "x", "seen": []},
        },
    }
    section = migrate_v1(v1, NOW)
    state = section.states[p.path]
    assert list(section.states) == [p.path]
    assert cursor_minute(p, state.cursor) == minute_of(at("2026-11-29T06:00:00"))
    suffix = f"2026/11/29/{p.file_stem}20261129T1005Z_AbCdEfGh12345678.json.gz"
    assert state.recent == {digest(suffix)}  # read by v1: not read again
    assert state.due == NOW  # listed on the next pull
