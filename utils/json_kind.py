"""The JSON name of a value's type, which problems state instead of the value itself (a value
may be large, hostile or secret; its type is enough to say what is wrong)."""

from __future__ import annotations

from collections.abc import Mapping


def json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict | Mapping):
        return "an object"
    return f"a {type(value).__name__}"
