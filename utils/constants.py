"""Names and defaults shared by the plugin; the manifest is the single source of the version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

PLUGIN_DIR: Final = Path(__file__).resolve().parent.parent


def _load_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((PLUGIN_DIR / "manifest.json").read_text("utf-8"))
    return manifest


MANIFEST: Final = _load_manifest()
PLUGIN_ID: Final[str] = MANIFEST["id"]
PLUGIN_NAME: Final[str] = MANIFEST["name"]
PLUGIN_VERSION: Final[str] = MANIFEST["version"]
MODULE_NAME: Final = "CTO"

# Namespace of every alert id this plugin emits (CE upserts alerts by id across configurations).
ALERT_ID_NAMESPACE: Final = "aws-rsi"

APP_NAME: Final = "AWS IAM"
APP_CATEGORY: Final = "Cloud Identity"
