"""A local CE: drives the plugin exactly as CE's core does, for the demo, tests and dry runs.

``python -m devkit run --config tenant.json --state .state/``

1. imports the plugin where CE does and performs CE's throw-away instantiation
   ``Plugin(None, None, {}, None, logger)``;
2. validates every manifest step as CE does (a failure is a 400 carrying the message);
3. instantiates the plugin with name, configuration, storage, last run time and logger;
4. takes the checkpoint *before* calling ``pull_alerts()``;
5. only if the pull returned: persists storage and checkpoint (the storage object the
   plugin mutated in place), then upserts the alerts by id into a local SQLite store.

The tenant file: ``{"name": ..., "configuration": {step: {...}}, "use_proxy": false,
"ssl_validation": true, "proxy": {"http": ..., "https": ...}, "secrets": {name: value}}``.
The configuration reaches the plugin as CE hands it over: a mapping that resolves
Secrets-Manager references (``"secret:<name>"``, from ``secrets``; ``"plain:<value>"``)
only when a value is read with ``[]`` or ``.get()``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from devkit.loader import REPO_ROOT, install_sdk, load_plugin
from devkit.store import AlertStore, UpsertResult


class ValidationFailed(Exception):
    """CE answers a failed ``validate_step`` with HTTP 400 and the plugin's message."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"400 Bad Request: step '{step}': {message}")
        self.step = step
        self.message = message


@dataclass
class PullResult:
    alerts: list[Any]
    upsert: UpsertResult
    checkpoint: datetime
    logger: Any
    storage: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TenantConfig:
    name: str
    configuration: dict[str, Any]
    use_proxy: bool = False
    ssl_validation: bool = True
    proxy: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # CE's Secrets Manager

    def handed_over(self) -> dict[str, Any]:
        """The configuration as CE hands it to a plugin (a fresh copy each time)."""
        install_sdk()
        from netskope.common.utils import ResolvingConfiguration, SecretStore

        return ResolvingConfiguration(copy.deepcopy(self.configuration), SecretStore(self.secrets))

    @classmethod
    def load(cls, path: Path) -> TenantConfig:
        data = json.loads(path.read_text("utf-8"))
        return cls(
            name=data["name"],
            configuration=data["configuration"],
            use_proxy=bool(data.get("use_proxy", False)),
            ssl_validation=bool(data.get("ssl_validation", True)),
            proxy=dict(data.get("proxy") or {}),
            secrets=dict(data.get("secrets") or {}),
        )


class StateDir:
    """Where the local CE keeps a configuration's storage, checkpoint and alerts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def _read(self, name: str, default: Any) -> Any:
        file = self.path / name
        return json.loads(file.read_text("utf-8")) if file.exists() else default

    def _write(self, name: str, value: Any) -> None:
        tmp = self.path / f".{name}.tmp"
        tmp.write_text(json.dumps(value, sort_keys=True, default=str), "utf-8")
        os.replace(tmp, self.path / name)  # atomic: a kill leaves the old or the new file

    def storage(self) -> dict[str, Any]:
        stored: dict[str, Any] = self._read("storage.json", {})
        return stored

    def last_run_at(self) -> datetime | None:
        value = self._read("checkpoint.json", {}).get("last_run_at")
        return datetime.fromisoformat(value) if value else None

    def commit(self, storage: dict[str, Any], checkpoint: datetime) -> None:
        self._write("storage.json", storage)
        self._write("checkpoint.json", {"last_run_at": checkpoint.isoformat()})

    def alert_store(self) -> AlertStore:
        return AlertStore(self.path / "alerts.sqlite")


def make_logger(echo: TextIO | None = None) -> Any:
    install_sdk()
    from netskope.common.utils import Logger

    return Logger(echo=echo)


def validate_all(plugin_cls: type[Any], tenant: TenantConfig, logger: Any) -> None:
    """Validate every manifest step in order, as CE does when a configuration is saved."""
    for step in plugin_cls.metadata["configuration"]:
        instance = plugin_cls(
            tenant.name,
            None,
            {},
            None,
            logger,
            use_proxy=tenant.use_proxy,
            ssl_validation=tenant.ssl_validation,
        )
        result = instance.validate_step(step["name"], tenant.handed_over())
        if not result.success:
            raise ValidationFailed(step["name"], result.message)


def run_pull(
    tenant: TenantConfig,
    state: StateDir,
    *,
    plugin_dir: Path = REPO_ROOT,
    echo: TextIO | None = None,
    validate: bool = True,
) -> PullResult:
    """One CE poll of this configuration. Raises what the plugin raised (nothing saved)."""
    install_sdk()
    from netskope.integrations.itsm.plugin_base import set_ce_proxy_settings

    set_ce_proxy_settings(tenant.proxy)
    try:
        return _run(tenant, state, plugin_dir, echo, validate)
    finally:
        set_ce_proxy_settings(None)  # CE's settings are process-wide; do not leak them


def _run(
    tenant: TenantConfig, state: StateDir, plugin_dir: Path, echo: TextIO | None, validate: bool
) -> PullResult:
    from netskope.integrations.itsm.models import Alert

    plugin_cls = load_plugin(plugin_dir)
    apply_sqs_timings(os.environ.get(SQS_TIMINGS_ENV))
    logger = make_logger(echo)
    plugin_cls(None, None, None, None, logger)  # CE's throw-away instantiation
    if validate:
        validate_all(plugin_cls, tenant, logger)
    storage = state.storage()
    plugin = plugin_cls(
        tenant.name,
        tenant.handed_over(),
        storage,
        state.last_run_at(),
        logger,
        use_proxy=tenant.use_proxy,
        ssl_validation=tenant.ssl_validation,
    )
    checkpoint = datetime.now(UTC)
    alerts = plugin.pull_alerts()
    if not isinstance(alerts, list) or not all(isinstance(a, Alert) for a in alerts):
        raise TypeError("pull_alerts() must return a list of Alert")
    if plugin.storage is not storage:
        raise RuntimeError("plugin reassigned its storage; CE would not persist it")
    state.commit(plugin.storage, checkpoint)
    store = state.alert_store()
    try:
        upsert = store.upsert(alerts, tenant.name)
    finally:
        store.close()
    return PullResult(alerts, upsert, checkpoint, logger, plugin.storage)


SQS_TIMINGS_ENV = "DEVKIT_SQS_TIMINGS"
"""Soak only: ``visibility,hold,wait`` seconds for the SQS reader instead of production's
300 / 900 / 10, so a killed pull's messages come back in seconds, not minutes."""


def apply_sqs_timings(value: str | None) -> None:
    """Shorten the SQS reader's visibility timeout, two-phase-delete hold and long-poll wait
    (``"5,20,1"``) in the imported plugin; None or empty: production values."""
    if not value:
        return
    try:
        visibility, hold, wait = (int(part) for part in value.split(","))
    except ValueError:
        raise SystemExit(f"{SQS_TIMINGS_ENV} must be 'visibility,hold,wait' seconds") from None
    from devkit.loader import plugin_module

    reader = plugin_module("utils.readers.sqs_notifications").SqsNotificationReader
    defaults = dict(reader.__init__.__kwdefaults__ or {})
    defaults.update(visibility_timeout=visibility, wait_time_seconds=wait)
    reader.__init__.__kwdefaults__ = defaults
    event_source: Any = plugin_module("utils.pipeline.event_source")
    event_source.SQS_HOLD_SECONDS = hold


def summarise(result: PullResult, out: TextIO) -> None:
    by_type = Counter(f"{a.alertType}/{a.type}" for a in result.alerts)
    levels = Counter(r.level for r in result.logger.records)
    out.write(
        f"pull ok at {result.checkpoint.isoformat(timespec='seconds')}: "
        f"{len(result.alerts)} alerts ({result.upsert.inserted} new, "
        f"{result.upsert.updated} updated); log lines {dict(levels)}\n"
    )
    for kind, count in sorted(by_type.items()):
        out.write(f"  {count:5d}  {kind}\n")
    for alert in result.alerts[:50]:
        out.write(
            f"  - [{alert.rawData.get('severity', '?'):8}] {alert.alertName}: "
            f"user={alert.user} id={alert.id}\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True, help="tenant configuration JSON")
    parser.add_argument("--state", type=Path, default=Path(".state"), help="state directory")
    parser.add_argument(
        "--plugin-dir",
        type=Path,
        default=REPO_ROOT,
        help="plugin directory (default: this repository; or an unpacked archive)",
    )
    parser.add_argument("--no-validate", action="store_true", help="skip validate_step")
    parser.add_argument("--verbose", action="store_true", help="echo the plugin's log lines")
    args = parser.parse_args(argv)
    tenant = TenantConfig.load(args.config)
    try:
        result = run_pull(
            tenant,
            StateDir(args.state),
            plugin_dir=args.plugin_dir,
            echo=sys.stderr if args.verbose else None,
            validate=not args.no_validate,
        )
    except ValidationFailed as failure:
        print(str(failure), file=sys.stderr)
        return 2
    except Exception as error:  # the plugin's exception: CE logs it and saves nothing
        print(
            f"pull failed ({type(error).__name__}): {error}; storage and checkpoint not saved",
            file=sys.stderr,
        )
        return 1
    summarise(result, sys.stdout)
    return 0
