"""The soak's trust-change plans: which roles each change file opens and restores."""

from __future__ import annotations

from itertools import pairwise

from devkit.soak import changed_roles

ROLES = [
    f"arn:aws:iam::111111111111:role/Role-{n:02d}" for n in range(8)
]  # even, as the corpus's 24
NUMBERS = range(1, 60, 4)  # increments with a change file (trust_change_every = 4)


def _changes(plan: str) -> list[list[tuple[str, str]]]:
    return [changed_roles(ROLES, number, plan, 4) for number in NUMBERS]


def test_pairs_open_and_restore_disjoint_roles() -> None:
    opened = {role for change in _changes("pairs") for role, v in change if v == "open"}
    restored = {role for change in _changes("pairs") for role, v in change if v == "enforced"}
    assert opened and restored
    assert not opened & restored


def test_alternating_restores_the_role_the_previous_change_opened() -> None:
    changes = _changes("alternating")
    for before, after in pairwise(changes):
        (opened, verdict), (restored, restored_to) = before[0], after[1]
        assert (verdict, restored_to) == ("open", "enforced")
        assert restored == opened
    flipped = [role for role in ROLES if sum(role == c[0][0] for c in changes) >= 2]
    assert flipped, "over 15 changes of 8 roles some role is opened (and restored) twice"
