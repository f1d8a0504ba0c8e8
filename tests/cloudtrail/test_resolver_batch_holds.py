"""A session waiting for a link of its chain is resolved once per batch, not once per event.

A chained session whose own issuance shares a trail file with its first calls, while the
issuance of the session that assumed it is still to come (a churn-heavy organization
trail: about one session in ten), must wait as one group: the arrival of its own issuance
in that file was known when the group was formed, so it must not release the group to be
resolved and held again, nor make each of its later calls in the file a group of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.cloudtrail.helpers import Method, Status, resolver
from tests.cloudtrail.test_resolver_behaviour import USER, assume, session_identity, use

PARENT, CHILD = "ASIAPARENT", "ASIACHILD"


def _chain_step() -> Any:
    """The parent session (role Deployer) assumes role Reader as session ``step``."""
    return assume(
        CHILD,
        "Reader",
        "step",
        caller=session_identity(PARENT, "Deployer", "ivy"),
        at="2026-11-01T10:01:00Z",
    )


def _child_calls(count: int) -> list[Any]:
    return [
        use(
            CHILD,
            "Reader",
            "step",
            at=f"2026-11-01T10:02:{second:02d}Z",
            created="2026-11-01T10:01:00Z",
        )
        for second in range(count)
    ]


def _another_session_waiting(resolve: Any) -> None:
    """A session of another role read before its issuance: something waits for a console
    group, so every issuance learnt from now on announces its console group too."""
    assert (
        resolve.resolve([use("ASIAOTHER", "Auditor", "eve", at="2026-11-01T09:59:00Z")]).events
        == []
    )


def test_a_session_waiting_for_its_parent_is_one_group_resolved_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve = resolver.IdentityResolver()
    _another_session_waiting(resolve)
    walks: list[str] = []
    walk = resolver.IdentityResolver._walk

    def counted(self: Any, key: str) -> Any:
        walks.append(key)
        return walk(self, key)

    monkeypatch.setattr(resolver.IdentityResolver, "_walk", counted)
    calls = _child_calls(3)
    first = resolve.resolve([*calls, _chain_step()])
    assert first.events == []  # all wait for the parent's issuance
    assert resolve.holds.held_count == 5
    # Its first call only: the walk, and the console group it would share (itself); its
    # other calls join the group, and its issuance, known when it was formed, leaves it be.
    assert walks.count(CHILD) == 2
    assert len(resolve.holds.release_all({PARENT})) == 2  # the child's calls; the chain step
    # (released here only to count the groups; a fresh resolver checks the outcome below)


def test_the_group_is_named_when_the_parent_issuance_arrives() -> None:
    resolve = resolver.IdentityResolver()
    _another_session_waiting(resolve)
    calls = _child_calls(3)
    assert resolve.resolve([*calls, _chain_step()]).events == []
    second = resolve.resolve([assume(PARENT, "Deployer", "ivy", at="2026-11-01T10:00:00Z")])
    named = {e.eventID: r for e, r in zip(second.events, second.resolutions, strict=True)}
    for call in calls:
        resolution = named[call.eventID]
        assert resolution.status is Status.RESOLVED
        assert resolution.method is Method.ISSUING_EVENT
        assert resolution.held
        assert resolution.origin is not None and resolution.origin.arn == USER["arn"]
        assert [link.access_key_id for link in resolution.chain] == [PARENT, CHILD]
