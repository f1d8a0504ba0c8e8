"""The previous pull's alerts, kept compressed for one more return (CE's save window)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts import builder, catalogue
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline import replay

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def spoofing_alert(n: int, rng: random.Random, severity: str = "low") -> dict[str, Any]:
    event_id = str(uuid.UUID(int=rng.getrandbits(128)))
    user = f"user-{rng.randrange(1000):03d}"
    return builder.make_alert(
        catalogue.SESSION_SPOOFING,
        id_parts=("111122223333", event_id),
        timestamp=NOW + timedelta(seconds=n),
        user=f"arn:aws:iam::111122223333:user/{user}",
        severity=severity,
        description=f"{user} assumed DataEngineer-{n % 40:02d} as session chain-{n:08x}.",
        raw={
            "event_id": event_id,
            "role_arn": f"arn:aws:iam::111122223333:role/teams/DataEngineer-{n % 40:02d}",
            "session_name": f"chain-{rng.getrandbits(32):08x}",
            "source_ip": f"83.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "access_key_id": f"ASIA{rng.getrandbits(64):016X}",
            "user_agent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64",
        },
    )


def test_a_full_pull_of_alerts_is_replayed_whole() -> None:
    rng = random.Random(1)
    alerts = [spoofing_alert(n, rng) for n in range(1000)]  # the default per-pull cap
    raw_size = len(json.dumps([builder.stored_alert(a) for a in alerts], default=str))
    assert raw_size > replay.REPLAY_MAX_BYTES  # would not fit uncompressed
    section: dict[str, Any] = {}
    assert replay.with_replay(alerts, section) == alerts
    assert section["not_replayable"] == 0 and section["count"] == 1000
    assert len(section["blob"]) <= replay.REPLAY_MAX_BYTES
    again = replay.with_replay([], section)
    assert [a["id"] for a in again] == [a["id"] for a in alerts]
    assert again[0]["timestamp"] == alerts[0]["timestamp"]  # a datetime again
    assert again == alerts


def test_what_does_not_fit_keeps_the_most_severe_and_is_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(2)
    alerts = [spoofing_alert(n, rng, "high" if n % 10 == 0 else "low") for n in range(400)]
    monkeypatch.setattr(replay, "REPLAY_MAX_BYTES", 20_000)
    section: dict[str, Any] = {}
    replay.with_replay(alerts, section)
    kept = section["count"]
    assert 40 <= kept < 400 and section["not_replayable"] == 400 - kept
    assert len(section["blob"]) <= 20_000
    replayed = replay.with_replay([], section)
    assert len(replayed) == kept
    assert all(a["rawData"]["severity"] == "high" for a in replayed[:40])


def test_this_pulls_alerts_are_not_repeated_from_the_previous_one() -> None:
    rng = random.Random(3)
    first = [spoofing_alert(n, rng) for n in range(3)]
    section: dict[str, Any] = {}
    replay.with_replay(first, section)
    second = replay.with_replay(first[:1], section)
    assert [a["id"] for a in second] == [a["id"] for a in (first[0], first[1], first[2])]


def test_an_unreadable_blob_replays_nothing_and_the_pull_goes_on() -> None:
    section: dict[str, Any] = {"format": "zlib+base64/json", "blob": "not base64!"}
    fresh = [spoofing_alert(0, random.Random(4))]
    assert replay.with_replay(fresh, section) == fresh
    assert section["count"] == 1
