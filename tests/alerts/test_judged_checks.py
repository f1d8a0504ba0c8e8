"""Session-name checks kept for trust-policy changes read late (``judged_checks``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts import judged_checks
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.alerts.activity_alerts import (
    withdrawn_spoofing_alert,
)

ROLE = "arn:aws:iam::111122223333:role/team/Deploy"
AT = 1_793_527_000.0


def alert(n: int) -> dict[str, Any]:
    return {
        "id": f"aws-rsi:session_spoofing:111122223333:evt-{n}",
        "type": "session_name_spoofing",
        "timestamp": datetime.fromtimestamp(AT + n, UTC),
        "rawData": {"status": "new", "description": f"call {n}.", "session_name": f"s{n}"},
    }


def test_a_late_change_raises_kept_checks_and_withdraws_sent_ones_across_a_save() -> None:
    checks = judged_checks.JudgedChecks(retention_seconds=86_400)
    checks.remember(alert(1), "111122223333", ROLE, AT + 1, raised=False)  # role enforced
    checks.remember(alert(2), "111122223333", ROLE, AT + 2, raised=True)  # role open: sent
    checks.remember(alert(3), "111122223333", ROLE, AT - 60, raised=True)  # before the change
    checks.remember(alert(4), "999999999999", ROLE, AT + 4, raised=False)  # other account
    opened = checks.judge_again(
        "111122223333", "deploy", AT, lambda _r, _a: True, withdrawn_spoofing_alert
    )
    assert [a["id"] for a in opened] == [alert(1)["id"]]
    assert opened[0]["timestamp"] == alert(1)["timestamp"]  # a datetime again, for CE
    later = judged_checks.JudgedChecks(retention_seconds=86_400)
    later.load(checks.save(now=AT + 100))
    assert set(later.checks) == {alert(n)["id"] for n in (1, 2, 3, 4)}
    enforced = later.judge_again(
        "111122223333", "Deploy", AT, lambda _r, _a: False, withdrawn_spoofing_alert
    )
    assert sorted(a["id"] for a in enforced) == sorted(alert(n)["id"] for n in (1, 2))
    assert {a["rawData"]["status"] for a in enforced} == {"resolved"}
    assert all("Withdrawn" in a["rawData"]["description"] for a in enforced)
    assert later.judge_again("111122223333", "Deploy", AT, lambda _r, _a: False, dict) == []


def test_a_check_never_sent_is_not_withdrawn_and_old_or_garbled_records_are_dropped() -> None:
    checks = judged_checks.JudgedChecks(retention_seconds=3_600)
    checks.remember(alert(1), "111122223333", ROLE, AT + 1, raised=False)
    assert checks.judge_again("111122223333", "Deploy", AT, lambda _r, _a: False, dict) == []
    checks.remember(alert(2), "111122223333", ROLE, AT - 7_200, raised=True)
    reloaded = judged_checks.JudgedChecks(retention_seconds=3_600)
    reloaded.load(checks.save(now=AT + 10))
    assert set(reloaded.checks) == {alert(1)["id"]}  # beyond the retention: dropped
    garbled = judged_checks.JudgedChecks(retention_seconds=3_600)
    garbled.load("%%% not what save wrote %%%")
    assert garbled.checks == {}


def test_the_stored_record_stays_within_its_bound() -> None:
    checks = judged_checks.JudgedChecks(retention_seconds=86_400)
    for n in range(2_000):
        big = alert(n)
        big["rawData"]["description"] = f"{n:x}" * 200  # incompressible enough
        checks.remember(big, "111122223333", ROLE, AT + n, raised=True)
    stored = checks.save(now=AT + 3_000)
    assert len(stored) <= judged_checks.MAX_STORED_BYTES
    reloaded = judged_checks.JudgedChecks(retention_seconds=86_400)
    reloaded.load(stored)
    assert 0 < len(reloaded.checks) <= judged_checks.MAX_CHECKS
    assert alert(1_999)["id"] in reloaded.checks  # the newest kept


def test_memory_stays_bounded_within_a_pull() -> None:
    checks = judged_checks.JudgedChecks(retention_seconds=86_400)
    for n in range(10 * judged_checks.MAX_CHECKS):
        checks.remember(alert(n), "111122223333", ROLE, AT + n, raised=False)
    assert len(checks.checks) <= 4 * judged_checks.MAX_CHECKS
    assert alert(10 * judged_checks.MAX_CHECKS - 1)["id"] in checks.checks
