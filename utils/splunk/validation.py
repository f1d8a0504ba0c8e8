"""``validate_step`` for the ``splunk`` step: prove URL, token, acknowledgement and index work.

What each probe writes to Splunk, because an admin saving a form should not litter an index:

1. ``GET /services/collector/health`` - nothing (and no token is sent).
2. Token: an *empty* ``POST /services/collector/event`` - nothing. Splunk authenticates
   before reading the body, so a valid token answers ``400, code 5 No data``.
3. Acknowledgement (only when enabled): ``POST /services/collector/ack`` for ack id 0 -
   nothing; a token without acks answers ``code 14``.
4. Index (only when one is configured): HEC checks an index only against a real event, so one
   small event is sent, labelled so searches skip it: ``type=config_check`` (real alerts are
   ``type=alert``) and ``source=netskope_ce:aws_role_session_cto:config_check``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..config import SplunkConfig
from .cim import DEFAULT_SOURCE, VENDOR_PRODUCT
from .errors import HecConfigError, HecRequestError, HecUnavailableError
from .hec_client import FIELD_URL
from .sink import hec_client_for

CONFIG_CHECK_SOURCE = f"{DEFAULT_SOURCE}:config_check"


def config_check_envelope(config: SplunkConfig, now: float) -> dict[str, Any]:
    """The one event the index probe writes (see the module docstring)."""
    envelope: dict[str, Any] = {
        "time": round(now, 3),
        "source": CONFIG_CHECK_SOURCE,
        "sourcetype": config.sourcetype,
        "event": {
            "type": "config_check",
            "vendor_product": VENDOR_PRODUCT,
            "message": "Cloud Exchange plugin configuration check; not an alert.",
        },
    }
    if config.index:
        envelope["index"] = config.index
    return envelope


def probe_hec(
    config: SplunkConfig,
    user_agent: str,
    proxies: Mapping[str, str] | None,
    verify: bool | str,
    *,
    now: float | None = None,
    **client_options: Any,
) -> None:
    """Raise ``HecConfigError`` (a ``ConfigurationError``) naming the field to fix.

    Every probe is a single attempt with the client's timeout: validation answers quickly
    and a transient failure asks the admin to save again rather than hanging the form.
    """
    client = hec_client_for(
        config, user_agent=user_agent, proxies=proxies, verify=verify, **client_options
    )
    with client:
        health = client.check_health()
        if health.status is None:
            raise HecConfigError(
                FIELD_URL,
                f"could not reach Splunk HEC ({health.text}). "
                + (
                    "Add the collector's CA certificate to Cloud Exchange's trusted "
                    "certificates, or turn off SSL validation for this plugin configuration."
                    if "TLS failed" in health.text
                    else "Check the host and port (8088 by default), the scheme (https or "
                    "http), and CE's proxy settings."
                ),
            )
        try:
            client.probe_token()
            if config.use_ack:
                client.probe_ack()
            if config.index:
                client.probe_index(config_check_envelope(config, now or time.time()))
        except HecUnavailableError as error:
            raise HecConfigError(
                FIELD_URL,
                f"Splunk HEC did not answer the check ({error}) If it is busy, save again "
                "in a minute.",
                status=error.status,
                code=error.code,
            ) from None
        except HecRequestError as error:
            raise HecConfigError(
                FIELD_URL, f"unexpected answer from Splunk HEC: {error}", status=error.status
            ) from None
