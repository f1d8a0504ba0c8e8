"""The disturbed run's disturbances, all drawn from the seed before it starts: which
attempts are killed and at which trigger, and the HEC, S3 and SQS failure stretches."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from devkit.soak.options import (
    HEC_STRETCH_KINDS,
    KILL_TRIGGERS,
    KILL_WEIGHTS,
    S3_MODES,
    SQS_STRETCH_KINDS,
    SoakOptions,
)
from devkit.soak.plan import Increment


@dataclass
class AttemptPlan:
    """What the disturbed run does to one pull attempt."""

    kill: str | None = None
    kill_delay: float = 0.0  # timer: seconds; delivering: share of the HEC delay
    kill_threshold: int = 1  # reading: kill after this many trail objects were fetched
    hec_slow: float = 0.0  # delivering: delay HEC's first answer by this much
    hec_stretch: str | None = None
    s3_stretch: str | None = None
    s3_outage_seconds: float = 0.0
    sqs_stretch: str | None = None
    sqs_outage_seconds: float = 0.0


class Disturber:
    """Seeded decisions for the disturbed run: stretches of failures, and kills."""

    def __init__(self, options: SoakOptions, plan: Sequence[Increment]) -> None:
        self.options = options
        self.rng = random.Random(options.seed + 2)
        self.hec: dict[int, str] = {}
        self.s3: dict[int, str] = {}
        for number in range(len(plan)):
            if number not in self.hec and self.rng.random() < options.hec_fault_rate:
                kind = self.rng.choice(HEC_STRETCH_KINDS)
                for n in range(number, min(len(plan), number + self.rng.randint(1, 3))):
                    self.hec[n] = kind
            if number not in self.s3 and self.rng.random() < options.s3_fault_rate:
                kind = self.rng.choice(S3_MODES[options.s3_mode])
                for n in range(number, min(len(plan), number + self.rng.randint(1, 2))):
                    self.s3[n] = kind
        self.sqs_rng = random.Random(options.seed + 3)
        self.sqs: dict[int, str] = {}
        # The kinds in a shuffled cycle, not drawn independently: a run with at least as
        # many stretches as kinds exercises every kind (independent draws left some out).
        cycle = list(SQS_STRETCH_KINDS)
        self.sqs_rng.shuffle(cycle)
        stretches = 0
        for number in range(len(plan) if options.source == "sqs" else 0):
            if number not in self.sqs and self.sqs_rng.random() < options.sqs_fault_rate:
                kind = cycle[stretches % len(cycle)]
                stretches += 1
                for n in range(number, min(len(plan), number + self.sqs_rng.randint(1, 2))):
                    self.sqs[n] = kind

    def attempt(
        self, increment: Increment, kills_so_far: int, reference_seconds: float
    ) -> AttemptPlan:
        rng = self.rng
        plan = AttemptPlan(
            hec_stretch=self.hec.get(increment.number), s3_stretch=self.s3.get(increment.number)
        )
        if plan.s3_stretch == "outage":
            plan.s3_outage_seconds = round(rng.uniform(0.5, 2.5), 2)
        elif plan.s3_stretch == "outage_long":
            plan.s3_outage_seconds = round(rng.uniform(3.0, 25.0), 2)
        plan.sqs_stretch = self.sqs.get(increment.number)
        if plan.sqs_stretch == "outage":
            plan.sqs_outage_seconds = round(self.sqs_rng.uniform(1.0, 12.0), 2)
        triggers = [t for t in KILL_TRIGGERS if t in self.options.kill_triggers]
        if (
            triggers
            and kills_so_far < self.options.max_kills_per_increment
            and rng.random() < self.options.kill_rate
        ):
            weights = [KILL_WEIGHTS[KILL_TRIGGERS.index(t)] for t in triggers]
            plan.kill = rng.choices(triggers, weights)[0]
            plan.kill_delay = round(rng.uniform(0.05, 1.1) * max(0.5, reference_seconds), 3)
            plan.kill_threshold = rng.randint(1, max(1, increment.trail_objects))
            if plan.kill == "delivering":
                plan.hec_slow = round(rng.uniform(0.8, 2.5), 2)
                plan.kill_delay = round(rng.uniform(0.1, 0.9), 2)
        return plan


def hec_faults_for(kind: str | None) -> list[dict[str, Any]]:
    """HEC faults active during one attempt of a stretch (count: effectively every request,
    except a lost answer: once per attempt, so the retry gets through)."""
    many = 1000
    if kind == "busy":
        return [{"kind": "busy", "count": many}]
    if kind == "throttle":
        return [{"kind": "throttle", "count": many, "retry_after": "2"}]
    if kind == "error500":
        return [
            {
                "kind": "status",
                "status": 500,
                "body": {"text": "Internal Server Error", "code": 8},
                "count": many,
            }
        ]
    if kind == "reset":
        return [{"kind": "drop", "phase": "before", "count": many}]
    if kind == "answer_lost":
        return [{"kind": "drop", "phase": "after", "count": 1}]
    if kind == "latency":
        return [{"kind": "slow", "delay": 1.5, "count": many}]
    return []


_RECEIVE, _DELETE, _VISIBILITY = (
    "ReceiveMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibilityBatch",
)


def sqs_faults_for(kind: str | None, outage_seconds: float) -> list[dict[str, Any]]:
    """Gateway faults for one attempt of an SQS stretch (the gateway answers a JSON-protocol
    request with SQS's JSON error). The recoverable kinds fail a few calls; ``answers_lost``
    lets SQS act and loses its answer (received messages stay in flight unseen until their
    visibility timeout; a delete happened); the others fail every call of their operation
    for the whole attempt (or every call for ``outage_seconds``)."""
    if kind == "receive_5xx":
        return [
            {"kind": "status", "status": 500, "rate": 0.5, "count": 3, "operations": [_RECEIVE]}
        ]
    if kind == "throttled":
        return [
            {"kind": "status", "status": 400, "code": "RequestThrottled", "rate": 0.4, "count": 4}
        ]
    if kind == "resets":
        return [{"kind": "drop", "rate": 0.3, "count": 3}]
    if kind == "answers_lost":
        return [
            {"kind": "drop_after", "rate": 0.5, "count": 1, "operations": [_RECEIVE]},
            {"kind": "drop_after", "count": 1, "operations": [_DELETE]},
        ]
    if kind == "delete_fail":
        return [{"kind": "status", "status": 500, "operations": [_DELETE]}]
    if kind == "visibility_fail":
        return [{"kind": "status", "status": 503, "operations": [_VISIBILITY]}]
    if kind == "outage":
        return [{"kind": "status", "status": 503, "duration": outage_seconds}]
    return []


def s3_faults_for(kind: str | None, outage_seconds: float) -> list[dict[str, Any]]:
    """Gateway faults for one attempt of an S3 stretch. The recoverable kinds fail at most
    four requests in all (botocore makes five attempts) or briefly; the others do not stop."""
    objects = {"methods": ["GET"], "match": ["/AWSLogs/"]}
    if kind in ("outage", "outage_long"):
        return [{"kind": "status", "status": 503, "duration": outage_seconds}]
    if kind == "flaky_5xx":
        return [{"kind": "status", "status": 500, "rate": 0.5, "count": 4, **objects}]
    if kind == "flaky_5xx_heavy":
        return [
            {"kind": "status", "status": 500, "rate": 0.45, **objects},
            {"kind": "status", "status": 503, "rate": 0.2},
        ]
    if kind == "resets":
        return [
            {"kind": "drop", "rate": 0.5, "count": 3, **objects},
            {"kind": "drop_after", "count": 1},
        ]
    if kind == "resets_heavy":
        return [{"kind": "drop", "rate": 0.3, **objects}, {"kind": "drop_after", "rate": 0.15}]
    if kind == "stalls":
        return [{"kind": "stall", "delay": 1.5, "rate": 0.3, "count": 2, **objects}]
    if kind == "truncated":
        return [{"kind": "truncate", "rate": 0.3, **objects}]
    return []
