"""The BSON size estimate against the specification's worked examples (bsonspec.org)."""

from __future__ import annotations

from devkit.bson_size import bson_size


def test_the_specification_examples() -> None:
    # {"hello": "world"} is \x16\x00\x00\x00 \x02 hello\x00 \x06\x00\x00\x00 world\x00 \x00
    assert bson_size({"hello": "world"}) == 0x16
    # {"BSON": ["awesome", 5.05, 1986]}: 49 bytes (0x31)
    assert bson_size({"BSON": ["awesome", 5.05, 1986]}) == 0x31


def test_every_kind_of_value() -> None:
    assert bson_size({}) == 5
    assert bson_size({"a": None}) == 5 + 3
    assert bson_size({"a": True}) == 5 + 3 + 1
    assert bson_size({"a": 1}) == 5 + 3 + 4
    assert bson_size({"a": 2**40}) == 5 + 3 + 8
    assert bson_size({"a": "é"}) == 5 + 3 + 4 + 2 + 1  # UTF-8 bytes, not characters
    assert bson_size({"a": {"b": 1}}) == 5 + 3 + (5 + 3 + 4)
    assert bson_size({"a": [1, 2]}) == 5 + 3 + (5 + 2 * (3 + 4))
