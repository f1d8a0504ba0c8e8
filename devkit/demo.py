"""``make demo``: the whole product on the embedded default, over real HTTP on 127.0.0.1.

Starts moto (server mode, separate process, AWS managed policies loaded), a Splunk HEC
emulator and a ServiceNow Table API emulator; seeds the demo tenant (real boto3 calls
recorded into CloudTrail files in the trail bucket's real layout); then runs the plugin
through the local CE runner **twice**, routing each run's alerts to ServiceNow as CE would
(business rule -> queue -> placeholders -> Table API), and prints: the posture table, the
alerts with the resolved users, what Splunk received, the incidents ServiceNow opened, and
the proof that the second run duplicated nothing.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from devkit.aws_emulator import MotoServer, patched_env
from devkit.demo_tenant import DemoTenant, seed_demo_tenant, write_tenant_config
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.servicenow import ServiceNowEmulator
from devkit.loader import REPO_ROOT
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull
from devkit.servicenow_routing import RoutingReport, ServiceNowReceiver, ServiceNowTarget, route

HEC_INDEX = "security"
SN_USER = "ce_integration"
SN_TABLE = "sn_si_incident"


@dataclass
class DemoRun:
    """What one demo produced, for the report and for the test that asserts it."""

    tenant: DemoTenant
    pulls: list[PullResult] = field(default_factory=list)
    routing: list[RoutingReport] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # the CE store after all pulls
    splunk_events: list[dict[str, Any]] = field(default_factory=list)
    splunk_after_first: int = 0
    incidents: list[dict[str, str]] = field(default_factory=list)
    incidents_after_first: int = 0
    secrets: tuple[str, ...] = ()


def run_demo(state_dir: Path, *, echo: TextIO | None = None, pulls: int = 2) -> DemoRun:
    """Run the demo end to end; every server is stopped before this returns."""
    if state_dir.exists():
        shutil.rmtree(state_dir)
    hec_token = str(secrets.token_hex(16))
    sn_password = secrets.token_urlsafe(18)
    moto = MotoServer().start_process({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    hec = HecEmulator({hec_token: TokenSpec("netskope-ce", (HEC_INDEX,), "main")})
    servicenow = ServiceNowEmulator({SN_USER: sn_password})
    try:
        hec.start()
        servicenow.start()
        with patched_env(moto.env()):
            tenant = seed_demo_tenant(local_dir=state_dir / "trail-files")
            config_path = state_dir / "tenant.json"
            write_tenant_config(
                config_path, tenant, hec_url=hec.url, hec_token=hec_token, index=HEC_INDEX
            )
            config = TenantConfig.load(config_path)
            state = StateDir(state_dir / "ce")
            receiver = ServiceNowReceiver(ServiceNowTarget(servicenow.url, SN_USER, sn_password))
            run = DemoRun(tenant, secrets=(hec_token, sn_password))
            for number in range(pulls):
                # CE validates a configuration when it is saved, then only polls.
                result = run_pull(config, state, echo=echo, validate=number == 0)
                run.pulls.append(result)
                run.routing.append(route(result.alerts, receiver))
                if number == 0:
                    run.splunk_after_first = len([e for e in hec.events if _is_alert(e)])
                    run.incidents_after_first = len(servicenow.records(SN_TABLE))
            store = state.alert_store()
            run.alerts = store.all()
            store.close()
            run.splunk_events = [e for e in hec.events if _is_alert(e)]
            run.incidents = servicenow.records(SN_TABLE)
            return run
    finally:
        hec.stop()
        servicenow.stop()
        moto.stop()


def _is_alert(envelope: dict[str, Any]) -> bool:
    """Alerts, not the one configuration-check event validation writes to the index."""
    return bool(envelope.get("event", {}).get("type") != "config_check")


# ------------------------------------------------------------------------------ report


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        out.write("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        out.write("\n")
        if n == 0:
            out.write("  " + "  ".join("-" * w for w in widths) + "\n")


def report(run: DemoRun, out: TextIO) -> None:
    tenant = run.tenant
    out.write(
        f"\nDemo tenant: account {tenant.account_id}, trail bucket s3://{tenant.bucket}, "
        f"{tenant.record_count} CloudTrail records in {len(tenant.trail_keys)} files\n"
    )
    storage = run.pulls[-1].storage
    out.write("\n1. Posture: every role's trust policy, evaluated as IAM would\n")
    rows = [["role", "verdict", "severity", "alerted"]]
    for arn, status, _fp, alert_id, severity in storage.get("posture", {}).get("roles", []):
        rows.append([arn.split("/")[-1], status, severity, "yes" if alert_id else ""])
    _table(rows, out)

    out.write("\n2. Alerts in CE, with the identity behind each role session\n")
    rows = [["kind", "severity", "resolved identity", "role", "session", "what"]]
    for alert in run.alerts:
        raw = alert["rawData"]
        what = raw.get("event_names") or raw.get("verdict") or ""
        rows.append(
            [
                alert["type"],
                raw.get("severity", ""),
                (alert.get("user") or "-").replace(f"arn:aws:iam::{tenant.account_id}:", ""),
                str(raw.get("role_name") or "")[:28],
                str(raw.get("session_name") or "")[:24],
                str(what)[:40],
            ]
        )
    _table(rows, out)
    seed = [
        a
        for a in run.alerts
        if a["type"] == "noncompliant_role_activity"
        and a["rawData"].get("origin_user_name") == "support_user"
    ]
    if seed:
        raw = seed[0]["rawData"]
        out.write(
            f"\n   The seed's question answered: '{raw['event_names']}' on "
            f"{raw['role_name']} (session '{raw['session_name']}') was done by "
            f"{seed[0]['user']} (resolved via {raw['resolution_method']}).\n"
        )

    out.write(
        f"\n3. Splunk HEC received {len(run.splunk_events)} events "
        f"(index {HEC_INDEX}, sourcetype netskope:ce:aws:rolesession)\n"
    )
    kinds = Counter(str(e.get("event", {}).get("signature_id", "?")) for e in run.splunk_events)
    for kind, count in sorted(kinds.items()):
        out.write(f"  {count:4d}  {kind}\n")

    out.write(f"\n4. ServiceNow opened {len(run.incidents)} security incidents ({SN_TABLE})\n")
    for incident in run.incidents[:25]:
        out.write(
            f"  {incident.get('number')}  sev {incident.get('severity')}  "
            f"{incident.get('short_description', '')[:90]}\n"
        )

    first, *later = run.pulls
    out.write("\n5. Second run\n")
    for number, result in enumerate(later, start=2):
        out.write(
            f"  pull {number}: {len(result.alerts)} alerts returned (the previous pull's, "
            "repeated so CE's own save window cannot lose them), "
            f"{result.upsert.inserted} new in CE, "
            f"{len(run.routing[number - 1].created)} new incidents\n"
        )
    dupes_splunk = len(run.splunk_events) - run.splunk_after_first
    dupes_sn = len(run.incidents) - run.incidents_after_first
    ids = [a["id"] for a in run.alerts]
    out.write(
        f"  CE alerts: {len(ids)} unique ids after {len(run.pulls)} pulls "
        f"(first pull returned {len(first.alerts)}); Splunk events added by the second "
        f"run: {dupes_splunk}; ServiceNow incidents added: {dupes_sn}\n"
    )
    verdict = "no duplicates" if dupes_splunk == 0 and dupes_sn == 0 else "DUPLICATES FOUND"
    out.write(f"  => {verdict}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devkit demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--state", type=Path, default=REPO_ROOT / ".state" / "demo")
    parser.add_argument("--verbose", action="store_true", help="echo the plugin's log lines")
    args = parser.parse_args(argv)
    print("Starting local AWS (moto), Splunk HEC and ServiceNow emulators on 127.0.0.1 ...")
    run = run_demo(args.state, echo=sys.stderr if args.verbose else None)
    report(run, sys.stdout)
    print(f"\nState, trail files and the CE alert store are under {args.state}")
    return 0
