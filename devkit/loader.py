"""Import a plugin exactly where and as CE imports it.

CE unpacks an uploaded plugin into ``netskope/plugins/custom_plugins/<id>/`` and imports
``netskope.plugins.custom_plugins.<id>.main``; the plugin's own modules are reached by
relative imports. Its plugin class is the one the SDK's metaclass registered while ``main``
was imported (a ``PluginBase`` subclass defined beside ``manifest.json``), with the
manifest and icon as ``metadata``. ``load_plugin`` does that for any plugin folder (this
repository's root, an unpacked archive, an official plugin), its id read from its manifest.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

SDK_DIR = Path(__file__).resolve().parent / "ce_sdk"
REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_ID = "aws_role_session_cto"
CUSTOM_PLUGINS = "netskope.plugins.custom_plugins"
PACKAGE = f"{CUSTOM_PLUGINS}.{PLUGIN_ID}"
CE_PLUGINS_ENV = "DEVKIT_CE_PLUGINS"


def install_sdk() -> None:
    """Put the CE SDK stand-in first on ``sys.path`` (idempotent)."""
    sdk = str(SDK_DIR)
    if sdk not in sys.path:
        sys.path.insert(0, sdk)


def _purge(prefix: str) -> None:
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


def plugin_id_of(plugin_dir: Path) -> str:
    """The plugin's id (its manifest's ``id``), which names its package in CE."""
    manifest = json.loads((plugin_dir / "manifest.json").read_text("utf-8"))
    plugin_id = manifest.get("id")
    if not isinstance(plugin_id, str) or not plugin_id.isidentifier():
        raise ImportError(f"{plugin_dir}: manifest id {plugin_id!r} is not a Python identifier")
    return plugin_id


def package_of(plugin_dir: Path) -> str:
    return f"{CUSTOM_PLUGINS}.{plugin_id_of(plugin_dir)}"


def register_package(plugin_dir: Path = REPO_ROOT) -> ModuleType:
    """Register ``plugin_dir`` as the package ``netskope.plugins.custom_plugins.<id>``."""
    install_sdk()
    plugin_dir = plugin_dir.resolve()
    package = package_of(plugin_dir)
    existing = sys.modules.get(package)
    if existing is not None and list(getattr(existing, "__path__", [])) == [str(plugin_dir)]:
        return existing
    _purge(package)
    importlib.import_module(CUSTOM_PLUGINS)
    spec = importlib.util.spec_from_file_location(
        package, plugin_dir / "__init__.py", submodule_search_locations=[str(plugin_dir)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load plugin package from {plugin_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)
    return module


def read_metadata(plugin_dir: Path) -> dict[str, Any]:
    """The manifest plus the icon as base64, as CE exposes it on ``Plugin.metadata``."""
    install_sdk()
    from netskope.common.utils.plugin_base import read_metadata as sdk_read_metadata

    return sdk_read_metadata(plugin_dir)


def form_defaults(plugin_dir: Path = REPO_ROOT) -> dict[str, dict[str, Any]]:
    """``{step: {key: default}}`` as CE's configuration form starts: each field's manifest
    default, an empty string where it has none (dynamic steps start empty)."""
    manifest = json.loads((plugin_dir / "manifest.json").read_text("utf-8"))
    return {
        step["name"]: {f["key"]: f.get("default", "") for f in step.get("fields", [])}
        for step in manifest.get("configuration", [])
    }


def load_plugin(plugin_dir: Path = REPO_ROOT) -> type[Any]:
    """Import the plugin's ``main`` and return the plugin class CE's registration found."""
    plugin_dir = Path(plugin_dir).resolve()
    register_package(plugin_dir)
    from netskope.common.utils import PluginBase

    main = importlib.import_module(f"{package_of(plugin_dir)}.main")
    classes = [
        cls
        for cls in PluginBase.plugins
        if cls.__module__ == main.__name__ and vars(main).get(cls.__name__) is cls
    ]
    if len(classes) != 1:
        raise ImportError(
            f"{plugin_dir.name}/main.py must define exactly one plugin class CE registers "
            f"(a PluginBase subclass beside manifest.json), found {len(classes)}"
        )
    plugin_cls: type[Any] = classes[0]
    return plugin_cls


def plugin_module(name: str) -> ModuleType:
    """Import ``<plugin package>.<name>`` (registering the repository's plugin if needed)."""
    if PACKAGE not in sys.modules:
        register_package()
    return importlib.import_module(f"{PACKAGE}.{name}")


def official_plugins_dir() -> Path:
    """Where the official CE plugins are: ``$DEVKIT_CE_PLUGINS``, else ``shared/ce-plugins``
    beside the repository (beside the main checkout, for a git worktree)."""
    override = os.environ.get(CE_PLUGINS_ENV)
    if override:
        return Path(override).resolve()
    candidates = [REPO_ROOT.parent / "shared" / "ce-plugins"]
    git = REPO_ROOT / ".git"
    if git.is_file():  # a worktree: ".git" names <main>/.git/worktrees/<name>
        text = git.read_text("utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.removeprefix("gitdir:").strip())
            main_checkout = gitdir.parent.parent.parent
            candidates.append(main_checkout.parent / "shared" / "ce-plugins")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0]
