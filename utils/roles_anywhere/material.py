"""IAM Roles Anywhere certificate material: what the admin configures, checked offline.

``RolesAnywhereSettings`` is the configuration (the certificate, its chain, the private key and
its passphrase, and the trust anchor, profile and role ARNs). ``validate_material`` lists every
problem with it, field first, without any network call, so ``validate_step`` can answer
precisely; ``load_material`` turns it into the ``SigningMaterial`` that signs CreateSession.
PEM text is repaired first, because single-line CE fields and JSON copy-paste mangle its line
breaks.

This module needs only the stdlib: the configuration of every tenant passes through it, and
``cryptography`` is not in every Cloud Exchange image. Parsing certificates and keys is done by
``pki``, which needs ``cryptography`` and is imported only when material is validated or
loaded; without it, both answer with ``CRYPTOGRAPHY_MISSING`` (naming the field and the fix)
instead of an ImportError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from ..clock import utc_now
from ..exceptions import AwsAuthError

if TYPE_CHECKING:
    from .pki import SigningMaterial

ALGORITHM_RSA: Final = "AWS4-X509-RSA-SHA256"
ALGORITHM_ECDSA: Final = "AWS4-X509-ECDSA-SHA256"
MIN_DURATION_SECONDS: Final = 900
MAX_DURATION_SECONDS: Final = 43200
DEFAULT_DURATION_SECONDS: Final = 3600

# Labels of the configuration fields a message can point at (the manifest's labels).
FIELD_METHOD: Final = "Authentication Method"
FIELD_CERTIFICATE: Final = "Roles Anywhere Certificate"
FIELD_CHAIN: Final = "Roles Anywhere Certificate Chain"
FIELD_PRIVATE_KEY: Final = "Roles Anywhere Private Key"
FIELD_PASSPHRASE: Final = "Private Key Passphrase"  # noqa: S105 - a field label
FIELD_TRUST_ANCHOR: Final = "Trust Anchor ARN"
FIELD_PROFILE: Final = "Profile ARN"
FIELD_ROLE: Final = "Roles Anywhere Role ARN"
FIELD_DURATION: Final = "Roles Anywhere Session Duration"

# Manifest keys ``RolesAnywhereSettings.from_step`` reads (in the ``aws`` step).
KEY_CERTIFICATE: Final = "ra_certificate"
KEY_CHAIN: Final = "ra_certificate_chain"
KEY_PRIVATE_KEY: Final = "ra_private_key"
KEY_PASSPHRASE: Final = "ra_private_key_passphrase"  # noqa: S105 - a manifest key
KEY_TRUST_ANCHOR: Final = "ra_trust_anchor_arn"
KEY_PROFILE: Final = "ra_profile_arn"
KEY_ROLE: Final = "ra_role_arn"
KEY_DURATION: Final = "ra_session_duration_seconds"

CRYPTOGRAPHY_MISSING: Final = (
    f"{FIELD_METHOD}: IAM Roles Anywhere needs the Python package 'cryptography' (to read the "
    "certificate and private key and to sign with the key), which this Cloud Exchange does not "
    "provide{detail}. Choose another Authentication Method ('Deployed on AWS' or 'Access keys', "
    "with a Role ARN to Assume if needed), or run the plugin on a Cloud Exchange whose image "
    "includes 'cryptography'."
)

_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_TRUST_ANCHOR_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):rolesanywhere:(?P<region>{_REGION}):"
    r"(?P<account>\d{12}):trust-anchor/[A-Za-z0-9-]{1,64}$"
)
_PROFILE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):rolesanywhere:(?P<region>{_REGION}):"
    r"(?P<account>\d{12}):profile/[A-Za-z0-9-]{1,64}$"
)
_ROLE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):role/[\w+=,.@/-]{{1,512}}$"
)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
# RFC 1421 headers of traditional encrypted keys. The IV's length follows from the cipher's
# block size, so the headers survive even a paste with every line break removed.
_PEM_ENCRYPTED_HEADERS = re.compile(
    r"^\s*Proc-Type:\s*(\d,ENCRYPTED)\s*DEK-Info:\s*([A-Z0-9-]+),\s*", re.S
)
_64_BIT_BLOCK_CIPHERS = ("DES", "BF", "CAST", "IDEA", "RC2")
KEY_LABELS: Final = frozenset(
    {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}
)
# An ImportError from one of the plugin's own modules is a bug to surface, not a missing
# dependency to explain.
_PLUGIN_PACKAGE: Final = __name__.rsplit(".utils.", 1)[0]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RolesAnywhereSettings:
    """What an admin configures for Roles Anywhere. Secrets stay out of ``repr``.

    ``certificate`` may hold the end-entity certificate followed by its chain (a
    "fullchain" paste); ``certificate_chain`` holds intermediate CA certificates, if any.
    PEM text is accepted with its line breaks collapsed to spaces or escaped as ``\\n``,
    because that is what single-line CE fields and copy-paste through JSON make of it.
    """

    certificate: str
    private_key: str = field(repr=False)
    trust_anchor_arn: str
    profile_arn: str
    role_arn: str
    certificate_chain: str = ""
    passphrase: str = field(default="", repr=False)
    duration_seconds: int = DEFAULT_DURATION_SECONDS
    role_session_name: str = ""

    @classmethod
    def from_step(cls, values: Mapping[str, Any]) -> RolesAnywhereSettings:
        """Settings from the ``aws`` step's values (the ``KEY_*`` manifest keys)."""

        def text(key: str) -> str:
            value = values.get(key)
            return value.strip() if isinstance(value, str) else ""

        raw_duration = values.get(KEY_DURATION)
        try:
            duration = int(raw_duration) if raw_duration not in (None, "") else 0
        except (TypeError, ValueError):
            duration = -1  # reported by validate_material
        return cls(
            certificate=text(KEY_CERTIFICATE),
            private_key=text(KEY_PRIVATE_KEY),
            trust_anchor_arn=text(KEY_TRUST_ANCHOR),
            profile_arn=text(KEY_PROFILE),
            role_arn=text(KEY_ROLE),
            certificate_chain=text(KEY_CHAIN),
            passphrase=str(values.get(KEY_PASSPHRASE) or ""),
            duration_seconds=duration or DEFAULT_DURATION_SECONDS,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values a log line must never show: the key (whole and line by line) and passphrase.

        The base64 lines of the key, as pasted and re-wrapped, are listed too, so a fragment
        quoted by some library is masked whatever happened to the line breaks.
        """
        lines = {
            line.strip()
            for text in (
                self.private_key.replace("\\n", "\n"),
                *(
                    pem.decode()
                    for label, pem in pem_blocks(self.private_key)
                    if label in KEY_LABELS
                ),
            )
            for line in text.splitlines()
            if len(line.strip()) >= 16 and "-----" not in line and ":" not in line
        }
        return tuple(s for s in (self.private_key, self.passphrase, *sorted(lines)) if s)

    @property
    def region(self) -> str:
        """The trust anchor's Region: CreateSession must be called there."""
        match = _TRUST_ANCHOR_ARN.match(self.trust_anchor_arn)
        return match.group("region") if match else ""


# --------------------------------------------------------------------------- PEM repair


def pem_blocks(text: str) -> Iterator[tuple[str, bytes]]:
    """``(label, canonical PEM)`` for every PEM block in ``text``, repairing line breaks.

    Base64 never contains whitespace or backslashes, so collapsing all whitespace in the body
    and re-wrapping it at 64 columns is lossless; the two RFC 1421 headers of traditional
    encrypted keys are put back on their own lines. Browsers strip line breaks from
    single-line (password) inputs, escape them through JSON, or turn them into spaces.
    """
    cleaned = text.replace("\\r", "").replace("\\n", "\n").replace("\r", "")
    for match in _PEM_BLOCK.finditer(cleaned):
        label, body = match.group(1), match.group(2)
        headers = ""
        encrypted = _PEM_ENCRYPTED_HEADERS.match(body)
        if encrypted:
            cipher = encrypted.group(2)
            iv_chars = 16 if cipher.startswith(_64_BIT_BLOCK_CIPHERS) else 32
            rest = body[encrypted.end() :]
            iv, body = rest[:iv_chars], rest[iv_chars:]
            headers = f"Proc-Type: {encrypted.group(1)}\nDEK-Info: {cipher},{iv}\n\n"
        b64 = "".join(body.split())
        lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
        yield label, f"-----BEGIN {label}-----\n{headers}{lines}\n-----END {label}-----\n".encode()


class Problem(Exception):
    """One thing wrong with the material, phrased for the admin (field first)."""

    def __init__(self, field_label: str, message: str) -> None:
        super().__init__(f"{field_label}: {message}")


# --------------------------------------------------------------------------- offline checks


def arn_problems(settings: RolesAnywhereSettings) -> list[str]:
    """Problems with the ARNs, their Regions, the duration and the session name."""
    problems: list[str] = []
    anchor = _TRUST_ANCHOR_ARN.match(settings.trust_anchor_arn)
    profile = _PROFILE_ARN.match(settings.profile_arn)
    if not anchor:
        problems.append(
            f"{FIELD_TRUST_ANCHOR}: value ('{settings.trust_anchor_arn[:200]}') is not a trust "
            "anchor ARN, e.g. arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/<id>."
        )
    if not profile:
        problems.append(
            f"{FIELD_PROFILE}: value ('{settings.profile_arn[:200]}') is not a Roles Anywhere "
            "profile ARN, e.g. arn:aws:rolesanywhere:us-east-1:123456789012:profile/<id>."
        )
    if not _ROLE_ARN.match(settings.role_arn):
        problems.append(
            f"{FIELD_ROLE}: value ('{settings.role_arn[:200]}') is not an IAM role ARN, e.g. "
            "arn:aws:iam::123456789012:role/NetskopeCE."
        )
    if anchor and profile and anchor.group("region") != profile.group("region"):
        problems.append(
            f"{FIELD_PROFILE}: the profile is in {profile.group('region')} but the trust anchor "
            f"is in {anchor.group('region')}; use a profile from the trust anchor's Region."
        )
    if not MIN_DURATION_SECONDS <= settings.duration_seconds <= MAX_DURATION_SECONDS:
        problems.append(
            f"{FIELD_DURATION}: must be between {MIN_DURATION_SECONDS} and "
            f"{MAX_DURATION_SECONDS} seconds."
        )
    if settings.role_session_name and not _SESSION_NAME.match(settings.role_session_name):
        problems.append("Role session name: 2-64 characters among letters, digits and _+=,.@- .")
    return problems


class CryptographyUnavailable(Exception):
    """``cryptography`` (or a module it needs) cannot be imported; ``str`` is the admin's
    message."""

    def __init__(self, error: ImportError) -> None:
        name = error.name or "cryptography"
        detail = (
            ""
            if name == "cryptography"
            else f" in a usable form (its module '{name[:80]}' cannot be loaded)"
        )
        super().__init__(CRYPTOGRAPHY_MISSING.format(detail=detail))


MaterialChecker = Callable[
    [RolesAnywhereSettings, datetime], tuple["SigningMaterial | None", list[str]]
]


def _material_checker() -> MaterialChecker:
    """``pki.material_or_problems``, imported only now, when Roles Anywhere is used."""
    try:
        # Deferred on purpose: pki imports cryptography, which the plugin may not have.
        from .pki import material_or_problems  # noqa: PLC0415
    except ImportError as error:
        if (error.name or "").startswith(_PLUGIN_PACKAGE + "."):
            raise
        raise CryptographyUnavailable(error) from None
    return material_or_problems


def validate_material(settings: RolesAnywhereSettings, *, now: datetime | None = None) -> list[str]:
    """Every problem found offline (empty when the material can sign), field first.

    Checks: the ARNs' shape and Regions, the session duration, that the certificate, chain and
    key parse (with the passphrase), that the key is RSA >= 2048 or EC P-256/P-384/P-521 and
    belongs to the certificate, that the certificate is an end-entity v3 certificate usable
    for signatures and is valid now, and that no chain certificate has expired. Without
    ``cryptography`` the first problem says so (and the ARN checks still run).
    """
    try:
        checker = _material_checker()
    except CryptographyUnavailable as missing:
        return [str(missing), *arn_problems(settings)]
    _material, problems = checker(settings, now or utc_now())
    return problems


def load_material(
    settings: RolesAnywhereSettings, *, now: datetime | None = None
) -> SigningMaterial:
    """The signing material, or ``AwsAuthError`` listing what ``validate_material`` found
    (or that ``cryptography`` is missing)."""
    try:
        checker = _material_checker()
    except CryptographyUnavailable as missing:
        raise AwsAuthError(str(missing)) from None
    material, problems = checker(settings, now or utc_now())
    if material is None:
        raise AwsAuthError(
            "IAM Roles Anywhere cannot be used: " + " ".join(problems or ["unknown problem."])
        )
    return material
