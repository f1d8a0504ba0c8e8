"""The whole storage stays under what CE can save, whatever the Session Index Budget says."""

from __future__ import annotations

import json
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline import storage_budget

MB = 1024 * 1024


def test_the_default_budget_fits_beside_a_typical_storage() -> None:
    storage: dict[str, Any] = {"posture": {"roles": ["x" * 100] * 1000}, "sources": {"a": 1}}
    assert storage_budget.index_room(storage, 8 * MB) == 8 * MB


def test_a_budget_larger_than_the_room_left_is_cut_to_it() -> None:
    storage: dict[str, Any] = {"posture": {"roles": ["x" * 100] * 10_000}, "index": {"big": 1}}
    room = storage_budget.index_room(storage, 64 * MB)
    settled = len(json.dumps(storage["posture"], separators=(",", ":")))
    later = sum(storage_budget.LATER_SECTIONS.values())
    assert room == storage_budget.STORAGE_LIMIT_BYTES - settled - later
    assert room + settled + later <= 16 * MB - 2 * MB


def test_the_index_keeps_a_minimum_even_when_the_rest_is_large() -> None:
    storage: dict[str, Any] = {"posture": {"roles": ["x" * 1000] * 12_000}}
    assert storage_budget.index_room(storage, 8 * MB) == storage_budget.MIN_INDEX_BYTES
