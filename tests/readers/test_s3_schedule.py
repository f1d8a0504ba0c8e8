"""When the S3 reader lists, sweeps and rediscovers folders (pure scheduling rules)."""

from __future__ import annotations

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.layout import TrailPrefix
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.s3_schedule import (
    next_due,
    policy,
    spread,
    wants_listing,
)
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.readers.s3_state import (
    PrefixState,
)

NOW = 29_000_000
P = TrailPrefix("AWSLogs/", "", "111111111111", "us-east-1")


def rule(folders, **overrides):
    options = {
        "folders": folders,
        "now": NOW,
        "previous_pull": NOW - 1,
        "discovered": NOW - 5,
        "sweeps_per_pull": 300,
        "max_idle_minutes": 15,
        "discovery_minutes": 30,
        "lookback_minutes": 24 * 60,
    }
    options.update(overrides)
    return policy(**options)


def state(**fields):
    base = {"prefix": P, "cursor": "c", "last": NOW - 1, "due": NOW + 5, "swept": NOW - 1}
    base.update(fields)
    return PrefixState(**base)


def test_a_small_trail_is_listed_swept_and_rediscovered_on_every_pull():
    small = rule(64)
    assert small.every_pull and small.discover and small.sweep_interval == 0
    assert wants_listing(state(), NOW, small) == (True, True)


def test_a_trail_above_the_small_size_is_scheduled_with_a_sweep_in_every_listing():
    medium = rule(170)
    assert not medium.every_pull and medium.sweep_interval == 1


def test_an_organization_trail_spreads_sweeps_and_discovery():
    large = rule(17_000)
    assert not large.every_pull and not large.discover
    assert large.sweep_interval == 57  # 17,000 folders / 300 sweeps a pull, one-minute polls
    assert rule(17_000, discovered=NOW - 30).discover
    assert rule(17_000, discovered=None).discover
    # never rarer than a quarter of the look-back, nor than two hours
    assert rule(17_000, lookback_minutes=120).sweep_interval == 30
    assert rule(170_000).sweep_interval == 120


def test_a_folder_that_just_delivered_waits_for_its_next_file():
    large = rule(17_000)
    assert wants_listing(state(last=NOW - 1, due=NOW + 5), NOW, large) == (False, False)
    assert wants_listing(state(due=NOW), NOW, large) == (True, False)
    assert wants_listing(state(due=NOW, swept=NOW - 57), NOW, large) == (True, True)
    assert wants_listing(state(unread=True), NOW, large)[0]  # files known and not read
    assert wants_listing(state(cursor=None), NOW, large) == (True, True)  # never listed


def test_a_quiet_folder_is_still_swept_once_its_sweep_is_overdue_by_an_idle_period():
    large = rule(17_000)
    assert wants_listing(state(due=NOW + 10, swept=NOW - 57 - 15), NOW, large) == (False, False)
    assert wants_listing(state(due=NOW + 10, swept=NOW - 57 - 16), NOW, large) == (True, True)


def test_next_due_follows_the_cadence_then_backs_off_up_to_the_idle_limit():
    assert next_due(NOW, NOW, 15) == NOW + 6  # next five-minute file, one minute of slack
    assert next_due(NOW - 6, NOW, 15) == NOW + 1  # overdue by a minute: look again soon
    assert next_due(NOW - 9, NOW, 15) == NOW + 4  # the wait doubles with the silence
    assert next_due(NOW - 600, NOW, 15) == NOW + 15  # an idle Region: every 15 minutes
    assert next_due(NOW, NOW, 15, interval=10) == NOW + 11  # coarser listing, fewer LISTs


def test_spread_is_stable_and_inside_the_interval():
    paths = [f"AWSLogs/{a:012d}/CloudTrail/us-east-1/" for a in range(500)]
    offsets = [spread(p, 57) for p in paths]
    assert offsets == [spread(p, 57) for p in paths]
    assert min(offsets) >= 0 and max(offsets) < 57
    assert len(set(offsets)) > 40  # spread out, not bunched
    assert spread(paths[0], 0) == 0
