"""The AWS accounts a pull covers: the tenant's own, or every member of its Organization.

In Organizations mode each member account is reached by assuming the configured audit role
(with the External ID); an account that cannot be reached is reported and skipped, and the
others are still evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from ..aws_session import BotoClientFactory, describe_aws_error
from ..config import SCOPE_ORGANIZATION, AwsConfig
from ..exceptions import AwsAuthError


@dataclass(frozen=True)
class Account:
    account_id: str
    factory: BotoClientFactory
    name: str = ""


@dataclass
class AccountScan:
    accounts: list[Account] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (account id, why)


def partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def tenant_accounts(factory: BotoClientFactory, aws: AwsConfig) -> AccountScan:
    """The tenant account, plus member accounts reached through the audit role."""
    home = factory.account_id
    scan = AccountScan([Account(home, factory)])
    if aws.account_scope != SCOPE_ORGANIZATION:
        return scan
    try:
        pages = factory.client("organizations").get_paginator("list_accounts").paginate()
        members = [a for page in pages for a in page.get("Accounts", [])]
    except (ClientError, BotoCoreError) as error:
        scan.failures.append(
            (
                home,
                f"listing the organization's accounts failed ({describe_aws_error(error)}); "
                "only this account is covered. Grant organizations:ListAccounts, or run "
                "from the management or a delegated administrator account.",
            )
        )
        return scan
    partition = partition_of(factory.caller_arn)
    for member in sorted(members, key=lambda a: str(a.get("Id"))):
        account_id = str(member.get("Id", ""))
        if not account_id or account_id == home or member.get("Status") not in (None, "ACTIVE"):
            continue
        role_arn = f"arn:{partition}:iam::{account_id}:role/{aws.member_role_name}"
        try:
            member_factory = factory.assume(role_arn, external_id=aws.external_id)
            _ = member_factory.account_id
        except AwsAuthError as error:
            scan.failures.append((account_id, f"{error} The account is skipped this pull."))
            continue
        scan.accounts.append(Account(account_id, member_factory, str(member.get("Name", ""))))
    return scan
