"""CE's plugin logger: ``info/debug/warn/error`` (no ``warning``), every call recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LogRecord:
    """One call made on the CE logger."""

    level: str
    message: str
    error_code: str | None = None
    details: str | None = None
    resolution: str | None = None


@dataclass
class Logger:
    """CE stores each call as a log document visible in the UI; the stand-in keeps them in
    ``records`` so tests can inspect everything a plugin logged (secret scans, error codes).
    ``echo`` optionally mirrors calls to a text stream for the local runner. Arguments may
    be given by keyword (``message=``, ``details=``) as official plugins do."""

    records: list[LogRecord] = field(default_factory=list)
    echo: Any = None

    def _log(
        self,
        level: str,
        message: str,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        record = LogRecord(level, str(message), error_code, details, resolution)
        self.records.append(record)
        if self.echo is not None:
            self.echo.write(f"[{level.upper():5}] {record.message}\n")

    def info(
        self,
        message: str,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        self._log("info", message, error_code, details, resolution)

    def debug(
        self,
        message: str,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        self._log("debug", message, error_code, details, resolution)

    def warn(
        self,
        message: str,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        self._log("warn", message, error_code, details, resolution)

    def error(
        self,
        message: str,
        error_code: str | None = None,
        details: str | None = None,
        resolution: str | None = None,
    ) -> None:
        self._log("error", message, error_code, details, resolution)

    def text(self) -> str:
        """Everything logged, as one string (for secret scans)."""
        parts: list[str] = []
        for r in self.records:
            parts.extend(p for p in (r.message, r.error_code, r.details, r.resolution) if p)
        return "\n".join(parts)
