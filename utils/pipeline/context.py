"""What one pull works with: configuration, storage, logger, clients and the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..aws_session import BotoClientFactory
from ..clock import utc_now
from ..config import PluginConfig
from ..plugin_logger import PluginLogger


def storage_section(storage: dict[str, Any], key: str) -> dict[str, Any]:
    """The storage section a component owns (created on first use, mutated in place)."""
    value = storage.get(key)
    if not isinstance(value, dict):
        value = {}
        storage[key] = value
    return value


@dataclass
class PullContext:
    config: PluginConfig
    storage: dict[str, Any]
    last_run_at: datetime | None
    log: PluginLogger
    client_factory: Callable[[], BotoClientFactory]
    user_agent: str
    proxy: Mapping[str, str]
    verify: bool
    configuration_name: str | None
    clock: Callable[[], datetime] = field(default=utc_now)

    def section(self, key: str) -> dict[str, Any]:
        return storage_section(self.storage, key)
