"""The normalised CloudTrail event: only the fields identity resolution and alerting read.

Each class below *declares* one part of a CloudTrail record, with CloudTrail's own field
names, so a reader can hold this file next to a record. The declarations carry no data
themselves (``__slots__ = ()``); two implementations are derived from them mechanically:

* the **fast path** (``fast_model``): ``msgspec`` Structs that decode straight from the JSON
  bytes in C, skipping every field not declared here;
* the **stdlib path** (``stdlib_model``): thin read-only views over the ``dict`` that
  ``json.loads`` produced, which validate a field only when it is read.

Both give the same values for every declared field (``tests/cloudtrail`` checks it on real
and generated data): a field holding a value of another type than declared reads as absent
(``None``), because CloudTrail's schema varies by service (``responseElements.role`` is an
object for IAM and a string for Lambda) and one odd field must not lose the whole event.
A record is rejected only when it is not an object, when ``eventID``/``eventName``/
``eventSource``/``eventTime`` are not strings, or when ``userIdentity`` is not an object.

``eventTime`` (and ``sessionContext.attributes.creationDate``) stay the ISO-8601 strings
CloudTrail wrote: 95 % of events never need time arithmetic, so the resolver parses a time
once, where it needs one (issuance, held events, trust-policy changes), with
``timeparse.parse_iso``. Secrets are never declared: ``credentials.sessionToken`` is skipped
by both decoders and cannot reach an alert, a log line or the stored index.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Final


class Model:
    """A declared part of a CloudTrail record (never instantiated directly)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{declaration_of(type(self)).__name__}({to_dict(self)!r})"


class SessionIssuer(Model):
    """The role (or, for federation tokens, the IAM user) whose permissions a session uses."""

    __slots__ = ()
    type: str | None
    principalId: str | None
    arn: str | None
    accountId: str | None
    userName: str | None


class SessionAttributes(Model):
    __slots__ = ()
    creationDate: str | None
    mfaAuthenticated: str | None


class SessionContext(Model):
    __slots__ = ()
    sessionIssuer: SessionIssuer | None
    attributes: SessionAttributes | None
    sourceIdentity: str | None
    ec2RoleDelivery: str | None


class OnBehalfOf(Model):
    """The IAM Identity Center user an identity-enhanced session acts for."""

    __slots__ = ()
    userId: str | None
    identityStoreArn: str | None


class UserIdentity(Model):
    __slots__ = ()
    accessKeyId: str | None  # first: read for every event (see TrailEvent)
    type: str | None
    principalId: str | None
    arn: str | None
    accountId: str | None
    userName: str | None
    invokedBy: str | None
    identityProvider: str | None
    sessionContext: SessionContext | None
    onBehalfOf: OnBehalfOf | None


class RequestParameters(Model):
    """Request fields of STS issuance calls, IAM trust-policy changes, and the names of the
    resources a call acted on."""

    __slots__ = ()
    roleArn: str | None
    roleSessionName: str | None
    sourceIdentity: str | None
    durationSeconds: int | None
    roleName: str | None
    path: str | None
    policyDocument: str | None
    assumeRolePolicyDocument: str | None
    name: str | None
    principalArn: str | None
    # Names of what a call acted on, shown in activity alerts (``alerts.resources``).
    bucketName: str | None
    key: str | None
    userName: str | None
    groupName: str | None
    policyArn: str | None
    instanceId: str | None
    functionName: str | None
    secretId: str | None
    keyId: str | None
    tableName: str | None
    queueUrl: str | None
    topicArn: str | None


class Credentials(Model):
    """The issued key (``sessionToken`` is deliberately not declared)."""

    __slots__ = ()
    accessKeyId: str | None
    expiration: str | None


class AssumedRoleUser(Model):
    __slots__ = ()
    arn: str | None
    assumedRoleId: str | None


class FederatedUser(Model):
    __slots__ = ()
    arn: str | None
    federatedUserId: str | None


class ResponseElements(Model):
    __slots__ = ()
    credentials: Credentials | None
    assumedRoleUser: AssumedRoleUser | None
    federatedUser: FederatedUser | None
    subject: str | None
    subjectType: str | None
    issuer: str | None
    provider: str | None
    audience: str | None
    subjectFromWebIdentityToken: str | None
    sourceIdentity: str | None
    SwitchRole: str | None


class AdditionalEventData(Model):
    __slots__ = ()
    SwitchFrom: str | None


class Addendum(Model):
    """A late correction of an event delivered before (``originalEventID``)."""

    __slots__ = ()
    reason: str | None
    originalEventID: str | None
    originalRequestID: str | None


class Resource(Model):
    """One entry of a record's ``resources`` list: only its ARN is read (activity alerts name
    it). Declared, not kept as raw JSON: the typed decoder then builds one small Struct per
    entry and skips ``type`` and ``accountId``, where a JSON list would cost a dict per
    entry that the garbage collector must also track."""

    __slots__ = ()
    ARN: str | None


class TrailEvent(Model):
    """One CloudTrail record.

    The fields the resolver reads for every event (``eventID``, ``eventName``,
    ``userIdentity``, ``addendum``) come first, after the required ones: the msgspec Structs
    lay fields out in declaration order, so they share the first 64 bytes of a decoded
    event instead of spanning three cache lines (a trail file's events are no longer in
    cache when they are resolved; each line touched costs a memory access).
    """

    __slots__ = ()
    eventID: str
    eventName: str
    eventSource: str
    eventTime: str
    userIdentity: UserIdentity | None
    addendum: Addendum | None
    eventType: str | None
    awsRegion: str | None
    recipientAccountId: str | None
    sourceIPAddress: str | None
    userAgent: str | None
    errorCode: str | None
    readOnly: bool | None
    managementEvent: bool | None
    sharedEventID: str | None
    sessionCredentialFromConsole: str | None
    requestParameters: RequestParameters | None
    responseElements: ResponseElements | None
    additionalEventData: AdditionalEventData | None
    resources: list[Resource] | None


REQUIRED_FIELDS: Final = ("eventID", "eventName", "eventSource", "eventTime")


@dataclass(frozen=True, slots=True)
class Field:
    """One declared field: its name, scalar type (``str``/``bool``/``int``) or nested part
    (``many``: a list of that part)."""

    name: str
    scalar: type | None
    part: type[Model] | None
    required: bool
    many: bool = False


_FIELDS: dict[type[Model], tuple[Field, ...]] = {}


def fields_of(part: type[Model]) -> tuple[Field, ...]:
    """The declared fields of ``part``, in declaration order."""
    known = _FIELDS.get(part)
    if known is None:
        known = _FIELDS[part] = _read_fields(part)
    return known


def _read_fields(part: type[Model]) -> tuple[Field, ...]:
    hints = typing.get_type_hints(part)
    declared = [n for n in part.__annotations__ if n in hints]
    out = []
    for name in declared:
        hint = hints[name]
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        target = args[0]
        if isinstance(target, type) and issubclass(target, Model):
            out.append(Field(name, None, target, False))
        elif typing.get_origin(target) is list and _is_model(typing.get_args(target)[0]):
            out.append(Field(name, None, typing.get_args(target)[0], False, many=True))
        else:
            out.append(Field(name, target, None, name in REQUIRED_FIELDS and part is TrailEvent))
    return tuple(out)


def _is_model(target: object) -> bool:
    return isinstance(target, type) and issubclass(target, Model)


def to_dict(part: Model) -> dict[str, Any]:
    """The declared fields that are present, as CloudTrail-shaped JSON (absent ones left out).

    Both decoders' objects give the same dict for the same record; the resolver stores held
    events in this form and ``stdlib_model.event_from_mapping`` reads it back.
    """
    out: dict[str, Any] = {}
    for field in fields_of(declaration_of(type(part))):
        value = getattr(part, field.name)
        if value is None:
            continue
        if field.many:
            out[field.name] = [to_dict(item) for item in value]
        else:
            out[field.name] = to_dict(value) if field.part is not None else value
    return out


def declaration_of(cls: type) -> type[Model]:
    """The declared class an implementation (Struct or view) was derived from."""
    return typing.cast(type[Model], cls.__mro__[_declaration_depth(cls)])


def _declaration_depth(cls: type) -> int:
    for depth, klass in enumerate(cls.__mro__):
        if klass in DECLARATIONS:
            return depth
    raise TypeError(f"{cls.__name__} is not derived from a CloudTrail model declaration")


DECLARATIONS: Final = frozenset(
    {
        SessionIssuer,
        SessionAttributes,
        SessionContext,
        OnBehalfOf,
        UserIdentity,
        RequestParameters,
        Credentials,
        AssumedRoleUser,
        FederatedUser,
        ResponseElements,
        AdditionalEventData,
        Addendum,
        Resource,
        TrailEvent,
    }
)

# Identity types CloudTrail writes in ``userIdentity.type``.
ASSUMED_ROLE: Final = "AssumedRole"
FEDERATED_USER: Final = "FederatedUser"
IAM_USER: Final = "IAMUser"
ROOT: Final = "Root"
AWS_SERVICE: Final = "AWSService"
AWS_ACCOUNT: Final = "AWSAccount"
SAML_USER: Final = "SAMLUser"
WEB_IDENTITY_USER: Final = "WebIdentityUser"
IDENTITY_CENTER_USER: Final = "IdentityCenterUser"

# Identities acting through a session someone obtained (the ones the CLI reports).
SESSION_IDENTITY_TYPES: Final = frozenset(
    {ASSUMED_ROLE, FEDERATED_USER, SAML_USER, WEB_IDENTITY_USER, IDENTITY_CENTER_USER}
)


def is_session_event(event: TrailEvent) -> bool:
    """Whether the event was signed by an assumed-role or federated session."""
    identity = event.userIdentity
    return identity is not None and identity.type in SESSION_IDENTITY_TYPES
