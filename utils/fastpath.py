"""Optional accelerators with stdlib fallbacks.

``msgspec`` (typed JSON decoding) and ``isal`` (fast gunzip) are not part of the CE core
image. ``make package`` vendors their CPython 3.11 / Linux x86_64 wheels into the plugin's
``lib/``; msgspec's C core imports itself by absolute name, so ``lib/`` is appended (never
prepended) to ``sys.path``: a copy already installed in the image wins. Setting the
environment variable ``AWS_RSI_FASTPATH=0`` disables both, which the tests and the
benchmark use to exercise the stdlib path.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

LIB_DIR = Path(__file__).resolve().parent.parent / "lib"


def fastpath_enabled() -> bool:
    return os.environ.get("AWS_RSI_FASTPATH", "1") != "0"


def import_optional(name: str) -> ModuleType | None:
    """Import an optional accelerator, or return ``None`` when absent or disabled."""
    if not fastpath_enabled():
        return None
    if LIB_DIR.is_dir() and str(LIB_DIR) not in sys.path:
        sys.path.append(str(LIB_DIR))
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
