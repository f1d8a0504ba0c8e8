"""``python -m devkit trust-eval [FILE|-]``: the RoleSessionName verdict, offline.

Reads a trust policy (JSON, URL-encoded JSON as the raw IAM API returns it, or a decoded
object), an IAM role object, or a whole ``ListRoles`` / ``GetRole`` /
``GetAccountAuthorizationDetails`` response - also as recorded by custodian's placebo, which
wraps responses in ``{"status_code": ..., "data": {...}}`` - and prints JSON: one object for
one role or policy, a list (each with its role ARN) for many.

Inputs are bounded: at most ``--max-input-bytes`` are read (a larger input is refused, never
held in memory whole), and a bare trust policy larger than ``--max-policy-chars`` (IAM's
maximum, 8,192 characters, by default) is refused with a message naming the limit; inside a
role listing such a policy gets an ``unparseable`` verdict (RSN053) and the others are judged.

Exit status: 0 when a verdict was printed (whatever it is), 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devkit.loader import plugin_module

EXIT_OK = 0
EXIT_UNREADABLE = 2
#: Large enough for a recorded GetAccountAuthorizationDetails page of 1,000 roles.
DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024
IAM_MAX_POLICY_CHARS = 8192


class InputError(Exception):
    """The input cannot be read as a policy, role or IAM response."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devkit trust-eval",
        description="Evaluate IAM trust policies against the RoleSessionName rule.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        help="policy, role or ListRoles/GAAD response (JSON or URL-encoded); - for stdin",
    )
    parser.add_argument(
        "--exempt",
        action="append",
        default=[],
        metavar="PATTERN",
        help="role name or path+name glob exempt from the rule (repeatable)",
    )
    parser.add_argument(
        "--max-input-bytes",
        type=int,
        default=DEFAULT_MAX_INPUT_BYTES,
        metavar="N",
        help=f"refuse inputs larger than N bytes (default {DEFAULT_MAX_INPUT_BYTES})",
    )
    parser.add_argument(
        "--max-policy-chars",
        type=int,
        default=IAM_MAX_POLICY_CHARS,
        metavar="N",
        help=f"refuse trust policies larger than N characters (default and IAM's maximum: "
        f"{IAM_MAX_POLICY_CHARS})",
    )
    parser.add_argument(
        "--role-name",
        help="for a bare policy: the role name to put in the remediation command",
    )
    return parser


def _read(source: str, limit: int) -> str:
    """At most ``limit`` bytes of the input, as text; one byte more means "too large"."""
    try:
        if source == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with Path(source).open("rb") as handle:
                data = handle.read(limit + 1)
        if len(data) > limit:
            raise InputError(
                f"the input is larger than the limit of {limit} bytes (--max-input-bytes); "
                "give one trust policy, role or IAM response"
            )
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {source}: {exc}") from None


def _decode(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        raise InputError("the input is empty; give a trust policy, role or IAM response")
    if stripped.startswith("%"):
        return stripped  # a URL-encoded policy, decoded by the evaluator
    try:
        return json.loads(stripped)
    except ValueError as exc:
        raise InputError(
            f"the input is not JSON or URL-encoded JSON ({exc}); give a trust policy, "
            "an IAM role object or a ListRoles/GetAccountAuthorizationDetails response"
        ) from None


def _unwrap(value: Any) -> Any:
    """Strip custodian placebo's recording envelope; refuse recorded error responses."""
    if isinstance(value, Mapping) and "status_code" in value and "data" in value:
        data = value["data"]
        if isinstance(data, Mapping) and isinstance(data.get("Error"), Mapping):
            error = data["Error"]
            raise InputError(
                f"the recorded response is an error ({error.get('Code', 'unknown')}: "
                f"{error.get('Message', '')}), not roles"
            )
        return data
    return value


def _roles(value: Any) -> tuple[list[Mapping[str, Any]], bool] | None:
    """(roles, is_listing) when ``value`` holds roles; None for a bare policy."""
    if not isinstance(value, Mapping):
        return None
    for key in ("Roles", "RoleDetailList"):
        if isinstance(value.get(key), list):
            return [r for r in value[key] if isinstance(r, Mapping)], True
    if isinstance(value.get("Role"), Mapping):
        return [value["Role"]], False
    if "RoleName" in value or "AssumeRolePolicyDocument" in value:
        return [value], False
    return None


def evaluate_input(
    value: Any,
    exempt: tuple[str, ...],
    role_name: str | None,
    max_policy_chars: int = IAM_MAX_POLICY_CHARS,
) -> Any:
    """The JSON output for a decoded input."""
    evaluator = plugin_module("utils.trust.evaluator")
    remediation = plugin_module("utils.trust.remediation")
    policy = plugin_module("utils.trust.policy")
    value = _unwrap(value)
    found = _roles(value)
    if found is None:
        try:
            policy.check_size(value, max_policy_chars)
        except policy.PolicyTooLargeError as exc:
            raise InputError(
                f"the trust policy has {exc.size} characters, more than the limit of "
                f"{exc.limit} (--max-policy-chars; IAM allows at most {IAM_MAX_POLICY_CHARS})"
            ) from None
        verdict = evaluator.evaluate_policy(value, max_chars=max_policy_chars)
        result: dict[str, Any] = evaluator.policy_report(verdict)
        if role_name and result["fixed_policy"] is not None:
            result["remediation_command"] = remediation.update_command(
                role_name, result["fixed_policy"]
            )
        return result
    roles, is_listing = found
    options = evaluator.TrustOptions(exempt_role_patterns=exempt, max_policy_chars=max_policy_chars)
    verdicts = [evaluator.evaluate_role(role, options).to_dict() for role in roles]
    return verdicts if is_listing else verdicts[0]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m devkit trust-eval``."""
    args = _parser().parse_args(argv)
    try:
        value = _decode(_read(args.file, max(0, args.max_input_bytes)))
        output = evaluate_input(
            value, tuple(args.exempt), args.role_name, max(0, args.max_policy_chars)
        )
    except InputError as exc:
        print(f"trust-eval: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    json.dump(output, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
