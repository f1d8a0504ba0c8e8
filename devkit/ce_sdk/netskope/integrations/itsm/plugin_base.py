"""Stand-in for ``netskope.integrations.itsm.plugin_base``.

Reproduces the constructor, properties and method names of CE's CTO ``PluginBase``.
``storage`` is a read-only property (plugins mutate it in place; CE persists the same
object after a successful pull), ``proxy`` comes from CE's proxy settings when the
configuration allows it, and ``metadata`` is set on the class by the loader
(the parsed manifest plus the icon as base64).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from .models import Alert, Event, Queue, Task


class ValidationResult(BaseModel):
    """Result of ``validate_step``; a failure becomes an HTTP 400 carrying ``message``."""

    success: bool
    message: str


class MappingField(BaseModel):
    """A receiver field offered in queue mappings."""

    label: str
    value: str
    updateAble: bool = False


class PushResult(BaseModel):
    """Result of a push (CTE/CLS style); kept for signature parity."""

    success: bool
    message: str


# CE keeps proxy settings in its database; the local runner sets them here.
_CE_PROXY_SETTINGS: dict[str, str] = {}


def set_ce_proxy_settings(proxy: dict[str, str] | None) -> None:
    """Dev/test hook standing in for CE's Settings > Proxy page."""
    _CE_PROXY_SETTINGS.clear()
    _CE_PROXY_SETTINGS.update(proxy or {})


class PluginBase:
    """Base class of CTO plugins (source and receiver)."""

    metadata: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        name: str | None,
        configuration: dict[str, Any] | None,
        storage: dict[str, Any] | None,
        last_run_at: datetime | None,
        logger: Any,
        use_proxy: bool = True,
        ssl_validation: bool = True,
        source: str | None = None,
        mappings: dict[str, Any] | None = None,
    ) -> None:
        self._name = name
        self._configuration = configuration
        self._storage = storage
        self._last_run_at = last_run_at
        self._logger = logger
        self._use_proxy = use_proxy
        self._ssl_validation = ssl_validation
        self._source = source
        self._mappings = mappings

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def configuration(self) -> dict[str, Any] | None:
        return self._configuration

    @property
    def storage(self) -> dict[str, Any] | None:
        return self._storage

    @property
    def last_run_at(self) -> datetime | None:
        return self._last_run_at

    @property
    def logger(self) -> Any:
        return self._logger

    @property
    def ssl_validation(self) -> bool:
        return self._ssl_validation

    @property
    def proxy(self) -> dict[str, str]:
        return dict(_CE_PROXY_SETTINGS) if self._use_proxy else {}

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def mappings(self) -> dict[str, Any] | None:
        return self._mappings

    # Methods CE calls; plugins override the ones their role needs.
    def validate_step(self, name: str, configuration: dict[str, Any]) -> ValidationResult:
        raise NotImplementedError

    def pull_alerts(self) -> list[Alert] | list[Event]:
        raise NotImplementedError

    def get_fields(self, name: str, configuration: dict[str, Any]) -> list[Any]:
        raise NotImplementedError

    def create_task(self, alert: Alert, mappings: dict[str, Any], queue: Queue) -> Task:
        raise NotImplementedError

    def sync_states(self, tasks: list[Task]) -> list[Task]:
        raise NotImplementedError

    def update_task(self, task: Task, alert: Alert, mappings: dict[str, Any], queue: Queue) -> Task:
        raise NotImplementedError

    def get_available_fields(self, configuration: dict[str, Any]) -> list[MappingField]:
        raise NotImplementedError

    def get_default_mappings(self, configuration: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def get_queues(self) -> list[Queue]:
        raise NotImplementedError


__all__ = ["PluginBase", "ValidationResult", "MappingField", "PushResult", "set_ce_proxy_settings"]
