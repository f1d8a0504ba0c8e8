"""Session windows keep the same content whatever order their events are read in."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts import session_windows
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import resolution

from tests.cloudtrail.helpers import event

ROLE = "arn:aws:iam::111122223333:role/Open"
IVY = resolution.Origin(
    type="IAMUser",
    arn="arn:aws:iam::111122223333:user/ivy",
    user_name="ivy",
    account_id="111122223333",
)


def resolved(held: bool) -> resolution.Resolution:
    return resolution.Resolution(
        status=resolution.Status.RESOLVED,
        method=resolution.Method.ISSUING_EVENT,
        origin=IVY,
        role_arn=ROLE,
        session_name="build",
        access_key_id="ASIABUILD",
        held=held,
    )


UNRESOLVED = resolution.Resolution(
    status=resolution.Status.UNRESOLVED,
    method=resolution.Method.NO_ISSUANCE,
    role_arn=ROLE,
    session_name="build",
    access_key_id="ASIABUILD",
)


def calls(count: int) -> list[tuple[Any, resolution.Resolution]]:
    """``count`` calls of one session in one hour, from many addresses, Regions and agents."""
    out = []
    for n in range(count):
        record = event(
            eventID=f"evt-{n:04d}",
            eventName="GetObject",
            eventSource="s3.amazonaws.com",
            eventTime=f"2026-11-01T10:{n % 60:02d}:{(n * 7) % 60:02d}Z",
            sourceIPAddress=f"10.0.{n % 9}.{n % 13}",
            userAgent=f"agent/{n % 4}",
            awsRegion=("us-east-1", "eu-west-1", "ap-south-1", "sa-east-1", "us-west-2")[n % 5],
        )
        out.append((record, UNRESOLVED if n % 3 == 0 else resolved(held=n % 2 == 0)))
    return out


def window_after(order: list[int], splits: list[int], items: list[Any]) -> dict[str, Any]:
    """The stored window after reading ``items`` in ``order``, saved and loaded at ``splits``
    (as if the events were spread over several pulls)."""
    stored: list[dict[str, Any]] = []
    counted: str = ""
    start = 0
    for stop in [*sorted(set(splits)), len(order)]:
        windows = session_windows.SessionWindows(3600, 100, 86400)
        windows.load(stored, counted)
        for position in order[start:stop]:
            record, outcome = items[position]
            windows.add(record, outcome, "111122223333")
        stored = windows.save(now=1_793_527_200.0)
        counted = windows.counted_ids()
        start = stop
    assert len(stored) == 1
    return stored[0]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            st.permutations(list(range(n))),
            st.lists(st.integers(min_value=0, max_value=n), max_size=3),
        )
    )
)
def test_a_window_is_the_same_in_any_reading_order(case: tuple[list[int], list[int]]) -> None:
    order, splits = case
    items = calls(len(order))
    in_time_order = window_after(sorted(order), [], items)
    shuffled = window_after(order, splits, items)
    assert json.dumps(shuffled, sort_keys=True) == json.dumps(in_time_order, sort_keys=True)


def test_samples_are_the_earliest_and_the_identity_that_of_the_earliest_resolved_event() -> None:
    items = calls(30)
    window = window_after(list(reversed(range(30))), [10, 20], items)
    assert window["samples"] == ["evt-0000", "evt-0001", "evt-0002", "evt-0003", "evt-0004"]
    assert window["regions"] == ["us-east-1", "eu-west-1", "ap-south-1", "sa-east-1", "us-west-2"]
    assert window["resolution"]["origin"]["userName"] == "ivy"
    assert window["resolution_at"][1] == "evt-0001"  # evt-0000 is unresolved
    assert sum(count for _, count in window["counts"]) == 30


def test_late_attribution_upgrades_unresolved_and_fact_named_windows_only() -> None:
    ec2 = resolution.Resolution(
        status=resolution.Status.WORKLOAD,
        method=resolution.Method.EC2_INSTANCE_ROLE,
        origin=resolution.Origin(type="AWSService", user_name="ec2.amazonaws.com"),
        role_arn=ROLE,
        session_name="build",
        access_key_id="ASIABUILD",
    )
    record, _ = calls(1)[0]
    found = resolved(held=False)
    for first, upgraded in ((UNRESOLVED, True), (ec2, True), (found, False)):
        windows = session_windows.SessionWindows(3600, 100, 86400)
        windows.add(record, first, "111122223333")
        provisional = windows.provisional_keys()
        assert provisional == ({"ASIABUILD"} if first is ec2 else set())
        assert windows.attribute_late("ASIABUILD", found) == int(upgraded)
        (window,) = windows.save(now=1_793_527_200.0)
        assert window["resolution"] == found.to_json()
        assert windows.attribute_late("ASIABUILD", found) == 0  # already says so


def test_a_trust_change_read_late_withdraws_and_restores_windows_of_later_sessions() -> None:
    """Judged again with each change read later: a window is withdrawn while the role's
    known history says it enforced the rule at the session's creation, restored when a
    further change says it did not; sessions created before the change, and windows stored
    before creation times were kept, are left alone. State survives a save and load."""
    (record, outcome), (other, _) = calls(2)
    created = 1_793_527_000.0
    windows = session_windows.SessionWindows(3600, 100, 86400)
    windows.add(record, outcome, "111122223333", created)
    legacy = dataclasses.replace(UNRESOLVED, session_name="old", access_key_id="ASIAOLD")
    windows.add(other, legacy, "111122223333")  # no creation time known
    enforced_since: list[float] = []

    def noncompliant(role_arn: str, at: float) -> bool:
        assert role_arn == ROLE
        return not any(at >= since for since in enforced_since)

    assert windows.judge_again("111122223333", "open", created + 1, noncompliant) == 0
    enforced_since.append(created - 60)
    windows.touched.clear()
    assert windows.judge_again("999999999999", "Open", created - 60, noncompliant) == 0
    assert windows.judge_again("111122223333", "OPEN", created - 60, noncompliant) == 1
    (key,) = windows.touched
    assert windows.windows[key].withdrawn and windows.windows[key].created == created
    reloaded = session_windows.SessionWindows(3600, 100, 86400)
    reloaded.load(windows.save(now=1_793_527_200.0))
    assert reloaded.windows[key].withdrawn
    enforced_since.clear()  # a later-read change opens the role again
    assert reloaded.judge_again("111122223333", "Open", created - 60, noncompliant) == 1
    assert not reloaded.windows[key].withdrawn and reloaded.touched == {key}


def test_counted_records_are_remembered_across_pulls_far_beyond_twenty_thousand() -> None:
    """A record delivered again after 40,000 other counted events (a killed pull's files
    read back after newer ones: soak finding 15) is still not counted twice, and the record
    of 48,000 ids takes no more room in storage than 1.0.1's 20,000 did (about 380 kB)."""
    record, outcome = calls(1)[0]
    windows = session_windows.SessionWindows(3600, 100, 86400)
    assert windows.add(record, outcome, "111122223333") is not None
    for n in range(40_000):
        other = event(eventID=f"{n:08x}-0000-4000-8000-000000000000", eventName="GetObject")
        windows.add(other, outcome, "111122223333")
    stored = windows.counted_ids()
    assert len(stored) <= 48_000 * 8 <= 20_000 * 19 + 5_000
    later = session_windows.SessionWindows(3600, 100, 86400)
    later.load(windows.save(now=1_793_527_200.0), stored)
    assert later.add(record, outcome, "111122223333") is None
    assert later.duplicates == 1


def test_the_counted_record_of_1_0_1_still_stops_a_second_count() -> None:
    record, outcome = calls(1)[0]
    windows = session_windows.SessionWindows(3600, 100, 86400)
    windows.load([], [record.eventID[:16], "not-an-event-id"])  # 1.0.1 stored prefixes
    assert windows.add(record, outcome, "111122223333") is None
    garbled = session_windows.SessionWindows(3600, 100, 86400)
    garbled.load([], "%%% not base64 %%%")  # unreadable: start afresh, count normally
    assert garbled.add(record, outcome, "111122223333") is not None


def test_a_shadow_window_is_kept_unsent_raised_by_a_late_change_and_saved_last() -> None:
    """A session judged compliant is counted in a shadow window (withdrawn, never raised);
    a change read later that shows its role open makes it a window to raise. Saving keeps
    raised windows first: shadows get what room is left, and are counted apart when dropped.
    Their events are remembered in their own record, so a copy read later is not counted
    twice, whether the window was raised by then or not."""
    (first, outcome), (second, _), (third, _) = calls(3)
    created = 1_793_527_000.0
    windows = session_windows.SessionWindows(3600, 100, 86400)
    key = windows.add(first, outcome, "111122223333", created, compliant=True)
    assert key is not None
    shadow = windows.windows[key]
    assert shadow.shadow and shadow.withdrawn and not shadow.raised
    assert windows.add(first, outcome, "111122223333", created, compliant=True) is None
    assert windows.judge_again("111122223333", "Open", created - 60, lambda _r, _a: True) == 1
    assert not shadow.withdrawn and not shadow.shadow  # to be raised by the caller
    assert windows.add(second, outcome, "111122223333", created) == key
    assert shadow.events == 2

    stored = windows.shadow_counted_ids()
    later = session_windows.SessionWindows(3600, 100, 86400)
    later.load(windows.save(now=1_793_527_200.0), windows.counted_ids(), stored)
    assert later.add(first, outcome, "111122223333", created) is None  # shadow record
    assert later.add(second, outcome, "111122223333", created) is None  # main record
    assert later.windows[key].raised is False and later.windows[key].events == 2

    tight = session_windows.SessionWindows(3600, 100, 86400, max_bytes=1)
    other = dataclasses.replace(UNRESOLVED, session_name="else", access_key_id="ASIAELSE")
    tight.add(third, other, "111122223333", created, compliant=True)
    tight.windows.update(later.windows)
    assert tight.save(now=1_793_527_200.0) == []
    assert (tight.evicted, tight.shadows_dropped) == (1, 1)
    roomy = session_windows.SessionWindows(3600, 100, 86400)
    roomy.windows = dict(tight.windows)
    saved = roomy.save(now=1_793_527_200.0)
    assert [s["withdrawn"] for s in saved] == [False, True]  # shadows last


def test_windows_stored_before_shadows_existed_count_as_raised() -> None:
    (record, outcome) = calls(1)[0]
    windows = session_windows.SessionWindows(3600, 100, 86400)
    key = windows.add(record, outcome, "111122223333", 1_793_527_000.0)
    assert key is not None
    data = windows.save(now=1_793_527_200.0)[0]
    del data["raised"]
    data["withdrawn"] = True  # withdrawn in 1.0.2: its alert had been sent
    reloaded = session_windows.SessionWindows(3600, 100, 86400)
    reloaded.load([data])
    assert reloaded.windows[key].raised and not reloaded.windows[key].shadow


def test_a_later_call_judged_otherwise_leaves_the_window_verdict_alone() -> None:
    """A session's later calls judged by a posture scan made since (the role was fixed, or
    opened, with no change in the trail) are counted in the session's window, whose verdict
    only a trust-policy change read late changes (``judge_again``)."""
    (first, outcome), (second, _), (third, _) = calls(3)
    created = 1_793_527_000.0
    windows = session_windows.SessionWindows(3600, 100, 86400)
    key = windows.add(first, outcome, "111122223333", created)
    assert key is not None
    windows.windows[key].raised = True  # its alert was sent
    assert windows.add(second, outcome, "111122223333", created, compliant=True) == key
    assert not windows.windows[key].withdrawn and windows.windows[key].events == 2
    shadow = session_windows.SessionWindows(3600, 100, 86400)
    key = shadow.add(first, outcome, "111122223333", created, compliant=True)
    assert key is not None
    assert shadow.add(third, outcome, "111122223333", created) == key
    assert shadow.windows[key].shadow and shadow.windows[key].events == 2


def test_shadow_windows_keep_a_share_of_the_room_when_raised_windows_would_fill_it() -> None:
    """Raised windows alone would fill the room; the newest shadows still keep their share
    (a trust change read a pull later can raise them), and the oldest raised windows yield."""
    windows = session_windows.SessionWindows(3600, 100, 86400)
    for n, (record, outcome) in enumerate(calls(40)):
        session = dataclasses.replace(outcome, session_name=f"s{n}", access_key_id=f"ASIA{n:04d}")
        key = windows.add(record, session, "111122223333", 1_793_527_000.0, compliant=n % 4 == 0)
        assert key is not None
        windows.windows[key].raised = n % 4 != 0
    size = len(json.dumps(windows.save(now=1_793_527_200.0), separators=(",", ":")))
    tight = session_windows.SessionWindows(3600, 100, 86400, max_bytes=size // 2)
    tight.windows = dict(windows.windows)
    saved = tight.save(now=1_793_527_200.0)
    shadows = [s for s in saved if s["withdrawn"] and not s["raised"]]
    assert shadows and len(shadows) < 10  # within their share, not all ten
    assert len(saved) - len(shadows) >= 10
    assert tight.evicted == 30 - (len(saved) - len(shadows))
    assert tight.shadows_dropped == 10 - len(shadows)
    newest = max(w.last_seen for w in windows.windows.values() if w.shadow)
    assert any(s["last_seen"] == newest for s in shadows)  # newest first


def test_resources_touched_never_cost_a_window_its_place_and_have_a_bounded_room() -> None:
    """A window evicted for its resources' bytes would be opened again by a late event with
    only that event counted: resources have a room of their own, and past it windows are
    kept without them."""
    windows = session_windows.SessionWindows(3600, 100, 86400)
    for n, (record, outcome) in enumerate(calls(30)):
        session = dataclasses.replace(outcome, session_name=f"s{n}", access_key_id=f"ASIA{n:04d}")
        key = windows.add(record, session, "111122223333", 1_793_527_000.0)
        assert key is not None
    bare = windows.save(now=1_793_527_200.0)
    size = len(json.dumps(bare, separators=(",", ":")))
    for n, window in enumerate(windows.windows.values()):
        window.resources = [f"arn:aws:s3:::bucket-{n}-{i:02d}-{'x' * 60}" for i in range(10)]
        window.resources_at = [1_793_527_000.0 + i for i in range(10)]
    tight = session_windows.SessionWindows(
        3600, 100, 86400, max_bytes=size, max_resource_bytes=4000
    )
    tight.windows = dict(windows.windows)
    saved = tight.save(now=1_793_527_200.0)
    assert len(saved) == len(bare)  # the same windows as without resources
    named = [s for s in saved if "resources" in s]
    assert 0 < len(named) < len(saved)  # the newest keep theirs, within the room
    used = sum(len(json.dumps(s["resources"])) + len(json.dumps(s["resources_at"])) for s in named)
    assert used <= 4000 + 64 * len(named)
