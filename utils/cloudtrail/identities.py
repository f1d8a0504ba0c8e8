"""Facts read from identities and ARNs: who a caller is, what kind of role a session is of."""

from __future__ import annotations

from typing import Final

from .events import (
    AWS_ACCOUNT,
    AWS_SERVICE,
    IAM_USER,
    ROOT,
    UserIdentity,
)
from .resolution import Origin

# Paths only AWS can create roles under. A role's *name* is no evidence: anyone with
# iam:CreateRole can call a role ``AWSReservedSSO_…`` or ``AWSServiceRoleFor…`` at path ``/``.
_SERVICE_LINKED_RESOURCE: Final = "role/aws-service-role/"
IDENTITY_CENTER_PATH: Final = "/aws-reserved/sso.amazonaws.com/"
_IDENTITY_CENTER_RESOURCE: Final = "role" + IDENTITY_CENTER_PATH
# The SAML provider IAM Identity Center creates in each account it provisions roles in.
_IDENTITY_CENTER_PROVIDER_PREFIX: Final = "saml-provider/AWSSSO_"
# Web identities that are machines, not people: EKS service accounts and CI jobs.
_WORKLOAD_SUBJECT_PREFIXES: Final = ("system:serviceaccount:", "repo:", "project_path:")
_WORKLOAD_PROVIDER_MARKERS: Final = (
    "oidc.eks.",
    "token.actions.githubusercontent.com",
    "gitlab",
)


def arn_account(arn: str | None) -> str | None:
    """The account field of an ARN (``arn:partition:service:region:account:resource``)."""
    if not arn:
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    return parts[4] or None


def arn_resource(arn: str | None) -> str | None:
    if not arn:
        return None
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else None


def role_name_of(role_arn: str | None) -> str | None:
    """The role name of a role ARN (its last path segment)."""
    resource = arn_resource(role_arn)
    if resource is None or not resource.startswith("role/"):
        return None
    return resource.rsplit("/", 1)[-1] or None


def names_role(role_arn: str | None, role_name: str) -> bool:
    """Is ``role_arn`` the role called ``role_name`` (IAM role names ignore case)?"""
    return (role_name_of(role_arn) or "").lower() == role_name.lower()


def session_name_of(assumed_role_arn: str | None) -> str | None:
    """The session name of ``arn:…:sts::acct:assumed-role/Role/session``."""
    resource = arn_resource(assumed_role_arn)
    if resource is None or not resource.startswith("assumed-role/"):
        return None
    parts = resource.split("/", 2)
    return parts[2] if len(parts) == 3 and parts[2] else None


def session_name_of_identity(identity: UserIdentity) -> str | None:
    """A session's name: from its assumed-role ARN, else from ``principalId`` (``AROA…:name``)."""
    name = session_name_of(identity.arn)
    if name is None and identity.principalId and ":" in identity.principalId:
        name = identity.principalId.split(":", 1)[1] or None
    return name


def is_service_linked_role(role_arn: str | None) -> bool:
    """A role under ``/aws-service-role/``, which only AWS can create."""
    return (arn_resource(role_arn) or "").startswith(_SERVICE_LINKED_RESOURCE)


def is_identity_center_role(role_arn: str | None) -> bool:
    """A role IAM Identity Center provisioned, known by its path: only AWS creates roles
    under ``/aws-reserved/sso.amazonaws.com/`` (and only Identity Center assumes them,
    naming the session after the user). The path is read from the ARN's resource, never
    searched for in it: a path may hold ``:`` (``/x:role/aws-reserved/…/``)."""
    return (arn_resource(role_arn) or "").startswith(_IDENTITY_CENTER_RESOURCE)


def is_identity_center_provider(provider_arn: str | None) -> bool:
    """The SAML provider Identity Center federates through (``saml-provider/AWSSSO_…``).
    Its name is no evidence on its own (an administrator can name a provider so); with a
    role at the reserved path it says the issuance was Identity Center's."""
    return (arn_resource(provider_arn) or "").startswith(_IDENTITY_CENTER_PROVIDER_PREFIX)


def role_of_session(assumed_role_arn: str | None) -> tuple[str, str] | None:
    """``(account, role name)`` of ``arn:…:sts::acct:assumed-role/Role/session`` (which,
    unlike a session issuer's ARN, carries no path)."""
    resource = arn_resource(assumed_role_arn)
    account = arn_account(assumed_role_arn)
    if resource is None or account is None or not resource.startswith("assumed-role/"):
        return None
    name = resource.split("/", 2)[1]
    return (account, name) if name else None


def origin_of(identity: UserIdentity) -> Origin:
    """The identity as an origin (for IAM users, root, services and AWSAccount copies)."""
    kind = identity.type or "Unknown"
    if kind == AWS_SERVICE or (identity.type is None and identity.invokedBy):
        return Origin(AWS_SERVICE, user_name=identity.invokedBy, account_id=identity.accountId)
    user_name = identity.userName
    if kind == ROOT and not user_name:
        user_name = "root"
    return Origin(
        kind,
        arn=identity.arn,
        user_name=user_name,
        account_id=identity.accountId or arn_account(identity.arn),
        principal_id=identity.principalId if kind in (AWS_ACCOUNT, IAM_USER) else None,
    )


def origin_from_arn(arn: str) -> Origin:
    """An origin read from an ARN alone (``SwitchRole``'s ``SwitchFrom``)."""
    resource = arn_resource(arn) or ""
    account = arn_account(arn)
    if resource.startswith("user/"):
        return Origin(IAM_USER, arn=arn, user_name=resource.rsplit("/", 1)[-1], account_id=account)
    if resource == "root":
        return Origin(ROOT, arn=arn, user_name="root", account_id=account)
    if resource.startswith("assumed-role/"):
        return Origin("AssumedRole", arn=arn, user_name=session_name_of(arn), account_id=account)
    return Origin("Unknown", arn=arn, account_id=account)


def is_workload_web_identity(subject: str | None, provider: str | None) -> bool:
    """OIDC identities of machines (EKS service accounts, CI pipelines) rather than people."""
    if subject and subject.startswith(_WORKLOAD_SUBJECT_PREFIXES):
        return True
    return provider is not None and any(m in provider for m in _WORKLOAD_PROVIDER_MARKERS)
