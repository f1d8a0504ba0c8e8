"""Organizations mode: every member reached through its audit role; an unreachable member is
reported and skipped while the others are still covered."""

from __future__ import annotations

from typing import Any

from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import AwsConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import AwsAuthError
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.accounts import (
    tenant_accounts,
)

HOME = "111111111111"


class Paginator:
    def __init__(self, accounts: list[dict[str, str]]) -> None:
        self.accounts = accounts

    def paginate(self) -> list[dict[str, Any]]:
        return [{"Accounts": self.accounts[:2]}, {"Accounts": self.accounts[2:]}]


class Organizations:
    def __init__(self, accounts: list[dict[str, str]]) -> None:
        self.accounts = accounts

    def get_paginator(self, name: str) -> Paginator:
        assert name == "list_accounts"
        return Paginator(self.accounts)


class Factory:
    """A stand-in for BotoClientFactory: ``assume`` fails for the accounts in ``broken``."""

    def __init__(self, account_id: str, accounts: list[dict[str, str]], broken: set[str]) -> None:
        self.account_id = account_id
        self.caller_arn = f"arn:aws:iam::{account_id}:user/ce-plugin"
        self._accounts = accounts
        self._broken = broken
        self.assumed: list[tuple[str, str]] = []

    def client(self, service: str, region: str | None = None) -> Organizations:
        assert service == "organizations"
        return Organizations(self._accounts)

    def assume(self, role_arn: str, *, external_id: str = "") -> Factory:
        self.assumed.append((role_arn, external_id))
        account = role_arn.split(":")[4]
        if account in self._broken:
            raise AwsAuthError(f"Could not assume role {role_arn}: AccessDenied.")
        return Factory(account, self._accounts, self._broken)


def aws_config(scope: str = "organization") -> AwsConfig:
    return AwsConfig.from_step(
        {"account_scope": scope, "member_role_name": "RoleSessionAuditor", "external_id": "x-1"}
    )


ACCOUNTS = [
    {"Id": HOME, "Status": "ACTIVE", "Name": "management"},
    {"Id": "222222222222", "Status": "ACTIVE", "Name": "prod"},
    {"Id": "333333333333", "Status": "ACTIVE", "Name": "dev"},
    {"Id": "444444444444", "Status": "SUSPENDED", "Name": "closed"},
]


def test_members_are_reached_through_the_audit_role_with_the_external_id() -> None:
    home = Factory(HOME, ACCOUNTS, set())
    scan = tenant_accounts(home, aws_config())  # type: ignore[arg-type]
    assert [a.account_id for a in scan.accounts] == [HOME, "222222222222", "333333333333"]
    assert home.assumed == [
        ("arn:aws:iam::222222222222:role/RoleSessionAuditor", "x-1"),
        ("arn:aws:iam::333333333333:role/RoleSessionAuditor", "x-1"),
    ]
    assert scan.failures == []


def test_an_unreachable_member_is_reported_and_the_others_still_covered() -> None:
    scan = tenant_accounts(Factory(HOME, ACCOUNTS, {"222222222222"}), aws_config())  # type: ignore[arg-type]
    assert [a.account_id for a in scan.accounts] == [HOME, "333333333333"]
    assert len(scan.failures) == 1
    account, why = scan.failures[0]
    assert account == "222222222222"
    assert "RoleSessionAuditor" in why and "skipped" in why


def test_single_account_scope_lists_no_members() -> None:
    home = Factory(HOME, ACCOUNTS, set())
    scan = tenant_accounts(home, aws_config("single_account"))  # type: ignore[arg-type]
    assert [a.account_id for a in scan.accounts] == [HOME]
    assert home.assumed == []


def test_the_organization_scope_reaches_the_readers_and_single_account_mode_reads_all() -> None:
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import PluginConfig
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.accounts import (
        Account,
        AccountScan,
    )
    from netskope.plugins.custom_plugins.aws_role_session_cto.utils.pipeline.pull import (
        organization_scope,
    )

    scan = AccountScan(
        accounts=[Account(HOME, None, "home"), Account("222222222222", None, "b")],  # type: ignore[arg-type]
        failures=[("333333333333", "AccessDenied")],
    )
    org = PluginConfig.from_configuration({"aws": {"account_scope": "organization"}})
    single = PluginConfig.from_configuration({"aws": {"account_scope": "single_account"}})
    assert organization_scope(org, scan) == [HOME, "222222222222", "333333333333"]
    assert organization_scope(single, scan) is None
