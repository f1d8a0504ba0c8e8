"""The plugin's logger: CE's logger behind the log prefix, with secrets masked.

Every log line goes through here so it carries the prefix CE admins search for, so a
configured secret can never reach CE's log collection, even inside exception details, and
so what it says is inert (``utils/text.py``): a message is one bounded line whatever an
attacker put in a name it quotes; details (tracebacks) keep their line breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .redaction import mask_key_material, redact
from .text import CAPS, inert


class PluginLogger:
    """``info/debug/warn/error`` with CE's signature, prefixed and redacted."""

    def __init__(
        self,
        logger: Any,
        prefix: str,
        secrets: Iterable[str] = (),
        *,
        mask_keys: bool = False,
    ) -> None:
        """``mask_keys`` also masks whatever is shaped like key material (validation, where
        a secret may sit in a field nobody declared secret); pulls log access key IDs and
        event ids on purpose and leave it off."""
        self._logger = logger
        self._prefix = prefix
        self._secrets = tuple(secrets)
        self._mask_keys = mask_keys

    def with_secrets(self, secrets: Iterable[str]) -> PluginLogger:
        return PluginLogger(
            self._logger, self._prefix, (*self._secrets, *secrets), mask_keys=self._mask_keys
        )

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
            inert(self._safe(f"{self._prefix}: {message}"), CAPS.log_message),
            error_code=error_code,
            details=self._safe_text(details),
            resolution=self._safe_text(resolution),
        )

    def _safe(self, text: str) -> str:
        text = redact(text, self._secrets)
        return mask_key_material(text) if self._mask_keys else text

    def _safe_text(self, text: str | None) -> str | None:
        if not text:
            return text
        return inert(self._safe(text), CAPS.log_details, multiline=True)

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
