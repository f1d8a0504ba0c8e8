"""What the evaluator returns: statuses, reasons, policy and role verdicts, and their JSON.

A reason is a catalogue code plus where it applies and named parameters; its words come from
``findings.CATALOGUE`` when rendered, so wording changes never touch the evaluator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from .findings import CATALOGUE, Code, render
from .policy import TrustPolicy
from .remediation import mask_external_ids
from .reserved import Imitation


class TrustStatus(StrEnum):
    ENFORCED = "enforced"
    ENFORCED_BY_DENY = "enforced_by_deny"
    WEAK = "weak"
    NOT_ENFORCED = "not_enforced"
    UNSATISFIABLE = "unsatisfiable"
    EXEMPT = "exempt"
    UNPARSEABLE = "unparseable"


#: From most to least risky; decides which reading of an ambiguous document is reported.
RISK_ORDER: Final = (
    TrustStatus.NOT_ENFORCED,
    TrustStatus.WEAK,
    TrustStatus.ENFORCED_BY_DENY,
    TrustStatus.ENFORCED,
    TrustStatus.UNSATISFIABLE,
    TrustStatus.EXEMPT,
    TrustStatus.UNPARSEABLE,
)


def enforces_rule(status: TrustStatus) -> bool:
    """Whether a session name of a role with this status can be trusted as the user's name."""
    return status in (TrustStatus.ENFORCED, TrustStatus.ENFORCED_BY_DENY)


@dataclass(frozen=True, slots=True)
class StatementRef:
    index: int
    sid: str | None

    @property
    def label(self) -> str:
        return f"Statement[{self.index}]" + (f" (Sid {self.sid!r})" if self.sid else "")

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "sid": self.sid}


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding about a policy: a catalogue code, where it applies and its parameters."""

    code: Code
    statement: StatementRef | None = None
    principals: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        values = dict(self.params)
        values.setdefault("statement", self.statement.label if self.statement else "the policy")
        values.setdefault("principals", ", ".join(self.principals) or "AWS principals")
        return render(self.code, values)

    def to_dict(self) -> dict[str, Any]:
        entry = CATALOGUE[self.code]
        return {
            "code": self.code.value,
            "title": entry.title,
            "severity": entry.severity.value,
            "message": self.message,
            "statement": self.statement.to_dict() if self.statement else None,
            "principals": list(self.principals),
        }


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    """The verdict on one trust policy, with the side flags reported beside the status."""

    status: TrustStatus
    reasons: tuple[Reason, ...]
    offending_statements: tuple[int, ...] = ()
    publicly_assumable: bool = False
    cross_account_unpinned: tuple[str, ...] = ()
    role_principals_without_username: tuple[str, ...] = ()
    one_character_user_names: tuple[str, ...] = ()
    set_operator_misuse: tuple[str, ...] = ()
    version: str | None = None
    duplicate_keys: tuple[str, ...] = ()
    account_id: str | None = None
    partition: str | None = None
    policy: TrustPolicy | None = field(default=None, compare=False)

    @property
    def codes(self) -> tuple[Code, ...]:
        return tuple(reason.code for reason in self.reasons)

    def flags(self) -> dict[str, Any]:
        return {
            "publicly_assumable": self.publicly_assumable,
            "cross_account_unpinned": list(self.cross_account_unpinned),
            "role_principals_without_username": list(self.role_principals_without_username),
            "one_character_user_names": list(self.one_character_user_names),
            "set_operator_misuse": list(self.set_operator_misuse),
            "policy_version": self.version,
            "duplicate_keys": list(self.duplicate_keys),
        }

    def to_dict(self, fixed_policy: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The CLI/alert JSON of a bare policy; ``fixed_policy`` comes from ``fix_policy``."""
        masked, was_masked = (
            mask_external_ids(fixed_policy) if fixed_policy is not None else (None, False)
        )
        result: dict[str, Any] = {
            "status": self.status.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "fixed_policy": masked,
            "remediation_command": None,
        }
        if was_masked:
            result["remediation_note"] = MASK_NOTE
        result.update(self.flags())
        return result


MASK_NOTE: Final = (
    "sts:ExternalId values are masked; put the role's current External ID back before "
    "applying the policy."
)


@dataclass(frozen=True, slots=True)
class RoleVerdict:
    role_name: str
    role_arn: str | None
    role_path: str
    role_id: str | None
    account_id: str | None
    status: TrustStatus
    reasons: tuple[Reason, ...]
    policy_verdict: PolicyVerdict
    fixed_policy: Mapping[str, Any] | None = None
    remediation_command: str | None = None
    external_ids_masked: bool = False
    #: Set when the name imitates an AWS-managed role outside the reserved path (RSN044).
    imitation: Imitation | None = None

    @property
    def exempt_by(self) -> str | None:
        """What an exemption rests on: ``reserved_path`` (AWS made the role),
        ``trust_policy`` (only services/identity providers trusted) or ``configuration`` (an
        administrator's pattern, which can also match look-alikes)."""
        if self.status is not TrustStatus.EXEMPT:
            return None
        codes = {reason.code for reason in self.reasons}
        if Code.EXEMPT_CONFIGURED in codes:
            return "configuration"
        if codes & {Code.EXEMPT_SERVICE_LINKED, Code.EXEMPT_IDENTITY_CENTER}:
            return "reserved_path"
        return "trust_policy"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and of alert raw data."""
        result: dict[str, Any] = {
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "account_id": self.account_id,
            "status": self.status.value,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "fixed_policy": self.fixed_policy,
            "remediation_command": self.remediation_command,
        }
        if self.external_ids_masked:
            result["remediation_note"] = MASK_NOTE
        if self.status is TrustStatus.EXEMPT:
            result["policy_status"] = self.policy_verdict.status.value
            result["exempt_by"] = self.exempt_by
        result["imitates_aws_managed_role"] = (
            self.imitation.kind.value if self.imitation is not None else None
        )
        result.update(self.policy_verdict.flags())
        return result
