"""``python -m devkit <command> ...``: the local CE runner, demo and offline tools."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": ("devkit.runner", "run one CE poll of a configuration (validate, pull, persist)"),
    "demo": ("devkit.demo", "the end-to-end demo on local AWS, Splunk and ServiceNow"),
    "trust-eval": ("devkit.trust_eval", "evaluate trust policies / roles offline"),
    "resolve": ("devkit.resolve_cli", "resolve CloudTrail files to identities offline"),
    "vendor": ("devkit.vendor", "vendor optional accelerators into the package's lib/"),
    "soak": ("devkit.soak", "crash and outage soak"),
    "plugin-check": ("devkit.plugin_check", "load CE plugin folders as CE does, offline"),
    "compat": ("devkit.compat", "contract and core suites on every supported CPython"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m devkit <command> [args]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:13} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from devkit.loader import register_package

    register_package()
    module = importlib.import_module(COMMANDS[argv[0]][0])
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
