"""``python -m bench``: the resolver benchmark, then the trust benchmark when present.

Arguments go to the resolver benchmark, which runs every trail shape of ``devkit.corpus``
(``today`` and ``churn``) unless ``--profile`` names some; ``--records N`` for a quick run.
The trust benchmark runs with its defaults.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys


def main(argv: list[str]) -> int:
    from bench import bench_resolver

    status = bench_resolver.main(argv)
    if importlib.util.find_spec("bench.bench_trust") is not None:
        bench_trust = importlib.import_module("bench.bench_trust")
        print(flush=True)
        status = max(status, int(bench_trust.main([]) or 0))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
