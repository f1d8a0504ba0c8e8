"""AWS credentials and boto3 clients for one tenant, as CE's settings require.

One place builds every boto3 client the plugin uses, so each honours CE's proxy and
``ssl_validation``, carries the plugin's user agent, has timeouts and bounded retries.
Credentials come from the default chain ("Deployed on AWS") or access keys, optionally
followed by AssumeRole with an External ID. Assumed-role credentials are
``RefreshableCredentials``: botocore renews them *before* they expire (15 minutes ahead,
advisory; 10 minutes, mandatory), which official plugins get wrong by refreshing after
expiry. Error messages name the role or method and the fix, never a key or External ID.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ProxyConnectionError,
)
from botocore.parsers import ResponseParserError

from .config import AUTH_ACCESS_KEYS, AUTH_ROLES_ANYWHERE, AwsConfig
from .exceptions import AwsAuthError
from .roles_anywhere import roles_anywhere_session

DEFAULT_REGION = "us-east-1"
ASSUMED_SESSION_SECONDS = 3600
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def aws_error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def describe_aws_error(error: BaseException) -> str:
    """A one-line description of a boto3 error that is safe to show (no credentials)."""
    if isinstance(error, ClientError):
        err = error.response.get("Error", {})
        operation = error.operation_name
        return f"{operation} failed: {err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    if isinstance(error, BotoCoreError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__


def session_name_for(caller_arn: str, fallback: str = "netskope-ce-rsi") -> str:
    """RoleSessionName for the plugin's own AssumeRole calls.

    The plugin follows the rule it checks: when it authenticates as an IAM user it names
    its sessions after that user, so an audit role enforcing ``${aws:username}`` accepts it.
    """
    match = re.search(r":user/(?:.*/)?([^/]+)$", caller_arn)
    name = _SESSION_NAME_CHARS.sub("-", match.group(1)) if match else fallback
    return name[:64] if len(name) >= 2 else fallback


class BotoClientFactory:
    """Builds boto3 clients for one account with the plugin's transport settings."""

    def __init__(
        self,
        session: boto3.Session,
        *,
        user_agent: str,
        proxy: Mapping[str, str] | None,
        verify: bool,
        default_region: str = DEFAULT_REGION,
        max_attempts: int = 5,
    ) -> None:
        self._session = session
        self._verify = verify
        self._default_region = default_region
        self._proxy = dict(proxy or {})
        self._user_agent = user_agent
        self._config = Config(
            user_agent_extra=user_agent,
            proxies=self._proxy or None,
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=16,
        )
        self._account_id: str | None = None
        self._caller_arn: str | None = None
        self._lock = threading.Lock()

    @property
    def session(self) -> boto3.Session:
        return self._session

    def client(self, service: str, region: str | None = None) -> Any:
        with self._lock:  # boto3 sessions are not thread-safe when creating clients
            return self._session.client(
                service,  # type: ignore[call-overload]
                region_name=region or self._default_region,
                config=self._config,
                verify=self._verify,
            )

    def _identify(self) -> None:
        try:
            identity = self.client("sts").get_caller_identity()
        except ClientError as error:
            raise AwsAuthError(
                "AWS rejected the plugin's credentials (sts:GetCallerIdentity): "
                f"{describe_aws_error(error)}. Check the Authentication Method and its keys, "
                "or the credentials of the host running Cloud Exchange."
            ) from None
        except (ProxyConnectionError, ResponseParserError) as error:
            raise AwsAuthError(
                "AWS STS could not be reached through Cloud Exchange's proxy "
                f"(sts:GetCallerIdentity: {describe_aws_error(error)}). Check the proxy's "
                "address and credentials in CE's Settings > Proxy, or that it allows "
                "*.amazonaws.com."
            ) from None
        except NoCredentialsError:
            raise AwsAuthError(
                "No AWS credentials were found on the Cloud Exchange host "
                "('Deployed on AWS' uses its instance profile, task role or environment). "
                "Attach a role to the host, or choose 'Access keys' or 'IAM Roles Anywhere'."
            ) from None
        except BotoCoreError as error:
            raise AwsAuthError(
                "AWS STS could not be reached (sts:GetCallerIdentity: "
                f"{describe_aws_error(error)}). Check the network path from Cloud Exchange to "
                "AWS, CE's proxy settings and, for TLS errors, SSL validation."
            ) from None
        self._account_id = str(identity["Account"])
        self._caller_arn = str(identity["Arn"])

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            self._identify()
        return str(self._account_id)

    @property
    def caller_arn(self) -> str:
        if self._caller_arn is None:
            self._identify()
        return str(self._caller_arn)

    def assume(
        self,
        role_arn: str,
        *,
        external_id: str = "",
        duration_seconds: int = ASSUMED_SESSION_SECONDS,
    ) -> BotoClientFactory:
        """A factory acting as ``role_arn``, with credentials renewed before they expire."""
        session_name = session_name_for(self.caller_arn)
        sts = self.client("sts")

        def fetch() -> dict[str, str]:
            params: dict[str, Any] = {
                "RoleArn": role_arn,
                "RoleSessionName": session_name,
                "DurationSeconds": duration_seconds,
            }
            if external_id:
                params["ExternalId"] = external_id
            try:
                creds = sts.assume_role(**params)["Credentials"]
            except (ClientError, BotoCoreError) as error:
                hint = (
                    " Check that the role's trust policy allows this principal"
                    + (" and the configured External ID" if external_id else "")
                    + ", and that the caller may call sts:AssumeRole on it."
                )
                raise AwsAuthError(
                    f"Could not assume role {role_arn}: {describe_aws_error(error)}.{hint}"
                ) from None
            expiry = creds["Expiration"]
            if isinstance(expiry, datetime):
                expiry = expiry.astimezone(UTC).isoformat()
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": str(expiry),
            }

        refreshable = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
        )
        core = botocore.session.get_session()
        # botocore has no public setter for refreshable credentials on a session; this
        # attribute is the long-standing hook its own assume-role provider relies on.
        setattr(core, "_credentials", refreshable)  # noqa: B010
        return BotoClientFactory(
            boto3.Session(botocore_session=core, region_name=self._default_region),
            user_agent=self._user_agent,
            proxy=self._proxy,
            verify=self._verify,
            default_region=self._default_region,
        )


def base_session(aws: AwsConfig) -> boto3.Session:
    """The session for the configured authentication method (before any AssumeRole)."""
    if aws.authentication_method == AUTH_ACCESS_KEYS:
        return boto3.Session(
            aws_access_key_id=aws.access_key_id,
            aws_secret_access_key=aws.secret_access_key,
        )
    return boto3.Session()


def build_client_factory(
    aws: AwsConfig,
    *,
    user_agent: str,
    proxy: Mapping[str, str] | None,
    verify: bool,
    session_builder: Callable[[AwsConfig], boto3.Session] = base_session,
) -> BotoClientFactory:
    """The tenant's client factory: configured credentials, then the optional role."""
    region = aws.regions[0] if aws.regions else DEFAULT_REGION
    if aws.authentication_method == AUTH_ROLES_ANYWHERE and aws.roles_anywhere is not None:
        session = roles_anywhere_session(
            aws.roles_anywhere,
            region=aws.roles_anywhere.region or region,
            proxy=proxy,
            verify=verify,
            user_agent=user_agent,
        )
    else:
        session = session_builder(aws)
    factory = BotoClientFactory(
        session, user_agent=user_agent, proxy=proxy, verify=verify, default_region=region
    )
    if aws.role_arn:
        factory = factory.assume(aws.role_arn, external_id=aws.external_id)
    return factory
