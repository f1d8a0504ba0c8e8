"""The dedupe window: how far back a repeated record is recognised, and what it may cost."""

from __future__ import annotations

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import seen_window
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail.seen_window import (
    SeenWindow,
)


def _read(window: SeenWindow, folders: int, files: int, records: int) -> list[set[int]]:
    """``files`` rounds of one file per folder (an organization trail read by delivery
    minute); each file's first record is delivered again in its folder's next file."""
    found: list[set[int]] = []
    for round_ in range(files):
        for folder in range(folders):
            ids = [f"{folder}-{round_}-{n}" for n in range(records)]
            if round_:
                ids[-1] = f"{folder}-{round_ - 1}-0"  # the copy, one file of its folder later
            window.note_batch(f"{folder:012d}", "us-east-1", records)
            found.append(window.repeats(ids))
    return found


def test_a_copy_one_file_later_is_recognised_however_many_folders_are_read_between() -> None:
    window = SeenWindow(200, 100_000)
    found = _read(window, folders=16, files=6, records=100)
    assert all(repeats == {99} for repeats in found[16:]), "every copy dropped, nothing else"
    assert window.size == 3 * 16 * 100


def test_the_window_stays_at_its_floor_for_one_folder_and_at_its_ceiling_for_many() -> None:
    one = SeenWindow(500, 100_000)
    _read(one, folders=1, files=10, records=100)
    assert one.size == 500 and len(one) <= 500
    many = SeenWindow(500, 2_000)
    found = _read(many, folders=40, files=4, records=100)
    assert many.size == 2_000 and len(many) <= 2_000
    assert not any(found[40:]), "copies 4,000 records back are beyond a 2,000-id window"


def test_a_trail_of_one_record_files_from_endless_folders_costs_bounded_memory() -> None:
    """Whoever writes to the bucket can name any account and Region in every file."""
    window = SeenWindow(100, 131_072)
    for n in range(20_000):
        window.note_batch(f"{n:012d}", f"r-{n}", 1)
        window.repeats([f"id-{n}"])
    assert len(window._folders) <= seen_window._MAX_FOLDERS
    assert window.size <= 3 * seen_window._MAX_FOLDERS
    assert len(window) <= window.size


def test_ids_are_remembered_by_hash_not_kept_alive() -> None:
    window = SeenWindow(1_000)
    event_id = "".join(["1234abcd-", "0000-4000-8000-", "0123456789ab"])
    window.repeats([event_id])
    assert event_id in window and "other" not in window
    assert all(type(key) is int for key in window.seen)
