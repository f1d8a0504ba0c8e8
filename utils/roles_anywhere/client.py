"""The CreateSession client and the refreshable credentials it feeds.

- CreateSession goes through ``requests`` with CE's ``proxies`` and ``verify``, a timeout and
  the plugin's user agent, with a few bounded retries of transient failures.
- The endpoint honours ``endpoint_url``, then ``AWS_ENDPOINT_URL_ROLESANYWHERE`` /
  ``AWS_ENDPOINT_URL`` and the shared config file, exactly as boto3 resolves them (botocore
  resolves it), so a local emulator works without plugin changes.
- The returned session's credentials are botocore ``RefreshableCredentials`` whose refresh
  calls CreateSession again *before* expiry (advisory and mandatory windows scaled to the
  session's lifetime), never after.
- Every failure is an ``AwsAuthError`` naming the configuration field or CE setting to fix;
  no message carries the private key, its passphrase, a proxy credential or the returned
  secret key and session token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3
import botocore.session
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError

from ..clock import Clock, utc_now
from ..exceptions import AwsAuthError
from ..redaction import redact
from ..transport_errors import proxy_reason, ssl_reason
from .material import (
    FIELD_CERTIFICATE,
    FIELD_CHAIN,
    FIELD_PRIVATE_KEY,
    FIELD_PROFILE,
    FIELD_ROLE,
    FIELD_TRUST_ANCHOR,
    RolesAnywhereSettings,
    load_material,
)
from .signing import SERVICE, host_header, sign_create_session

if TYPE_CHECKING:
    from .pki import SigningMaterial

SESSIONS_PATH: Final = "/sessions"
CONNECT_TIMEOUT: Final = 10.0
READ_TIMEOUT: Final = 30.0
MAX_ATTEMPTS: Final = 3
MAX_RETRY_AFTER: Final = 10.0


def resolve_endpoint(region: str, endpoint_url: str | None = None) -> str:
    """Where CreateSession goes: ``endpoint_url``, else what boto3 would use for the service.

    botocore resolves it, so ``AWS_ENDPOINT_URL_ROLESANYWHERE``, ``AWS_ENDPOINT_URL``,
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``, the shared config file and partitions (China,
    GovCloud) behave exactly as for the plugin's other AWS calls.
    """
    if endpoint_url:
        return endpoint_url.rstrip("/")
    try:
        client = botocore.session.get_session().create_client(
            SERVICE, region_name=region, config=Config(signature_version=UNSIGNED)
        )
    except (BotoCoreError, ValueError):
        raise AwsAuthError(
            f"{FIELD_TRUST_ANCHOR}: no IAM Roles Anywhere endpoint for Region '{region[:40]}'. "
            "Check the Region in the trust anchor ARN."
        ) from None
    url: str = client.meta.endpoint_url
    return url.rstrip("/")


def _error_parts(response: requests.Response) -> tuple[str, str]:
    """``(code, message)`` of an AWS REST-JSON error answer."""
    code = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = code or str(body.get("__type") or body.get("code") or body.get("Code") or "")
        code = code.rsplit("#", 1)[-1]
        message = str(body.get("message") or body.get("Message") or "")
    return code or f"HTTP {response.status_code}", message


def _advice(status: int, code: str, message: str) -> str:
    """Which field to fix for a refused CreateSession, read from AWS's code and message."""
    text = f"{code} {message}".lower()
    if "signature" in text and any(w in text for w in ("expired", "timestamp", "date", "skew")):
        return (
            "The request date was rejected: the clock of the Cloud Exchange host is off by "
            "more than five minutes; synchronise it (NTP)."
        )
    if "signature" in text:
        return (
            f"{FIELD_PRIVATE_KEY}: the signature made with the private key was not accepted; "
            f"check that the key belongs to {FIELD_CERTIFICATE}."
        )
    if "certificate" in text and any(w in text for w in ("expired", "not yet valid")):
        return f"{FIELD_CERTIFICATE}: issue a new certificate from the trust anchor's CA."
    if any(w in text for w in ("untrusted", "chain", "issuer")):
        return (
            f"{FIELD_CERTIFICATE} / {FIELD_TRUST_ANCHOR}: the certificate does not chain to the "
            "CA of the trust anchor. Use a certificate issued by that CA, paste any intermediate "
            f"CAs in {FIELD_CHAIN}, or enter the trust anchor that holds its CA."
        )
    if "trust anchor" in text or "trustanchor" in text:
        return (
            f"{FIELD_TRUST_ANCHOR}: check that the trust anchor exists in this Region and "
            "account and is enabled."
        )
    if "not in the profile" in text or "assume" in text:
        return (
            f"{FIELD_ROLE}: the role must be listed in the profile and its trust policy must "
            "allow rolesanywhere.amazonaws.com (sts:AssumeRole, sts:TagSession, "
            "sts:SetSourceIdentity)."
        )
    if "profile" in text:
        return (
            f"{FIELD_PROFILE}: check that the profile exists in the trust anchor's Region and "
            "account and is enabled."
        )
    if "role" in text:
        return f"{FIELD_ROLE}: check the role ARN and that the profile lists it."
    if status == 404:
        return f"Check {FIELD_TRUST_ANCHOR}, {FIELD_PROFILE} and {FIELD_ROLE}."
    return f"Check {FIELD_CERTIFICATE}, {FIELD_TRUST_ANCHOR}, {FIELD_PROFILE} and {FIELD_ROLE}."


def _parse_expiration(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError("no expiration")


@dataclass(frozen=True)
class IssuedCredentials:
    """One CreateSession answer (the secret parts stay out of ``repr``)."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str = field(repr=False)
    expiration: datetime

    def metadata(self) -> dict[str, str]:
        """The shape botocore's ``RefreshableCredentials`` refresh callback returns."""
        return {
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "token": self.token,
            "expiry_time": self.expiration.isoformat(),
        }


class CreateSessionClient:
    """Calls CreateSession with CE's transport settings; one instance per configured session."""

    def __init__(
        self,
        settings: RolesAnywhereSettings,
        material: SigningMaterial,
        *,
        endpoint: str,
        proxy: Mapping[str, str] | None,
        verify: bool,
        user_agent: str,
        clock: Clock = utc_now,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._material = material
        self._url = endpoint + SESSIONS_PATH
        self._host = host_header(endpoint)
        self._proxy = dict(proxy or {})
        self._verify = verify
        self._user_agent = user_agent
        self._clock = clock
        self._http = session or requests.Session()
        self._sleep = sleep
        self._secrets = (*settings.secrets, *(v for v in self._proxy.values() if v))

    def _body(self) -> bytes:
        request: dict[str, Any] = {
            "durationSeconds": self._settings.duration_seconds,
            "profileArn": self._settings.profile_arn,
            "roleArn": self._settings.role_arn,
            "trustAnchorArn": self._settings.trust_anchor_arn,
        }
        if self._settings.role_session_name:
            request["roleSessionName"] = self._settings.role_session_name
        return json.dumps(request, separators=(",", ":")).encode()

    def _fail(self, text: str) -> AwsAuthError:
        return AwsAuthError(redact(text, self._secrets)[:1500])

    def create_session(self) -> IssuedCredentials:
        """One CreateSession, retrying 429/5xx and dropped connections a bounded number of times."""
        body = self._body()
        attempt = 0
        while True:
            attempt += 1
            headers = sign_create_session(
                self._material,
                url=self._url,
                body=body,
                region=self._settings.region,
                when=self._clock(),
            )
            headers["User-Agent"] = self._user_agent
            wait: float | None = None
            try:
                response = self._http.post(
                    self._url,
                    data=body,
                    headers=headers,
                    proxies=self._proxy,
                    verify=self._verify,
                    timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                )
            except requests.exceptions.SSLError as error:
                raise self._fail(
                    f"IAM Roles Anywhere: the TLS connection to {self._host} failed "
                    f"({ssl_reason(error)}). If Cloud Exchange reaches AWS through a "
                    "TLS-inspecting proxy or a private endpoint, add that CA certificate to "
                    "Cloud Exchange's trusted certificates; or turn SSL validation off for this "
                    "plugin if you accept the risk."
                ) from None
            except requests.exceptions.ProxyError as error:
                raise self._fail(
                    f"IAM Roles Anywhere: Cloud Exchange's proxy did not open the connection to "
                    f"{self._host} ({proxy_reason(error)}). Check Settings > Proxy."
                ) from None
            except (requests.ConnectionError, requests.Timeout) as error:
                reason = (
                    f"no answer within {READ_TIMEOUT:g} s"
                    if isinstance(error, requests.exceptions.ReadTimeout)
                    else "connection refused, reset or name not resolved"
                )
                if attempt >= MAX_ATTEMPTS:
                    raise self._fail(
                        f"IAM Roles Anywhere: could not reach {self._host} after {attempt} "
                        f"attempts ({reason}). Check network access to AWS and Cloud Exchange's "
                        "proxy settings."
                    ) from None
            except requests.RequestException as error:
                raise self._fail(
                    f"IAM Roles Anywhere: the request to {self._host} could not be made "
                    f"({type(error).__name__})."
                ) from None
            else:
                if response.status_code in (200, 201):
                    return self._credentials(response)
                code, message = _error_parts(response)
                retryable = response.status_code == 429 or response.status_code >= 500
                if not retryable or attempt >= MAX_ATTEMPTS:
                    detail = f"HTTP {response.status_code} {code}" + (
                        f": {' '.join(message.split())[:300]}" if message else ""
                    )
                    raise self._fail(
                        f"IAM Roles Anywhere refused CreateSession ({detail}). "
                        + _advice(response.status_code, code, message)
                    )
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.strip().isdigit():
                    wait = float(retry_after.strip())
                    if wait > MAX_RETRY_AFTER:
                        raise self._fail(
                            f"IAM Roles Anywhere is throttling CreateSession (HTTP "
                            f"{response.status_code}, retry after {wait:g} s); try again later."
                        )
            self._sleep(wait if wait is not None else 0.5 * 2 ** (attempt - 1))

    def _credentials(self, response: requests.Response) -> IssuedCredentials:
        try:
            answer = response.json()
            credentials = answer["credentialSet"][0]["credentials"]
            issued = IssuedCredentials(
                access_key=str(credentials["accessKeyId"]),
                secret_key=str(credentials["secretAccessKey"]),
                token=str(credentials["sessionToken"]),
                expiration=_parse_expiration(credentials["expiration"]),
            )
        except (ValueError, KeyError, IndexError, TypeError):
            # The body may hold a secret key: never quote it.
            raise self._fail(
                f"IAM Roles Anywhere: {self._host} answered CreateSession without usable "
                "credentials (credentialSet[0].credentials missing or malformed). Check that "
                "the endpoint is IAM Roles Anywhere."
            ) from None
        if not (issued.access_key and issued.secret_key and issued.token):
            raise self._fail(
                f"IAM Roles Anywhere: {self._host} returned empty credentials for CreateSession."
            )
        return issued


def refresh_windows(lifetime: timedelta) -> tuple[int, int]:
    """``(advisory, mandatory)`` seconds before expiry at which botocore refreshes.

    botocore's defaults (15 and 10 minutes) suit hour-long sessions; a 15-minute session
    would be renewed on every call. Both windows shrink with shorter lifetimes so renewal
    always happens well before expiry and at most a few times per session.
    """
    seconds = max(int(lifetime.total_seconds()), 1)
    return min(15 * 60, max(seconds // 4, 1)), min(10 * 60, max(seconds // 8, 1))


def roles_anywhere_credentials(
    settings: RolesAnywhereSettings,
    *,
    proxy: Mapping[str, str] | None,
    verify: bool,
    user_agent: str,
    endpoint_url: str | None = None,
    clock: Clock = utc_now,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RefreshableCredentials:
    """Credentials from a first CreateSession, renewed by calling it again before expiry."""
    material = load_material(settings, now=clock())
    client = CreateSessionClient(
        settings,
        material,
        endpoint=resolve_endpoint(settings.region, endpoint_url),
        proxy=proxy,
        verify=verify,
        user_agent=user_agent,
        clock=clock,
        session=session,
        sleep=sleep,
    )
    first = client.create_session()
    advisory, mandatory = refresh_windows(first.expiration - clock())

    def refresh() -> dict[str, str]:
        return client.create_session().metadata()

    return RefreshableCredentials(
        access_key=first.access_key,
        secret_key=first.secret_key,
        token=first.token,
        expiry_time=first.expiration,
        refresh_using=refresh,
        method="iam-roles-anywhere",
        time_fetcher=clock,
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )


def roles_anywhere_session(
    settings: RolesAnywhereSettings,
    *,
    region: str,
    proxy: Mapping[str, str] | None,
    verify: bool,
    user_agent: str,
    endpoint_url: str | None = None,
    clock: Clock = utc_now,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> boto3.Session:
    """A boto3 session acting as ``settings.role_arn`` through IAM Roles Anywhere.

    ``region`` is the session's default Region (CreateSession itself always goes to the trust
    anchor's Region). ``proxy``/``verify``/``user_agent`` are CE's settings for the
    CreateSession call; clients built from the session take their own (``BotoClientFactory``).
    ``clock`` drives request dates and refresh decisions (tests inject one); ``session``
    replaces the ``requests`` session (tests, connection reuse). Raises ``AwsAuthError``.
    """
    credentials = roles_anywhere_credentials(
        settings,
        proxy=proxy,
        verify=verify,
        user_agent=user_agent,
        endpoint_url=endpoint_url,
        clock=clock,
        session=session,
        sleep=sleep,
    )
    core = botocore.session.get_session()
    # botocore has no public setter for refreshable credentials on a session; this attribute
    # is the hook its own assume-role provider relies on (as in aws_session.py).
    setattr(core, "_credentials", credentials)  # noqa: B010
    return boto3.Session(botocore_session=core, region_name=region)
