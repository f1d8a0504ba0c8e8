"""Every IAM role of one account, with its trust policy and the policies that give it power.

One ``GetAccountAuthorizationDetails`` call (Filter ``Role``) returns up to 1,000 roles with
their trust policies, attached managed policies and inline policy documents, so an account
costs one call per page instead of one per role. Principals that may list roles but not call
GAAD (AccessDenied on the first page) fall back to ``ListRoles`` plus
``ListAttachedRolePolicies`` per role - the only per-role call made, because privilege decides
severity. In that mode inline policies are not fetched (``inline_policies_known`` is False).

A malformed role record is skipped and counted, never fatal: one bad item must not fail the
pull. Errors carry the operation and AWS error code only, never credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from ..aws_session import aws_error_code

ACCESS_DENIED_CODES: Final = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
)
#: GAAD and ListRoles both accept at most 1,000 items per page.
MAX_PAGE_SIZE: Final = 1000


@dataclass(frozen=True, slots=True)
class InlinePolicy:
    name: str
    #: The policy document as received (dict from boto3, string from raw responses), or None.
    document: Any = None


@dataclass(frozen=True, slots=True)
class IamRole:
    """One role as the posture pull needs it; ``trust_policy`` is exactly as received."""

    account_id: str
    name: str
    path: str
    arn: str
    role_id: str
    trust_policy: Any
    attached_policy_names: tuple[str, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    inline_policies_known: bool = True
    attached_policies_known: bool = True
    max_session_duration: int | None = None
    create_date: datetime | None = None

    @property
    def inline_policy_names(self) -> tuple[str, ...]:
        return tuple(policy.name for policy in self.inline_policies)

    def as_role_object(self) -> dict[str, Any]:
        """The IAM role object shape the trust evaluator reads."""
        return {
            "RoleName": self.name,
            "Path": self.path,
            "Arn": self.arn,
            "RoleId": self.role_id,
            "AssumeRolePolicyDocument": self.trust_policy,
        }


@dataclass(slots=True)
class ListingStats:
    """API calls made and records skipped, for the pull summary and for tests."""

    gaad_pages: int = 0
    list_roles_pages: int = 0
    list_attached_role_policies_calls: int = 0
    used_fallback: bool = False
    attached_policies_denied: bool = False
    skipped_records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def api_calls(self) -> int:
        return self.gaad_pages + self.list_roles_pages + self.list_attached_role_policies_calls


def _str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"role record has no {key}")
    return value


def _role(record: Any, account_id: str, **extra: Any) -> IamRole:
    if not isinstance(record, Mapping):
        raise ValueError("role record is not an object")
    create_date = record.get("CreateDate")
    max_duration = record.get("MaxSessionDuration")
    return IamRole(
        account_id=account_id,
        name=_str(record, "RoleName"),
        path=record.get("Path") or "/",
        arn=_str(record, "Arn"),
        role_id=_str(record, "RoleId"),
        trust_policy=record.get("AssumeRolePolicyDocument"),
        max_session_duration=max_duration if isinstance(max_duration, int) else None,
        create_date=create_date if isinstance(create_date, datetime) else None,
        **extra,
    )


def _from_gaad(record: Any, account_id: str) -> IamRole:
    attached = [p for p in record.get("AttachedManagedPolicies") or [] if isinstance(p, Mapping)]
    inline = [p for p in record.get("RolePolicyList") or [] if isinstance(p, Mapping)]
    return _role(
        record,
        account_id,
        attached_policy_names=tuple(str(p.get("PolicyName", "")) for p in attached),
        attached_policy_arns=tuple(str(p.get("PolicyArn", "")) for p in attached),
        inline_policies=tuple(
            InlinePolicy(str(p.get("PolicyName", "")), p.get("PolicyDocument")) for p in inline
        ),
    )


def _skip(stats: ListingStats, where: str, error: Exception) -> None:
    stats.skipped_records += 1
    stats.errors.append(f"{where}: {error}")


def _gaad_roles(
    iam_client: Any, account_id: str, stats: ListingStats, page_size: int
) -> Iterator[IamRole]:
    marker: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Filter": ["Role"], "MaxItems": page_size}
        if marker:
            kwargs["Marker"] = marker
        page = iam_client.get_account_authorization_details(**kwargs)
        stats.gaad_pages += 1
        for record in page.get("RoleDetailList") or []:
            try:
                role = _from_gaad(record, account_id)
            except ValueError as exc:
                _skip(stats, f"account {account_id} GetAccountAuthorizationDetails", exc)
                continue
            yield role
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return


def _attached_policies(
    iam_client: Any, role_name: str, stats: ListingStats
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    names: list[str] = []
    arns: list[str] = []
    marker: str | None = None
    while True:
        kwargs: dict[str, Any] = {"RoleName": role_name}
        if marker:
            kwargs["Marker"] = marker
        if stats.attached_policies_denied:
            return tuple(names), tuple(arns), False
        try:
            page = iam_client.list_attached_role_policies(**kwargs)
        except ClientError as exc:
            stats.list_attached_role_policies_calls += 1
            code = aws_error_code(exc)
            if code in ACCESS_DENIED_CODES:
                # one denial answers for every role: do not make (and log) one call per role
                stats.attached_policies_denied = True
                stats.errors.append(
                    f"ListAttachedRolePolicies denied ({code}): severity cannot reflect the "
                    "roles' privilege. Grant iam:ListAttachedRolePolicies (or "
                    "iam:GetAccountAuthorizationDetails) to the plugin's principal."
                )
            else:
                stats.errors.append(
                    f"ListAttachedRolePolicies for role {role_name}: {code or 'error'}"
                )
            return tuple(names), tuple(arns), False
        stats.list_attached_role_policies_calls += 1
        for policy in page.get("AttachedPolicies") or []:
            names.append(str(policy.get("PolicyName", "")))
            arns.append(str(policy.get("PolicyArn", "")))
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return tuple(names), tuple(arns), True


def _listed_roles(
    iam_client: Any, account_id: str, stats: ListingStats, page_size: int
) -> Iterator[IamRole]:
    marker: str | None = None
    while True:
        kwargs: dict[str, Any] = {"MaxItems": page_size}
        if marker:
            kwargs["Marker"] = marker
        page = iam_client.list_roles(**kwargs)
        stats.list_roles_pages += 1
        for record in page.get("Roles") or []:
            try:
                name = _str(record, "RoleName")
            except (ValueError, AttributeError) as exc:
                _skip(stats, f"account {account_id} ListRoles", ValueError(str(exc)))
                continue
            names, arns, known = _attached_policies(iam_client, name, stats)
            try:
                role = _role(
                    record,
                    account_id,
                    attached_policy_names=names,
                    attached_policy_arns=arns,
                    attached_policies_known=known,
                    inline_policies_known=False,
                )
            except ValueError as exc:
                _skip(stats, f"account {account_id} ListRoles role {name}", exc)
                continue
            yield role
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return


def iter_roles(
    iam_client: Any,
    account_id: str,
    stats: ListingStats | None = None,
    *,
    page_size: int = MAX_PAGE_SIZE,
) -> Iterator[IamRole]:
    """Yield every role of the account ``iam_client`` acts in.

    Uses GAAD (one call per page of roles); on AccessDenied for the first GAAD page, ListRoles
    plus ListAttachedRolePolicies per role. Other AWS errors propagate to the caller, which
    reports the account as failed and carries on with the next one.
    """
    stats = stats if stats is not None else ListingStats()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    gaad = _gaad_roles(iam_client, account_id, stats, page_size)
    try:
        first = next(gaad, None)
    except ClientError as exc:
        if aws_error_code(exc) not in ACCESS_DENIED_CODES:
            raise
        stats.used_fallback = True
        stats.errors.append(
            f"account {account_id}: GetAccountAuthorizationDetails denied "
            f"({aws_error_code(exc)}); using ListRoles. Grant "
            "iam:GetAccountAuthorizationDetails for one call per 1,000 roles and inline "
            "policy privileges"
        )
        yield from _listed_roles(iam_client, account_id, stats, page_size)
        return
    if first is not None:
        yield first
        yield from gaad
