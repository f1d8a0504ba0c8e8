"""AWS Role Session Identity: Netskope CE CTO source plugin."""

from __future__ import annotations

from typing import Any

from netskope.integrations.itsm.models import Alert
from netskope.integrations.itsm.plugin_base import PluginBase, ValidationResult

from .utils.constants import MODULE_NAME, PLUGIN_NAME, PLUGIN_VERSION


class AWSRoleSessionIdentityPlugin(PluginBase):
    """Posture of the RoleSessionName rule and attribution of AWS role sessions."""

    def __init__(self, name: str | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.plugin_name = PLUGIN_NAME
        self.plugin_version = PLUGIN_VERSION
        self.log_prefix = f"{MODULE_NAME} {PLUGIN_NAME} [{name}]"

    def validate_step(self, name: str, configuration: dict[str, Any]) -> ValidationResult:
        return ValidationResult(success=True, message="Validation successful.")

    def pull_alerts(self) -> list[Alert]:
        return []
