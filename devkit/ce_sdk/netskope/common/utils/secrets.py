"""CE's configuration as a plugin receives it, with Secrets-Manager references.

With CE's Secrets Manager a password field may hold a *reference* (``secret:<name>``, or
``plain:<value>`` for a literal) instead of the value. CE hands the plugin a mapping that
resolves a reference only when a value is read with ``[]`` or ``.get()``: ``.items()``,
``.values()``, ``dict(...)``, ``{**...}`` and JSON serialisation see the reference string.
``ResolvingConfiguration`` behaves that way (steps nest as the same type), so a plugin
that copies its configuration the other way receives ``secret:...`` as its secret, as it
would in CE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECRET_PREFIX = "secret:"  # noqa: S105 - a reference prefix, not a secret
PLAIN_PREFIX = "plain:"


class SecretStore:
    """CE's Secrets Manager: secret values by name."""

    def __init__(self, secrets: Mapping[str, str] | None = None) -> None:
        self._secrets = dict(secrets or {})

    def __repr__(self) -> str:
        return f"SecretStore({sorted(self._secrets)})"  # names only, never values

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.startswith(SECRET_PREFIX):
            name = value[len(SECRET_PREFIX) :]
            if name not in self._secrets:
                raise KeyError(f"Secrets Manager has no secret named {name!r}")
            return self._secrets[name]
        if value.startswith(PLAIN_PREFIX):
            return value[len(PLAIN_PREFIX) :]
        return value


class ResolvingConfiguration(dict[str, Any]):
    """A dict whose ``[]``/``.get()`` resolve references; every other view is raw."""

    def __init__(
        self, data: Mapping[str, Any] | None = None, store: SecretStore | None = None
    ) -> None:
        self._store = store or SecretStore()
        super().__init__(
            {
                key: ResolvingConfiguration(value, self._store)
                if isinstance(value, Mapping)
                else value
                for key, value in (data or {}).items()
            }
        )

    def __getitem__(self, key: str) -> Any:
        return self._store.resolve(super().__getitem__(key))

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return default
