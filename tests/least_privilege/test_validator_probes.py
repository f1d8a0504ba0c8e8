"""Branches of the validation probes that the moto tenant does not reach, on fakes: the member
audit role probe during a roll-out, and trail reads answered without data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from netskope.plugins.custom_plugins.aws_role_session_cto.utils import validator
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.config import AwsConfig
from netskope.plugins.custom_plugins.aws_role_session_cto.utils.exceptions import (
    AwsAuthError,
    ConfigurationError,
)

HOME = "111111111111"


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "test"}}, operation)


@dataclass
class FakeClient:
    answers: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        def call(**params: Any) -> Any:
            self.calls.append((operation, params))
            answer = self.answers[operation]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


@dataclass
class FakeFactory:
    """The parts of ``BotoClientFactory`` the member probe uses."""

    account_id: str
    members: list[str] = field(default_factory=list)
    roles: dict[str, FakeFactory | None] = field(default_factory=dict)  # None: cannot assume
    gaad: Exception | None = None
    assumed: list[str] = field(default_factory=list)

    @property
    def caller_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:user/ce-plugin"

    def client(self, service: str, region: str | None = None) -> FakeClient:
        accounts = [{"Id": a, "Status": "ACTIVE"} for a in [self.account_id, *self.members]]
        return FakeClient(
            {
                "list_accounts": {"Accounts": accounts},
                "get_account_authorization_details": self.gaad or {"RoleDetailList": []},
                "list_roles": client_error("AccessDenied", "ListRoles"),
            }
        )

    def assume(self, role_arn: str, *, external_id: str = "") -> FakeFactory:
        self.assumed.append(role_arn)
        member = self.roles.get(role_arn)
        if member is None:
            raise AwsAuthError(f"Could not assume role {role_arn}: AssumeRole failed.")
        return member


def aws_config() -> AwsConfig:
    return AwsConfig(
        authentication_method="access_keys",
        access_key_id="",
        secret_access_key="",
        role_arn="",
        external_id="",
        regions=(),
        account_scope="organization",
        member_role_name="RoleSessionAuditor",
    )


def role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/RoleSessionAuditor"


def check(factory: FakeFactory) -> None:
    validator._check_member_roles(factory, aws_config())


def test_one_reachable_member_is_enough_during_a_roll_out() -> None:
    factory = FakeFactory(
        HOME,
        members=["222222222222", "333333333333"],
        roles={role("333333333333"): FakeFactory("333333333333")},
    )
    check(factory)
    assert factory.assumed == [role("222222222222"), role("333333333333")]


def test_no_reachable_member_names_the_assume_role_statement() -> None:
    with pytest.raises(ConfigurationError) as failure:
        check(FakeFactory(HOME, members=["222222222222"]))
    message = str(failure.value)
    assert message.startswith("Member Audit Role Name: Could not assume role")
    assert "sts:AssumeRole" in message and "statement AssumeMemberAuditRole of" in message


def test_a_member_role_that_cannot_read_roles_names_its_own_statement() -> None:
    member = FakeFactory("222222222222", gaad=client_error("AccessDenied", "Gaad"))
    with pytest.raises(ConfigurationError) as failure:
        check(FakeFactory(HOME, members=["222222222222"], roles={role("222222222222"): member}))
    assert "iam:GetAccountAuthorizationDetails" in str(failure.value)
    assert "statement ReadRoleTrustPolicies of the README's member audit role" in str(failure.value)


def test_at_most_three_members_are_tried() -> None:
    factory = FakeFactory(HOME, members=[f"{n}" * 12 for n in range(2, 8)])
    with pytest.raises(ConfigurationError):
        check(factory)
    assert len(factory.assumed) == validator.MEMBER_PROBES == 3


def test_an_organization_of_one_account_has_no_member_to_probe() -> None:
    factory = FakeFactory(HOME)
    check(factory)
    assert factory.assumed == []


@pytest.mark.parametrize("code", ["NoSuchKey", "404", "InvalidRange"])
def test_a_trail_read_answered_without_data_still_proves_the_permission(code: str) -> None:
    client = FakeClient({"get_object": client_error(code, "GetObject")})
    validator._probe_trail_read(client, "trail", "AWSLogs/", "AWSLogs/")
    # Accepted without raising after one single-byte read of the object.
    assert client.calls == [
        ("get_object", {"Bucket": "trail", "Key": "AWSLogs/", "Range": "bytes=0-0"})
    ]


@pytest.mark.parametrize("code", ["AccessDenied", "403", "KMS.AccessDeniedException"])
def test_a_denied_trail_read_names_get_object_and_kms(code: str) -> None:
    client = FakeClient({"get_object": client_error(code, "GetObject")})
    with pytest.raises(ConfigurationError) as failure:
        validator._probe_trail_read(client, "trail", "AWSLogs/", "AWSLogs/x.json.gz")
    assert "s3:GetObject on arn:aws:s3:::trail/AWSLogs/*" in str(failure.value)
    assert "kms:Decrypt" in str(failure.value)
