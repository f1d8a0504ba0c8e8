"""Stand-in for ``netskope.plugins``: where CE imports uploaded plugins from."""
