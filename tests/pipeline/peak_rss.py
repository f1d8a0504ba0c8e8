"""Peak RSS of one pull (or of decoding one object), measured in a process of its own.

``python -m tests.pipeline.peak_rss pull STATE_DIR TENANT_JSON``: one pull through the local
CE (AWS reached as the calling test set it up: the environment is inherited);
``python -m tests.pipeline.peak_rss decode FILE``: one object decoded as the pipeline does.
Prints one JSON line: ``{"peak_rss_mb": ..., ...}``: the high-water mark of this process's
own memory, imports included (``VmHWM``). ``resource.getrusage``'s ``ru_maxrss`` is not
used: Linux carries it over ``execve`` from the process that spawned this one (here pytest
with its moto server, ~170 MB), so it can only report the larger of the two.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any


def _peak_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux: the rusage figure (an upper bound)
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024, 1)


def pull(state_dir: str, tenant_file: str) -> dict[str, Any]:
    from devkit.runner import StateDir, TenantConfig, run_pull

    result = run_pull(
        TenantConfig.load(Path(tenant_file)), StateDir(Path(state_dir)), validate=False
    )
    health = result.storage["health"]
    return {
        "peak_rss_mb": _peak_mb(),
        "objects_failed": health["objects_failed"],
        "alerts": health["alerts"],
        "problems": health["problems"],
    }


def decode(path: str) -> dict[str, Any]:
    from devkit.loader import plugin_module, register_package

    register_package()
    activity = plugin_module("utils.pipeline.activity_phase")
    decoder = plugin_module("utils.cloudtrail.decode").default_decoder()
    data = Path(path).read_bytes()
    outcome: dict[str, Any] = {"fast": decoder.uses_fast_path}
    try:
        decoded = decoder.decode_object(
            data,
            name=path,
            max_decompressed_bytes=activity.MAX_DECOMPRESSED_BYTES,
            max_records=activity.MAX_RECORDS_PER_OBJECT,
            max_decode_bytes=activity.MAX_DECODE_BYTES,
        )
        outcome.update(events=len(decoded.events), errors=len(decoded.errors))
    except ValueError as error:  # TrailObjectError
        outcome["rejected"] = str(error)[-160:]
    outcome["peak_rss_mb"] = _peak_mb()
    return outcome


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    print(json.dumps(pull(*args) if mode == "pull" else decode(*args)))
