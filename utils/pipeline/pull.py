"""``run_pull``: the order of one pull, and the one summary line it logs.

1. credentials and accounts (Organizations members through the audit role);
2. posture: trust policies evaluated when a scan is due;
3. CloudTrail: events read, identities resolved, activity findings;
4. alerts assembled and capped;
5. Splunk delivery through the durable outbox - late, so the window between a successful
   POST and CE saving storage is as short as possible;
6. readers commit their checkpoints into storage, and the health record is written.
CE saves storage only if this returns; anything that raises before leaves the previous
checkpoint in place and the next pull repeats the window (alert ids are stable).
"""

from __future__ import annotations

import time
import traceback
from typing import Any

from ..alerts.volume import cap_alerts
from ..config import SCOPE_ORGANIZATION, PluginConfig
from ..readers.base import Deadline
from ..splunk.hec_client import RetryPolicy
from ..splunk.sink import deliver_alerts
from .accounts import AccountScan, tenant_accounts
from .activity_phase import run_activity
from .context import PullContext
from .health import PullSummary
from .posture_phase import PostureState, run_posture
from .replay import with_replay
from .stored_state import PREFIX as STORED_STATE
from .stored_state import load_storage

# Inside a pull, HEC gets a few quick retries: whatever is not delivered stays in the outbox
# for the next pull, so waiting minutes here would only delay the alerts CE is waiting for.
PULL_RETRY = RetryPolicy(
    max_attempts=3, backoff_base=1.0, max_retry_after=30.0, budget_seconds=30.0
)


def organization_scope(config: PluginConfig, scan: AccountScan) -> list[str] | None:
    """The Organization's members (reachable or not) whose trail folders this configuration
    reads; None in single-account mode, which reads whatever the trail bucket holds (a
    member's trail shows the cross-account calls of the account's own users)."""
    if config.aws.account_scope != SCOPE_ORGANIZATION:
        return None
    return [account.account_id for account in scan.accounts] + [
        account_id for account_id, _why in scan.failures
    ]


def run_pull(context: PullContext) -> list[dict[str, Any]]:
    """One pull; returns the alerts for CE (as dicts for ``Alert(**alert)``)."""
    started = time.monotonic()
    now = context.clock()
    config = context.config
    log = context.log
    summary = PullSummary(started_at=now)
    # Before anything reads storage: a damaged section is reset and reported, not fatal.
    resets = load_storage(context.storage)
    for reset in resets:
        summary.problem(reset.message)
        log.warn(reset.message)
    # The whole pull (posture included) counts against the reading budget, so it returns
    # before CE's next poll is due.
    deadline = Deadline(config.cloudtrail.pull_budget_seconds)

    scan = tenant_accounts(context.client_factory(), config.aws)
    summary.accounts = len(scan.accounts)
    for account_id, why in scan.failures:
        summary.problem(f"account {account_id}: {why}")
        log.error(f"Account {account_id} skipped: {why}")

    posture_state = PostureState(context.section("posture"))
    posture = run_posture(
        scan.accounts,
        posture_state,
        exempt_patterns=config.rule.exempt_role_patterns,
        now=now,
        interval_minutes=config.rule.posture_interval_minutes,
    )
    summary.record_posture(posture)
    for account_id, why in posture.failures:
        log.error(f"Posture of account {account_id} skipped: {why}")
    for note in posture.notes:
        log.warn(note)
    alerts: list[dict[str, Any]] = []
    if "posture" in config.rule.alert_kinds:
        alerts.extend(posture.alerts)

    factories = [account.factory for account in scan.accounts]
    activity = run_activity(
        config,
        context.storage,
        posture_state,
        factories,
        now=now.timestamp(),
        accounts=organization_scope(config, scan),
        deadline=deadline,
    )
    summary.record_activity(activity)
    for text in activity.problems[:10]:
        log.warn(text)
        summary.problem(text)  # in the health record too: a skipped record names its object
    stored_problems = [text for text in activity.problems if text.startswith(STORED_STATE)]
    alerts.extend(activity.alerts)

    capped = cap_alerts(alerts, context.section("backlog"), config.rule.max_alerts_per_pull, now)
    summary.alerts = capped.alerts
    summary.deferred = capped.deferred
    summary.dropped = capped.dropped

    if config.splunk.enabled:
        report = deliver_alerts(
            capped.alerts,
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
            log.info(report.summary())
        else:
            details = None
            if report.exception is not None:
                details = "".join(traceback.format_exception(report.exception))
            log.error(report.summary(), details=details)

    returned = with_replay(capped.alerts, context.section("replay"))
    summary.replayed = len(returned) - len(capped.alerts)

    source = activity.source
    if source is not None:
        source.commit()  # checkpoints move only now; CE saves them only if we return
        summary.record_source(source.stats)
        for problem in source.stats.problems:
            log.warn(problem.message, resolution=problem.resolution or None)
    summary.duration_seconds = round(time.monotonic() - started, 3)
    health = context.section("health")
    summary.carry_lag_history(health)
    behind = summary.lag_warning(config.cloudtrail.poll_interval_seconds)
    if behind:
        log.warn(
            behind,
            resolution="Use the SQS event source for large organization trails (see the "
            "README's sizing table), narrow the Regions, or raise the polling interval (and "
            "the Polling Interval field with it).",
        )
    health.clear()
    health.update(summary.health_record())
    health["stored_sections_reset"] = [reset.section for reset in resets] + [
        text.split("'")[1] for text in stored_problems
    ]
    log.info(summary.log_line())
    return returned
