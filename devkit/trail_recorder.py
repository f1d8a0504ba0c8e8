"""Turn real boto3 calls against moto into CloudTrail records, and deliver them like CloudTrail.

Why: moto performs the API calls (it issues real ``ASIA…`` keys, keeps the roles, buckets and
objects) but has no CloudTrail that logs them. The plugin, however, only ever sees CloudTrail:
trail files in S3, in CloudTrail's exact record shape and delivery layout. This module closes the
gap: every call made through a *recorded* client becomes one record shaped like the public
trails in ``../shared/datasets/cloudtrail`` (field names, nesting, value formats), attributed to
whoever signed the call:

* an IAM user's ``AKIA…`` key → ``IAMUser``;
* an ``ASIA…`` key that a recorded ``AssumeRole`` returned → ``AssumedRole`` with
  ``sessionContext.sessionIssuer`` (role ARN *with* path), ``creationDate`` and an inherited
  ``sourceIdentity``;
* a client that acts as an AWS service (EC2 fetching its instance role) → ``AWSService``.

Some things a real account logs cannot be produced by calling moto, so they are *synthesised
around a real call* (the key is always one moto really issued, so moto attributes later calls
to the right role): the EC2 instance-role issuance, an IAM Identity Center session
(``GetRoleCredentials``, whose key CloudTrail redacts), a console ``SwitchRole`` with a fresh
key per console request, and the role-account copy of a cross-account ``AssumeRole``.

moto does not evaluate trust policies (every ``AssumeRole`` succeeds), so a role that enforces
``sts:RoleSessionName = ${aws:username}`` is emulated by a *session-name gate*: a botocore
``before-call`` handler answers a violating ``AssumeRole`` with STS's own 403 ``AccessDenied``
before it reaches moto. The caller's boto3 raises ``ClientError`` exactly as against AWS, and
the recorder logs the denied call (``errorCode``, ``errorMessage``, no ``responseElements``).

``flush_to_s3`` writes gzip ``{"Records": [...]}`` objects under
``[<prefix>/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`` named after a 5-minute delivery
slot, records shuffled inside a file, and — as happens in real trails — some issuing
``AssumeRole`` records delivered in a *later* file than the first use of their key. It can also
send the S3 ``ObjectCreated`` notifications (``s3:TestEvent`` first, URL-encoded keys) and write
plain JSON copies for the offline CLI.

Nothing secret is ever written: secret keys never enter a record and the ``sessionToken`` in
``responseElements`` is an opaque random stand-in, not moto's token.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import random
import string
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import boto3
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

EVENT_VERSION = "1.10"
DELIVERY_SLOT = timedelta(minutes=5)
DEFAULT_TLS = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
CLI_USER_AGENT = "aws-cli/2.22.35 md/awscrt#0.23.8 ua/2.0 os/linux#6.8.0 lang/python#3.12.9"
CONSOLE_USER_AGENT = (
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
# What the console's own back-end calls show as user agent in real trails.
CONSOLE_API_USER_AGENT = "AWS Internal"

# S3 operations CloudTrail logs as *data* events (object level and object listing).
S3_DATA_OPERATIONS = frozenset(
    {
        "GetObject",
        "HeadObject",
        "PutObject",
        "DeleteObject",
        "DeleteObjects",
        "CopyObject",
        "ListObjects",
        "ListObjectsV2",
        "ListObjectVersions",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "RestoreObject",
        "SelectObjectContent",
    }
)
# CloudTrail names some API operations differently from the SDK.
EVENT_NAME_ALIASES = {("s3", "ListObjectsV2"): "ListObjects"}
# S3 bucket sub-resources CloudTrail shows as an empty-valued request parameter.
S3_SUBRESOURCES = {
    "GetBucketAcl": "acl",
    "GetBucketPolicy": "policy",
    "GetBucketLocation": "location",
    "GetBucketVersioning": "versioning",
    "GetBucketTagging": "tagging",
    "GetBucketEncryption": "encryption",
    "GetBucketLogging": "logging",
}


class RecorderError(RuntimeError):
    """A recorded call could not be attributed or shaped; the message names the item and fix."""


# --------------------------------------------------------------------------------------------
# Value formats CloudTrail uses


def iso_z(moment: datetime) -> str:
    """``eventTime`` / ``creationDate`` format: second precision, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock_12h(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{hour}:{moment:%M:%S} {half}"


def cloudtrail_expiration(moment: datetime) -> str:
    """STS credential expiration as CloudTrail writes it: ``Jul 10, 2023, 1:12:44 PM``.

    Written by hand (not ``%-d``/``%-I``) because those strftime flags are glibc-only.
    """
    moment = moment.astimezone(UTC)
    return f"{moment:%b} {moment.day}, {moment.year}, {_clock_12h(moment)}"


def cloudtrail_create_date(moment: datetime) -> str:
    """IAM ``createDate`` in responseElements: ``Jul 10, 2023 12:09:21 PM`` (no second comma)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%b} {moment.day}, {moment.year} {_clock_12h(moment)}"


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, Mapping):
        return {_lower_camel(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Who signs a call


@dataclass(frozen=True)
class Actor:
    """Where a call comes from. ``user_agent=None`` logs the real User-Agent botocore sent."""

    source_ip: str
    user_agent: str | None = None


@dataclass(frozen=True)
class Credentials:
    """A key pair (and token) to sign with; kept out of every record and repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_sts(cls, credentials: Mapping[str, Any]) -> Credentials:
        """From an STS ``Credentials`` structure (AssumeRole and friends)."""
        return cls(
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials.get("SessionToken"),
        )

    @classmethod
    def from_access_key(cls, access_key: Mapping[str, Any]) -> Credentials:
        """From IAM ``CreateAccessKey``'s ``AccessKey`` structure."""
        return cls(access_key["AccessKeyId"], access_key["SecretAccessKey"])


@dataclass(frozen=True)
class RootPrincipal:
    """The account's root (moto's default demo key is treated as root)."""

    account_id: str
    access_key_id: str

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        return {
            "type": "Root",
            "principalId": self.account_id,
            "arn": f"arn:aws:iam::{self.account_id}:root",
            "accountId": self.account_id,
            "accessKeyId": access_key_id or self.access_key_id,
        }


@dataclass(frozen=True)
class UserPrincipal:
    """An IAM user and one of its long-term keys."""

    account_id: str
    user_name: str
    user_id: str
    arn: str

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "type": "IAMUser",
            "principalId": self.user_id,
            "arn": self.arn,
            "accountId": self.account_id,
        }
        if access_key_id is not None:
            identity["accessKeyId"] = access_key_id
        identity["userName"] = self.user_name
        return identity


@dataclass(frozen=True)
class ServicePrincipal:
    """An AWS service acting on the account's behalf (EC2 fetching an instance role)."""

    service: str

    def identity(self, access_key_id: str | None = None) -> dict[str, Any]:
        return {"type": "AWSService", "invokedBy": self.service}


@dataclass(frozen=True)
class RoleInfo:
    """What a session's ``sessionIssuer`` needs: the role ARN *with* its path, and its id."""

    arn: str
    role_id: str

    @property
    def account_id(self) -> str:
        return self.arn.split(":")[4]

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class SessionPrincipal:
    """A role session, known by the temporary key its issuance returned."""

    role: RoleInfo
    session_name: str
    access_key_id: str
    created: datetime
    source_identity: str | None = None
    mfa_authenticated: bool = False
    chained: bool = False
    parent_key: str | None = None
    # Console sessions mark each record with a top-level ``sessionCredentialFromConsole``.
    console: bool = False
    # Extra keys of ``sessionContext`` (``ec2RoleDelivery``) and of ``userIdentity``
    # (``onBehalfOf``), as the issuing path adds them.
    context_extra: tuple[tuple[str, Any], ...] = ()
    identity_extra: tuple[tuple[str, Any], ...] = ()

    @property
    def account_id(self) -> str:
        return self.role.account_id

    @property
    def arn(self) -> str:
        """The assumed-role ARN: never carries the role path."""
        return f"arn:aws:sts::{self.account_id}:assumed-role/{self.role.name}/{self.session_name}"

    @property
    def principal_id(self) -> str:
        return f"{self.role.role_id}:{self.session_name}"

    def identity(self, access_key_id: str | None) -> dict[str, Any]:
        context: dict[str, Any] = {
            "sessionIssuer": {
                "type": "Role",
                "principalId": self.role.role_id,
                "arn": self.role.arn,
                "accountId": self.account_id,
                "userName": self.role.name,
            },
            "webIdFederationData": {},
            "attributes": {
                "creationDate": iso_z(self.created),
                "mfaAuthenticated": "true" if self.mfa_authenticated else "false",
            },
        }
        if self.source_identity:
            context["sourceIdentity"] = self.source_identity
        context.update(dict(self.context_extra))
        identity: dict[str, Any] = {
            "type": "AssumedRole",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account_id,
            "accessKeyId": access_key_id if access_key_id is not None else self.access_key_id,
            "sessionContext": context,
        }
        identity.update(dict(self.identity_extra))
        return identity


Principal = RootPrincipal | UserPrincipal | ServicePrincipal | SessionPrincipal


def synthetic_user_id(arn: str) -> str:
    """A stable ``AIDA…`` id for an IAM user.

    Why: moto's ``UserId`` is lowercase random text, while CloudTrail's ``principalId`` for an
    IAM user is always ``AIDA`` + 17 base32 characters. Derived from the ARN so it is stable.
    """
    digest = base64.b32encode(hashlib.sha256(arn.encode()).digest()).decode()
    return "AIDA" + digest[:17]


# --------------------------------------------------------------------------------------------
# Time


class TrailClock:
    """The scenario's clock: moves only when told, plus a few seconds after each recorded call.

    Why: the demo must span realistic times (hours between AssumeRole and use) while running
    in a second, so ``eventTime`` comes from this clock, never from the wall clock.
    """

    def __init__(
        self, start: datetime, *, jitter_seconds: tuple[int, int] = (2, 20), seed: int = 0
    ) -> None:
        if start.tzinfo is None:
            raise RecorderError("TrailClock start must be timezone-aware (use UTC)")
        self._now = start.astimezone(UTC).replace(microsecond=0)
        self._jitter = jitter_seconds
        self._rng = random.Random(seed)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> datetime:
        self._now = moment.astimezone(UTC).replace(microsecond=0)
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``, e.g. ``advance(hours=3)``."""
        self._now += timedelta(**delta)
        return self._now

    def tick(self) -> datetime:
        """The time of the next call; then step a few seconds so calls never share a second."""
        moment = self._now
        self._now += timedelta(seconds=self._rng.randint(*self._jitter))
        return moment


# --------------------------------------------------------------------------------------------
# Files


@dataclass
class TrailFile:
    """One CloudTrail log object: an account, a Region, a delivery minute and its records."""

    account_id: str
    region: str
    delivered_at: datetime
    suffix: str
    records: list[dict[str, Any]]

    def key(self, prefix: str = "") -> str:
        """``[<prefix>/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz``."""
        stamp = self.delivered_at.strftime("%Y%m%dT%H%MZ")
        name = f"{self.account_id}_CloudTrail_{self.region}_{stamp}_{self.suffix}.json.gz"
        folder = (
            f"AWSLogs/{self.account_id}/CloudTrail/{self.region}/"
            f"{self.delivered_at:%Y/%m/%d}/{name}"
        )
        prefix = prefix.strip("/")
        return f"{prefix}/{folder}" if prefix else folder

    def body(self) -> bytes:
        """Compact JSON, as CloudTrail writes it."""
        return json.dumps({"Records": self.records}, separators=(",", ":")).encode()


def _ceil_slot(moment: datetime) -> datetime:
    epoch = moment.timestamp()
    slot = DELIVERY_SLOT.total_seconds()
    return datetime.fromtimestamp(math.ceil(epoch / slot) * slot, UTC)


# --------------------------------------------------------------------------------------------
# The recorder


@dataclass
class _Pending:
    """What ``provide-client-params``/``before-call`` learn before the response arrives."""

    params: dict[str, Any]
    user_agent: str | None = None
    denied: dict[str, Any] | None = None


class TrailRecorder:
    """Attach to boto3 clients; every call through them becomes a CloudTrail record.

    ``denied_request_parameters``: the 26 denied ``AssumeRole`` records in the public datasets
    all have ``"requestParameters": null`` (the session name is not visible). The demo needs
    the attempted session name, so by default the recorder keeps the parameters; pass
    ``False`` to produce the shape seen in those public trails.

    ``late_issuance``: how many issuing ``AssumeRole`` records (besides those marked with
    ``mark_late``) to deliver in a file later than the first use of their key; only issuances
    whose key is used within 20 minutes are eligible, to keep the lateness realistic.
    """

    def __init__(
        self,
        *,
        account_id: str,
        clock: TrailClock,
        region: str = "us-east-1",
        seed: int = 0,
        late_issuance: int = 1,
        denied_request_parameters: bool = True,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.late_issuance = late_issuance
        self.denied_request_parameters = denied_request_parameters
        self.records: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._principals: dict[str, Principal] = {}
        self._roles: dict[str, RoleInfo] = {}
        self._gated_roles: set[str] = set()
        self._late_keys: set[str] = set()
        self._flushed = 0
        self._test_event_sent: set[str] = set()

    # ---- ids --------------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _alnum(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _opaque_token(self) -> str:
        """A session-token-shaped random string: the field exists, no usable token is logged."""
        raw = bytes(self._rng.getrandbits(8) for _ in range(420))
        return "IQoJb3JpZ2luX2Vj" + base64.b64encode(raw).decode()

    # ---- directory of principals and roles ----------------------------------------------------

    def register_root(self, access_key_id: str, account_id: str | None = None) -> RootPrincipal:
        """Calls signed with this key are logged as the account root."""
        principal = RootPrincipal(account_id or self.account_id, access_key_id)
        self._principals[access_key_id] = principal
        return principal

    def register_user(
        self, user: Mapping[str, Any], access_key_id: str, *, user_id: str | None = None
    ) -> UserPrincipal:
        """Register an IAM user's key (``user`` = IAM ``CreateUser``/``GetUser`` ``User``)."""
        arn = str(user["Arn"])
        moto_id = str(user.get("UserId", ""))
        principal = UserPrincipal(
            account_id=arn.split(":")[4],
            user_name=str(user["UserName"]),
            user_id=user_id or (moto_id if moto_id.startswith("AIDA") else synthetic_user_id(arn)),
            arn=arn,
        )
        self._principals[access_key_id] = principal
        return principal

    def register_role(self, role: Mapping[str, Any]) -> RoleInfo:
        """Register a role (IAM ``Role`` structure) so sessions show its path-bearing ARN."""
        info = RoleInfo(arn=str(role["Arn"]), role_id=str(role["RoleId"]))
        self._roles[info.arn] = info
        self._roles[_pathless_role_arn(info.arn)] = info
        return info

    def principal(self, access_key_id: str) -> Principal:
        try:
            return self._principals[access_key_id]
        except KeyError:
            raise RecorderError(
                f"access key {access_key_id} is unknown to the trail recorder: register its "
                "user (register_user) or obtain it through a recorded AssumeRole"
            ) from None

    def session(self, access_key_id: str) -> SessionPrincipal:
        principal = self.principal(access_key_id)
        if not isinstance(principal, SessionPrincipal):
            raise RecorderError(f"access key {access_key_id} is not a role session key")
        return principal

    def _role(self, role_arn: str, role_id: str | None = None) -> RoleInfo:
        info = self._roles.get(role_arn) or self._roles.get(_pathless_role_arn(role_arn))
        if info is not None:
            return info
        if role_id is None:
            raise RecorderError(f"role {role_arn} is unknown: register it with register_role")
        info = RoleInfo(role_arn, role_id)
        self._roles[role_arn] = info
        return info

    # ---- trust emulation ----------------------------------------------------------------------

    def enforce_session_name(self, role_arn: str, enforced: bool = True) -> None:
        """Deny AssumeRole on this role unless the session name is the caller's IAM user name.

        moto does not evaluate trust policies; this gate plays the part of
        ``StringEquals sts:RoleSessionName ${aws:username}`` for the demo. Callers without
        ``aws:username`` (role sessions, services) are denied too, as IAM would.
        """
        target = _pathless_role_arn(role_arn)
        if enforced:
            self._gated_roles.add(target)
        else:
            self._gated_roles.discard(target)

    def mark_late(self, access_key_id: str) -> None:
        """Deliver the AssumeRole that issued this key in a file after its first use."""
        self._late_keys.add(access_key_id)

    # ---- attaching to clients -------------------------------------------------------------------

    def client(
        self,
        service: str,
        credentials: Credentials,
        actor: Actor,
        *,
        region: str | None = None,
        as_service: str | None = None,
    ) -> Any:
        """A boto3 client (endpoint from the environment) whose calls are recorded.

        ``as_service`` logs the calls as made by that AWS service (``AWSService``), e.g. EC2
        fetching an instance role; the credentials then only need to be accepted by moto.
        """
        made = boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region or self.region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )
        return self.attach(made, credentials.access_key_id, actor, as_service=as_service)

    def attach(
        self,
        client: BaseClient,
        access_key_id: str,
        actor: Actor,
        *,
        as_service: str | None = None,
    ) -> BaseClient:
        """Record every call of an existing client signed with ``access_key_id``."""
        signer: Callable[[], Principal]
        if as_service is not None:
            service_principal = ServicePrincipal(as_service)
            actor = Actor(as_service, as_service)

            def signer() -> Principal:
                return service_principal

        else:

            def signer() -> Principal:
                return self.principal(access_key_id)

        pending: dict[int, _Pending] = {}

        def on_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            pending[id(context)] = _Pending(params=dict(params))

        def before_call(
            params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
        ) -> tuple[AWSResponse, dict[str, Any]] | None:
            state = pending.get(id(context))
            if state is None:
                return None
            state.user_agent = params.get("headers", {}).get("User-Agent")
            if model.name == "AssumeRole" and client.meta.service_model.endpoint_prefix == "sts":
                return self._gate(signer(), state)
            return None

        def after_call(
            http_response: AWSResponse,
            parsed: dict[str, Any],
            model: Any,
            context: dict[str, Any],
            **_: Any,
        ) -> None:
            state = pending.pop(id(context), None)
            if state is None:
                return
            self._record_call(
                client=client,
                operation=model.name,
                state=state,
                http_response=http_response,
                parsed=parsed,
                caller=signer(),
                access_key_id=None if as_service else access_key_id,
                actor=actor,
                region=str(context.get("client_region") or client.meta.region_name),
            )

        # botocore types handlers as returning None; before-call may answer the call itself.
        events: Any = client.meta.events
        events.register("provide-client-params", on_params)
        events.register("before-call", before_call)
        events.register("after-call", after_call)
        return client

    # ---- the gate --------------------------------------------------------------------------------

    def _gate(
        self, caller: Principal, state: _Pending
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        role_arn = str(state.params.get("RoleArn", ""))
        if _pathless_role_arn(role_arn) not in self._gated_roles:
            return None
        session_name = state.params.get("RoleSessionName")
        if isinstance(caller, UserPrincipal) and session_name == caller.user_name:
            return None
        message = _denied_message(caller, role_arn)
        state.denied = {"Code": "AccessDenied", "Message": message}
        request_id = self._uuid()
        parsed = {
            "Error": {"Type": "Sender", "Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 403},
        }
        return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), parsed  # type: ignore[arg-type]

    # ---- building records ------------------------------------------------------------------------

    def _base_record(
        self,
        *,
        caller: Principal,
        access_key_id: str | None,
        event_time: datetime,
        event_source: str,
        event_name: str,
        region: str,
        actor: Actor,
        user_agent: str | None,
        recipient: str | None = None,
    ) -> dict[str, Any]:
        return {
            "eventVersion": EVENT_VERSION,
            "userIdentity": caller.identity(access_key_id),
            "eventTime": iso_z(event_time),
            "eventSource": event_source,
            "eventName": event_name,
            "awsRegion": region,
            "sourceIPAddress": actor.source_ip,
            "userAgent": actor.user_agent or user_agent or "aws-sdk",
            "_recipient": recipient or _caller_account(caller, self.account_id),
        }

    def _finish(
        self,
        record: dict[str, Any],
        *,
        read_only: bool,
        management: bool,
        host: str | None,
        request_id: str | None,
        resources: list[dict[str, Any]] | None = None,
        shared_event_id: str | None = None,
        event_type: str = "AwsApiCall",
        from_console: bool = False,
    ) -> dict[str, Any]:
        """Append the trailing fields in CloudTrail's order and keep the record.

        Console sign-in events carry no ``requestID`` (as in the public trails).
        """
        recipient = record.pop("_recipient")
        if request_id is not None:
            record["requestID"] = request_id
        record["eventID"] = self._uuid()
        record["readOnly"] = read_only
        if resources:
            record["resources"] = resources
        record["eventType"] = event_type
        record["managementEvent"] = management
        record["recipientAccountId"] = recipient
        if shared_event_id:
            record["sharedEventID"] = shared_event_id
        record["eventCategory"] = "Management" if management else "Data"
        if from_console:
            record["sessionCredentialFromConsole"] = "true"
        if host is not None:
            record["tlsDetails"] = {**DEFAULT_TLS, "clientProvidedHostHeader": host}
        self.records.append(record)
        return record

    def _record_call(
        self,
        *,
        client: BaseClient,
        operation: str,
        state: _Pending,
        http_response: AWSResponse,
        parsed: dict[str, Any],
        caller: Principal,
        access_key_id: str | None,
        actor: Actor,
        region: str,
    ) -> None:
        service = client.meta.service_model.endpoint_prefix
        event_time = self.clock.tick()
        if service == "iam":
            region = "us-east-1"  # IAM is global; CloudTrail logs it in us-east-1
        event_name = EVENT_NAME_ALIASES.get((service, operation), operation)
        record = self._base_record(
            caller=caller,
            access_key_id=access_key_id,
            event_time=event_time,
            event_source=f"{service}.amazonaws.com",
            event_name=event_name,
            region=region,
            actor=actor,
            user_agent=state.user_agent,
        )
        error = state.denied or (parsed.get("Error") if http_response.status_code >= 300 else None)
        if error:
            record["errorCode"] = str(error.get("Code", "Unknown"))
            record["errorMessage"] = str(error.get("Message", ""))
        params = state.params
        is_service = isinstance(caller, ServicePrincipal)
        denied_assume = bool(error) and operation == "AssumeRole"
        if denied_assume and not self.denied_request_parameters:
            record["requestParameters"] = None
        else:
            record["requestParameters"] = _request_parameters(service, operation, params, region)
        record["responseElements"] = None
        resources: list[dict[str, Any]] | None = None
        shared: str | None = None
        if not error:
            record["responseElements"] = self._response_elements(
                service, operation, params, parsed, caller, event_time
            )
            if service == "sts" and operation == "AssumeRole":
                resources = [_role_resource(str(params["RoleArn"]))]
        if service == "s3":
            record["additionalEventData"] = self._s3_additional_data(http_response)
            resources = resources or _s3_resources(operation, params, self.account_id)
        read_only = _is_read_only(operation)
        management = not (service == "s3" and operation in S3_DATA_OPERATIONS)
        if is_service:
            shared = self._uuid()
        request_id = self._alnum(16, string.ascii_uppercase + string.digits)
        if service != "s3":
            request_id = self._uuid()
        host = None if is_service else _host(service, region, params)
        cross_account = (
            service == "sts"
            and operation == "AssumeRole"
            and not error
            and str(params["RoleArn"]).split(":")[4] != _caller_account(caller, self.account_id)
        )
        if cross_account:
            shared = self._uuid()
        final = self._finish(
            record,
            read_only=read_only,
            management=management,
            host=host,
            request_id=request_id,
            resources=resources,
            shared_event_id=shared,
            from_console=isinstance(caller, SessionPrincipal) and caller.console,
        )
        if cross_account:
            self._role_account_copy(final)

    def _response_elements(
        self,
        service: str,
        operation: str,
        params: Mapping[str, Any],
        parsed: Mapping[str, Any],
        caller: Principal,
        event_time: datetime,
    ) -> dict[str, Any] | None:
        if service == "sts" and operation == "AssumeRole":
            return self._issue_session(params, parsed, caller, event_time)
        if service == "iam" and operation == "CreateRole":
            role = parsed["Role"]
            self.register_role(role)
            document = str(params["AssumeRolePolicyDocument"])
            return {
                "role": {
                    "assumeRolePolicyDocument": quote(document, safe=""),
                    "arn": role["Arn"],
                    "roleId": role["RoleId"],
                    "createDate": cloudtrail_create_date(event_time),
                    "roleName": role["RoleName"],
                    "path": role.get("Path", "/"),
                }
            }
        if service == "iam" and operation == "CreateAccessKey":
            key = parsed["AccessKey"]
            return {
                "accessKey": {
                    "accessKeyId": key["AccessKeyId"],
                    "status": key.get("Status", "Active"),
                    "userName": key["UserName"],
                    "createDate": cloudtrail_create_date(event_time),
                }
            }
        return None

    def _issue_session(
        self,
        params: Mapping[str, Any],
        parsed: Mapping[str, Any],
        caller: Principal,
        event_time: datetime,
    ) -> dict[str, Any]:
        """Register the session moto really issued and shape AssumeRole's responseElements."""
        credentials = parsed["Credentials"]
        assumed = parsed["AssumedRoleUser"]
        role_id = str(assumed["AssumedRoleId"]).split(":", 1)[0]
        role = self._role(str(params["RoleArn"]), role_id)
        parent = caller if isinstance(caller, SessionPrincipal) else None
        source_identity = (parent.source_identity if parent else None) or params.get(
            "SourceIdentity"
        )
        duration = int(params.get("DurationSeconds") or 3600)
        session = SessionPrincipal(
            role=role,
            session_name=str(params["RoleSessionName"]),
            access_key_id=str(credentials["AccessKeyId"]),
            created=event_time,
            source_identity=source_identity,
            chained=parent is not None,
            parent_key=parent.access_key_id if parent else None,
            context_extra=(
                (("ec2RoleDelivery", "2.0"),)
                if isinstance(caller, ServicePrincipal) and caller.service == "ec2.amazonaws.com"
                else ()
            ),
        )
        self._principals[session.access_key_id] = session
        elements: dict[str, Any] = {
            "credentials": {
                "accessKeyId": session.access_key_id,
                "sessionToken": self._opaque_token(),
                "expiration": cloudtrail_expiration(event_time + timedelta(seconds=duration)),
            }
        }
        if not isinstance(caller, ServicePrincipal):
            elements["assumedRoleUser"] = {
                "assumedRoleId": session.principal_id,
                "arn": session.arn,
            }
        if params.get("Policy"):
            elements["packedPolicySize"] = int(parsed.get("PackedPolicySize") or 6)
        if source_identity:
            elements["sourceIdentity"] = source_identity
        return elements

    def _role_account_copy(self, record: dict[str, Any]) -> None:
        """The copy a cross-account AssumeRole leaves in the role's account."""
        caller = record["userIdentity"]
        role_account = str(record["requestParameters"]["roleArn"]).split(":")[4]
        copy = json.loads(json.dumps(record))
        copy["userIdentity"] = {
            "type": "AWSAccount",
            "principalId": caller.get("principalId", ""),
            "accountId": caller.get("accountId", ""),
        }
        copy["eventID"] = self._uuid()
        copy["recipientAccountId"] = role_account
        self.records.append(copy)

    def _s3_additional_data(self, http_response: AWSResponse) -> dict[str, Any]:
        length = http_response.headers.get("content-length") if http_response.headers else None
        return {
            "SignatureVersion": "SigV4",
            "CipherSuite": DEFAULT_TLS["cipherSuite"],
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": base64.b64encode(
                bytes(self._rng.getrandbits(8) for _ in range(57))
            ).decode(),
            "bytesTransferredOut": int(length) if length and str(length).isdigit() else 0,
        }

    # ---- records moto cannot produce --------------------------------------------------------

    def record_denied_assume_role(
        self,
        caller: UserPrincipal | SessionPrincipal,
        role_arn: str,
        session_name: str,
        actor: Actor,
        *,
        user_agent: str = CLI_USER_AGENT,
        region: str | None = None,
    ) -> dict[str, Any]:
        """A denied AssumeRole without calling moto (the gate does the same for real calls)."""
        region = region or self.region
        record = self._base_record(
            caller=caller,
            access_key_id=caller.access_key_id if isinstance(caller, SessionPrincipal) else None,
            event_time=self.clock.tick(),
            event_source="sts.amazonaws.com",
            event_name="AssumeRole",
            region=region,
            actor=actor,
            user_agent=user_agent,
        )
        record["errorCode"] = "AccessDenied"
        record["errorMessage"] = _denied_message(caller, role_arn)
        record["requestParameters"] = (
            {"roleArn": role_arn, "roleSessionName": session_name}
            if self.denied_request_parameters
            else None
        )
        record["responseElements"] = None
        return self._finish(
            record,
            read_only=True,
            management=True,
            host=f"sts.{region}.amazonaws.com",
            request_id=self._uuid(),
        )

    def _unrecorded_assume(
        self, role_arn: str, session_name: str, duration: int = 3600
    ) -> tuple[Credentials, str]:
        """A real moto AssumeRole nobody logs: the key for a synthesised issuance path."""
        sts = boto3.client("sts", region_name=self.region)
        answer = sts.assume_role(
            RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration
        )
        role_id = answer["AssumedRoleUser"]["AssumedRoleId"].split(":", 1)[0]
        return Credentials.from_sts(answer["Credentials"]), role_id

    def service_session(
        self,
        role_arn: str,
        *,
        service: str = "ec2.amazonaws.com",
        session_name: str,
        credentials: Credentials,
    ) -> Credentials:
        """An AWS service assumes a role (EC2 instance profile): a real, recorded AssumeRole.

        The call really goes to moto through a client that the recorder logs as ``AWSService``
        (no caller IP, no TLS details, a ``sharedEventID``, no ``assumedRoleUser`` — as in the
        public trails). ``credentials`` only have to be accepted by moto.
        """
        sts = self.client("sts", credentials, Actor(service, service), as_service=service)
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        return Credentials.from_sts(answer["Credentials"])

    def identity_center_session(
        self,
        role_arn: str,
        *,
        user_name: str,
        user_id: str,
        identity_store_id: str,
        permission_set: str,
        actor: Actor,
        on_behalf_of_in_actions: bool = True,
    ) -> Credentials:
        """An IAM Identity Center user opens a role session from the access portal.

        The key is issued for real by moto; the trail shows only ``GetRoleCredentials``
        (``sso.amazonaws.com``, ``IdentityCenterUser``), which redacts the credentials, so the
        key cannot be linked from the trail — the session is recognised by its role
        (``AWSReservedSSO_*`` under ``/aws-reserved/sso.amazonaws.com/``) and ``onBehalfOf``.
        """
        event_time = self.clock.tick()
        credentials, role_id = self._unrecorded_assume(role_arn, user_name)
        store_arn = f"arn:aws:identitystore::{self.account_id}:identitystore/{identity_store_id}"
        on_behalf = {"userId": user_id, "identityStoreArn": store_arn}
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": {
                "type": "IdentityCenterUser",
                "accountId": self.account_id,
                "onBehalfOf": on_behalf,
                "credentialId": self._alnum(48),
            },
            "eventTime": iso_z(event_time),
            "eventSource": "sso.amazonaws.com",
            "eventName": "GetRoleCredentials",
            "awsRegion": self.region,
            "sourceIPAddress": actor.source_ip,
            "userAgent": actor.user_agent or CONSOLE_USER_AGENT,
            "requestParameters": {"roleName": permission_set, "accountId": self.account_id},
            "responseElements": None,
            "_recipient": self.account_id,
        }
        self._finish(
            record,
            read_only=True,
            management=True,
            host=f"portal.sso.{self.region}.amazonaws.com",
            request_id=self._uuid(),
        )
        session = SessionPrincipal(
            role=self._role(role_arn, role_id),
            session_name=user_name,
            access_key_id=credentials.access_key_id,
            created=event_time,
            identity_extra=(("onBehalfOf", on_behalf),) if on_behalf_of_in_actions else (),
        )
        self._principals[credentials.access_key_id] = session
        return credentials

    def console_switch_role(
        self,
        user: UserPrincipal,
        role_arn: str,
        actor: Actor,
        *,
        log_console_login: bool = True,
    ) -> ConsoleSession:
        """An IAM user signs in to the console and switches to a role.

        Logs ``ConsoleLogin`` (optional) and ``SwitchRole`` with
        ``additionalEventData.SwitchFrom``; the console names the session after the user.
        Console requests each use a fresh key (``ConsoleSession.client``), grouped in the trail
        by ``principalId`` + ``creationDate``.
        """
        agent = actor.user_agent or CONSOLE_USER_AGENT
        if log_console_login:
            record = self._base_record(
                caller=user,
                access_key_id=None,
                event_time=self.clock.tick(),
                event_source="signin.amazonaws.com",
                event_name="ConsoleLogin",
                region=self.region,
                actor=actor,
                user_agent=agent,
            )
            record["requestParameters"] = None
            record["responseElements"] = {"ConsoleLogin": "Success"}
            record["additionalEventData"] = {
                "LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No",
                "MFAUsed": "No",
            }
            self._finish(
                record,
                read_only=False,
                management=True,
                host="signin.aws.amazon.com",
                request_id=None,
                event_type="AwsConsoleSignIn",
            )
        switched_at = self.clock.tick()
        credentials, role_id = self._unrecorded_assume(role_arn, user.user_name)
        session = SessionPrincipal(
            role=self._role(role_arn, role_id),
            session_name=user.user_name,
            access_key_id=credentials.access_key_id,
            created=switched_at,
            console=True,
        )
        self._principals[credentials.access_key_id] = session
        record = self._base_record(
            caller=session,
            access_key_id=credentials.access_key_id,
            event_time=switched_at,
            event_source="signin.amazonaws.com",
            event_name="SwitchRole",
            region=self.region,
            actor=actor,
            user_agent=agent,
        )
        record["requestParameters"] = None
        record["responseElements"] = {"SwitchRole": "Success"}
        record["additionalEventData"] = {
            "RedirectTo": "https://console.aws.amazon.com/console/home",
            "SwitchTo": session.role.arn,
            "SwitchFrom": user.arn,
        }
        self._finish(
            record,
            read_only=False,
            management=True,
            host="signin.aws.amazon.com",
            request_id=None,
            event_type="AwsConsoleSignIn",
        )
        return ConsoleSession(self, session, actor)

    # ---- delivery ----------------------------------------------------------------------------

    def plan_files(self) -> list[TrailFile]:
        """Group the not-yet-delivered records into CloudTrail files (pure but for the rng).

        Each record is delivered 1-5 minutes after its call, rounded up to a 5-minute slot; a
        slot with several records may be split over up to three files; order inside a file
        is random; late issuances go one or two slots after the slot of their key's first use.
        """
        records = self.records[self._flushed :]
        delivery: dict[int, datetime] = {}
        for index, record in enumerate(records):
            moment = _parse_time(record["eventTime"])
            delivery[index] = _ceil_slot(moment + timedelta(seconds=self._rng.randint(60, 300)))
        self._place_late_issuances(records, delivery)
        groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = {}
        for index, record in enumerate(records):
            group = (record["recipientAccountId"], record["awsRegion"], delivery[index])
            groups.setdefault(group, []).append(record)
        files: list[TrailFile] = []
        for (account, region, slot), grouped in sorted(groups.items(), key=lambda g: g[0][2]):
            members = list(grouped)
            self._rng.shuffle(members)
            parts = 1 if len(members) < 3 else self._rng.randint(1, min(3, len(members) // 2))
            for part in range(parts):
                chunk = members[part::parts]
                files.append(TrailFile(account, region, slot, self._alnum(16), chunk))
        return files

    def _place_late_issuances(
        self, records: list[dict[str, Any]], delivery: dict[int, datetime]
    ) -> None:
        first_use: dict[str, int] = {}
        for index, record in enumerate(records):
            key = (record.get("userIdentity") or {}).get("accessKeyId")
            if key and (key not in first_use or _earlier(records, index, first_use[key])):
                first_use[key] = index
        issuances: list[tuple[int, str]] = []
        for index, record in enumerate(records):
            if record["eventName"] != "AssumeRole" or record.get("errorCode"):
                continue
            key = ((record.get("responseElements") or {}).get("credentials") or {}).get(
                "accessKeyId"
            )
            if key and key in first_use:
                issuances.append((index, key))
        chosen = {key for _, key in issuances if key in self._late_keys}
        eligible = [
            (index, key)
            for index, key in issuances
            if key not in chosen
            and _parse_time(records[first_use[key]]["eventTime"])
            - _parse_time(records[index]["eventTime"])
            <= timedelta(minutes=20)
        ]
        for _, key in self._rng.sample(eligible, min(self.late_issuance, len(eligible))):
            chosen.add(key)
        for index, key in issuances:
            if key in chosen:
                use_slot = delivery[first_use[key]]
                delivery[index] = use_slot + DELIVERY_SLOT * self._rng.randint(1, 2)

    def flush_to_s3(
        self,
        s3_client: Any,
        bucket: str,
        prefix: str = "",
        *,
        sqs_client: Any = None,
        queue_url: str | None = None,
        local_dir: Path | None = None,
    ) -> list[str]:
        """Write the pending records as CloudTrail files; returns the object keys in order.

        With ``sqs_client`` + ``queue_url`` it also sends what S3 sends for each new object
        (an ``s3:TestEvent`` first, once per queue; keys URL-encoded with ``/`` kept). With
        ``local_dir`` it writes plain-JSON copies (same tree, ``.json``) for offline tools.
        """
        files = self.plan_files()
        if sqs_client is not None and queue_url and queue_url not in self._test_event_sent:
            sqs_client.send_message(
                QueueUrl=queue_url, MessageBody=json.dumps(self._test_event(bucket))
            )
            self._test_event_sent.add(queue_url)
        keys: list[str] = []
        for trail_file in files:
            key = trail_file.key(prefix)
            body = trail_file.body()
            packed = gzip.compress(body, mtime=int(trail_file.delivered_at.timestamp()))
            answer = s3_client.put_object(
                Bucket=bucket, Key=key, Body=packed, ContentType="application/json"
            )
            keys.append(key)
            if local_dir is not None:
                target = Path(local_dir) / key.removesuffix(".gz")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
            if sqs_client is not None and queue_url:
                event = self._object_created_event(
                    bucket, key, len(packed), str(answer.get("ETag", "")), trail_file
                )
                sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
        self._flushed = len(self.records)
        return keys

    def _test_event(self, bucket: str) -> dict[str, Any]:
        return {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": iso_z(self.clock.now()).replace("Z", ".000Z"),
            "Bucket": bucket,
            "RequestId": self._alnum(16, string.ascii_uppercase + string.digits),
            "HostId": self._alnum(76),
        }

    def _object_created_event(
        self, bucket: str, key: str, size: int, etag: str, trail_file: TrailFile
    ) -> dict[str, Any]:
        """The S3 event notification for one delivered object (``Put`` by CloudTrail)."""
        delivered = trail_file.delivered_at + timedelta(seconds=self._rng.randint(0, 59))
        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": trail_file.region,
                    "eventTime": delivered.strftime("%Y-%m-%dT%H:%M:%S.") + "000Z",
                    "eventName": "ObjectCreated:Put",
                    "userIdentity": {"principalId": "AWS:AROAQYTBK6ZCBXZ7EXAMPL:regional-trail"},
                    "requestParameters": {"sourceIPAddress": "cloudtrail.amazonaws.com"},
                    "responseElements": {
                        "x-amz-request-id": self._alnum(16, string.ascii_uppercase + string.digits),
                        "x-amz-id-2": self._alnum(76),
                    },
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "cloudtrail-new-objects",
                        "bucket": {
                            "name": bucket,
                            "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                            "arn": f"arn:aws:s3:::{bucket}",
                        },
                        "object": {
                            "key": quote_plus(key, safe="/"),
                            "size": size,
                            "eTag": etag.strip('"'),
                            "sequencer": f"{int(delivered.timestamp() * 1000):X}".rjust(18, "0"),
                        },
                    },
                }
            ]
        }


@dataclass
class ConsoleSession:
    """A console role session: every request is signed with a fresh key, as the console does."""

    recorder: TrailRecorder
    session: SessionPrincipal
    actor: Actor
    keys: list[str] = field(default_factory=list)

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A recorded client holding a *new* key of the same console session."""
        credentials, _ = self.recorder._unrecorded_assume(
            self.session.role.arn, self.session.session_name
        )
        fresh = replace(self.session, access_key_id=credentials.access_key_id)
        self.recorder._principals[credentials.access_key_id] = fresh
        self.keys.append(credentials.access_key_id)
        actor = Actor(self.actor.source_ip, CONSOLE_API_USER_AGENT)
        return self.recorder.client(service, credentials, actor, region=region)


# --------------------------------------------------------------------------------------------
# Shaping helpers


def _pathless_role_arn(arn: str) -> str:
    """``arn:aws:iam::1:role/a/b/Name`` → ``arn:aws:iam::1:role/Name`` (for lookups)."""
    head, _, rest = arn.partition(":role/")
    return f"{head}:role/{rest.rsplit('/', 1)[-1]}" if rest else arn


def _caller_account(caller: Principal, default: str) -> str:
    if isinstance(caller, ServicePrincipal):
        return default
    return caller.account_id


def _denied_message(caller: Principal, role_arn: str) -> str:
    who = caller.arn if isinstance(caller, UserPrincipal | SessionPrincipal) else "anonymous"
    return f"User: {who} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


def _role_resource(role_arn: str) -> dict[str, Any]:
    return {"accountId": role_arn.split(":")[4], "type": "AWS::IAM::Role", "ARN": role_arn}


def _is_read_only(operation: str) -> bool:
    return operation.startswith(("Get", "List", "Describe", "Head", "Lookup")) or operation in {
        "AssumeRole",
        "GetCallerIdentity",
    }


def _host(service: str, region: str, params: Mapping[str, Any]) -> str:
    if service == "iam":
        return "iam.amazonaws.com"
    if service == "s3":
        bucket = params.get("Bucket")
        return f"{bucket}.s3.{region}.amazonaws.com" if bucket else f"s3.{region}.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


def _request_parameters(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> dict[str, Any] | None:
    """``requestParameters`` as CloudTrail shapes them for the calls the demo makes."""
    if service == "sts" and operation == "AssumeRole":
        shaped: dict[str, Any] = {
            "roleArn": params["RoleArn"],
            "roleSessionName": params["RoleSessionName"],
        }
        for source, target in (
            ("DurationSeconds", "durationSeconds"),
            ("ExternalId", "externalId"),
            ("SourceIdentity", "sourceIdentity"),
            ("Policy", "policy"),
            ("SerialNumber", "serialNumber"),
        ):
            if params.get(source) is not None:
                shaped[target] = params[source]
        if params.get("Tags"):
            shaped["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in params["Tags"]]
        return shaped
    if service == "s3":
        return _s3_request_parameters(operation, params, region)
    if service == "iam" and params.get("Tags"):
        params = {
            **params,
            "Tags": [{"key": t["Key"], "value": t["Value"]} for t in params["Tags"]],
        }
    shaped = {_lower_camel(k): _jsonable(v) for k, v in params.items()}
    return shaped or None


def _s3_request_parameters(
    operation: str, params: Mapping[str, Any], region: str
) -> dict[str, Any]:
    bucket = params.get("Bucket")
    if bucket is None:
        return {"Host": f"s3.{region}.amazonaws.com"}
    shaped: dict[str, Any] = {}
    if operation == "ListObjectsV2":
        shaped["list-type"] = "2"
    shaped["bucketName"] = bucket
    if operation in ("ListObjects", "ListObjectsV2"):
        shaped["encoding-type"] = params.get("EncodingType", "url")
        shaped["prefix"] = params.get("Prefix", "")
        if params.get("MaxKeys") is not None:
            shaped["max-keys"] = str(params["MaxKeys"])
    shaped["Host"] = f"{bucket}.s3.{region}.amazonaws.com"
    if params.get("Key") is not None:
        shaped["key"] = params["Key"]
    if operation in S3_SUBRESOURCES:
        shaped[S3_SUBRESOURCES[operation]] = ""
    return shaped


def _s3_resources(
    operation: str, params: Mapping[str, Any], account_id: str
) -> list[dict[str, Any]] | None:
    bucket = params.get("Bucket")
    if not bucket:
        return None
    bucket_resource = {
        "accountId": account_id,
        "type": "AWS::S3::Bucket",
        "ARN": f"arn:aws:s3:::{bucket}",
    }
    if params.get("Key") is not None:
        return [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{params['Key']}"},
            bucket_resource,
        ]
    return [bucket_resource]


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _earlier(records: list[dict[str, Any]], left: int, right: int) -> bool:
    return _parse_time(records[left]["eventTime"]) < _parse_time(records[right]["eventTime"])


def iter_records(files: Iterable[TrailFile]) -> Iterator[dict[str, Any]]:
    """Every record of some planned files (tests and offline tools)."""
    for trail_file in files:
        yield from trail_file.records


__all__ = [
    "Actor",
    "ConsoleSession",
    "Credentials",
    "RecorderError",
    "RoleInfo",
    "RootPrincipal",
    "ServicePrincipal",
    "SessionPrincipal",
    "TrailClock",
    "TrailFile",
    "TrailRecorder",
    "UserPrincipal",
    "cloudtrail_create_date",
    "cloudtrail_expiration",
    "iso_z",
    "iter_records",
    "synthetic_user_id",
]
