"""A tenant in moto with IAM authorization ON, and the plugin's IAM user that holds only
the policy under test.

One moto *process* per test worker (``MotoServer.start_process``), started with
``INITIAL_NO_AUTH_ACTION_COUNT`` large enough to seed without credentials; seeding then
re-arms authorization with moto's ``/moto-api/reset-auth`` (count 0), so from there on every
request is signed by a known IAM principal and checked against its policies. What moto
checks (moto 5.2, ``moto/core/authorization.py``, ``moto/iam/access_control.py``):

* the signature, and the action against the caller's identity policies - the user's inline
  and attached policies, or the assumed role's;
* resources: S3 bucket/object ARNs, SQS queue ARNs, role ARNs for sts:AssumeRole and IAM role
  calls; every other service is checked against ``*``;
* NOT conditions of identity policies (``s3:prefix`` is ignored), NOT trust policies across
  accounts (the role is looked up in the caller's account only), NOT ``sts:RoleSessionName``
  or ``aws:PrincipalAccount`` in trust policies (only ``sts:ExternalId`` reaches the
  evaluation), and SQS batch calls under their own names (see ``iam_policy.for_moto``).

Those gaps are covered in the tests that need them: ``iam_policy`` evaluates every recorded
call against the policy text, and the trust policy is proven with the plugin's trust
evaluator.

The tenant is ``devkit.demo_tenant`` (real trail files under ``org-trail/AWSLogs/`` and
S3-shaped notifications of each file), an AWS Organization with one member account whose
``RoleSessionAuditor`` carries the files of docs/iam/, and administrators (``*`` policies)
in both accounts for the tests' own set-up calls.
"""

from __future__ import annotations

import gzip
import json
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.loaders import Loader, create_loader
from botocore.stub import Stubber
from netskope.common.utils import Logger

from devkit.aws_emulator import MotoServer, patched_env
from devkit.demo_tenant import DemoTenant, seed_demo_tenant, write_tenant_config
from devkit.loader import load_plugin
from devkit.runner import PullResult, StateDir, TenantConfig, run_pull

from .iam_policy import (
    Call,
    Placeholders,
    complete,
    filled,
    for_moto,
    member_policy,
    plugin_policy,
)

SCOPE_SINGLE = "single_account"
SCOPE_ORGANIZATION = "organization"

PLUGIN_USER = "ce-plugin"
MEMBER_ROLE = "RoleSessionAuditor"
EXTERNAL_ID = "lp-external-id-7f3a"  # not a secret: a test value
TRAIL_PREFIX = "org-trail"
SEEDING_BUDGET = "1000000"  # unauthenticated requests allowed before seeding re-arms auth
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
MEMBER_OPEN_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
    ],
}


_LOADERS: dict[str | None, Loader] = {}


def _shared_loader(search_path_string: str | None = None) -> Loader:
    loader = _LOADERS.get(search_path_string)
    if loader is None:
        loader = _LOADERS[search_path_string] = create_loader(search_path_string)
    return loader


def share_botocore_models(patch: pytest.MonkeyPatch) -> None:
    """Let every botocore session share one model loader while ``patch`` is active.

    The plugin builds a boto3 session per validation step and per pull (as in CE), and each
    new session parses its service models again (EC2's alone takes ~0.2 s). Sharing the parsed
    models changes no call the plugin makes and keeps this directory within its time budget.
    """
    patch.setattr(botocore.session, "create_loader", _shared_loader)


@pytest.fixture(autouse=True)
def _shared_botocore_models(monkeypatch: pytest.MonkeyPatch) -> None:
    share_botocore_models(monkeypatch)


def reset_auth(server: MotoServer, count: int | str) -> None:
    """Re-arm moto's authorization: the next ``count`` requests go unchecked."""
    request = urllib.request.Request(  # noqa: S310 - moto's local control endpoint
        f"{server.endpoint}/moto-api/reset-auth",
        data=str(count).encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - local moto
        pass


def _session(keys: Mapping[str, Any]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        region_name="us-east-1",
    )


def _user_with_keys(iam: Any, name: str, policy: dict[str, Any] | None) -> dict[str, str]:
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="admin", PolicyDocument=json.dumps(policy))
    key: dict[str, str] = iam.create_access_key(UserName=name)["AccessKey"]
    return key


@dataclass
class LeastPrivilegeTenant:
    server: MotoServer
    demo: DemoTenant
    account_id: str
    member_account_id: str
    admin: boto3.Session
    member_admin: boto3.Session
    user_keys: dict[str, str]
    notifications: list[str]  # the demo queue's message bodies, replayed into fresh queues
    trail_records: list[dict[str, Any]]
    queues: list[str] = field(default_factory=list)

    @property
    def member_role_arn(self) -> str:
        return f"arn:aws:iam::{self.member_account_id}:role/{MEMBER_ROLE}"

    @property
    def user_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/{PLUGIN_USER}"

    def values(self, queue_name: str = "QUEUE_NAME", prefix: str = TRAIL_PREFIX) -> Placeholders:
        return Placeholders(
            account_id=self.account_id,
            region=self.demo.region,
            trail_bucket=self.demo.bucket,
            trail_prefix=prefix,
            queue_name=queue_name,
            management_account_id=self.account_id,
            external_id=EXTERNAL_ID,
        )

    def grant(self, document: dict[str, Any]) -> None:
        """Make ``document`` the plugin user's only policy (moto's names for batch calls added)."""
        self.admin.client("iam").put_user_policy(
            UserName=PLUGIN_USER, PolicyName="plugin", PolicyDocument=json.dumps(for_moto(document))
        )

    def grant_member(self, document: dict[str, Any]) -> None:
        """Make ``document`` the member audit role's only permission policy."""
        iam = self.member_admin.client("iam")
        if not document["Statement"]:  # IAM rejects a policy without statements
            iam.delete_role_policy(RoleName=MEMBER_ROLE, PolicyName="audit")
            return
        iam.put_role_policy(
            RoleName=MEMBER_ROLE, PolicyName="audit", PolicyDocument=json.dumps(for_moto(document))
        )

    def fresh_queue(self, name: str) -> str:
        """A new queue holding the trail's notifications (each SQS test consumes its own)."""
        sqs: Any = self.admin.client("sqs")
        url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
        for chunk in range(0, len(self.notifications), 10):
            entries = [
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(self.notifications[chunk : chunk + 10])
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        self.queues.append(url)
        return url

    def configuration(
        self,
        tmp_path: Path,
        source: str,
        *,
        queue_url: str = "",
        **steps: dict[str, Any],
    ) -> dict[str, Any]:
        """The runner's configuration for the demo tenant, authenticating as the plugin user."""
        document = write_tenant_config(
            tmp_path / "tenant.json",
            self.demo,
            hec_url="",
            hec_token="",
            index="",
            source=source,  # type: ignore[arg-type]
        )
        config: dict[str, Any] = document["configuration"]
        config["aws"].update(
            {
                "access_key_id": self.user_keys["AccessKeyId"],
                "secret_access_key": self.user_keys["SecretAccessKey"],
                "external_id": EXTERNAL_ID,
                "member_role_name": MEMBER_ROLE,
            }
        )
        config["cloudtrail"]["sqs_queue_url"] = queue_url
        for step, values in steps.items():
            config[step].update(values)
        return config

    def validate_step(self, step: str, config: dict[str, Any]) -> Any:
        """One ``validate_step`` call, as CE makes it for one step."""
        plugin = load_plugin()("least-privilege", None, {}, None, Logger())
        return plugin.validate_step(step, config)

    def pull(self, tmp_path: Path, config: dict[str, Any], *, validate: bool = True) -> PullResult:
        return run_pull(
            TenantConfig(name="least-privilege", configuration=config),
            StateDir(tmp_path / "state"),
            validate=validate,
        )


def _seed_member(admin: boto3.Session, account_id: str) -> tuple[str, boto3.Session]:
    """An Organization with one member account holding the audit role of docs/iam/."""
    org = admin.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member_id = str(
        org.create_account(AccountName="member-workloads", Email="member@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
    )
    bootstrap = admin.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="lp-bootstrap",
    )["Credentials"]
    member_iam = _session(bootstrap).client("iam")
    member_admin = _session(_user_with_keys(member_iam, "lp-admin", ADMIN_POLICY))
    values = Placeholders(account_id=account_id, external_id=EXTERNAL_ID)
    member_iam.create_role(
        RoleName=MEMBER_ROLE,
        AssumeRolePolicyDocument=json.dumps(
            complete(filled("member-audit-role-trust.json", values))
        ),
    )
    member_iam.put_role_policy(
        RoleName=MEMBER_ROLE,
        PolicyName="audit",
        PolicyDocument=json.dumps(for_moto(member_policy("s3", values))),
    )
    member_iam.create_role(
        RoleName="MemberOpenRole", AssumeRolePolicyDocument=json.dumps(MEMBER_OPEN_TRUST)
    )
    return member_id, member_admin


def _queue_bodies(admin: boto3.Session, queue_url: str) -> list[str]:
    sqs = admin.client("sqs")
    bodies: dict[str, str] = {}
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return list(bodies.values())
        for message in messages:
            bodies[message["MessageId"]] = message["Body"]


@pytest.fixture(scope="session")
def seeded_least_privilege() -> Iterator[LeastPrivilegeTenant]:
    server = MotoServer().start_process(
        {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "INITIAL_NO_AUTH_ACTION_COUNT": SEEDING_BUDGET}
    )
    try:
        with patched_env(server.env()):
            demo = seed_demo_tenant(prefix=TRAIL_PREFIX)
            iam = boto3.client("iam")
            admin = _session(_user_with_keys(iam, "lp-admin", ADMIN_POLICY))
            user_keys = _user_with_keys(iam, PLUGIN_USER, None)
            account_id = demo.account_id
            member_id, member_admin = _seed_member(admin, account_id)
            notifications = _queue_bodies(admin, demo.queue_url)
            s3 = boto3.client("s3")
            records = [
                record
                for key in demo.trail_keys
                for record in json.loads(
                    gzip.decompress(s3.get_object(Bucket=demo.bucket, Key=key)["Body"].read())
                )["Records"]
            ]
        reset_auth(server, 0)  # from here on moto authorizes every request
        yield LeastPrivilegeTenant(
            server=server,
            demo=demo,
            account_id=account_id,
            member_account_id=member_id,
            admin=admin,
            member_admin=member_admin,
            user_keys=user_keys,
            notifications=notifications,
            trail_records=records,
        )
    finally:
        server.stop()


@pytest.fixture
def lp(seeded_least_privilege: LeastPrivilegeTenant) -> Iterator[LeastPrivilegeTenant]:
    """The tenant with boto3 (and the plugin) pointed at its moto server; the plugin user
    holds no policy until the test grants one."""
    tenant = seeded_least_privilege
    with patched_env(tenant.server.env()):
        iam = tenant.admin.client("iam")
        if "plugin" in iam.list_user_policies(UserName=PLUGIN_USER)["PolicyNames"]:
            iam.delete_user_policy(UserName=PLUGIN_USER, PolicyName="plugin")
        tenant.grant_member(member_policy("s3", tenant.values()))
        yield tenant


# --------------------------------------------------------------------------- recording


class CallRecorder:
    """Every botocore call the plugin makes, with the principal that signed it.

    Hooks (``before-parameter-build`` and ``after-call``) are registered on each client the
    plugin's ``BotoClientFactory`` builds. With ``lookup_pages`` set, each CloudTrail
    client is given a botocore ``Stubber`` answering LookupEvents (moto has no LookupEvents).
    """

    def __init__(
        self,
        user_key_id: str,
        lookup_pages: list[dict[str, Any]] | None,
        stub_principals: frozenset[str] | None = None,
    ) -> None:
        self.calls: list[Call] = []
        self.principals = {user_key_id: "user"}
        self.lookup_pages = lookup_pages
        self.stub_principals = stub_principals  # None: every principal's LookupEvents
        self.stubbers: list[Stubber] = []

    def attach(self, client: Any, access_key_id: str) -> None:
        service = client.meta.service_model.service_name
        region = client.meta.region_name
        principal = self.principals.get(access_key_id, f"unknown key {access_key_id[:4]}")

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            call = Call(service, model.name, dict(params), region, principal)
            context["least_privilege_call"] = call
            self.calls.append(call)

        def after(
            http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
        ) -> None:
            call = context.get("least_privilege_call")
            if call is None:
                return
            call.status = getattr(http_response, "status_code", None)
            call.error_code = str((parsed.get("Error") or {}).get("Code", ""))
            call.response = parsed
            if call.name == "sts:AssumeRole" and "Credentials" in parsed:
                key = parsed["Credentials"]["AccessKeyId"]
                self.principals[key] = str(call.params["RoleArn"])

        client.meta.events.register("before-parameter-build", before)
        client.meta.events.register("after-call", after)
        stubbed = self.stub_principals is None or principal in self.stub_principals
        if service == "cloudtrail" and self.lookup_pages is not None and stubbed:
            stubber = Stubber(client)
            for page in self.lookup_pages:
                stubber.add_response("lookup_events", page)
            stubber.activate()
            self.stubbers.append(stubber)

    def of(self, principal: str) -> list[Call]:
        return [c for c in self.calls if c.principal == principal]


def install_recorder(
    lp: LeastPrivilegeTenant,
    monkeypatch: pytest.MonkeyPatch,
    lookup_pages: list[dict[str, Any]] | None,
    stub_principals: frozenset[str] | None = None,
) -> CallRecorder:
    """Record (and optionally stub LookupEvents for) every client the plugin builds."""
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils import aws_session

    recorder = CallRecorder(lp.user_keys["AccessKeyId"], lookup_pages, stub_principals)
    original = aws_session.BotoClientFactory.client

    def client(self: Any, service: str, region: str | None = None) -> Any:
        built = original(self, service, region)
        credentials = self.session.get_credentials()
        key = credentials.get_frozen_credentials().access_key if credentials else ""
        recorder.attach(built, key)
        return built

    monkeypatch.setattr(aws_session.BotoClientFactory, "client", client)
    return recorder


def lookup_pages(records: list[dict[str, Any]], *, paged: bool = True) -> list[dict[str, Any]]:
    """Two LookupEvents pages (or one) of the trail's management events, then empty pages.

    Every CloudTrail client (each account and Region) answers with the same pages: the
    resolver keys events by account, so a member account's copy is simply more activity."""
    events: list[dict[str, Any]] = [
        {
            "EventId": str(r["eventID"]),
            "EventName": str(r["eventName"]),
            "ReadOnly": str(r.get("readOnly", False)).lower(),
            "EventTime": datetime.fromisoformat(str(r["eventTime"]).replace("Z", "+00:00")),
            "EventSource": str(r["eventSource"]),
            "CloudTrailEvent": json.dumps(r),
        }
        for r in records
        if r.get("managementEvent", True)
    ]
    events.sort(key=lambda e: e["EventTime"], reverse=True)  # LookupEvents: newest first
    spare: list[dict[str, Any]] = [{"Events": []} for _ in range(8)]
    if not paged:  # one page: no second call, which the reader paces at 2 per second
        return [{"Events": events}, *spare]
    half = len(events) // 2
    first: dict[str, Any] = {"Events": events[:half], "NextToken": "page-2"}
    return [first, {"Events": events[half:]}, *spare]


# --------------------------------------------------------------------------- mode runs


@dataclass
class ModeRun:
    """One configuration validated and pulled through the local CE runner by the plugin user
    holding exactly the policies of docs/iam/ for its event source and account scope."""

    source: str
    scope: str
    policy: dict[str, Any]  # the plugin user's
    member_policy: dict[str, Any]  # the member audit role's
    result: PullResult
    recorder: CallRecorder
    queue_url: str
    member_role_arn: str
    trail_keys: list[str]

    @property
    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = self.result.storage["health"]
        return health


def merged(*documents: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [s for d in documents for s in d["Statement"]],
    }


def mode_policies(
    lp: LeastPrivilegeTenant, source: str, scope: str, queue_name: str = "QUEUE_NAME"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(plugin user's policy, member audit role's policy) for a source and scope."""
    values = lp.values(queue_name=queue_name)
    policy = plugin_policy(source, values)
    if scope == SCOPE_ORGANIZATION:
        policy = merged(policy, complete(filled("plugin-policy-organizations.json", values)))
    return policy, member_policy(source, values)


def run_mode(lp: LeastPrivilegeTenant, tmp_path: Path, source: str, scope: str) -> ModeRun:
    with patched_env(lp.server.env()), pytest.MonkeyPatch.context() as patch:
        share_botocore_models(patch)
        queue_url = lp.fresh_queue(f"lp-{source}-{scope}") if source == "sqs" else ""
        policy, member = mode_policies(lp, source, scope, queue_url.rsplit("/", 1)[-1])
        lp.grant(policy)
        lp.grant_member(member)
        pages = lookup_pages(lp.trail_records) if source == "lookup_events" else None
        recorder = install_recorder(lp, patch, pages)
        config = lp.configuration(
            tmp_path, source, queue_url=queue_url, aws={"account_scope": scope}
        )
        result = lp.pull(tmp_path, config)
    return ModeRun(
        source,
        scope,
        policy,
        member,
        result,
        recorder,
        queue_url,
        lp.member_role_arn,
        list(lp.demo.trail_keys),
    )


@pytest.fixture(scope="session")
def mode_runs(
    seeded_least_privilege: LeastPrivilegeTenant, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, str], ModeRun]:
    """``mode_runs(source, scope)``: the run of that configuration (made once per worker)."""
    cache: dict[tuple[str, str], ModeRun] = {}

    def get(source: str, scope: str = SCOPE_SINGLE) -> ModeRun:
        if (source, scope) not in cache:
            tmp = tmp_path_factory.mktemp(f"run-{source}-{scope}")
            cache[(source, scope)] = run_mode(seeded_least_privilege, tmp, source, scope)
        return cache[(source, scope)]

    return get
