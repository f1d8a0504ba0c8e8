"""``python -m devkit plugin-check DIR...``: load CE plugin folders as CE does, offline.

For each folder (a CTO plugin: this repository's root, an unpacked archive, an official
plugin such as ``shared/ce-plugins/servicenow_itsm``):

1. **import** it as CE does: the package ``netskope.plugins.custom_plugins.<id>`` (``id``
   from its manifest), its ``main`` module, the plugin class the SDK's metaclass registered,
   the manifest and icon as ``metadata``;
2. **CE's throw-away instantiation**: ``Plugin(None, None, None, None, logger)`` (CE builds
   such instances to read metadata and call helpers; ``__init__`` must not need anything);
3. **an instance with the manifest's defaults**, as a configuration form starts (dynamic
   steps filled by ``get_fields``), handed over as CE's Secrets-Manager mapping;
4. **what CE calls** on a configuration, each on its own with the **network cut** (every
   socket connect refused, sleeps skipped): ``validate_step`` for each step and for
   ``mapping_config`` (a key CE 6 adds to configurations), ``get_fields`` for dynamic steps,
   ``get_default_mappings``, ``get_default_custom_mappings``, ``get_available_fields``,
   ``get_queues``, and ``pull_alerts`` on pulling plugins. A call that tried the network is
   reported ``needs_network``; one the plugin does not implement, ``not_implemented``.

Prints one JSON report; exits 1 only when a plugin cannot be imported or instantiated the
way CE does (everything else is information: offline, most calls need their server).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from devkit.loader import REPO_ROOT, form_defaults, install_sdk, load_plugin, plugin_id_of

CE_OWN_STEP = "mapping_config"  # CE 6 keeps queue mapping settings beside a plugin's steps
REQUIRED_MANIFEST_KEYS = ("name", "id", "version", "description")


class NetworkCut(OSError):
    """Raised for every connection attempt while a call runs offline."""


@dataclass
class Guard:
    """Counts connection attempts (all refused) and skipped sleeps during one call."""

    attempts: int = 0
    sleeps: float = 0.0


@contextlib.contextmanager
def offline() -> Iterator[Guard]:
    """Refuse every socket connection and skip sleeps (retries cannot help offline)."""
    guard = Guard()
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_create = socket.create_connection
    original_sleep = time.sleep

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        guard.attempts += 1
        raise NetworkCut("plugin-check runs offline: connection refused")

    def skip(seconds: Any) -> None:
        guard.sleeps += float(seconds)

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    time.sleep = skip
    try:
        yield guard
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = original_connect_ex  # type: ignore[method-assign]
        socket.create_connection = original_create
        time.sleep = original_sleep


def _summary(value: Any) -> Any:
    """A short, JSON-able description of what a call returned."""
    if hasattr(value, "model_dump"):
        data = value.model_dump(mode="json")
        if set(data) >= {"success", "message"}:
            return {"success": data["success"], "message": str(data["message"])[:300]}
        return data
    if isinstance(value, list):
        return {"count": len(value), "first": _summary(value[0]) if value else None}
    if isinstance(value, dict):
        return {str(k): _summary(v) for k, v in list(value.items())[:10]}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)[:200]


@dataclass
class CallReport:
    outcome: str  # ok | failed | raised | not_implemented | needs_network
    result: Any = None
    error: str | None = None
    network_attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"outcome": self.outcome}
        if self.result is not None:
            data["result"] = self.result
        if self.error:
            data["error"] = self.error
        if self.network_attempts:
            data["network_attempts"] = self.network_attempts
        return data


def run_call(call: Callable[[], Any]) -> CallReport:
    """One CE call, offline; its outcome classified (see the module docstring)."""
    with offline() as guard:
        try:
            value = call()
        except NotImplementedError:
            return CallReport("not_implemented")
        except Exception as error:
            outcome = "needs_network" if guard.attempts else "raised"
            text = f"{type(error).__name__}: {error}"[:300]
            return CallReport(outcome, error=text, network_attempts=guard.attempts)
    result = _summary(value)
    failed = isinstance(result, dict) and result.get("success") is False
    if guard.attempts:
        return CallReport("needs_network", result, network_attempts=guard.attempts)
    return CallReport("failed" if failed else "ok", result)


@dataclass
class PluginReport:
    folder: str
    fatal: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    calls: dict[str, CallReport] = field(default_factory=dict)
    log_levels: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "ok": self.fatal is None,
            **({"fatal": self.fatal} if self.fatal else {}),
            **self.facts,
            "notes": self.notes,
            "calls": {name: call.to_json() for name, call in self.calls.items()},
            "log_levels": self.log_levels,
        }


def _manifest_notes(folder: Path, metadata: dict[str, Any]) -> list[str]:
    notes = [f"manifest has no '{k}'" for k in REQUIRED_MANIFEST_KEYS if not metadata.get(k)]
    if metadata.get("id") != folder.name:
        notes.append(
            f"folder '{folder.name}' is not named after the id '{metadata.get('id')}' "
            "(the upload archive's root folder must be)"
        )
    if "icon" not in metadata:
        notes.append("no icon.png (CE requires one)")
    if metadata.get("module") not in (None, "CTO"):
        notes.append(f"module is {metadata.get('module')!r}, not CTO")
    return notes


def configuration_for(plugin: Any, folder: Path) -> dict[str, Any]:
    """The manifest defaults, dynamic steps filled from ``get_fields`` (offline)."""
    configuration = form_defaults(folder)
    for step in plugin.metadata.get("configuration", []):
        if step.get("type") != "dynamic_step":
            continue
        report = run_call(partial(plugin.get_fields, step["name"], configuration))
        fields: list[Any] = []
        if report.outcome == "ok":
            with offline():
                try:
                    fields = plugin.get_fields(step["name"], configuration) or []
                except Exception:  # already reported by run_call
                    fields = []
        configuration[step["name"]] = {
            f["key"]: f.get("default", "") for f in fields if isinstance(f, dict) and "key" in f
        }
    return configuration


def check(folder: Path) -> PluginReport:
    install_sdk()
    from netskope.common.utils import Logger, ResolvingConfiguration

    folder = folder.resolve()
    report = PluginReport(str(folder))
    logger = Logger()
    if not (folder / "manifest.json").is_file():
        report.fatal = "not a plugin folder: no manifest.json"
        return report
    try:
        plugin_cls = load_plugin(folder)
    except Exception as error:
        report.fatal = f"import failed: {type(error).__name__}: {error}"
        report.notes.append(traceback.format_exc(limit=3))
        return report
    metadata = plugin_cls.metadata
    report.facts = {
        "id": plugin_id_of(folder),
        "name": metadata.get("name"),
        "version": metadata.get("version"),
        "module": metadata.get("module"),
        "minimum_version": metadata.get("minimum_version"),
        "pulling_supported": metadata.get("pulling_supported"),
        "receiving_supported": metadata.get("receiving_supported"),
        "class": f"{plugin_cls.__module__}.{plugin_cls.__qualname__}",
        "steps": [s.get("name") for s in metadata.get("configuration", [])],
    }
    report.notes.extend(_manifest_notes(folder, metadata))
    try:
        with offline():
            throwaway = plugin_cls(None, None, None, None, logger)
    except Exception as error:
        report.fatal = f"throw-away instantiation failed: {type(error).__name__}: {error}"
        return report
    try:
        configuration = configuration_for(throwaway, folder)
        with offline():
            plugin = plugin_cls(
                "plugin-check", ResolvingConfiguration(configuration), {}, None, logger
            )
    except Exception as error:
        report.fatal = f"instantiation with defaults failed: {type(error).__name__}: {error}"
        return report
    for step in [*report.facts["steps"], CE_OWN_STEP]:
        report.calls[f"validate_step:{step}"] = run_call(
            partial(plugin.validate_step, step, ResolvingConfiguration(configuration))
        )
    for step in metadata.get("configuration", []):
        if step.get("type") == "dynamic_step":
            report.calls[f"get_fields:{step['name']}"] = run_call(
                partial(plugin.get_fields, step["name"], configuration)
            )
    if metadata.get("receiving_supported"):
        report.calls["get_default_mappings"] = run_call(
            lambda: plugin.get_default_mappings(configuration)
        )
        report.calls["get_default_custom_mappings"] = run_call(plugin.get_default_custom_mappings)
        report.calls["get_available_fields"] = run_call(
            lambda: plugin.get_available_fields(configuration)
        )
        report.calls["get_queues"] = run_call(plugin.get_queues)
    if metadata.get("pulling_supported"):
        report.calls["pull_alerts"] = run_call(plugin.pull_alerts)
    report.log_levels = dict(Counter(r.level for r in logger.records))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit plugin-check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folders", nargs="*", type=Path, help="plugin folders (default: .)")
    args = parser.parse_args(argv)
    folders = args.folders or [REPO_ROOT]
    reports = [check(folder) for folder in folders]
    out = {
        "ok": all(r.fatal is None for r in reports),
        "plugins": [r.to_json() for r in reports],
    }
    json.dump(out, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
