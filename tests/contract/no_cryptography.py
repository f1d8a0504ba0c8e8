"""A Cloud Exchange without ``cryptography``, simulated in this process.

``hidden_modules`` makes every module a predicate names unimportable (a meta-path finder that
answers ``ModuleNotFoundError``, as an absent package does) and removes those already imported
from ``sys.modules``; the plugin is then imported afresh through ``devkit.loader`` under its
CE path, so its modules see the missing package exactly as on such a CE. On exit the previous
modules (plugin and hidden ones) are put back, so the other tests keep the module objects they
imported at collection time; a hidden C extension is never imported twice.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from devkit.loader import PACKAGE, load_plugin

CRYPTOGRAPHY = "cryptography"


def under(*names: str) -> Callable[[str], bool]:
    """A predicate matching each of ``names`` and its submodules."""
    return lambda module: any(module == n or module.startswith(n + ".") for n in names)


class HiddenModules:
    """A meta-path finder for which the matching modules do not exist."""

    def __init__(self, hidden: Callable[[str], bool]) -> None:
        self.hidden = hidden
        self.refused: list[str] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if self.hidden(name):
            self.refused.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _take(matching: Callable[[str], bool]) -> dict[str, ModuleType]:
    taken = {name: module for name, module in sys.modules.items() if matching(name)}
    for name in taken:
        del sys.modules[name]
    return taken


def hide(hidden: Callable[[str], bool]) -> HiddenModules:
    """Hide modules for the rest of this process (a subprocess's set-up)."""
    finder = HiddenModules(hidden)
    _take(hidden)
    sys.meta_path.insert(0, finder)
    return finder


@contextmanager
def hidden_modules(
    hidden: Callable[[str], bool] | None = None,
    unloaded: Callable[[str], bool] | None = None,
) -> Iterator[tuple[type[Any], HiddenModules]]:
    """``(plugin class imported afresh, finder)`` while the ``hidden`` modules (default:
    ``cryptography`` and its submodules) are missing.

    ``unloaded`` (default: ``hidden``) names the modules removed from ``sys.modules`` for the
    duration: wider than ``hidden`` when a package is present but one of its modules is not
    (a broken install), so the package's own modules are imported again and meet the gap.
    """
    hidden = hidden or under(CRYPTOGRAPHY)
    unloaded = unloaded or hidden
    from netskope.common.utils import PluginBase

    registered = len(PluginBase.plugins)
    plugin = under(PACKAGE)
    parent_name, _, child = PACKAGE.rpartition(".")
    parent = sys.modules[parent_name]
    saved_attribute = vars(parent).get(child)
    saved_plugin = _take(plugin)
    saved_hidden = _take(unloaded)
    finder = HiddenModules(hidden)
    sys.meta_path.insert(0, finder)
    try:
        yield load_plugin(), finder
    finally:
        sys.meta_path.remove(finder)
        _take(plugin)
        _take(unloaded)  # what a failed import left half-initialised
        sys.modules.update(saved_hidden)
        sys.modules.update(saved_plugin)
        if saved_attribute is None:
            vars(parent).pop(child, None)
        else:
            setattr(parent, child, saved_attribute)
        del PluginBase.plugins[registered:]
