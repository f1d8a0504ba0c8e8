"""The plugin base every CE module's ``PluginBase`` derives from, and its registration.

``PluginMount`` is the metaclass: the first class built with it (the common base) gets an
empty ``plugins`` list; every later subclass whose manifest can be read (``manifest.json``
beside the module that defines it) gets it as ``metadata`` (plus the icon as base64) and is
appended to ``plugins``. That list is how CE finds the plugin class of an uploaded package;
module bases and helper subclasses defined away from a manifest are not registered.

What CE hands a plugin: ``name``, ``configuration`` (a mapping keyed by step; see
``secrets``), ``storage`` (read-only property: mutate in place), ``last_run_at`` (settable:
CE moves it after a successful run), ``logger``, ``use_proxy``/``ssl_validation``, and
``proxy``: always ``{"http": ..., "https": ...}``, both ``""`` when no proxy is set or the
configuration does not use it.
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from ..api import __version__
from .notifier import Notifier, notifier

# CE keeps proxy settings in its database (Settings > Proxy); the local runner sets them.
_CE_PROXY: dict[str, str] = {"http": "", "https": ""}


def set_ce_proxy_settings(proxy: dict[str, str] | None) -> None:
    """Dev/test hook standing in for CE's Settings > Proxy page (None: no proxy)."""
    _CE_PROXY.clear()
    _CE_PROXY.update({"http": "", "https": ""})
    _CE_PROXY.update({k: v for k, v in (proxy or {}).items() if k in ("http", "https")})


def add_user_agent(header: dict[str, str] | None = None) -> dict[str, str]:
    """``header`` (a new dict when None) with CE's User-Agent ``netskope-ce-<version>``."""
    headers = dict(header) if header else {}
    headers.setdefault("User-Agent", f"netskope-ce-{__version__}")
    return headers


def read_metadata(plugin_dir: Path) -> dict[str, Any]:
    """The manifest plus the icon as base64, as CE exposes it on ``Plugin.metadata``."""
    metadata: dict[str, Any] = json.loads((plugin_dir / "manifest.json").read_text("utf-8"))
    icon = plugin_dir / "icon.png"
    if icon.is_file():
        metadata["icon"] = base64.b64encode(icon.read_bytes()).decode("ascii")
    return metadata


class PluginMount(type):
    """Registers each plugin class whose manifest is readable (see the module docstring)."""

    plugins: list[type[Any]]
    metadata: dict[str, Any]

    def __init__(cls, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> None:
        super().__init__(name, bases, attrs)
        if "plugins" not in vars(cls) and not any(hasattr(b, "plugins") for b in bases):
            cls.plugins = []
            return
        if cls.load_metadata():
            cls.plugins.append(cls)

    def load_metadata(cls) -> bool:
        module = sys.modules.get(cls.__module__)
        file = getattr(module, "__file__", None)
        if not file:
            return False
        folder = Path(file).resolve().parent
        if not (folder / "manifest.json").is_file():
            return False
        try:
            cls.metadata = read_metadata(folder)
        except (OSError, ValueError):
            return False
        return True


class PluginBase(metaclass=PluginMount):
    """The common plugin base (``netskope.common.utils.PluginBase``)."""

    metadata: ClassVar[dict[str, Any]] = {}
    integration: ClassVar[str] = ""

    def __init__(
        self,
        name: str | None,
        configuration: dict[str, Any] | None,
        storage: dict[str, Any] | None,
        last_run_at: datetime | None,
        logger: Any,
        use_proxy: bool = True,
        ssl_validation: bool = True,
        **kwargs: Any,
    ) -> None:
        self._name = name
        self._configuration = configuration
        self._storage = storage
        self._last_run_at = last_run_at
        self._logger = logger
        self._use_proxy = use_proxy
        self._ssl_validation = ssl_validation
        self._extra = kwargs  # source, mappings, ... (module-specific keywords)

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

    @last_run_at.setter
    def last_run_at(self, value: datetime | None) -> None:
        self._last_run_at = value

    @property
    def logger(self) -> Any:
        return self._logger

    @property
    def ssl_validation(self) -> bool:
        return self._ssl_validation

    @property
    def use_proxy(self) -> bool:
        return self._use_proxy

    @property
    def proxy(self) -> dict[str, str]:
        if not self._use_proxy:
            return {"http": "", "https": ""}
        return dict(_CE_PROXY)

    @property
    def source(self) -> str | None:
        source: str | None = self._extra.get("source")
        return source

    @property
    def mappings(self) -> Any:
        return self._extra.get("mappings")

    @property
    def notifier(self) -> Notifier:
        """CE's banner notifications (``info``/``warn``/``error``)."""
        return notifier

    def cleanup(self, *args: Any, **kwargs: Any) -> None:
        """Called when a configuration is deleted or disabled; nothing by default."""
