"""The issuance index on its own: console session groups and expiry."""

from __future__ import annotations

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail.index import (
    IssuanceIndex,
    IssuedSession,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail.resolution import (
    Origin,
)

ALICE = Origin("IAMUser", arn="arn:aws:iam::1:user/alice", user_name="alice")
BOB = Origin("IAMUser", arn="arn:aws:iam::1:user/bob", user_name="bob")
T0 = 1_790_000_000.0


def session(
    key: str, at: float, origin: Origin = ALICE, name: str = "job", parent: str | None = None
) -> IssuedSession:
    return IssuedSession(
        access_key_id=key,
        kind="AssumeRole",
        origin=origin,
        parent_key=parent,
        role_arn="arn:aws:iam::1:role/R",
        session_name=name,
        account_id="1",
        region="us-east-1",
        issued_at=at,
        expires_at=at + 3600,
        source_identity=None,
        assumed_role_id=f"AROAEXAMPLE:{name}",
        shared_event_id=None,
        caller_copy=True,
    )


def test_a_console_group_is_found_within_a_second_of_its_issuance() -> None:
    index = IssuanceIndex()
    index.add(session("ASIA1", T0))
    for delta in (-1, 0, 1):
        found = index.group_session("AROAEXAMPLE:job", T0 + delta)
        assert found is not None and found.access_key_id == "ASIA1"
    assert index.group_session("AROAEXAMPLE:job", T0 + 2) is None
    assert index.group_session("AROAEXAMPLE:other", T0) is None


def test_a_name_issued_again_later_finds_each_issuance_by_its_second() -> None:
    """A job that assumes the role under the same session name every minute."""
    index = IssuanceIndex()
    for n in range(5):
        index.add(session(f"ASIA{n}", T0 + 60 * n))
    for n in range(5):
        found = index.group_session("AROAEXAMPLE:job", T0 + 60 * n)
        assert found is not None and found.access_key_id == f"ASIA{n}"
    # the exact second wins over a neighbour
    index.add(session("ASIANEXT", T0 + 61))
    found = index.group_session("AROAEXAMPLE:job", T0 + 61)
    assert found is not None and found.access_key_id == "ASIANEXT"


def test_two_callers_in_one_second_of_one_group_are_ambiguous() -> None:
    index = IssuanceIndex()
    index.add(session("ASIAFIRST", T0, ALICE))
    index.add(session("ASIASECOND", T0, BOB))
    assert index.group_session("AROAEXAMPLE:job", T0) is None
    # the same caller twice in one second is not ambiguous: the first issuance names it
    same = IssuanceIndex()
    same.add(session("ASIAFIRST", T0, ALICE))
    same.add(session("ASIAAGAIN", T0, ALICE))
    found = same.group_session("AROAEXAMPLE:job", T0)
    assert found is not None and found.access_key_id == "ASIAFIRST"


def test_a_pruned_session_leaves_its_group_and_the_others_stay() -> None:
    index = IssuanceIndex()
    index.add(session("ASIAOLD", T0))
    index.add(session("ASIANEW", T0 + 7200))
    dropped = index.prune(T0 + 3600 + 120)  # the first expired two minutes ago
    assert dropped == ["ASIAOLD"]
    assert index.group_session("AROAEXAMPLE:job", T0) is None
    found = index.group_session("AROAEXAMPLE:job", T0 + 7200)
    assert found is not None and found.access_key_id == "ASIANEW"
    index.prune(T0 + 7200 + 3600 + 120)
    assert not index.sessions and not index._groups


def test_prune_drops_whole_minutes_only_and_never_a_live_session() -> None:
    index = IssuanceIndex()
    index.add(session("ASIAA", T0, name="a"))  # expires at T0 + 3600
    assert index.prune(T0 + 3600) == []  # not yet past its expiry
    assert index.prune(T0 + 3600 + 61) == ["ASIAA"]


def test_one_name_issued_very_often_costs_constant_work_per_issuance() -> None:
    """A caller may issue tens of thousands of sessions under one name (hostile or a busy
    job): adding and finding them stays a dictionary operation each."""
    index = IssuanceIndex()
    count = 50_000
    for n in range(count):
        index.add(session(f"ASIA{n:06d}", T0 + n))
    group = index._groups["AROAEXAMPLE:job"]
    assert isinstance(group, dict) and len(group) == count
    found = index.group_session("AROAEXAMPLE:job", T0 + 12_345)
    assert found is not None and found.access_key_id == "ASIA012345"


def test_two_sessions_of_one_role_calling_in_one_second_are_two_callers() -> None:
    """Chained callers are told apart by their keys, not by their (kind-only) origin."""
    caller = Origin("AssumedRole", account_id="1")
    index = IssuanceIndex()
    index.add(session("ASIAFROMA", T0, caller, parent="ASIAPARENTA"))
    index.add(session("ASIAFROMB", T0, caller, parent="ASIAPARENTB"))
    assert index.group_session("AROAEXAMPLE:job", T0) is None
