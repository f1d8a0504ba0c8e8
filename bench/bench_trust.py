"""Trust-evaluator throughput on 10,000 generated, realistic IAM roles (not a test).

``python -m bench.bench_trust [--roles N] [--seed S]`` builds a seeded estate shaped like real
ones - most roles trusted by AWS services, service-linked and Identity Center roles, GitHub
OIDC roles, and the account/user/role trusts the rule is about, compliant or not, in several
accounts - then times, in one process on one core:

* the baseline: ``json.loads`` of every trust policy (the least any evaluator must do);
* ``evaluate_role`` on the roles as boto3 returns them (trust policy already a dict), after
  clearing the evaluator's caches, so equal policies are analysed once per run as in a pull;
* ``evaluate_role`` on the roles as the raw IAM API returns them (URL-encoded strings);
* the worst case, every trust policy distinct (a unique Sid each), so no cache ever hits;
* hostile documents: shapes written to stall an evaluator (backtracking wildcards, hundreds
  of accounts, patterns or statements), each as large as IAM allows (8,192 characters);
  the target is < 50 ms per document on one core;
* growth with the number of statements: the time of 256 statements over that of 64 (linear
  is ~4x, quadratic ~16x).

It prints roles/s and the time ratio against the baseline; the target is ≥ 10,000 roles/s.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from typing import Any

from devkit.loader import plugin_module

TARGET_ROLES_PER_SECOND = 10_000
ACCOUNTS = tuple(f"{100000000000 + 7919 * i:012d}" for i in range(20))
SERVICES = (
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "glue.amazonaws.com",
    "states.amazonaws.com",
    "sagemaker.amazonaws.com",
    "codebuild.amazonaws.com",
)
RULE = {"StringEquals": {"sts:RoleSessionName": "${aws:username}"}}
WEAK = (
    {"StringLike": {"sts:RoleSessionName": "${aws:username}*"}},
    {"StringEqualsIgnoreCase": {"sts:RoleSessionName": "${aws:username}"}},
    {"StringEquals": {"sts:RoleSessionName": ["${aws:username}", "deploy"]}},
    {"ForAllValues:StringEquals": {"sts:RoleSessionName": "${aws:username}"}},
)


def _document(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    head = {"Version": version} if version else {}
    return {**head, "Statement": list(statements)}


def _allow(
    principal: Any, condition: dict[str, Any] | None = None, action: Any = "sts:AssumeRole"
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def _role(rng: random.Random, index: int) -> dict[str, Any]:
    """One role; the mix follows what real estates hold (services dominate)."""
    account = rng.choice(ACCOUNTS)
    other = rng.choice(ACCOUNTS)
    root = f"arn:aws:iam::{rng.choice((account, account, other))}:root"
    name, path = f"role-{index:05d}", "/"
    roll = rng.random()
    if roll < 0.35:
        document = _document(_allow({"Service": rng.choice(SERVICES)}))
        path = rng.choice(("/", "/service-role/"))
    elif roll < 0.45:
        document = _document(_allow({"Service": rng.sample(SERVICES, 2)}))
    elif roll < 0.55:
        service = rng.choice(SERVICES)
        name = f"AWSServiceRoleFor{service.split('.')[0].title()}{index}"
        path = f"/aws-service-role/{service}/"
        document = _document(_allow({"Service": service}))
    elif roll < 0.63:
        name = f"AWSReservedSSO_{rng.choice(('Admin', 'ReadOnly', 'Dev'))}_{index:016x}"
        path = "/aws-reserved/sso.amazonaws.com/"
        provider = f"arn:aws:iam::{account}:saml-provider/AWSSSO_{index % 7:016x}_DO_NOT_DELETE"
        document = _document(
            _allow(
                {"Federated": provider},
                {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
                ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            )
        )
    elif roll < 0.68:
        provider = f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        document = _document(
            _allow(
                {"Federated": provider},
                {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                    },
                    "StringLike": {
                        "token.actions.githubusercontent.com:sub": f"repo:org/r{index % 40}:*"
                    },
                },
                "sts:AssumeRoleWithWebIdentity",
            )
        )
    elif roll < 0.80:
        condition = (
            {"StringEquals": {"sts:ExternalId": f"ext-{index % 9}"}} if rng.random() < 0.3 else None
        )
        document = _document(_allow({"AWS": root}, condition))
    elif roll < 0.88:
        condition = dict(RULE)
        if rng.random() < 0.3:
            condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
        document = _document(_allow({"AWS": root}, condition))
    elif roll < 0.91:
        document = _document(_allow({"AWS": root}, rng.choice(WEAK)))
    elif roll < 0.94:
        guard = {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringNotEquals": {"sts:RoleSessionName": "${aws:username}"}},
        }
        document = _document(_allow({"AWS": root}), guard)
    elif roll < 0.97:
        document = _document(_allow({"AWS": f"arn:aws:iam::{account}:role/ci-{index % 5}"}))
    elif roll < 0.98:
        document = _document(_allow({"AWS": "*"}, RULE))
    elif roll < 0.99:
        document = _document(_allow({"AWS": root}, RULE), version=rng.choice(("2008-10-17", None)))
    else:
        users = [f"arn:aws:iam::{account}:user/u{(index + k) % 50}" for k in range(3)]
        document = _document(_allow({"AWS": users}, RULE), _allow({"Service": "ec2.amazonaws.com"}))
    return {
        "RoleName": name,
        "Path": path,
        "Arn": f"arn:aws:iam::{account}:role{path}{name}",
        "RoleId": f"AROA{index:017d}",
        "AssumeRolePolicyDocument": document,
    }


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_role(rng, index) for index in range(count)]


def _best_of(repeat: int, function: Callable[[], object], before: Callable[[], None]) -> float:
    """The fastest of ``repeat`` runs: the least disturbed by other work on the machine."""
    times = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


HOSTILE_TARGET_MS = 50.0
IAM_MAX_POLICY_CHARS = 8192
_USERNAME = "${aws:username}"


def _session(operator: str, values: Any) -> dict[str, Any]:
    return {operator: {"sts:RoleSessionName": values}}


def _deny(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    }


def _hostile_shapes() -> dict[str, Callable[[int], dict[str, Any]]]:
    root = f"arn:aws:iam::{ACCOUNTS[0]}:root"
    accounts = [f"{100000000000 + i}" for i in range(2000)]
    return {
        "a*a*…b StringLike": lambda n: _document(
            _allow({"AWS": root}, _session("StringLike", ["a*" * n + "b", "a" * 60]))
        ),
        "?*?*…b StringLike": lambda n: _document(
            _allow({"AWS": root}, _session("StringLike", "?*" * n + "b"))
        ),
        "a*…b ArnLike pin": lambda n: _document(
            _allow(
                {"AWS": root}, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/" + "a*" * n}}
            )
        ),
        "accounts": lambda n: _document(_allow({"AWS": accounts[:n]})),
        "accounts + rule": lambda n: _document(_allow({"AWS": accounts[:n]}, RULE)),
        "literal names": lambda n: _document(
            _allow({"AWS": root}, _session("StringEquals", [f"n{i}" for i in range(n)]))
        ),
        "like patterns": lambda n: _document(
            _allow({"AWS": root}, _session("StringLike", [f"{i}*" for i in range(n)]))
        ),
        "deny patterns": lambda n: _document(
            _allow({"AWS": root}), _deny(_session("StringNotLike", [f"?{i}*" for i in range(n)]))
        ),
        "blocked everywhere": lambda n: _document(
            _allow({"AWS": root}, _session("StringLike", "*")),
            _deny(_session("StringLike", [f"?z{i}" for i in range(n)])),
            _deny(_session("StringNotEquals", _USERNAME)),
        ),
        "statements for *": lambda n: _document(
            *(_allow("*", _session("StringLike", f"{i}?*")) for i in range(n))
        ),
    }


def _largest(make: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    def size(n: int) -> int:
        return len(json.dumps(make(n), separators=(",", ":")))

    low, high = 1, 2
    while size(high) <= IAM_MAX_POLICY_CHARS and high < 1 << 16:
        low, high = high, high * 2
    while low + 1 < high:
        middle = (low + high) // 2
        low, high = (middle, high) if size(middle) <= IAM_MAX_POLICY_CHARS else (low, middle)
    return make(low)


def _hostile(evaluator: Any, repeat: int) -> float:
    """Print each hostile document's time; return the slowest, in ms."""
    slowest = 0.0
    for label, make in _hostile_shapes().items():
        document = _largest(make)

        def run(document: dict[str, Any] = document) -> object:
            return evaluator.evaluate_policy(document)

        elapsed = _best_of(repeat, run, evaluator.clear_caches)
        status = evaluator.evaluate_policy(document).status.value
        print(f"  {label:22} {elapsed * 1000:8.2f} ms  {status}")
        slowest = max(slowest, elapsed * 1000)
    return slowest


def _growth(evaluator: Any, repeat: int) -> float:
    """Time of 256 one-user statements over that of 64 (linear ~4, quadratic ~16)."""

    def users(n: int) -> dict[str, Any]:
        return _document(
            *(_allow({"AWS": f"arn:aws:iam::{ACCOUNTS[0]}:user/u{i}"}, RULE) for i in range(n))
        )

    def timed(document: dict[str, Any]) -> float:
        return _best_of(
            repeat,
            lambda: evaluator.evaluate_policy(document, max_chars=10**7),
            evaluator.clear_caches,
        )

    return timed(users(256)) / timed(users(64))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_trust", description=__doc__)
    parser.add_argument("--roles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--repeat", type=int, default=5, help="report the best of N runs")
    args = parser.parse_args(argv)

    evaluator = plugin_module("utils.trust.evaluator")
    roles = generate(args.roles, args.seed)
    texts = [json.dumps(r["AssumeRolePolicyDocument"], separators=(",", ":")) for r in roles]
    raw_roles = [
        {**role, "AssumeRolePolicyDocument": urllib.parse.quote(text, safe="")}
        for role, text in zip(roles, texts, strict=True)
    ]
    distinct = len(set(texts))
    # Worst case: a distinct Sid in every statement defeats every cache.
    unique_roles = [
        {
            **role,
            "AssumeRolePolicyDocument": {
                **role["AssumeRolePolicyDocument"],
                "Statement": [
                    {**item, "Sid": f"S{index}"}
                    for item in role["AssumeRolePolicyDocument"]["Statement"]
                ],
            },
        }
        for index, role in enumerate(roles)
    ]

    repeat, cold = max(1, args.repeat), evaluator.clear_caches
    baseline = _best_of(repeat, lambda: [json.loads(t) for t in texts], lambda: None)
    as_dicts = _best_of(repeat, lambda: [evaluator.evaluate_role(r) for r in roles], cold)
    as_raw = _best_of(repeat, lambda: [evaluator.evaluate_role(r) for r in raw_roles], cold)
    as_unique = _best_of(repeat, lambda: [evaluator.evaluate_role(r) for r in unique_roles], cold)
    statuses = Counter(evaluator.evaluate_role(r).status.value for r in roles)

    count = len(roles)
    print(
        f"roles: {count:,} (distinct trust policies: {distinct:,}, seed {args.seed}, "
        f"best of {repeat}, caches cleared before each run)"
    )
    print(f"baseline json.loads:            {count / baseline:12,.0f} docs/s")
    runs = (
        ("boto3 dicts", as_dicts),
        ("raw URL-encoded", as_raw),
        ("all distinct", as_unique),
    )
    for label, elapsed in runs:
        print(
            f"evaluate_role, {label + ':':17} {count / elapsed:12,.0f} roles/s "
            f"({elapsed / baseline:5.1f}x the baseline time)"
        )
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    # The target is for a realistic estate; the all-distinct line shows the cache-free floor.
    slowest = min(count / as_dicts, count / as_raw)
    verdict = "met" if slowest >= TARGET_ROLES_PER_SECOND else "NOT met"
    print(f"target >= {TARGET_ROLES_PER_SECOND:,} roles/s on one core: {verdict}")

    print(f"hostile documents of {IAM_MAX_POLICY_CHARS:,} characters (best of {repeat}):")
    worst = _hostile(evaluator, repeat)
    verdict = "met" if worst < HOSTILE_TARGET_MS else "NOT met"
    print(
        f"slowest hostile document: {worst:.1f} ms; target < {HOSTILE_TARGET_MS:.0f} ms: {verdict}"
    )
    growth = _growth(evaluator, max(repeat, 5))
    print(f"256 vs 64 statements: {growth:.1f}x the time (linear ~4x, quadratic ~16x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
