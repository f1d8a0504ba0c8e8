"""Concurrent fetches: input order kept, and with weights (listed sizes) a bound on what is
held at once, so many large objects cannot multiply the per-object bound by the window."""

from __future__ import annotations

import threading
import time

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers import fetch


def _tracking(sizes: dict[str, int]) -> tuple[list[int], object]:
    """A work function recording how many bytes are started and not yet handed on."""
    held: list[int] = [0]
    peaks: list[int] = []
    lock = threading.Lock()

    def work(item: str) -> str:
        with lock:
            held[0] += sizes[item]
            peaks.append(held[0])
        time.sleep(0.002)
        return item

    def handed(item: str) -> None:
        with lock:
            held[0] -= sizes[item]

    return peaks, (work, handed)


def test_weights_bound_what_is_held_and_order_is_kept() -> None:
    sizes = {f"o{n:02d}": (40 if n % 3 == 0 else 5) * 1024 * 1024 for n in range(30)}
    peaks, (work, handed) = _tracking(sizes)
    out = []
    for item, result in fetch.ordered_map(
        list(sizes), work, 8, weight=sizes.__getitem__, max_weight=64 * 1024 * 1024
    ):
        assert result == item
        out.append(item)
        handed(item)
    assert out == list(sizes)
    assert max(peaks) <= 64 * 1024 * 1024 + 40 * 1024 * 1024  # the bound, plus the one handed on


def test_an_item_heavier_than_the_bound_still_runs_alone() -> None:
    sizes = {"small": 1, "huge": 10**12, "after": 1}
    got = [item for item, _ in fetch.ordered_map(list(sizes), str, 4, weight=sizes.__getitem__)]
    assert got == ["small", "huge", "after"]


def test_without_weights_the_window_is_the_only_bound() -> None:
    items = [str(n) for n in range(50)]
    assert [i for i, r in fetch.ordered_map(items, str, 4) if r == i] == items


def test_the_default_object_bound_is_the_decoders_inflated_cap() -> None:
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import decode

    assert fetch.DEFAULT_MAX_OBJECT_BYTES == decode.DEFAULT_MAX_DECOMPRESSED_BYTES
