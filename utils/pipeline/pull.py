"""``run_pull``: the order of one pull, and the one summary line it logs.

1. credentials and accounts (Organizations members through the audit role);
2. posture: trust policies evaluated when a scan is due;
3. CloudTrail: events read, identities resolved, activity findings;
4. alerts assembled and capped;
5. Splunk delivery through the durable outbox - last, so the window between a successful
   POST and CE saving storage is as short as possible;
6. readers commit their checkpoints into storage, and the health record is written.
CE saves storage only if this returns; anything that raises before leaves the previous
checkpoint in place and the next pull repeats the window (alert ids are stable).
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from ..splunk.hec_client import RetryPolicy
from ..splunk.sink import deliver_alerts
from .accounts import tenant_accounts
from .context import PullContext
from .health import PullSummary
from .posture_phase import PostureState, run_posture

# Inside a pull, HEC gets a few quick retries: whatever is not delivered stays in the outbox
# for the next pull, so waiting minutes here would only delay the alerts CE is waiting for.
PULL_RETRY = RetryPolicy(
    max_attempts=3, backoff_base=1.0, max_retry_after=30.0, budget_seconds=30.0
)


def run_pull(context: PullContext) -> list[dict[str, Any]]:
    """One pull; returns the alerts for CE (as dicts for ``Alert(**alert)``)."""
    started = time.monotonic()
    now = context.clock()
    summary = PullSummary(started_at=now)
    config = context.config
    factory = context.client_factory()
    scan = tenant_accounts(factory, config.aws)
    summary.accounts = len(scan.accounts)
    for account_id, why in scan.failures:
        summary.problem(f"account {account_id}: {why}")
        context.log.error(f"Account {account_id} skipped: {why}")

    posture_state = PostureState(context.section("posture"))
    alerts: list[dict[str, Any]] = []
    if "posture" in config.rule.alert_kinds or not posture_state.records:
        posture = run_posture(
            scan.accounts,
            posture_state,
            exempt_patterns=config.rule.exempt_role_patterns,
            now=now,
            interval_minutes=config.rule.posture_interval_minutes,
        )
        summary.record_posture(posture)
        for account_id, why in posture.failures:
            context.log.error(f"Posture of account {account_id} skipped: {why}")
        for note in posture.notes:
            context.log.warn(note)
        if "posture" in config.rule.alert_kinds:
            alerts.extend(posture.alerts)

    summary.alerts = alerts
    if config.splunk.enabled:
        report = deliver_alerts(
            alerts,
            context.storage,
            config.splunk,
            now=time.time(),
            user_agent=context.user_agent,
            proxies=context.proxy,
            verify=context.verify,
            host=context.configuration_name,
            client_options={"retry": PULL_RETRY},
        )
        summary.delivery = report.summary()
        if report.ok:
            context.log.info(report.summary())
        else:
            details = None
            if report.exception is not None:
                details = "".join(traceback.format_exception(report.exception))
            context.log.error(report.summary(), details=details)
    summary.duration_seconds = round(time.monotonic() - started, 3)
    context.section("health").clear()
    context.section("health").update(summary.health_record())
    context.log.info(summary.log_line())
    return alerts
