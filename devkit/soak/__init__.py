"""The crash and outage soak (``python -m devkit soak``, ``make soak``): does a killed, starved
plugin still deliver every alert once? ``cli``'s docstring (the ``--help`` text) says what a soak
does; docs/soak.md has more.

The parts, in the order a soak uses them: ``options`` (what to do, presets), ``plan`` (the
corpus and what arrives when), ``faults`` (kills and failure stretches), ``world`` (moto,
gateways, HEC, the tenant), ``runs`` (one run over the increments), ``verdict`` (disturbed
against reference), ``report`` (figures, summary table), ``cli`` (command line, ``run_soak``).
"""

from __future__ import annotations

from devkit.soak.cli import main, parse_args, run_soak, snapshot_plugin, working_tree_revision
from devkit.soak.faults import AttemptPlan, Disturber, hec_faults_for, s3_faults_for, sqs_faults_for
from devkit.soak.options import (
    HEC_STRETCH_KINDS,
    KILL_TRIGGERS,
    S3_MODES,
    SQS_STRETCH_KINDS,
    SoakError,
    SoakOptions,
    hostile_options,
    short_options,
)
from devkit.soak.plan import (
    Corpus,
    Increment,
    Upload,
    build_plan,
    changed_roles,
    corpus_anchor,
    prepare_corpus,
)
from devkit.soak.report import print_summary, run_figures
from devkit.soak.runs import Attempt, Runner, RunState, Sabotage, execute_run
from devkit.soak.verdict import Collected, Received, collect, compare, verdict
from devkit.soak.world import World

__all__ = [
    "Attempt",
    "AttemptPlan",
    "Collected",
    "Corpus",
    "Disturber",
    "HEC_STRETCH_KINDS",
    "Increment",
    "KILL_TRIGGERS",
    "Received",
    "RunState",
    "Runner",
    "S3_MODES",
    "SQS_STRETCH_KINDS",
    "Sabotage",
    "SoakError",
    "SoakOptions",
    "Upload",
    "World",
    "build_plan",
    "changed_roles",
    "collect",
    "compare",
    "corpus_anchor",
    "execute_run",
    "hec_faults_for",
    "hostile_options",
    "main",
    "parse_args",
    "prepare_corpus",
    "print_summary",
    "run_figures",
    "run_soak",
    "s3_faults_for",
    "short_options",
    "snapshot_plugin",
    "sqs_faults_for",
    "verdict",
    "working_tree_revision",
]
