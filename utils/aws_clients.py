"""How adapters obtain boto3 clients.

Adapters (posture pull, CloudTrail readers, validation probes) never build sessions
themselves: they receive a ``ClientFactory``. The plugin's implementation applies the
configured credentials (refreshed before expiry), CE's proxy and TLS settings, the user
agent, retries and timeouts; tests pass one built on a plain boto3 session pointed at moto.
"""

from __future__ import annotations

from typing import Any, Protocol


class ClientFactory(Protocol):
    """Builds boto3 clients for one AWS account."""

    @property
    def account_id(self) -> str:
        """The account these clients act in (from sts:GetCallerIdentity)."""
        ...

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for ``service`` in ``region`` (the default Region when None)."""
        ...
