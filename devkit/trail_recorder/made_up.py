"""Sessions moto cannot log by itself, synthesised around a key moto really issued.

A real account's trail holds issuance paths that calling moto cannot produce: EC2 fetching an
instance role, an IAM Identity Center session (``GetRoleCredentials``, whose key CloudTrail
redacts), a console ``SwitchRole`` with a fresh key per console request, and denied
``AssumeRole`` attempts made without calling STS. Each is written here in CloudTrail's shape,
while the key itself always comes from a real (unlogged) moto ``AssumeRole``, so moto
attributes the later calls made with it to the right role.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import boto3

from devkit.trail_recorder.clients import ClientRecorder
from devkit.trail_recorder.formats import (
    CLI_USER_AGENT,
    CONSOLE_API_USER_AGENT,
    CONSOLE_USER_AGENT,
    EVENT_VERSION,
    iso_z,
)
from devkit.trail_recorder.principals import (
    Actor,
    Credentials,
    SessionPrincipal,
    UserPrincipal,
)
from devkit.trail_recorder.shaping import denied_message


class MadeUpSessions(ClientRecorder):
    """The issuance paths a trail shows but moto cannot log, each around a real moto key."""

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
        record["errorMessage"] = denied_message(caller, role_arn)
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


@dataclass
class ConsoleSession:
    """A console role session: every request is signed with a fresh key, as the console does."""

    recorder: MadeUpSessions
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
