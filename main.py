"""AWS Role Session Identity: Netskope Cloud Exchange CTO source plugin.

Thin shell between CE and the plugin's core: CE calls ``validate_step`` once per
configuration step and ``pull_alerts`` every poll interval; the work happens in
``utils/`` (see the README's architecture section).
"""

from __future__ import annotations

import traceback
from typing import Any

from netskope.common.utils import add_user_agent
from netskope.integrations.itsm.models import Alert
from netskope.integrations.itsm.plugin_base import PluginBase, ValidationResult

from .utils.aws_session import BotoClientFactory, build_client_factory
from .utils.config import PluginConfig
from .utils.constants import MODULE_NAME, PLUGIN_NAME, PLUGIN_VERSION
from .utils.pipeline.context import PullContext
from .utils.pipeline.pull import run_pull
from .utils.plugin_logger import PluginLogger
from .utils.splunk.validation import probe_hec
from .utils.text import inert, inert_alert, valid_utf8_in_place
from .utils.validator import OK_MESSAGE, StepValidator


class AWSRoleSessionIdentityPlugin(PluginBase):
    """Posture of the RoleSessionName rule and attribution of AWS role sessions."""

    def __init__(self, name: str | None, *args: Any, **kwargs: Any) -> None:
        # CE builds throw-away instances with name/configuration/storage set to None:
        # nothing here may read the configuration.
        super().__init__(name, *args, **kwargs)
        self.plugin_name = PLUGIN_NAME
        self.plugin_version = PLUGIN_VERSION
        self.log_prefix = f"{MODULE_NAME} {PLUGIN_NAME} [{name}]"

    @property
    def user_agent(self) -> str:
        base = add_user_agent().get("User-Agent", "netskope-ce")
        slug = PLUGIN_NAME.lower().replace(" ", "-")
        return f"{base}-{MODULE_NAME.lower()}-{slug}-v{PLUGIN_VERSION}"

    @property
    def proxies(self) -> dict[str, str]:
        """CE's proxy settings as a plain dict, each value read with ``.get`` (a mapping that
        resolves references does so only there)."""
        proxy = self.proxy
        if not proxy:
            return {}
        return {scheme: str(proxy.get(scheme) or "") for scheme in ("http", "https")}

    def _client_factory(self, config: PluginConfig) -> BotoClientFactory:
        return build_client_factory(
            config.aws, user_agent=self.user_agent, proxy=self.proxies, verify=self.ssl_validation
        )

    def _plugin_logger(self, config: PluginConfig, *, mask_keys: bool = False) -> PluginLogger:
        proxy_values = [v for v in self.proxies.values() if v]
        return PluginLogger(
            self.logger, self.log_prefix, (*config.secrets, *proxy_values), mask_keys=mask_keys
        )

    def validate_step(self, name: str, configuration: dict[str, Any]) -> ValidationResult:
        """Validate one configuration step: schema, then live probes of what it names."""
        config = PluginConfig.from_configuration(configuration)
        log = self._plugin_logger(config, mask_keys=True)
        validator = StepValidator(
            self._client_factory,
            lambda cfg: probe_hec(cfg.splunk, self.user_agent, self.proxies, self.ssl_validation),
        )
        step = inert(str(name), 64)
        try:
            result = validator.validate(name, configuration)
        except Exception:
            log.error(
                f"Unexpected error while validating the '{step}' step.",
                details=traceback.format_exc(),
            )
            return ValidationResult(
                success=False,
                message=f"Unexpected error while validating the '{step}' step; see the logs.",
            )
        if not result.success:
            log.error(f"Validation of the '{step}' step failed: {result.message}")
        elif result.message != OK_MESSAGE:
            log.warn(f"Validation of the '{step}' step: {result.message}")
        return ValidationResult(success=result.success, message=result.message)

    def pull_alerts(self) -> list[Alert]:
        """One poll: posture, CloudTrail attribution, alerts; Splunk delivery on the side."""
        config = PluginConfig.from_configuration(self.configuration)
        log = self._plugin_logger(config)
        storage = self.storage if self.storage is not None else {}
        context = PullContext(
            config=config,
            storage=storage,
            last_run_at=self.last_run_at,
            log=log,
            client_factory=lambda: self._client_factory(config),
            user_agent=self.user_agent,
            proxy=self.proxies,
            verify=self.ssl_validation,
            configuration_name=self.name,
        )
        try:
            # Inert again on the way out (idempotent): alerts replayed or withdrawn from
            # storage written by an older version pass here too.
            alerts = [Alert(**inert_alert(alert)) for alert in run_pull(context)]
            if isinstance(storage, dict):
                valid_utf8_in_place(storage)  # CE's database refuses invalid UTF-8
            return alerts
        except Exception as error:
            log.error(
                f"Pull failed: {str(error).rstrip('.')}. Nothing was checkpointed; the next "
                "pull retries the same window.",
                details=traceback.format_exc(),
            )
            raise
