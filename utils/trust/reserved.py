"""Roles AWS alone creates, recognised by their reserved path, and names that imitate them.

IAM lets nobody but AWS create roles under ``/aws-service-role/`` (service-linked roles) or
``/aws-reserved/sso.amazonaws.com/`` (IAM Identity Center permission-set roles), so the path
is evidence. The names AWS gives those roles (``AWSServiceRoleFor…``, ``AWSReservedSSO_…``)
are not reserved: anyone allowed ``iam:CreateRole`` can use them at any other path. A name is
therefore never evidence; a name that imitates an AWS-managed role outside the reserved path
is itself a finding (a look-alike made to be skipped by reviews and tools that trust names).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

SSO_PATH_PREFIX: Final = "/aws-reserved/sso.amazonaws.com/"
SERVICE_LINKED_PATH_PREFIX: Final = "/aws-service-role/"


class ManagedKind(StrEnum):
    IDENTITY_CENTER = "IAM Identity Center"
    SERVICE_LINKED = "service-linked"


_RESERVED_PATHS: Final = (
    (SSO_PATH_PREFIX, ManagedKind.IDENTITY_CENTER),
    (SERVICE_LINKED_PATH_PREFIX, ManagedKind.SERVICE_LINKED),
)

#: Case-folded name prefixes of AWS-managed roles, and names spelling a reserved path. IAM
#: names are unique case-insensitively, so ``awsreservedsso_x`` imitates as well as
#: ``AWSReservedSSO_x``. ``AWSServiceRole`` covers ``AWSServiceRoleFor…`` and its variants.
#: Names AWS documents for roles customers create themselves (``OrganizationAccountAccessRole``,
#: ``AWSControlTowerExecution``…) are ordinary roles, not imitations.
_IMITATED_PREFIXES: Final = (
    ("awsreservedsso", ManagedKind.IDENTITY_CENTER),
    ("aws-reserved", ManagedKind.IDENTITY_CENTER),
    ("awsservicerole", ManagedKind.SERVICE_LINKED),
    ("aws-service-role", ManagedKind.SERVICE_LINKED),
)
_RESERVED_PATH_OF: Final = {kind: prefix for prefix, kind in _RESERVED_PATHS}


@dataclass(frozen=True, slots=True)
class Imitation:
    """A role named like an AWS-managed role of ``kind``, outside ``reserved_path``."""

    kind: ManagedKind
    reserved_path: str


def managed_kind(path: str) -> ManagedKind | None:
    """The kind of AWS-managed role a path proves, or None (paths are case-sensitive)."""
    for prefix, kind in _RESERVED_PATHS:
        if path.startswith(prefix):
            return kind
    return None


def imitation(name: str, path: str) -> Imitation | None:
    """Whether ``name`` imitates an AWS-managed role while ``path`` shows AWS did not make it."""
    if name[:3].casefold() != "aws" or managed_kind(path) is not None:
        return None
    folded = name.casefold()
    for prefix, kind in _IMITATED_PREFIXES:
        if folded.startswith(prefix):
            return Imitation(kind, _RESERVED_PATH_OF[kind])
    return None


def role_path_and_name(role_arn: str) -> tuple[str, str]:
    """``('/path/', 'Name')`` of a role ARN (``arn:aws:iam::1:role/path/Name``)."""
    resource = role_arn.split(":", 5)[-1]
    rest = resource.split("/", 1)[1] if "/" in resource else resource
    path, _, name = rest.rpartition("/")
    return (f"/{path}/" if path else "/"), name


def imitation_of_arn(role_arn: str) -> Imitation | None:
    """``imitation`` for a role ARN with its path (as IAM and ``sessionIssuer`` give it)."""
    path, name = role_path_and_name(role_arn)
    return imitation(name, path)
