"""Record shaping with state: the recorder's ids, and one CloudTrail record per recorded call.

The stateless per-field shaping is in ``shaping``; what needs the recorder's random generator
(ids, tokens), its clock or its directory (a new session's issuer, a cross-account copy) is
here.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

from devkit.trail_recorder.formats import (
    DEFAULT_TLS,
    EVENT_VERSION,
    TrailClock,
    cloudtrail_create_date,
    cloudtrail_expiration,
    iso_z,
)
from devkit.trail_recorder.principals import (
    Actor,
    Principal,
    PrincipalDirectory,
    ServicePrincipal,
    SessionPrincipal,
    caller_account,
)
from devkit.trail_recorder.shaping import (
    EVENT_NAME_ALIASES,
    S3_DATA_OPERATIONS,
    is_read_only,
    request_host,
    request_parameters,
    role_resource,
    s3_resources,
)


@dataclass
class PendingCall:
    """What ``provide-client-params``/``before-call`` learn before the response arrives."""

    params: dict[str, Any]
    user_agent: str | None = None
    denied: dict[str, Any] | None = None


class RecordBuilder(PrincipalDirectory):
    """The recorder's state and how one call becomes one record in CloudTrail's field order.

    Every id, token and delay comes from one seeded random generator, so a scenario performed
    twice with the same seed yields the same trail.
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
        super().__init__(account_id)
        self.region = region
        self.clock = clock
        self.late_issuance = late_issuance
        self.denied_request_parameters = denied_request_parameters
        self.records: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
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
            "_recipient": recipient or caller_account(caller, self.account_id),
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
        state: PendingCall,
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
            record["requestParameters"] = request_parameters(service, operation, params, region)
        record["responseElements"] = None
        resources: list[dict[str, Any]] | None = None
        shared: str | None = None
        if not error:
            record["responseElements"] = self._response_elements(
                service, operation, params, parsed, caller, event_time
            )
            if service == "sts" and operation == "AssumeRole":
                resources = [role_resource(str(params["RoleArn"]))]
        if service == "s3":
            record["additionalEventData"] = self._s3_additional_data(http_response)
            resources = resources or s3_resources(operation, params, self.account_id)
        read_only = is_read_only(operation)
        management = not (service == "s3" and operation in S3_DATA_OPERATIONS)
        if is_service:
            shared = self._uuid()
        request_id = self._alnum(16, string.ascii_uppercase + string.digits)
        if service != "s3":
            request_id = self._uuid()
        host = None if is_service else request_host(service, region, params)
        cross_account = (
            service == "sts"
            and operation == "AssumeRole"
            and not error
            and str(params["RoleArn"]).split(":")[4] != caller_account(caller, self.account_id)
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
