"""Stand-in for ``netskope.integrations.itsm.plugin_base`` (Ticket Orchestrator).

The CTO base class: what CE calls on a source (``validate_step``, ``pull_alerts``) and on a
receiver (``get_queues``, ``get_available_fields``, ``get_default_mappings``,
``get_default_custom_mappings``, ``create_task``, ``update_task(..., upsert_task)``,
``sync_states``), plus dynamic steps (``get_fields``). Everything not overridden raises
``NotImplementedError``, as in CE, which then treats the feature as unsupported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from netskope.common.utils import PluginBase as CommonPluginBase
from netskope.common.utils.plugin_base import set_ce_proxy_settings

from .models import Alert, CustomFieldsSectionWithMappings, Event, FieldMapping, Queue, Task


class ValidationResult(BaseModel):
    """Result of ``validate_step``; a failure becomes an HTTP 400 carrying ``message``."""

    message: str
    success: bool = False


class PushResult(BaseModel):
    message: str
    success: bool = False
    results: dict[str, list[Task]] = {}


class MappingField(BaseModel):
    """A receiver field offered in queue mappings (``updateAble``: usable on dedup)."""

    label: str
    value: str
    updateAble: bool = False


class PluginBase(CommonPluginBase):
    """Base class of CTO plugins (source and receiver)."""

    integration = "itsm"

    def validate_step(self, name: str, configuration: dict[str, Any]) -> ValidationResult:
        raise NotImplementedError

    if TYPE_CHECKING:
        # CE calls ``pull_alerts()`` on CTO sources (the official ``logs_itsm`` takes no
        # argument); ``query`` serves Netskope-tenant sources only. Typed loosely so that a
        # source overriding it without ``query`` type-checks, as it runs.
        pull_alerts: Callable[..., list[Alert] | list[Event]]
    else:

        def pull_alerts(self, query: str = "") -> list[Alert] | list[Event]:
            raise NotImplementedError

    def create_task(self, alert: Alert | Event, mappings: dict[str, Any], queue: Queue) -> Task:
        raise NotImplementedError

    def update_task(
        self,
        task: Task,
        alert: Alert | Event,
        mappings: dict[str, Any],
        queue: Queue,
        upsert_task: bool = False,
    ) -> Task:
        raise NotImplementedError

    def sync_states(self, tasks: list[Task]) -> list[Task]:
        raise NotImplementedError

    def sync_incidents(self, incidents: list[Task]) -> PushResult:
        raise NotImplementedError

    def get_available_fields(self, configuration: dict[str, Any]) -> list[MappingField]:
        raise NotImplementedError

    def get_default_mappings(self, configuration: dict[str, Any]) -> dict[str, list[FieldMapping]]:
        raise NotImplementedError

    def get_default_custom_mappings(self) -> list[CustomFieldsSectionWithMappings]:
        raise NotImplementedError

    def get_queues(self) -> list[Queue]:
        raise NotImplementedError

    def get_fields(self, name: str, configuration: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def process_webhooks(
        self, query_params: dict[str, Any], headers: dict[str, Any], body: bytes
    ) -> tuple[Any, ...]:
        raise NotImplementedError


__all__ = [
    "MappingField",
    "PluginBase",
    "PushResult",
    "ValidationResult",
    "set_ce_proxy_settings",
]
