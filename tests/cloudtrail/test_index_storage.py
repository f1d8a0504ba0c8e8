"""The issuance index in CE storage: round trip, byte budget, what is dropped first, speed."""

from __future__ import annotations

import json
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import (
    index as index_module,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.cloudtrail import (
    index_storage,
)

from tests.cloudtrail.helpers import event, resolver
from tests.cloudtrail.test_resolver_behaviour import USER, assume, session_identity, use

IssuanceIndex = index_module.IssuanceIndex


def _switch_event() -> Any:
    identity = session_identity("", "Console", "ivy")
    identity.pop("accessKeyId")
    return event(
        eventID="switch",
        eventName="SwitchRole",
        eventSource="signin.amazonaws.com",
        userIdentity=identity,
        additionalEventData={"SwitchFrom": "arn:aws:iam::111111111111:user/ivy"},
    )


def _as_json(document: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


def test_the_index_survives_a_json_round_trip_through_storage() -> None:
    first = resolver.IdentityResolver(policy_enforces=lambda doc: False)
    first.resolve(
        [
            assume("ASIAKEEP", "Dev", "ivy"),
            _switch_event(),
            use("ASIAWAIT", "Dev", "w"),
            event(
                eventID="create",
                eventName="CreateRole",
                eventSource="iam.amazonaws.com",
                recipientAccountId="111111111111",
                userIdentity=USER,
                requestParameters={"roleName": "Dev", "assumeRolePolicyDocument": "{}"},
            ),
        ]
    )
    storage: dict[str, Any] = {}
    report, overflow = first.save(storage)
    assert overflow.events == []
    assert (
        report.sessions == 1
        and report.held == 1
        and report.bytes == len(json.dumps(storage["index"], separators=(",", ":")))
    )
    second, loaded = resolver.IdentityResolver.load(_as_json(storage)["index"])
    assert (loaded.sessions, loaded.held, loaded.skipped, loaded.reset) == (1, 1, 0, False)
    assert second.index.sessions == first.index.sessions
    assert second.index.console == first.index.console
    assert second.index.timeline.to_storage() == first.index.timeline.to_storage()
    assert second.index.watermark == first.index.watermark
    released = second.resolve([assume("ASIAWAIT", "Dev", "w", event_id="late")])
    assert [r.held for r in released.resolutions] == [False, True]


def test_no_stored_index_or_an_unknown_version_starts_empty() -> None:
    for stored in (None, {"v": 999, "sessions": [["x"]]}, "garbage", []):
        fresh, report = resolver.IdentityResolver.load(stored)
        assert fresh.index.sessions == {}
        assert report.reset is (stored is not None)


def test_malformed_stored_entries_are_skipped_and_counted() -> None:
    storage: dict[str, Any] = {}
    first = resolver.IdentityResolver()
    first.resolve([assume("ASIAGOOD", "Dev", "x"), use("ASIAHELD", "Dev", "h")])
    first.save(storage)
    document = _as_json(storage["index"])
    document["sessions"].append(["ASIABAD", "AssumeRole"])
    document["sessions"].append(None)
    document["console"].append([1, 2, 3])
    document["held"].append([["k"], "soon", []])
    document["held"][0][2].append({"eventID": 5})
    document["timeline"]["111111111111/x"] = [["t", True]]
    _, report = resolver.IdentityResolver.load(document)
    assert report.sessions == 1
    assert report.held == 1
    assert report.skipped == 6


def test_expired_sessions_are_dropped_first_when_saving() -> None:
    the_resolver = resolver.IdentityResolver(
        settings=resolver.ResolverSettings(session_retention_seconds=60)
    )
    the_resolver.resolve(
        [
            assume("ASIAEXPIRED", "Dev", "a"),  # expires 11:00
            assume("ASIALIVE", "Dev", "b", expires="Nov 1, 2026, 1:00:00 PM"),
        ]
    )
    the_resolver.index.watermark = 1_793_534_400.0  # 12:00 event time, when the pull ends
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage)
    assert report.expired_dropped == 1 and report.live_evicted == 0
    assert [row[0] for row in storage["index"]["sessions"]] == ["ASIALIVE"]


def test_over_budget_live_sessions_are_evicted_oldest_first_and_counted() -> None:
    the_resolver = resolver.IdentityResolver()
    the_resolver.resolve(
        [
            assume(f"ASIA{i:04d}", "Dev", f"s{i}", at=f"2026-11-01T10:{i % 60:02d}:00Z")
            for i in range(60)
        ]
    )
    unbounded: dict[str, Any] = {}
    full, _ = the_resolver.save(unbounded)
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage, budget_bytes=full.bytes // 2)
    assert report.bytes <= full.bytes // 2
    assert report.live_evicted > 0
    assert report.live_evicted + report.sessions == 60
    kept_times = [row[13] for row in storage["index"]["sessions"]]
    evicted_before = min(kept_times)
    assert all(s.issued_at >= evicted_before for s in the_resolver.index.sessions.values())


def test_expired_sessions_kept_for_late_files_yield_to_the_budget_before_live_ones() -> None:
    # Retention as the pipeline sets it (the look-back): expired sessions stay for trail
    # files read late, but the budget drops them before any live session, and dropping
    # them is not an eviction before expiry.
    the_resolver = resolver.IdentityResolver(
        settings=resolver.ResolverSettings(session_retention_seconds=24 * 3600)
    )
    expired = [  # issued 10:00-10:29, expire 11:00
        assume(f"ASIAOLD{i:04d}", "Dev", f"o{i}", at=f"2026-11-01T10:{i:02d}:00Z")
        for i in range(30)
    ]
    live = [  # issued earlier than some expired ones, but valid until 13:00
        assume(
            f"ASIALIVE{i:03d}",
            "Dev",
            f"l{i}",
            at=f"2026-11-01T10:{i:02d}:30Z",
            expires="Nov 1, 2026, 1:00:00 PM",
        )
        for i in range(10)
    ]
    the_resolver.resolve(expired + live)
    the_resolver.index.watermark = 1_793_534_400.0  # 12:00 event time
    unbounded: dict[str, Any] = {}
    full, _ = the_resolver.save(unbounded)
    assert full.sessions == 40 and full.expired_dropped == 0  # within the retention
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage, budget_bytes=full.bytes * 2 // 3)
    kept = [row[0] for row in storage["index"]["sessions"]]
    assert report.live_evicted == 0
    assert report.expired_dropped == 40 - len(kept) > 0
    assert {k for k in kept if k.startswith("ASIALIVE")} == {f"ASIALIVE{i:03d}" for i in range(10)}
    dropped = {f"ASIAOLD{i:04d}" for i in range(30)} - set(kept)
    assert dropped == {f"ASIAOLD{i:04d}" for i in range(len(dropped))}  # oldest first


def test_held_events_beyond_their_share_are_emitted_unresolved_not_lost() -> None:
    the_resolver = resolver.IdentityResolver()
    the_resolver.resolve([use(f"ASIAH{i}", "Dev", f"h{i}") for i in range(40)])
    storage: dict[str, Any] = {}
    report, overflow = the_resolver.save(storage, budget_bytes=8_000)
    assert overflow.events, "some held events had to go"
    assert len(overflow.events) + report.held == 40
    assert {r.status.value for r in overflow.resolutions} == {"unresolved"}
    assert all("no room" in (r.reason or "") for r in overflow.resolutions)
    assert report.bytes <= 8_000


def test_an_index_of_twenty_thousand_sessions_saves_and_loads_whole_within_its_budget() -> None:
    """Save/load speed is a benchmark figure (``make bench``), not a timed test."""
    index = IssuanceIndex()
    the_resolver = resolver.IdentityResolver(index)
    the_resolver.resolve([assume(f"ASIA{i:06d}", "Dev", f"s{i}") for i in range(20_000)])
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage)
    _, load_report = resolver.IdentityResolver.load(storage["index"])
    assert report.sessions == load_report.sessions == 20_000
    assert report.bytes < index_storage.DEFAULT_BUDGET_BYTES


def test_given_up_sessions_yield_before_live_sessions_and_the_index_stays_in_budget() -> None:
    """What was given up (kept only for a late issuance) is dropped, oldest first, before any
    live session is evicted; and the sections rewritten after held events were cut at save
    never take the document over its budget (the S3 soak saw 8.7 MB of an 8 MiB budget)."""
    the_resolver = resolver.IdentityResolver()
    the_resolver.resolve(
        [assume(f"ASIA{i:04d}", "Dev", f"s{i}", at="2026-11-01T10:00:00Z") for i in range(20)]
    )
    for i in range(400):
        the_resolver.holds.give_up(f"ASIAMISSING{i:04d}", f"ASIAGIVEN{i:04d}", 1_793_530_800.0)
    unbounded: dict[str, Any] = {}
    full, _ = the_resolver.save(unbounded)
    sessions_only = full.bytes - len(json.dumps(unbounded["index"]["given_up"]))
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage, budget_bytes=sessions_only + 2_000)
    assert report.bytes <= sessions_only + 2_000
    assert report.live_evicted == 0 and report.sessions == 20
    assert 0 < report.given_up_dropped < 400
    kept = [row[1] for row in storage["index"]["given_up"]]
    assert kept == [f"ASIAGIVEN{i:04d}" for i in range(400 - len(kept), 400)]  # newest kept


def test_trust_history_is_kept_for_events_read_hours_behind_the_watermark() -> None:
    """A role restored (enforcing) at 09:00 and restored again at 14:00: an event of a
    session created at 11:00, read after the watermark passed 16:00 (a killed pull's SQS
    messages come back after newer ones; a trail file comes late), must still see the 09:00
    change. Trimmed at the sessions' two-hour retention, the stored timeline kept only
    14:00, and the session was judged by the posture scan's current verdict (soak finding
    16: 7 activity alerts the in-order run did not raise)."""
    the_resolver = resolver.IdentityResolver(policy_enforces=lambda document: True)
    nine, eleven, fourteen = 1_793_523_600.0, 1_793_530_800.0, 1_793_541_600.0
    the_resolver.index.timeline.record("111111111111", "Dev", nine, True)
    the_resolver.index.timeline.record("111111111111", "Dev", fourteen, True)
    the_resolver.index.watermark = fourteen + 2.5 * 3600
    storage: dict[str, Any] = {}
    report, _ = the_resolver.save(storage)
    loaded, _ = resolver.IdentityResolver.load(_as_json(storage["index"]))
    role = "arn:aws:iam::111111111111:role/Dev"
    assert loaded.index.timeline.knows(role, eleven) == (True, True)
    assert report.timeline_dropped == 0
    # What no late event can need any more goes: older than the timeline's retention.
    the_resolver.index.watermark = fourteen + 8 * 86400
    report, _ = the_resolver.save(storage)
    assert report.timeline_dropped == 1
    assert storage["index"]["timeline"]["111111111111/dev"] == [[int(fourteen), True]]
