"""Attaching the recorder to boto3 clients, and the session-name gate that stands in for IAM.

moto performs every call but evaluates no trust policy, so a role that enforces
``sts:RoleSessionName = ${aws:username}`` is emulated here: a ``before-call`` handler answers a
violating ``AssumeRole`` with STS's own 403 before it reaches moto, and the caller's boto3 raises
``ClientError`` exactly as against AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

from devkit.trail_recorder.principals import (
    Actor,
    Credentials,
    Principal,
    ServicePrincipal,
    UserPrincipal,
    pathless_role_arn,
)
from devkit.trail_recorder.records import PendingCall, RecordBuilder
from devkit.trail_recorder.shaping import denied_message


class ClientRecorder(RecordBuilder):
    """Records every call made through an attached client, and gates ``AssumeRole``."""

    # ---- trust emulation ----------------------------------------------------------------------

    def enforce_session_name(self, role_arn: str, enforced: bool = True) -> None:
        """Deny AssumeRole on this role unless the session name is the caller's IAM user name.

        moto does not evaluate trust policies; this gate plays the part of
        ``StringEquals sts:RoleSessionName ${aws:username}`` for the demo. Callers without
        ``aws:username`` (role sessions, services) are denied too, as IAM would.
        """
        target = pathless_role_arn(role_arn)
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

        pending: dict[int, PendingCall] = {}

        def on_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            pending[id(context)] = PendingCall(params=dict(params))

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
        self, caller: Principal, state: PendingCall
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        role_arn = str(state.params.get("RoleArn", ""))
        if pathless_role_arn(role_arn) not in self._gated_roles:
            return None
        session_name = state.params.get("RoleSessionName")
        if isinstance(caller, UserPrincipal) and session_name == caller.user_name:
            return None
        message = denied_message(caller, role_arn)
        state.denied = {"Code": "AccessDenied", "Message": message}
        request_id = self._uuid()
        parsed = {
            "Error": {"Type": "Sender", "Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": 403},
        }
        return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), parsed  # type: ignore[arg-type]
