"""The plugin's logger: CE's logger behind the log prefix, with secrets masked.

Every log line goes through here so it carries the prefix CE admins search for and so a
configured secret can never reach CE's log collection, even inside exception details.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .redaction import redact


class PluginLogger:
    """``info/debug/warn/error`` with CE's signature, prefixed and redacted."""

    def __init__(self, logger: Any, prefix: str, secrets: Iterable[str] = ()) -> None:
        self._logger = logger
        self._prefix = prefix
        self._secrets = tuple(secrets)

    def with_secrets(self, secrets: Iterable[str]) -> PluginLogger:
        return PluginLogger(self._logger, self._prefix, (*self._secrets, *secrets))

    def _emit(
        self,
        level: str,
        message: str,
        error_code: str | None,
        details: str | None,
        resolution: str | None,
    ) -> None:
        if self._logger is None:
            return
        getattr(self._logger, level)(
            self._safe(f"{self._prefix}: {message}"),
            error_code=error_code,
            details=self._safe(details),
            resolution=self._safe(resolution),
        )

    def _safe(self, text: str | None) -> str | None:
        return redact(text, self._secrets) if text else text

    def info(self, message: str, *, details: str | None = None) -> None:
        self._emit("info", message, None, details, None)

    def debug(self, message: str, *, details: str | None = None) -> None:
        self._emit("debug", message, None, details, None)

    def warn(
        self, message: str, *, details: str | None = None, resolution: str | None = None
    ) -> None:
        self._emit("warn", message, None, details, resolution)

    def error(
        self,
        message: str,
        *,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        self._emit("error", message, error_code, details, resolution)
