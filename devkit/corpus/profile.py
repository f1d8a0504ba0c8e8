"""The corpus's trail shapes: accounts, Regions, the delivery slot, and each ``Profile``'s knobs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

SEED = 20261129
START = datetime(2026, 11, 1, tzinfo=UTC)
SLOT = timedelta(minutes=5)
ACCOUNTS = ("111122223333", "444455556666", "777788889999")  # the ``today`` profile's
REGIONS = ("us-east-1", "eu-west-1")
RECORDS_PER_FILE = 800
SESSION_POOL = 60  # concurrent human sessions per account
ORG_ACCOUNTS = (*ACCOUNTS, "222233334444")  # the ``churn`` profile's organization trail
ORG_REGIONS = (*REGIONS, "us-west-2", "ap-southeast-2")
WORKLOADS_PER_PREFIX = 12  # EC2 instances / Lambda functions per account and Region
DEFAULT_DIR = Path(".bench")


@dataclass(frozen=True)
class Profile:
    """The knobs of a trail shape. ``calls_per_session=None`` is the pool model (``today``):
    a fixed number of live sessions per account, each used until it expires; otherwise each
    session makes about that many calls (drawn uniformly from 1 to twice it, minus one) and
    is replaced by a new issuance, so the issuance rate follows from it."""

    name: str
    records: int  # default corpus size
    accounts: tuple[str, ...] = ACCOUNTS
    regions: tuple[str, ...] = REGIONS
    records_per_file: int = RECORDS_PER_FILE
    session_pool: int = (
        SESSION_POOL  # live human sessions per account (per account and Region: churn)
    )
    calls_per_session: int | None = None
    late_issuance: float = 0.10  # AssumeRole records delivered one 5-minute file late
    # Share of AssumeRole calls into another account (None: 70 % of users call from the hub
    # account, a third of chained hops go to a random account, as ``today`` always had).
    cross_account: float | None = None
    chain_share: float = 0.15  # chance a session assumes a further role
    max_chain_depth: int = 2  # roles in a chain, the first included
    delivery_minutes: tuple[int, int] = (3, 9)  # a file's delivery minute after its slot starts

    def knobs(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("name", "records")}


TODAY = Profile("today", 1_000_000)
CHURN = Profile(
    "churn",
    475_000,
    accounts=ORG_ACCOUNTS,
    regions=ORG_REGIONS,
    records_per_file=2000,
    session_pool=8,
    calls_per_session=12,
    late_issuance=0.12,
    cross_account=0.25,
    chain_share=0.3,
    max_chain_depth=7,
)
PROFILES: Final = {profile.name: profile for profile in (TODAY, CHURN)}
