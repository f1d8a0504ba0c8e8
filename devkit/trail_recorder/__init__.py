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

The package, bottom up: ``formats`` (CloudTrail's value formats, the scenario clock),
``principals`` (who signs; the directory of keys and roles), ``shaping`` (pure per-field
shaping), ``records`` (one record per call), ``clients`` (attaching to boto3, the session-name
gate), ``made_up`` (sessions synthesised around a real key), ``delivery`` (files, S3 and its
notifications) and ``recorder`` (``TrailRecorder``, all of them together).
"""

from __future__ import annotations

from devkit.trail_recorder.delivery import TrailFile, iter_records
from devkit.trail_recorder.formats import (
    RecorderError,
    TrailClock,
    cloudtrail_create_date,
    cloudtrail_expiration,
    iso_z,
)
from devkit.trail_recorder.made_up import ConsoleSession
from devkit.trail_recorder.principals import (
    Actor,
    Credentials,
    RoleInfo,
    RootPrincipal,
    ServicePrincipal,
    SessionPrincipal,
    UserPrincipal,
    synthetic_user_id,
)
from devkit.trail_recorder.recorder import TrailRecorder

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
