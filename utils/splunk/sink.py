"""The one call ``pull_alerts`` makes for Splunk: format alerts, queue them, deliver.

Kept apart from the client and the outbox so ``main.py`` stays a thin shell and the order
that bounds the crash window lives in one place: alerts are enqueued (pure, cannot fail on
the network), then flushed. When a pull has more alerts than the outbox may hold, the outbox
is flushed each time it fills, so a healthy Splunk receives every alert and the bound only
ever drops (counted) during an outage. Call it late in the pull, right before returning the
alerts to CE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from pydantic import BaseModel

from ..config import SplunkConfig
from .cim import to_envelope
from .errors import HecConfigError
from .hec_client import HecClient
from .outbox import Drop, DropReason, EventSender, FlushReport, Outbox, OutboxLimits


def hec_client_for(
    config: SplunkConfig,
    *,
    user_agent: str,
    proxies: Mapping[str, str] | None,
    verify: bool | str,
    **options: Any,
) -> HecClient:
    """A ``HecClient`` for the plugin's ``splunk`` step (``options`` go to the client)."""
    return HecClient(
        config.hec_url,
        config.hec_token,
        user_agent=user_agent,
        proxies=proxies,
        verify=verify,
        index=config.index,
        use_ack=config.use_ack,
        **options,
    )


def deliver_alerts(
    alerts: Iterable[Mapping[str, Any] | BaseModel],
    storage: MutableMapping[str, Any],
    config: SplunkConfig,
    *,
    now: float,
    user_agent: str,
    proxies: Mapping[str, str] | None,
    verify: bool | str,
    host: str | None = None,
    limits: OutboxLimits | None = None,
    sender: EventSender | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> FlushReport:
    """Queue this pull's alerts in ``storage["outbox"]`` and send everything pending.

    Never raises for Splunk's sake: a bad alert is reported as dropped, a HEC outage or a
    configuration error as ``report.error``; the caller logs ``report.summary()`` (and, with
    ``report.exception``, the details) and returns the alerts to CE regardless.
    ``sender`` replaces the HEC client (tests, dry runs); ``client_options`` go to
    ``HecClient`` (retry and ack policies, timeouts).
    """
    outbox = Outbox(storage, limits)
    limit = (limits or OutboxLimits()).max_pending
    opened: list[HecClient] = []

    def sender_now() -> EventSender:
        if sender is not None:
            return sender
        if not opened:
            try:
                options = {"channel": outbox.channel, "defer_acks": True}
                options.update(client_options or {})
                opened.append(
                    hec_client_for(
                        config, user_agent=user_agent, proxies=proxies, verify=verify, **options
                    )
                )
            except HecConfigError as error:
                return _Refusing(error)
        return opened[0]

    reports: list[FlushReport] = []
    try:
        for alert in alerts:
            if len(outbox.pending_ids) >= limit and (not reports or reports[-1].error is None):
                reports.append(outbox.flush(sender_now(), now))  # room before enqueueing more
            _enqueue(outbox, alert, config, host, now)
        reports.append(outbox.flush(sender_now(), now))
    finally:
        for client in opened:
            client.close()
    return merge_reports(reports)


def _enqueue(
    outbox: Outbox,
    alert: Mapping[str, Any] | BaseModel,
    config: SplunkConfig,
    host: str | None,
    now: float,
) -> None:
    data = alert.model_dump() if isinstance(alert, BaseModel) else alert
    try:
        envelope = to_envelope(data, index=config.index, sourcetype=config.sourcetype, host=host)
    except (KeyError, TypeError, ValueError) as error:
        outbox.record_drop(
            Drop(str(data.get("id", "?")), "", DropReason.MALFORMED, type(error).__name__)
        )
        return
    outbox.enqueue(str(data["id"]), envelope, now)


def merge_reports(reports: list[FlushReport]) -> FlushReport:
    """One report for the pull from the flushes it made (the last one's state wins)."""
    merged = FlushReport()
    for report in reports:
        merged.delivered.extend(report.delivered)
        merged.dropped.extend(report.dropped)
        merged.drops_not_itemised += report.drops_not_itemised
        merged.unacknowledged.extend(report.unacknowledged)
        merged.error = report.error or merged.error
        merged.error_field = report.error_field or merged.error_field
        merged.exception = report.exception or merged.exception
    if reports:
        merged.pending = reports[-1].pending
        merged.oldest_pending_age = reports[-1].oldest_pending_age
    return merged


class _Refusing:
    """A sender for a configuration no client can be built from: the flush reports why."""

    def __init__(self, error: HecConfigError) -> None:
        self._error = error

    def send(self, events: object) -> Any:
        raise self._error
