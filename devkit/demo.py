"""``make demo``: the whole product on the embedded default, over real HTTP on 127.0.0.1.

Starts moto (server mode, separate process, AWS managed policies loaded), a Splunk HEC
emulator, a ServiceNow Table API emulator, a Jira REST API emulator and a webhook capture;
seeds the demo tenant (real boto3 calls recorded into CloudTrail files in the trail bucket's
real layout); configures Netskope's **official, unmodified** receiver plugins (ServiceNow,
Jira, Webhook, from ``shared/ce-plugins``) as CE does, their secrets as Secrets-Manager
references; then runs our plugin through the local CE runner **twice**. After each pull,
CE's part (business rules -> queues -> mappings, ``devkit.ce_routing``) hands the alerts to
those plugins, which create incidents, issues and webhooks (first run) or deduplicate
(second run: ``update_task``), and ``sync_states`` follows. It prints the posture table,
the alerts with the resolved users and the resources they touched, what Splunk received,
what each official plugin delivered (name and version), and the proof that the second run
duplicated nothing.
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
from devkit.ce_routing import (
    Delivery,
    Route,
    TicketOrchestrator,
    jira_routes,
    servicenow_routes,
    webhook_routes,
)
from devkit.demo_tenant import DemoTenant, seed_demo_tenant, write_tenant_config
from devkit.emulators.hec import HecEmulator, TokenSpec
from devkit.emulators.jira import JiraEmulator, document_text
from devkit.emulators.servicenow import ServiceNowEmulator, seed_reference_data
from devkit.emulators.webhook import WebhookCapture
from devkit.loader import REPO_ROOT, install_sdk, load_plugin, official_plugins_dir
from devkit.runner import PullResult, StateDir, TenantConfig, make_logger, run_pull

HEC_INDEX = "security"
SN_USER = "ce_integration"
SN_TABLE = "sn_si_incident"
SN_GROUP = "Cloud Security"
JIRA_EMAIL = "ce-integration@example.com"
JIRA_QUEUE = "Security - Task"
SERVICENOW, JIRA, WEBHOOK = "ServiceNow SecOps", "Jira Security", "Webhook SOAR"


class ReceiverSetupError(RuntimeError):
    """An official plugin refused its configuration (CE would answer 400)."""


@dataclass
class Receivers:
    """The receiver servers and the official plugins configured against them."""

    servicenow: ServiceNowEmulator
    jira: JiraEmulator
    webhook: WebhookCapture
    plugins: dict[str, Any] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    logger: Any = None
    secrets: tuple[str, ...] = ()

    def stop(self) -> None:
        for server in (self.servicenow, self.jira, self.webhook):
            server.stop()


def _configure(plugin_dir: Path, name: str, configuration: Any, logger: Any) -> Any:
    """Validate every step as CE does when a configuration is saved, then instantiate."""
    plugin_cls = load_plugin(plugin_dir)
    checker = plugin_cls(name, None, None, None, logger)
    for step in [s["name"] for s in plugin_cls.metadata["configuration"]]:
        result = checker.validate_step(step, configuration)
        if not result.success:
            raise ReceiverSetupError(f"{name}: step '{step}': {result.message}")
    return plugin_cls(name, configuration, {}, None, logger)


def start_receivers(plugins_dir: Path | None = None, logger: Any = None) -> Receivers:
    """Start the three receiver servers and configure the official plugins against them
    (ServiceNow into security incidents of the 'Cloud Security' group, Jira into the
    Security project's tasks, the Webhook plugin into the capture)."""
    install_sdk()
    from netskope.common.utils import ResolvingConfiguration, SecretStore

    plugins_dir = plugins_dir or official_plugins_dir()
    sn_password = secrets.token_urlsafe(18)
    jira_token = secrets.token_urlsafe(24)
    receivers = Receivers(
        ServiceNowEmulator({SN_USER: sn_password}),
        JiraEmulator({JIRA_EMAIL: jira_token}),
        WebhookCapture(),
        logger=logger or make_logger(),
        secrets=(sn_password, jira_token),
    )
    try:
        receivers.servicenow.start()
        receivers.jira.start()
        receivers.webhook.start()
        seed_reference_data(receivers.servicenow)
        # CE's Secrets Manager holds the credentials; the configurations name them.
        store = SecretStore({"servicenow-password": sn_password, "jira-token": jira_token})
        sn = _configure(
            plugins_dir / "servicenow_itsm",
            SERVICENOW,
            ResolvingConfiguration(
                {
                    "auth": {
                        "url": receivers.servicenow.url,
                        "username": SN_USER,
                        "password": "secret:servicenow-password",
                        "table": SN_TABLE,
                    },
                    "params": {"default_mappings": "no"},
                },
                store,
            ),
            receivers.logger,
        )
        jira = _configure(
            plugins_dir / "jira_itsm",
            JIRA,
            ResolvingConfiguration(
                {
                    "auth": {
                        "url": receivers.jira.url,
                        "email": JIRA_EMAIL,
                        "api_token": "secret:jira-token",
                    },
                    "params": {"issue_type": "Task"},
                },
                store,
            ),
            receivers.logger,
        )
        hook = _configure(
            plugins_dir / "webhook_cto",
            WEBHOOK,
            ResolvingConfiguration({"params": {"webhook_url": receivers.webhook.url + "/ce"}}),
            receivers.logger,
        )
        receivers.plugins = {SERVICENOW: sn, JIRA: jira, WEBHOOK: hook}
        # The queues an administrator picks from each plugin's own list.
        sn_queue = next(q for q in sn.get_queues() if q.label == SN_GROUP)
        jira_queue = next(q for q in jira.get_queues() if q.label == JIRA_QUEUE)
        (hook_queue,) = hook.get_queues()
        receivers.routes = [
            *servicenow_routes(SERVICENOW, sn_queue),
            *jira_routes(JIRA, jira_queue),
            *webhook_routes(WEBHOOK, hook_queue),
        ]
    except BaseException:
        receivers.stop()
        raise
    return receivers


@dataclass
class DemoRun:
    """What one demo produced, for the report and for the test that asserts it."""

    tenant: DemoTenant
    pulls: list[PullResult] = field(default_factory=list)
    deliveries: list[dict[str, Delivery]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # the CE store after all pulls
    splunk_events: list[dict[str, Any]] = field(default_factory=list)
    splunk_after_first: int = 0
    incidents: list[dict[str, str]] = field(default_factory=list)
    incidents_after_first: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)
    issues_after_first: int = 0
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    webhooks_after_first: int = 0
    work_notes: list[dict[str, str]] = field(default_factory=list)
    receiver_logs: str = ""
    secrets: tuple[str, ...] = ()


def run_demo(
    state_dir: Path,
    *,
    echo: TextIO | None = None,
    pulls: int = 2,
    plugins_dir: Path | None = None,
) -> DemoRun:
    """Run the demo end to end; every server is stopped before this returns."""
    if state_dir.exists():
        shutil.rmtree(state_dir)
    hec_token = str(secrets.token_hex(16))
    moto = MotoServer().start_process({"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    hec = HecEmulator({hec_token: TokenSpec("netskope-ce", (HEC_INDEX,), "main")})
    receivers: Receivers | None = None
    try:
        hec.start()
        receivers = start_receivers(plugins_dir, make_logger(echo))
        orchestrator = TicketOrchestrator(receivers.plugins, receivers.routes)
        with patched_env(moto.env()):
            tenant = seed_demo_tenant(local_dir=state_dir / "trail-files")
            config_path = state_dir / "tenant.json"
            write_tenant_config(
                config_path, tenant, hec_url=hec.url, hec_token=hec_token, index=HEC_INDEX
            )
            config = TenantConfig.load(config_path)
            state = StateDir(state_dir / "ce")
            run = DemoRun(tenant, secrets=(hec_token, *receivers.secrets))
            for number in range(pulls):
                # CE validates a configuration when it is saved, then only polls.
                result = run_pull(config, state, echo=echo, validate=number == 0)
                run.pulls.append(result)
                delivered = orchestrator.deliver(result.alerts)
                orchestrator.sync(delivered)
                run.deliveries.append(delivered)
                if number == 0:
                    run.splunk_after_first = len([e for e in hec.events if _is_alert(e)])
                    run.incidents_after_first = len(receivers.servicenow.records(SN_TABLE))
                    run.issues_after_first = len(receivers.jira.issues)
                    run.webhooks_after_first = len(receivers.webhook.received)
            store = state.alert_store()
            run.alerts = store.all()
            store.close()
            run.splunk_events = [e for e in hec.events if _is_alert(e)]
            run.incidents = receivers.servicenow.records(SN_TABLE)
            run.issues = receivers.jira.issues
            run.webhooks = receivers.webhook.received
            run.work_notes = list(receivers.servicenow.journal)
            run.receiver_logs = receivers.logger.text()
            return run
    finally:
        hec.stop()
        if receivers is not None:
            receivers.stop()
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
    rows = [["role", "path", "verdict", "severity", "alerted"]]
    for arn, status, _fp, alert_id, severity in storage.get("posture", {}).get("roles", []):
        path, _, name = arn.split(":role", 1)[-1].rpartition("/")
        rows.append([name, path + "/", status, severity, "yes" if alert_id else ""])
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
                str(raw.get("role_name") or "")[:40],
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
            f"   Resources touched: {raw.get('resources') or '-'}\n"
        )

    for alert in run.alerts:
        if alert["type"] == "role_name_imitates_aws_managed_role":
            raw = alert["rawData"]
            out.write(
                f"\n   Look-alike: {raw['role_name']} at path {raw['role_path']} is named like an "
                f"{raw['imitated_role_kind']} role, which AWS creates only under "
                f"{raw['reserved_path']}; its name exempts nothing: verdict {raw['verdict']}, "
                f"look-alike alert {raw.get('severity', '')}.\n"
            )

    out.write(
        f"\n3. Splunk HEC received {len(run.splunk_events)} events "
        f"(index {HEC_INDEX}, sourcetype netskope:ce:aws:rolesession)\n"
    )
    kinds = Counter(str(e.get("event", {}).get("signature_id", "?")) for e in run.splunk_events)
    for kind, count in sorted(kinds.items()):
        out.write(f"  {count:4d}  {kind}\n")

    out.write("\n4. Delivered by Netskope's official receiver plugins (unmodified)\n")
    first_pass = run.deliveries[0] if run.deliveries else {}
    for name, delivery in first_pass.items():
        out.write(
            f"  {delivery.plugin} [{name}]: {len(delivery.created)} created, "
            f"{len(delivery.failed)} failed\n"
        )
        for alert_id, error in delivery.failed[:5]:
            out.write(f"    FAILED {alert_id}: {error[:150]}\n")
    out.write(f"\n  ServiceNow security incidents ({SN_TABLE}), assignment group {SN_GROUP}:\n")
    for incident in run.incidents[:25]:
        out.write(
            f"    {incident.get('number')}  sev {incident.get('severity')}  "
            f"{incident.get('short_description', '')[:90]}\n"
        )
    out.write("\n  Jira issues (project Security, type Task):\n")
    for issue in run.issues[:25]:
        fields = issue["fields"]
        out.write(f"    {issue['key']:7} {fields['status']['name']:6} {fields['summary'][:90]}\n")
    for issue in run.issues:
        text = document_text(issue["fields"].get("description"))
        if "Identity: support_user" in text or "user/support_user" in issue["fields"]["summary"]:
            lines = [x for x in text.splitlines() if x.startswith(("Identity:", "Resources"))]
            if len(lines) == 2:
                out.write(f"    {issue['key']}: {lines[0]}; {lines[1][:120]}\n")
                break
    out.write(f"\n  Webhooks received by the capture endpoint: {len(run.webhooks)}\n")
    for hook in run.webhooks[:3]:
        body = hook["json"]
        out.write(
            f"    {body.get('severity', ''):8} {body.get('finding')}  user={body.get('user')}\n"
        )

    first, *later = run.pulls
    out.write("\n5. Second run\n")
    for number, result in enumerate(later, start=2):
        delivered = run.deliveries[number - 1]
        out.write(
            f"  pull {number}: {len(result.alerts)} alerts returned (the previous pull's, "
            "repeated so CE's own save window cannot lose them), "
            f"{result.upsert.inserted} new in CE\n"
        )
        for name, delivery in delivered.items():
            out.write(
                f"    {delivery.plugin} [{name}]: {len(delivery.created)} created, "
                f"{len(delivery.deduplicated)} deduplicated (update_task), "
                f"{delivery.synced} synced (sync_states), {len(delivery.failed)} failed\n"
            )
    added = {
        "Splunk events": len(run.splunk_events) - run.splunk_after_first,
        "ServiceNow incidents": len(run.incidents) - run.incidents_after_first,
        "Jira issues": len(run.issues) - run.issues_after_first,
        "webhooks": len(run.webhooks) - run.webhooks_after_first,
    }
    ids = [a["id"] for a in run.alerts]
    out.write(
        f"  CE alerts: {len(ids)} unique ids after {len(run.pulls)} pulls "
        f"(first pull returned {len(first.alerts)}); added by the second run: "
        + ", ".join(f"{what} {count}" for what, count in added.items())
        + "\n"
    )
    verdict = "no duplicates" if not any(added.values()) else "DUPLICATES FOUND"
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
    print(
        "Starting local AWS (moto), Splunk HEC, ServiceNow, Jira and webhook emulators "
        "on 127.0.0.1 ..."
    )
    run = run_demo(args.state, echo=sys.stderr if args.verbose else None)
    report(run, sys.stdout)
    print(f"\nState, trail files and the CE alert store are under {args.state}")
    return 0
