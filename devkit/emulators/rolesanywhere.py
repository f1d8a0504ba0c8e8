"""IAM Roles Anywhere's CreateSession on 127.0.0.1, verifying requests as AWS does.

``POST /sessions`` is answered only when, like the real service:

- the ``Authorization`` header is ``AWS4-X509-RSA-SHA256`` or ``AWS4-X509-ECDSA-SHA256`` with
  ``Credential=<certificate serial, decimal>/<date>/<region>/rolesanywhere/aws4_request``;
- the signed headers include ``host``, ``x-amz-date`` and ``x-amz-x509`` (and
  ``x-amz-x509-chain`` when sent) and the signature - recomputed here from the canonical request
  and string to sign, independently of the plugin's code - verifies with the public key of the
  certificate in ``X-Amz-X509``;
- ``X-Amz-Date`` is within five minutes of the emulator's clock;
- the certificate is a valid end-entity certificate that chains (through ``X-Amz-X509-Chain``)
  to the CA of the trust anchor named in the body;
- the profile exists, is enabled and lists the requested role.

It then returns temporary credentials: from moto's STS (``AssumeRole`` against the moto server
given as ``sts_endpoint``, so the keys really work there) or, without one, made-up keys that
moto accepts when it does not check authorisation. Errors are AWS REST-JSON errors
(``x-amzn-ErrorType`` header, ``{"message": ...}`` body).

Faults (besides ``status``, ``slow``, ``drop``): ``expired_certificate`` and ``untrusted`` (403
as if the certificate had expired / did not chain to the anchor), ``throttle`` (429 with
``Retry-After``). Inspection: ``sessions`` / ``GET /_emulator/sessions``.

Run it alone::

    python -m devkit.emulators.rolesanywhere --port 8443 \\
        --tls-cert server.crt --tls-key server.key \\
        --trust-anchor arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta=ca.pem \\
        --profile arn:aws:rolesanywhere:us-east-1:123456789012:profile/p=ROLE_ARN[,ROLE_ARN] \\
        --sts-endpoint http://127.0.0.1:5000
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devkit.emulators.base import (
    Emulator,
    Fault,
    Request,
    Response,
    serve_until_interrupted,
    server_arguments,
    server_options,
)

SESSIONS_PATH = "/sessions"
ALGORITHMS = {
    "AWS4-X509-RSA-SHA256": rsa.RSAPublicKey,
    "AWS4-X509-ECDSA-SHA256": ec.EllipticCurvePublicKey,
}
MAX_SKEW = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"^(?P<algorithm>\S+) Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]+)$"
)


@dataclass
class TrustAnchorSpec:
    """A trust anchor: the CA certificate(s) whose certificates it accepts."""

    arn: str
    ca_pem: str
    enabled: bool = True

    def certificates(self) -> list[x509.Certificate]:
        return list(x509.load_pem_x509_certificates(self.ca_pem.encode()))


@dataclass
class ProfileSpec:
    """A profile: the roles it may hand out and the longest session it allows."""

    arn: str
    role_arns: tuple[str, ...]
    enabled: bool = True
    duration_seconds: int = 43200
    accept_role_session_name: bool = False


@dataclass(frozen=True)
class SessionRecord:
    """One CreateSession the emulator granted (times on the emulator's clock)."""

    serial: str
    subject: str
    algorithm: str
    chain_length: int
    trust_anchor_arn: str
    profile_arn: str
    role_arn: str
    role_session_name: str
    duration_seconds: int
    issued_at: datetime
    expires_at: datetime
    access_key_id: str
    user_agent: str


class _Denied(Exception):
    """An AWS error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return Response(self.status, {"message": self.message}, {"x-amzn-ErrorType": self.code})


def _access_denied(message: str) -> _Denied:
    return _Denied(403, "AccessDeniedException", message)


def _validation(message: str) -> _Denied:
    return _Denied(400, "ValidationException", message)


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_request(request: Request, signed_headers: Sequence[str]) -> str:
    """SigV4's canonical request, rebuilt from what arrived on the wire."""
    path = "/".join(_uri_encode(segment) for segment in request.path.split("/")) or "/"
    query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}"
        for k, v in sorted((k, v) for k, values in request.query.items() for v in values)
    )
    lines = []
    for name in signed_headers:
        value = request.header(name)
        if value is None:
            raise _access_denied(f"Signed header '{name}' is missing from the request.")
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "\n".join(
        (
            request.method,
            path,
            query,
            "".join(lines),
            ";".join(signed_headers),
            hashlib.sha256(request.body).hexdigest(),
        )
    )


def _verify(public_key: Any, signature: bytes, data: bytes) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def chains_to(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: datetime,
) -> bool:
    """Whether ``leaf`` reaches one of ``anchors`` through valid CA ``intermediates``."""
    current, pool = leaf, list(intermediates)
    for _ in range(len(pool) + 1):
        for anchor in anchors:
            if current.issuer == anchor.subject and _issued_by(current, anchor):
                return _valid_at(anchor, now)
        step = next(
            (
                c
                for c in pool
                if c.subject == current.issuer
                and _is_ca(c)
                and _valid_at(c, now)
                and _issued_by(current, c)
            ),
            None,
        )
        if step is None:
            return False
        pool.remove(step)
        current = step
    return False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RolesAnywhereEmulator(Emulator):
    """See the module docstring."""

    name: ClassVar[str] = "rolesanywhere"
    fault_kinds: ClassVar[frozenset[str]] = frozenset(
        {"expired_certificate", "untrusted", "throttle"}
    )
    default_fault_paths: ClassVar[Mapping[str, tuple[str, ...]]] = dict.fromkeys(
        ("status", "slow", "drop", "expired_certificate", "untrusted", "throttle"),
        (SESSIONS_PATH,),
    )

    def __init__(
        self,
        *,
        trust_anchors: Sequence[TrustAnchorSpec] = (),
        profiles: Sequence[ProfileSpec] = (),
        region: str = "us-east-1",
        sts_endpoint: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.region = region
        self.trust_anchors = {t.arn: t for t in trust_anchors}
        self.profiles = {p.arn: p for p in profiles}
        self.sts_endpoint = sts_endpoint
        self.clock = clock
        self._sessions: list[SessionRecord] = []
        self._sts: Any = None
        self._sts_lock = threading.Lock()

    # ----------------------------------------------------------------- inspection

    @property
    def sessions(self) -> list[SessionRecord]:
        with self.lock:
            return list(self._sessions)

    @property
    def sessions_created(self) -> int:
        with self.lock:
            return len(self._sessions)

    def reset_state(self) -> None:
        self._sessions.clear()

    def control(self, request: Request) -> Response | None:
        if request.path == "/_emulator/sessions" and request.method == "GET":
            return Response(200, {"sessions": [_jsonable(s) for s in self.sessions]})
        return None

    # ----------------------------------------------------------------- CreateSession

    def handle(self, request: Request, fault: Fault | None) -> Response:
        if request.path != SESSIONS_PATH or request.method != "POST":
            return Response(
                404, {"message": "Not Found"}, {"x-amzn-ErrorType": "UnknownOperationException"}
            )
        if fault is not None and fault.kind == "throttle":
            return Response(
                429,
                {"message": "Rate exceeded"},
                {
                    "x-amzn-ErrorType": "ThrottlingException",
                    "Retry-After": fault.retry_after or "1",
                },
            )
        try:
            return self._create_session(request, fault)
        except _Denied as denied:
            return denied.response()

    def _create_session(self, request: Request, fault: Fault | None) -> Response:
        now = self.clock()
        leaf, chain, algorithm = self._authenticate(request, now)
        if fault is not None and fault.kind == "expired_certificate":
            raise _access_denied("Certificate expired: the signing certificate is no longer valid.")
        if leaf.not_valid_after_utc <= now:
            raise _access_denied("Certificate expired: the signing certificate is no longer valid.")
        if leaf.not_valid_before_utc > now:
            raise _access_denied("Certificate is not yet valid.")
        if _is_ca(leaf):
            raise _access_denied("Untrusted signing certificate: a CA certificate cannot sign.")
        body = self._body(request)
        anchor = self.trust_anchors.get(body["trustAnchorArn"])
        if anchor is None:
            raise _Denied(404, "ResourceNotFoundException", "Trust anchor not found.")
        if not anchor.enabled:
            raise _access_denied("Trust anchor is disabled.")
        if (fault is not None and fault.kind == "untrusted") or not chains_to(
            leaf, chain, anchor.certificates(), now
        ):
            raise _access_denied(
                "Untrusted signing certificate: it does not chain to the trust anchor's CA."
            )
        profile = self.profiles.get(body["profileArn"])
        if profile is None:
            raise _Denied(404, "ResourceNotFoundException", "Profile not found.")
        if not profile.enabled:
            raise _access_denied("Profile is disabled.")
        role_arn = body["roleArn"]
        if role_arn not in profile.role_arns:
            raise _access_denied(f"The role {role_arn} is not in the profile's role list.")
        session_name = body.get("roleSessionName") or ""
        if session_name and not profile.accept_role_session_name:
            raise _validation("The profile does not accept a custom roleSessionName.")
        session_name = session_name or format(leaf.serial_number, "x")[:64]
        requested = int(body.get("durationSeconds") or 3600)
        if not 900 <= requested <= 43200:
            raise _validation("durationSeconds must be between 900 and 43200.")
        duration = min(requested, profile.duration_seconds)
        expires = min(now + timedelta(seconds=duration), leaf.not_valid_after_utc)
        access_key, secret_key, token, assumed_arn, assumed_id = self._issue(
            role_arn, session_name, duration
        )
        record = SessionRecord(
            serial=str(leaf.serial_number),
            subject=leaf.subject.rfc4514_string(),
            algorithm=algorithm,
            chain_length=len(chain),
            trust_anchor_arn=anchor.arn,
            profile_arn=profile.arn,
            role_arn=role_arn,
            role_session_name=session_name,
            duration_seconds=duration,
            issued_at=now,
            expires_at=expires,
            access_key_id=access_key,
            user_agent=request.header("user-agent") or "",
        )
        with self.lock:
            self._sessions.append(record)
        account = anchor.arn.split(":")[4]
        return Response(
            201,
            {
                "credentialSet": [
                    {
                        "assumedRoleUser": {"arn": assumed_arn, "assumedRoleId": assumed_id},
                        "credentials": {
                            "accessKeyId": access_key,
                            "secretAccessKey": secret_key,
                            "sessionToken": token,
                            "expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        },
                        "packedPolicySize": 0,
                        "roleArn": role_arn,
                        "sourceIdentity": leaf.subject.rfc4514_string(),
                    }
                ],
                "subjectArn": (
                    f"arn:aws:rolesanywhere:{self.region}:{account}:subject/{uuid.uuid4()}"
                ),
            },
        )

    def _authenticate(
        self, request: Request, now: datetime
    ) -> tuple[x509.Certificate, list[x509.Certificate], str]:
        match = _AUTHORIZATION.match(request.header("authorization") or "")
        if not match:
            raise _Denied(
                403,
                "IncompleteSignatureException",
                "Authorization header requires Credential, SignedHeaders and Signature.",
            )
        algorithm = match.group("algorithm")
        if algorithm not in ALGORITHMS:
            raise _Denied(
                403, "IncompleteSignatureException", f"Unsupported signing algorithm {algorithm}."
            )
        parts = match.group("credential").split("/")
        if len(parts) != 5:
            raise _Denied(403, "IncompleteSignatureException", "Malformed credential scope.")
        serial, date, region, service, terminator = parts
        signed = match.group("signed").split(";")
        if signed != sorted(signed) or not {"host", "x-amz-date", "x-amz-x509"} <= set(signed):
            raise _access_denied(
                "Invalid signature: SignedHeaders must be sorted and include host, x-amz-date "
                "and x-amz-x509."
            )
        if request.header("x-amz-x509-chain") is not None and "x-amz-x509-chain" not in signed:
            raise _access_denied("Invalid signature: x-amz-x509-chain is sent but not signed.")
        amz_date = request.header("x-amz-date") or ""
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise _Denied(
                403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed."
            ) from None
        if abs(now - when) > MAX_SKEW:
            raise _Denied(
                403,
                "InvalidSignatureException",
                f"Signature expired: {amz_date} is outside five minutes of the server time "
                f"{now.strftime('%Y%m%dT%H%M%SZ')}.",
            )
        if date != amz_date[:8] or service != "rolesanywhere" or terminator != "aws4_request":
            raise _access_denied("Invalid signature: the credential scope is malformed.")
        if region != self.region:
            raise _access_denied(
                f"Invalid signature: the credential scope names Region {region}, not {self.region}."
            )
        leaf = self._certificate(request.header("x-amz-x509") or "")
        chain_header = request.header("x-amz-x509-chain")
        chain = [self._certificate(c) for c in chain_header.split(",")] if chain_header else []
        if serial != str(leaf.serial_number):
            raise _access_denied(
                "Invalid signature: the credential's serial number is not the signing "
                "certificate's."
            )
        public_key = leaf.public_key()
        if not isinstance(public_key, ALGORITHMS[algorithm]):
            raise _access_denied(
                f"Invalid signature: {algorithm} does not match the certificate's key type."
            )
        string_to_sign = "\n".join(
            (
                algorithm,
                amz_date,
                f"{date}/{region}/{service}/{terminator}",
                hashlib.sha256(canonical_request(request, signed).encode()).hexdigest(),
            )
        )
        try:
            _verify(public_key, bytes.fromhex(match.group("signature")), string_to_sign.encode())
        except (InvalidSignature, ValueError):
            raise _access_denied(
                "Invalid signature: the request signature we calculated does not match the "
                "signature you provided."
            ) from None
        return leaf, chain, algorithm

    @staticmethod
    def _certificate(value: str) -> x509.Certificate:
        try:
            return x509.load_der_x509_certificate(base64.b64decode(value, validate=True))
        except (ValueError, binascii.Error):
            raise _validation(
                "X-Amz-X509 / X-Amz-X509-Chain is not a base64 DER certificate."
            ) from None

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        try:
            body = request.json()
        except (ValueError, UnicodeDecodeError):
            raise _validation("The request body is not JSON.") from None
        if not isinstance(body, dict):
            raise _validation("The request body is not a JSON object.")
        for name in ("profileArn", "roleArn", "trustAnchorArn"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _validation(
                    f"1 validation error detected: Value null at '{name}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        return body

    def _issue(
        self, role_arn: str, session_name: str, duration: int
    ) -> tuple[str, str, str, str, str]:
        """``(access key, secret key, token, assumed-role ARN, assumed-role id)``."""
        if self.sts_endpoint:
            response = self._sts_client().assume_role(
                RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=duration
            )
            creds, user = response["Credentials"], response["AssumedRoleUser"]
            return (
                creds["AccessKeyId"],
                creds["SecretAccessKey"],
                creds["SessionToken"],
                user["Arn"],
                user["AssumedRoleId"],
            )
        account = role_arn.split(":")[4]
        name = role_arn.rsplit("/", 1)[-1]
        role_id = "AROA" + secrets.token_hex(8).upper()
        return (
            "ASIA" + secrets.token_hex(8).upper(),
            secrets.token_urlsafe(30),
            secrets.token_urlsafe(120),
            f"arn:aws:sts::{account}:assumed-role/{name}/{session_name}",
            f"{role_id}:{session_name}",
        )

    def _sts_client(self) -> Any:
        import boto3
        from botocore.config import Config

        from devkit.aws_emulator import DEMO_ACCESS_KEY_ID, DEMO_SECRET_ACCESS_KEY

        with self._sts_lock:
            if self._sts is None:
                self._sts = boto3.session.Session().client(
                    "sts",
                    endpoint_url=self.sts_endpoint,
                    region_name=self.region,
                    aws_access_key_id=DEMO_ACCESS_KEY_ID,
                    aws_secret_access_key=DEMO_SECRET_ACCESS_KEY,
                    config=Config(retries={"max_attempts": 2}),
                )
            return self._sts


def _jsonable(record: SessionRecord) -> dict[str, Any]:
    data = asdict(record)
    data["issued_at"] = record.issued_at.isoformat()
    data["expires_at"] = record.expires_at.isoformat()
    return data


def _pairs(values: Sequence[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        arn, sep, rest = value.partition("=")
        if not sep:
            raise SystemExit(f"{option} takes ARN=VALUE, got {value!r}")
        pairs.append((arn, rest))
    return pairs


def main(argv: list[str] | None = None) -> None:
    parser = server_arguments(__doc__.split("\n")[0], 8443)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--trust-anchor", action="append", default=[], help="ARN=path of the CA certificate PEM"
    )
    parser.add_argument("--profile", action="append", default=[], help="ARN=role ARN[,role ARN...]")
    parser.add_argument("--sts-endpoint", help="moto server URL to issue credentials from")
    args = parser.parse_args(argv)
    anchors = [
        TrustAnchorSpec(arn, Path(path).read_text("ascii"))
        for arn, path in _pairs(args.trust_anchor, "--trust-anchor")
    ]
    profiles = [
        ProfileSpec(arn, tuple(r.strip() for r in roles.split(",") if r.strip()))
        for arn, roles in _pairs(args.profile, "--profile")
    ]
    emulator = RolesAnywhereEmulator(
        trust_anchors=anchors,
        profiles=profiles,
        region=args.region,
        sts_endpoint=args.sts_endpoint,
        **server_options(args),
    )
    serve_until_interrupted(emulator.start(), "IAM Roles Anywhere emulator")


if __name__ == "__main__":
    main()


__all__ = [
    "ProfileSpec",
    "RolesAnywhereEmulator",
    "SessionRecord",
    "TrustAnchorSpec",
    "canonical_request",
    "chains_to",
]
