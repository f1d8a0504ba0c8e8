"""Import the plugin exactly where CE imports it.

CE unpacks an uploaded plugin into ``netskope/plugins/custom_plugins/<id>/`` and imports
``netskope.plugins.custom_plugins.<id>.main``; the plugin's own modules are reached by
relative imports. ``load_plugin`` registers a plugin directory (this repository's root,
or an unpacked archive) under that package path, imports ``main``, finds the single
``PluginBase`` subclass and sets its ``metadata`` (manifest + base64 icon) as CE does.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

SDK_DIR = Path(__file__).resolve().parent / "ce_sdk"
REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ID = "aws_role_session_cto"
PACKAGE = f"netskope.plugins.custom_plugins.{PLUGIN_ID}"


def install_sdk() -> None:
    """Put the CE SDK stand-in first on ``sys.path`` (idempotent)."""
    sdk = str(SDK_DIR)
    if sdk not in sys.path:
        sys.path.insert(0, sdk)


def _purge(prefix: str) -> None:
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


def register_package(plugin_dir: Path = REPO_ROOT) -> ModuleType:
    """Register ``plugin_dir`` as the package ``netskope.plugins.custom_plugins.<id>``."""
    install_sdk()
    plugin_dir = plugin_dir.resolve()
    existing = sys.modules.get(PACKAGE)
    if existing is not None and list(getattr(existing, "__path__", [])) == [str(plugin_dir)]:
        return existing
    _purge(PACKAGE)
    importlib.import_module("netskope.plugins.custom_plugins")
    spec = importlib.util.spec_from_file_location(
        PACKAGE, plugin_dir / "__init__.py", submodule_search_locations=[str(plugin_dir)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load plugin package from {plugin_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


def read_metadata(plugin_dir: Path) -> dict[str, Any]:
    """The manifest plus the icon as base64, as CE exposes it on ``Plugin.metadata``."""
    metadata: dict[str, Any] = json.loads((plugin_dir / "manifest.json").read_text("utf-8"))
    metadata["icon"] = base64.b64encode((plugin_dir / "icon.png").read_bytes()).decode("ascii")
    return metadata


def form_defaults(plugin_dir: Path = REPO_ROOT) -> dict[str, dict[str, Any]]:
    """``{step: {key: default}}`` as CE's configuration form starts: each field's manifest
    default, an empty string where it has none."""
    manifest = json.loads((plugin_dir / "manifest.json").read_text("utf-8"))
    return {
        step["name"]: {f["key"]: f.get("default", "") for f in step.get("fields", [])}
        for step in manifest["configuration"]
    }


def load_plugin(plugin_dir: Path = REPO_ROOT) -> type[Any]:
    """Import the plugin's ``main`` module and return its one ``PluginBase`` subclass."""
    register_package(plugin_dir)
    from netskope.integrations.itsm.plugin_base import PluginBase

    main = importlib.import_module(f"{PACKAGE}.main")
    classes = [
        obj
        for obj in vars(main).values()
        if isinstance(obj, type)
        and issubclass(obj, PluginBase)
        and obj is not PluginBase
        and obj.__module__ == main.__name__
    ]
    if len(classes) != 1:
        raise ImportError(
            f"main.py must define exactly one PluginBase subclass, found {len(classes)}"
        )
    plugin_cls = classes[0]
    plugin_cls.metadata = read_metadata(Path(plugin_dir).resolve())
    return plugin_cls


def plugin_module(name: str) -> ModuleType:
    """Import ``<plugin package>.<name>`` (registering the repository's plugin if needed)."""
    if PACKAGE not in sys.modules:
        register_package()
    return importlib.import_module(f"{PACKAGE}.{name}")
